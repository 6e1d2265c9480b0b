//go:build amd64 && !purego

#include "textflag.h"

// The elementwise passes of ReLU and max pooling, 8 values at a time with AVX2. Each computes
// exactly what its scalar loop in pass.go computes, bit for bit.

// func reluAVX2(z, a *float32, n int)
// a = z where z's sign bit is clear, +0 where it is set: z AND NOT (z >> 31, arithmetic).
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ z+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ n+16(FP), CX
	XORQ BX, BX

reluLoop:
	CMPQ BX, CX
	JGE  reluDone
	VMOVUPS (SI)(BX*4), Y0
	VPSRAD  $31, Y0, Y1
	VPANDN  Y0, Y1, Y2
	VMOVUPS Y2, (DI)(BX*4)
	ADDQ    $8, BX
	JMP     reluLoop

reluDone:
	VZEROUPPER
	RET

// func reluMaskAVX2(a, d *float32, n int)
// d = d where a, read as an int32, is positive (a > +0), else +0.
TEXT ·reluMaskAVX2(SB), NOSPLIT, $0-24
	MOVQ a+0(FP), SI
	MOVQ d+8(FP), DI
	MOVQ n+16(FP), CX
	XORQ BX, BX
	VPXOR Y7, Y7, Y7

maskLoop:
	CMPQ BX, CX
	JGE  maskDone
	VMOVUPS  (SI)(BX*4), Y0
	VPCMPGTD Y7, Y0, Y1
	VPAND    (DI)(BX*4), Y1, Y2
	VMOVUPS  Y2, (DI)(BX*4)
	ADDQ     $8, BX
	JMP      maskLoop

maskDone:
	VZEROUPPER
	RET

DATA iota8<>+0(SB)/4, $0
DATA iota8<>+4(SB)/4, $1
DATA iota8<>+8(SB)/4, $2
DATA iota8<>+12(SB)/4, $3
DATA iota8<>+16(SB)/4, $4
DATA iota8<>+20(SB)/4, $5
DATA iota8<>+24(SB)/4, $6
DATA iota8<>+28(SB)/4, $7
GLOBL iota8<>(SB), RODATA|NOPTR, $32

// func maxIntoAVX2(dst *float32, am *int32, src *float32, n int, off int32)
// Where src > dst (ordered): dst = src and am = off + the channel.
TEXT ·maxIntoAVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ am+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	MOVL off+32(FP), AX
	VMOVD        AX, X6
	VPBROADCASTD X6, Y6
	VPADDD       iota8<>(SB), Y6, Y6 // the indices of the first 8 channels
	MOVL         $8, AX
	VMOVD        AX, X7
	VPBROADCASTD X7, Y7
	XORQ BX, BX

maxLoop:
	CMPQ BX, CX
	JGE  maxDone
	VMOVUPS   (DI)(BX*4), Y0           // m
	VMOVUPS   (SI)(BX*4), Y1           // v
	VMOVUPS   (R8)(BX*4), Y2           // a
	VCMPPS    $0x1e, Y0, Y1, Y3        // v > m, ordered
	VBLENDVPS Y3, Y1, Y0, Y4
	VBLENDVPS Y3, Y6, Y2, Y5
	VMOVUPS   Y4, (DI)(BX*4)
	VMOVUPS   Y5, (R8)(BX*4)
	VPADDD    Y7, Y6, Y6
	ADDQ      $8, BX
	JMP       maxLoop

maxDone:
	VZEROUPPER
	RET

// func addRowsAVX2(dst, src *float32, rows, cols, dstStep, srcStep int)
// For each of rows rows, in order: dst[0:cols] += src[0:cols] (cols a multiple of 8), then dst
// moves on by dstStep values and src by srcStep. A step of 0 repeats a row: a bias added to
// every row (dstStep cols, srcStep 0), or every row summed into one (dstStep 0, srcStep cols).
TEXT ·addRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), DX
	MOVQ cols+24(FP), CX
	MOVQ dstStep+32(FP), R8
	MOVQ srcStep+40(FP), R9
	SHLQ $2, R8
	SHLQ $2, R9

rowsLoop:
	TESTQ DX, DX
	JZ    rowsDone
	XORQ  BX, BX

colsLoop:
	CMPQ    BX, CX
	JGE     colsDone
	VMOVUPS (DI)(BX*4), Y0
	VADDPS  (SI)(BX*4), Y0, Y0
	VMOVUPS Y0, (DI)(BX*4)
	ADDQ    $8, BX
	JMP     colsLoop

colsDone:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ DX
	JMP  rowsLoop

rowsDone:
	VZEROUPPER
	RET
