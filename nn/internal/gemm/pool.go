package gemm

import "github.com/loom-ml/loom/nn/internal/parallel"

// A Splitter multiplies large matrices on a parallel.Pool: it splits C's columns into
// contiguous blocks, one per worker, each computed by Sgemm exactly as it would be whole (the
// same tiles, the same fused multiply-adds in the same order), so the result is bit-identical
// whatever the number of workers. It serves one caller at a time; a nil *Splitter computes
// on the caller's goroutine.
type Splitter struct {
	pool  *parallel.Pool
	job   product   // the product being split
	parts int       // its blocks
	rows  bool      // whether they are blocks of rows rather than columns
	block func(int) // s.computeBlock, bound once so that splitting allocates nothing
}

// product is the arguments of one Sgemm call.
type product struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
}

// NewSplitter returns a Splitter on pool.
func NewSplitter(pool *parallel.Pool) *Splitter {
	s := &Splitter{pool: pool}
	s.block = s.computeBlock
	return s
}

// parallelMin is the multiply-adds below which a product is not split: handing a block to
// a spinning worker costs about a microsecond, the time of a few hundred thousand
// multiply-adds, and the halves of a smaller product run less efficiently than the whole.
const parallelMin = 1 << 20

// blockCols is the granularity of the split: a whole strip of either kernel, so that no
// block of columns ends in a strip the whole product would not have, and a whole number of
// cache lines for a block of rows.
const blockCols = 2 * nrMax

// Sgemm is the package's Sgemm, with C's column blocks computed on the pool's workers when the
// product is large enough to gain.
func (s *Splitter) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	s.split(false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmRows is Sgemm with C split into blocks of rows instead: Parts(n, m, k) blocks, at the
// boundaries Block gives for m rows. A caller uses it to keep each block of a matrix on one
// worker: a weight gradient computed by rows sits in the cache of the worker that reads those
// rows of the weights in the forward pass and updates them after.
func (s *Splitter) SgemmRows(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	s.split(true, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Parts returns the blocks Sgemm splits an m×n×k product into: 1 when it is too small to gain
// or its n columns make fewer than two blocks.
func (s *Splitter) Parts(m, n, k int) int {
	if s == nil || m*n*k < parallelMin {
		return 1
	}
	return max(1, min(s.pool.Workers(), n/blockCols))
}

// Block returns the range of block i when n rows or columns are split into parts blocks of
// whole strips, as even in number as they can be.
func Block(n, parts, i int) (lo, hi int) {
	strips := (n + blockCols - 1) / blockCols
	return i * strips / parts * blockCols, min(n, (i+1)*strips/parts*blockCols)
}

// split is Sgemm, by blocks of C's rows when rows is set and of its columns otherwise.
func (s *Splitter) split(rows, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	parts := s.Parts(m, n, k)
	if rows {
		parts = s.Parts(n, m, k)
	}
	if parts < 2 {
		Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	s.job = product{transA, transB, m, n, k, alpha, beta, a, b, c, lda, ldb, ldc}
	s.parts, s.rows = parts, rows
	s.pool.Run(parts, s.block)
	s.job = product{} // keep no reference to the caller's matrices
}

// computeBlock computes block i of s.job: a block of C's columns, or of its rows.
func (s *Splitter) computeBlock(i int) {
	j := &s.job
	if s.rows {
		i0, i1 := Block(j.m, s.parts, i)
		a := j.a[min(i0*j.lda, len(j.a)):]
		if j.transA {
			a = j.a[min(i0, len(j.a)):]
		}
		Sgemm(j.transA, j.transB, i1-i0, j.n, j.k, j.alpha, a, j.lda, j.b, j.ldb, j.beta, j.c[i0*j.ldc:], j.ldc)
		return
	}
	j0, j1 := Block(j.n, s.parts, i)
	b := j.b[min(j0, len(j.b)):]
	if j.transB {
		b = j.b[min(j0*j.ldb, len(j.b)):]
	}
	Sgemm(j.transA, j.transB, j.m, j1-j0, j.k, j.alpha, j.a, j.lda, b, j.ldb, j.beta, j.c[j0:], j.ldc)
}
