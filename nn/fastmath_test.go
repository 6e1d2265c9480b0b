package nn

import (
	"math"
	"testing"
)

func TestFastMath(t *testing.T) {
	var worstExp, worstSig, worstTanh float64
	for i := -200000; i <= 200000; i++ {
		x := float32(i) * 4.4e-4 // [−88, 88]
		if x >= -87 {            // below the clamp the result stays at e^−87.3 rather than going subnormal
			want := math.Exp(float64(x))
			worstExp = math.Max(worstExp, math.Abs(float64(expf(x))-want)/want)
		}
		if math.Abs(float64(x)) < 30 {
			worstSig = math.Max(worstSig, math.Abs(float64(sigmoidf(x))-1/(1+math.Exp(-float64(x)))))
			worstTanh = math.Max(worstTanh, math.Abs(float64(tanhf(x))-math.Tanh(float64(x))))
		}
	}
	if worstExp > 3e-7 || worstSig > 2e-7 || worstTanh > 3e-7 {
		t.Errorf("errors: exp relative %.2e, sigmoid %.2e, tanh %.2e", worstExp, worstSig, worstTanh)
	}
	for _, x := range []float32{-1000, -88, 88, 1000, float32(math.Inf(1)), float32(math.Inf(-1))} {
		if e := expf(x); math.IsInf(float64(e), 0) || math.IsNaN(float64(e)) {
			t.Errorf("expf(%v) = %v", x, e)
		}
	}
	if sigmoidf(-1000) != 0 && sigmoidf(-1000) > 1e-37 || sigmoidf(1000) != 1 || tanhf(1000) != 1 || tanhf(-1000) != -1 {
		t.Errorf("saturation: %v %v %v %v", sigmoidf(-1000), sigmoidf(1000), tanhf(1000), tanhf(-1000))
	}
	t.Logf("exp relative %.2e, sigmoid %.2e, tanh %.2e", worstExp, worstSig, worstTanh)
}

// TestSliceFunctionsMatch: the slice forms give the same bits as the scalar ones.
func TestSliceFunctionsMatch(t *testing.T) {
	x := make([]float32, 0, 4001)
	for i := -2000; i <= 2000; i++ {
		x = append(x, float32(i)*0.045)
	}
	e, s, th := append([]float32(nil), x...), append([]float32(nil), x...), make([]float32, len(x))
	expSlice(e)
	sigmoidSlice(s)
	tanhSlice(th, x)
	for i, v := range x {
		if e[i] != expf(v) || s[i] != sigmoidf(v) || th[i] != tanhf(v) {
			t.Fatalf("x = %v: slice %v %v %v, scalar %v %v %v", v, e[i], s[i], th[i], expf(v), sigmoidf(v), tanhf(v))
		}
	}
}
