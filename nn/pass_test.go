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
