package steps

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
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
