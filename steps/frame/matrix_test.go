package frame

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestMatrixBinary(t *testing.T) {
	f := withSplits(mk(t, "a,c,y\n1,x,no\n2,z,yes\n3,x,yes\n4,q,no\n", "y"), "ttts")
	if !reflect.DeepEqual(f.FeatureNames(), []string{"a", "c=x", "c=z"}) {
		t.Fatalf("features %v", f.FeatureNames())
	}
	X, Y, rows, err := f.Matrix(Train)
	if err != nil {
		t.Fatal(err)
	}
	wantX := []float32{1, 1, 0, 2, 0, 1, 3, 1, 0}
	if rows != 3 || !reflect.DeepEqual(X, wantX) || !reflect.DeepEqual(Y, []float32{0, 1, 1}) {
		t.Fatalf("rows %d X %v Y %v", rows, X, Y)
	}
	X, Y, rows, err = f.Matrix(Test) // level q unseen in train: all zeros
	if err != nil || rows != 1 || !reflect.DeepEqual(X, []float32{4, 0, 0}) || !reflect.DeepEqual(Y, []float32{0}) {
		t.Fatalf("test: %v %v %d %v", X, Y, rows, err)
	}
	if got := f.Labels(Train); !reflect.DeepEqual(got, []int{0, 1, 1}) {
		t.Fatalf("labels %v", got)
	}
}

func TestMatrixMultiClassAndRegression(t *testing.T) {
	f := mk(t, "a,y\n1,b\n2,c\n3,a\n", "y")
	_, Y, _, err := f.Matrix(Train)
	if err != nil || f.Outputs() != 3 || !reflect.DeepEqual(Y, []float32{0, 1, 0, 0, 0, 1, 1, 0, 0}) {
		t.Fatalf("Y %v err %v", Y, err)
	}
	r := mk(t, "a,y\n1,0.5\n2,-1.25\n", "y")
	_, Y, _, err = r.Matrix(Train)
	if err != nil || r.Outputs() != 1 || !reflect.DeepEqual(Y, []float32{0.5, -1.25}) || r.Labels(Train) != nil {
		t.Fatalf("regression Y %v err %v", Y, err)
	}
}

func TestMatrixMissing(t *testing.T) {
	for _, data := range []string{"a,y\n1,0\nNA,1\n", "c,y\nx,0\n,1\n"} {
		f := mk(t, data, "y")
		_, _, _, err := f.Matrix(Train)
		if err == nil || !strings.Contains(err.Error(), "impute or drop_missing") {
			t.Fatalf("err = %v", err)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	f := withSplits(mk(t, "a,c,y\n1.5,x,0\nNA,,1\n-0,z,1\n3.1e38,x,0\n", "y"), "tvst")
	apply(t, f, Derive{Column: "d", Expr: "a * 2"}, Encode{Columns: []string{"c"}, Method: "ordinal"})
	f.Columns = append(f.Columns[:2], append([]*Column{{Name: "s", Kind: Categorical, Str: []string{"p", "", "q", "p"}}}, f.Columns[2:]...)...)
	var a, b bytes.Buffer
	n, err := f.WriteTo(&a)
	if err != nil || n != int64(a.Len()) {
		t.Fatalf("n %d len %d err %v", n, a.Len(), err)
	}
	g, err := ReadFrame(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.WriteTo(&b); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the round trip changed the bytes")
	}
	if !reflect.DeepEqual(g.Splits, f.Splits) || !reflect.DeepEqual(g.Transforms, f.Transforms) || g.Task != f.Task || !reflect.DeepEqual(g.ClassLabels, f.ClassLabels) {
		t.Fatalf("frame fields differ: %+v vs %+v", g, f)
	}
	for i, c := range f.Columns {
		d := g.Columns[i]
		if c.Name != d.Name || c.Kind != d.Kind || !reflect.DeepEqual(c.Str, d.Str) || len(c.Num) != len(d.Num) {
			t.Fatalf("column %d: %+v vs %+v", i, c, d)
		}
		for j := range c.Num {
			if math.Float64bits(c.Num[j]) != math.Float64bits(d.Num[j]) {
				t.Fatalf("column %s row %d: %v vs %v", c.Name, j, c.Num[j], d.Num[j])
			}
		}
	}
	for _, bad := range [][]byte{nil, []byte("LOOMFRX\x00\x01\x00\x00\x00"), a.Bytes()[:a.Len()-3]} {
		if _, err := ReadFrame(bytes.NewReader(bad)); err == nil {
			t.Fatalf("ReadFrame(%q...) gave no error", bad[:min(len(bad), 8)])
		}
	}
}

func TestWriteToDeterministic(t *testing.T) {
	var first []byte
	for range 3 {
		f, err := Read("../../examples/iris/data/iris.csv", ReadOptions{Target: "species"})
		if err != nil {
			t.Fatal(err)
		}
		apply(t, f, SplitData{Test: 0.2, Stratify: true, Seed: 0}, Normalize{Method: "zscore"})
		var buf bytes.Buffer
		if _, err := f.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = buf.Bytes()
		} else if !bytes.Equal(first, buf.Bytes()) {
			t.Fatal("same pipeline gave different bytes")
		}
	}
}
