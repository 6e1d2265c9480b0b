package nn

import "math"

// expf is e^x in float32 by Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6
// polynomial for e^r and n put straight into the exponent bits. It is within 2 ulp of the
// float64 exp rounded to float32 and, unlike math.Exp, cheap enough to inline in the
// recurrent cells, where the gates' exponentials otherwise cost as much as the matrix products.
// Inputs are clamped to [−87.3, 88.3], so the result is finite and normal.
func expf(x float32) float32 {
	if x < -87.3 { // predictable branches: faster than min and max, which must mind NaN and −0
		x = -87.3
	}
	if x > 88.3 {
		x = 88.3
	}
	// floor(x·log2 e + ½) without a branch: the sum is above −127, so after adding 128 the
	// truncation of int32 is the floor.
	n := int32(x*1.44269504088896341+128.5) - 128
	fx := float32(n)
	x -= fx * 0.693359375
	x -= fx * -2.12194440e-4
	z := x * x
	y := ((((1.9875691500e-4*x+1.3981999507e-3)*x+8.3334519073e-3)*x+4.1665795894e-2)*x+1.6666665459e-1)*x + 5.0000001201e-1
	y = y*z + x + 1
	return y * math.Float32frombits(uint32(n+127)<<23)
}

// sigmoidf is the logistic function through expf.
func sigmoidf(x float32) float32 { return 1 / (1 + expf(-x)) }

// tanhf is tanh through expf: 1 − 2/(e^{2x} + 1), exact at the saturated ends; near 0 its
// absolute error stays below 1e-7.
func tanhf(x float32) float32 { return 1 - 2/(expf(2*x)+1) }

// expSlice replaces each value of v by expf of it. The polynomial is written out in the loop
// (expf itself is too large to inline), so that the independent iterations overlap in the
// processor instead of waiting on a call each.
func expSlice(v []float32) {
	for i, x := range v {
		if x < -87.3 {
			x = -87.3
		}
		if x > 88.3 {
			x = 88.3
		}
		n := int32(x*1.44269504088896341+128.5) - 128
		fx := float32(n)
		x -= fx * 0.693359375
		x -= fx * -2.12194440e-4
		z := x * x
		y := ((((1.9875691500e-4*x+1.3981999507e-3)*x+8.3334519073e-3)*x+4.1665795894e-2)*x+1.6666665459e-1)*x + 5.0000001201e-1
		y = y*z + x + 1
		v[i] = y * math.Float32frombits(uint32(n+127)<<23)
	}
}

// sigmoidSlice replaces each value of v by its logistic function.
func sigmoidSlice(v []float32) {
	for i, x := range v {
		v[i] = -x
	}
	expSlice(v)
	for i, e := range v {
		v[i] = 1 / (1 + e)
	}
}

// tanhSlice writes tanh(src) into dst: 1 − 2/(e^{2x} + 1).
func tanhSlice(dst, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = 2 * x
	}
	expSlice(dst)
	for i, e := range dst {
		dst[i] = 1 - 2/(e+1)
	}
}
