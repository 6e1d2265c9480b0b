package frame

import (
	"bytes"
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestExprErrorFormat(t *testing.T) {
	e := &ExprError{Expr: "a >", Line: 1, Column: 4, Msg: "unexpected end"}
	if got, want := e.Error(), `expression "a >" (1:4): unexpected end`; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	e = &ExprError{Expr: "x", Msg: "row 3: boom"}
	if got, want := e.Error(), `expression "x": row 3: boom`; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if de := (&DataError{Err: errors.New("x")}); !errors.Is(de, de.Err) || de.Error() != "x" {
		t.Fatalf("DataError unwrap/format: %q", de.Error())
	}
}

func TestExprRuntimeError(t *testing.T) {
	f := mk(t, "c,y\nx,0\nz,1\n", "y")
	err := Filter{Expr: `row["c"] > 1`}.Apply(f)
	var ee *ExprError
	if !errors.As(err, &ee) || !strings.Contains(ee.Msg, "row 1") {
		t.Fatalf("runtime error: %v", err)
	}
}

func TestParseSplit(t *testing.T) {
	for in, want := range map[string]Split{"train": Train, "val": Val, "validation": Val, "TEST": Test} {
		if got, err := ParseSplit(in); err != nil || got != want || (in != "validation" && got.String() != strings.ToLower(in)) {
			t.Errorf("ParseSplit(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseSplit("holdout"); err == nil {
		t.Error("ParseSplit(holdout): no error")
	}
}

func TestCloneIsDeep(t *testing.T) {
	f := mk(t, "a,c,y\n1,x,0\nNA,z,1\n", "y")
	apply(t, f, Impute{Strategy: "mean"}, Encode{})
	g := f.Clone()
	apply(t, g, Normalize{Method: "minmax"}, SplitData{Test: 0.5, Seed: 1})
	g.Transforms[0].Levels = append(g.Transforms[0].Levels, "q")
	if f.Column("a").Num[0] != 1 || f.Count(Train) != 2 || len(f.Transforms) != 2 || len(f.Transforms[0].Levels) != 0 {
		t.Fatalf("changing the clone changed the frame: %+v", f)
	}
}

func TestGenerateLinearMultiClass(t *testing.T) {
	f, err := Generate(GenOptions{Kind: "linear", N: 300, Features: 4, Classes: 3, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Classes(), []string{"0", "1", "2"}) || f.Outputs() != 3 {
		t.Fatalf("classes %v", f.Classes())
	}
	for k, n := range f.ClassCounts(Train) {
		if n < 30 {
			t.Fatalf("class %d has only %d rows", k, n)
		}
	}
}

func TestKeywordColumnThroughRow(t *testing.T) {
	f := mk(t, "in,max,y\n1,1,0\n5,5,1\n", "y")
	if err := (Filter{Expr: "in > 2"}).Apply(f.Clone()); err == nil {
		t.Fatal("a keyword as a variable compiled")
	}
	apply(t, f, Filter{Expr: `row["in"] > 2 && max > 2`})
	if f.Rows() != 1 {
		t.Fatalf("rows %d", f.Rows())
	}
}

func TestNew(t *testing.T) {
	f, err := New([]*Column{
		{Name: "a", Kind: Numeric, Num: []float64{1, 2, 3}},
		{Name: "t", Kind: Categorical, Str: []string{"b", "a", "b"}},
	}, "t", "")
	if err != nil || f.Rows() != 3 || f.Task != Classification || !reflect.DeepEqual(f.Classes(), []string{"a", "b"}) {
		t.Fatalf("New: %+v %v", f, err)
	}
	bad := [][]*Column{
		nil,
		{{Name: "a", Num: []float64{1}}, {Name: "a", Num: []float64{1}}},
		{{Name: "a", Num: []float64{1, 2}}, {Name: "t", Num: []float64{1}}},
		{{Name: "a", Num: []float64{1, 2}}, {Name: "t", Num: []float64{1, 1}}}, // one class
		{{Name: "a", Num: []float64{1, 2}}},                                    // no target column
	}
	for i, cols := range bad {
		if _, err := New(cols, "t", ""); err == nil {
			t.Errorf("case %d: no error", i)
		}
	}
}

// A row lookup with a computed key must still see every column.
func TestRowDynamicKey(t *testing.T) {
	f := mk(t, "k,a,b,y\na,1,5,0\nb,1,5,1\na,3,0,0\n", "y")
	apply(t, f, Filter{Expr: `row["a"] > 0 && row[k] > 2`})
	if !reflect.DeepEqual(f.Column("k").Str, []string{"b", "a"}) {
		t.Fatalf("k = %v", f.Column("k").Str)
	}
}

// TestReadFrameOfSplits: reading some splits keeps exactly their rows, in order, with their
// sources; a categorical feature brings the train rows along; the header alone has no rows.
func TestReadFrameOfSplits(t *testing.T) {
	f, err := Generate(GenOptions{Kind: "blobs", N: 50, Features: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := (SplitData{Test: 0.3, Val: 0.2, Seed: 2}).Apply(f); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	f.WriteTo(&buf)
	test, err := ReadFrameOf(bytes.NewReader(buf.Bytes()), Test)
	if err != nil {
		t.Fatal(err)
	}
	if test.Rows() != f.Count(Test) || test.Count(Test) != test.Rows() {
		t.Fatalf("%d rows, want the %d test rows", test.Rows(), f.Count(Test))
	}
	j := 0
	for i := range f.Rows() {
		if f.Splits[i] != Test {
			continue
		}
		if test.Source[j] != f.Source[i] || test.Columns[1].Num[j] != f.Columns[1].Num[i] {
			t.Fatalf("test row %d differs from row %d", j, i)
		}
		j++
	}
	h, err := ReadFrameHeader(bytes.NewReader(buf.Bytes()))
	if err != nil || h.Rows() != 0 || len(h.Columns) != len(f.Columns) || !h.AllNumeric() || h.Outputs() != f.Outputs() {
		t.Errorf("header: %v, %d rows, %d columns", err, h.Rows(), len(h.Columns))
	}
	f.Columns[0] = &Column{Name: f.Columns[0].Name, Kind: Categorical, Str: make([]string, f.Rows())}
	buf.Reset()
	f.WriteTo(&buf)
	test, _ = ReadFrameOf(bytes.NewReader(buf.Bytes()), Test)
	if test.Count(Train) != f.Count(Train) || test.Count(Val) != 0 {
		t.Errorf("with a categorical feature: train %d val %d, want %d and 0", test.Count(Train), test.Count(Val), f.Count(Train))
	}
}

// TestCompactFrames: a column of exact float32 values takes 4 bytes a row, one of decimals 8,
// a few categories 1, and sources that count the rows none; all read back exactly.
func TestCompactFrames(t *testing.T) {
	f := mk(t, "n,d,c,y\n1,0.1,a,0\n2,0.2,b,1\nNA,0.3,,1\n4.5,,a,0\n", "y")
	var buf bytes.Buffer
	f.WriteTo(&buf)
	h, err := readHeader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	widths := map[string]int{}
	for _, fc := range h.Columns {
		widths[fc.Name] = fc.width()
	}
	if !reflect.DeepEqual(widths, map[string]int{"n": 4, "d": 8, "c": 1, "y": 4}) || !h.CountingSources {
		t.Errorf("widths %v, counting sources %v", widths, h.CountingSources)
	}
	g, err := ReadFrame(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	g.WriteTo(&again)
	if !bytes.Equal(buf.Bytes(), again.Bytes()) || !math.IsNaN(g.Column("n").Num[2]) || g.Column("d").Num[1] != 0.2 || !reflect.DeepEqual(g.Source, []int{0, 1, 2, 3}) {
		t.Errorf("round trip: %v %v %v", g.Column("n").Num, g.Column("d").Num, g.Source)
	}
}

// TestReadsVersion2Frames: frames a loom before the compact format wrote still read.
func TestReadsVersion2Frames(t *testing.T) {
	b, err := os.ReadFile("testdata/v2.frame")
	if err != nil {
		t.Fatal(err)
	}
	f, err := ReadFrame(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	a := f.Column("a").Num
	if f.Rows() != 4 || a[0] != 1.5 || !math.IsNaN(a[1]) || a[2] != 0.1 || f.Column("c").Str[2] != "z" || f.Count(Test) != 2 {
		t.Errorf("rows %d, a %v, c %v, test rows %d", f.Rows(), a, f.Column("c").Str, f.Count(Test))
	}
}
