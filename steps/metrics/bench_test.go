package metrics

import (
	"math/rand/v2"
	"testing"
)

func benchData(n, k int) ([]int, []float64) {
	r := rand.New(rand.NewPCG(3, 4))
	y := make([]int, n)
	p := make([]float64, n*k)
	for i := range y {
		y[i] = r.IntN(k)
		s := 0.0
		for j := 0; j < k; j++ {
			p[i*k+j] = r.Float64()
			s += p[i*k+j]
		}
		for j := 0; j < k; j++ {
			p[i*k+j] /= s
		}
	}
	return y, p
}

func BenchmarkEvaluate10k(b *testing.B) {
	y, p := benchData(10000, 10)
	in := Input{Task: Classification, Classes: 10, Labels: y, Outputs: p, Cols: 10}
	opt := Options{Metrics: Names(Classification), Threshold: DefaultThreshold}
	for b.Loop() {
		if _, err := Evaluate(in, opt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkROCAUC100k(b *testing.B) {
	y, p := benchData(100000, 2)
	s := make([]float64, len(y))
	for i := range s {
		s[i] = p[2*i+1]
		y[i] %= 2
	}
	for b.Loop() {
		if _, err := ROCAUC(y, s); err != nil {
			b.Fatal(err)
		}
	}
}
