//go:build linux

package proc

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

func configure(cmd *exec.Cmd, grace time.Duration) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = grace
}

func killGroup(pgid int) { syscall.Kill(-pgid, syscall.SIGKILL) }

// stat returns the fields of /proc/PID/stat after the command name (which may hold spaces and
// parentheses): fields[0] is the state, [2] the process group, [19] the start time.
func stat(pid string) ([][]byte, error) {
	b, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, os.ErrInvalid
	}
	return bytes.Fields(b[i+1:]), nil
}

// startTime returns when the process started, in clock ticks since boot: with its id, it
// names one process for good.
func startTime(pid int) (uint64, error) {
	f, err := stat(strconv.Itoa(pid))
	if err != nil || len(f) < 20 {
		return 0, os.ErrNotExist
	}
	return strconv.ParseUint(string(f[19]), 10, 64)
}

// groupAlive reports whether a process of the group is still running. Zombies do not count:
// they are dead, waiting for a parent (maybe a container's init that never reaps) to collect
// them.
func groupAlive(pgid int) bool {
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return syscall.Kill(-pgid, 0) == nil
	}
	want := []byte(strconv.Itoa(pgid))
	for _, p := range procs {
		if c := p.Name()[0]; c < '0' || c > '9' {
			continue
		}
		f, err := stat(p.Name())
		if err == nil && len(f) > 2 && bytes.Equal(f[2], want) && string(f[0]) != "Z" {
			return true
		}
	}
	return false
}
