package frame

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// mk parses CSV text into a frame.
func mk(t *testing.T, content, target string) *Frame {
	t.Helper()
	f, err := readCSV("t.csv", []byte(content), ReadOptions{Target: target})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func apply(t *testing.T, f *Frame, steps ...Step) {
	t.Helper()
	for _, s := range steps {
		if err := s.Apply(f); err != nil {
			t.Fatalf("%T: %v", s, err)
		}
	}
}

func nums(f *Frame, name string) []float64 { return f.Column(name).Num }

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 || (math.IsNaN(a) && math.IsNaN(b)) }

func nearAll(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !near(a[i], b[i]) {
			return false
		}
	}
	return true
}

func TestDropMissing(t *testing.T) {
	f := mk(t, "a,b,y\n1,x,0\nNA,x,1\n3,,0\n4,z,1\n", "y")
	apply(t, f, DropMissing{})
	if !reflect.DeepEqual(nums(f, "a"), []float64{1, 4}) || f.Rows() != 2 || len(f.Splits) != 2 {
		t.Fatalf("a = %v", nums(f, "a"))
	}
	// Only the named columns are checked.
	g := mk(t, "a,b,y\n1,x,0\nNA,x,1\n3,,0\n4,z,1\n", "y")
	apply(t, g, DropMissing{Columns: []string{"a"}})
	if !reflect.DeepEqual(nums(g, "a"), []float64{1, 3, 4}) {
		t.Fatalf("drop_missing [a]: a = %v", nums(g, "a"))
	}
	if err := (DropMissing{Columns: []string{"nope"}}).Apply(g); err == nil || !strings.Contains(err.Error(), "unknown column") {
		t.Fatalf("unknown column: %v", err)
	}
}

// withSplits tags rows: 't' Train, 'v' Val, 's' Test.
func withSplits(f *Frame, tags string) *Frame {
	for i, c := range tags {
		f.Splits[i] = map[rune]Split{'t': Train, 'v': Val, 's': Test}[c]
	}
	return f
}

const imputeData = "a,c,y\n1,x,0\n2,x,1\nNA,,0\n6,z,1\n100,w,0\n1000,w,1\n"

func TestImputeFitsOnTrain(t *testing.T) {
	// Rows 5 and 6 are test rows; with them the mean would be 221.8.
	cases := []struct {
		strategy string
		value    any
		fill     float64
		cfill    string
	}{
		{"mean", nil, 3, "x"}, // (1+2+6)/3; categorical falls back to most_frequent
		{"median", nil, 2, "x"},
		{"most_frequent", nil, 1, "x"}, // 1, 2, 6 tie: smallest
		{"constant", -1.5, -1.5, "-1.5"},
	}
	for _, tc := range cases {
		f := withSplits(mk(t, imputeData, "y"), "ttttss")
		apply(t, f, Impute{Strategy: tc.strategy, Value: tc.value})
		if got := nums(f, "a")[2]; got != tc.fill {
			t.Errorf("%s: fill %v, want %v", tc.strategy, got, tc.fill)
		}
		if got := f.Column("c").Str[2]; got != tc.cfill {
			t.Errorf("%s: categorical fill %q, want %q", tc.strategy, got, tc.cfill)
		}
		if len(f.Transforms) != 2 || f.Transforms[0].Op != "impute" {
			t.Errorf("%s: transforms %+v", tc.strategy, f.Transforms)
		}
	}
}

func TestImputeErrors(t *testing.T) {
	f := mk(t, imputeData, "y")
	for _, s := range []Impute{
		{Strategy: "avg"},
		{Strategy: "constant"},
		{Strategy: "mean", Columns: []string{"c"}},
		{Strategy: "mean", Columns: []string{"nope"}},
		{Strategy: "mean", Columns: []string{"y"}},
	} {
		if err := s.Apply(f.Clone()); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
	g := withSplits(mk(t, "a,y\nNA,0\n1,1\n", "y"), "ts")
	if err := (Impute{Strategy: "mean"}).Apply(g); err == nil || !strings.Contains(err.Error(), "every value") {
		t.Errorf("all-missing train: %v", err)
	}
}

func TestFilter(t *testing.T) {
	f := mk(t, "a,od280/od315,name,y\n1,5,x,0\n2,6,y,1\n3,7,x,0\nNA,8,x,1\n", "y")
	apply(t, f, Filter{Expr: `a >= 2 || row["od280/od315"] == 5`})
	if !reflect.DeepEqual(nums(f, "a"), []float64{1, 2, 3}) {
		t.Fatalf("a = %v", nums(f, "a"))
	}
	apply(t, f, Filter{Expr: `name == "x" && row["a"] > 1`})
	if !reflect.DeepEqual(nums(f, "od280/od315"), []float64{7}) {
		t.Fatalf("od = %v", nums(f, "od280/od315"))
	}
}

func TestFilterMissingIsNaN(t *testing.T) {
	f := mk(t, "a,y\n1,0\nNA,1\n3,0\n", "y")
	apply(t, f, Filter{Expr: "a == a"}) // NaN != NaN drops missing rows
	if !reflect.DeepEqual(nums(f, "a"), []float64{1, 3}) {
		t.Fatalf("a = %v", nums(f, "a"))
	}
}

func TestExprErrors(t *testing.T) {
	f := mk(t, "mean_radius,y\n1,0\n2,1\n", "y")
	err := Filter{Expr: "mean_radus > 0"}.Apply(f)
	var ee *ExprError
	if !errors.As(err, &ee) || ee.Line != 1 || ee.Column != 1 || !strings.Contains(ee.Msg, "columns: mean_radius, y") {
		t.Fatalf("unknown name: %#v", err)
	}
	err = Filter{Expr: "mean_radius +\n  > 1"}.Apply(f)
	if !errors.As(err, &ee) || ee.Line != 2 || ee.Column != 3 {
		t.Fatalf("syntax: %#v", err)
	}
	if err := (Filter{Expr: "mean_radius + 1"}).Apply(f); !errors.As(err, &ee) {
		t.Fatalf("non-bool filter: %v", err)
	}
	if err := (Filter{Expr: "  "}).Apply(f); !errors.As(err, &ee) {
		t.Fatalf("empty: %v", err)
	}
	if err := (Derive{Column: "z", Expr: "mean_radius > 1 ? 1 : 'x'"}).Apply(f); !errors.As(err, &ee) || !strings.Contains(ee.Msg, "mixes numbers and strings") {
		t.Fatalf("mixed derive: %v", err)
	}
	if f.Rows() != 2 {
		t.Fatal("a failed filter changed the frame")
	}
}

func TestDerive(t *testing.T) {
	f := mk(t, "worst_area,a b,y\n2,1,0\n9,3,1\n", "y")
	apply(t, f,
		Derive{Column: "ratio", Expr: `worst_area / row["a b"]`},
		Derive{Column: "big", Expr: "worst_area > 5"},
		Derive{Column: "label", Expr: `worst_area > 5 ? "hi" : "lo"`},
		Derive{Column: "worst_area", Expr: "worst_area * 2"},
	)
	if !reflect.DeepEqual(f.Names(), []string{"worst_area", "a b", "ratio", "big", "label", "y"}) {
		t.Fatalf("names %v", f.Names())
	}
	if !reflect.DeepEqual(nums(f, "ratio"), []float64{2, 3}) || !reflect.DeepEqual(nums(f, "big"), []float64{0, 1}) ||
		!reflect.DeepEqual(nums(f, "worst_area"), []float64{4, 18}) {
		t.Fatalf("ratio %v big %v worst %v", nums(f, "ratio"), nums(f, "big"), nums(f, "worst_area"))
	}
	if c := f.Column("label"); c.Kind != Categorical || !reflect.DeepEqual(c.Str, []string{"lo", "hi"}) {
		t.Fatalf("label %+v", c)
	}
	if err := (Derive{Column: "y", Expr: "1"}).Apply(f); err == nil {
		t.Fatal("deriving the target: no error")
	}
}

func TestSelectDrop(t *testing.T) {
	f := mk(t, "a,b,c,y\n1,2,3,0\n4,5,6,1\n", "y")
	apply(t, f, Select{Columns: []string{"c", "a"}})
	if !reflect.DeepEqual(f.Names(), []string{"a", "c", "y"}) {
		t.Fatalf("select: %v", f.Names())
	}
	apply(t, f, Drop{Columns: []string{"a"}})
	if !reflect.DeepEqual(f.Names(), []string{"c", "y"}) {
		t.Fatalf("drop: %v", f.Names())
	}
	for _, s := range []Step{Select{}, Select{Columns: []string{"q"}}, Drop{Columns: []string{"y"}}, Drop{Columns: []string{"q"}}} {
		if err := s.Apply(f); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
}

func TestOutliers(t *testing.T) {
	// Train a: 1..9 and 100; IQR: Q1 3.25, Q3 7.75, IQR 4.5, fences -3.5 and 14.5.
	data := "a,y\n1,0\n2,1\n3,0\n4,1\n5,0\n6,1\n7,0\n8,1\n9,0\n100,1\n100,0\n"
	f := withSplits(mk(t, data, "y"), "ttttttttttv")
	apply(t, f, Outliers{Method: "iqr"})
	if f.Rows() != 10 || nums(f, "a")[9] != 100 || f.Splits[9] != Val {
		t.Fatalf("iqr kept %v", nums(f, "a"))
	}
	// zscore: mean 14.5, std sqrt(818.25) = 28.605, so z(100) = 2.989: threshold 2 removes it.
	f = withSplits(mk(t, data, "y"), "ttttttttttv")
	apply(t, f, Outliers{Method: "zscore", Threshold: 2})
	if f.Rows() != 10 {
		t.Fatalf("zscore kept %v", nums(f, "a"))
	}
	f = withSplits(mk(t, data, "y"), "ttttttttttv")
	apply(t, f, Outliers{}) // default zscore 3 keeps it
	if f.Rows() != 11 {
		t.Fatalf("zscore 3 kept %v", nums(f, "a"))
	}
	if err := (Outliers{Method: "mad"}).Apply(f); err == nil {
		t.Fatal("unknown method: no error")
	}
}

func TestEncode(t *testing.T) {
	data := "color,n,y\nred,1,0\nblue,2,1\n,3,0\ngreen,4,1\n"
	f := withSplits(mk(t, data, "y"), "ttts") // green only in test
	apply(t, f, Encode{Method: "onehot"})
	if !reflect.DeepEqual(f.Names(), []string{"color=blue", "color=red", "n", "y"}) {
		t.Fatalf("names %v", f.Names())
	}
	if !nearAll(nums(f, "color=red"), []float64{1, 0, math.NaN(), 0}) || !nearAll(nums(f, "color=blue"), []float64{0, 1, math.NaN(), 0}) {
		t.Fatalf("red %v blue %v", nums(f, "color=red"), nums(f, "color=blue"))
	}
	g := withSplits(mk(t, data, "y"), "ttts")
	apply(t, g, Encode{Method: "ordinal", Columns: []string{"color"}})
	if !nearAll(nums(g, "color"), []float64{1, 0, math.NaN(), math.NaN()}) {
		t.Fatalf("ordinal %v", nums(g, "color"))
	}
	if err := (Encode{Method: "hash"}).Apply(g); err == nil {
		t.Fatal("unknown method: no error")
	}
}

func TestNormalize(t *testing.T) {
	// Train a = 1,2,3,4 (test row 100 must not move the statistics).
	data := "a,y\n1,0\n2,1\n3,0\n4,1\n100,0\n"
	zs := math.Sqrt(1.25)
	cases := map[string][]float64{
		"zscore": {-1.5 / zs, -0.5 / zs, 0.5 / zs, 1.5 / zs, 97.5 / zs},
		"minmax": {0, 1.0 / 3, 2.0 / 3, 1, 33},
		"robust": {-1.5 / 1.5, -0.5 / 1.5, 0.5 / 1.5, 1.5 / 1.5, 97.5 / 1.5}, // median 2.5, IQR 3.25-1.75
	}
	for method, want := range cases {
		f := withSplits(mk(t, data, "y"), "tttts")
		apply(t, f, Normalize{Method: method})
		if got := nums(f, "a"); !nearAll(got, want) {
			t.Errorf("%s: %v, want %v", method, got, want)
		}
		if !reflect.DeepEqual(nums(f, "y"), []float64{0, 1, 0, 1, 0}) {
			t.Errorf("%s touched the target", method)
		}
	}
	f := mk(t, "a,b,y\n1,x,0\n1,y,1\n", "y")
	apply(t, f, Normalize{Method: "zscore"}) // constant column: scale 1
	if !reflect.DeepEqual(nums(f, "a"), []float64{0, 0}) {
		t.Fatalf("constant column %v", nums(f, "a"))
	}
	if err := (Normalize{Method: "zscore", Columns: []string{"b"}}).Apply(f); err == nil {
		t.Fatal("categorical column: no error")
	}
	if err := (Normalize{Method: "l2"}).Apply(f); err == nil {
		t.Fatal("unknown method: no error")
	}
}

func classFrame(t *testing.T, counts ...int) *Frame {
	t.Helper()
	var b strings.Builder
	b.WriteString("x,y\n")
	i := 0
	for k, n := range counts {
		for range n {
			b.WriteString(formatNumber(float64(i)) + ",c" + formatNumber(float64(k)) + "\n")
			i++
		}
	}
	return mk(t, b.String(), "y")
}

func TestSplitStratified(t *testing.T) {
	f := classFrame(t, 100, 50, 30)
	apply(t, f, SplitData{Test: 0.2, Val: 0.1, Stratify: true, Seed: 7})
	want := map[Split][]int{Train: {70, 35, 21}, Val: {10, 5, 3}, Test: {20, 10, 6}}
	for s, w := range want {
		if got := f.ClassCounts(s); !reflect.DeepEqual(got, w) {
			t.Errorf("%s counts %v, want %v", s, got, w)
		}
	}
	g := classFrame(t, 100, 50, 30)
	apply(t, g, SplitData{Test: 0.2, Val: 0.1, Stratify: true, Seed: 7})
	if !reflect.DeepEqual(f.Splits, g.Splits) {
		t.Fatal("same seed gave different splits")
	}
	apply(t, g, SplitData{Test: 0.2, Val: 0.1, Stratify: true, Seed: 8})
	if reflect.DeepEqual(f.Splits, g.Splits) {
		t.Fatal("another seed gave the same split")
	}
}

func TestSplitPlain(t *testing.T) {
	f := classFrame(t, 90, 10)
	apply(t, f, SplitData{Test: 0.25, Seed: 1})
	if f.Count(Test) != 25 || f.Count(Val) != 0 || f.Count(Train) != 75 {
		t.Fatalf("counts %d %d %d", f.Count(Train), f.Count(Val), f.Count(Test))
	}
	for _, s := range []SplitData{{Test: 0.6, Val: 0.4}, {Test: -0.1}, {Test: 1}} {
		if err := s.Apply(f); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
	r := mk(t, "x,y\n1,0.5\n2,1.5\n", "y")
	if err := (SplitData{Test: 0.5, Stratify: true}).Apply(r); err == nil {
		t.Fatal("stratified regression: no error")
	}
}

func TestAugment(t *testing.T) {
	f := withSplits(classFrame(t, 6, 2, 2), "tttttsttvt")
	apply(t, f, Augment{Oversample: "not_majority", Seed: 3})
	if got := f.ClassCounts(Train); !reflect.DeepEqual(got, []int{5, 5, 5}) {
		t.Fatalf("not_majority counts %v", got)
	}
	if f.Count(Val) != 1 || f.Count(Test) != 1 {
		t.Fatal("augment touched val or test")
	}
	g := withSplits(classFrame(t, 6, 2, 2), "ttttttttts")
	apply(t, g, Augment{Oversample: "minority", Seed: 3})
	if got := g.ClassCounts(Train); !reflect.DeepEqual(got, []int{6, 2, 6}) {
		t.Fatalf("minority counts %v", got)
	}
	h := withSplits(classFrame(t, 3, 2), "tttts")
	apply(t, h, Augment{NoiseStd: 0.1, Copies: 2, Seed: 1})
	if h.Rows() != 13 || h.Count(Train) != 12 {
		t.Fatalf("noise copies: rows %d train %d", h.Rows(), h.Count(Train))
	}
	x := nums(h, "x")
	for i := 5; i < 13; i++ {
		if d := x[i] - x[(i-5)%4]; d == 0 || math.Abs(d) > 1 {
			t.Fatalf("copy %d: x %v vs source %v", i, x[i], x[(i-5)%4])
		}
	}
	if err := (Augment{Oversample: "majority"}).Apply(h); err == nil {
		t.Fatal("unknown oversample: no error")
	}
}

func TestReplayMatchesFit(t *testing.T) {
	data := "a,c,y\n1,x,0\nNA,y,1\n3,x,0\n8,y,1\n"
	f := mk(t, data, "y")
	apply(t, f,
		Impute{Strategy: "median"},
		Derive{Column: "d", Expr: "a * 2"},
		Encode{},
		Normalize{Method: "minmax"},
		Drop{Columns: []string{"c=x"}},
	)
	g := mk(t, data, "y")
	if err := Replay(g, f.Transforms); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Names(), g.Names()) {
		t.Fatalf("names %v vs %v", f.Names(), g.Names())
	}
	for _, c := range f.Columns {
		if !nearAll(c.Num, g.Column(c.Name).Num) {
			t.Fatalf("%s: %v vs %v", c.Name, c.Num, g.Column(c.Name).Num)
		}
	}
	if !reflect.DeepEqual(nums(f, "a"), []float64{0, 2.0 / 7, 2.0 / 7, 1}) {
		t.Fatalf("a %v", nums(f, "a"))
	}
}

func TestDeriveDivisionByZeroIsMissing(t *testing.T) {
	f := mk(t, "a,b,y\n1,0,0\n4,2,1\n", "y")
	apply(t, f, Derive{Column: "r", Expr: "a / b"})
	if !nearAll(nums(f, "r"), []float64{math.NaN(), 2}) {
		t.Fatalf("r = %v", nums(f, "r"))
	}
}

func TestReplayWithoutTarget(t *testing.T) {
	f := mk(t, "a,y\n1,0\n3,1\n", "y")
	apply(t, f, Derive{Column: "d", Expr: "a + 1"}, Normalize{Method: "minmax"})
	g := &Frame{Columns: []*Column{{Name: "a", Kind: Numeric, Num: []float64{2}}}, Splits: []Split{Train}}
	if err := Replay(g, f.Transforms); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Names(), []string{"a", "d"}) || !nearAll(nums(g, "a"), []float64{0.5}) || !nearAll(nums(g, "d"), []float64{0.5}) {
		t.Fatalf("names %v a %v d %v", g.Names(), nums(g, "a"), nums(g, "d"))
	}
	if err := Replay(g, []Transform{{Op: "normalize", Column: "zz", Scale: 1}}); err == nil {
		t.Fatal("unknown column: no error")
	}
}

// TestWideFrameIsLinear normalizes 100,000 columns of 10 rows: looking a column up by name
// was a scan, which made this take minutes.
func TestWideFrameIsLinear(t *testing.T) {
	const width = 100_000
	var b strings.Builder
	for j := range width {
		fmt.Fprintf(&b, "c%d,", j)
	}
	b.WriteString("y\n")
	for i := range 10 {
		for j := range width {
			fmt.Fprintf(&b, "%d,", (i*7+j)%13)
		}
		fmt.Fprintf(&b, "%d\n", i%2)
	}
	f := mk(t, b.String(), "y")
	start := time.Now()
	apply(t, f, Normalize{Method: "zscore"}, Impute{Strategy: "mean"}, Drop{Columns: []string{"c5", "c99999"}})
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("three steps over %d columns took %v", width, d)
	}
	if len(f.Columns) != width-1 || f.Column("c99998") == nil || f.Column("c5") != nil {
		t.Fatalf("%d columns after dropping two", len(f.Columns))
	}
}
