package nn

import (
	"math"
	"math/rand/v2"
)

// builder hands out parameter views while Network.build creates the layers. In the counting
// pass it only adds up sizes (returning nil views); in the second pass it slices the
// network's buffers and records the saved tensors. Weights come from params[:nReg], the
// values L1, L2 and weight decay apply to: dense, conv2d, embedding, recurrent and attention
// weight matrices. Biases and normalisation scales and shifts come after.
type builder struct {
	n                  *Network
	counting           bool
	prefix             string // "layers.<i>." for the layer being built
	nw, nOther, nState int    // sizes while counting
	wOff, oOff, sOff   int    // offsets while assigning
}

// weight returns a view of a regularised weight tensor and its gradient. perm, if not nil,
// gives the saved layout: saved value j is data[perm[j]].
func (b *builder) weight(name string, shape []int, perm []int) (v, g []float32) {
	size := product(shape)
	if b.counting {
		b.nw += size
		return make([]float32, 0), nil
	}
	v, g = b.n.params[b.wOff:b.wOff+size:b.wOff+size], b.n.grads[b.wOff:b.wOff+size:b.wOff+size]
	b.wOff += size
	b.n.tensors = append(b.n.tensors, namedTensor{name: b.prefix + name, shape: shape, data: v, perm: perm, trainable: true})
	return v, g
}

// other returns a view of a trainable tensor that is not regularised (biases, scales).
func (b *builder) other(name string, shape []int) (v, g []float32) {
	size := product(shape)
	if b.counting {
		b.nOther += size
		return make([]float32, 0), nil
	}
	v, g = b.n.params[b.oOff:b.oOff+size:b.oOff+size], b.n.grads[b.oOff:b.oOff+size:b.oOff+size]
	b.oOff += size
	b.n.tensors = append(b.n.tensors, namedTensor{name: b.prefix + name, shape: shape, data: v, trainable: true})
	return v, g
}

// state returns a view of a non-trainable saved tensor (running statistics).
func (b *builder) state(name string, shape []int) []float32 {
	size := product(shape)
	if b.counting {
		b.nState += size
		return make([]float32, 0)
	}
	v := b.n.state[b.sOff : b.sOff+size : b.sOff+size]
	b.sOff += size
	b.n.tensors = append(b.n.tensors, namedTensor{name: b.prefix + name, shape: shape, data: v})
	return v
}

// compute returns where the network's products run (nil while counting).
func (b *builder) compute() *compute {
	if b.n == nil {
		return nil
	}
	return b.n.cpu
}

// counter records an integer tensor saved as I64.
func (b *builder) counter(name string, c *int64) {
	if !b.counting {
		b.n.tensors = append(b.n.tensors, namedTensor{name: b.prefix + name, shape: []int{}, counter: c})
	}
}

// newDense creates a dense layer whose tensors are named prefix+"weight" and prefix+"bias".
func newDense(b *builder, prefix string, in, out int, act actKind, alpha float32) *dense {
	d := &dense{mm: b.compute(), in: in, out: out, act: act, alpha: alpha, wAt: b.wOff}
	d.w, d.gw = b.weight(prefix+"weight", []int{out, in}, nil)
	d.b, d.gb = b.other(prefix+"bias", []int{out})
	return d
}

// init draws the weights: He normal with he, else Xavier uniform.
func (d *dense) init(rng *rand.Rand, he bool) {
	if he {
		std := math.Sqrt(2 / float64(d.in))
		for j := range d.w {
			d.w[j] = float32(rng.NormFloat64() * std)
		}
		return
	}
	limit := math.Sqrt(6 / float64(d.in+d.out))
	for j := range d.w {
		d.w[j] = float32((2*rng.Float64() - 1) * limit)
	}
}

func newDropout(dim int, rate float64, rng *rand.PCG) *dropout {
	return &dropout{dim: dim, rate: float32(rate), drop: uint32(min(rate*(1<<32), math.MaxUint32)), rng: rng}
}

// uniform fills v from U(−limit, limit).
func uniform(rng *rand.Rand, v []float32, limit float64) {
	for j := range v {
		v[j] = float32((2*rng.Float64() - 1) * limit)
	}
}

// identity is a layer that changes only the shape the next layers see (flatten, reshape):
// the row-major values stay where they are.
type identity struct{}

func (identity) reserve(int)                                         {}
func (identity) forward(x []float32, _ int, _ bool) []float32        { return x }
func (identity) backward(dOut []float32, _ int, _, _ bool) []float32 { return dOut }
