package frame

import (
	"math"
	"testing"
)

func TestDeriveMathFunctions(t *testing.T) {
	f, err := New([]*Column{
		{Name: "x", Kind: Numeric, Num: []float64{4, 9, math.NaN()}},
		{Name: "y", Kind: Numeric, Num: []float64{0, 1, 0}},
	}, "y", "classification")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		expr string
		want []float64
	}{
		{"sqrt(x)", []float64{2, 3, math.NaN()}},
		{"pow(x, 2) + log(exp(1))", []float64{17, 82, math.NaN()}},
		{"isnan(x) ? -1.0 : log10(x * 25)", []float64{2, math.Log10(225), -1}},
	} {
		g := f.Clone()
		if err := (Derive{Column: "d", Expr: tc.expr}).Apply(g); err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		got := g.Column("d").Num
		for i, w := range tc.want {
			if !(got[i] == w || math.IsNaN(got[i]) && math.IsNaN(w) || math.Abs(got[i]-w) < 1e-12) {
				t.Errorf("%s row %d: got %v, want %v", tc.expr, i, got[i], w)
			}
		}
	}
}
