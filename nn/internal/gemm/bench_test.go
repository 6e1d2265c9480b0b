package gemm

import (
	"fmt"
	"github.com/loom-ml/loom/nn/internal/parallel"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// benchShape is one product C(m×n) = op(A)·op(B) with inner dimension k.
type benchShape struct {
	name           string
	transA, transB bool
	m, n, k        int
}

// benchShapes covers square sizes and the products of MLP training: forward
// X·W, backward dW = Xᵀ·dY and dX = dY·Wᵀ.
var benchShapes = []benchShape{
	{"sq64", false, false, 64, 64, 64},
	{"sq128", false, false, 128, 128, 128},
	{"sq256", false, false, 256, 256, 256},
	{"sq512", false, false, 512, 512, 512},
	{"sq1024", false, false, 1024, 1024, 1024},
	{"sq2048", false, false, 2048, 2048, 2048},
	{"fwd128x784x256", false, false, 128, 256, 784},
	{"fwd128x256x256", false, false, 128, 256, 256},
	{"dW784x256_AtB", true, false, 784, 256, 128},
	{"dW256x256_AtB", true, false, 256, 256, 128},
	{"dX128x784_ABt", false, true, 128, 784, 256},
	{"out128x10x256_ABt", false, true, 128, 10, 256},
	{"outdW10x256_AtB", true, false, 10, 256, 128},
	{"outdX128x256x10", false, false, 128, 256, 10},
	{"mlp32x30x64", false, false, 32, 64, 30},
	{"mlp32x64x32", false, false, 32, 32, 64},
	{"mlpdW30x64_AtB", true, false, 30, 64, 32},
	{"mlpdX32x30_ABt", false, true, 32, 30, 64},
}

// operands returns random A, B and C with contiguous strides for s.
func (s benchShape) operands() (a, b, c []float32, lda, ldb int) {
	r := rand.New(rand.NewPCG(7, 8))
	a, b, c = randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), randSlice(r, s.m*s.n)
	lda, ldb = s.k, s.n
	if s.transA {
		lda = s.m
	}
	if s.transB {
		ldb = s.k
	}
	return a, b, c, lda, ldb
}

// reportGFLOPS reports throughput per wall-clock second and, where the OS
// provides it, per CPU-second (cpu0 taken before the loop): on a loaded
// machine the latter is the stable figure. gonum's goroutines are counted
// in the CPU time too.
func reportGFLOPS(b *testing.B, s benchShape, cpu0 time.Duration) {
	flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
	b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu1, ok := processCPU(); ok && cpu1 > cpu0 {
		b.ReportMetric(flops/(cpu1-cpu0).Seconds()/1e9, "GFLOP/cpu-s")
	}
}

// BenchmarkSgemmSplit is square products and MLP training's on one and two workers (GFLOP/s
// of wall time).
func BenchmarkSgemmSplit(b *testing.B) {
	shapes := []benchShape{
		{"sq512", false, false, 512, 512, 512},
		{"sq2048", false, false, 2048, 2048, 2048},
		{"fwd784x256", false, true, 128, 256, 784},
		{"dW1024x784", true, false, 1024, 784, 128},
	}
	for _, s := range shapes {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", s.name, workers), func(b *testing.B) {
				a, bm, c, lda, ldb := s.operands()
				pool := parallel.New(workers)
				defer pool.Close()
				sp := NewSplitter(pool)
				for b.Loop() {
					sp.Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchShapes {
		a, bm, c, lda, ldb := s.operands()
		impls := []struct {
			name string
			asm  bool
		}{{"go", false}, {"avx2", true}}
		for _, im := range impls {
			if im.asm && !hasAVX2FMA {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s", s.name, im.name), func(b *testing.B) {
				saved := useAsm
				useAsm = im.asm
				defer func() { useAsm = saved }()
				b.ReportAllocs()
				cpu0, _ := processCPU()
				for b.Loop() {
					Sgemm(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				}
				reportGFLOPS(b, s, cpu0)
			})
		}
		b.Run(s.name+"/gonum", func(b *testing.B) {
			ta, tb := blas.NoTrans, blas.NoTrans
			if s.transA {
				ta = blas.Trans
			}
			if s.transB {
				tb = blas.Trans
			}
			ar, ac := s.m, s.k
			if s.transA {
				ar, ac = s.k, s.m
			}
			br, bc := s.k, s.n
			if s.transB {
				br, bc = s.n, s.k
			}
			ga := blas32.General{Rows: ar, Cols: ac, Stride: lda, Data: a}
			gb := blas32.General{Rows: br, Cols: bc, Stride: ldb, Data: bm}
			gc := blas32.General{Rows: s.m, Cols: s.n, Stride: s.n, Data: c}
			b.ReportAllocs()
			cpu0, _ := processCPU()
			for b.Loop() {
				blas32.Gemm(ta, tb, 1, ga, gb, 0, gc)
			}
			reportGFLOPS(b, s, cpu0)
		})
	}
}
