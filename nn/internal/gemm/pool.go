package gemm

import "sync"

// A Pool multiplies large matrices on several goroutines: it splits C's columns into
// contiguous blocks, one per worker, each computed by Sgemm exactly as it would be whole (the
// same tiles, the same fused multiply-adds in the same order), so the result is bit-identical
// whatever the number of workers. Its goroutines persist until Close. A Pool serves one
// caller at a time; a nil *Pool computes on the caller's goroutine.
type Pool struct {
	workers int
	jobs    chan job
	wg      sync.WaitGroup
}

// job is one column block of a product, passed by value so that dispatching allocates nothing.
type job struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int
}

// NewPool returns a pool of workers goroutines, the caller's counted: workers−1 are started.
func NewPool(workers int) *Pool {
	p := &Pool{workers: max(1, workers), jobs: make(chan job)}
	for range p.workers - 1 {
		go func() {
			for j := range p.jobs {
				Sgemm(j.transA, j.transB, j.m, j.n, j.k, j.alpha, j.a, j.lda, j.b, j.ldb, j.beta, j.c, j.ldc)
				p.wg.Done()
			}
		}()
	}
	return p
}

// Workers returns the goroutines the pool computes on, the caller's included (1 for nil).
func (p *Pool) Workers() int {
	if p == nil {
		return 1
	}
	return p.workers
}

// Close stops the pool's goroutines.
func (p *Pool) Close() {
	if p != nil {
		close(p.jobs)
	}
}

// parallelMin is the multiply-adds below which a product is not split: handing a block to
// another goroutine costs a few microseconds, the time of about a million multiply-adds.
const parallelMin = 1 << 20

// blockCols is the granularity of the column split: a whole strip of either kernel, so that
// no block ends in a strip the whole product would not have.
const blockCols = 2 * nrMax

// Sgemm is the package's Sgemm, with C's column blocks computed on the pool's workers when the
// product is large enough to gain.
func (p *Pool) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	parts := min(p.Workers(), n/blockCols)
	if parts < 2 || m*n*k < parallelMin {
		Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	// Blocks of whole strips, as even as they can be; the caller takes the last.
	strips := (n + blockCols - 1) / blockCols
	j0 := 0
	p.wg.Add(parts - 1)
	for i := range parts {
		j1 := min(n, (i+1)*strips/parts*blockCols)
		bs := b[min(j0, len(b)):]
		if transB {
			bs = b[min(j0*ldb, len(b)):]
		}
		if i == parts-1 {
			Sgemm(transA, transB, m, n-j0, k, alpha, a, lda, bs, ldb, beta, c[j0:], ldc)
			break
		}
		p.jobs <- job{transA: transA, transB: transB, m: m, n: j1 - j0, k: k, alpha: alpha, beta: beta,
			a: a, b: bs, c: c[j0:], lda: lda, ldb: ldb, ldc: ldc}
		j0 = j1
	}
	p.wg.Wait()
}
