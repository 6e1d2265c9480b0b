//go:build amd64 && !purego

#include "textflag.h"

// func adamAVX(wp, gp, mp, vp *float32, n int, k *adamConsts)
// Per element, in adamScalar's order and rounding:
//   m = b1*m + a1*g
//   v = b2*v + (a2*g)*g
//   w -= (step*m) / (sqrt(v)*invSqrtC2 + eps)
TEXT ·adamAVX(SB), NOSPLIT, $0-48
	MOVQ wp+0(FP), DI
	MOVQ gp+8(FP), SI
	MOVQ mp+16(FP), R8
	MOVQ vp+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	VBROADCASTSS 0(AX), Y8   // b1
	VBROADCASTSS 4(AX), Y9   // a1
	VBROADCASTSS 8(AX), Y10  // b2
	VBROADCASTSS 12(AX), Y11 // a2
	VBROADCASTSS 16(AX), Y12 // step
	VBROADCASTSS 20(AX), Y13 // invSqrtC2
	VBROADCASTSS 24(AX), Y14 // eps
	XORQ BX, BX

loop:
	CMPQ BX, CX
	JGE  done
	VMOVUPS (SI)(BX*4), Y0    // g
	VMULPS  (R8)(BX*4), Y8, Y1 // b1*m
	VMULPS  Y0, Y9, Y2         // a1*g
	VADDPS  Y2, Y1, Y1         // m'
	VMOVUPS Y1, (R8)(BX*4)
	VMULPS  (R9)(BX*4), Y10, Y3 // b2*v
	VMULPS  Y0, Y11, Y4         // a2*g
	VMULPS  Y0, Y4, Y4          // (a2*g)*g
	VADDPS  Y4, Y3, Y3          // v'
	VMOVUPS Y3, (R9)(BX*4)
	VSQRTPS Y3, Y5
	VMULPS  Y13, Y5, Y5         // sqrt(v')*invSqrtC2
	VADDPS  Y14, Y5, Y5         // + eps
	VMULPS  Y1, Y12, Y6         // step*m'
	VDIVPS  Y5, Y6, Y6          // (step*m') / den
	VMOVUPS (DI)(BX*4), Y7
	VSUBPS  Y6, Y7, Y7          // w - update
	VMOVUPS Y7, (DI)(BX*4)
	ADDQ    $8, BX
	JMP     loop

done:
	VZEROUPPER
	RET
