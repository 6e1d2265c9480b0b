package nn

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// privateCases are networks of every layer kind DP-SGD supports, with inputs that suit them.
func privateCases() []struct {
	name string
	spec Spec
	x    func(rng *rand.Rand, rows int) []float32
	loss string
} {
	dense := func(n int) func(*rand.Rand, int) []float32 {
		return func(rng *rand.Rand, rows int) []float32 { return randSlice(rng, rows*n, -1, 1) }
	}
	tokens := func(rng *rand.Rand, rows int) []float32 {
		x := make([]float32, rows*6)
		for i := range x {
			x[i] = float32(rng.IntN(4)) // few ids, so tokens repeat within an example
		}
		return x
	}
	return []struct {
		name string
		spec Spec
		x    func(rng *rand.Rand, rows int) []float32
		loss string
	}{
		{"mlp", Spec{Inputs: 5, Seed: 1, Layers: []LayerSpec{
			{Type: LayerDense, Units: 8, Activation: "tanh"},
			{Type: LayerDropout, Rate: 0.2},
			{Type: LayerDense, Units: 6},
			{Type: LayerActivation, Activation: "relu"},
			{Type: LayerDense, Units: 3, Activation: "softmax"},
		}}, dense(5), LossCrossEntropy},
		{"cnn", Spec{Inputs: 36, Seed: 2, Layers: []LayerSpec{
			{Type: LayerReshape, Dims: []int{6, 6, 1}},
			{Type: LayerConv2D, Filters: 3, Kernel: []int{3}, Padding: "same", Activation: "relu"},
			{Type: LayerMaxPool2D, Size: []int{2}},
			{Type: LayerConv2D, Filters: 2, Kernel: []int{2}},
			{Type: LayerFlatten},
			{Type: LayerDense, Units: 1, Activation: "sigmoid"},
		}}, dense(36), LossBinaryCrossEntropy},
		{"tokens", Spec{Inputs: 6, Seed: 3, Layers: []LayerSpec{
			{Type: LayerEmbedding, Vocab: 4, Dim: 3},
			{Type: LayerLayerNorm},
			{Type: LayerGlobalAvgPool},
			{Type: LayerDense, Units: 2},
		}}, tokens, LossMSE},
	}
}

// TestPerExampleNorms checks the norms the layers give without forming per-example gradients
// against per-example gradients formed the slow way: a backward pass of the whole batch with
// every output gradient but one example's zeroed.
func TestPerExampleNorms(t *testing.T) {
	const rows = 7
	for _, c := range privateCases() {
		t.Run(c.name, func(t *testing.T) {
			net, err := New(c.spec)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(4, 4))
			x, y := c.x(rng, rows), targetsFor(rng, c.loss, rows, net.Outputs())
			tr, err := newTrainer(net, TrainConfig{Loss: c.loss, BatchSize: rows})
			if err != nil {
				t.Fatal(err)
			}
			out := net.forward(x, rows, true)
			tr.loss.eval(out, net.logits(rows), y, rows, net.outputs, tr.grad)
			g0 := append([]float32(nil), tr.grad[:rows*net.outputs]...)
			sq := make([]float64, rows)
			net.backwardNorms(append([]float32(nil), g0...), rows, tr.loss.fused, sq)
			for r := range rows {
				masked := make([]float32, len(g0))
				copy(masked[r*net.outputs:(r+1)*net.outputs], g0[r*net.outputs:(r+1)*net.outputs])
				net.backward(masked, rows, tr.loss.fused)
				want := sumSquares(net.grads)
				if math.Abs(sq[r]-want) > 1e-4*want+1e-12 {
					t.Errorf("example %d: squared norm %g, per-example gradient gives %g", r, sq[r], want)
				}
			}
		})
	}
}

// privateTrainer is a trainer with DP-SGD state whose expected batch size is rows.
func privateTrainer(t *testing.T, net *Network, loss string, rows int, p Privacy) *trainer {
	t.Helper()
	tr, err := newTrainer(net, TrainConfig{Loss: loss, Optimizer: Optimizer{Name: "sgd", LR: 0.1}, BatchSize: rows})
	if err != nil {
		t.Fatal(err)
	}
	if tr.dp, err = newDP(p, net, 4*rows, rows); err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestPrivateWithoutNoiseOrClippingIsSGD: with noise 0 and a bound no gradient reaches,
// DP-SGD's steps are plain SGD's on the same batches.
func TestPrivateWithoutNoiseOrClippingIsSGD(t *testing.T) {
	const rows = 8
	for _, c := range privateCases() {
		t.Run(c.name, func(t *testing.T) {
			plain, _ := New(c.spec)
			private, _ := New(c.spec)
			tp, err := newTrainer(plain, TrainConfig{Loss: c.loss, Optimizer: Optimizer{Name: "sgd", LR: 0.1}, BatchSize: rows})
			if err != nil {
				t.Fatal(err)
			}
			td := privateTrainer(t, private, c.loss, rows, Privacy{MaxGradNorm: 1e30})
			rng := rand.New(rand.NewPCG(5, 5))
			for range 5 {
				x, y := c.x(rng, rows), targetsFor(rng, c.loss, rows, plain.Outputs())
				copy(tp.xb, x)
				copy(tp.yb, y)
				copy(td.xb, x)
				copy(td.yb, y)
				tp.step(rows)
				td.privateStep(rows, nil)
			}
			for i, v := range private.params {
				if d := math.Abs(float64(v - plain.params[i])); d > 1e-6 {
					t.Fatalf("parameter %d: DP-SGD %g, SGD %g", i, v, plain.params[i])
				}
			}
		})
	}
}

// TestClippingBoundsEachExample: after flat clipping to C, every example's own gradient has
// norm at most C, and the batch gradient is their sum over the expected batch size.
func TestClippingBoundsEachExample(t *testing.T) {
	const rows, limit = 6, 0.05
	for _, c := range privateCases() {
		t.Run(c.name, func(t *testing.T) {
			net, _ := New(c.spec)
			tr := privateTrainer(t, net, c.loss, rows, Privacy{MaxGradNorm: limit})
			rng := rand.New(rand.NewPCG(6, 6))
			x, y := c.x(rng, rows), targetsFor(rng, c.loss, rows, net.Outputs())
			copy(tr.xb, x)
			copy(tr.yb, y)
			tr.privateGrad(rows, nil)
			got := append([]float32(nil), net.grads...)

			// Each example's gradient formed alone from the same forward pass (and dropout
			// masks) and clipped here.
			g0 := append([]float32(nil), tr.dp.g0...)
			sum := make([]float64, len(net.grads))
			clipped := 0
			for r := range rows {
				masked := make([]float32, len(g0))
				for j := r * net.outputs; j < (r+1)*net.outputs; j++ {
					masked[j] = g0[j] * rows // example r's own loss, not the batch mean
				}
				net.backward(masked, rows, tr.loss.fused)
				norm := math.Sqrt(sumSquares(net.grads))
				f := tr.dp.clipFactor(norm)
				if norm*f > limit*(1+1e-6) {
					t.Errorf("example %d: clipped norm %g > %g", r, norm*f, limit)
				}
				if f < 1 {
					clipped++
				}
				for i, v := range net.grads {
					sum[i] += float64(v) * f / float64(rows)
				}
			}
			if clipped == 0 {
				t.Fatalf("no example reached the bound %g: the case tests nothing", limit)
			}
			for i, v := range got {
				if math.Abs(float64(v)-sum[i]) > 1e-5*limit {
					t.Fatalf("gradient %d: %g, the clipped examples' mean %g", i, v, sum[i])
				}
			}
		})
	}
}

// TestNoiseHasTheStatedScale: a step that samples no example moves the gradient by noise alone,
// of standard deviation σ·C/B.
func TestNoiseHasTheStatedScale(t *testing.T) {
	net, _ := New(Spec{Inputs: 50, Layers: []LayerSpec{{Type: LayerDense, Units: 200}}})
	tr := privateTrainer(t, net, LossMSE, 10, Privacy{NoiseMultiplier: 1.5, MaxGradNorm: 2})
	tr.privateGrad(0, rand.New(rand.NewPCG(1, 2)))
	var s, ss float64
	for _, v := range net.grads {
		s += float64(v)
		ss += float64(v) * float64(v)
	}
	n := float64(len(net.grads))
	std := math.Sqrt(ss/n - (s/n)*(s/n))
	if want := 1.5 * 2 / 10.0; math.Abs(std-want) > 0.02*want || math.Abs(s/n) > 0.01 {
		t.Errorf("noise mean %g std %g, want 0 and %g", s/n, std, want)
	}
}

func TestPoissonSampling(t *testing.T) {
	dp := &dpState{q: 0.1}
	rng := rand.New(rand.NewPCG(3, 3))
	const n, draws = 500, 2000
	total := 0
	counts := make([]int, n)
	for range draws {
		prev := -1
		for _, i := range dp.sample(rng, n) {
			if i <= prev || i >= n {
				t.Fatalf("sample not increasing within [0, %d): %d after %d", n, i, prev)
			}
			prev = i
			counts[i]++
			total++
		}
	}
	// Binomial(n·draws, 0.1): mean 100,000, sd 300.
	if mean := float64(total) / draws; math.Abs(mean-50) > 0.5 {
		t.Errorf("mean batch %g, want 50", mean)
	}
	for i, c := range counts {
		if c < 130 || c > 280 { // Binomial(2000, 0.1): 200 ± 5.3 sd
			t.Errorf("row %d taken %d times in %d draws, want about 200", i, c, draws)
		}
	}
	if got := (&dpState{q: 1}).sample(rng, 7); len(got) != 7 {
		t.Errorf("q = 1 took %v", got)
	}
}

func TestFitPrivate(t *testing.T) {
	spec := Spec{Inputs: 4, Seed: 1, Layers: []LayerSpec{
		{Type: LayerDense, Units: 16, Activation: "relu"},
		{Type: LayerDense, Units: 2, Activation: "softmax"},
	}}
	rng := rand.New(rand.NewPCG(8, 8))
	data := Data{Rows: 600, X: randSlice(rng, 600*4, -1, 1), Y: make([]float32, 1200)}
	for r := range data.Rows {
		k := 0
		if data.X[r*4]+data.X[r*4+1] > 0 {
			k = 1
		}
		data.Y[r*2+k] = 1
	}
	cfg := TrainConfig{Loss: LossCrossEntropy, Optimizer: Optimizer{Name: "sgd", LR: 0.5}, Epochs: 15, BatchSize: 50, Seed: 4,
		Privacy: &Privacy{NoiseMultiplier: 1, MaxGradNorm: 1}}
	run := func() (*Network, *History) {
		net, _ := New(spec)
		h, err := Fit(net, data, Data{}, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return net, h
	}
	a, h := run()
	b, _ := run()
	if !equalBits(paramBits(a), paramBits(b)) {
		t.Error("the same seed gave different weights")
	}
	if h.PrivateSteps != 15*12 || h.SampleRate != 50.0/600 {
		t.Errorf("private steps %d at rate %g, want 180 at %g", h.PrivateSteps, h.SampleRate, 50.0/600)
	}
	if acc := h.Epochs[len(h.Epochs)-1].Accuracy; acc < 0.85 {
		t.Errorf("accuracy %g with σ = 1: DP-SGD does not learn a linear boundary", acc)
	}
	cfg.Seed = 5
	c, _ := run()
	if equalBits(paramBits(a), paramBits(c)) {
		t.Error("another seed gave the same weights")
	}
}

func TestPrivateRefusesLayers(t *testing.T) {
	for _, c := range []struct {
		layers []LayerSpec
		want   string
	}{
		{[]LayerSpec{{Type: LayerDense, Units: 4}, {Type: LayerBatchNorm}, {Type: LayerDense, Units: 2}}, "layer 2 (batchnorm) is not compatible with privacy"},
		{[]LayerSpec{{Type: LayerReshape, Dims: []int{2, 2}}, {Type: LayerLSTM, Units: 3}, {Type: LayerDense, Units: 2}}, "layer 2 (lstm): privacy needs each example's gradient"},
	} {
		net, err := New(Spec{Inputs: 4, Layers: c.layers})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Fit(net, noisyData(1, 20, 4, 2), Data{}, TrainConfig{Loss: LossCrossEntropy, Epochs: 1,
			Privacy: &Privacy{NoiseMultiplier: 1, MaxGradNorm: 1}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// TestPrivateCostsLittle: a private epoch of a small MLP takes at most 5× a plain one (the
// contract's bound; two backward passes and the noise make it about 2×).
func TestPrivateCostsLittle(t *testing.T) {
	if testing.Short() {
		t.Skip("timing")
	}
	spec := Spec{Inputs: 30, Seed: 1, Layers: []LayerSpec{
		{Type: LayerDense, Units: 64, Activation: "relu"},
		{Type: LayerDense, Units: 64, Activation: "relu"},
		{Type: LayerDense, Units: 2, Activation: "softmax"},
	}}
	data := noisyData(3, 2000, 30, 2)
	timeFit := func(p *Privacy) time.Duration {
		best := time.Duration(math.MaxInt64)
		for range 3 {
			net, _ := New(spec)
			start := time.Now()
			if _, err := Fit(net, data, Data{}, TrainConfig{Loss: LossCrossEntropy, Epochs: 5, BatchSize: 64, Privacy: p}); err != nil {
				t.Fatal(err)
			}
			best = min(best, time.Since(start))
		}
		return best
	}
	plain := timeFit(nil)
	private := timeFit(&Privacy{NoiseMultiplier: 1, MaxGradNorm: 1})
	t.Logf("plain %v, private %v: %.2f×", plain, private, float64(private)/float64(plain))
	if private > 5*plain {
		t.Errorf("private training %v is more than 5× plain %v", private, plain)
	}
}

// TestPrivateResumeIsBitIdentical: the sampling and noise generator is part of the checkpoint,
// so a private run continued from one is the run that never stopped, private steps included.
func TestPrivateResumeIsBitIdentical(t *testing.T) {
	spec := Spec{Inputs: 6, Seed: 2, Layers: []LayerSpec{
		{Type: LayerDense, Units: 8, Activation: "relu"},
		{Type: LayerDropout, Rate: 0.2},
		{Type: LayerDense, Units: 3, Activation: "softmax"},
	}}
	train := noisyData(1, 90, 6, 3)
	cfg := TrainConfig{Loss: LossCrossEntropy, Optimizer: Optimizer{Name: "adam"}, BatchSize: 16, Seed: 3, Epochs: 8,
		Privacy: &Privacy{NoiseMultiplier: 0.8, MaxGradNorm: 0.5}}
	whole := mustNew(t, spec)
	h, err := Fit(whole, train, Data{}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	wantModel, wantHist := fitBytes(t, whole, h)
	cfg.Epochs = 4
	_, _, ck, err := FitFrom(mustNew(t, spec), train, Data{}, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Epochs = 8
	net, h2, _, err := FitFrom(nil, train, Data{}, cfg, ck)
	if err != nil {
		t.Fatal(err)
	}
	if m, hb := fitBytes(t, net, h2); !bytes.Equal(m, wantModel) || !bytes.Equal(hb, wantHist) {
		t.Errorf("4 + 4 private epochs differ from 8:\n%s\n%s", hb, wantHist)
	}
	if h2.PrivateSteps != 8*6 {
		t.Errorf("private steps %d, want 48", h2.PrivateSteps)
	}
}
