package steps

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
)

// linearData is rows of standardised features and y = 3·x0 + 1·x1 (x2 unused).
func linearData(rows int) ([]float32, []float64) {
	rng := rand.New(rand.NewPCG(5, 5))
	x := make([]float32, rows*3)
	y := make([]float64, rows)
	for i := range rows {
		for j := range 3 {
			x[i*3+j] = float32(rng.NormFloat64())
		}
		y[i] = 3*float64(x[i*3]) + float64(x[i*3+1])
	}
	return x, y
}

// negMSE scores the exact linear model.
func negMSE(y []float64) func([]float32) (float64, error) {
	return func(x []float32) (float64, error) {
		s := 0.0
		for i, t := range y {
			d := 3*float64(x[i*3]) + float64(x[i*3+1]) - t
			s += d * d
		}
		return -s / float64(len(y)), nil
	}
}

func groups3() []featureGroup {
	return []featureGroup{{"x0", []int{0}}, {"x1", []int{1}}, {"x2", []int{2}}}
}

// TestPermutationImportanceOfALinearModel: with MSE on standardised data a feature's importance
// is 2·coef² (permuting x makes the error (coef·(x − x'))², of mean 2·coef²·var(x)).
func TestPermutationImportanceOfALinearModel(t *testing.T) {
	x, y := linearData(4000)
	imp, err := permutationImportance(context.Background(), x, len(y), groups3(), 5, 1, negMSE(y))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"x0": 18, "x1": 2, "x2": 0}
	for _, f := range imp {
		if w := want[f.name]; math.Abs(f.mean-w) > 0.1*math.Max(w, 1) {
			t.Errorf("%s: importance %.3f, want %.1f (rtol 0.1)", f.name, f.mean, w)
		}
	}
	if imp[0].name != "x0" || imp[2].name != "x2" {
		t.Errorf("order %v", imp)
	}
}

func TestPermutationImportanceSeeds(t *testing.T) {
	x, y := linearData(500)
	run := func(seed uint64) []importance {
		imp, err := permutationImportance(context.Background(), x, len(y), groups3(), 3, seed, negMSE(y))
		if err != nil {
			t.Fatal(err)
		}
		return imp
	}
	a, b, c := run(1), run(1), run(2)
	if a[0] != b[0] || a[1] != b[1] {
		t.Errorf("the same seed gave %v and %v", a, b)
	}
	if a[0].mean == c[0].mean {
		t.Errorf("another seed gave the same %v", a[0])
	}
	// A constant model: every importance is 0.
	constant := func([]float32) (float64, error) { return 0.7, nil }
	zero, _ := permutationImportance(context.Background(), x, len(y), groups3(), 3, 1, constant)
	for _, f := range zero {
		if f.mean != 0 || f.std != 0 {
			t.Errorf("constant model: %v", f)
		}
	}
}

func TestFeatureGroups(t *testing.T) {
	g := featureGroups([]string{"age", "city=oslo", "city=rome", "income"})
	if len(g) != 3 || g[1].name != "city" || len(g[1].cols) != 2 || g[2].cols[0] != 3 {
		t.Errorf("groups %+v", g)
	}
}

// TestDumpForScikitLearn writes, when LOOM_PERM_DUMP names a file, a linear problem, the
// permutations loom draws and the importances it finds, for scripts/check_permutation.py to
// compare with scikit-learn's permutation_importance made to use the same permutations.
func TestDumpForScikitLearn(t *testing.T) {
	path := os.Getenv("LOOM_PERM_DUMP")
	if path == "" {
		t.Skip("LOOM_PERM_DUMP is not set")
	}
	x, y := linearData(300)
	const repeats, seed = 4, 3
	imp, err := permutationImportance(context.Background(), x, len(y), groups3(), repeats, seed, negMSE(y))
	if err != nil {
		t.Fatal(err)
	}
	// The same generator, drawn in the same order, gives the same permutations.
	rng := rand.New(rand.NewPCG(seed, 0x6c6f6f6d))
	perms := make([][][]int, 3)
	for g := range perms {
		for range repeats {
			perms[g] = append(perms[g], rng.Perm(len(y)))
		}
	}
	means := map[string]float64{}
	for _, f := range imp {
		means[f.name] = f.mean
	}
	b, _ := json.Marshal(map[string]any{"x": x, "y": y, "perms": perms, "repeats": repeats, "means": means})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func shapFor(t *testing.T, f func(row []float32) float64, width, bgRows int, samples int, seed uint64) *shapExplainer {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	bg := make([]float32, bgRows*width)
	for i := range bg {
		bg[i] = float32(rng.NormFloat64())
	}
	groups := make([]featureGroup, width)
	for i := range groups {
		groups[i] = featureGroup{name: "x" + strconv.Itoa(i), cols: []int{i}}
	}
	predict := func(x []float32, rows int) []float64 {
		out := make([]float64, rows)
		for r := range rows {
			out[r] = f(x[r*width : (r+1)*width])
		}
		return out
	}
	return &shapExplainer{predict: predict, background: bg, bgRows: bgRows, width: width, groups: groups, samples: samples, rng: rand.New(rand.NewPCG(seed, 2))}
}

// TestKernelSHAP: a model that always outputs 0 has zero values; every row's values add up to
// its output minus the expected value (local accuracy), with every coalition and with sampled
// ones; a linear model's values are w·(x − mean of the background), exactly.
func TestKernelSHAP(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(9, 9))
	row := func(width int) []float32 {
		x := make([]float32, width)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	zero := shapFor(t, func([]float32) float64 { return 0 }, 5, 10, 0, 1)
	phi, _, err := zero.explain(ctx, row(5))
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, v := range phi {
		sum += math.Abs(v)
	}
	if sum >= 1e-8 {
		t.Errorf("zero model: Σ|φ| = %g", sum)
	}
	nonlinear := func(x []float32) float64 {
		s := math.Tanh(float64(x[0]*x[1])) + float64(x[2]*x[2])
		for _, v := range x[3:] {
			s += 0.1 * float64(v)
		}
		return s
	}
	for _, width := range []int{6, 14} { // 14 > maxExactFeatures: sampled coalitions
		e := shapFor(t, nonlinear, width, 20, 3000, 2)
		for range 5 {
			x := row(width)
			phi, expected, err := e.explain(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			total := expected
			for _, v := range phi {
				total += v
			}
			if math.Abs(total-nonlinear(x)) > 1e-6 {
				t.Errorf("width %d: Σφ + E = %.9f, the model gives %.9f", width, total, nonlinear(x))
			}
		}
	}
	w := []float64{2, -1, 0.5, 0}
	linear := shapFor(t, func(x []float32) float64 {
		s := 0.0
		for i, v := range x {
			s += w[i] * float64(v)
		}
		return s
	}, 4, 15, 0, 3)
	x := row(4)
	phi, _, _ = linear.explain(ctx, x)
	for i := range w {
		mean := 0.0
		for r := range linear.bgRows {
			mean += float64(linear.background[r*4+i])
		}
		mean /= float64(linear.bgRows)
		if want := w[i] * (float64(x[i]) - mean); math.Abs(phi[i]-want) > 1e-9 {
			t.Errorf("linear φ%d = %.12f, want %.12f", i, phi[i], want)
		}
	}
}
