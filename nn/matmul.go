package nn

import (
	"github.com/loom-ml/loom/nn/internal/gemm"
	"github.com/loom-ml/loom/nn/internal/parallel"
)

// A compute is where a network's heavy passes run: on the caller's goroutine, or split over a
// pool of workers while Fit trains with TrainConfig.Threads above 1. Every layer that
// multiplies holds its network's compute, so that one setting reaches them all. Products are
// split over blocks of C's columns, each computed as it would be whole, and elementwise
// passes over ranges of independent elements, so the thread count never changes a bit.
// The zero value and nil both compute on the caller's goroutine.
type compute struct {
	pool *parallel.Pool
	mm   *gemm.Splitter

	// The elementwise pass being split (see each).
	n, parts int
	f        func(lo, hi int)
	part     func(int) // c.runPart, bound once so that each allocates nothing

	// owners[i] are the ranges of the network's parameters that part i of the optimiser's
	// update takes (see eachOwned), made by the network's first backward pass on the pool.
	owners    [][]span
	ownerPart func(int) // c.runOwned, bound once
	imagePart func(int) // c.runImages, bound once
}

// span is the range [lo, hi) of a flat buffer.
type span struct{ lo, hi int }

// useThreads makes n's passes run on threads goroutines until the returned function is
// called; 0 or 1 keeps them on the caller's.
func (n *Network) useThreads(threads int) (release func()) {
	if threads <= 1 {
		return func() {}
	}
	cp := n.cpu
	cp.pool = parallel.New(threads)
	cp.mm = gemm.NewSplitter(cp.pool)
	cp.part, cp.ownerPart, cp.imagePart = cp.runPart, cp.runOwned, cp.runImages
	return func() {
		cp.pool.Close()
		*cp = compute{}
	}
}

// matmul computes c = op(a)·op(b) + beta·c for contiguous row-major matrices, where op(a) is
// m×k, op(b) is k×n and c is m×n. Every matrix product of the package goes through here,
// matmulRows or matmulStrided, so the kernel behind them can change without touching the
// layers.
func (cp *compute) matmul(transA, transB bool, m, n, k int, a, b []float32, beta float32, c []float32) {
	lda, ldb := gemm.Contiguous(transA, transB, m, n, k)
	cp.splitter().Sgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, n)
}

// matmulRows is matmul with c split over the pool's workers by blocks of rows rather than
// columns, at gemm.Block's boundaries: see dense.backward.
func (cp *compute) matmulRows(transA, transB bool, m, n, k int, a, b []float32, beta float32, c []float32) {
	lda, ldb := gemm.Contiguous(transA, transB, m, n, k)
	cp.splitter().SgemmRows(transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, n)
}

// matmulStrided is matmul on sub-matrices with explicit row strides (a timestep of a
// [batch, time, features] buffer, one head's columns of a fused projection) and a scale
// alpha: c = alpha·op(a)·op(b) + beta·c.
func (cp *compute) matmulStrided(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	cp.splitter().Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// splitter returns cp's splitter: nil, the caller's goroutine, for a nil cp or one training
// on one thread.
func (cp *compute) splitter() *gemm.Splitter {
	if cp == nil {
		return nil
	}
	return cp.mm
}

// eachMin is the elements below which an elementwise pass is not split: a few microseconds
// of work, about what handing half of it to a worker costs.
const eachMin = 1 << 15

// each calls f on ranges that cover [0, n), one per worker when n is large enough to gain.
// It is for passes whose elements are independent, so that where the ranges end changes
// nothing; they end on multiples of 16 so that vector loops keep whole blocks. f should be a
// value made once (a method value kept in a field): a closure made per call would allocate.
func (cp *compute) each(n int, f func(lo, hi int)) {
	if cp == nil || cp.pool == nil || n < eachMin {
		f(0, n)
		return
	}
	cp.n, cp.parts, cp.f = n, cp.pool.Workers(), f
	cp.pool.Run(cp.parts, cp.part)
	cp.f = nil
}

// eachImage calls f on ranges that cover the rows images of a batch, one per worker when
// their perRow values each are enough to gain. It is for passes that compute each image on
// its own — their products over the images' rows, which give the bits of the whole batch's
// (TestRowsAnywhereSameBits in gemm) — so that where the ranges end changes nothing, and
// that keep an image's data on one core from its patches to its pooling. f should be a value
// made once.
func (cp *compute) eachImage(rows, perRow int, f func(r0, r1 int)) {
	if cp == nil || cp.pool == nil || rows < 2 || rows*perRow < eachMin {
		f(0, rows)
		return
	}
	cp.n, cp.parts, cp.f = rows, min(cp.pool.Workers(), rows), f
	cp.pool.Run(cp.parts, cp.imagePart)
	cp.f = nil
}

// runImages runs range i of the images eachImage is splitting.
func (cp *compute) runImages(i int) { cp.f(cp.n*i/cp.parts, cp.n*(i+1)/cp.parts) }

// serial computes the products of passes already split, on the goroutine they run on.
var serial *compute

// runPart runs range i of the pass each is splitting.
func (cp *compute) runPart(i int) {
	lo, hi := cp.n*i/cp.parts&^15, cp.n
	if i+1 < cp.parts {
		hi = cp.n * (i + 1) / cp.parts &^ 15
	}
	cp.f(lo, hi)
}

// eachOwned is each over the n values of the network's parameters, giving every worker the
// ranges cp.owners assigns it, so that a worker updates the weights whose gradient it has
// just computed and whose rows it reads in the next forward pass. Handing them to the other
// core instead made the 784-256-256-10 MLP's Adam update slower on two threads than on one.
func (cp *compute) eachOwned(n int, f func(lo, hi int)) {
	if cp == nil || cp.owners == nil || n < eachMin {
		cp.each(n, f)
		return
	}
	cp.f = f
	cp.pool.Run(len(cp.owners), cp.ownerPart)
	cp.f = nil
}

// runOwned runs the ranges part i of eachOwned's pass owns.
func (cp *compute) runOwned(i int) {
	for _, s := range cp.owners[i] {
		cp.f(s.lo, s.hi)
	}
}

// planOwners sets cp.owners for n's parameters: the rows of each dense weight matrix whose
// gradient is split by rows go to the worker that computes them, and every other value to a
// worker with fewer than its share, in order, so that the parts stay about equal.
func (n *Network) planOwners(rows int) {
	cp := n.cpu
	if cp.pool == nil || cp.owners != nil {
		return
	}
	parts := cp.pool.Workers()
	owners := make([][]span, parts)
	sizes := make([]int, parts)
	var taken []span // in increasing order: layers are laid out in order
	for _, l := range n.layers {
		d, ok := l.(*dense)
		if !ok {
			continue
		}
		p := cp.mm.Parts(d.in, d.out, rows) // gw is out×in, split by rows: out is the split side
		if p < 2 {
			continue
		}
		for i := range p {
			r0, r1 := gemm.Block(d.out, p, i)
			s := span{d.wAt + r0*d.in, d.wAt + r1*d.in}
			owners[i] = append(owners[i], s)
			sizes[i] += s.hi - s.lo
			taken = append(taken, s)
		}
	}
	share := (len(n.params) + parts - 1) / parts
	part, lo := 0, 0
	give := func(hi int) { // hands out [lo, hi) to parts below their share
		for lo < hi {
			for part < parts-1 && sizes[part] >= share {
				part++
			}
			end := min(hi, lo+max(share-sizes[part], 0))
			if part == parts-1 {
				end = hi
			}
			owners[part] = append(owners[part], span{lo, end})
			sizes[part] += end - lo
			lo = end
		}
	}
	for _, s := range taken {
		give(s.lo)
		lo = s.hi
	}
	give(len(n.params))
	cp.owners = owners
}
