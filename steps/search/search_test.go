package search

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

func mustSpace(t testing.TB, dims ...Dim) Space {
	t.Helper()
	s, err := NewSpace(dims)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestGridCoversExactlyTheProduct(t *testing.T) {
	s := mustSpace(t,
		Dim{Path: "params.hidden", Dist: Choice, Choices: []any{[]any{8}, []any{16, 8}, []any{32, 16}}},
		Dim{Path: "params.train.lr", Dist: Choice, Choices: []any{0.1, 0.01}},
		Dim{Path: "params.train.epochs", Dist: Int, Lo: 3, Hi: 6},
	)
	pts, err := s.Grid()
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 3*2*4 {
		t.Fatalf("%d points, want 24", len(pts))
	}
	seen := map[string]bool{}
	for _, p := range pts {
		k := fmt.Sprint(s.Params(p))
		if seen[k] {
			t.Fatalf("point %s twice", k)
		}
		seen[k] = true
	}
	for _, h := range s[0].Choices {
		for _, lr := range s[2].Choices {
			for e := 3; e <= 6; e++ {
				want := map[string]any{"params.hidden": h, "params.train.lr": lr, "params.train.epochs": e}
				if !seen[fmt.Sprint(want)] {
					t.Errorf("grid misses %v", want)
				}
			}
		}
	}
}

func TestGridRejectsContinuousRanges(t *testing.T) {
	s := mustSpace(t, Dim{Path: "lr", Dist: LogUniform, Lo: 1e-4, Hi: 1e-1})
	if _, err := s.Grid(); err == nil || !strings.Contains(err.Error(), "lr") {
		t.Fatalf("err = %v, want one naming lr", err)
	}
}

func TestSpaceChecks(t *testing.T) {
	for _, d := range []Dim{
		{Path: "a", Dist: Choice},
		{Path: "a", Dist: LogUniform, Lo: 0, Hi: 1},
		{Path: "a", Dist: Uniform, Lo: 2, Hi: 1},
		{Path: "a", Dist: Int, Lo: 1.5, Hi: 3},
	} {
		if _, err := NewSpace([]Dim{d}); err == nil {
			t.Errorf("%+v: no error", d)
		}
	}
}

func mixedSpace(t testing.TB) Space {
	return mustSpace(t,
		Dim{Path: "c", Dist: Choice, Choices: []any{"a", "b", "c"}},
		Dim{Path: "u", Dist: Uniform, Lo: -1, Hi: 2},
		Dim{Path: "l", Dist: LogUniform, Lo: 1e-4, Hi: 1},
		Dim{Path: "i", Dist: Int, Lo: 2, Hi: 9},
	)
}

// run feeds sampler n points of f and returns them with the best loss.
func run(s Sampler, f func([]float64) float64, n int) ([][]float64, float64) {
	var hist []Observation
	var pts [][]float64
	best := math.Inf(1)
	for range n {
		p := s.Next(hist)
		loss := f(p)
		hist = append(hist, Observation{p, loss})
		pts = append(pts, p)
		best = math.Min(best, loss)
	}
	return pts, best
}

// bowl is a synthetic objective with its minimum at c=b, u=0.7, l=0.003, i=6.
func bowl(p []float64) float64 {
	d := math.Log10(p[2]) - math.Log10(0.003)
	loss := (p[3]-0.7)*(p[3]-0.7) + d*d/4 + (p[1]-6)*(p[1]-6)/16
	if p[0] != 1 {
		loss += 0.5
	}
	return loss
}

func TestSamplersStayInSpaceAndAreReproducible(t *testing.T) {
	s := mixedSpace(t)
	for name, mk := range map[string]func(uint64) Sampler{
		"random": func(seed uint64) Sampler { return NewRandom(s, seed) },
		"tpe":    func(seed uint64) Sampler { return NewTPE(s, seed) },
	} {
		a, _ := run(mk(7), bowl, 40)
		b, _ := run(mk(7), bowl, 40)
		c, _ := run(mk(8), bowl, 40)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: the same seed gave different points", name)
		}
		if reflect.DeepEqual(a, c) {
			t.Errorf("%s: seeds 7 and 8 gave the same points", name)
		}
		for _, p := range a {
			for i, d := range s {
				x := p[i]
				if d.Dist == Choice && (x != math.Trunc(x) || x < 0 || int(x) >= len(d.Choices)) ||
					d.Dist != Choice && (x < d.Lo || x > d.Hi) || d.Dist == Int && x != math.Trunc(x) {
					t.Fatalf("%s: %s = %v is outside the space", name, d.Path, x)
				}
			}
		}
	}
}

func TestTPEBeatsRandom(t *testing.T) {
	s := mixedSpace(t)
	const seeds, n = 20, 60
	var rnd, tpe float64
	for seed := range uint64(seeds) {
		_, r := run(NewRandom(s, seed), bowl, n)
		_, p := run(NewTPE(s, seed), bowl, n)
		rnd += r / seeds
		tpe += p / seeds
	}
	t.Logf("mean best loss over %d seeds, %d trials: random %.4f, tpe %.4f", seeds, n, rnd, tpe)
	if !(tpe < 0.7*rnd) {
		t.Fatalf("tpe %.4f is not clearly better than random %.4f", tpe, rnd)
	}
}

func TestTPEParzenIsADensity(t *testing.T) {
	tp := NewTPE(mixedSpace(t), 1)
	obs := []Observation{{Point: []float64{0, 0.1, 0.01, 3}}, {Point: []float64{0, 1.5, 0.2, 8}}}
	m := tp.parzen(1, tp.space[1], obs, -1, 2)
	const steps = 20000
	var mass float64
	for k := range steps {
		x := -1 + (float64(k)+0.5)*3/steps
		mass += math.Exp(m.logPDF(x)) * 3 / steps
	}
	if math.Abs(mass-1) > 1e-6 {
		t.Fatalf("the density integrates to %v", mass)
	}
}

func TestASHARungs(t *testing.T) {
	a, err := NewASHA(5, 100, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{5, 15, 45, 100}; !reflect.DeepEqual(a.Rungs, want) {
		t.Fatalf("rungs %v, want %v", a.Rungs, want)
	}
	if _, err := NewASHA(5, 4, 3); err == nil {
		t.Fatal("min > max accepted")
	}
}

func TestASHAPromotesTheTopThird(t *testing.T) {
	a, _ := NewASHA(1, 9, 3)
	losses := []float64{0.9, 0.2, 0.5, 0.1, 0.8, 0.7, 0.3, math.Inf(1), 0.6}
	for i, l := range losses[:2] {
		a.Report(i, 0, l)
	}
	if _, _, ok := a.Promote(); ok {
		t.Fatal("promoted with 2 results and eta 3")
	}
	for i, l := range losses[2:] {
		a.Report(i+2, 0, l)
	}
	// 9 results: the top 3 (trials 3, 1, 6) go on, best first, and nobody else.
	var got []int
	for {
		tr, rung, ok := a.Promote()
		if !ok {
			break
		}
		if rung != 1 {
			t.Fatalf("promoted to rung %d", rung)
		}
		got = append(got, tr)
	}
	if want := []int{3, 1, 6}; !reflect.DeepEqual(got, want) {
		t.Fatalf("promoted %v, want %v", got, want)
	}
	a.Report(3, 1, 0.05)
	a.Report(1, 1, 0.15)
	a.Report(6, 1, 0.01)
	if tr, rung, ok := a.Promote(); !ok || tr != 6 || rung != 2 {
		t.Fatalf("promote = %d, %d, %v; want trial 6 to rung 2", tr, rung, ok)
	}
	if _, _, ok := a.Promote(); ok {
		t.Fatal("promoted a second trial out of a rung of three")
	}
}
