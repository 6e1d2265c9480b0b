//go:build unix

package steps

import (
	"os/exec"
	"syscall"
	"time"
)

// killGroup makes cancellation stop the command and everything it started: the command gets
// its own process group, which receives SIGTERM, then SIGKILL if it lingers.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 5 * time.Second
}
