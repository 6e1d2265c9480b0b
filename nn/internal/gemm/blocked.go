package gemm

// Blocking: a tile of C is at most mrMax×nrMax, the inner product is cut
// into blocks of kc so a B strip (kc×nrMax floats, 16 KiB) stays in L1 while
// every row tile of A streams past it.
//
// Only B strips that cannot be read in place (op(B) = Bᵀ, fewer than nrMax
// columns left, or rows aliasing in L1) are packed. Packing A into panels,
// packing every B strip, and blocking the rows of A for L2 were all measured
// and were slower at the benchmark shapes (up to 512): the kernel's six
// strided A streams prefetch well and packing only adds copies.
const (
	mrMax = 6
	nrMax = 16
	kc    = 256
	// aliasStride (in floats) and aliasMinM: rows of an in-place B strip
	// that are a multiple of 2 KiB apart map to the same few L1 sets and
	// evict each other, so such strips are packed once m amortises the copy.
	aliasStride = 512
	aliasMinM   = 4 * mrMax
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
	packAll := transB || (m >= aliasMinM && ldb%aliasStride == 0)
	for k0 := 0; k0 < k; k0 += kc {
		kb := min(kc, k-k0)
		bk := beta
		if k0 > 0 {
			bk = 1
		}
		for j0 := 0; j0 < n; j0 += nrMax {
			nb := min(nrMax, n-j0)
			bs, boff, ldbp := b, k0*ldb+j0, ldb
			if packAll || nb < nrMax {
				if buf == nil {
					buf = getBuf()
				}
				packB(transB, kb, nb, b, ldb, k0, j0, buf[:kb*nrMax])
				bs, boff, ldbp = buf[:], 0, nrMax
			}
			rowTiles(kb, m, a, k0*csa, rsa, csa, bs, boff, ldbp, c, j0, ldc, nb, alpha, bk)
		}
	}
	if buf != nil {
		putBuf(buf)
	}
}

// rowTiles multiplies mb rows of A, starting at aoff, by one B strip of
// nb ≤ nrMax columns into C[coff:], one kernel call per mrMax rows.
func rowTiles(kb, mb int, a []float32, aoff, rsa, csa int, b []float32, boff, ldb int, c []float32, coff, ldc, nb int, alpha, beta float32) {
	for i := 0; i < mb; i += mrMax {
		r := min(mrMax, mb-i)
		ao, co := aoff+i*rsa, coff+i*ldc
		if useAsm {
			kern6x16(kb, &a[ao], rsa, csa, r, &b[boff], ldb, &c[co], ldc, nb, alpha, beta)
		} else {
			kernGo(kb, a, ao, rsa, csa, r, b, boff, ldb, c, co, ldc, nb, alpha, beta)
		}
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
	// op(B)(l,j) = b[j*ldb+l].
	if nb == nrMax {
		packBT16(kb, b, j0*ldb+k0, ldb, dst)
		return
	}
	clear(dst)
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

// packBT16 transposes a 16×kb block of b starting at off (row stride ldb)
// into dst as kb rows of 16: each destination row is one bounds check and
// sixteen stores.
func packBT16(kb int, b []float32, off, ldb int, dst []float32) {
	var src [nrMax][]float32
	for j := range src {
		src[j] = b[off+j*ldb : off+j*ldb+kb]
	}
	s0, s1, s2, s3 := src[0], src[1][:len(src[0])], src[2][:len(src[0])], src[3][:len(src[0])]
	s4, s5, s6, s7 := src[4][:len(s0)], src[5][:len(s0)], src[6][:len(s0)], src[7][:len(s0)]
	s8, s9, s10, s11 := src[8][:len(s0)], src[9][:len(s0)], src[10][:len(s0)], src[11][:len(s0)]
	s12, s13, s14, s15 := src[12][:len(s0)], src[13][:len(s0)], src[14][:len(s0)], src[15][:len(s0)]
	for l := range s0 {
		d := dst[l*nrMax : l*nrMax+nrMax : l*nrMax+nrMax]
		d[0], d[1], d[2], d[3] = s0[l], s1[l], s2[l], s3[l]
		d[4], d[5], d[6], d[7] = s4[l], s5[l], s6[l], s7[l]
		d[8], d[9], d[10], d[11] = s8[l], s9[l], s10[l], s11[l]
		d[12], d[13], d[14], d[15] = s12[l], s13[l], s14[l], s15[l]
	}
}
