package search

import "testing"

// BenchmarkTPENext measures one TPE proposal after 100 observations of a 4-dimensional space.
func BenchmarkTPENext(b *testing.B) {
	s := mixedSpace(b)
	r := NewRandom(s, 1)
	var hist []Observation
	for range 100 {
		p := r.Next(nil)
		hist = append(hist, Observation{p, bowl(p)})
	}
	tp := NewTPE(s, 2)
	b.ReportAllocs()
	for b.Loop() {
		tp.Next(hist)
	}
}

// BenchmarkASHAPromote measures a promotion decision with 300 results at the first rung.
func BenchmarkASHAPromote(b *testing.B) {
	for b.Loop() {
		a, _ := NewASHA(1, 81, 3)
		for i := range 300 {
			a.Report(i, 0, float64((i*7919)%300))
		}
		for {
			if _, _, ok := a.Promote(); !ok {
				break
			}
		}
	}
}
