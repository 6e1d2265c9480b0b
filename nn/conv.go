package nn

import (
	"math"
	"math/rand/v2"

	"github.com/loom-ml/loom/nn/internal/gemm"
)

// geometry is a 2-D window's placement over a channels-last image.
type geometry struct {
	h, w, c          int // input
	kh, kw, sh, sw   int // window and stride
	padT, padL       int // zero rows above and columns to the left
	outH, outW, outC int
}

// convGeometry computes the output size and padding of a conv2d layer on an input shape
// [height, width, channels]; outH or outW ≤ 0 means the kernel does not fit.
func convGeometry(in []int, l *LayerSpec) geometry {
	g := geometry{h: in[0], w: in[1], c: in[2], kh: l.Kernel[0], kw: l.Kernel[1], sh: l.Stride[0], sw: l.Stride[1], outC: l.Filters}
	p, _ := padding(l.Padding)
	if p < 0 { // same: ⌈in/stride⌉, the odd pixel of padding at the bottom/right
		g.outH, g.outW = (g.h+g.sh-1)/g.sh, (g.w+g.sw-1)/g.sw
		g.padT = max((g.outH-1)*g.sh+g.kh-g.h, 0) / 2
		g.padL = max((g.outW-1)*g.sw+g.kw-g.w, 0) / 2
		return g
	}
	g.padT, g.padL = p, p
	if g.h+2*p < g.kh || g.w+2*p < g.kw {
		return g
	}
	g.outH, g.outW = (g.h+2*p-g.kh)/g.sh+1, (g.w+2*p-g.kw)/g.sw+1
	return g
}

// conv2d is a channels-last 2-D convolution: im2col turns the batch into a
// (rows·outH·outW)×(kh·kw·c) matrix, and one matrix product with the [filters, kh·kw·c] kernel
// gives the rows×(outH·outW·filters) output in place. The kernel is stored channels-last
// ([filters, kh, kw, c]) and saved in PyTorch's Conv2d layout [filters, c, kh, kw].
type conv2d struct {
	mm     *compute
	g      geometry
	k      int // kh·kw·c, the length of one patch
	act    actKind
	alpha  float32
	w, b   []float32
	gw, gb []float32
	col    []float32 // patches of the last forward
	x      []float32
	z, a   []float32
	dcol   []float32
	dx     []float32
	dz     []float32 // ∂L/∂z of the last backward, for per-example norms
	gwr    []float32 // one example's gradients, for per-example norms
	gbr    []float32
}

func newConv2D(b *builder, in []int, l LayerSpec) *conv2d {
	g := convGeometry(in, &l)
	c := &conv2d{mm: b.compute(), g: g, k: g.kh * g.kw * g.c, act: activationNames[l.Activation], alpha: float32(l.Alpha)}
	// Saved index ((f·c + ci)·kh + ki)·kw + kj holds internal ((f·kh + ki)·kw + kj)·c + ci.
	perm := make([]int, g.outC*c.k)
	j := 0
	for f := 0; f < g.outC; f++ {
		for ci := 0; ci < g.c; ci++ {
			for ki := 0; ki < g.kh; ki++ {
				for kj := 0; kj < g.kw; kj++ {
					perm[j] = ((f*g.kh+ki)*g.kw+kj)*g.c + ci
					j++
				}
			}
		}
	}
	c.w, c.gw = b.weight("weight", []int{g.outC, g.c, g.kh, g.kw}, perm)
	c.b, c.gb = b.other("bias", []int{g.outC})
	return c
}

// init draws the kernel as a dense layer with fan_in kh·kw·c: He normal for relu-like
// activations (or init "he"), else Xavier uniform.
func (c *conv2d) init(rng *rand.Rand, choice string) {
	fanIn, fanOut := c.k, c.g.kh*c.g.kw*c.g.outC
	if choice == "he" || (choice == "" && c.act.reluLike()) {
		std := math.Sqrt(2 / float64(fanIn))
		for j := range c.w {
			c.w[j] = float32(rng.NormFloat64() * std)
		}
		return
	}
	uniform(rng, c.w, math.Sqrt(6/float64(fanIn+fanOut)))
}

func (c *conv2d) positions() int { return c.g.outH * c.g.outW }

func (c *conv2d) reserve(rows int) {
	m := rows * c.positions()
	c.col = grow(c.col, m*c.k)
	c.dcol = grow(c.dcol, m*c.k)
	c.z = grow(c.z, m*c.g.outC)
	if c.act == actLinear {
		c.a = c.z
	} else {
		c.a = grow(c.a, m*c.g.outC)
	}
	c.dx = grow(c.dx, rows*c.g.h*c.g.w*c.g.c)
}

func (c *conv2d) forward(x []float32, rows int, _ bool) []float32 {
	c.x = x
	m, f := rows*c.positions(), c.g.outC
	c.im2col(x, rows)
	z := c.z[:m*f]
	if gemm.OnePass(c.k) { // the bias added after the product: one pass fewer over z
		c.mm.matmul(false, true, m, f, c.k, c.col[:m*c.k], c.w, 0, z)
		addRows(z, c.b, m)
	} else { // the bias where the product starts, as the product's C
		fillRows(z, c.b)
		c.mm.matmul(false, true, m, f, c.k, c.col[:m*c.k], c.w, 1, z)
	}
	if c.act == actLinear {
		return z
	}
	activate(c.act, c.alpha, z, c.a, m, f)
	return c.a[:m*f]
}

// fillRows copies row into every row of dst, in copies that double in length: a copy per row
// cost a call per output position.
func fillRows(dst, row []float32) {
	filled := copy(dst, row)
	for filled < len(dst) {
		filled += copy(dst[filled:], dst[:filled])
	}
}

// im2col writes one patch per output position. For a kernel row inside the image the valid
// kernel columns are one contiguous run of the input row (channels-last), so they are copied
// as one block and only the padding is zeroed.
func (c *conv2d) im2col(x []float32, rows int) {
	g := c.g
	in := g.h * g.w * g.c
	p := 0
	for r := 0; r < rows; r++ {
		img := x[r*in : (r+1)*in]
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				dst := c.col[p*c.k : (p+1)*c.k]
				p++
				x0 := ox*g.sw - g.padL
				lo, hi := max(0, -x0), min(g.kw, g.w-x0) // valid kernel columns
				for ki := 0; ki < g.kh; ki++ {
					row := dst[ki*g.kw*g.c : (ki+1)*g.kw*g.c]
					iy := oy*g.sh - g.padT + ki
					if iy < 0 || iy >= g.h || lo >= hi {
						zero(row)
						continue
					}
					zero(row[:lo*g.c])
					src := (iy*g.w + x0 + lo) * g.c
					if run := img[src : src+(hi-lo)*g.c]; len(run) >= 16 {
						copy(row[lo*g.c:], run)
					} else {
						// A loop rather than copy: a run of a few values is shorter than a call.
						for j, v := range run {
							row[lo*g.c+j] = v
						}
					}
					zero(row[hi*g.c:])
				}
			}
		}
	}
}

// col2im adds each patch gradient back onto the input positions it was read from.
func (c *conv2d) col2im(dx []float32, rows int) {
	g := c.g
	in := g.h * g.w * g.c
	clear(dx)
	p := 0
	for r := 0; r < rows; r++ {
		img := dx[r*in : (r+1)*in]
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				src := c.dcol[p*c.k : (p+1)*c.k]
				p++
				x0 := ox*g.sw - g.padL
				lo, hi := max(0, -x0), min(g.kw, g.w-x0)
				for ki := 0; ki < g.kh; ki++ {
					iy := oy*g.sh - g.padT + ki
					if iy < 0 || iy >= g.h || lo >= hi {
						continue
					}
					dst := img[(iy*g.w+x0+lo)*g.c : (iy*g.w+x0+hi)*g.c]
					run := src[(ki*g.kw+lo)*g.c : (ki*g.kw+hi)*g.c]
					if len(run) < 16 || !addRowsVector(dst, run, 1, len(run), 0, 0) {
						for j, v := range run {
							dst[j] += v
						}
					}
				}
			}
		}
	}
}

func (c *conv2d) backward(dOut []float32, rows int, skipAct, needDx bool) []float32 {
	m, f := rows*c.positions(), c.g.outC
	dz := dOut[:m*f]
	if !skipAct {
		activationGrad(c.act, c.alpha, c.z, c.a, dz, m, f)
	}
	c.dz = dz
	c.mm.matmul(true, false, f, c.k, m, dz, c.col[:m*c.k], 0, c.gw)
	sumRows(c.gb, dz, m, f)
	if !needDx {
		return nil
	}
	c.mm.matmul(false, false, m, c.k, f, dz, c.w, 0, c.dcol[:m*c.k])
	dx := c.dx[:rows*c.g.h*c.g.w*c.g.c]
	c.col2im(dx, rows)
	return dx
}

// pool2d is max or average pooling over size windows with stride size; a ragged border is
// dropped, as PyTorch's and Keras's defaults do.
type pool2d struct {
	g      geometry
	max    bool
	argmax []int32 // for max pooling: the input index each output came from
	out    []float32
	dx     []float32
}

func newPool2D(in []int, l LayerSpec) *pool2d {
	g := geometry{h: in[0], w: in[1], c: in[2], kh: l.Size[0], kw: l.Size[1], sh: l.Size[0], sw: l.Size[1]}
	g.outH, g.outW, g.outC = g.h/g.kh, g.w/g.kw, g.c
	return &pool2d{g: g, max: l.Type == LayerMaxPool2D}
}

func (p *pool2d) outLen() int { return p.g.outH * p.g.outW * p.g.c }
func (p *pool2d) inLen() int  { return p.g.h * p.g.w * p.g.c }

func (p *pool2d) reserve(rows int) {
	p.out = grow(p.out, rows*p.outLen())
	p.dx = grow(p.dx, rows*p.inLen())
	if p.max && cap(p.argmax) < rows*p.outLen() {
		p.argmax = make([]int32, rows*p.outLen())
	}
}

// forward walks each window position by position with the channels innermost, so that every
// read is a contiguous run of the channels-last input.
func (p *pool2d) forward(x []float32, rows int, _ bool) []float32 {
	g := p.g
	c := g.c
	out := p.out[:rows*p.outLen()]
	scale := 1 / float32(g.kh*g.kw)
	o := 0
	for r := 0; r < rows; r++ {
		base := r * p.inLen()
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				first := base + (oy*g.kh*g.w+ox*g.kw)*c
				dst := out[o : o+c]
				copy(dst, x[first:first+c])
				if p.max {
					am := p.argmax[o : o+c]
					for ch := range am {
						am[ch] = int32(first - base + ch)
					}
					for ki := 0; ki < g.kh; ki++ {
						for kj := 0; kj < g.kw; kj++ {
							if ki == 0 && kj == 0 {
								continue // the copy above
							}
							at := first + (ki*g.w+kj)*c
							maxInto(dst, am, x[at:at+c], int32(at-base))
						}
					}
				} else {
					for ki := 0; ki < g.kh; ki++ {
						for kj := 0; kj < g.kw; kj++ {
							if ki == 0 && kj == 0 {
								continue
							}
							at := first + (ki*g.w+kj)*c
							for ch, v := range x[at : at+c] {
								dst[ch] += v
							}
						}
					}
					for ch := range dst {
						dst[ch] *= scale
					}
				}
				o += c
			}
		}
	}
	return out
}

func (p *pool2d) backward(dOut []float32, rows int, _, needDx bool) []float32 {
	if !needDx {
		return nil
	}
	g := p.g
	dx := p.dx[:rows*p.inLen()]
	clear(dx)
	scale := 1 / float32(g.kh*g.kw)
	o := 0
	for r := 0; r < rows; r++ {
		base := r * p.inLen()
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				first := base + (oy*g.kh*g.w+ox*g.kw)*g.c
				for ch := 0; ch < g.c; ch++ {
					d := dOut[o]
					if p.max {
						dx[base+int(p.argmax[o])] += d
					} else {
						for ki := 0; ki < g.kh; ki++ {
							for kj := 0; kj < g.kw; kj++ {
								dx[first+(ki*g.w+kj)*g.c+ch] += d * scale
							}
						}
					}
					o++
				}
			}
		}
	}
	return dx
}

// globalAvgPool averages each of the last axis's c features over the n positions before it
// (timesteps, or pixels of an image).
type globalAvgPool struct {
	n, c    int
	out, dx []float32
}

func (l *globalAvgPool) reserve(rows int) {
	l.out = grow(l.out, rows*l.c)
	l.dx = grow(l.dx, rows*l.n*l.c)
}

func (l *globalAvgPool) forward(x []float32, rows int, _ bool) []float32 {
	out := l.out[:rows*l.c]
	inv := 1 / float32(l.n)
	for r := 0; r < rows; r++ {
		o := out[r*l.c : (r+1)*l.c]
		sumRows(o, x[r*l.n*l.c:(r+1)*l.n*l.c], l.n, l.c)
		for j := range o {
			o[j] *= inv
		}
	}
	return out
}

func (l *globalAvgPool) backward(dOut []float32, rows int, _, needDx bool) []float32 {
	if !needDx {
		return nil
	}
	dx := l.dx[:rows*l.n*l.c]
	inv := 1 / float32(l.n)
	for r := 0; r < rows; r++ {
		d := dOut[r*l.c : (r+1)*l.c]
		for t := 0; t < l.n; t++ {
			row := dx[(r*l.n+t)*l.c : (r*l.n+t+1)*l.c]
			for j, v := range d {
				row[j] = v * inv
			}
		}
	}
	return dx
}

// zero clears a short slice in a loop, cheaper than clear's call for a few values.
func zero(v []float32) {
	for i := range v {
		v[i] = 0
	}
}
