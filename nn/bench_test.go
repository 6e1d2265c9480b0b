package nn

import (
	"math/rand/v2"
	"testing"
)

// benchStep measures one training step (forward, fused loss, backward, Adam update) of an MLP
// on a fixed random batch and reports samples per second.
func benchStep(b *testing.B, inputs int, hidden []int, outputs, batch int) {
	outAct, loss := "softmax", LossCrossEntropy
	if outputs == 1 {
		outAct, loss = "sigmoid", LossBinaryCrossEntropy
	}
	net, err := New(mlp(inputs, hidden, outputs, outAct, 1))
	if err != nil {
		b.Fatal(err)
	}
	tr, err := newTrainer(net, TrainConfig{Loss: loss, Optimizer: Optimizer{Name: "adam"}, BatchSize: batch})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	copy(tr.xb, randSlice(rng, batch*inputs, -1, 1))
	copy(tr.yb, targetsFor(rng, loss, batch, outputs))
	tr.step(batch) // warm-up: buffers reach their size
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		tr.step(batch)
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
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
