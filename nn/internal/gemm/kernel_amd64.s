//go:build amd64 && !purego

#include "textflag.h"
#include "tile_amd64.h"

// STEP performs one rank-1 update of the 6×16 accumulator tile Y0..Y11:
// two 8-wide loads of a B row, six broadcasts of an A column.
#define STEP \
	VMOVUPS (SI), Y12; \
	VMOVUPS 32(SI), Y13; \
	ADDQ DX, SI; \
	VBROADCASTSS (R8)(BX*1), Y14; \
	VFMADD231PS Y12, Y14, Y0; \
	VFMADD231PS Y13, Y14, Y1; \
	VBROADCASTSS (R9)(BX*1), Y15; \
	VFMADD231PS Y12, Y15, Y2; \
	VFMADD231PS Y13, Y15, Y3; \
	VBROADCASTSS (R10)(BX*1), Y14; \
	VFMADD231PS Y12, Y14, Y4; \
	VFMADD231PS Y13, Y14, Y5; \
	VBROADCASTSS (R11)(BX*1), Y15; \
	VFMADD231PS Y12, Y15, Y6; \
	VFMADD231PS Y13, Y15, Y7; \
	VBROADCASTSS (R12)(BX*1), Y14; \
	VFMADD231PS Y12, Y14, Y8; \
	VFMADD231PS Y13, Y14, Y9; \
	VBROADCASTSS (R13)(BX*1), Y15; \
	VFMADD231PS Y12, Y15, Y10; \
	VFMADD231PS Y13, Y15, Y11; \
	ADDQ DI, BX

// STEP3 is STEP for tiles of at most three rows (accumulators Y0..Y5):
// half the FMAs, so a short last row tile costs about half a full one.
#define STEP3 \
	VMOVUPS (SI), Y12; \
	VMOVUPS 32(SI), Y13; \
	ADDQ DX, SI; \
	VBROADCASTSS (R8)(BX*1), Y14; \
	VFMADD231PS Y12, Y14, Y0; \
	VFMADD231PS Y13, Y14, Y1; \
	VBROADCASTSS (R9)(BX*1), Y15; \
	VFMADD231PS Y12, Y15, Y2; \
	VFMADD231PS Y13, Y15, Y3; \
	VBROADCASTSS (R10)(BX*1), Y14; \
	VFMADD231PS Y12, Y14, Y4; \
	VFMADD231PS Y13, Y14, Y5; \
	ADDQ DI, BX

// Row stores: C row at (DI) = acc (+ beta*C, beta in Y15), masked by Y12/Y13.
#define STORE_FULL0(ya, yb) \
	VMOVUPS ya, (DI); \
	VMOVUPS yb, 32(DI)

#define STORE_FULL(ya, yb) \
	VFMADD231PS (DI), Y15, ya; \
	VFMADD231PS 32(DI), Y15, yb; \
	VMOVUPS ya, (DI); \
	VMOVUPS yb, 32(DI)

#define STORE_MASK0(ya, yb) \
	VMASKMOVPS ya, Y12, (DI); \
	VMASKMOVPS yb, Y13, 32(DI)

#define STORE_MASK(ya, yb) \
	VMASKMOVPS (DI), Y12, Y14; \
	VFMADD231PS Y14, Y15, ya; \
	VMASKMOVPS 32(DI), Y13, Y14; \
	VFMADD231PS Y14, Y15, yb; \
	VMASKMOVPS ya, Y12, (DI); \
	VMASKMOVPS yb, Y13, 32(DI)

// ROWS stores up to six rows of Y0..Y11 with the given row macro.
#define ROWS(S, done) ROWS6(S, done, Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11)

// func kern6x16(k int, a *float32, rsa, csa, m int, b *float32, ldb int, c *float32, ldc, nr int, alpha, beta float32)
//
// The arguments a, c and m are advanced in place from one 6-row tile to the
// next, saving a call per tile.
TEXT ·kern6x16(SB), NOSPLIT, $0-88
tile:
	PREFETCHC(NOLINE)
	MINROWS
	AROWS

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	CMPQ m+32(FP), $3
	JLE  loop4s

loop4:
	CMPQ CX, $4
	JL   tail
	STEP
	STEP
	STEP
	STEP
	SUBQ $4, CX
	JMP  loop4

tail:
	TESTQ CX, CX
	JEQ   scale
	STEP
	DECQ  CX
	JMP   tail

loop4s:
	CMPQ CX, $4
	JL   tails
	STEP3
	STEP3
	STEP3
	STEP3
	SUBQ $4, CX
	JMP  loop4s

tails:
	TESTQ CX, CX
	JEQ   scale
	STEP3
	DECQ  CX
	JMP   tails

scale:
	VBROADCASTSS alpha+80(FP), Y14
	VMULPS Y14, Y0, Y0
	VMULPS Y14, Y1, Y1
	VMULPS Y14, Y2, Y2
	VMULPS Y14, Y3, Y3
	VMULPS Y14, Y4, Y4
	VMULPS Y14, Y5, Y5
	VMULPS Y14, Y6, Y6
	VMULPS Y14, Y7, Y7
	VMULPS Y14, Y8, Y8
	VMULPS Y14, Y9, Y9
	VMULPS Y14, Y10, Y10
	VMULPS Y14, Y11, Y11

	MINROWS
	MOVQ c+56(FP), DI
	MOVQ ldc+64(FP), SI
	SHLQ $2, SI
	VBROADCASTSS beta+84(FP), Y15
	MOVL beta+84(FP), AX
	ANDL $0x7fffffff, AX
	MOVQ nr+72(FP), CX
	CMPQ CX, $16
	JLT  masked
	TESTL AX, AX
	JEQ  full0
	ROWS(STORE_FULL, done)

full0:
	ROWS(STORE_FULL0, done)

masked:
	MOVQ $16, BX
	SUBQ CX, BX
	LEAQ ·maskTable(SB), R8
	VMOVDQU (R8)(BX*4), Y12
	VMOVDQU 32(R8)(BX*4), Y13
	TESTL AX, AX
	JEQ  masked0
	ROWS(STORE_MASK, done)

masked0:
	ROWS(STORE_MASK0, done)

done:
	NEXTTILE(tile, ret)

ret:
	VZEROUPPER
	RET

// maskTable holds 16 all-ones lanes followed by 16 zero lanes; loading 16
// lanes at index 16-nr yields a mask of the first nr lanes.
DATA ·maskTable+0(SB)/8, $-1
DATA ·maskTable+8(SB)/8, $-1
DATA ·maskTable+16(SB)/8, $-1
DATA ·maskTable+24(SB)/8, $-1
DATA ·maskTable+32(SB)/8, $-1
DATA ·maskTable+40(SB)/8, $-1
DATA ·maskTable+48(SB)/8, $-1
DATA ·maskTable+56(SB)/8, $-1
DATA ·maskTable+64(SB)/8, $0
DATA ·maskTable+72(SB)/8, $0
DATA ·maskTable+80(SB)/8, $0
DATA ·maskTable+88(SB)/8, $0
DATA ·maskTable+96(SB)/8, $0
DATA ·maskTable+104(SB)/8, $0
DATA ·maskTable+112(SB)/8, $0
DATA ·maskTable+120(SB)/8, $0
GLOBL ·maskTable(SB), RODATA|NOPTR, $128

// LOAD8 loads 32 bytes at column offset SI from the eight source rows whose
// pointers start at byte off of the table in AX.
#define LOAD8(off) \
	MOVQ off+0(AX), R8; VMOVUPS (R8)(SI*1), Y0; \
	MOVQ off+8(AX), R8; VMOVUPS (R8)(SI*1), Y1; \
	MOVQ off+16(AX), R8; VMOVUPS (R8)(SI*1), Y2; \
	MOVQ off+24(AX), R8; VMOVUPS (R8)(SI*1), Y3; \
	MOVQ off+32(AX), R8; VMOVUPS (R8)(SI*1), Y4; \
	MOVQ off+40(AX), R8; VMOVUPS (R8)(SI*1), Y5; \
	MOVQ off+48(AX), R8; VMOVUPS (R8)(SI*1), Y6; \
	MOVQ off+56(AX), R8; VMOVUPS (R8)(SI*1), Y7

// TRANSPOSE8 transposes the 8×8 block in Y0..Y7 into Y8..Y15.
#define TRANSPOSE8 \
	VUNPCKLPS Y1, Y0, Y8; \
	VUNPCKHPS Y1, Y0, Y9; \
	VUNPCKLPS Y3, Y2, Y10; \
	VUNPCKHPS Y3, Y2, Y11; \
	VUNPCKLPS Y5, Y4, Y12; \
	VUNPCKHPS Y5, Y4, Y13; \
	VUNPCKLPS Y7, Y6, Y14; \
	VUNPCKHPS Y7, Y6, Y15; \
	VSHUFPS $0x44, Y10, Y8, Y0; \
	VSHUFPS $0xEE, Y10, Y8, Y1; \
	VSHUFPS $0x44, Y11, Y9, Y2; \
	VSHUFPS $0xEE, Y11, Y9, Y3; \
	VSHUFPS $0x44, Y14, Y12, Y4; \
	VSHUFPS $0xEE, Y14, Y12, Y5; \
	VSHUFPS $0x44, Y15, Y13, Y6; \
	VSHUFPS $0xEE, Y15, Y13, Y7; \
	VPERM2F128 $0x20, Y4, Y0, Y8; \
	VPERM2F128 $0x20, Y5, Y1, Y9; \
	VPERM2F128 $0x20, Y6, Y2, Y10; \
	VPERM2F128 $0x20, Y7, Y3, Y11; \
	VPERM2F128 $0x31, Y4, Y0, Y12; \
	VPERM2F128 $0x31, Y5, Y1, Y13; \
	VPERM2F128 $0x31, Y6, Y2, Y14; \
	VPERM2F128 $0x31, Y7, Y3, Y15

// STORE8 writes Y8..Y15 as eight destination rows of 16 floats at half off.
#define STORE8(off) \
	VMOVUPS Y8, off+0(DI); \
	VMOVUPS Y9, off+64(DI); \
	VMOVUPS Y10, off+128(DI); \
	VMOVUPS Y11, off+192(DI); \
	VMOVUPS Y12, off+256(DI); \
	VMOVUPS Y13, off+320(DI); \
	VMOVUPS Y14, off+384(DI); \
	VMOVUPS Y15, off+448(DI)

// func transpose16x8(n8 int, rows *[16]*float32, dst *float32)
TEXT ·transpose16x8(SB), NOSPLIT, $0-24
	MOVQ n8+0(FP), CX
	MOVQ rows+8(FP), AX
	MOVQ dst+16(FP), DI
	XORQ SI, SI

tloop:
	TESTQ CX, CX
	JEQ   tdone
	LOAD8(0)
	TRANSPOSE8
	STORE8(0)
	LOAD8(64)
	TRANSPOSE8
	STORE8(32)
	ADDQ $32, SI
	ADDQ $512, DI
	DECQ CX
	JMP  tloop

tdone:
	VZEROUPPER
	RET
