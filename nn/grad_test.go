package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func mustNew(t testing.TB, s Spec) *Network {
	t.Helper()
	n, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestGradDenseActivations(t *testing.T) {
	for _, act := range Activations {
		t.Run(act, func(t *testing.T) {
			net := mustNew(t, Spec{Inputs: 4, Seed: 1, Layers: []LayerSpec{
				{Type: "dense", Units: 5, Activation: act},
				{Type: "dense", Units: 3},
			}})
			gradCheck(t, net, LossMSE, 6, 0, 0)
		})
	}
}

func TestGradActivationLayers(t *testing.T) {
	for _, act := range Activations {
		t.Run(act, func(t *testing.T) {
			net := mustNew(t, Spec{Inputs: 3, Seed: 2, Layers: []LayerSpec{
				{Type: "dense", Units: 4},
				{Type: "activation", Activation: act, Alpha: map[bool]float64{true: 0.2}[act == "leaky_relu"]},
				{Type: "dense", Units: 2},
			}})
			gradCheck(t, net, LossMSE, 5, 0, 0)
		})
	}
}

func TestGradDropout(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 4, Seed: 3, Layers: []LayerSpec{
		{Type: "dense", Units: 8, Activation: "tanh"},
		{Type: "dropout", Rate: 0.4},
		{Type: "dense", Units: 2},
	}})
	gradCheck(t, net, LossMSE, 6, 0, 0)
}

func TestGradBatchNorm(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 4, Seed: 4, Layers: []LayerSpec{
		{Type: "dense", Units: 5, Activation: "tanh"}, // not linear: a bias right before batchnorm has no gradient
		{Type: "batchnorm"},
		{Type: "activation", Activation: "sigmoid"},
		{Type: "dense", Units: 2},
	}})
	// Non-trivial γ and β so that their gradients and the x̂ term are all exercised.
	rng := rand.New(rand.NewPCG(1, 2))
	for i := net.nReg; i < len(net.params); i++ {
		net.params[i] = float32(0.5 + rng.Float64())
	}
	gradCheck(t, net, LossMSE, 7, 0, 0)
}

func TestGradLosses(t *testing.T) {
	cases := []struct {
		loss, outAct string
		outputs      int
	}{
		{LossBinaryCrossEntropy, "sigmoid", 1}, // fused
		{LossBinaryCrossEntropy, "sigmoid", 3}, // fused, multi-label
		{LossCrossEntropy, "softmax", 4},       // fused
		{LossMSE, "linear", 2},
		{LossMAE, "linear", 2},
		{LossHuber, "linear", 2},
		{LossMSE, "softmax", 3}, // softmax backward without the fused path
		{LossMSE, "sigmoid", 2},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s_%s_%d", c.loss, c.outAct, c.outputs), func(t *testing.T) {
			net := mustNew(t, Spec{Inputs: 3, Seed: 5, Layers: []LayerSpec{
				{Type: "dense", Units: 6, Activation: "tanh"},
				{Type: "dense", Units: c.outputs, Activation: c.outAct},
			}})
			gradCheck(t, net, c.loss, 8, 0, 0)
		})
	}
}

// TestGradLossesUnfused checks the probability-space cross-entropies, used when the output
// layer is not the matching sigmoid/softmax, on outputs away from the clipping bounds.
func TestGradLossesUnfused(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, loss := range []string{LossBinaryCrossEntropy, LossCrossEntropy} {
		rows, cols := 5, 3
		out := randSlice(rng, rows*cols, 0.05, 0.95)
		y := targetsFor(rng, loss, rows, cols)
		f, err := newLossFunc(loss, cols, actLinear, 0)
		if err != nil || f.fused {
			t.Fatalf("%s: fused=%v err=%v", loss, f.fused, err)
		}
		grad := make([]float32, rows*cols)
		got, _ := f.eval(out, nil, y, rows, cols, grad)
		o64, y64 := to64(out), to64(y)
		if want := refLoss(loss, o64, y64, rows, cols); math.Abs(got-want) > 1e-6*math.Abs(want) {
			t.Errorf("%s: loss %v, want %v", loss, got, want)
		}
		num := make([]float64, len(o64))
		for i := range o64 {
			orig := o64[i]
			o64[i] = orig + 1e-6
			up := refLoss(loss, o64, y64, rows, cols)
			o64[i] = orig - 1e-6
			num[i] = (up - refLoss(loss, o64, y64, rows, cols)) / 2e-6
			o64[i] = orig
		}
		if e := relErr(to64(grad), num); e > 1e-3 {
			t.Errorf("%s: gradient relative error %.2e", loss, e)
		}
	}
}

func TestGradThreeLayerNetwork(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 5, Seed: 6, Layers: []LayerSpec{
		{Type: "dense", Units: 8, Activation: "relu"},
		{Type: "dense", Units: 6, Activation: "gelu"},
		{Type: "dense", Units: 4, Activation: "softmax"},
	}})
	gradCheck(t, net, LossCrossEntropy, 10, 0, 0)
}

func TestGradRegularization(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 4, Seed: 8, Layers: []LayerSpec{
		{Type: "dense", Units: 6, Activation: "leaky_relu"},
		{Type: "dense", Units: 1, Activation: "sigmoid"},
	}})
	gradCheck(t, net, LossBinaryCrossEntropy, 8, 0.01, 0.05)
}

// TestLossStableAtExtremes feeds saturated logits and probabilities of exactly 0 and 1: the
// losses and gradients must stay finite, and the fused ones must match the exact values.
func TestLossStableAtExtremes(t *testing.T) {
	bce, _ := newLossFunc(LossBinaryCrossEntropy, 1, actSigmoid, 0)
	z := []float32{100, -100, 100, -100, 0}
	y := []float32{1, 0, 0, 1, 1}
	out := make([]float32, len(z))
	activate(actSigmoid, 0, z, out, len(z), 1)
	grad := make([]float32, len(z))
	loss, _ := bce.eval(out, z, y, len(z), 1, grad)
	// Rows 3 and 4 are wrong by a logit of 100: each costs 100; row 5 costs log 2.
	want := (200 + math.Log(2)) / 5
	if math.Abs(loss-want) > 1e-9 {
		t.Errorf("fused BCE at extreme logits: %v, want %v", loss, want)
	}
	for _, g := range grad {
		if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
			t.Fatalf("fused BCE gradient not finite: %v", grad)
		}
	}

	ce, _ := newLossFunc(LossCrossEntropy, 3, actSoftmax, 0)
	zc := []float32{1000, 0, -1000}
	yc := []float32{0, 0, 1}
	pc := make([]float32, 3)
	activate(actSoftmax, 0, zc, pc, 1, 3)
	gc := make([]float32, 3)
	lc, _ := ce.eval(pc, zc, yc, 1, 3, gc)
	if lc != 2000 || gc[0] != 1 || gc[2] != -1 {
		t.Errorf("fused CE at extreme logits: loss %v grad %v, want 2000 and [1 0 -1]", lc, gc)
	}

	for _, name := range []string{LossBinaryCrossEntropy, LossCrossEntropy} {
		f, _ := newLossFunc(name, 2, actLinear, 0)
		p := []float32{0, 1, 1, 0}
		yy := []float32{1, 0, 1, 0}
		g := make([]float32, 4)
		l, _ := f.eval(p, nil, yy, 2, 2, g)
		if math.IsNaN(l) || math.IsInf(l, 0) {
			t.Errorf("%s on probabilities 0 and 1: loss %v", name, l)
		}
		for _, v := range g {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Errorf("%s on probabilities 0 and 1: gradient %v", name, g)
			}
		}
	}
}

// TestLossValues pins each loss on a case computed by hand.
func TestLossValues(t *testing.T) {
	out := []float32{0.5, 2, -1, 3}
	y := []float32{0, 0, 1, 1}
	cases := map[string]float64{
		LossMSE:   (0.25 + 4 + 4 + 4) / 4,
		LossMAE:   (0.5 + 2 + 2 + 2) / 4,
		LossHuber: (0.125 + 1.5 + 1.5 + 1.5) / 4,
	}
	for name, want := range cases {
		f, _ := newLossFunc(name, 2, actLinear, 0)
		got, _ := f.eval(out, nil, y, 2, 2, nil)
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	// Cross-entropy of softmax([0, ln 3]) against class 1: −log(3/4).
	ce, _ := newLossFunc(LossCrossEntropy, 2, actSoftmax, 0)
	z := []float32{0, float32(math.Log(3))}
	p := make([]float32, 2)
	activate(actSoftmax, 0, z, p, 1, 2)
	got, correct := ce.eval(p, z, []float32{0, 1}, 1, 2, nil)
	if math.Abs(got+math.Log(0.75)) > 1e-6 || correct != 1 {
		t.Errorf("crossentropy = %v (correct %d), want %v (1)", got, correct, -math.Log(0.75))
	}
}

// TestGradFusedActivationLayer covers the fused gradient when the final sigmoid/softmax is an
// activation layer of its own rather than part of the last dense layer.
func TestGradFusedActivationLayer(t *testing.T) {
	for _, c := range []struct{ act, loss string }{{"softmax", LossCrossEntropy}, {"sigmoid", LossBinaryCrossEntropy}} {
		net := mustNew(t, Spec{Inputs: 3, Seed: 5, Layers: []LayerSpec{
			{Type: "dense", Units: 6, Activation: "relu"},
			{Type: "dense", Units: 3},
			{Type: "activation", Activation: c.act},
		}})
		f, err := newLossFunc(c.loss, 3, net.outAct, 0)
		if err != nil || !f.fused {
			t.Fatalf("%s + %s: fused %v, err %v", c.act, c.loss, f.fused, err)
		}
		gradCheck(t, net, c.loss, 8, 0, 0)
	}
}
