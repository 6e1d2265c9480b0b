package privacy

import (
	"math"
	"testing"
)

// The figures are Opacus's own test oracles (opacus/tests/accountants_test.py).

func TestEpsilonMatchesOpacus(t *testing.T) {
	eps, _ := Epsilon(0.04, 1.5, int(90/0.04), 1e-5)
	if math.Abs(eps-7.32911117143) > 1e-6 {
		t.Errorf("ε = %.11f, Opacus gives 7.32911117143", eps)
	}
}

func TestNoiseMultiplierMatchesOpacus(t *testing.T) {
	for _, c := range []struct {
		steps int
		want  float64
	}{{int(90 / 0.04), 1.416}, {2000, 1.3562}} {
		sigma, err := NoiseMultiplier(8, 1e-5, 0.04, c.steps)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(sigma-c.want) > 5e-5 { // assertAlmostEqual(places=4)
			t.Errorf("%d steps: σ = %.6f, Opacus gives %g", c.steps, sigma, c.want)
		}
		if eps, _ := Epsilon(0.04, sigma, c.steps, 1e-5); eps > 8 || eps < 8-0.01 {
			t.Errorf("%d steps: σ = %g spends ε = %g, want within 0.01 below 8", c.steps, sigma, eps)
		}
	}
}

// TestRDPSpecialCases checks the closed forms: no sampling spends nothing, full batches are the
// Gaussian mechanism's α/(2σ²), and no noise spends everything.
func TestRDPSpecialCases(t *testing.T) {
	if got := RDP(0, 1, 2); got != 0 {
		t.Errorf("q = 0: %g", got)
	}
	if got := RDP(1, 2, 3); got != 3.0/8 {
		t.Errorf("q = 1: %g, want 3/8", got)
	}
	if got := RDP(0.1, 0, 2); !math.IsInf(got, 1) {
		t.Errorf("σ = 0: %g", got)
	}
	// Integer and fractional orders agree where they meet: the bound is continuous in α.
	a, b := RDP(0.01, 1.1, 3), RDP(0.01, 1.1, 3+1e-9)
	if math.Abs(a-b) > 1e-6*a {
		t.Errorf("RDP at 3 = %g, at 3+1e-9 = %g", a, b)
	}
	// More noise, fewer steps or a smaller rate never spend more.
	e1, _ := Epsilon(0.01, 1, 1000, 1e-5)
	e2, _ := Epsilon(0.01, 2, 1000, 1e-5)
	e3, _ := Epsilon(0.01, 1, 100, 1e-5)
	e4, _ := Epsilon(0.001, 1, 1000, 1e-5)
	if !(e2 < e1 && e3 < e1 && e4 < e1) {
		t.Errorf("ε not monotone: %g (base), %g (σ 2), %g (100 steps), %g (q 0.001)", e1, e2, e3, e4)
	}
}

func TestLogErfcAcrossTheSwitch(t *testing.T) {
	for _, x := range []float64{19.999, 20, 25} {
		got := logErfc(x)
		// erfc(x) = e^(−x²)·erfcx(x); compare with the continued fraction's leading terms at 25.
		if x < 25 {
			if want := math.Log(math.Erfc(x)); math.Abs(got-want) > 1e-9*math.Abs(want) {
				t.Errorf("logErfc(%g) = %.15g, want %.15g", x, got, want)
			}
		}
		if math.IsInf(got, 0) || math.IsNaN(got) {
			t.Errorf("logErfc(%g) = %g", x, got)
		}
	}
	if got := logErfc(40); math.IsInf(got, -1) || got > -1600 {
		t.Errorf("logErfc(40) = %g, want about −1604", got)
	}
}

func TestNoiseMultiplierErrors(t *testing.T) {
	if _, err := NoiseMultiplier(0, 1e-5, 0.01, 100); err == nil {
		t.Error("target ε 0 accepted")
	}
	if _, err := NoiseMultiplier(1e-12, 1e-5, 1, 100000); err == nil {
		t.Error("an unreachable budget gave a σ")
	}
}
