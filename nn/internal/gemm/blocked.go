package gemm

// Blocking of the assembly path: a tile of C is mr×nr, the inner product is
// cut into blocks of kc so a packed B strip (kc×nr floats, 16 KiB) stays in L1.
const (
	mrMax = 6
	nrMax = 16
	kc    = 256
	// packMinM is the row count from which packing a B strip pays even when
	// B could be read in place: in-place rows with a large power-of-two
	// stride alias in L1 and the copy is amortised over m/mr tiles.
	packMinM = 4 * mrMax
)

// blockedGemm computes C = alpha*op(A)*op(B) + beta*C tile by tile, with
// the AVX2 kernel when useAsm is set and the portable kernel otherwise.
// Arguments are checked and m, n, k are positive.
func blockedGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	// The buffer comes from a pool, and only when a strip needs packing:
	// zeroing a fresh 16 KiB array would cost more than a small product.
	var buf *packBuf
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
		for j0 := 0; j0 < n; j0 += nrMax {
			nb := min(nrMax, n-j0)
			bs, boff, ldbp := b, k0*ldb+j0, ldb
			if transB || nb < nrMax || m >= packMinM {
				if buf == nil {
					buf = getBuf()
				}
				packB(transB, kb, nb, b, ldb, k0, j0, buf[:kb*nrMax])
				bs, boff, ldbp = buf[:], 0, nrMax
			}
			for i0 := 0; i0 < m; i0 += mrMax {
				aoff, coff, mb := i0*rsa+k0*csa, i0*ldc+j0, min(mrMax, m-i0)
				if useAsm {
					kern6x16(kb, &a[aoff], rsa, csa, mb, &bs[boff], ldbp, &c[coff], ldc, nb, alpha, bk)
				} else {
					kernGo(kb, a, aoff, rsa, csa, mb, bs, boff, ldbp, c, coff, ldc, nb, alpha, bk)
				}
			}
		}
	}
	if buf != nil {
		putBuf(buf)
	}
}

// packBuf holds one packed strip of op(B).
type packBuf [kc * nrMax]float32

// packPool keeps packing buffers for reuse; a channel, unlike sync.Pool, is
// never emptied by the garbage collector, so calls stop allocating once the
// pool holds a buffer per concurrent caller (up to its capacity).
var packPool = make(chan *packBuf, 64)

// getBuf takes a buffer from packPool, allocating only when it is empty.
func getBuf() *packBuf {
	select {
	case p := <-packPool:
		return p
	default:
		return new(packBuf)
	}
}

// putBuf returns p to packPool, dropping it when the pool is full.
func putBuf(p *packBuf) {
	select {
	case packPool <- p:
	default:
	}
}

// packB copies the kb×nb block of op(B) starting at row k0, column j0 into
// dst as kb rows of nrMax floats, zero-padding columns past nb.
func packB(transB bool, kb, nb int, b []float32, ldb, k0, j0 int, dst []float32) {
	if !transB {
		for l := 0; l < kb; l++ {
			row := dst[l*nrMax : l*nrMax+nrMax]
			n := copy(row, b[(k0+l)*ldb+j0:(k0+l)*ldb+j0+nb])
			clear(row[n:])
		}
		return
	}
	// op(B)(l,j) = b[j*ldb+l]: read four source rows at once so each
	// destination row gets four adjacent stores.
	if nb < nrMax {
		clear(dst)
	}
	j := 0
	for ; j+4 <= nb; j += 4 {
		base := (j0+j)*ldb + k0
		s0 := b[base : base+kb]
		s1 := b[base+ldb : base+ldb+kb][:len(s0)]
		s2 := b[base+2*ldb : base+2*ldb+kb][:len(s0)]
		s3 := b[base+3*ldb : base+3*ldb+kb][:len(s0)]
		for l := range s0 {
			d := dst[l*nrMax+j : l*nrMax+j+4 : l*nrMax+j+4]
			d[0], d[1], d[2], d[3] = s0[l], s1[l], s2[l], s3[l]
		}
	}
	for ; j < nb; j++ {
		src := b[(j0+j)*ldb+k0 : (j0+j)*ldb+k0+kb]
		for l, v := range src {
			dst[l*nrMax+j] = v
		}
	}
}
