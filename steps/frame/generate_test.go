package frame

import (
	"math"
	"reflect"
	"testing"
)

func TestGenerateDeterministic(t *testing.T) {
	for _, kind := range GenKinds {
		opt := GenOptions{Kind: kind, N: 60, Noise: 0.1, Seed: 42}
		a, err := Generate(opt)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		b, _ := Generate(opt)
		if !reflect.DeepEqual(a.Columns, b.Columns) {
			t.Fatalf("%s: same seed gave different data", kind)
		}
		opt.Seed = 43
		c, _ := Generate(opt)
		if reflect.DeepEqual(a.Columns, c.Columns) {
			t.Fatalf("%s: another seed gave the same data", kind)
		}
		if a.Rows() != 60 || a.Target != "y" || a.Task != Classification || a.Columns[0].Name != "x0" {
			t.Fatalf("%s: rows %d target %s names %v", kind, a.Rows(), a.Target, a.Names())
		}
	}
}

// points returns (x0, x1, y) of every row.
func points(f *Frame) (x0, x1, y []float64) {
	return f.Column("x0").Num, f.Column("x1").Num, f.Column("y").Num
}

func TestGenerateMoonsCircles(t *testing.T) {
	f, err := Generate(GenOptions{Kind: "moons", N: 101})
	if err != nil {
		t.Fatal(err)
	}
	x0, x1, y := points(f)
	counts := map[float64]int{}
	for i := range y {
		counts[y[i]]++
		cx, cy := 0.0, 0.0 // outer moon: unit circle at the origin
		if y[i] == 1 {
			cx, cy = 1, 0.5 // inner moon: unit circle at (1, 0.5)
		}
		if r := math.Hypot(x0[i]-cx, x1[i]-cy); math.Abs(r-1) > 1e-12 {
			t.Fatalf("moons row %d at radius %v", i, r)
		}
	}
	if counts[0] != 50 || counts[1] != 51 {
		t.Fatalf("moons counts %v", counts)
	}
	f, _ = Generate(GenOptions{Kind: "circles", N: 40})
	x0, x1, y = points(f)
	for i := range y {
		want := 1.0
		if y[i] == 1 {
			want = 0.8
		}
		if r := math.Hypot(x0[i], x1[i]); math.Abs(r-want) > 1e-12 {
			t.Fatalf("circles row %d at radius %v, class %v", i, r, y[i])
		}
	}
}

func TestGenerateRules(t *testing.T) {
	f, _ := Generate(GenOptions{Kind: "xor", N: 200, Features: 3, Seed: 1})
	x0, x1, y := points(f)
	for i := range y {
		if want := (x0[i] > 0) != (x1[i] > 0); (y[i] == 1) != want {
			t.Fatalf("xor row %d: %v %v -> %v", i, x0[i], x1[i], y[i])
		}
	}
	b, _ := Generate(GenOptions{Kind: "blobs", N: 90, Features: 4, Seed: 1})
	if len(b.Columns) != 5 || !reflect.DeepEqual(b.ClassCounts(Train), []int{30, 30, 30}) {
		t.Fatalf("blobs: %v %v", b.Names(), b.ClassCounts(Train))
	}
	s, _ := Generate(GenOptions{Kind: "spiral", N: 90, Classes: 3, Seed: 1})
	if !reflect.DeepEqual(s.ClassCounts(Train), []int{30, 30, 30}) {
		t.Fatalf("spiral counts %v", s.ClassCounts(Train))
	}
	r, err := Generate(GenOptions{Kind: "linear", N: 50, Features: 3, Task: "regression", Seed: 1})
	if err != nil || r.Task != Regression || r.Outputs() != 1 {
		t.Fatalf("linear regression: %v %v", r, err)
	}
}

// Without noise, linear classes are separable by a perceptron.
func TestGenerateLinearSeparable(t *testing.T) {
	f, _ := Generate(GenOptions{Kind: "linear", N: 200, Features: 3, Seed: 5})
	X, Y, n, err := f.Matrix(Train)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float32, 4)
	for range 1000 {
		mistakes := 0
		for i := range n {
			s := w[3]
			for d := range 3 {
				s += w[d] * X[3*i+d]
			}
			if want := Y[i] == 1; (s > 0) != want {
				mistakes++
				sign := float32(-1)
				if want {
					sign = 1
				}
				for d := range 3 {
					w[d] += sign * X[3*i+d]
				}
				w[3] += sign
			}
		}
		if mistakes == 0 {
			return
		}
	}
	t.Fatal("the perceptron did not separate the linear data")
}

func TestGenerateErrors(t *testing.T) {
	for _, o := range []GenOptions{
		{Kind: "swirl"},
		{Kind: "moons", Features: 3},
		{Kind: "moons", Classes: 3},
		{Kind: "xor", Features: 1},
		{Kind: "blobs", N: -1},
		{Kind: "blobs", Noise: -1},
		{Kind: "spiral", Classes: 1},
		{Kind: "blobs", N: 3, Classes: 3},
		{Kind: "moons", Task: "regression"},
		{Kind: "linear", Task: "ranking"},
	} {
		if _, err := Generate(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}
