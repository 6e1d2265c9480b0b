package gemm

// Blocking of the assembly path: a tile of C is mr×nr, the inner product is
// cut into blocks of kc so a packed B strip (kc×nr floats, 16 KiB) stays in L1.
const (
	mr = 6
	nr = 16
	kc = 256
	// packMinM is the row count from which packing a B strip pays even when
	// B could be read in place: in-place rows with a large power-of-two
	// stride alias in L1 and the copy is amortised over m/mr tiles.
	packMinM = 4 * mr
)

// asmGemm computes C = alpha*op(A)*op(B) + beta*C with the AVX2 kernel.
// Arguments are checked and m, n, k are positive.
func asmGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	var buf [kc * nr]float32
	rsa, csa := lda, 1
	if transA {
		rsa, csa = 1, lda
	}
	for k0 := 0; k0 < k; k0 += kc {
		kb := min(kc, k-k0)
		bk := beta
		if k0 > 0 {
			bk = 1
		}
		for j0 := 0; j0 < n; j0 += nr {
			nb := min(nr, n-j0)
			bp, ldbp := &buf[0], nr
			if !transB && nb == nr && m < packMinM {
				bp, ldbp = &b[k0*ldb+j0], ldb
			} else {
				packB(transB, kb, nb, b, ldb, k0, j0, buf[:kb*nr])
			}
			for i0 := 0; i0 < m; i0 += mr {
				kern6x16(kb, &a[i0*rsa+k0*csa], rsa, csa, min(mr, m-i0), bp, ldbp, &c[i0*ldc+j0], ldc, nb, alpha, bk)
			}
		}
	}
}

// packB copies the kb×nb block of op(B) starting at row k0, column j0 into
// dst as kb rows of nr floats, zero-padding columns past nb.
func packB(transB bool, kb, nb int, b []float32, ldb, k0, j0 int, dst []float32) {
	if !transB {
		for l := 0; l < kb; l++ {
			row := dst[l*nr : l*nr+nr]
			n := copy(row, b[(k0+l)*ldb+j0:(k0+l)*ldb+j0+nb])
			clear(row[n:])
		}
		return
	}
	// op(B)(l,j) = b[j*ldb+l]: walk each source row once, scattering down a column.
	if nb < nr {
		clear(dst)
	}
	for j := 0; j < nb; j++ {
		src := b[(j0+j)*ldb+k0 : (j0+j)*ldb+k0+kb]
		for l, v := range src {
			dst[l*nr+j] = v
		}
	}
}
