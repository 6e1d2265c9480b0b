package nn

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// predictChunk bounds the rows Predict pushes through the network at once, and so the memory
// its buffers take.
const predictChunk = 256

// Second PCG seed words, so that the generators drawn from one seed are independent.
const (
	initStream    = 0x696e6974 // "init"
	dropStream    = 0x64726f70 // "drop"
	shuffleStream = 0x73687566 // "shuf"
)

// Network is a feed-forward network built from a Spec. Its trainable values live in one flat
// buffer (weight matrices first — dense, conv2d, embedding, recurrent and attention — then
// biases and normalisation scales and shifts), so optimisers, regularisation and clipping are
// single passes over contiguous memory.
type Network struct {
	spec    Spec
	outputs int
	layers  []layer
	params  []float32 // trainable values
	grads   []float32 // ∂L/∂params of the last backward pass, same layout
	nReg    int       // params[:nReg] are the weight matrices: the values L1, L2 and weight decay apply to
	state   []float32 // non-trainable values (batchnorm running statistics)
	tensors []namedTensor
	outAct  actKind   // final activation of the network, for fused losses
	dropSrc *rand.PCG // dropout masks; seeded by New from Spec.Seed and by Fit from TrainConfig.Seed
	cpu     *compute  // where the layers' products run
	rows    int       // capacity of the layers' buffers, in samples
	// firstParam is the index of the first layer with trainable values (len(layers) if none).
	firstParam int
}

// namedTensor is one saved tensor: a view into params or state, or a batch counter.
type namedTensor struct {
	name    string
	shape   []int
	data    []float32
	counter *int64 // for num_batches_tracked, stored as I64
	perm    []int  // saved value j is data[perm[j]] (PyTorch's layout of a channels-last kernel)
	// trainable marks views into params, as opposed to running statistics and counters.
	trainable bool
}

// New builds a network from spec with freshly initialised weights. It returns a *SpecError
// naming the layer for an invalid spec.
func New(spec Spec) (*Network, error) {
	s, err := spec.normalize()
	if err != nil {
		return nil, err
	}
	n := &Network{spec: s, cpu: &compute{}, dropSrc: rand.NewPCG(s.Seed, dropStream)}
	n.build()
	n.initWeights()
	return n, nil
}

// build creates the layers and lays out their parameters in the flat buffers: a first pass
// only counts the values, the second hands out views.
func (n *Network) build() {
	shapes, err := n.spec.inferShapes()
	if err != nil {
		panic("nn: build on an unchecked spec: " + err.Error()) // New normalises first
	}
	var count builder
	count.counting = true
	n.buildLayers(&count, shapes)
	n.params = make([]float32, count.nw+count.nOther)
	n.grads = make([]float32, count.nw+count.nOther)
	n.state = make([]float32, count.nState)
	n.nReg = count.nw
	n.layers, n.tensors = nil, nil
	n.buildLayers(&builder{n: n, oOff: count.nw}, shapes)
	n.outputs = product(shapes[len(shapes)-1])
	n.firstParam = len(n.layers)
	for i, l := range n.Layers() {
		if l.Params > 0 {
			n.firstParam = i
			break
		}
	}
}

// buildLayers creates every layer through b; shapes[i] is layer i's input shape.
func (n *Network) buildLayers(b *builder, shapes [][]int) {
	for i, l := range n.spec.Layers {
		b.prefix = "layers." + strconv.Itoa(i) + "."
		in, width := shapes[i], product(shapes[i])
		switch l.Type {
		case LayerDense:
			d := newDense(b, "", width, l.Units, activationNames[l.Activation], float32(l.Alpha))
			n.layers = append(n.layers, d)
			n.outAct = d.act
		case LayerActivation:
			k := activationNames[l.Activation]
			n.layers = append(n.layers, &activation{dim: width, act: k, alpha: float32(l.Alpha)})
			n.outAct = k
		case LayerDropout:
			n.layers = append(n.layers, newDropout(width, l.Rate, n.dropSrc))
			n.outAct = actLinear
		case LayerBatchNorm:
			c := in[len(in)-1] // per channel on images and sequences
			bn := &batchNorm{dim: c, per: width / c, momentum: float32(l.Momentum), eps: float32(l.Eps)}
			width = c
			bn.gamma, bn.gGamma = b.other("weight", []int{width})
			bn.beta, bn.gBeta = b.other("bias", []int{width})
			bn.runMean = b.state("running_mean", []int{width})
			bn.runVar = b.state("running_var", []int{width})
			b.counter("num_batches_tracked", &bn.batches)
			for j := range bn.gamma {
				bn.gamma[j], bn.runVar[j] = 1, 1
			}
			n.layers = append(n.layers, bn)
			n.outAct = actLinear
		default:
			n.layers = append(n.layers, n.newShapedLayer(b, l, in))
			n.outAct = actLinear
		}
	}
}

// newShapedLayer creates the layers that know their input's shape (images, sequences).
func (n *Network) newShapedLayer(b *builder, l LayerSpec, in []int) layer {
	switch l.Type {
	case LayerConv2D:
		return newConv2D(b, in, l)
	case LayerMaxPool2D, LayerAvgPool2D:
		return newPool2D(b, in, l)
	case LayerFlatten, LayerReshape:
		return identity{}
	case LayerEmbedding:
		return newEmbedding(b, in[0], l.Vocab, l.Dim)
	case LayerSimpleRNN, LayerLSTM, LayerGRU:
		return newRecurrent(b, l.Type, in[0], in[1], l.Units, l.ReturnSequences)
	case LayerGlobalAvgPool:
		return &globalAvgPool{n: product(in) / in[len(in)-1], c: in[len(in)-1]}
	case LayerLayerNorm:
		return newLayerNorm(b, "", in[len(in)-1], product(in)/in[len(in)-1], l.Eps)
	case LayerPositional:
		return newPositional(in[0], in[1])
	case LayerAttention:
		return newAttention(b, "", in[0], in[1], l.Dim, l.Heads, l.Causal)
	case LayerTransformer:
		return newTransformer(b, in[0], in[1], l, n.dropSrc)
	}
	panic("nn: unknown layer type " + l.Type)
}

// initWeights draws every layer's weights from the spec's seed, in layer order. Dense weights
// follow He normal (σ = √(2/fan_in)) or Xavier uniform (±√(6/(fan_in+fan_out))); the other
// layers say in their own init which PyTorch default they follow. Biases start at zero.
func (n *Network) initWeights() {
	rng := rand.New(rand.NewPCG(n.spec.Seed, initStream))
	for i, l := range n.layers {
		switch l := l.(type) {
		case *dense:
			he := n.spec.Init == "he"
			if n.spec.Init == "" {
				he = n.effectiveActivation(i).reluLike()
			}
			l.init(rng, he)
		case initializer:
			l.init(rng, n.spec.Init)
		}
	}
}

// initializer is a layer with weights of its own kind to draw; init names the spec's choice
// ("he", "xavier" or "" for the layer's default).
type initializer interface {
	init(rng *rand.Rand, choice string)
}

// effectiveActivation is the activation that follows dense layer i: its own, or for a linear
// dense layer that of an activation layer right after it.
func (n *Network) effectiveActivation(i int) actKind {
	d := n.layers[i].(*dense)
	if d.act != actLinear || i+1 >= len(n.layers) {
		return d.act
	}
	if a, ok := n.layers[i+1].(*activation); ok {
		return a.act
	}
	return actLinear
}

// Spec returns the network's spec with every default made explicit.
func (n *Network) Spec() Spec {
	s := n.spec
	s.Layers = append([]LayerSpec(nil), s.Layers...)
	return s
}

// Inputs returns the number of features a sample must have.
func (n *Network) Inputs() int { return n.spec.Inputs }

// Outputs returns the number of values the network produces per sample.
func (n *Network) Outputs() int { return n.outputs }

// NumParams returns the number of trainable values (weights, biases, batchnorm scales and
// shifts; running statistics are not counted).
func (n *Network) NumParams() int { return len(n.params) }

// reserve makes every layer able to take batches of rows samples.
func (n *Network) reserve(rows int) {
	if rows <= n.rows {
		return
	}
	for _, l := range n.layers {
		l.reserve(rows)
	}
	n.rows = rows
}

// forward runs a batch through every layer and returns the network's output (a buffer owned
// by the last layer, or x itself for a network of dropouts).
func (n *Network) forward(x []float32, rows int, train bool) []float32 {
	n.reserve(rows)
	h := x[:rows*n.spec.Inputs]
	for _, l := range n.layers {
		h = l.forward(h, rows, train)
	}
	return h
}

// backward propagates ∂L/∂output (or, with fused, ∂L/∂pre-activation of the final activation)
// through the network, leaving the parameter gradients in n.grads. dOut may be overwritten.
func (n *Network) backward(dOut []float32, rows int, fused bool) {
	n.planOwners(rows)
	// Layers before the first one with parameters need no gradient: a reshape → conv2d
	// network skips the conv's col2im, an embedding's zero input gradient is never asked for.
	d := dOut
	for i := len(n.layers) - 1; i >= n.firstParam; i-- {
		d = n.layers[i].backward(d, rows, fused && i == len(n.layers)-1, i > n.firstParam)
	}
}

// Predict runs rows samples (x is rows×Inputs, row-major) through the network in inference
// mode (no dropout, batchnorm with its running statistics) and returns a new rows×Outputs
// slice of final activations. It panics if len(x) != rows*Inputs.
func (n *Network) Predict(x []float32, rows int) []float32 {
	dst := make([]float32, rows*n.outputs)
	n.PredictInto(dst, x, rows)
	return dst
}

// PredictInto is Predict writing into dst, which must hold rows×Outputs values.
func (n *Network) PredictInto(dst, x []float32, rows int) {
	in := n.spec.Inputs
	if rows < 0 || len(x) != rows*in {
		panic(fmt.Sprintf("nn: Predict: x has %d values, want rows×inputs = %d×%d", len(x), rows, in))
	}
	if len(dst) < rows*n.outputs {
		panic(fmt.Sprintf("nn: PredictInto: dst has %d values, want %d", len(dst), rows*n.outputs))
	}
	for r := 0; r < rows; r += predictChunk {
		m := min(predictChunk, rows-r)
		out := n.forward(x[r*in:(r+m)*in], m, false)
		copy(dst[r*n.outputs:(r+m)*n.outputs], out)
	}
}

// LayerInfo describes one layer of a built network: its type and activation as in the spec,
// the shape of one sample's output, and its number of trainable values.
type LayerInfo struct {
	Type       string
	Activation string
	Shape      []int
	Params     int
}

// Layers describes the network's layers in order, for summaries.
func (n *Network) Layers() []LayerInfo {
	shapes, _ := n.spec.inferShapes() // the spec was checked by New
	info := make([]LayerInfo, len(n.spec.Layers))
	for i, l := range n.spec.Layers {
		info[i] = LayerInfo{Type: l.Type, Activation: l.Activation, Shape: shapes[i+1]}
		prefix := "layers." + strconv.Itoa(i) + "."
		for _, t := range n.tensors {
			if t.trainable && strings.HasPrefix(t.name, prefix) {
				info[i].Params += len(t.data)
			}
		}
	}
	return info
}
