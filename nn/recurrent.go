package nn

import (
	"math"
	"math/rand/v2"
)

// embedding maps each of a sample's t token ids to a row of a [vocab, dim] table (PyTorch's
// nn.Embedding.weight). Ids are rounded to the nearest integer and, in case a caller skipped
// Fit's check, clamped into [0, vocab).
type embedding struct {
	t, vocab, dim int
	w, gw         []float32
	ids           []int32
	out, dx       []float32
	dout, row     []float32 // the last backward's output gradient and a scratch row, for per-example norms
}

func newEmbedding(b *builder, t, vocab, dim int) *embedding {
	e := &embedding{t: t, vocab: vocab, dim: dim}
	e.w, e.gw = b.weight("weight", []int{vocab, dim}, nil)
	return e
}

// init draws the table from N(0, 1), as PyTorch does.
func (e *embedding) init(rng *rand.Rand, _ string) {
	for j := range e.w {
		e.w[j] = float32(rng.NormFloat64())
	}
}

func (e *embedding) reserve(rows int) {
	e.out = grow(e.out, rows*e.t*e.dim)
	e.dx = grow(e.dx, rows*e.t)
	if cap(e.ids) < rows*e.t {
		e.ids = make([]int32, rows*e.t)
	}
}

// tokenID converts an input value to a table row.
func tokenID(v float32, vocab int) int32 {
	id := math.Round(float64(v))
	if !(id >= 0) {
		return 0
	}
	return int32(min(id, float64(vocab-1)))
}

func (e *embedding) forward(x []float32, rows int, _ bool) []float32 {
	n := rows * e.t
	out := e.out[:n*e.dim]
	for i, v := range x[:n] {
		id := tokenID(v, e.vocab)
		e.ids[i] = id
		copy(out[i*e.dim:(i+1)*e.dim], e.w[int(id)*e.dim:(int(id)+1)*e.dim])
	}
	return out
}

// backward adds each position's gradient to its token's row. Ids are not differentiable: the
// input gradient, if asked for, is zero.
func (e *embedding) backward(dOut []float32, rows int, _, needDx bool) []float32 {
	e.dout = dOut
	clear(e.gw)
	for i, id := range e.ids[:rows*e.t] {
		g := e.gw[int(id)*e.dim : (int(id)+1)*e.dim]
		for j, v := range dOut[i*e.dim : (i+1)*e.dim] {
			g[j] += v
		}
	}
	if !needDx {
		return nil
	}
	dx := e.dx[:rows*e.t]
	clear(dx)
	return dx
}

// Recurrent cells, with PyTorch's equations and gate order.
const (
	cellRNN  = iota // h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
	cellLSTM        // gates i, f, g, o; c' = f⊙c + i⊙g; h' = o⊙tanh(c')
	cellGRU         // gates r, z, n; n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn)); h' = (1−z)⊙n + z⊙h
)

// recurrent is a simple RNN, LSTM or GRU over [time, features] samples, starting from a zero
// state. The input projections of all timesteps are one matrix product before the time loop;
// the gates are fused in one [gates·units, ·] weight matrix, so each timestep is one product
// with W_hh. Buffers are [batch, time, ·] row-major, and a timestep is a strided view of them.
// Tensors are PyTorch's: weight_ih_l0 [G·H, in], weight_hh_l0 [G·H, H], bias_ih_l0, bias_hh_l0.
type recurrent struct {
	mm            *compute
	cell          int
	t, d, h, g    int // timesteps, input width, units, gates·units
	seq           bool
	wih, whh      []float32
	bih, bhh      []float32
	gwih, gwhh    []float32
	gbih, gbhh    []float32
	x             []float32
	pre           []float32 // [B,T,G]: pre-activations, then the activated gates
	gh            []float32 // GRU: [B,T,G] W_hh h + b_hh, kept for the n gate's r⊙(·)
	c, tc         []float32 // LSTM: cell state and its tanh, [B,T,H]
	hs, hprev     []float32 // h_t and h_{t−1}, [B,T,H]
	last          []float32 // [B,H] the last state, when not returning sequences
	dpre, dgh     []float32 // [B,T,G] gradients w.r.t. the pre-activations (x and h sides)
	dh, dc        []float32 // [B,H] gradients carried back through time
	dx            []float32
	gateCount     int
	hiddenSideDup bool // rnn/lstm: the h-side gradient is the x-side one
}

func newRecurrent(b *builder, kind string, t, d, h int, seq bool) *recurrent {
	r := &recurrent{mm: b.compute(), t: t, d: d, h: h, seq: seq}
	switch kind {
	case LayerSimpleRNN:
		r.cell, r.gateCount = cellRNN, 1
	case LayerLSTM:
		r.cell, r.gateCount = cellLSTM, 4
	case LayerGRU:
		r.cell, r.gateCount = cellGRU, 3
	}
	r.hiddenSideDup = r.cell != cellGRU
	r.g = r.gateCount * h
	r.wih, r.gwih = b.weight("weight_ih_l0", []int{r.g, d}, nil)
	r.whh, r.gwhh = b.weight("weight_hh_l0", []int{r.g, h}, nil)
	r.bih, r.gbih = b.other("bias_ih_l0", []int{r.g})
	r.bhh, r.gbhh = b.other("bias_hh_l0", []int{r.g})
	return r
}

// init draws every weight and bias from U(−1/√units, 1/√units), PyTorch's default.
func (r *recurrent) init(rng *rand.Rand, _ string) {
	k := 1 / math.Sqrt(float64(r.h))
	for _, v := range [][]float32{r.wih, r.whh, r.bih, r.bhh} {
		uniform(rng, v, k)
	}
}

func (r *recurrent) reserve(rows int) {
	bt := rows * r.t
	r.pre, r.dpre = grow(r.pre, bt*r.g), grow(r.dpre, bt*r.g)
	if r.cell == cellGRU {
		r.gh, r.dgh = grow(r.gh, bt*r.g), grow(r.dgh, bt*r.g)
	}
	if r.cell == cellLSTM {
		r.c, r.tc = grow(r.c, bt*r.h), grow(r.tc, bt*r.h)
	}
	r.hs, r.hprev = grow(r.hs, bt*r.h), grow(r.hprev, bt*r.h)
	r.last = grow(r.last, rows*r.h)
	r.dh, r.dc = grow(r.dh, rows*r.h), grow(r.dc, rows*r.h)
	r.dx = grow(r.dx, bt*r.d)
}

func (r *recurrent) forward(x []float32, rows int, _ bool) []float32 {
	r.x = x
	T, H, G := r.t, r.h, r.g
	bt := rows * T
	pre := r.pre[:bt*G]
	for i := 0; i < bt; i++ {
		row := pre[i*G : (i+1)*G]
		copy(row, r.bih)
		if r.hiddenSideDup {
			for j, v := range r.bhh {
				row[j] += v
			}
		}
	}
	r.mm.matmul(false, true, bt, G, r.d, x[:bt*r.d], r.wih, 1, pre)
	for t := 0; t < T; t++ {
		if t > 0 {
			hp := r.hs[(t-1)*H:]
			if r.cell == cellGRU {
				for b := 0; b < rows; b++ {
					copy(r.gh[(b*T+t)*G:(b*T+t+1)*G], r.bhh)
				}
				r.mm.matmulStrided(false, true, rows, G, H, 1, hp, T*H, r.whh, H, 1, r.gh[t*G:], T*G)
			} else {
				r.mm.matmulStrided(false, true, rows, G, H, 1, hp, T*H, r.whh, H, 1, pre[t*G:], T*G)
			}
		} else if r.cell == cellGRU {
			for b := 0; b < rows; b++ {
				copy(r.gh[b*T*G:(b*T+1)*G], r.bhh)
			}
		}
		for b := 0; b < rows; b++ {
			r.cellForward(b*T+t, t)
		}
	}
	if r.seq {
		return r.hs[:bt*H]
	}
	last := r.last[:rows*H]
	for b := 0; b < rows; b++ {
		copy(last[b*H:(b+1)*H], r.hs[(b*T+T-1)*H:(b*T+T)*H])
	}
	return last
}

// cellForward applies the gates' nonlinearities at position i = b·T + t of the buffers.
func (r *recurrent) cellForward(i, t int) {
	H, G := r.h, r.g
	g := r.pre[i*G : (i+1)*G]
	h := r.hs[i*H : (i+1)*H]
	hp := r.hprev[i*H : (i+1)*H]
	if t == 0 {
		clear(hp)
	} else {
		copy(hp, r.hs[(i-1)*H:i*H])
	}
	// The nonlinearities run over whole gate vectors (see expSlice); the cell updates after.
	switch r.cell {
	case cellRNN:
		tanhSlice(g, g)
		copy(h, g)
	case cellLSTM:
		c, tc := r.c[i*H:(i+1)*H], r.tc[i*H:(i+1)*H]
		sigmoidSlice(g[:2*H])
		tanhSlice(g[2*H:3*H], g[2*H:3*H])
		sigmoidSlice(g[3*H:])
		ig, fg, gg := g[:H], g[H:2*H], g[2*H:3*H]
		if t > 0 {
			cp := r.c[(i-1)*H : i*H]
			for j := range c {
				c[j] = fg[j]*cp[j] + ig[j]*gg[j]
			}
		} else {
			for j := range c {
				c[j] = ig[j] * gg[j]
			}
		}
		tanhSlice(tc, c)
		for j, o := range g[3*H:] {
			h[j] = o * tc[j]
		}
	case cellGRU:
		gh := r.gh[i*G : (i+1)*G]
		for j := 0; j < 2*H; j++ {
			g[j] += gh[j]
		}
		sigmoidSlice(g[:2*H])
		for j := 0; j < H; j++ {
			g[2*H+j] += g[j] * gh[2*H+j]
		}
		tanhSlice(g[2*H:], g[2*H:])
		for j := 0; j < H; j++ {
			zg, ng := g[H+j], g[2*H+j]
			h[j] = (1-zg)*ng + zg*hp[j]
		}
	}
}

func (r *recurrent) backward(dOut []float32, rows int, _, needDx bool) []float32 {
	T, H, G := r.t, r.h, r.g
	bt := rows * T
	dh, dc := r.dh[:rows*H], r.dc[:rows*H]
	clear(dh)
	clear(dc)
	dg := r.dpre // the gradient that flows into W_hh
	if r.cell == cellGRU {
		dg = r.dgh
	}
	for t := T - 1; t >= 0; t-- {
		for b := 0; b < rows; b++ {
			d := dh[b*H : (b+1)*H]
			if r.seq {
				addTo(d, dOut[(b*T+t)*H:(b*T+t+1)*H])
			} else if t == T-1 {
				addTo(d, dOut[b*H:(b+1)*H])
			}
			r.cellBackward(b*T+t, t, d, dc[b*H:(b+1)*H])
		}
		if t > 0 {
			beta := float32(0) // rnn/lstm: h reaches the past only through W_hh
			if r.cell == cellGRU {
				beta = 1 // GRU: dh already holds the direct z⊙h path
			}
			r.mm.matmulStrided(false, false, rows, H, G, 1, dg[t*G:], T*G, r.whh, H, beta, dh, H)
		}
	}
	dpre := r.dpre[:bt*G]
	r.mm.matmul(true, false, G, r.d, bt, dpre, r.x[:bt*r.d], 0, r.gwih)
	r.mm.matmul(true, false, G, H, bt, dg[:bt*G], r.hprev[:bt*H], 0, r.gwhh)
	sumRows(r.gbih, dpre, bt, G)
	sumRows(r.gbhh, dg[:bt*G], bt, G)
	if !needDx {
		return nil
	}
	dx := r.dx[:bt*r.d]
	r.mm.matmul(false, false, bt, r.d, G, dpre, r.wih, 0, dx)
	return dx
}

// cellBackward turns dh = ∂L/∂h_t (and, for LSTM, dc = ∂L/∂c_t from later steps) into the
// pre-activation gradients at position i, leaving in dh the part of ∂L/∂h_{t−1} that does not
// go through W_hh (GRU's z⊙h) and in dc ∂L/∂c_{t−1}.
func (r *recurrent) cellBackward(i, t int, dh, dc []float32) {
	H, G := r.h, r.g
	g := r.pre[i*G : (i+1)*G]
	dp := r.dpre[i*G : (i+1)*G]
	switch r.cell {
	case cellRNN:
		for j, a := range g {
			dp[j] = dh[j] * (1 - a*a)
		}
	case cellLSTM:
		tc := r.tc[i*H : (i+1)*H]
		for j := 0; j < H; j++ {
			ig, fg, gg, og := g[j], g[H+j], g[2*H+j], g[3*H+j]
			dcj := dc[j] + dh[j]*og*(1-tc[j]*tc[j])
			var cp float32
			if t > 0 {
				cp = r.c[(i-1)*H+j]
			}
			dp[j] = dcj * gg * ig * (1 - ig)
			dp[H+j] = dcj * cp * fg * (1 - fg)
			dp[2*H+j] = dcj * ig * (1 - gg*gg)
			dp[3*H+j] = dh[j] * tc[j] * og * (1 - og)
			dc[j] = dcj * fg
		}
	case cellGRU:
		gh := r.gh[i*G : (i+1)*G]
		dgh := r.dgh[i*G : (i+1)*G]
		hp := r.hprev[i*H : (i+1)*H]
		for j := 0; j < H; j++ {
			rg, zg, ng := g[j], g[H+j], g[2*H+j]
			dn := dh[j] * (1 - zg) * (1 - ng*ng)
			dz := dh[j] * (hp[j] - ng) * zg * (1 - zg)
			dr := dn * gh[2*H+j] * rg * (1 - rg)
			dp[j], dp[H+j], dp[2*H+j] = dr, dz, dn
			dgh[j], dgh[H+j], dgh[2*H+j] = dr, dz, dn*rg
			dh[j] *= zg
		}
	}
}

// addTo adds src to dst elementwise.
func addTo(dst, src []float32) {
	for j, v := range src {
		dst[j] += v
	}
}
