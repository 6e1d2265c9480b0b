package frame

import (
	"bytes"
	"reflect"
	"testing"
)

// TestManifestExample runs the preprocess steps of MANIFEST.md's example on
// breast_cancer.csv (212 malignant, 357 benign) and checks the counts that
// a stratified 70/10/20 split must give.
func TestManifestExample(t *testing.T) {
	f, err := Read("../../examples/breast-cancer/data/breast_cancer.csv", ReadOptions{Target: "benign"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Classes(), []string{"0", "1"}) || !reflect.DeepEqual(f.ClassCounts(Train), []int{212, 357}) {
		t.Fatalf("classes %v counts %v", f.Classes(), f.ClassCounts(Train))
	}
	apply(t, f,
		DropMissing{},
		Filter{Expr: "mean_radius > 0"},
		Derive{Column: "area_ratio", Expr: "worst_area / mean_area"},
		SplitData{Test: 0.2, Val: 0.1, Stratify: true, Seed: 0},
		Normalize{Method: "zscore"},
	)
	want := map[Split][]int{Train: {149, 250}, Val: {21, 36}, Test: {42, 71}}
	for s, w := range want {
		if got := f.ClassCounts(s); !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %v, want %v", s, got, w)
		}
	}
	X, Y, rows, err := f.Matrix(Train)
	if err != nil {
		t.Fatal(err)
	}
	width := len(f.FeatureNames())
	if width != 31 || rows != 399 || len(X) != rows*width || len(Y) != rows || f.Outputs() != 1 {
		t.Fatalf("width %d rows %d", width, rows)
	}
	// z-scored on the train split: each train column has mean 0.
	for j := range width {
		s := 0.0
		for i := range rows {
			s += float64(X[i*width+j])
		}
		if m := s / float64(rows); m > 1e-5 || m < -1e-5 {
			t.Fatalf("column %s has train mean %v", f.FeatureNames()[j], m)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	g, err := ReadFrame(&buf)
	if err != nil {
		t.Fatal(err)
	}
	X2, _, _, err := g.Matrix(Train)
	if err != nil || !reflect.DeepEqual(X, X2) {
		t.Fatal("the matrix changed across serialisation")
	}
}

// TestNormalizeMatchesSklearn compares with scikit-learn 1.2's
// StandardScaler, RobustScaler and MinMaxScaler fitted on the first 100
// rows of iris and applied to all 150 (values printed by sklearn).
func TestNormalizeMatchesSklearn(t *testing.T) {
	want := map[string][3]float64{
		"zscore": {-0.5810659036233283, 1.5524003776254, 2.692416202625307},
		"robust": {-0.333333333333334, 0.9380530973451325, 1.3636363636363633},
		"minmax": {0.2962962962962963, 1.0, 1.2941176470588234},
	}
	for method, w := range want {
		f, err := Read("../../examples/iris/data/iris.csv", ReadOptions{Target: "species"})
		if err != nil {
			t.Fatal(err)
		}
		for i := 100; i < 150; i++ {
			f.Splits[i] = Test
		}
		apply(t, f, Normalize{Method: method})
		got := [3]float64{nums(f, "sepal_length")[0], nums(f, "petal_length")[149], nums(f, "petal_width")[120]}
		for k := range got {
			if d := got[k] - w[k]; d > 1e-12 || d < -1e-12 {
				t.Errorf("%s: value %d = %v, sklearn %v", method, k, got[k], w[k])
			}
		}
	}
}
