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

	// The passes over a range of images, bound once (see compute.eachImage).
	fwdImages, gradImages, dxImages func(r0, r1 int)
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
	c.fwdImages, c.gradImages, c.dxImages = c.forwardImages, c.activationGradImages, c.inputGradImages
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
	c.mm.eachImage(rows, c.positions()*c.k, c.fwdImages)
	return c.a[:rows*c.positions()*c.g.outC]
}

// forwardImages takes images r0 to r1 through the layer — patches, product, bias,
// activation — on one core, where each step finds the last one's output in cache. The
// product of their rows alone gives the bits of the whole batch's.
func (c *conv2d) forwardImages(r0, r1 int) {
	f := c.g.outC
	m0, m1 := r0*c.positions(), r1*c.positions()
	c.im2col(c.x, r0, r1)
	col, z := c.col[m0*c.k:m1*c.k], c.z[m0*f:m1*f]
	if gemm.OnePass(c.k) { // the bias added after the product: one pass fewer over z
		serial.matmul(false, true, m1-m0, f, c.k, col, c.w, 0, z)
		addRows(z, c.b, m1-m0)
	} else { // the bias where the product starts, as the product's C
		fillRows(z, c.b)
		serial.matmul(false, true, m1-m0, f, c.k, col, c.w, 1, z)
	}
	if c.act != actLinear {
		activate(c.act, c.alpha, z, c.a[m0*f:m1*f], m1-m0, f)
	}
}

// fillRows copies row into every row of dst, in copies that double in length: a copy per row
// cost a call per output position.
func fillRows(dst, row []float32) {
	filled := copy(dst, row)
	for filled < len(dst) {
		filled += copy(dst[filled:], dst[:filled])
	}
}

// im2col writes one patch per output position of images r0 to r1. For a kernel row inside
// the image the valid kernel columns are one contiguous run of the input row (channels-last),
// so they are copied as one block and only the padding is zeroed.
func (c *conv2d) im2col(x []float32, r0, r1 int) {
	g := c.g
	in := g.h * g.w * g.c
	p := r0 * c.positions()
	for r := r0; r < r1; r++ {
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

// col2im sets images r0 to r1 of dx to the sum of their patch gradients, each added back
// onto the input positions it was read from.
func (c *conv2d) col2im(dx []float32, r0, r1 int) {
	g := c.g
	in := g.h * g.w * g.c
	clear(dx[r0*in : r1*in])
	p := r0 * c.positions()
	for r := r0; r < r1; r++ {
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
	c.dz = dOut[:m*f]
	if !skipAct {
		c.mm.eachImage(rows, c.positions()*f, c.gradImages)
	}
	// The weight gradient sums over every image, in one order whatever the threads: it is the
	// one product not split by images.
	c.mm.matmul(true, false, f, c.k, m, c.dz, c.col[:m*c.k], 0, c.gw)
	sumRows(c.gb, c.dz, m, f)
	if !needDx {
		return nil
	}
	c.mm.eachImage(rows, c.positions()*c.k, c.dxImages)
	return c.dx[:rows*c.g.h*c.g.w*c.g.c]
}

// activationGradImages turns images r0 to r1 of dz from ∂L/∂a into ∂L/∂z.
func (c *conv2d) activationGradImages(r0, r1 int) {
	f := c.g.outC
	m0, m1 := r0*c.positions(), r1*c.positions()
	activationGrad(c.act, c.alpha, c.z[m0*f:m1*f], c.a[m0*f:m1*f], c.dz[m0*f:m1*f], m1-m0, f)
}

// inputGradImages computes the input gradient of images r0 to r1: their patch gradients,
// then col2im.
func (c *conv2d) inputGradImages(r0, r1 int) {
	f := c.g.outC
	m0, m1 := r0*c.positions(), r1*c.positions()
	serial.matmul(false, false, m1-m0, c.k, f, c.dz[m0*f:m1*f], c.w, 0, c.dcol[m0*c.k:m1*c.k])
	c.col2im(c.dx, r0, r1)
}

// pool2d is max or average pooling over size windows with stride size; a ragged border is
// dropped, as PyTorch's and Keras's defaults do.
type pool2d struct {
	mm    *compute
	g     geometry
	max   bool
	x, dy []float32 // the pass in progress's input
	// The passes over a range of images, bound once (see compute.eachImage).
	fwdImages, dxImages func(r0, r1 int)
	argmax              []int32 // for max pooling: the input index each output came from
	out                 []float32
	dx                  []float32
}

func newPool2D(b *builder, in []int, l LayerSpec) *pool2d {
	g := geometry{h: in[0], w: in[1], c: in[2], kh: l.Size[0], kw: l.Size[1], sh: l.Size[0], sw: l.Size[1]}
	g.outH, g.outW, g.outC = g.h/g.kh, g.w/g.kw, g.c
	p := &pool2d{mm: b.compute(), g: g, max: l.Type == LayerMaxPool2D}
	p.fwdImages, p.dxImages = p.forwardImages, p.inputGradImages
	return p
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
	p.x = x
	p.mm.eachImage(rows, p.inLen(), p.fwdImages)
	return p.out[:rows*p.outLen()]
}

// forwardImages pools images r0 to r1.
func (p *pool2d) forwardImages(r0, r1 int) {
	g, x, out := p.g, p.x, p.out
	c := g.c
	scale := 1 / float32(g.kh*g.kw)
	o := r0 * p.outLen()
	for r := r0; r < r1; r++ {
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
}

func (p *pool2d) backward(dOut []float32, rows int, _, needDx bool) []float32 {
	if !needDx {
		return nil
	}
	p.dy = dOut
	p.mm.eachImage(rows, p.inLen(), p.dxImages)
	return p.dx[:rows*p.inLen()]
}

// inputGradImages sets images r0 to r1 of the input gradient.
func (p *pool2d) inputGradImages(r0, r1 int) {
	g, dOut, dx := p.g, p.dy, p.dx
	clear(dx[r0*p.inLen() : r1*p.inLen()])
	scale := 1 / float32(g.kh*g.kw)
	o := r0 * p.outLen()
	for r := r0; r < r1; r++ {
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
