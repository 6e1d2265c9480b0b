// Package proc runs the commands of shell stages so that none outlives loom: each runs in a
// process group of its own, which cancellation stops, which ends with the command, and which
// is killed with loom: the command by the kernel (parent-death signal), its group by a
// watchdog process that notices loom is gone. A group that survives even that (a kill of
// loom's whole process group takes the watchdog too) is found through the record loom keeps of
// it and killed by the next loom before it starts any stage.
package proc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Run starts cmd in a process group of its own, records the group in dir while it runs, and
// waits for it. Cancelling cmd's context sends SIGTERM to the whole group, then SIGKILL
// after grace. If loom dies, the kernel kills the command (Linux's parent-death signal) and a
// watchdog process kills its group, what it started included; should the watchdog die with
// loom (a kill of loom's whole process group), Reap in the next loom kills the group.
func Run(cmd *exec.Cmd, dir string, grace time.Duration) error {
	configure(cmd, grace)
	// The parent-death signal fires when the thread that started the child exits, and the Go
	// runtime may end idle threads: keep this one until the child is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := cmd.Start(); err != nil {
		return err
	}
	pgid := cmd.Process.Pid
	watch('+', pgid)
	record, rerr := writeRecord(dir, pgid)
	err := cmd.Wait()
	// What the command left running in its group would go on writing after the stage's outputs
	// were stored: it ends with the command.
	killGroup(pgid)
	watch('-', pgid)
	if record != "" {
		os.Remove(record)
	}
	if err == nil {
		err = rerr
	}
	return err
}

// writeRecord notes that the group pgid (led by the process pgid) is running, with the
// leader's start time, so that a reused process id is never taken for it.
func writeRecord(dir string, pgid int) (string, error) {
	start, err := startTime(pgid)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil // the command has already ended
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, strconv.Itoa(pgid))
	return path, os.WriteFile(path, []byte(strconv.FormatUint(start, 10)+"\n"), 0o644)
}

// Reap kills every process group recorded in dir by a loom that is gone (the caller holds the
// workspace lock, so no live loom recorded them) and waits until each is gone, at most
// timeout. It returns the number of groups killed.
func Reap(dir string, timeout time.Duration) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, nil
	}
	killed := 0
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		pgid, err := strconv.Atoi(e.Name())
		if err != nil || pgid <= 1 {
			os.Remove(path)
			continue
		}
		b, _ := os.ReadFile(path)
		want, _ := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
		if start, err := startTime(pgid); err == nil && start != want {
			// The id now belongs to another process, so the group had emptied (the kernel
			// does not reuse the id of a living group).
			os.Remove(path)
			continue
		}
		if groupAlive(pgid) {
			killGroup(pgid)
			killed++
			deadline := time.Now().Add(timeout)
			for groupAlive(pgid) {
				if time.Now().After(deadline) {
					return killed, fmt.Errorf("processes left by an earlier loom (process group %d) do not exit", pgid)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		os.Remove(path)
	}
	return killed, nil
}
