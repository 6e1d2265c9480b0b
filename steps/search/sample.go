package search

import (
	"math"
	"math/rand/v2"
	"sort"
)

// An Observation is a finished trial as a sampler sees it: its point and its loss (lower is
// better; +Inf for a failed trial).
type Observation struct {
	Point []float64
	Loss  float64
}

// A Sampler proposes the next point to try given the trials observed so far. The sequence of
// points depends only on the seed and the observations passed in, so a sweep is reproducible.
type Sampler interface {
	Next(history []Observation) []float64
}

// newRand returns the generator of a seed. PCG's output is specified, so the same seed gives
// the same points with any Go version.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x6c6f6f6d74756e65)) }

// Random samples every dimension independently and uniformly (log-uniformly for LogUniform).
type Random struct {
	space Space
	rng   *rand.Rand
}

// NewRandom returns a random sampler of space seeded with seed.
func NewRandom(space Space, seed uint64) *Random {
	return &Random{space: space, rng: newRand(seed)}
}

// Next implements Sampler; it ignores the history.
func (r *Random) Next([]Observation) []float64 { return samplePrior(r.space, r.rng) }

func samplePrior(s Space, rng *rand.Rand) []float64 {
	p := make([]float64, len(s))
	for i, d := range s {
		switch d.Dist {
		case Choice:
			p[i] = float64(rng.IntN(len(d.Choices)))
		case Uniform:
			p[i] = d.Lo + rng.Float64()*(d.Hi-d.Lo)
		case LogUniform:
			lo, hi := math.Log(d.Lo), math.Log(d.Hi)
			p[i] = math.Exp(lo + rng.Float64()*(hi-lo))
		case Int:
			p[i] = d.Lo + float64(rng.IntN(d.Size()))
		}
	}
	return p
}

// TPE is the tree-structured Parzen estimator of Bergstra et al. (2011) with Optuna's default
// settings: Startup random trials, then the observations are split at the quantile Gamma into
// good (below) and bad (above); each dimension gets a Parzen density l(x) from the good and
// g(x) from the bad trials (each with a flat prior component), Candidates points are drawn
// from l and the one with the largest l(x)/g(x) is proposed. Dimensions are independent.
type TPE struct {
	Startup     int     // random trials before modelling (Optuna: 10)
	Candidates  int     // draws from l(x) per dimension (Optuna: 24)
	PriorWeight float64 // weight of the prior component (Optuna: 1)

	space Space
	rng   *rand.Rand
}

// NewTPE returns a TPE sampler of space seeded with seed, with Optuna's defaults.
func NewTPE(space Space, seed uint64) *TPE {
	return &TPE{Startup: 10, Candidates: 24, PriorWeight: 1, space: space, rng: newRand(seed)}
}

// Gamma is the number of good trials among n: Optuna's default min(ceil(0.1 n), 25).
func Gamma(n int) int { return min(int(math.Ceil(0.1*float64(n))), 25) }

// Next implements Sampler.
func (t *TPE) Next(history []Observation) []float64 {
	if len(history) < t.Startup || len(history) < 2 {
		return samplePrior(t.space, t.rng)
	}
	below, above := split(history)
	p := make([]float64, len(t.space))
	for i, d := range t.space {
		if d.Dist == Choice {
			p[i] = t.nextChoice(i, d, below, above)
		} else {
			p[i] = t.nextNumeric(i, d, below, above)
		}
	}
	return p
}

// split sorts the observations by loss (ties by order) and returns the good and bad ones.
func split(history []Observation) (below, above []Observation) {
	order := make([]int, len(history))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return history[order[a]].Loss < history[order[b]].Loss })
	n := max(1, Gamma(len(history)))
	for k, i := range order {
		if k < n && !math.IsInf(history[i].Loss, 1) && !math.IsNaN(history[i].Loss) {
			below = append(below, history[i])
		} else {
			above = append(above, history[i])
		}
	}
	return below, above
}

// nextChoice picks a choice index by the ratio of smoothed category frequencies.
func (t *TPE) nextChoice(i int, d Dim, below, above []Observation) float64 {
	k := len(d.Choices)
	l, g := t.categorical(i, k, below), t.categorical(i, k, above)
	best, bestScore := 0, math.Inf(-1)
	for range t.Candidates {
		c := pickWeighted(t.rng, l)
		if s := math.Log(l[c]) - math.Log(g[c]); s > bestScore {
			best, bestScore = c, s
		}
	}
	return float64(best)
}

// categorical returns the probabilities of k categories: the prior weight spread evenly plus
// one per observation.
func (t *TPE) categorical(i, k int, obs []Observation) []float64 {
	w := make([]float64, k)
	for c := range w {
		w[c] = t.PriorWeight / float64(k)
	}
	for _, o := range obs {
		w[int(o.Point[i])]++
	}
	total := t.PriorWeight + float64(len(obs))
	for c := range w {
		w[c] /= total
	}
	return w
}

func pickWeighted(rng *rand.Rand, w []float64) int {
	u := rng.Float64()
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// nextNumeric proposes a value of a numeric dimension, modelled in log space for LogUniform
// and on [lo-0.5, hi+0.5] for Int.
func (t *TPE) nextNumeric(i int, d Dim, below, above []Observation) float64 {
	lo, hi := d.Lo, d.Hi
	switch d.Dist {
	case LogUniform:
		lo, hi = math.Log(lo), math.Log(hi)
	case Int:
		lo, hi = lo-0.5, hi+0.5
	}
	l := t.parzen(i, d, below, lo, hi)
	g := t.parzen(i, d, above, lo, hi)
	best, bestScore := 0.0, math.Inf(-1)
	for range t.Candidates {
		x := l.sample(t.rng)
		if s := l.logPDF(x) - g.logPDF(x); s > bestScore {
			best, bestScore = x, s
		}
	}
	switch d.Dist {
	case LogUniform:
		return math.Min(d.Hi, math.Max(d.Lo, math.Exp(best)))
	case Int:
		return math.Min(d.Hi, math.Max(d.Lo, math.Round(best)))
	}
	return best
}

// mixture is a mixture of normals truncated to [lo, hi].
type mixture struct {
	w, mu, sigma []float64
	coef         []float64 // w / (σ √(2π) · the mass of the normal inside [lo, hi])
	lo, hi       float64
}

// parzen builds the density of the observations' values of dimension i: a normal per
// observation plus a prior one at the middle of the range as wide as the range. Each width is
// the larger gap to a neighbour, clipped to [range/min(100, n+1), range] as Optuna does.
func (t *TPE) parzen(i int, d Dim, obs []Observation, lo, hi float64) *mixture {
	n := len(obs)
	type comp struct {
		mu, w float64
		prior bool
	}
	comps := make([]comp, 0, n+1)
	for _, o := range obs {
		x := o.Point[i]
		if d.Dist == LogUniform {
			x = math.Log(x)
		}
		comps = append(comps, comp{mu: x, w: 1})
	}
	prior := (lo + hi) / 2
	comps = append(comps, comp{mu: prior, w: t.PriorWeight, prior: true})
	sort.SliceStable(comps, func(a, b int) bool { return comps[a].mu < comps[b].mu })
	span := hi - lo
	minSigma := span / math.Min(100, float64(n+1))
	m := &mixture{lo: lo, hi: hi}
	var total float64
	for k, c := range comps {
		left, right := lo, hi
		if k > 0 {
			left = comps[k-1].mu
		}
		if k+1 < len(comps) {
			right = comps[k+1].mu
		}
		s := math.Max(c.mu-left, right-c.mu)
		s = math.Min(span, math.Max(minSigma, s))
		if c.prior {
			s = span
		}
		m.w, m.mu, m.sigma = append(m.w, c.w), append(m.mu, c.mu), append(m.sigma, s)
		total += c.w
	}
	m.coef = make([]float64, len(m.w))
	for k := range m.w {
		m.w[k] /= total
		mass := normCDF((hi-m.mu[k])/m.sigma[k]) - normCDF((lo-m.mu[k])/m.sigma[k])
		m.coef[k] = m.w[k] / (m.sigma[k] * math.Sqrt(2*math.Pi) * mass)
	}
	return m
}

// sample draws from the mixture, by rejection inside [lo, hi].
func (m *mixture) sample(rng *rand.Rand) float64 {
	k := pickWeighted(rng, m.w)
	for range 100 {
		if x := m.mu[k] + m.sigma[k]*rng.NormFloat64(); x >= m.lo && x <= m.hi {
			return x
		}
	}
	return m.lo + rng.Float64()*(m.hi-m.lo)
}

// logPDF is the log density of the truncated mixture at x.
func (m *mixture) logPDF(x float64) float64 {
	var p float64
	for k, c := range m.coef {
		z := (x - m.mu[k]) / m.sigma[k]
		p += c * math.Exp(-z*z/2)
	}
	return math.Log(p)
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
