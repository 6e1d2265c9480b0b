package gemm

// Blocking: a tile of C is at most mrMax×nrMax, the inner product is cut
// into blocks of kc so a B strip (kc×nrMax floats, 16 KiB) stays in L1 while
// every row tile of A streams past it.
//
// Only B strips that cannot be read in place (op(B) = Bᵀ, fewer than nrMax
// columns left, or rows aliasing in L1) are packed. Packing A into panels,
// packing every B strip, and an extra L2 column block of B (GotoBLAS nc)
// were measured and were slower or no faster at the benchmark shapes (up to
// 1024): the kernel's six strided A streams prefetch well and packing only
// adds copies.
const (
	mrMax = 6
	nrMax = 16
	kc    = 256
	// aliasStride (in floats) and aliasMinM: rows of an in-place B strip
	// that are a multiple of 4 KiB apart all map to one L1 set and evict
	// each other, so such strips are packed once m amortises the copy
	// (+40-60% at ldb = 1024). At 2 KiB strides packing measured 5-10%
	// slower than reading in place.
	aliasStride = 1024
	aliasMinM   = 4 * mrMax
	// mc bounds the rows of A swept past each in-place B strip so that the
	// A block (mc×kc floats, 120 KiB) stays in L2 across strips: +10-70% on
	// tall Aᵀ·B products. It is not applied when B strips are packed, since
	// re-packing them per row block measured slower.
	mc = 120
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
	// The strip width: 32 columns with the AVX-512 kernel, which gives the same bits as the
	// 16-column one (kern6x32), so results do not depend on the machine's vector width; 16
	// for a product of at most 16 columns (an output layer's), which a 32-wide strip would
	// half waste (the 128×10×256 product: 12.1 → 10.3 µs).
	w := nrMax
	if useAsm && use512 && n > nrMax {
		w = 2 * nrMax
	}
	// Equal K blocks: k = 784 runs as 4×196 rather than 3×256 + 16, whose
	// short last block would pay a full pass over C for little work.
	nk := (k + kc - 1) / kc
	kstep := (k + nk - 1) / nk
	mstep := m
	if m >= 2*mc {
		nm := (m + mc - 1) / mc
		mstep = ((m+nm-1)/nm + mrMax - 1) / mrMax * mrMax
	}
	if packAll && mstep < m {
		panelGemm(transB, m, n, k, kstep, mstep, w, alpha, a, rsa, csa, b, ldb, beta, c, ldc)
		return
	}
	if packAll {
		mstep = m
	}
	for k0 := 0; k0 < k; k0 += kstep {
		kb := min(kstep, k-k0)
		bk := beta
		if k0 > 0 {
			bk = 1
		}
		for i0 := 0; i0 < m; i0 += mstep {
			mb := min(mstep, m-i0)
			for j0 := 0; j0 < n; j0 += w {
				nb := min(w, n-j0)
				bs, boff, ldbp := b, k0*ldb+j0, ldb
				if packAll || nb < w {
					if buf == nil {
						buf = packPool.get()
					}
					packB(transB, kb, nb, w, b, ldb, k0, j0, buf.strip[:kb*w], buf.half[:kb*nrMax])
					bs, boff, ldbp = buf.strip[:], 0, w
				}
				rowTiles(kb, mb, a, i0*rsa+k0*csa, rsa, csa, bs, boff, ldbp, c, i0*ldc+j0, ldc, nb, w, alpha, bk)
			}
		}
	}
	if buf != nil {
		packPool.put(buf)
	}
}

// panelGemm is blockedGemm for products whose B strips are all packed and whose A is too tall
// to stay in L2 (GotoBLAS's loop nest): per K block, the strips of a chunk of nc columns are
// packed once into a panel that stays in L2, and row blocks of A sweep past it. Sweeping all
// of A past each strip instead, as blockedGemm does for shorter A, read a 2048-row A from
// memory once per strip. Each element of C gets the same operations in the same order either
// way.
func panelGemm(transB bool, m, n, k, kstep, mstep, w int, alpha float32, a []float32, rsa, csa int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	p := panelPool.get()
	defer panelPool.put(p)
	for k0 := 0; k0 < k; k0 += kstep {
		kb := min(kstep, k-k0)
		bk := beta
		if k0 > 0 {
			bk = 1
		}
		for jc := 0; jc < n; jc += nc {
			ncb := min(nc, n-jc)
			for j := 0; j < ncb; j += w {
				packB(transB, kb, min(w, ncb-j), w, b, ldb, k0, jc+j, p.panel[j*kb:(j+w)*kb], p.half[:kb*nrMax])
			}
			for i0 := 0; i0 < m; i0 += mstep {
				mb := min(mstep, m-i0)
				for j := 0; j < ncb; j += w {
					rowTiles(kb, mb, a, i0*rsa+k0*csa, rsa, csa, p.panel[:], j*kb, w, c, i0*ldc+jc+j, ldc, min(w, ncb-j), w, alpha, bk)
				}
			}
		}
	}
}

// nc is the columns of B packed into one panel: kc×nc floats, 512 KiB, stay in L2 beside an
// A block.
const nc = 512

// panelBuf holds the packed strips of a panel, and room to transpose half a strip.
type panelBuf struct {
	panel [kc * nc]float32
	half  [kc * nrMax]float32
}

var panelPool = make(freeList[panelBuf], 8)

// rowTiles multiplies mb rows of A, starting at aoff, by one B strip of
// nb ≤ w columns into C[coff:], in tiles of mrMax rows.
func rowTiles(kb, mb int, a []float32, aoff, rsa, csa int, b []float32, boff, ldb int, c []float32, coff, ldc, nb, w int, alpha, beta float32) {
	if useAsm && w > nrMax {
		kern6x32(kb, &a[aoff], rsa, csa, mb, &b[boff], ldb, &c[coff], ldc, nb, alpha, beta)
		return
	}
	if useAsm {
		kern6x16(kb, &a[aoff], rsa, csa, mb, &b[boff], ldb, &c[coff], ldc, nb, alpha, beta)
		return
	}
	for i := 0; i < mb; i += mrMax {
		kernGo(kb, a, aoff+i*rsa, rsa, csa, min(mrMax, mb-i), b, boff, ldb, c, coff+i*ldc, ldc, nb, alpha, beta)
	}
}

// packBuf holds one packed strip of op(B), up to 2·nrMax wide, and room to transpose half
// of one.
type packBuf struct {
	strip [kc * 2 * nrMax]float32
	half  [kc * nrMax]float32
}

var packPool = make(freeList[packBuf], 64)

// A freeList keeps buffers for reuse; a channel, unlike sync.Pool, is never emptied by the
// garbage collector, so calls stop allocating once the list holds a buffer per concurrent
// caller (up to its capacity).
type freeList[T any] chan *T

// get takes a buffer from the list, allocating only when it is empty.
func (l freeList[T]) get() *T {
	select {
	case b := <-l:
		return b
	default:
		return new(T)
	}
}

// put returns b to the list, dropping it when the list is full.
func (l freeList[T]) put(b *T) {
	select {
	case l <- b:
	default:
	}
}

// packB copies the kb×nb block of op(B) starting at row k0, column j0 into
// dst as kb rows of w floats (nrMax or 2·nrMax), zero-padding columns past nb; half is
// scratch of kb×nrMax floats for a transposed wide strip.
func packB(transB bool, kb, nb, w int, b []float32, ldb, k0, j0 int, dst, half []float32) {
	if w > nrMax {
		if !transB {
			for l := 0; l < kb; l++ {
				row := dst[l*w : l*w+w]
				n := copy(row, b[(k0+l)*ldb+j0:(k0+l)*ldb+j0+nb])
				clear(row[n:])
			}
			return
		}
		// Each half of the strip is transposed on its own, then interleaved.
		for h := 0; h < w; h += nrMax {
			nh := min(max(nb-h, 0), nrMax)
			if nh > 0 {
				packBT16(kb, nh, b, (j0+h)*ldb+k0, ldb, half)
			} else {
				clear(half)
			}
			for l := 0; l < kb; l++ {
				*(*[nrMax]float32)(dst[l*w+h:]) = *(*[nrMax]float32)(half[l*nrMax:])
			}
		}
		return
	}
	if !transB && nb == nrMax {
		// Whole-array assignment compiles to a few vector moves, far
		// cheaper than a copy call per 64-byte row.
		for l := 0; l < kb; l++ {
			off := (k0+l)*ldb + j0
			*(*[nrMax]float32)(dst[l*nrMax:]) = *(*[nrMax]float32)(b[off : off+nrMax])
		}
		return
	}
	if !transB {
		for l := 0; l < kb; l++ {
			row := dst[l*nrMax : l*nrMax+nrMax]
			n := copy(row, b[(k0+l)*ldb+j0:(k0+l)*ldb+j0+nb])
			clear(row[n:])
		}
		return
	}
	// op(B)(l,j) = b[j*ldb+l].
	packBT16(kb, nb, b, j0*ldb+k0, ldb, dst)
}

// zeroRow stands in for the missing source rows of a ragged transposed
// strip, so that packBT16 writes their zero padding in the same pass.
var zeroRow [kc]float32

// packBT16 transposes an nb×kb block of b (nb ≤ 16) starting at off, row
// stride ldb, into dst as kb rows of 16 floats, zero-padded past nb: each
// destination row costs one bounds check and sixteen stores, and with the
// assembly kernel whole 8×8 blocks are transposed in registers.
func packBT16(kb, nb int, b []float32, off, ldb int, dst []float32) {
	var src [nrMax][]float32
	for j := range src {
		if j < nb {
			src[j] = b[off+j*ldb : off+j*ldb+kb]
		} else {
			src[j] = zeroRow[:kb]
		}
	}
	l0 := 0
	if useAsm && kb >= 8 {
		var rows [nrMax]*float32
		for j := range rows {
			rows[j] = &src[j][0]
		}
		transpose16x8(kb/8, &rows, &dst[0])
		l0 = kb / 8 * 8
	}
	s0, s1, s2, s3 := src[0], src[1][:len(src[0])], src[2][:len(src[0])], src[3][:len(src[0])]
	s4, s5, s6, s7 := src[4][:len(s0)], src[5][:len(s0)], src[6][:len(s0)], src[7][:len(s0)]
	s8, s9, s10, s11 := src[8][:len(s0)], src[9][:len(s0)], src[10][:len(s0)], src[11][:len(s0)]
	s12, s13, s14, s15 := src[12][:len(s0)], src[13][:len(s0)], src[14][:len(s0)], src[15][:len(s0)]
	for l := l0; l < len(s0); l++ {
		d := dst[l*nrMax : l*nrMax+nrMax : l*nrMax+nrMax]
		d[0], d[1], d[2], d[3] = s0[l], s1[l], s2[l], s3[l]
		d[4], d[5], d[6], d[7] = s4[l], s5[l], s6[l], s7[l]
		d[8], d[9], d[10], d[11] = s8[l], s9[l], s10[l], s11[l]
		d[12], d[13], d[14], d[15] = s12[l], s13[l], s14[l], s15[l]
	}
}
