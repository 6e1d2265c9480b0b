package parallel

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// runner records which parts ran; run is bound once, as callers should.
type runner struct {
	hits []atomic.Int32
	run  func(int)
}

func newRunner(n int) *runner {
	r := &runner{hits: make([]atomic.Int32, n)}
	r.run = func(part int) { r.hits[part].Add(1) }
	return r
}

// TestRunEveryPartOnce: every part runs exactly once per Run, whether the workers are
// spinning or asleep, with as many Ps as workers or fewer.
func TestRunEveryPartOnce(t *testing.T) {
	for _, procs := range []int{1, 4} {
		old := runtime.GOMAXPROCS(procs)
		p := New(3)
		r := newRunner(3)
		for i := range 200 {
			parts := 1 + i%3
			p.Run(parts, r.run)
			if i%50 == 0 {
				time.Sleep(2 * spinFor) // let the workers fall asleep
			}
		}
		p.Close()
		runtime.GOMAXPROCS(old)
		want := []int32{200, 133, 66} // parts is 1, 2 or 3 in turn
		for i := range r.hits {
			if got := r.hits[i].Load(); got != want[i] {
				t.Errorf("GOMAXPROCS %d: part %d ran %d times, want %d", procs, i, got, want[i])
			}
		}
	}
}

// TestRunAllocatesNothing: a bound f and a warm pool make Run free of allocations.
func TestRunAllocatesNothing(t *testing.T) {
	p := New(2)
	defer p.Close()
	r := newRunner(2)
	if n := testing.AllocsPerRun(100, func() { p.Run(2, r.run) }); n != 0 {
		t.Errorf("Run allocates %v times", n)
	}
}

// TestNilPool: a nil pool is the caller alone.
func TestNilPool(t *testing.T) {
	var p *Pool
	r := newRunner(1)
	p.Run(1, r.run)
	p.Close()
	if p.Workers() != 1 || r.hits[0].Load() != 1 {
		t.Errorf("nil pool: %d workers, part 0 ran %d times", p.Workers(), r.hits[0].Load())
	}
}

// BenchmarkHandoff is a Run of two empty parts: the round trip of a cache line between the
// caller's core and a spinning worker's. On a virtual machine it depends on where the host
// places the two virtual CPUs (tens of ns sharing a cache, hundreds apart), and so does how
// well one model's training scales to two threads.
func BenchmarkHandoff(b *testing.B) {
	p := New(2)
	defer p.Close()
	f := func(int) {}
	for b.Loop() {
		p.Run(2, f)
	}
}
