package pipeline

import (
	"runtime"
	"sync"
)

// cpus is a run's budget of CPUs. Each stage that runs holds one while it runs; a stage that
// can compute on several (training one model) claims, when it starts computing, those no
// other stage holds, and keeps them until it ends. So one model trains on every CPU when it
// runs alone, and parallel stages or trials each keep to one: never threads within threads.
type cpus struct {
	mu   sync.Mutex
	free int
}

// newCPUs returns a budget of n CPUs, or of runtime.GOMAXPROCS(0) (the machine's, or the
// container's limit, or $GOMAXPROCS) when n is 0.
func newCPUs(n int) *cpus {
	if n <= 0 {
		n = runtime.GOMAXPROCS(0)
	}
	return &cpus{free: n}
}

// take claims up to n free CPUs and returns how many it claimed.
func (c *cpus) take(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n = min(n, c.free)
	c.free -= n
	return n
}

// give returns n claimed CPUs.
func (c *cpus) give(n int) {
	c.mu.Lock()
	c.free += n
	c.mu.Unlock()
}

// all is "as many as there are" for take.
const all = int(^uint(0) >> 1)
