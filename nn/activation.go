package nn

import "math"

// actKind identifies an elementwise (or, for softmax, row-wise) activation function.
type actKind uint8

const (
	actLinear actKind = iota
	actReLU
	actLeakyReLU
	actSigmoid
	actTanh
	actGELU
	actSoftmax
)

// activationNames maps the manifest's activation names to kinds; "" means linear.
var activationNames = map[string]actKind{
	"":           actLinear,
	"linear":     actLinear,
	"relu":       actReLU,
	"leaky_relu": actLeakyReLU,
	"sigmoid":    actSigmoid,
	"tanh":       actTanh,
	"gelu":       actGELU,
	"softmax":    actSoftmax,
}

// Activations lists the activation names New accepts, in a stable order for error messages
// and schemas.
var Activations = []string{"relu", "leaky_relu", "sigmoid", "tanh", "gelu", "softmax", "linear"}

// reluLike reports whether He initialisation suits the activation.
func (k actKind) reluLike() bool { return k == actReLU || k == actLeakyReLU || k == actGELU }

const (
	invSqrt2   = 0.7071067811865476
	invSqrt2Pi = 0.3989422804014327
)

// sigmoid is the logistic function, written so that exp never overflows.
func sigmoid(z float32) float32 {
	if z >= 0 {
		return 1 / (1 + float32(math.Exp(-float64(z))))
	}
	e := float32(math.Exp(float64(z)))
	return e / (1 + e)
}

// activate writes act(z) into a (which may alias z) for a rows×cols batch.
func activate(k actKind, alpha float32, z, a []float32, rows, cols int) {
	n := rows * cols
	z, a = z[:n], a[:n]
	switch k {
	case actLinear:
		copy(a, z)
	case actReLU:
		relu(z, a)
	case actLeakyReLU:
		for i, v := range z {
			if v < 0 {
				v *= alpha
			}
			a[i] = v
		}
	case actSigmoid:
		for i, v := range z {
			a[i] = sigmoid(v)
		}
	case actTanh:
		for i, v := range z {
			a[i] = float32(math.Tanh(float64(v)))
		}
	case actGELU:
		for i, v := range z {
			x := float64(v)
			a[i] = float32(0.5 * x * (1 + math.Erf(x*invSqrt2)))
		}
	case actSoftmax:
		for r := 0; r < rows; r++ {
			softmaxRow(z[r*cols:(r+1)*cols], a[r*cols:(r+1)*cols])
		}
	}
}

// softmaxRow writes softmax(z) into a, subtracting the row maximum so exp cannot overflow.
func softmaxRow(z, a []float32) {
	m := z[0]
	for _, v := range z[1:] {
		m = max(m, v)
	}
	var sum float32
	for i, v := range z {
		e := float32(math.Exp(float64(v - m)))
		a[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range a {
		a[i] *= inv
	}
}

// activationGrad turns d = ∂L/∂a into ∂L/∂z in place, given the pre-activation z and the
// activation a of the forward pass.
func activationGrad(k actKind, alpha float32, z, a, d []float32, rows, cols int) {
	n := rows * cols
	z, a, d = z[:n], a[:n], d[:n]
	switch k {
	case actLinear:
	case actReLU:
		reluMask(a, d)
	case actLeakyReLU:
		for i, v := range z {
			if v <= 0 {
				d[i] *= alpha
			}
		}
	case actSigmoid:
		for i, v := range a {
			d[i] *= v * (1 - v)
		}
	case actTanh:
		for i, v := range a {
			d[i] *= 1 - v*v
		}
	case actGELU:
		for i, v := range z {
			x := float64(v)
			cdf := 0.5 * (1 + math.Erf(x*invSqrt2))
			pdf := invSqrt2Pi * math.Exp(-0.5*x*x)
			d[i] *= float32(cdf + x*pdf)
		}
	case actSoftmax:
		for r := 0; r < rows; r++ {
			softmaxGradRow(a[r*cols:(r+1)*cols], d[r*cols:(r+1)*cols])
		}
	}
}

// softmaxGradRow turns ∂L/∂a into ∂L/∂z in d for one softmax row a:
// ∂L/∂z_i = a_i (d_i − Σ_j d_j a_j), the Jacobian-vector product without the Jacobian.
func softmaxGradRow(a, d []float32) {
	var s float32
	for j, v := range a {
		s += v * d[j]
	}
	for j, v := range a {
		d[j] = v * (d[j] - s)
	}
}
