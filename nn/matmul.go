package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// matmul computes c = op(a)·op(b) + beta·c for contiguous row-major matrices, where op(a) is
// m×k, op(b) is k×n and c is m×n. Every matrix product of the package goes through here, so
// the kernel behind it can change without touching the layers.
func matmul(transA, transB bool, m, n, k int, a, b []float32, beta float32, c []float32) {
	if m == 0 || n == 0 {
		return
	}
	lda, ldb := k, n
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		lda, tA = m, blas.Trans
	}
	if transB {
		ldb, tB = k, blas.Trans
	}
	gonum.Implementation{}.Sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, c, n)
}
