package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// passInputs returns n values, a quarter of them the awkward ones: ±0, ±Inf, NaNs of both
// signs, subnormals.
func passInputs(r *rand.Rand, n int) []float32 {
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.Float32frombits(0xffc00000), 1e-40, -1e-40}
	v := make([]float32, n)
	for i := range v {
		if r.IntN(4) == 0 {
			v[i] = special[r.IntN(len(special))]
		} else {
			v[i] = float32(r.NormFloat64())
		}
	}
	return v
}

// TestPassesMatchTheirDefinitions checks the vector passes (where the CPU has them) and the
// scalar loops, on every length up to 40 so that every tail is met, against the definitions.
func TestPassesMatchTheirDefinitions(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := range 41 {
		z := passInputs(r, n)
		a := make([]float32, n)
		relu(z, a)
		for i, v := range z {
			want := v
			if math.Signbit(float64(v)) {
				want = 0
			}
			if math.Float32bits(a[i]) != math.Float32bits(want) {
				t.Fatalf("relu(%v) = %v (bits %08x), want %v", v, a[i], math.Float32bits(a[i]), want)
			}
		}

		act, d := passInputs(r, n), passInputs(r, n)
		got := append([]float32(nil), d...)
		reluMask(act, got)
		for i, v := range act {
			want := d[i]
			if !(int32(math.Float32bits(v)) > 0) {
				want = 0
			}
			if math.Float32bits(got[i]) != math.Float32bits(want) {
				t.Fatalf("reluMask(a %v, d %v) = %v, want %v", v, d[i], got[i], want)
			}
		}

		dst, src := passInputs(r, n), passInputs(r, n)
		am := make([]int32, n)
		for i := range am {
			am[i] = int32(r.IntN(1000))
		}
		gotDst, gotAm := append([]float32(nil), dst...), append([]int32(nil), am...)
		maxInto(gotDst, gotAm, src, 5000)
		for i := range dst {
			wantV, wantA := dst[i], am[i]
			if src[i] > dst[i] {
				wantV, wantA = src[i], 5000+int32(i)
			}
			if math.Float32bits(gotDst[i]) != math.Float32bits(wantV) || gotAm[i] != wantA {
				t.Fatalf("maxInto(dst %v, src %v) = %v at %d, want %v at %d", dst[i], src[i], gotDst[i], gotAm[i], wantV, wantA)
			}
		}
	}
}

// TestRowPassesMatchTheirLoops: addRows and sumRows (vector where the CPU has it) against
// plain loops, for widths on and off the vector's multiple.
func TestRowPassesMatchTheirLoops(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, cols := range []int{1, 7, 8, 32, 36, 64} {
		rows := 1 + r.IntN(50)
		m, row := passInputs(r, rows*cols), passInputs(r, cols)
		got := append([]float32(nil), m...)
		addRows(got, row, rows)
		sums := make([]float32, cols)
		sumRows(sums, m, rows, cols)
		want := make([]float32, cols)
		for i := range rows {
			for j := range cols {
				if w := m[i*cols+j] + row[j]; math.Float32bits(got[i*cols+j]) != math.Float32bits(w) {
					t.Fatalf("%d cols: addRows gives %v at row %d col %d, want %v", cols, got[i*cols+j], i, j, w)
				}
				want[j] += m[i*cols+j]
			}
		}
		for j := range want {
			if math.Float32bits(sums[j]) != math.Float32bits(want[j]) && !(want[j] != want[j] && sums[j] != sums[j]) {
				t.Fatalf("%d cols: sumRows gives %v in col %d, want %v", cols, sums[j], j, want[j])
			}
		}
	}
}

// TestConvBiasEitherWay: a convolution whose product is summed in one pass adds its bias after
// the product; that must give the bits of feeding the bias in as the product's C, the way
// every convolution did before, or cached models would change.
func TestConvBiasEitherWay(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, k := range []int{9, 144, 256} {
		m, f := 300, 32
		a, w, b := randSlice(r, m*k, -1, 1), randSlice(r, f*k, -1, 1), randSlice(r, f, -1, 1)
		after, before := make([]float32, m*f), make([]float32, m*f)
		var cp *compute
		cp.matmul(false, true, m, f, k, a, w, 0, after)
		addRows(after, b, m)
		fillRows(before, b)
		cp.matmul(false, true, m, f, k, a, w, 1, before)
		for i := range after {
			if math.Float32bits(after[i]) != math.Float32bits(before[i]) {
				t.Fatalf("k %d: element %d is %v with the bias after, %v with it before", k, i, after[i], before[i])
			}
		}
	}
}
