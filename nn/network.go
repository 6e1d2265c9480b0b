package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
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
// buffer (dense weights first, then biases and batchnorm scales and shifts), so optimisers,
// regularisation and clipping are single passes over contiguous memory.
type Network struct {
	spec    Spec
	outputs int
	layers  []layer
	params  []float32 // trainable values
	grads   []float32 // ∂L/∂params of the last backward pass, same layout
	nReg    int       // params[:nReg] are dense weights: the values L1, L2 and weight decay apply to
	state   []float32 // non-trainable values (batchnorm running statistics)
	tensors []namedTensor
	outAct  actKind   // final activation of the network, for fused losses
	dropSrc *rand.PCG // dropout masks; seeded by New from Spec.Seed and by Fit from TrainConfig.Seed
	rows    int       // capacity of the layers' buffers, in samples
}

// namedTensor is one saved tensor: a view into params or state, or a batch counter.
type namedTensor struct {
	name    string
	shape   []int
	data    []float32
	counter *int64 // for num_batches_tracked, stored as I64
}

// New builds a network from spec with freshly initialised weights. It returns a *SpecError
// naming the layer for an invalid spec.
func New(spec Spec) (*Network, error) {
	s, err := spec.normalize()
	if err != nil {
		return nil, err
	}
	n := &Network{spec: s, dropSrc: rand.NewPCG(s.Seed, dropStream)}
	n.build()
	n.initWeights()
	return n, nil
}

// build creates the layers and lays out their parameters in the flat buffers.
func (n *Network) build() {
	var nw, nOther, nState int
	width := n.spec.Inputs
	for _, l := range n.spec.Layers {
		switch l.Type {
		case LayerDense:
			nw += width * l.Units
			nOther += l.Units
			width = l.Units
		case LayerBatchNorm:
			nOther += 2 * width
			nState += 2 * width
		}
	}
	n.params = make([]float32, nw+nOther)
	n.grads = make([]float32, nw+nOther)
	n.state = make([]float32, nState)
	n.nReg = nw
	wOff, oOff, sOff := 0, nw, 0
	take := func(buf []float32, off *int, size int) []float32 {
		v := buf[*off : *off+size : *off+size]
		*off += size
		return v
	}
	width = n.spec.Inputs
	for i, l := range n.spec.Layers {
		prefix := "layers." + strconv.Itoa(i) + "."
		switch l.Type {
		case LayerDense:
			d := &dense{in: width, out: l.Units, act: activationNames[l.Activation], alpha: float32(l.Alpha)}
			wo, bo := wOff, oOff
			d.w, d.gw = take(n.params, &wOff, width*l.Units), n.grads[wo:wOff:wOff]
			d.b, d.gb = take(n.params, &oOff, l.Units), n.grads[bo:oOff:oOff]
			n.tensors = append(n.tensors,
				namedTensor{name: prefix + "weight", shape: []int{l.Units, width}, data: d.w},
				namedTensor{name: prefix + "bias", shape: []int{l.Units}, data: d.b})
			n.layers = append(n.layers, d)
			n.outAct = d.act
			width = l.Units
		case LayerActivation:
			k := activationNames[l.Activation]
			n.layers = append(n.layers, &activation{dim: width, act: k, alpha: float32(l.Alpha)})
			n.outAct = k
		case LayerDropout:
			n.layers = append(n.layers, &dropout{dim: width, rate: float32(l.Rate), drop: uint32(min(l.Rate*(1<<32), math.MaxUint32)), rng: n.dropSrc})
			n.outAct = actLinear
		case LayerBatchNorm:
			b := &batchNorm{dim: width, momentum: float32(l.Momentum), eps: float32(l.Eps)}
			gOff, bOff := oOff, oOff+width
			b.gamma, b.beta = take(n.params, &oOff, width), take(n.params, &oOff, width)
			b.gGamma, b.gBeta = n.grads[gOff:bOff:bOff], n.grads[bOff:oOff:oOff]
			b.runMean, b.runVar = take(n.state, &sOff, width), take(n.state, &sOff, width)
			for j := range b.gamma {
				b.gamma[j], b.runVar[j] = 1, 1
			}
			n.tensors = append(n.tensors,
				namedTensor{name: prefix + "weight", shape: []int{width}, data: b.gamma},
				namedTensor{name: prefix + "bias", shape: []int{width}, data: b.beta},
				namedTensor{name: prefix + "running_mean", shape: []int{width}, data: b.runMean},
				namedTensor{name: prefix + "running_var", shape: []int{width}, data: b.runVar},
				namedTensor{name: prefix + "num_batches_tracked", shape: []int{}, counter: &b.batches})
			n.layers = append(n.layers, b)
			n.outAct = actLinear
		}
	}
	n.outputs = width
}

// initWeights draws every dense layer's weights from the spec's seed: He normal
// (σ = √(2/fan_in)) or Xavier uniform (±√(6/(fan_in+fan_out))). Biases start at zero.
func (n *Network) initWeights() {
	rng := rand.New(rand.NewPCG(n.spec.Seed, initStream))
	for i, l := range n.layers {
		d, ok := l.(*dense)
		if !ok {
			continue
		}
		he := n.spec.Init == "he"
		if n.spec.Init == "" {
			he = n.effectiveActivation(i).reluLike()
		}
		if he {
			std := math.Sqrt(2 / float64(d.in))
			for j := range d.w {
				d.w[j] = float32(rng.NormFloat64() * std)
			}
		} else {
			limit := math.Sqrt(6 / float64(d.in+d.out))
			for j := range d.w {
				d.w[j] = float32((2*rng.Float64() - 1) * limit)
			}
		}
	}
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
	d := dOut
	for i := len(n.layers) - 1; i >= 0; i-- {
		d = n.layers[i].backward(d, rows, fused && i == len(n.layers)-1, i > 0)
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
