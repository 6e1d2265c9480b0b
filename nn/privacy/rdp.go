// Package privacy accounts for the privacy that DP-SGD training spends: a Rényi differential
// privacy (RDP) accountant for the sampled Gaussian mechanism (Mironov, Talwar and Zhang 2019),
// with the orders and the RDP → (ε, δ) conversion of Opacus's RDPAccountant (Balle et al. 2020,
// Theorem 21), so that loom's ε is the figure an Opacus user would quote for the same run.
package privacy

import (
	"errors"
	"fmt"
	"math"
)

// Orders are the Rényi orders α the accountant optimises over: 1.1, 1.2, …, 10.9 and
// 12, 13, …, 63, Opacus's defaults.
var Orders = func() []float64 {
	var o []float64
	for x := 1; x < 100; x++ {
		o = append(o, 1+float64(x)/10)
	}
	for a := 12; a < 64; a++ {
		o = append(o, float64(a))
	}
	return o
}()

// RDP returns the Rényi divergence bound at order alpha of one step of the sampled Gaussian
// mechanism: each example taken with probability q, Gaussian noise of standard deviation sigma
// times the sensitivity. It is +Inf when sigma is 0 and q is not.
func RDP(q, sigma, alpha float64) float64 {
	switch {
	case q == 0:
		return 0
	case sigma == 0 || math.IsInf(alpha, 1):
		return math.Inf(1)
	case q == 1:
		return alpha / (2 * sigma * sigma)
	}
	if alpha == math.Trunc(alpha) {
		return logAInt(q, sigma, int(alpha)) / (alpha - 1)
	}
	return logAFrac(q, sigma, alpha) / (alpha - 1)
}

// logAInt is log A_α for an integer α: the binomial expansion of the mixture's moment
// (Mironov et al. 2019, section 3.3), summed in log space.
func logAInt(q, sigma float64, alpha int) float64 {
	logA := math.Inf(-1)
	for i := 0; i <= alpha; i++ {
		c := lchoose(alpha, i) + float64(i)*math.Log(q) + float64(alpha-i)*math.Log1p(-q)
		logA = logAdd(logA, c+float64(i*i-i)/(2*sigma*sigma))
	}
	return logA
}

// logAFrac is log A_α for a fractional α: two series with erfc tails, summed until their terms
// fall below e⁻³⁰ (Mironov et al. 2019, section 3.3).
func logAFrac(q, sigma, alpha float64) float64 {
	a0, a1 := math.Inf(-1), math.Inf(-1)
	z0 := sigma*sigma*math.Log(1/q-1) + 0.5
	coef := 1.0 // binom(α, i), by the product recurrence
	for i := 0; ; i++ {
		if i > 0 {
			coef *= (alpha - float64(i-1)) / float64(i)
		}
		fi, j := float64(i), alpha-float64(i)
		lc := math.Log(math.Abs(coef))
		t0 := lc + fi*math.Log(q) + j*math.Log1p(-q)
		t1 := lc + j*math.Log(q) + fi*math.Log1p(-q)
		e0 := math.Log(0.5) + logErfc((fi-z0)/(math.Sqrt2*sigma))
		e1 := math.Log(0.5) + logErfc((z0-j)/(math.Sqrt2*sigma))
		s0 := t0 + (fi*fi-fi)/(2*sigma*sigma) + e0
		s1 := t1 + (j*j-j)/(2*sigma*sigma) + e1
		if coef > 0 {
			a0, a1 = logAdd(a0, s0), logAdd(a1, s1)
		} else {
			a0, a1 = logSub(a0, s0), logSub(a1, s1)
		}
		if max(s0, s1) < -30 {
			break
		}
	}
	return logAdd(a0, a1)
}

// lchoose is log C(n, k).
func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// logAdd is log(eˣ + eʸ).
func logAdd(x, y float64) float64 {
	a, b := min(x, y), max(x, y)
	if math.IsInf(a, -1) {
		return b
	}
	return math.Log1p(math.Exp(a-b)) + b
}

// logSub is log(eˣ − eʸ) for x ≥ y; NaN when x < y, which the callers' series never reach.
func logSub(x, y float64) float64 {
	switch {
	case x < y:
		return math.NaN()
	case math.IsInf(y, -1):
		return x
	case x == y:
		return math.Inf(-1)
	}
	if d := math.Expm1(x - y); !math.IsInf(d, 1) {
		return math.Log(d) + y
	}
	return x
}

// logErfc is log erfc(x), accurate where erfc(x) itself underflows: beyond x = 20 it uses the
// asymptotic series erfc(x) ≈ e^(−x²)/(x√π)·(1 − 1/(2x²) + 3/(4x⁴) − …).
func logErfc(x float64) float64 {
	if x < 20 {
		return math.Log(math.Erfc(x))
	}
	inv := 1 / (2 * x * x)
	s, term := 1.0, 1.0
	for k := 1; k < 8; k++ {
		term *= -float64(2*k-1) * inv
		s += term
	}
	return -x*x - math.Log(x*math.Sqrt(math.Pi)) + math.Log(s)
}

// Epsilon returns the ε of (ε, δ)-differential privacy after steps steps of the sampled
// Gaussian mechanism at sampling rate q and noise multiplier sigma, and the order that gives
// it: the smallest over Orders of rdp − (log δ + log α)/(α − 1) + log((α − 1)/α).
func Epsilon(q, sigma float64, steps int, delta float64) (eps, order float64) {
	eps, order = math.Inf(1), math.NaN()
	for _, a := range Orders {
		e := RDP(q, sigma, a)*float64(steps) - (math.Log(delta)+math.Log(a))/(a-1) + math.Log((a-1)/a)
		if e < eps {
			eps, order = e, a
		}
	}
	return eps, order
}

// errBudget is returned when no noise multiplier up to maxSigma reaches the budget.
var errBudget = errors.New("the privacy budget is too small: no noise multiplier up to 1e6 reaches it")

// maxSigma bounds the search for a noise multiplier.
const maxSigma = 1e6

// NoiseMultiplier returns the noise multiplier that spends at most targetEps (with delta)
// over steps steps at sampling rate q: the bisection Opacus's get_noise_multiplier runs
// (doubling from 20, then halving until ε is within 0.01 below the target), so that the same
// budget gives the same σ in both.
func NoiseMultiplier(targetEps, delta, q float64, steps int) (float64, error) {
	if !(targetEps > 0) || !(delta > 0 && delta < 1) || !(q > 0 && q <= 1) || steps < 1 {
		return 0, fmt.Errorf("privacy: want target ε > 0, 0 < δ < 1, 0 < q ≤ 1 and steps ≥ 1, got %g, %g, %g, %d", targetEps, delta, q, steps)
	}
	lo, hi := 0.0, 10.0
	epsHi := math.Inf(1)
	for epsHi > targetEps {
		hi *= 2
		epsHi, _ = Epsilon(q, hi, steps, delta)
		if hi > maxSigma {
			return 0, errBudget
		}
	}
	const tolerance = 0.01
	for targetEps-epsHi > tolerance {
		mid := (lo + hi) / 2
		if e, _ := Epsilon(q, mid, steps, delta); e < targetEps {
			hi, epsHi = mid, e
		} else {
			lo = mid
		}
	}
	return hi, nil
}
