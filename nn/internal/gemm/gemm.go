// Package gemm provides a fast, allocation-free, single-threaded float32
// general matrix multiply for the neural-network layers in package nn.
//
// On amd64 CPUs with AVX2 and FMA (checked at run time) the work is done by
// an assembly kernel that keeps a 6×16 tile of C in twelve YMM registers and
// reads A in place through row and column strides, so Aᵀ costs nothing.
// B is read in place too, one 16-column strip at a time, and is only packed
// (into a pooled 16 KiB buffer) when it is transposed, when fewer than 16
// columns remain, or when its rows alias in L1. Small products therefore
// pay no packing at all. Elsewhere a portable Go kernel with the same
// blocking is used (build tag purego forces it).
//
// Where AVX-512 is available a 6×32 twin of the kernel (kern6x32) runs
// instead, twice as wide and giving the same bits: each element of C gets the
// same fused multiply-adds in the same order, so a model trains to the same
// weights with and without AVX-512. Both kernels prefetch their C tile while
// they compute it. A tall product whose B strips are packed anyway sweeps row
// blocks of A past a panel of packed strips that stays in L2 (panelGemm).
//
// Results are deterministic for given inputs on a given machine; the
// assembly kernels use fused multiply-adds, so their last bits may differ from
// the portable path. Sgemm is safe for concurrent use: all state is on the
// stack or in buffers taken from a pool for the duration of a call.
package gemm

// useAsm selects the assembly kernel; tests clear it to exercise the
// pure-Go path on machines that have the kernel.
var useAsm = hasAVX2FMA

// use512 selects the AVX-512 kernel where useAsm holds; tests clear it to exercise kern6x16.
var use512 = hasAVX512

// Sgemm computes C = alpha*op(A)*op(B) + beta*C, row-major, op(X) = X or Xᵀ,
// op(A) is m×k, op(B) is k×n, C is m×n; lda/ldb/ldc are row strides. It never allocates.
//
// When beta is 0, C is overwritten without being read, so it may hold NaN
// garbage. Sgemm panics if a dimension is negative, a stride is too small or
// a slice is too short, as these are programming errors, not user input.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkArgs(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	blockedGemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Contiguous returns the row strides of op(A), m×k, and op(B), k×n, stored without gaps.
func Contiguous(transA, transB bool, m, n, k int) (lda, ldb int) {
	lda, ldb = k, n
	if transA {
		lda = m
	}
	if transB {
		ldb = k
	}
	return lda, ldb
}

// checkArgs panics with a descriptive message when the shapes, strides or
// slice lengths are inconsistent.
func checkArgs(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("gemm: negative dimension")
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	checkMatrix("a", ar, ac, a, lda)
	checkMatrix("b", br, bc, b, ldb)
	checkMatrix("c", m, n, c, ldc)
}

// checkMatrix verifies that s can hold a rows×cols row-major matrix with
// row stride ld.
func checkMatrix(name string, rows, cols int, s []float32, ld int) {
	if ld < max(1, cols) {
		panic("gemm: bad stride for " + name)
	}
	if rows == 0 || cols == 0 {
		return
	}
	if len(s) < (rows-1)*ld+cols {
		panic("gemm: slice " + name + " too short")
	}
}

// scaleC sets C = beta*C, writing zeros when beta is 0 so NaNs in C vanish.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// Kernel names the kernel Sgemm uses on this machine. Kernels differ in the last bits of
// their results (fused multiply-add rounds once), so anything keyed on results must include it.
func Kernel() string {
	if useAsm {
		return "avx2fma"
	}
	return "go"
}

// OnePass reports whether Sgemm sums each element of a product with this k in one pass (one
// block of K). Then C = A·B followed by C += v gives the bits of C = v followed by
// C = A·B + C (beta 1): fl(Σ + v) either way.
func OnePass(k int) bool { return k <= kc }
