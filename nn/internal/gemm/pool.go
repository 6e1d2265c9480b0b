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

// blockCols is the granularity of the column split: a whole strip of either kernel, so that
// no block ends in a strip the whole product would not have.
const blockCols = 2 * nrMax

// Sgemm is the package's Sgemm, with C's column blocks computed on the pool's workers when the
// product is large enough to gain.
func (s *Splitter) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	parts := 1
	if s != nil && m*n*k >= parallelMin {
		parts = min(s.pool.Workers(), n/blockCols)
	}
	if parts < 2 {
		Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	s.job = product{transA, transB, m, n, k, alpha, beta, a, b, c, lda, ldb, ldc}
	s.parts = parts
	s.pool.Run(parts, s.block)
	s.job = product{} // keep no reference to the caller's matrices
}

// computeBlock computes block i of s.job: whole strips, as even in number as they can be.
func (s *Splitter) computeBlock(i int) {
	j := &s.job
	strips := (j.n + blockCols - 1) / blockCols
	j0 := i * strips / s.parts * blockCols
	j1 := min(j.n, (i+1)*strips/s.parts*blockCols)
	b := j.b[min(j0, len(j.b)):]
	if j.transB {
		b = j.b[min(j0*j.ldb, len(j.b)):]
	}
	Sgemm(j.transA, j.transB, j.m, j1-j0, j.k, j.alpha, j.a, j.lda, b, j.ldb, j.beta, j.c[j0:], j.ldc)
}
