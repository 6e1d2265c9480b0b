package gemm

import (
	"github.com/loom-ml/loom/nn/internal/parallel"
	"math"
	"math/rand/v2"
	"testing"
)

// refGemm is a float64 naive reference of Sgemm.
func refGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for l := 0; l < k; l++ {
				var av, bv float32
				if transA {
					av = a[l*lda+i]
				} else {
					av = a[i*lda+l]
				}
				if transB {
					bv = b[j*ldb+l]
				} else {
					bv = b[l*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			v := float64(alpha) * s
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*n+j] = v
		}
	}
	return out
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int // extra stride beyond the logical column count
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// runCase runs one Sgemm case and compares every element, including the
// padding of C that must stay untouched.
func runCase(t *testing.T, r *rand.Rand, tc gemmCase) {
	t.Helper()
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := max(1, ac+tc.pad), max(1, bc+tc.pad), max(1, tc.n+tc.pad)
	a := randSlice(r, ar*lda)
	b := randSlice(r, br*ldb)
	c := randSlice(r, tc.m*ldc)
	if tc.beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	orig := append([]float32(nil), c...)
	want := refGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	tol := 1e-5 * float64(tc.k+1) * float64(max(1, abs32(tc.alpha)))
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc; j++ {
			got := c[i*ldc+j]
			if j >= tc.n {
				if !sameBits(got, orig[i*ldc+j]) {
					t.Fatalf("%+v: padding C[%d,%d] changed", tc, i, j)
				}
				continue
			}
			w := want[i*tc.n+j]
			if math.IsNaN(float64(got)) || math.Abs(float64(got)-w) > tol*(1+math.Abs(w)) {
				t.Fatalf("%+v: C[%d,%d] = %v, want %v", tc, i, j, got, w)
			}
		}
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func sameBits(x, y float32) bool {
	return math.Float32bits(x) == math.Float32bits(y)
}

// paths runs f once per implementation available on this machine, forcing
// the pure-Go fallback through useAsm.
func paths(t *testing.T, f func(t *testing.T)) {
	saved := useAsm
	defer func() { useAsm = saved }()
	useAsm = false
	t.Run("go", f)
	if !hasAVX2FMA {
		t.Log("no AVX2+FMA: assembly kernel not tested")
		return
	}
	useAsm = true
	saved512 := use512
	defer func() { use512 = saved512 }()
	use512 = false
	t.Run("avx2", f)
	if !hasAVX512 {
		t.Log("no AVX-512: kern6x32 not tested")
		return
	}
	use512 = true
	t.Run("avx512", f)
}

func TestSgemmTable(t *testing.T) { paths(t, testSgemmTable) }

func TestSgemmRandom(t *testing.T) { paths(t, testSgemmRandom) }

func TestSgemmNoAlloc(t *testing.T) { paths(t, testSgemmNoAlloc) }

func testSgemmTable(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	dims := []int{0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 33}
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			for _, m := range dims {
				for _, n := range dims {
					for _, k := range []int{0, 1, 3, 8, 17} {
						for _, ab := range [][2]float32{{1, 0}, {1, 1}, {-0.5, 2}} {
							runCase(t, r, gemmCase{ta, tb, m, n, k, ab[0], ab[1], (m + n + k) % 3})
						}
					}
				}
			}
		}
	}
}

func testSgemmRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	iters := 300
	if testing.Short() {
		iters = 100
	}
	for it := 0; it < iters; it++ {
		tc := gemmCase{
			transA: r.IntN(2) == 1, transB: r.IntN(2) == 1,
			m: r.IntN(80), n: r.IntN(80), k: r.IntN(600),
			alpha: []float32{1, -1, 0.25, 0}[r.IntN(4)],
			beta:  []float32{0, 1, -0.5}[r.IntN(3)],
			pad:   r.IntN(4),
		}
		runCase(t, r, tc)
	}
}

func testSgemmNoAlloc(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	a, b, c := randSlice(r, 64*64), randSlice(r, 64*64), make([]float32, 64*64)
	allocs := testing.AllocsPerRun(10, func() {
		Sgemm(false, false, 64, 64, 64, 1, a, 64, b, 64, 0, c, 64)
		Sgemm(true, true, 64, 64, 64, 1, a, 64, b, 64, 1, c, 64)
	})
	if allocs != 0 {
		t.Fatalf("Sgemm allocated %v times per run", allocs)
	}
}

func TestSgemmConcurrent(t *testing.T) { paths(t, testSgemmConcurrent) }

// testSgemmConcurrent runs products that need packing buffers from several
// goroutines at once; each result must match the single-threaded one.
func testSgemmConcurrent(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const m, n, k = 37, 45, 300
	a, b := randSlice(r, m*k), randSlice(r, n*k)
	want := make([]float32, m*n)
	Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, want, n)
	errs := make(chan string, 8)
	for g := 0; g < 8; g++ {
		go func() {
			c := make([]float32, m*n)
			for it := 0; it < 20; it++ {
				Sgemm(false, true, m, n, k, 1, a, k, b, k, 0, c, n)
				for i := range c {
					if !sameBits(c[i], want[i]) {
						errs <- "concurrent result differs"
						return
					}
				}
			}
			errs <- ""
		}()
	}
	for g := 0; g < 8; g++ {
		if e := <-errs; e != "" {
			t.Fatal(e)
		}
	}
}

// TestSgemmAliasingStride covers B strips whose rows are a multiple of
// aliasStride apart, which are packed although they could be read in place.
func TestSgemmAliasingStride(t *testing.T) {
	paths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, m := range []int{aliasMinM - 1, aliasMinM, 50} {
			for _, k := range []int{7, kc + 3} {
				runCase(t, r, gemmCase{false, false, m, 40, k, 1.5, 0.5, aliasStride - 40})
				runCase(t, r, gemmCase{true, false, m, 32, k, 1, 0, aliasStride - 32})
			}
		}
	})
}

func TestSgemmBadArgsPanic(t *testing.T) {
	a := make([]float32, 12)
	cases := map[string]func(){
		"negative m":  func() { Sgemm(false, false, -1, 2, 2, 1, a, 2, a, 2, 0, a, 2) },
		"small lda":   func() { Sgemm(false, false, 2, 2, 3, 1, a, 2, a, 2, 0, a, 2) },
		"short a":     func() { Sgemm(false, false, 4, 2, 4, 1, a, 4, a, 2, 0, a, 2) },
		"short c":     func() { Sgemm(false, false, 2, 7, 1, 1, a, 1, a, 7, 0, a, 7) },
		"small ldb^T": func() { Sgemm(false, true, 2, 2, 3, 1, a, 3, a, 2, 0, a, 2) },
	}
	for name, f := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

// TestPackBT16 checks the transposed packing of both paths element by
// element, including the zero padding of ragged strips and the scalar tail.
func TestPackBT16(t *testing.T) {
	paths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(13, 14))
		for _, kb := range []int{1, 7, 8, 9, 16, 31, kc} {
			for _, nb := range []int{1, 5, 8, 15, 16} {
				const ldb = kc + 3
				b := randSlice(r, nb*ldb)
				dst := randSlice(r, kb*nrMax)
				packBT16(kb, nb, b, 2, ldb, dst)
				for l := 0; l < kb; l++ {
					for j := 0; j < nrMax; j++ {
						var want float32
						if j < nb {
							want = b[2+j*ldb+l]
						}
						if got := dst[l*nrMax+j]; got != want {
							t.Fatalf("kb=%d nb=%d: dst[%d][%d] = %v, want %v", kb, nb, l, j, got, want)
						}
					}
				}
			}
		}
	})
}

// TestSgemmLarge covers row blocking (m ≥ 2*mc), several K blocks and the
// aliasing-stride packing together, for every transpose combination.
func TestSgemmLarge(t *testing.T) {
	paths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(15, 16))
		for _, ta := range []bool{false, true} {
			for _, tb := range []bool{false, true} {
				runCase(t, r, gemmCase{ta, tb, 2*mc + 13, 37, kc + 45, 0.5, 1, 1})
				runCase(t, r, gemmCase{ta, tb, 3*mc - 1, 33, 2*kc + 1, 1, 0, 0})
			}
		}
		runCase(t, r, gemmCase{false, false, 2*mc + 1, 48, 20, 1, 0, aliasStride - 48})
	})
}

// TestAsmSelectedByDefault guards the run-time dispatch: a machine with the
// kernel must use it unless a test forces the fallback.
func TestAsmSelectedByDefault(t *testing.T) {
	if useAsm != hasAVX2FMA || use512 != hasAVX512 {
		t.Fatalf("useAsm = %v, use512 = %v, want %v and %v", useAsm, use512, hasAVX2FMA, hasAVX512)
	}
	t.Logf("assembly kernel available: %v, AVX-512: %v", hasAVX2FMA, hasAVX512)
}

// TestAVX512SameBitsAsAVX2: the 32-column kernel does each element's arithmetic in the order
// the 16-column one does, so a model trains to the same bits on machines with and without
// AVX-512.
func TestAVX512SameBitsAsAVX2(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512")
	}
	saved, saved512 := useAsm, use512
	defer func() { useAsm, use512 = saved, saved512 }()
	useAsm = true
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		tA, tB := r.IntN(2) == 1, r.IntN(2) == 1
		m, n, k := 1+r.IntN(70), 1+r.IntN(100), 1+r.IntN(600)
		if r.IntN(10) == 0 { // tall enough for panelGemm when B is transposed
			m, n = 2*mc+r.IntN(100), nc+r.IntN(100)
		}
		alpha, beta := []float32{1, 0.5, -2}[r.IntN(3)], []float32{0, 1, 0.25}[r.IntN(3)]
		lda, ldb := Contiguous(tA, tB, m, n, k)
		a, b, c0 := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
		c16, c32 := append([]float32(nil), c0...), append([]float32(nil), c0...)
		use512 = false
		Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c16, n)
		use512 = true
		Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c32, n)
		for i := range c16 {
			if !sameBits(c16[i], c32[i]) {
				t.Fatalf("%v %v %dx%dx%d alpha %g beta %g: element %d is %g with AVX2, %g with AVX-512", tA, tB, m, n, k, alpha, beta, i, c16[i], c32[i])
			}
		}
	}
}

// TestSgemmPanels covers panelGemm: tall A with packed strips (Bᵀ, or B rows 4 KiB apart),
// more columns than one panel, ragged strips and K blocks, against the reference and, with
// AVX-512, bit for bit against the 16-column kernel.
func TestSgemmPanels(t *testing.T) {
	paths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, tc := range []gemmCase{
			{false, true, 2*mc + 7, nc + 45, 300, 1, 0, 0},
			{true, true, 3 * mc, 70, 257, 0.5, 1, 3},
			{false, false, 2*mc + 1, nc + 33, 100, 1, 0.25, aliasStride - nc - 33},
		} {
			runCase(t, r, tc)
		}
	})
}

// TestSplitSameBits: a product split over workers, by columns or by rows, gives the bits of
// the whole product, for every kernel, transposes, alpha, beta and ragged sizes, without
// allocating.
func TestSplitSameBits(t *testing.T) {
	paths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(9, 9))
		for _, workers := range []int{2, 3} {
			pool := parallel.New(workers)
			p := NewSplitter(pool)
			for range 40 {
				tA, tB := r.IntN(2) == 1, r.IntN(2) == 1
				m, n, k := 64+r.IntN(200), 64+r.IntN(400), 64+r.IntN(300)
				alpha, beta := []float32{1, 0.5}[r.IntN(2)], []float32{0, 1, 0.25}[r.IntN(3)]
				lda, ldb := Contiguous(tA, tB, m, n, k)
				a, b, c0 := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
				whole, split := append([]float32(nil), c0...), append([]float32(nil), c0...)
				Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, whole, n)
				byRows := append([]float32(nil), c0...)
				p.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, split, n)
				p.SgemmRows(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, byRows, n)
				for i := range whole {
					if !sameBits(whole[i], split[i]) || !sameBits(whole[i], byRows[i]) {
						t.Fatalf("%d workers, %v %v %dx%dx%d: element %d is %g whole, %g split by columns, %g by rows", workers, tA, tB, m, n, k, i, whole[i], split[i], byRows[i])
					}
				}
			}
			a, b, c := randSlice(r, 256*256), randSlice(r, 256*256), make([]float32, 256*256)
			if allocs := testing.AllocsPerRun(20, func() { p.Sgemm(false, false, 256, 256, 256, 1, a, 256, b, 256, 0, c, 256) }); allocs > 0 {
				t.Errorf("%d workers: %v allocations a product", workers, allocs)
			}
			pool.Close()
		}
	})
}

// TestRowsAnywhereSameBits: any rows of C computed on their own, from the matching rows of
// op(A), are the bits of those rows in the whole product, whatever row they start at (not a
// multiple of the kernel's tile): nn splits convolutions by images on that.
func TestRowsAnywhereSameBits(t *testing.T) {
	paths(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(11, 12))
		for range 30 {
			tA, tB := r.IntN(2) == 1, r.IntN(2) == 1
			m, n, k := 8+r.IntN(300), 1+r.IntN(100), 1+r.IntN(600)
			beta := []float32{0, 1}[r.IntN(2)]
			lda, ldb := Contiguous(tA, tB, m, n, k)
			a, b, c0 := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
			whole, parts := append([]float32(nil), c0...), append([]float32(nil), c0...)
			Sgemm(tA, tB, m, n, k, 1, a, lda, b, ldb, beta, whole, n)
			for i0 := 0; i0 < m; {
				i1 := min(m, i0+1+r.IntN(m/2+1))
				ai := a[i0:] // op(A)'s row i0: a column of A
				if !tA {
					ai = a[i0*lda:]
				}
				Sgemm(tA, tB, i1-i0, n, k, 1, ai, lda, b, ldb, beta, parts[i0*n:], n)
				i0 = i1
			}
			for i := range whole {
				if !sameBits(whole[i], parts[i]) {
					t.Fatalf("%v %v %dx%dx%d: element %d is %g whole, %g in pieces", tA, tB, m, n, k, i, whole[i], parts[i])
				}
			}
		}
	})
}
