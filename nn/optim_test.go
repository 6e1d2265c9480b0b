package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestOptimizerSteps checks two steps of each rule on one weight with a constant gradient of
// 0.5, against values worked out by hand from PyTorch's update formulas.
func TestOptimizerSteps(t *testing.T) {
	cases := []struct {
		opt  Optimizer
		want [2]float64
	}{
		{Optimizer{Name: "sgd", LR: 0.1}, [2]float64{0.95, 0.9}},
		{Optimizer{Name: "sgd", LR: 0.1, WeightDecay: 0.1}, [2]float64{0.94, 0.94 - 0.1*(0.5+0.094)}},
		{Optimizer{Name: "momentum", LR: 0.1}, [2]float64{0.95, 0.855}},
		{Optimizer{Name: "nesterov", LR: 0.1}, [2]float64{0.905, 0.7695}},
		{Optimizer{Name: "adam", LR: 0.1}, [2]float64{0.9, 0.8}},
		{Optimizer{Name: "adamw", LR: 0.1, WeightDecay: 0.1}, [2]float64{0.89, 0.89*0.99 - 0.1}},
		{Optimizer{Name: "rmsprop", LR: 0.1}, [2]float64{1 - 0.05/math.Sqrt(0.025), 0}},
	}
	// RMSProp's second step: s = 0.9·0.025 + 0.1·0.25 = 0.0475.
	cases[6].want[1] = cases[6].want[0] - 0.05/math.Sqrt(0.0475)
	for _, c := range cases {
		o, k, err := c.opt.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		opt := newOptimizer(o, k, 1)
		w := []float32{1}
		for s := 0; s < 2; s++ {
			g := []float32{0.5}
			opt.step(nil, w, g, 1, float32(o.LR))
			if math.Abs(float64(w[0])-c.want[s]) > 2e-6 {
				t.Errorf("%s (wd %g) step %d: w = %.7f, want %.7f", c.opt.Name, c.opt.WeightDecay, s+1, w[0], c.want[s])
			}
		}
	}
}

// TestWeightDecaySkipsBiases checks that decay touches only params[:nReg].
func TestWeightDecaySkipsBiases(t *testing.T) {
	o, k, _ := Optimizer{Name: "adamw", LR: 0.1, WeightDecay: 0.5}.withDefaults()
	opt := newOptimizer(o, k, 2)
	w, g := []float32{1, 1}, []float32{0, 0}
	opt.step(nil, w, g, 1, 0.1)
	if w[0] != 0.95 || w[1] != 1 {
		t.Errorf("after one decayed step with zero gradient: %v, want [0.95 1]", w)
	}
}

func TestSchedules(t *testing.T) {
	cases := []struct {
		s    Schedule
		want []float64
	}{
		{Schedule{}, []float64{1, 1, 1, 1, 1}},
		{Schedule{Kind: "step", Every: 2, Factor: 0.5}, []float64{1, 1, 0.5, 0.5, 0.25}},
		{Schedule{Kind: "step", Every: 3}, []float64{1, 1, 1, 0.1, 0.1}},
		{Schedule{Kind: "exponential", Factor: 0.9}, []float64{1, 0.9, 0.81, 0.729, 0.6561}},
		{Schedule{Kind: "cosine"}, []float64{1, 0.5 * (1 + math.Cos(math.Pi/5)), 0.5 * (1 + math.Cos(2*math.Pi/5)), 0.5 * (1 + math.Cos(3*math.Pi/5)), 0.5 * (1 + math.Cos(4*math.Pi/5))}},
	}
	for _, c := range cases {
		if err := c.s.validate(); err != nil {
			t.Fatal(err)
		}
		for e, want := range c.want {
			if got := c.s.rate(1, e, 5); math.Abs(got-want) > 1e-12 {
				t.Errorf("%+v epoch %d: lr %v, want %v", c.s, e, got, want)
			}
		}
	}
	for _, bad := range []Schedule{{Kind: "step"}, {Kind: "step", Every: 1, Factor: 2}, {Kind: "exponential"}, {Kind: "linear"}} {
		if bad.validate() == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

func TestClipNorm(t *testing.T) {
	g := []float32{3, 4}
	clipNorm(g, 1)
	if math.Abs(float64(g[0])-0.6) > 1e-7 || math.Abs(float64(g[1])-0.8) > 1e-7 {
		t.Errorf("clipped to %v, want [0.6 0.8]", g)
	}
	g = []float32{3, 4}
	clipNorm(g, 10)
	if g[0] != 3 || g[1] != 4 {
		t.Errorf("a short gradient changed: %v", g)
	}
}

func TestOptimizerErrors(t *testing.T) {
	for _, o := range []Optimizer{{Name: "lbfgs"}, {Name: "adam", LR: -1}, {Name: "momentum", Momentum: 1.5}, {Name: "adam", Beta2: 1}, {Name: "adamw", WeightDecay: -0.1}} {
		if _, _, err := o.withDefaults(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// TestAdamVectorMatchesScalar checks that the vector kernel and the scalar loop give
// bit-identical results, for lengths that exercise the kernel, the tail and both together.
func TestAdamVectorMatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	k := adamConsts{b1: 0.9, a1: 0.1, b2: 0.999, a2: 0.001, step: 0.01, invSqrtC2: 7.3, eps: 1e-8}
	for _, n := range []int{1, 7, 8, 9, 16, 37, 1000} {
		g := randSlice(rng, n, -2, 2)
		w0, m0, v0 := randSlice(rng, n, -1, 1), randSlice(rng, n, -0.1, 0.1), randSlice(rng, n, 0, 0.01)
		w1, m1, v1 := append([]float32(nil), w0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
		w2, m2, v2 := append([]float32(nil), w0...), append([]float32(nil), m0...), append([]float32(nil), v0...)
		adamScalar(w1, g, m1, v1, &k)
		done := adamVector(w2, g, m2, v2, &k)
		adamScalar(w2[done:], g[done:], m2[done:], v2[done:], &k)
		for i := range w1 {
			if math.Float32bits(w1[i]) != math.Float32bits(w2[i]) || m1[i] != m2[i] || v1[i] != v2[i] {
				t.Fatalf("n=%d, value %d: scalar w=%v m=%v v=%v, vector w=%v m=%v v=%v", n, i, w1[i], m1[i], v1[i], w2[i], m2[i], v2[i])
			}
		}
		if w1[0] == w0[0] {
			t.Fatalf("n=%d: no update", n)
		}
	}
}
