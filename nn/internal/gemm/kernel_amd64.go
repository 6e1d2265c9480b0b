//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// hasAVX2FMA reports whether the assembly kernel can run on this CPU; the
// OS support for the YMM state is part of cpu.X86.HasAVX.
var hasAVX2FMA = cpu.X86.HasAVX && cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasAVX512 reports whether the wider kernel, kern6x32, can run (x/sys/cpu checks that the OS
// saves the ZMM state).
var hasAVX512 = hasAVX2FMA && cpu.X86.HasAVX512F

// kern6x16 computes the m×nr block (m ≥ 1, nr ≤ 16) of
// C = alpha*A*B + beta*C over k steps, in tiles of 6×16 held in registers.
// A(i,l) is at a[i*rsa+l*csa] and B(l,j) at b[l*ldb+j]; B rows must hold 16
// readable floats even when nr < 16, while A rows past m are never read and
// C is only touched inside m×nr. beta == 0 overwrites C without reading it.
//
//go:noescape
func kern6x16(k int, a *float32, rsa, csa, m int, b *float32, ldb int, c *float32, ldc, nr int, alpha, beta float32)

// transpose16x8 writes n8*8 rows of 16 floats to dst: row l holds element l
// of each of the 16 source rows. Every source row must have n8*8 floats.
//
//go:noescape
func transpose16x8(n8 int, rows *[16]*float32, dst *float32)

// kern6x32 is kern6x16 for tiles of 6×32 with AVX-512: nr ≤ 32 and B rows must hold 32
// readable floats. It gives the same bits as kern6x16.
//
//go:noescape
func kern6x32(k int, a *float32, rsa, csa, m int, b *float32, ldb int, c *float32, ldc, nr int, alpha, beta float32)
