package nn

import "math"

// expf is e^x in float32 by Cephes' expf: x = n·ln2 + r with |r| ≤ ln2/2, a degree-6
// polynomial for e^r and n put straight into the exponent bits. It is within 2 ulp of the
// float64 exp rounded to float32 and, unlike math.Exp, cheap enough to inline in the
// recurrent cells, where the gates' exponentials otherwise cost as much as the matrix products.
// Inputs are clamped to [−87.3, 88.3], so the result is finite and normal.
func expf(x float32) float32 {
	x = min(max(x, -87.3), 88.3)
	fx := float32(math.Floor(float64(x*1.44269504088896341 + 0.5)))
	x -= fx * 0.693359375
	x -= fx * -2.12194440e-4
	z := x * x
	y := ((((1.9875691500e-4*x+1.3981999507e-3)*x+8.3334519073e-3)*x+4.1665795894e-2)*x+1.6666665459e-1)*x + 5.0000001201e-1
	y = y*z + x + 1
	return y * math.Float32frombits(uint32(int32(fx)+127)<<23)
}

// sigmoidf is the logistic function through expf.
func sigmoidf(x float32) float32 { return 1 / (1 + expf(-x)) }

// tanhf is tanh through expf: 1 − 2/(e^{2x} + 1), exact at the saturated ends; near 0 its
// absolute error stays below 1e-7.
func tanhf(x float32) float32 { return 1 - 2/(expf(2*x)+1) }
