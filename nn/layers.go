package nn

import (
	"math"
	"math/rand/v2"
)

// layer is one stage of a network, working on whole batches.
//
// Buffers returned by forward and backward belong to the layer (or are the argument itself)
// and stay valid until its next call. backward may overwrite dOut.
type layer interface {
	// reserve grows the layer's buffers to hold batches of rows samples.
	reserve(rows int)
	// forward maps the rows×in batch x to the layer's output. x must stay unchanged until
	// backward, which reads it.
	forward(x []float32, rows int, train bool) []float32
	// backward turns ∂L/∂output into ∂L/∂input and stores the parameter gradients. With
	// skipAct, dOut is already the gradient with respect to the pre-activation (fused losses);
	// without needDx the input gradient is not computed and nil is returned.
	backward(dOut []float32, rows int, skipAct, needDx bool) []float32
}

// grow returns buf with room for n values, reallocating only when it is too small.
func grow(buf []float32, n int) []float32 {
	if cap(buf) < n {
		return make([]float32, n)
	}
	return buf[:n]
}

// dense computes a = act(x·Wᵀ + b) with W stored [out, in] as PyTorch's Linear does.
type dense struct {
	mm      *compute
	in, out int
	act     actKind
	alpha   float32
	w, b    []float32 // views into Network.params
	wAt     int       // w's offset in Network.params
	gw, gb  []float32 // views into Network.grads
	x       []float32 // input of the last forward
	z, a    []float32 // pre-activation and activation; a aliases z for linear layers
	dx      []float32
	dz      []float32 // ∂L/∂z of the last backward, for per-example norms
}

func (d *dense) reserve(rows int) {
	d.z = grow(d.z, rows*d.out)
	if d.act == actLinear {
		d.a = d.z
	} else {
		d.a = grow(d.a, rows*d.out)
	}
	d.dx = grow(d.dx, rows*d.in)
}

func (d *dense) forward(x []float32, rows int, _ bool) []float32 {
	d.x = x
	z := d.z[:rows*d.out]
	for r := 0; r < rows; r++ {
		copy(z[r*d.out:(r+1)*d.out], d.b)
	}
	d.mm.matmul(false, true, rows, d.out, d.in, x, d.w, 1, z)
	if d.act == actLinear {
		return z
	}
	activate(d.act, d.alpha, z, d.a, rows, d.out)
	return d.a[:rows*d.out]
}

func (d *dense) backward(dOut []float32, rows int, skipAct, needDx bool) []float32 {
	dz := dOut[:rows*d.out]
	if !skipAct {
		activationGrad(d.act, d.alpha, d.z, d.a, dz, rows, d.out)
	}
	d.dz = dz
	// By rows, the blocks of the forward pass's columns: each worker computes the gradient
	// of the weight rows it has read, and updates them (see compute.eachOwned).
	d.mm.matmulRows(true, false, d.out, d.in, rows, dz, d.x, 0, d.gw)
	sumRows(d.gb, dz, rows, d.out)
	if !needDx {
		return nil
	}
	dx := d.dx[:rows*d.in]
	d.mm.matmul(false, false, rows, d.in, d.out, dz, d.w, 0, dx)
	return dx
}

// activation applies an activation function on its own.
type activation struct {
	dim   int
	act   actKind
	alpha float32
	x, a  []float32
}

func (l *activation) reserve(rows int) { l.a = grow(l.a, rows*l.dim) }

func (l *activation) forward(x []float32, rows int, _ bool) []float32 {
	l.x = x
	a := l.a[:rows*l.dim]
	activate(l.act, l.alpha, x, a, rows, l.dim)
	return a
}

func (l *activation) backward(dOut []float32, rows int, skipAct, _ bool) []float32 {
	if !skipAct {
		activationGrad(l.act, l.alpha, l.x, l.a, dOut, rows, l.dim)
	}
	return dOut[:rows*l.dim]
}

// dropout is inverted dropout: in training each input survives with probability 1−rate and is
// scaled by 1/(1−rate), so that inference is the identity.
type dropout struct {
	dim       int
	rate      float32
	drop      uint32 // an element is dropped when a uniform 32-bit draw is below this
	rng       *rand.PCG
	mask, out []float32
	active    bool // whether the last forward applied a mask
}

func (l *dropout) reserve(rows int) {
	l.mask = grow(l.mask, rows*l.dim)
	l.out = grow(l.out, rows*l.dim)
}

func (l *dropout) forward(x []float32, rows int, train bool) []float32 {
	l.active = train && l.rate > 0
	if !l.active {
		return x
	}
	n := rows * l.dim
	keep := 1 / (1 - l.rate)
	mask, out := l.mask[:n], l.out[:n]
	var bits uint64
	for i := range mask {
		// One 64-bit draw decides two elements.
		if i&1 == 0 {
			bits = l.rng.Uint64()
		} else {
			bits >>= 32
		}
		m := keep
		if uint32(bits) < l.drop {
			m = 0
		}
		mask[i] = m
		out[i] = x[i] * m
	}
	return out
}

func (l *dropout) backward(dOut []float32, rows int, _, _ bool) []float32 {
	n := rows * l.dim
	if l.active {
		for i, m := range l.mask[:n] {
			dOut[i] *= m
		}
	}
	return dOut[:n]
}

// batchNorm normalises each feature: y = γ·(x − μ)/√(σ² + ε) + β, with the batch's μ and σ²
// in training and running averages of them at inference. On images and sequences the features
// are the channels of the last axis, with statistics over the batch and every position, as
// PyTorch's BatchNorm2d and BatchNorm1d do.
type batchNorm struct {
	dim              int
	per              int // vectors per sample: positions of an image or sequence, else 1
	momentum, eps    float32
	gamma, beta      []float32 // views into Network.params
	gGamma, gBeta    []float32 // views into Network.grads
	runMean, runVar  []float32 // views into Network.state
	batches          int64     // PyTorch's num_batches_tracked
	mean, invStd     []float32 // per feature, of the last training batch
	xhat, out, dx    []float32
	sumDy, sumDyXhat []float32
	batchStats       bool // whether the last forward normalised by batch statistics
}

func (l *batchNorm) reserve(rows int) {
	n := rows * l.per * l.dim
	l.xhat, l.out, l.dx = grow(l.xhat, n), grow(l.out, n), grow(l.dx, n)
	if l.mean == nil {
		l.mean, l.invStd = make([]float32, l.dim), make([]float32, l.dim)
		l.sumDy, l.sumDyXhat = make([]float32, l.dim), make([]float32, l.dim)
	}
}

// forward normalises by the batch's statistics in training, except for a batch of one sample
// (a ragged last mini-batch), which has no variance: it uses the running statistics and leaves
// them alone, where PyTorch would refuse the batch.
func (l *batchNorm) forward(x []float32, rows int, train bool) []float32 {
	rows *= l.per // each position of each sample is one observation of the channels
	l.batchStats = train && rows > 1
	n, dim := rows*l.dim, l.dim
	xhat, out := l.xhat[:n], l.out[:n]
	mean, invStd := l.mean, l.invStd
	if l.batchStats {
		l.updateStats(x, rows)
	} else {
		for j := range dim {
			mean[j] = l.runMean[j]
			invStd[j] = float32(1 / math.Sqrt(float64(l.runVar[j])+float64(l.eps)))
		}
	}
	for r := 0; r < rows; r++ {
		o := r * dim
		for j := range dim {
			h := (x[o+j] - mean[j]) * invStd[j]
			xhat[o+j] = h
			out[o+j] = l.gamma[j]*h + l.beta[j]
		}
	}
	return out
}

// updateStats computes the batch mean and inverse standard deviation (biased variance, as the
// forward pass uses) and folds the unbiased variance into the running statistics.
func (l *batchNorm) updateStats(x []float32, rows int) {
	dim := l.dim
	mean, variance := l.mean, l.invStd // invStd holds the variance until the end
	clear(mean)
	clear(variance)
	for r := 0; r < rows; r++ {
		for j, v := range x[r*dim : (r+1)*dim] {
			mean[j] += v
		}
	}
	inv := 1 / float32(rows)
	for j := range mean {
		mean[j] *= inv
	}
	for r := 0; r < rows; r++ {
		for j, v := range x[r*dim : (r+1)*dim] {
			d := v - mean[j]
			variance[j] += d * d
		}
	}
	m := l.momentum
	for j := range variance {
		unbiased := variance[j] / float32(rows-1)
		variance[j] *= inv
		l.runMean[j] = (1-m)*l.runMean[j] + m*mean[j]
		l.runVar[j] = (1-m)*l.runVar[j] + m*unbiased
		l.invStd[j] = float32(1 / math.Sqrt(float64(variance[j])+float64(l.eps)))
	}
	l.batches++
}

func (l *batchNorm) backward(dOut []float32, rows int, _, needDx bool) []float32 {
	rows *= l.per
	n, dim := rows*l.dim, l.dim
	dy, xhat := dOut[:n], l.xhat[:n]
	sumDy, sumDyXhat := l.sumDy, l.sumDyXhat
	clear(sumDy)
	clear(sumDyXhat)
	for r := 0; r < rows; r++ {
		o := r * dim
		for j := range dim {
			sumDy[j] += dy[o+j]
			sumDyXhat[j] += dy[o+j] * xhat[o+j]
		}
	}
	copy(l.gGamma, sumDyXhat)
	copy(l.gBeta, sumDy)
	if !needDx {
		return nil
	}
	dx := l.dx[:n]
	if !l.batchStats {
		// Running statistics are constants: the layer is affine.
		for r := 0; r < rows; r++ {
			o := r * dim
			for j := range dim {
				dx[o+j] = dy[o+j] * l.gamma[j] * l.invStd[j]
			}
		}
		return dx
	}
	// dx = γ/(N·σ) · (N·dy − Σdy − x̂·Σ(dy·x̂)), the batch statistics' own gradient folded in.
	invN := 1 / float32(rows)
	for r := 0; r < rows; r++ {
		o := r * dim
		for j := range dim {
			dx[o+j] = l.gamma[j] * l.invStd[j] * (dy[o+j] - invN*(sumDy[j]+xhat[o+j]*sumDyXhat[j]))
		}
	}
	return dx
}
