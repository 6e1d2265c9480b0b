//go:build !amd64 || purego

package gemm

// hasAVX2FMA and hasAVX512 are false where no assembly kernel exists.
const (
	hasAVX2FMA = false
	hasAVX512  = false
)

// kern6x16 is never called without the assembly kernel.
func kern6x16(k int, a *float32, rsa, csa, m int, b *float32, ldb int, c *float32, ldc, nr int, alpha, beta float32) {
	panic("gemm: no assembly kernel")
}

// transpose16x8 is never called without the assembly kernel.
func transpose16x8(n8 int, rows *[16]*float32, dst *float32) {
	panic("gemm: no assembly kernel")
}

// kern6x32 is never called without the assembly kernel.
func kern6x32(k int, a *float32, rsa, csa, m int, b *float32, ldb int, c *float32, ldc, nr int, alpha, beta float32) {
	panic("gemm: no assembly kernel")
}
