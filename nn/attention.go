package nn

import (
	"math"
	"math/rand/v2"
)

// layerNorm normalises each vector of the last axis: y = γ⊙(x − μ)/√(σ² + ε) + β, with μ
// and σ² (biased) of that vector alone, as PyTorch's nn.LayerNorm over the last dimension.
type layerNorm struct {
	d, per        int // vector width, vectors per sample
	eps           float32
	gamma, beta   []float32
	gGamma, gBeta []float32
	xhat, out, dx []float32
	invStd        []float32
	dout, gr      []float32 // the last backward's output gradient and scratch, for per-example norms
}

func newLayerNorm(b *builder, prefix string, d, per int, eps float64) *layerNorm {
	l := &layerNorm{d: d, per: per, eps: float32(eps)}
	l.gamma, l.gGamma = b.other(prefix+"weight", []int{d})
	l.beta, l.gBeta = b.other(prefix+"bias", []int{d})
	for j := range l.gamma {
		l.gamma[j] = 1
	}
	return l
}

func (l *layerNorm) reserve(rows int) {
	n := rows * l.per
	l.xhat, l.out, l.dx = grow(l.xhat, n*l.d), grow(l.out, n*l.d), grow(l.dx, n*l.d)
	l.invStd = grow(l.invStd, n)
}

func (l *layerNorm) forward(x []float32, rows int, _ bool) []float32 {
	d := l.d
	n := rows * l.per
	inv := 1 / float64(d)
	for v := 0; v < n; v++ {
		xs := x[v*d : (v+1)*d]
		var mean, variance float64
		for _, e := range xs {
			mean += float64(e)
		}
		mean *= inv
		for _, e := range xs {
			variance += (float64(e) - mean) * (float64(e) - mean)
		}
		is := float32(1 / math.Sqrt(variance*inv+float64(l.eps)))
		l.invStd[v] = is
		xh, out := l.xhat[v*d:(v+1)*d], l.out[v*d:(v+1)*d]
		m := float32(mean)
		for j, e := range xs {
			h := (e - m) * is
			xh[j] = h
			out[j] = l.gamma[j]*h + l.beta[j]
		}
	}
	return l.out[:n*d]
}

// backward uses dx = σ⁻¹·(ĝ − mean(ĝ) − x̂·mean(ĝ⊙x̂)) with ĝ = γ⊙dy, the statistics' own
// gradient folded in.
func (l *layerNorm) backward(dOut []float32, rows int, _, needDx bool) []float32 {
	d := l.d
	n := rows * l.per
	l.dout = dOut
	clear(l.gGamma)
	clear(l.gBeta)
	for v := 0; v < n; v++ {
		dy, xh := dOut[v*d:(v+1)*d], l.xhat[v*d:(v+1)*d]
		for j, g := range dy {
			l.gGamma[j] += g * xh[j]
			l.gBeta[j] += g
		}
	}
	if !needDx {
		return nil
	}
	inv := 1 / float32(d)
	for v := 0; v < n; v++ {
		dy, xh, dx := dOut[v*d:(v+1)*d], l.xhat[v*d:(v+1)*d], l.dx[v*d:(v+1)*d]
		var s, sx float32
		for j, g := range dy {
			gh := g * l.gamma[j]
			s += gh
			sx += gh * xh[j]
		}
		s, sx = s*inv, sx*inv
		is := l.invStd[v]
		for j, g := range dy {
			dx[j] = is * (g*l.gamma[j] - s - xh[j]*sx)
		}
	}
	return l.dx[:n*d]
}

// positional adds the sinusoidal encoding PE[t, 2i] = sin(t/10000^(2i/d)),
// PE[t, 2i+1] = cos(t/10000^(2i/d)) to [time, d] samples. It has no parameters.
type positional struct {
	table []float32 // [t, d]
	out   []float32
}

func newPositional(t, d int) *positional {
	p := &positional{table: make([]float32, t*d)}
	for pos := 0; pos < t; pos++ {
		for j := 0; j < d; j++ {
			angle := float64(pos) / math.Pow(10000, float64(j/2*2)/float64(d))
			if j%2 == 0 {
				p.table[pos*d+j] = float32(math.Sin(angle))
			} else {
				p.table[pos*d+j] = float32(math.Cos(angle))
			}
		}
	}
	return p
}

func (p *positional) reserve(rows int) { p.out = grow(p.out, rows*len(p.table)) }

func (p *positional) forward(x []float32, rows int, _ bool) []float32 {
	n := len(p.table)
	out := p.out[:rows*n]
	for r := 0; r < rows; r++ {
		o, xs := out[r*n:(r+1)*n], x[r*n:(r+1)*n]
		for j, v := range p.table {
			o[j] = xs[j] + v
		}
	}
	return out
}

func (p *positional) backward(dOut []float32, rows int, _, _ bool) []float32 {
	return dOut[:rows*len(p.table)]
}

// attention is multi-head self-attention over [t, d] samples, PyTorch's
// nn.MultiheadAttention with one fused input projection: QKV = x·in_proj_weightᵀ + in_proj_bias
// ([3e, d]), per head softmax(Q·Kᵀ/√(e/heads) + mask)·V, then the heads' concatenation through
// out_proj ([d, e]). The causal mask hides every later position.
type attention struct {
	mm                 *compute
	t, d, e, heads, dk int
	causal             bool
	scale              float32
	inW, inB           []float32
	gInW, gInB         []float32
	outW, outB         []float32
	gOutW, gOutB       []float32
	x                  []float32
	qkv, p, ctx, out   []float32 // p: [B, heads, t, t] attention weights
	dqkv, dp, dctx, dx []float32
}

func newAttention(b *builder, prefix string, t, d, e, heads int, causal bool) *attention {
	a := &attention{mm: b.compute(), t: t, d: d, e: e, heads: heads, dk: e / heads, causal: causal}
	a.scale = float32(1 / math.Sqrt(float64(a.dk)))
	a.inW, a.gInW = b.weight(prefix+"in_proj_weight", []int{3 * e, d}, nil)
	a.outW, a.gOutW = b.weight(prefix+"out_proj.weight", []int{d, e}, nil)
	a.inB, a.gInB = b.other(prefix+"in_proj_bias", []int{3 * e})
	a.outB, a.gOutB = b.other(prefix+"out_proj.bias", []int{d})
	return a
}

// init draws both projections Xavier uniform (PyTorch's in_proj; its out_proj uses Linear's
// default, a narrower uniform).
func (a *attention) init(rng *rand.Rand, _ string) {
	uniform(rng, a.inW, math.Sqrt(6/float64(a.d+3*a.e)))
	uniform(rng, a.outW, math.Sqrt(6/float64(a.d+a.e)))
}

func (a *attention) reserve(rows int) {
	m := rows * a.t
	a.qkv, a.dqkv = grow(a.qkv, m*3*a.e), grow(a.dqkv, m*3*a.e)
	a.dp = grow(a.dp, a.t*a.t) // a.p is sized by forward: training keeps every head's weights
	a.ctx, a.dctx = grow(a.ctx, m*a.e), grow(a.dctx, m*a.e)
	a.out, a.dx = grow(a.out, m*a.d), grow(a.dx, m*a.d)
}

// forward keeps each sample's and head's attention weights for backward in training; at
// inference one T×T buffer serves them all, so Predict's large chunks cost no heads×T² each.
func (a *attention) forward(x []float32, rows int, train bool) []float32 {
	a.x = x
	T, E, m := a.t, a.e, rows*a.t
	keep := 0 // stride between the (sample, head) weight matrices
	if train {
		keep = T * T
		a.p = grow(a.p, rows*a.heads*T*T)
	} else {
		a.p = grow(a.p, T*T)
	}
	qkv := a.qkv[:m*3*E]
	for i := 0; i < m; i++ {
		copy(qkv[i*3*E:(i+1)*3*E], a.inB)
	}
	a.mm.matmul(false, true, m, 3*E, a.d, x[:m*a.d], a.inW, 1, qkv)
	for b := 0; b < rows; b++ {
		base := b * T * 3 * E
		for h := 0; h < a.heads; h++ {
			p := a.p[(b*a.heads+h)*keep : (b*a.heads+h)*keep+T*T]
			q, k, v := qkv[base+h*a.dk:], qkv[base+E+h*a.dk:], qkv[base+2*E+h*a.dk:]
			a.mm.matmulStrided(false, true, T, T, a.dk, a.scale, q, 3*E, k, 3*E, 0, p, T)
			for i := 0; i < T; i++ {
				row := p[i*T : (i+1)*T]
				if a.causal {
					// Later positions get weight exactly 0; softmax runs over the visible prefix.
					softmaxRowf(row[:i+1])
					clear(row[i+1:])
				} else {
					softmaxRowf(row)
				}
			}
			a.mm.matmulStrided(false, false, T, a.dk, T, 1, p, T, v, 3*E, 0, a.ctx[b*T*E+h*a.dk:], E)
		}
	}
	out := a.out[:m*a.d]
	for i := 0; i < m; i++ {
		copy(out[i*a.d:(i+1)*a.d], a.outB)
	}
	a.mm.matmul(false, true, m, a.d, E, a.ctx[:m*E], a.outW, 1, out)
	return out
}

func (a *attention) backward(dOut []float32, rows int, _, needDx bool) []float32 {
	T, E, m := a.t, a.e, rows*a.t
	dy := dOut[:m*a.d]
	a.mm.matmul(true, false, a.d, E, m, dy, a.ctx[:m*E], 0, a.gOutW)
	sumRows(a.gOutB, dy, m, a.d)
	dctx := a.dctx[:m*E]
	a.mm.matmul(false, false, m, E, a.d, dy, a.outW, 0, dctx)
	qkv, dqkv := a.qkv, a.dqkv[:m*3*E]
	dp := a.dp[:T*T]
	for b := 0; b < rows; b++ {
		base := b * T * 3 * E
		for h := 0; h < a.heads; h++ {
			p := a.p[(b*a.heads+h)*T*T : (b*a.heads+h+1)*T*T]
			o := base + h*a.dk
			dc := dctx[b*T*E+h*a.dk:]
			// dP = dctx·Vᵀ; dV = Pᵀ·dctx.
			a.mm.matmulStrided(false, true, T, T, a.dk, 1, dc, E, qkv[o+2*E:], 3*E, 0, dp, T)
			a.mm.matmulStrided(true, false, T, a.dk, T, 1, p, T, dc, E, 0, dqkv[o+2*E:], 3*E)
			// dS = P⊙(dP − rowsum(dP⊙P)), scaled as the scores were; masked weights are 0.
			for i := 0; i < T; i++ {
				softmaxGradRow(p[i*T:(i+1)*T], dp[i*T:(i+1)*T])
			}
			// dQ = dS·K·scale; dK = dSᵀ·Q·scale.
			a.mm.matmulStrided(false, false, T, a.dk, T, a.scale, dp, T, qkv[o+E:], 3*E, 0, dqkv[o:], 3*E)
			a.mm.matmulStrided(true, false, T, a.dk, T, a.scale, dp, T, qkv[o:], 3*E, 0, dqkv[o+E:], 3*E)
		}
	}
	a.mm.matmul(true, false, 3*E, a.d, m, dqkv, a.x[:m*a.d], 0, a.gInW)
	sumRows(a.gInB, dqkv, m, 3*E)
	if !needDx {
		return nil
	}
	dx := a.dx[:m*a.d]
	a.mm.matmul(false, false, m, a.d, 3*E, dqkv, a.inW, 0, dx)
	return dx
}

// transformer is one encoder block as PyTorch's nn.TransformerEncoderLayer with its defaults
// (post-norm, relu): x = norm1(x + dropout(self_attn(x))); x = norm2(x + dropout(linear2(
// relu(linear1(x))))). The feed-forward layers act on each timestep. Its tensors carry
// PyTorch's names under the layer's prefix (self_attn.in_proj_weight, linear1.weight, norm1.weight, ...).
type transformer struct {
	t, d         int
	attn         *attention
	drop1, drop2 *dropout
	norm1, norm2 *layerNorm
	ff1, ff2     *dense
	s1, s2       []float32 // residual sums
	d1, d2       []float32 // gradient copies that the dropouts may scale in place
}

func newTransformer(b *builder, t, d int, l LayerSpec, rng *rand.PCG) *transformer {
	tr := &transformer{t: t, d: d}
	tr.attn = newAttention(b, "self_attn.", t, d, l.Dim, l.Heads, l.Causal)
	tr.ff1 = newDense(b, "linear1.", d, l.FF, actReLU, 0)
	tr.ff2 = newDense(b, "linear2.", l.FF, d, actLinear, 0)
	tr.norm1 = newLayerNorm(b, "norm1.", d, t, DefaultLNEpsilon)
	tr.norm2 = newLayerNorm(b, "norm2.", d, t, DefaultLNEpsilon)
	tr.drop1, tr.drop2 = newDropout(d, l.Rate, rng), newDropout(d, l.Rate, rng)
	return tr
}

// init draws the attention as attention does and the feed-forward as dense layers (He before
// the relu, Xavier after).
func (tr *transformer) init(rng *rand.Rand, choice string) {
	tr.attn.init(rng, choice)
	tr.ff1.init(rng, choice != "xavier")
	tr.ff2.init(rng, choice == "he")
}

func (tr *transformer) reserve(rows int) {
	m := rows * tr.t
	tr.attn.reserve(rows)
	tr.norm1.reserve(rows)
	tr.norm2.reserve(rows)
	for _, l := range []layer{tr.drop1, tr.drop2, tr.ff1, tr.ff2} {
		l.reserve(m)
	}
	n := m * tr.d
	tr.s1, tr.s2, tr.d1, tr.d2 = grow(tr.s1, n), grow(tr.s2, n), grow(tr.d1, n), grow(tr.d2, n)
}

func (tr *transformer) forward(x []float32, rows int, train bool) []float32 {
	m := rows * tr.t
	n := m * tr.d
	a := tr.drop1.forward(tr.attn.forward(x, rows, train), m, train)
	s1 := tr.s1[:n]
	for i := range s1 {
		s1[i] = x[i] + a[i]
	}
	y1 := tr.norm1.forward(s1, rows, train)
	f := tr.ff2.forward(tr.ff1.forward(y1, m, train), m, train)
	f = tr.drop2.forward(f, m, train)
	s2 := tr.s2[:n]
	for i := range s2 {
		s2[i] = y1[i] + f[i]
	}
	return tr.norm2.forward(s2, rows, train)
}

func (tr *transformer) backward(dOut []float32, rows int, _, needDx bool) []float32 {
	m := rows * tr.t
	n := m * tr.d
	ds2 := tr.norm2.backward(dOut, rows, false, true)
	d2 := tr.d2[:n]
	copy(d2, ds2)
	df := tr.drop2.backward(d2, m, false, true)
	df = tr.ff1.backward(tr.ff2.backward(df, m, false, true), m, false, true)
	addTo(df[:n], ds2) // ∂L/∂y1: the feed-forward path plus the residual
	ds1 := tr.norm1.backward(df, rows, false, true)
	d1 := tr.d1[:n]
	copy(d1, ds1)
	da := tr.drop1.backward(d1, m, false, true)
	dx := tr.attn.backward(da, rows, false, needDx)
	if !needDx {
		return nil
	}
	addTo(dx[:n], ds1)
	return dx
}

// softmaxRowf replaces z by softmax(z), with expf.
func softmaxRowf(z []float32) {
	m := z[0]
	for _, v := range z[1:] {
		m = max(m, v)
	}
	var sum float32
	for i, v := range z {
		e := expf(v - m)
		z[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range z {
		z[i] *= inv
	}
}
