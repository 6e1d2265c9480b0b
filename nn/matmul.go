package nn

import "github.com/loom-ml/loom/nn/internal/gemm"

// matmul computes c = op(a)·op(b) + beta·c for contiguous row-major matrices, where op(a) is
// m×k, op(b) is k×n and c is m×n. Every matrix product of the package goes through here, so
// the kernel behind it can change without touching the layers.
func matmul(transA, transB bool, m, n, k int, a, b []float32, beta float32, c []float32) {
	lda, ldb := k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	gemm.Sgemm(transA, transB, m, n, k, 1, a, lda, b, ldb, beta, c, n)
}
