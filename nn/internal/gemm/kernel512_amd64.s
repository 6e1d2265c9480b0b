//go:build amd64 && !purego

#include "textflag.h"
#include "tile_amd64.h"

// The AVX-512 twin of kern6x16: a 6×32 tile of C in twelve ZMM registers. Each element of C
// gets the same operations in the same order as in kern6x16 (fused multiply-adds over k from
// zero, then alpha·acc, then + beta·C fused), so the two kernels give the same bits.

// ZSTEP performs one rank-1 update of the 6×32 accumulator tile Z0..Z11: two 16-wide loads
// of a B row, six broadcasts of an A column.
#define ZSTEP \
	VMOVUPS (SI), Z12; \
	VMOVUPS 64(SI), Z13; \
	ADDQ DX, SI; \
	VBROADCASTSS (R8)(BX*1), Z14; \
	VFMADD231PS Z12, Z14, Z0; \
	VFMADD231PS Z13, Z14, Z1; \
	VBROADCASTSS (R9)(BX*1), Z15; \
	VFMADD231PS Z12, Z15, Z2; \
	VFMADD231PS Z13, Z15, Z3; \
	VBROADCASTSS (R10)(BX*1), Z14; \
	VFMADD231PS Z12, Z14, Z4; \
	VFMADD231PS Z13, Z14, Z5; \
	VBROADCASTSS (R11)(BX*1), Z15; \
	VFMADD231PS Z12, Z15, Z6; \
	VFMADD231PS Z13, Z15, Z7; \
	VBROADCASTSS (R12)(BX*1), Z14; \
	VFMADD231PS Z12, Z14, Z8; \
	VFMADD231PS Z13, Z14, Z9; \
	VBROADCASTSS (R13)(BX*1), Z15; \
	VFMADD231PS Z12, Z15, Z10; \
	VFMADD231PS Z13, Z15, Z11; \
	ADDQ DI, BX

// Row stores: C row at (DI) = acc (+ beta*C, beta in Z15), the lanes masked by K1/K2.
#define ZSTORE0(za, zb) \
	VMOVUPS za, K1, (DI); \
	VMOVUPS zb, K2, 64(DI)

#define ZSTORE(za, zb) \
	VMOVUPS (DI), K1, Z14; \
	VFMADD231PS Z14, Z15, za; \
	VMOVUPS 64(DI), K2, Z14; \
	VFMADD231PS Z14, Z15, zb; \
	VMOVUPS za, K1, (DI); \
	VMOVUPS zb, K2, 64(DI)

// ZROWS stores up to six rows of Z0..Z11 with the given row macro.
#define ZROWS(S, done) ROWS6(S, done, Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11)

// func kern6x32(k int, a *float32, rsa, csa, m int, b *float32, ldb int, c *float32, ldc, nr int, alpha, beta float32)
TEXT ·kern6x32(SB), NOSPLIT, $0-88
tile:
	PREFETCHC(SECONDLINE)
	MINROWS
	AROWS

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11

zloop4:
	CMPQ CX, $4
	JL   ztail
	ZSTEP
	ZSTEP
	ZSTEP
	ZSTEP
	SUBQ $4, CX
	JMP  zloop4

ztail:
	TESTQ CX, CX
	JEQ   zscale
	ZSTEP
	DECQ  CX
	JMP   ztail

zscale:
	VBROADCASTSS alpha+80(FP), Z14
	VMULPS Z14, Z0, Z0
	VMULPS Z14, Z1, Z1
	VMULPS Z14, Z2, Z2
	VMULPS Z14, Z3, Z3
	VMULPS Z14, Z4, Z4
	VMULPS Z14, Z5, Z5
	VMULPS Z14, Z6, Z6
	VMULPS Z14, Z7, Z7
	VMULPS Z14, Z8, Z8
	VMULPS Z14, Z9, Z9
	VMULPS Z14, Z10, Z10
	VMULPS Z14, Z11, Z11

	// K1 and K2 enable the first nr of the 32 columns.
	MOVQ nr+72(FP), CX
	MOVQ $-1, R14
	CMPQ CX, $32
	JGE  zmask
	MOVQ $1, R14
	SHLQ CX, R14
	DECQ R14
zmask:
	KMOVW R14, K1
	SHRQ $16, R14
	KMOVW R14, K2

	MINROWS
	MOVQ c+56(FP), DI
	MOVQ ldc+64(FP), SI
	SHLQ $2, SI
	VBROADCASTSS beta+84(FP), Z15
	MOVL beta+84(FP), AX
	ANDL $0x7fffffff, AX
	TESTL AX, AX
	JEQ  zstore0
	ZROWS(ZSTORE, zdone)

zstore0:
	ZROWS(ZSTORE0, zdone)

zdone:
	NEXTTILE(tile, zret)

zret:
	VZEROUPPER
	RET
