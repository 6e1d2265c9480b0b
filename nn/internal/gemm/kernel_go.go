package gemm

// kernGo is the portable counterpart of kern6x16 with the same contract,
// taking slices and offsets instead of pointers: it computes the mr×nr
// (at most 6×16) tile C[coff:] = alpha*A*B + beta*C over k steps, with
// A(i,l) = a[aoff+i*rsa+l*csa] and B(l,j) = b[boff+l*ldb+j].
func kernGo(k int, a []float32, aoff, rsa, csa, mr int, b []float32, boff, ldb int, c []float32, coff, ldc, nr int, alpha, beta float32) {
	var acc [mrMax * nrMax]float32
	for i0 := 0; i0 < mr; i0 += 2 {
		// An odd last row is computed twice rather than read out of bounds.
		i1 := min(i0+1, mr-1)
		for j0 := 0; j0 < nr; j0 += 4 {
			tile2x4(k, a, aoff+i0*rsa, aoff+i1*rsa, csa, b, boff+j0, ldb, acc[i0*nrMax+j0:i0*nrMax+j0+4], acc[i1*nrMax+j0:i1*nrMax+j0+4])
		}
	}
	for i := 0; i < mr; i++ {
		src := acc[i*nrMax : i*nrMax+nr]
		dst := c[coff+i*ldc : coff+i*ldc+nr]
		if beta == 0 {
			for j, v := range src {
				dst[j] = alpha * v
			}
			continue
		}
		for j, v := range src {
			dst[j] = alpha*v + beta*dst[j]
		}
	}
}

// tile2x4 accumulates two rows by four columns of A*B in scalar registers,
// storing the results to out0 and out1. B must have four readable columns.
func tile2x4(k int, a []float32, a0, a1, csa int, b []float32, boff, ldb int, out0, out1 []float32) {
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	if k > 0 {
		// Reslicing once lets the loop index A and B without bounds checks
		// beyond one per step.
		ar0 := a[a0 : a0+(k-1)*csa+1]
		ar1 := a[a1 : a1+(k-1)*csa+1]
		br := b[boff : boff+(k-1)*ldb+4]
		for ia, ib := 0, 0; ia < len(ar0) && ib+3 < len(br); ia, ib = ia+csa, ib+ldb {
			x0, x1 := ar0[ia], ar1[ia]
			// B is read from memory at each use so the compiler folds the
			// loads into the multiplies instead of spilling registers.
			bb := br[ib : ib+4 : ib+4]
			c00 += x0 * bb[0]
			c10 += x1 * bb[0]
			c01 += x0 * bb[1]
			c11 += x1 * bb[1]
			c02 += x0 * bb[2]
			c12 += x1 * bb[2]
			c03 += x0 * bb[3]
			c13 += x1 * bb[3]
		}
	}
	out0 = out0[:4]
	out1 = out1[:4]
	out0[0], out0[1], out0[2], out0[3] = c00, c01, c02, c03
	out1[0], out1[1], out1[2], out1[3] = c10, c11, c12, c13
}
