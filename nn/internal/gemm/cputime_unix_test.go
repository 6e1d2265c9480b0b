//go:build unix

package gemm

import (
	"syscall"
	"time"
)

// processCPU returns the user+system CPU time of the whole process, so that
// benchmarks can report throughput per CPU-second on a shared, loaded
// machine where wall time mostly measures waiting for a core.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
