package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Privacy makes Fit train with DP-SGD (Abadi et al. 2016), as Opacus does: each step's batch is
// drawn by Poisson sampling (every example independently, with probability
// q = BatchSize/rows), each example's gradient over all the parameters is clipped to L2 norm
// MaxGradNorm, Gaussian noise of standard deviation NoiseMultiplier·MaxGradNorm is added to
// the clipped sum, and the sum is divided by the expected batch size. An epoch is
// ⌈rows/BatchSize⌉ such steps. The guarantee is accounted by the caller (package
// nn/privacy) from History.PrivateSteps and History.SampleRate.
//
// Per-example gradients are exact for dense, conv2d, embedding and layernorm layers and every
// layer without parameters; Fit refuses other layers with parameters, batchnorm because it mixes
// the examples of a batch. The noise comes from the seeded generator, so a run is reproducible
// and its noise known to whoever knows the seed.
type Privacy struct {
	NoiseMultiplier float64 `json:"noise_multiplier"`
	MaxGradNorm     float64 `json:"max_grad_norm"`
}

// perExample is a layer with parameters that can give each example's gradient norm: after its
// backward, addNormsSq adds to sq[r] the squared L2 norm of example r's gradient with respect
// to the layer's parameters, for the rows examples of that pass.
type perExample interface {
	addNormsSq(sq []float64, rows int)
}

// checkPrivate names the first layer DP-SGD cannot clip per example.
func (n *Network) checkPrivate() error {
	for i, info := range n.Layers() {
		if info.Params == 0 {
			continue
		}
		if _, ok := n.layers[i].(perExample); ok {
			continue
		}
		if info.Type == LayerBatchNorm {
			return fmt.Errorf("layer %d (batchnorm) is not compatible with privacy: it normalises each example by the statistics of its whole batch, so an example's gradient depends on the others and cannot be clipped alone; use layernorm", i+1)
		}
		return fmt.Errorf("layer %d (%s): privacy needs each example's gradient, which loom computes for dense, conv2d, embedding and layernorm layers and layers without parameters, not for %s", i+1, info.Type, info.Type)
	}
	return nil
}

// dpState is what DP-SGD steps need beside the trainer's buffers.
type dpState struct {
	Privacy
	q        float64   // Poisson sampling rate
	expected float64   // expected batch size, q·rows
	steps    int       // steps per epoch
	sq       []float64 // per-example squared gradient norms, of the batch's mean loss
	g0       []float32 // ∂loss/∂output before the per-example scaling
	idx      []int     // the rows of the current batch
}

// newDP validates p for net and data of rows examples in batches of batch.
func newDP(p Privacy, net *Network, rows, batch int) (*dpState, error) {
	if !(p.MaxGradNorm > 0) || math.IsInf(p.MaxGradNorm, 0) {
		return nil, fmt.Errorf("privacy: max_grad_norm must be positive and finite, got %g", p.MaxGradNorm)
	}
	if !(p.NoiseMultiplier >= 0) || math.IsInf(p.NoiseMultiplier, 0) {
		return nil, fmt.Errorf("privacy: noise_multiplier must not be negative, got %g", p.NoiseMultiplier)
	}
	if err := net.checkPrivate(); err != nil {
		return nil, err
	}
	q := float64(batch) / float64(rows)
	return &dpState{Privacy: p, q: q, expected: q * float64(rows), steps: (rows + batch - 1) / batch}, nil
}

// grow makes the trainer's batch buffers hold rows examples: a Poisson batch can be larger
// than the expected size.
func (t *trainer) growBatch(rows int) {
	if rows <= len(t.xb)/t.net.spec.Inputs {
		return
	}
	in, out := t.net.spec.Inputs, t.net.outputs
	t.xb = grow(t.xb, rows*in)
	t.yb = grow(t.yb, rows*out)
	t.grad = grow(t.grad, rows*out)
}

// sample fills dp.idx with a Poisson sample of n rows: row gaps are geometric with
// P(gap = k) = (1−q)^k·q, so a step costs its batch's size, not n draws.
func (dp *dpState) sample(rng *rand.Rand, n int) []int {
	dp.idx = dp.idx[:0]
	logMiss := math.Log1p(-dp.q) // −Inf when q = 1: every row is taken
	for i := -1; ; {
		u := 1 - rng.Float64() // (0, 1], so the logarithm is finite
		i += 1 + int(math.Floor(math.Log(u)/logMiss))
		if i >= n || i < 0 {
			return dp.idx
		}
		dp.idx = append(dp.idx, i)
	}
}

// privateEpoch runs one epoch of DP-SGD steps over d and returns the mean training loss and
// accuracy over the examples the steps sampled.
func (t *trainer) privateEpoch(d Data, rng *rand.Rand) (float64, float64) {
	in, out := t.net.spec.Inputs, t.net.outputs
	var sum float64
	var correct, seen int
	for s := 0; s < t.dp.steps && !t.canceled(); s++ {
		idx := t.dp.sample(rng, d.Rows)
		rows := len(idx)
		t.growBatch(rows)
		for r, i := range idx {
			copy(t.xb[r*in:(r+1)*in], d.X[i*in:(i+1)*in])
			copy(t.yb[r*out:(r+1)*out], d.Y[i*out:(i+1)*out])
		}
		l, c := t.privateStep(rows, rng)
		sum += l * float64(rows)
		correct += c
		seen += rows
	}
	if seen == 0 {
		return math.NaN(), math.NaN()
	}
	return sum / float64(seen), t.accuracy(correct, seen)
}

// privateStep is step with DP-SGD on the rows examples in t.xb and t.yb (possibly none).
func (t *trainer) privateStep(rows int, rng *rand.Rand) (float64, int) {
	loss, correct := t.privateGrad(rows, rng)
	t.regularize()
	t.opt.step(t.net.cpu, t.net.params, t.net.grads, t.net.nReg, t.lr)
	return loss, correct
}

// privateGrad leaves in n.grads the noisy clipped mean gradient of the rows examples in t.xb
// and t.yb: a first backward pass measures each example's gradient norm, a second one, with
// each example's output gradient scaled by its clipping factor, gives the clipped sum, to
// which the noise is added.
func (t *trainer) privateGrad(rows int, rng *rand.Rand) (float64, int) {
	n, dp := t.net, t.dp
	var loss float64
	var correct int
	if rows > 0 {
		out := n.forward(t.xb, rows, true)
		loss, correct = t.loss.eval(out, n.logits(rows), t.yb, rows, n.outputs, t.grad)
		g := t.grad[:rows*n.outputs]
		dp.g0 = append(dp.g0[:0], g...)
		if cap(dp.sq) < rows {
			dp.sq = make([]float64, rows)
		}
		sq := dp.sq[:rows]
		clear(sq)
		n.backwardNorms(g, rows, t.loss.fused, sq)
		// g0 is the gradient of the batch's mean loss, so example r's own gradient is rows
		// times its part; the clipped sum is then divided by the expected batch size.
		for r := range rows {
			f := float32(dp.clipFactor(float64(rows)*math.Sqrt(sq[r])) * float64(rows) / dp.expected)
			for j := r * n.outputs; j < (r+1)*n.outputs; j++ {
				g[j] = dp.g0[j] * f
			}
		}
		n.backward(g, rows, t.loss.fused)
	} else {
		clear(n.grads)
	}
	if std := dp.NoiseMultiplier * dp.MaxGradNorm / dp.expected; std > 0 {
		for i := range n.grads {
			n.grads[i] += float32(std * rng.NormFloat64())
		}
	}
	return loss, correct
}

// clipFactor scales an example's gradient of L2 norm norm to at most MaxGradNorm, as Opacus's
// flat clipping does.
func (dp *dpState) clipFactor(norm float64) float64 {
	return min(1, dp.MaxGradNorm/(norm+1e-6))
}

// backwardNorms is backward that also adds each example's squared gradient norm, layer by
// layer, to sq.
func (n *Network) backwardNorms(dOut []float32, rows int, fused bool, sq []float64) {
	d := dOut
	for i := len(n.layers) - 1; i >= n.firstParam; i-- {
		l := n.layers[i]
		d = l.backward(d, rows, fused && i == len(n.layers)-1, i > n.firstParam)
		if pe, ok := l.(perExample); ok {
			pe.addNormsSq(sq, rows)
		}
	}
}

// addNormsSq: example r's weight gradient is the outer product dz_r ⊗ x_r and its bias
// gradient dz_r, so its squared norm is |dz_r|²·(|x_r|² + 1) without forming either.
func (d *dense) addNormsSq(sq []float64, rows int) {
	for r := range rows {
		sq[r] += sumSquares(d.dz[r*d.out:(r+1)*d.out]) * (sumSquares(d.x[r*d.in:(r+1)*d.in]) + 1)
	}
}

// addNormsSq: example r's kernel gradient is dz_rᵀ·col_r over its output positions, formed in
// a scratch matrix (as many flops as the batch's own kernel gradient), and its bias gradient
// the sum of dz_r over positions.
func (c *conv2d) addNormsSq(sq []float64, rows int) {
	p, f := c.positions(), c.g.outC
	c.gwr = grow(c.gwr, f*c.k)
	c.gbr = grow(c.gbr, f)
	for r := range rows {
		dz := c.dz[r*p*f : (r+1)*p*f]
		c.mm.matmul(true, false, f, c.k, p, dz, c.col[r*p*c.k:(r+1)*p*c.k], 0, c.gwr)
		sumRows(c.gbr, dz, p, f)
		sq[r] += sumSquares(c.gwr) + sumSquares(c.gbr)
	}
}

// addNormsSq: example r's gradient has a row per distinct token of the example, the sum of
// the output gradients at that token's positions.
func (e *embedding) addNormsSq(sq []float64, rows int) {
	e.row = grow(e.row, e.dim)
	for r := range rows {
		ids := e.ids[r*e.t : (r+1)*e.t]
		for i, id := range ids {
			if seenBefore(ids[:i], id) {
				continue
			}
			clear(e.row)
			for j := i; j < len(ids); j++ {
				if ids[j] == id {
					addTo(e.row, e.dout[(r*e.t+j)*e.dim:(r*e.t+j+1)*e.dim])
				}
			}
			sq[r] += sumSquares(e.row)
		}
	}
}

func seenBefore(ids []int32, id int32) bool {
	for _, v := range ids {
		if v == id {
			return true
		}
	}
	return false
}

// addNormsSq: example r's scale and shift gradients are the sums over its own vectors.
func (l *layerNorm) addNormsSq(sq []float64, rows int) {
	d := l.d
	l.gr = grow(l.gr, 2*d)
	gg, gb := l.gr[:d], l.gr[d:]
	for r := range rows {
		clear(l.gr)
		for v := r * l.per; v < (r+1)*l.per; v++ {
			dy, xh := l.dout[v*d:(v+1)*d], l.xhat[v*d:(v+1)*d]
			for j, g := range dy {
				gg[j] += g * xh[j]
				gb[j] += g
			}
		}
		sq[r] += sumSquares(l.gr)
	}
}

// sumSquares is Σv², accumulated in float64.
func sumSquares(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return s
}
