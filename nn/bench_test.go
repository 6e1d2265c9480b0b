package nn

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchStep measures one training step (forward, fused loss, backward, Adam update) of an MLP
// on a fixed random batch and reports samples per second.
func benchStep(b *testing.B, inputs int, hidden []int, outputs, batch int) {
	benchTrainer(b, newStepTrainer(b, mlpSpec(inputs, hidden, outputs), lossFor(outputs), batch, 0), batch)
}

// mlpSpec is an MLP with a softmax output, or a sigmoid one for a single output.
func mlpSpec(inputs int, hidden []int, outputs int) Spec {
	if outputs == 1 {
		return mlp(inputs, hidden, outputs, "sigmoid", 1)
	}
	return mlp(inputs, hidden, outputs, "softmax", 1)
}

// lossFor is mlpSpec's loss.
func lossFor(outputs int) string {
	if outputs == 1 {
		return LossBinaryCrossEntropy
	}
	return LossCrossEntropy
}

// BenchmarkThreads is a training step of the MLPs and the 28×28 CNN on 1 and 2 threads.
func BenchmarkThreads(b *testing.B) {
	cases := []struct {
		name  string
		spec  Spec
		batch int
	}{
		{"MLP784", mlpSpec(784, []int{256, 256}, 10), 128},
		{"MLP1024", mlpSpec(784, []int{1024, 1024}, 10), 128},
		{"CNN28", cnn28Spec, 64},
	}
	for _, c := range cases {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", c.name, threads), func(b *testing.B) {
				tr := newStepTrainer(b, c.spec, LossCrossEntropy, c.batch, 0)
				defer tr.net.useThreads(threads)()
				benchTrainer(b, tr, c.batch)
			})
		}
	}
}

// BenchmarkStepMLP784 is an MNIST-sized MLP, where matrix products dominate.
func BenchmarkStepMLP784(b *testing.B) { benchStep(b, 784, []int{256, 256}, 10, 128) }

// BenchmarkStepMLP30 is the breast_cancer MLP, where per-step overhead dominates.
func BenchmarkStepMLP30(b *testing.B) { benchStep(b, 30, []int{64, 32}, 1, 32) }

// BenchmarkPredict784 is inference on 1024 rows.
func BenchmarkPredict784(b *testing.B) {
	net, _ := New(mlp(784, []int{256, 256}, 10, "softmax", 1))
	x := randSlice(rand.New(rand.NewPCG(1, 2)), 1024*784, -1, 1)
	dst := make([]float32, 1024*10)
	net.PredictInto(dst, x, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		net.PredictInto(dst, x, 1024)
	}
	b.ReportMetric(float64(b.N*1024)/b.Elapsed().Seconds(), "samples/s")
}

// newStepTrainer builds spec's network and a trainer with a fixed random batch (token ids
// below vocab when vocab > 0) and runs one warm-up step, after which buffers have their size.
func newStepTrainer(tb testing.TB, spec Spec, loss string, batch, vocab int) *trainer {
	net, err := New(spec)
	if err != nil {
		tb.Fatal(err)
	}
	tr, err := newTrainer(net, TrainConfig{Loss: loss, Optimizer: Optimizer{Name: "adam"}, BatchSize: batch})
	if err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	if vocab > 0 {
		copy(tr.xb, tokens(1, batch*spec.Inputs, vocab))
	} else {
		copy(tr.xb, randSlice(rng, batch*spec.Inputs, -1, 1))
	}
	copy(tr.yb, targetsFor(rng, loss, batch, net.outputs))
	tr.step(batch)
	return tr
}

func benchTrainer(b *testing.B, tr *trainer, batch int) {
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tr.step(batch)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
}

// cnnSpec is a small CNN on 8x8x1 images, the digits-cnn example's.
var cnnSpec = Spec{Inputs: 64, Seed: 1, Layers: []LayerSpec{
	{Type: LayerReshape, Dims: []int{8, 8, 1}},
	{Type: LayerConv2D, Filters: 16, Kernel: []int{3}, Padding: "same", Activation: "relu"},
	{Type: LayerMaxPool2D, Size: []int{2}},
	{Type: LayerConv2D, Filters: 32, Kernel: []int{3}, Padding: "same", Activation: "relu"},
	{Type: LayerMaxPool2D, Size: []int{2}},
	{Type: LayerFlatten},
	{Type: LayerDense, Units: 64, Activation: "relu"},
	{Type: LayerDense, Units: 10, Activation: "softmax"},
}}

// lstmSpec is an LSTM(32) over 20 steps of dim-16 embeddings.
var lstmSpec = Spec{Inputs: 20, Seed: 1, Layers: []LayerSpec{
	{Type: LayerEmbedding, Vocab: 100, Dim: 16},
	{Type: LayerLSTM, Units: 32},
	{Type: LayerDense, Units: 1, Activation: "sigmoid"},
}}

// transformerSpec is one transformer block over 16 tokens of width 32.
var transformerSpec = Spec{Inputs: 16, Seed: 1, Layers: []LayerSpec{
	{Type: LayerEmbedding, Vocab: 100, Dim: 32},
	{Type: LayerPositional},
	{Type: LayerTransformer, Heads: 4, FF: 64, Rate: 0.1},
	{Type: LayerGlobalAvgPool},
	{Type: LayerDense, Units: 1, Activation: "sigmoid"},
}}

// BenchmarkStepCNN is a training step of the digits CNN at batch 32.
func BenchmarkStepCNN(b *testing.B) {
	benchTrainer(b, newStepTrainer(b, cnnSpec, LossCrossEntropy, 32, 0), 32)
}

// cnn28Spec is the 28×28 CNN: conv32-pool-conv64-pool-dense128, as
// scripts/speed_vs_torch.sh builds it in PyTorch.
var cnn28Spec = Spec{Inputs: 784, Seed: 1, Layers: []LayerSpec{
	{Type: LayerReshape, Dims: []int{28, 28, 1}},
	{Type: LayerConv2D, Filters: 32, Kernel: []int{3}, Activation: "relu"},
	{Type: LayerMaxPool2D, Size: []int{2}},
	{Type: LayerConv2D, Filters: 64, Kernel: []int{3}, Activation: "relu"},
	{Type: LayerMaxPool2D, Size: []int{2}},
	{Type: LayerFlatten},
	{Type: LayerDense, Units: 128, Activation: "relu"},
	{Type: LayerDense, Units: 10, Activation: "softmax"},
}}

// BenchmarkStepCNN28 is a training step (Adam) of cnn28Spec at batch 64.
func BenchmarkStepCNN28(b *testing.B) {
	benchTrainer(b, newStepTrainer(b, cnn28Spec, LossCrossEntropy, 64, 0), 64)
}

// BenchmarkStepLSTM is a training step of embedding(16) → LSTM(32) over 20 steps at batch 32.
func BenchmarkStepLSTM(b *testing.B) {
	benchTrainer(b, newStepTrainer(b, lstmSpec, LossBinaryCrossEntropy, 32, 100), 32)
}

// BenchmarkStepTransformer is a training step of one transformer block at batch 32.
func BenchmarkStepTransformer(b *testing.B) {
	benchTrainer(b, newStepTrainer(b, transformerSpec, LossBinaryCrossEntropy, 32, 100), 32)
}

// BenchmarkConv2D is one conv2d layer's forward and backward (with the input gradient) on 64
// 8x8x1 images with 16 3x3 filters, same padding: the comparison with PyTorch.
func BenchmarkConv2D(b *testing.B) {
	net := mustNew(b, Spec{Inputs: 64, Seed: 1, Layers: []LayerSpec{
		{Type: LayerReshape, Dims: []int{8, 8, 1}},
		{Type: LayerConv2D, Filters: 16, Kernel: []int{3}, Padding: "same"},
	}})
	benchLayer(b, net.layers[1], 64, 64, 8*8*16)
}

// BenchmarkLSTM64 is one LSTM(64) layer's forward and backward through time over 32 steps of
// 64 features at batch 32, returning the last state: the comparison with PyTorch.
func BenchmarkLSTM64(b *testing.B) {
	net := mustNew(b, Spec{Inputs: 32 * 64, Seed: 1, Layers: []LayerSpec{
		{Type: LayerReshape, Dims: []int{32, 64}},
		{Type: LayerLSTM, Units: 64},
	}})
	benchLayer(b, net.layers[1], 32, 32*64, 64)
}

// benchLayer times forward + backward of one layer on a random batch.
func benchLayer(b *testing.B, l layer, rows, in, out int) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := randSlice(rng, rows*in, -1, 1)
	dy := randSlice(rng, rows*out, -1, 1)
	d := make([]float32, len(dy))
	l.reserve(rows)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		l.forward(x, rows, true)
		copy(d, dy)
		l.backward(d, rows, false, true)
	}
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "samples/s")
}
