//go:build unix && !linux

package proc

import (
	"errors"
	"os/exec"
	"syscall"
	"time"
)

// Without a parent-death signal, a killed loom's commands live until the next loom reaps them;
// without /proc, a reused process id cannot be told from the recorded one, so Reap kills any
// group of that id that is still there.
func configure(cmd *exec.Cmd, grace time.Duration) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = grace
}

func killGroup(pgid int) { syscall.Kill(-pgid, syscall.SIGKILL) }

func startTime(pid int) (uint64, error) { return 0, errors.ErrUnsupported }

func groupAlive(pgid int) bool { return syscall.Kill(-pgid, 0) == nil }
