package nn

import "github.com/loom-ml/loom/nn/internal/gemm"

// matmul computes c = op(a)·op(b) + beta·c for contiguous row-major matrices, where op(a) is
// m×k, op(b) is k×n and c is m×n. Every matrix product of the package goes through here or
// matmulStrided, so the kernel behind them can change without touching the layers.
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

// matmulStrided is matmul on sub-matrices with explicit row strides (a timestep of a
// [batch, time, features] buffer, one head's columns of a fused projection) and a scale
// alpha: c = alpha·op(a)·op(b) + beta·c.
func matmulStrided(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm.Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
