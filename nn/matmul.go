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
}

// useThreads makes n's passes run on threads goroutines until the returned function is
// called; 0 or 1 keeps them on the caller's.
func (n *Network) useThreads(threads int) (release func()) {
	if threads <= 1 {
		return func() {}
	}
	cp := n.cpu
	cp.pool = parallel.New(threads)
	cp.mm = gemm.NewSplitter(cp.pool)
	cp.part = cp.runPart
	return func() {
		cp.pool.Close()
		*cp = compute{}
	}
}

// matmul computes c = op(a)·op(b) + beta·c for contiguous row-major matrices, where op(a) is
// m×k, op(b) is k×n and c is m×n. Every matrix product of the package goes through here or
// matmulStrided, so the kernel behind them can change without touching the layers.
func (cp *compute) matmul(transA, transB bool, m, n, k int, a, b []float32, beta float32, c []float32) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	cp.matmulStrided(transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, n)
}

// matmulStrided is matmul on sub-matrices with explicit row strides (a timestep of a
// [batch, time, features] buffer, one head's columns of a fused projection) and a scale
// alpha: c = alpha·op(a)·op(b) + beta·c.
func (cp *compute) matmulStrided(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	var mm *gemm.Splitter // nil: the caller's goroutine
	if cp != nil {
		mm = cp.mm
	}
	mm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
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

// runPart runs range i of the pass each is splitting.
func (cp *compute) runPart(i int) {
	lo, hi := cp.n*i/cp.parts&^15, cp.n
	if i+1 < cp.parts {
		hi = cp.n * (i + 1) / cp.parts &^ 15
	}
	cp.f(lo, hi)
}
