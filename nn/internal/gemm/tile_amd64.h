// Tile bookkeeping shared by kern6x16 and kern6x32, whose arguments are
// (k int, a *float32, rsa, csa, m int, b *float32, ldb int, c *float32, ldc, nr int, alpha, beta float32).

// MINROWS sets DX to min(6, rows left), rows left being in the m argument.
#define MINROWS \
	MOVQ m+32(FP), DX; \
	MOVQ $6, AX; \
	CMPQ DX, AX; \
	CMOVQGT AX, DX

// PREFETCHC fetches the tile's six C rows, lines bytes each (64 or 128): the tile is read or
// written once k steps from now, and a product whose C is out of cache would otherwise wait
// on memory at every tile's end. A prefetch past the matrix never faults.
#define PREFETCHC(second) \
	MOVQ c+56(FP), AX; \
	MOVQ ldc+64(FP), CX; \
	SHLQ $2, CX; \
	PREFETCHT0 (AX); second(AX); ADDQ CX, AX; \
	PREFETCHT0 (AX); second(AX); ADDQ CX, AX; \
	PREFETCHT0 (AX); second(AX); ADDQ CX, AX; \
	PREFETCHT0 (AX); second(AX); ADDQ CX, AX; \
	PREFETCHT0 (AX); second(AX); ADDQ CX, AX; \
	PREFETCHT0 (AX); second(AX)

#define NOLINE(r)
#define SECONDLINE(r) PREFETCHT0 64(r)

// AROWS loads CX = k, DI = the A column stride in bytes, and R8..R13 = the tile's six A
// rows; rows past mr (DX) re-read the last valid row so that no load leaves A. Then SI = b,
// DX = the B row stride in bytes and BX = 0, the A column offset.
#define AROWS \
	MOVQ k+0(FP), CX; \
	MOVQ a+8(FP), R8; \
	MOVQ rsa+16(FP), AX; \
	SHLQ $2, AX; \
	MOVQ csa+24(FP), DI; \
	SHLQ $2, DI; \
	LEAQ (R8)(AX*1), R9; \
	CMPQ DX, $1; \
	CMOVQLE R8, R9; \
	LEAQ (R9)(AX*1), R10; \
	CMPQ DX, $2; \
	CMOVQLE R9, R10; \
	LEAQ (R10)(AX*1), R11; \
	CMPQ DX, $3; \
	CMOVQLE R10, R11; \
	LEAQ (R11)(AX*1), R12; \
	CMPQ DX, $4; \
	CMOVQLE R11, R12; \
	LEAQ (R12)(AX*1), R13; \
	CMPQ DX, $5; \
	CMOVQLE R12, R13; \
	MOVQ b+40(FP), SI; \
	MOVQ ldb+48(FP), DX; \
	SHLQ $2, DX; \
	XORQ BX, BX

// ROWS6 stores up to six rows of accumulators (two registers a row) with the row macro S,
// C row at DI and row stride SI, stopping after mr (DX) rows.
#define ROWS6(S, done, r0, r1, r2, r3, r4, r5, r6, r7, r8, r9, r10, r11) \
	S(r0, r1); \
	CMPQ DX, $1; \
	JLE done; \
	ADDQ SI, DI; \
	S(r2, r3); \
	CMPQ DX, $2; \
	JLE done; \
	ADDQ SI, DI; \
	S(r4, r5); \
	CMPQ DX, $3; \
	JLE done; \
	ADDQ SI, DI; \
	S(r6, r7); \
	CMPQ DX, $4; \
	JLE done; \
	ADDQ SI, DI; \
	S(r8, r9); \
	CMPQ DX, $5; \
	JLE done; \
	ADDQ SI, DI; \
	S(r10, r11); \
	JMP done

// NEXTTILE advances a, c and m by six rows and jumps to tile, or to ret when no row is left.
#define NEXTTILE(tile, ret) \
	MOVQ m+32(FP), DX; \
	SUBQ $6, DX; \
	JLE ret; \
	MOVQ DX, m+32(FP); \
	MOVQ rsa+16(FP), AX; \
	IMULQ $24, AX; \
	ADDQ AX, a+8(FP); \
	MOVQ ldc+64(FP), AX; \
	IMULQ $24, AX; \
	ADDQ AX, c+56(FP); \
	JMP tile
