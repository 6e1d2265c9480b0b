package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gradCheck32 compares every parameter tensor's analytic gradient with central differences
// of the network's own float32 forward pass (the new layers have no float64 reference): the
// loss is accumulated in float64 and the step is large enough for float32 rounding to stay
// well below the tolerance, while a wrong backward pass is off by tens of percent.
func gradCheck32(t *testing.T, net *Network, loss string, x []float32, rows int) {
	gradCheck32h(t, net, loss, x, rows, 1e-2, 2e-3)
}

// gradCheck32h is gradCheck32 with step h and tolerance tol: a smaller step for layers with
// kinks (max pooling, the relu inside a transformer block) or strong curvature (layernorm over
// few features), where float32 rounding then needs a looser tolerance. A wrong backward pass
// errs by far more than either.
func gradCheck32h(t *testing.T, net *Network, loss string, x []float32, rows int, h, tol float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 8))
	y := targetsFor(rng, loss, rows, net.Outputs())
	tr, err := newTrainer(net, TrainConfig{Loss: loss, Optimizer: Optimizer{Name: "sgd"}, BatchSize: rows})
	if err != nil {
		t.Fatal(err)
	}
	objective := func() float64 {
		out := net.forward(x, rows, true)
		l, _ := tr.loss.eval(out, net.logits(rows), y, rows, net.Outputs(), nil)
		return l
	}
	out := net.forward(x, rows, true)
	tr.loss.eval(out, net.logits(rows), y, rows, net.Outputs(), tr.grad)
	net.backward(tr.grad, rows, tr.loss.fused)
	analytic := to64(net.grads)
	numeric := make([]float64, len(net.params))
	for i := range net.params {
		orig := net.params[i]
		net.params[i] = orig + float32(h)
		up := objective()
		net.params[i] = orig - float32(h)
		down := objective()
		net.params[i] = orig
		numeric[i] = (up - down) / (2 * h)
	}
	for _, ten := range net.tensors {
		if ten.counter != nil || !inParams(net, ten.data) {
			continue
		}
		off := offsetIn(net.params, ten.data)
		a, nm := analytic[off:off+len(ten.data)], numeric[off:off+len(ten.data)]
		if e := relErr(a, nm); e > tol || math.IsNaN(e) {
			worst := 0
			for j := range a {
				if math.Abs(a[j]-nm[j]) > math.Abs(a[worst]-nm[worst]) {
					worst = j
				}
			}
			t.Errorf("%s: analytic vs numeric gradient relative error %.2e; worst at %d: analytic %.6g, numeric %.6g", ten.name, e, worst, a[worst], nm[worst])
		} else if testing.Verbose() {
			t.Logf("%s: relative error %.1e", ten.name, e)
		}
	}
}

// tokens draws rows×t token ids below vocab.
func tokens(seed uint64, n, vocab int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.IntN(vocab))
	}
	return x
}

func randInputs(seed uint64, n int) []float32 {
	return randSlice(rand.New(rand.NewPCG(seed, 2)), n, -1, 1)
}

func TestGradConv2D(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 60, Seed: 1, Layers: []LayerSpec{
		{Type: LayerReshape, Dims: []int{5, -1, 2}},
		{Type: LayerConv2D, Filters: 3, Kernel: []int{3, 2}, Stride: []int{2, 1}, Padding: "same", Activation: "tanh"},
		{Type: LayerConv2D, Filters: 2, Kernel: []int{2}, Activation: "sigmoid"},
		{Type: LayerFlatten},
		{Type: LayerDense, Units: 3, Activation: "softmax"},
	}})
	gradCheck32(t, net, LossCrossEntropy, randInputs(1, 4*60), 4)
}

// TestGradConv2DActivations: every activation on a convolution, softmax taken over each
// position's filters, against finite differences; the batch's images go through the layer's
// per-image passes.
func TestGradConv2DActivations(t *testing.T) {
	for _, act := range Activations {
		t.Run(act, func(t *testing.T) {
			net := mustNew(t, Spec{Inputs: 32, Seed: 4, Layers: []LayerSpec{
				{Type: LayerReshape, Dims: []int{4, 4, 2}},
				{Type: LayerConv2D, Filters: 3, Kernel: []int{2}, Activation: act, Alpha: map[bool]float64{true: 0.2}[act == "leaky_relu"]},
				{Type: LayerFlatten},
				{Type: LayerDense, Units: 2},
			}})
			gradCheck32h(t, net, LossMSE, randInputs(5, 3*32), 3, 1e-3, 5e-3) // a small step: ReLU's kink
		})
	}
}

func TestGradPooling(t *testing.T) {
	for _, pool := range []string{LayerMaxPool2D, LayerAvgPool2D} {
		h, tol := 2e-3, 2e-3
		if pool == LayerMaxPool2D {
			h, tol = 1e-4, 1e-2 // a larger step moves some window's maximum to another pixel
		}
		t.Run(pool, func(t *testing.T) {
			net := mustNew(t, Spec{Inputs: 49, Seed: 2, Layers: []LayerSpec{
				{Type: LayerReshape, Dims: []int{7, 7, 1}},
				{Type: LayerConv2D, Filters: 3, Kernel: []int{3}, Padding: "1", Activation: "tanh"},
				{Type: pool, Size: []int{2, 3}},
				{Type: LayerConv2D, Filters: 2, Kernel: []int{2, 1}},
				{Type: LayerGlobalAvgPool},
				{Type: LayerDense, Units: 2},
			}})
			gradCheck32h(t, net, LossMSE, randInputs(2, 3*49), 3, h, tol)
		})
	}
}

func TestGradRecurrent(t *testing.T) {
	for _, kind := range []string{LayerSimpleRNN, LayerLSTM, LayerGRU} {
		for _, seq := range []bool{false, true} {
			name := kind
			if seq {
				name += "_sequences"
			}
			t.Run(name, func(t *testing.T) {
				layers := []LayerSpec{
					{Type: LayerEmbedding, Vocab: 7, Dim: 3},
					{Type: kind, Units: 4, ReturnSequences: true}, // its input gradient reaches the embedding
					{Type: kind, Units: 5, ReturnSequences: seq},
				}
				if seq {
					layers = append(layers, LayerSpec{Type: LayerGlobalAvgPool})
				}
				layers = append(layers, LayerSpec{Type: LayerDense, Units: 3, Activation: "softmax"})
				net := mustNew(t, Spec{Inputs: 6, Seed: 3, Layers: layers})
				gradCheck32(t, net, LossCrossEntropy, tokens(3, 4*6, 7), 4)
			})
		}
	}
}

func TestGradAttention(t *testing.T) {
	for _, causal := range []bool{false, true} {
		net := mustNew(t, Spec{Inputs: 15, Seed: 4, Layers: []LayerSpec{
			{Type: LayerReshape, Dims: []int{5, 3}},
			{Type: LayerDense, Units: 20}, // gives the attention's input gradient a weight to check
			{Type: LayerReshape, Dims: []int{5, 4}},
			{Type: LayerAttention, Heads: 2, Dim: 6, Causal: causal},
			{Type: LayerLayerNorm},
			{Type: LayerGlobalAvgPool},
			{Type: LayerDense, Units: 2},
		}})
		// Non-trivial layernorm scale and shift.
		ln := net.layers[4].(*layerNorm)
		rng := rand.New(rand.NewPCG(4, 4))
		for j := range ln.gamma {
			ln.gamma[j], ln.beta[j] = float32(0.5+rng.Float64()), float32(rng.Float64()-0.5)
		}
		gradCheck32h(t, net, LossMSE, randInputs(4, 3*15), 3, 2e-3, 2e-3)
	}
}

func TestGradTransformer(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 6, Seed: 5, Layers: []LayerSpec{
		{Type: LayerEmbedding, Vocab: 9, Dim: 8},
		{Type: LayerPositional},
		{Type: LayerTransformer, Heads: 2, FF: 12, Causal: true},
		{Type: LayerTransformer, Heads: 4},
		{Type: LayerGlobalAvgPool},
		{Type: LayerDense, Units: 1, Activation: "sigmoid"},
	}})
	gradCheck32h(t, net, LossBinaryCrossEntropy, tokens(5, 3*6, 9), 3, 1e-4, 2e-2)
}

// TestShapedStepsDoNotAllocate: after warm-up a training step of a CNN, an LSTM and a
// transformer allocates nothing.
func TestShapedStepsDoNotAllocate(t *testing.T) {
	for name, c := range map[string]struct {
		spec  Spec
		loss  string
		vocab int
	}{
		"cnn":         {cnnSpec, LossCrossEntropy, 0},
		"lstm":        {lstmSpec, LossBinaryCrossEntropy, 100},
		"transformer": {transformerSpec, LossBinaryCrossEntropy, 100},
	} {
		tr := newStepTrainer(t, c.spec, c.loss, 8, c.vocab)
		if a := testing.AllocsPerRun(5, func() { tr.step(8) }); a != 0 {
			t.Errorf("%s: %v allocations per step", name, a)
		}
	}
}

// TestGradBatchNormPerChannel: batchnorm after a convolution normalises each channel over the
// batch and every pixel (PyTorch's BatchNorm2d), with [channels] parameters.
func TestGradBatchNormPerChannel(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 36, Seed: 6, Layers: []LayerSpec{
		{Type: LayerReshape, Dims: []int{6, 6, 1}},
		{Type: LayerConv2D, Filters: 3, Kernel: []int{3}, Activation: "tanh"},
		{Type: LayerBatchNorm},
		{Type: LayerGlobalAvgPool},
		{Type: LayerDense, Units: 2},
	}})
	if l := net.Layers()[2]; l.Params != 6 {
		t.Errorf("batchnorm over 3 channels has %d parameters, want 6", l.Params)
	}
	bn := net.layers[2].(*batchNorm)
	rng := rand.New(rand.NewPCG(6, 6))
	for j := range bn.gamma {
		bn.gamma[j], bn.beta[j] = float32(0.5+rng.Float64()), float32(rng.Float64()-0.5)
	}
	gradCheck32h(t, net, LossMSE, randInputs(6, 4*36), 4, 2e-3, 2e-3)
	// In training, each channel's output over the batch and all pixels has mean β.
	net.forward(randInputs(7, 4*36), 4, true)
	z := bn.out[:4*16*3]
	for ch := 0; ch < 3; ch++ {
		var mean float64
		for p := ch; p < len(z); p += 3 {
			mean += float64(z[p])
		}
		mean /= float64(len(z) / 3)
		if d := mean - float64(bn.beta[ch]); d > 1e-5 || d < -1e-5 {
			t.Errorf("channel %d: mean %v, want β = %v", ch, mean, bn.beta[ch])
		}
	}
}
