// Package parallel runs the parts of one computation on a fixed set of goroutines, for a
// caller that splits its work so that the result does not depend on how many there are.
//
// A worker that has finished its part spins for a while before it sleeps: training calls
// parallel work back to back, a fraction of a millisecond apart, and waking a sleeping thread
// costs tens of microseconds on a virtual machine, as much as half of a small product.
package parallel

import (
	"runtime"
	"sync/atomic"
	"time"
)

// A Pool is a caller's goroutine and Workers()−1 more, which persist until Close. A Pool
// serves one caller at a time; a nil *Pool is the caller alone.
type Pool struct {
	mail []*mailbox // one per worker besides the caller
}

// mailbox hands one worker its parts: the caller writes the part, then bumps posted; the
// worker runs it and sets done to the same count.
type mailbox struct {
	f      func(part int) // nil: quit
	part   int
	posted atomic.Uint64
	done   atomic.Uint64
	asleep atomic.Bool
	wake   chan struct{} // one token: a sleeping worker's alarm
}

// spinFor is how long an idle worker watches its mailbox before it sleeps: longer than the
// serial work between two parallel passes of a training step.
const spinFor = 500 * time.Microsecond

// New returns a pool of workers goroutines, the caller's counted: workers−1 are started.
func New(workers int) *Pool {
	p := &Pool{}
	for range workers - 1 {
		mb := &mailbox{wake: make(chan struct{}, 1)}
		p.mail = append(p.mail, mb)
		go mb.serve()
	}
	return p
}

// Workers returns the goroutines the pool runs on, the caller's included (1 for nil).
func (p *Pool) Workers() int {
	if p == nil {
		return 1
	}
	return len(p.mail) + 1
}

// Close stops the pool's goroutines.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	for _, mb := range p.mail {
		mb.post(nil, 0)
	}
}

// Run calls f(0), …, f(parts−1), the last on the caller's goroutine and the others on
// workers, and returns when all have returned; parts must not exceed Workers(). f should be
// a value made once (a method value kept in a field): a closure made per call would allocate.
func (p *Pool) Run(parts int, f func(part int)) {
	if parts > p.Workers() {
		panic("parallel: more parts than workers")
	}
	if parts <= 1 {
		f(0)
		return
	}
	for i := range parts - 1 {
		p.mail[i].post(f, i)
	}
	f(parts - 1)
	for _, mb := range p.mail[:parts-1] {
		mb.wait()
	}
}

// serve runs the parts posted to mb until it is told to quit.
func (mb *mailbox) serve() {
	for seen := uint64(0); ; {
		mb.await(seen)
		seen++
		if mb.f == nil {
			return
		}
		mb.f(mb.part)
		mb.done.Store(seen)
	}
}

// await returns once a part after the seen-th has been posted: spinning at first, then asleep.
func (mb *mailbox) await(seen uint64) {
	start := time.Now()
	for spins := 0; mb.posted.Load() == seen; spins++ {
		if spins&255 != 255 || time.Since(start) < spinFor {
			continue
		}
		// Announce the sleep, then look again: a post made before the announcement is seen
		// here, one made after it finds asleep set and sends the alarm. A stale alarm only
		// turns the loop once more.
		mb.asleep.Store(true)
		if mb.posted.Load() == seen {
			<-mb.wake
		}
		mb.asleep.Store(false)
		start = time.Now()
	}
}

// post hands part of f to the worker.
func (mb *mailbox) post(f func(int), part int) {
	mb.f, mb.part = f, part
	mb.posted.Add(1)
	if mb.asleep.Load() {
		select {
		case mb.wake <- struct{}{}:
		default: // an alarm is already pending
		}
	}
}

// wait returns once the worker has finished the last part posted.
func (mb *mailbox) wait() {
	for spins := 0; mb.done.Load() != mb.posted.Load(); spins++ {
		if spins > 1000 {
			runtime.Gosched() // with fewer Ps than workers, let the worker run
		}
	}
}
