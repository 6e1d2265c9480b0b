package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestSpecErrors(t *testing.T) {
	dense := func(u int, act string) LayerSpec { return LayerSpec{Type: "dense", Units: u, Activation: act} }
	cases := []struct {
		spec  Spec
		want  string
		layer int
		field string
	}{
		{Spec{Inputs: 0, Layers: []LayerSpec{dense(1, "")}}, "network: inputs must be between 1 and 16777216, got 0", -1, "inputs"},
		{Spec{Inputs: 3}, "network: a network needs at least one layer", -1, "layers"},
		{Spec{Inputs: 3, Init: "lecun", Layers: []LayerSpec{dense(1, "")}}, `network: unknown init "lecun"`, -1, "init"},
		{Spec{Inputs: 3, Layers: []LayerSpec{dense(4, "relu"), dense(4, "relu"), dense(0, "")}}, "layer 2 (dense): units must be positive, got 0", 2, "units"},
		{Spec{Inputs: 3, Layers: []LayerSpec{dense(4, "swish")}}, `layer 0 (dense): unknown activation "swish"`, 0, "activation"},
		{Spec{Inputs: 3, Layers: []LayerSpec{dense(4, "relu"), {Type: "dropout", Rate: 1}}}, "layer 1 (dropout): rate must be in [0, 1), got 1", 1, "rate"},
		{Spec{Inputs: 3, Layers: []LayerSpec{{Type: "dropout", Rate: -0.1}}}, "layer 0 (dropout): rate must be in [0, 1)", 0, "rate"},
		{Spec{Inputs: 3, Layers: []LayerSpec{{Type: "conv9d"}}}, "layer 0 (conv9d): unknown layer type", 0, "type"},
		{Spec{Inputs: 3, Layers: []LayerSpec{{Type: "activation"}}}, "layer 0 (activation): an activation layer needs an activation", 0, "activation"},
		{Spec{Inputs: 3, Layers: []LayerSpec{{Type: "batchnorm", Momentum: 2}}}, "layer 0 (batchnorm): momentum must be in (0, 1]", 0, "momentum"},
		{Spec{Inputs: 3, Layers: []LayerSpec{{Type: "batchnorm", Eps: -1}}}, "layer 0 (batchnorm): eps must be positive", 0, "eps"},
		{Spec{Inputs: 3, Layers: []LayerSpec{{Type: "dense", Units: 2, Activation: "relu", Alpha: 0.1}}}, "layer 0 (dense): alpha applies only to leaky_relu", 0, "alpha"},
		{Spec{Inputs: 3, Layers: []LayerSpec{{Type: "dropout", Units: 3}}}, "layer 0 (dropout): dropout layers take no units", 0, "units"},
	}
	for _, c := range cases {
		_, err := New(c.spec)
		var se *SpecError
		if !errors.As(err, &se) {
			t.Errorf("%+v: error %v is not a *SpecError", c.spec, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) || se.Layer != c.layer || se.Field != c.field {
			t.Errorf("error %q (layer %d, field %q), want prefix %q (layer %d, field %q)", err, se.Layer, se.Field, c.want, c.layer, c.field)
		}
	}
}

func TestNetworkShape(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 30, Layers: []LayerSpec{
		{Type: "dense", Units: 64, Activation: "relu"},
		{Type: "batchnorm"},
		{Type: "dropout", Rate: 0.2},
		{Type: "dense", Units: 32, Activation: "leaky_relu"},
		{Type: "dense", Units: 1, Activation: "sigmoid"},
	}})
	if net.Outputs() != 1 || net.Inputs() != 30 {
		t.Errorf("inputs %d outputs %d, want 30 and 1", net.Inputs(), net.Outputs())
	}
	if want := 30*64 + 64 + 2*64 + 64*32 + 32 + 32 + 1; net.NumParams() != want {
		t.Errorf("NumParams = %d, want %d", net.NumParams(), want)
	}
	s := net.Spec()
	if s.Layers[1].Momentum != DefaultBNMomentum || s.Layers[1].Eps != DefaultBNEpsilon || s.Layers[3].Alpha != DefaultLeakyAlpha {
		t.Errorf("defaults not made explicit: %+v", s.Layers)
	}
	if s.Layers[4].Activation != "sigmoid" || s.Layers[0].Activation != "relu" {
		t.Errorf("activations changed: %+v", s.Layers)
	}
}

// TestInit checks the initialisers' spread, that "" picks He for relu-like layers and Xavier
// otherwise, and that a seed gives bit-identical weights.
func TestInit(t *testing.T) {
	spec := Spec{Inputs: 400, Seed: 3, Layers: []LayerSpec{
		{Type: "dense", Units: 300, Activation: "relu"},
		{Type: "dense", Units: 200, Activation: "tanh"},
		{Type: "dense", Units: 100},
		{Type: "activation", Activation: "gelu"},
	}}
	net := mustNew(t, spec)
	std := func(w []float32) float64 {
		var s float64
		for _, v := range w {
			s += float64(v) * float64(v)
		}
		return math.Sqrt(s / float64(len(w)))
	}
	d0, d1, d2 := net.layers[0].(*dense), net.layers[1].(*dense), net.layers[2].(*dense)
	checks := []struct {
		name      string
		got, want float64
	}{
		{"he (relu)", std(d0.w), math.Sqrt(2.0 / 400)},
		{"xavier (tanh)", std(d1.w), math.Sqrt(6.0/500) / math.Sqrt(3)},
		{"he (linear before gelu)", std(d2.w), math.Sqrt(2.0 / 200)},
	}
	for _, c := range checks {
		if math.Abs(c.got/c.want-1) > 0.02 {
			t.Errorf("%s: weight std %.5f, want %.5f", c.name, c.got, c.want)
		}
	}
	limit := float32(math.Sqrt(6.0 / 500))
	for _, v := range d1.w {
		if v < -limit || v > limit {
			t.Fatalf("xavier weight %v outside ±%v", v, limit)
		}
	}
	again := mustNew(t, spec)
	for i := range net.params {
		if math.Float32bits(net.params[i]) != math.Float32bits(again.params[i]) {
			t.Fatal("same seed gave different weights")
		}
	}
	spec.Seed = 4
	if other := mustNew(t, spec); other.params[0] == net.params[0] {
		t.Error("a different seed gave the same first weight")
	}
}

func TestDropoutLayer(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 1000, Seed: 1, Layers: []LayerSpec{{Type: "dropout", Rate: 0.3}}})
	x := make([]float32, 4000)
	for i := range x {
		x[i] = 1
	}
	if p := net.Predict(x, 4); p[0] != 1 || p[3999] != 1 {
		t.Error("dropout is not the identity at inference")
	}
	out := net.forward(x, 4, true)
	zeros, sum := 0, 0.0
	for _, v := range out {
		if v == 0 {
			zeros++
		} else if math.Abs(float64(v)-1/0.7) > 1e-6 {
			t.Fatalf("kept value %v, want 1/0.7", v)
		}
		sum += float64(v)
	}
	if frac := float64(zeros) / 4000; math.Abs(frac-0.3) > 0.03 {
		t.Errorf("dropped fraction %.3f, want about 0.3", frac)
	}
	if mean := sum / 4000; math.Abs(mean-1) > 0.05 {
		t.Errorf("mean after inverted dropout %.3f, want about 1", mean)
	}
}

// TestBatchNormRunningStats checks one training batch's effect on the running statistics
// (PyTorch's convention: unbiased variance, momentum 0.1) and their use at inference.
func TestBatchNormRunningStats(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 2, Layers: []LayerSpec{{Type: "batchnorm"}}})
	x := []float32{1, 10, 2, 20, 3, 30, 6, 40}
	out := net.forward(x, 4, true)
	// Feature 0: mean 3, biased var 3.5, unbiased 14/3.
	if got, want := float64(out[0]), (1-3)/math.Sqrt(3.5+1e-5); math.Abs(got-want) > 1e-5 {
		t.Errorf("training output %v, want %v", got, want)
	}
	bn := net.layers[0].(*batchNorm)
	if math.Abs(float64(bn.runMean[0])-0.3) > 1e-6 || math.Abs(float64(bn.runVar[0])-(0.9+0.1*14.0/3)) > 1e-6 {
		t.Errorf("running stats %v %v, want 0.3 and %v", bn.runMean[0], bn.runVar[0], 0.9+0.1*14.0/3)
	}
	p := net.Predict([]float32{1, 10}, 1)
	if want := (1 - 0.3) / math.Sqrt(0.9+0.1*14.0/3+1e-5); math.Abs(float64(p[0])-want) > 1e-5 {
		t.Errorf("inference output %v, want %v", p[0], want)
	}
}

// TestBatchNormSingleRow checks that a training batch of one sample neither divides by a zero
// variance nor drags the running statistics towards it.
func TestBatchNormSingleRow(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 2, Layers: []LayerSpec{{Type: "batchnorm"}}})
	bn := net.layers[0].(*batchNorm)
	out := net.forward([]float32{3, -4}, 1, true)
	if bn.runMean[0] != 0 || bn.runVar[0] != 1 || bn.batches != 0 {
		t.Errorf("running stats moved: mean %v var %v batches %d", bn.runMean, bn.runVar, bn.batches)
	}
	if want := float32(3 / math.Sqrt(1+1e-5)); math.Abs(float64(out[0]-want)) > 1e-6 {
		t.Errorf("output %v, want %v", out[0], want)
	}
}

func TestPredictBatches(t *testing.T) {
	net := mustNew(t, mlp(3, []int{5}, 2, "softmax", 1))
	rng := rand.New(rand.NewPCG(1, 1))
	rows := 2*predictChunk + 7
	x := randSlice(rng, rows*3, -1, 1)
	all := net.Predict(x, rows)
	for _, r := range []int{0, predictChunk, rows - 1} {
		one := net.Predict(x[r*3:(r+1)*3], 1)
		if one[0] != all[r*2] || one[1] != all[r*2+1] {
			t.Errorf("row %d: alone %v, in a batch %v", r, one, all[r*2:r*2+2])
		}
		if s := one[0] + one[1]; math.Abs(float64(s)-1) > 1e-6 {
			t.Errorf("softmax row sums to %v", s)
		}
	}
}

func TestNetworkString(t *testing.T) {
	net := mustNew(t, Spec{Inputs: 4, Layers: []LayerSpec{
		{Type: "dense", Units: 3, Activation: "relu"}, {Type: "dropout", Rate: 0.5},
		{Type: "activation", Activation: "tanh"}, {Type: "batchnorm"},
	}})
	want := "inputs 4\n0 dense 3 relu\n1 dropout 0.5\n2 activation tanh\n3 batchnorm\nparams 21"
	if got := net.String(); got != want {
		t.Errorf("String() =\n%s\nwant\n%s", got, want)
	}
}
