//go:build linux

package proc

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestReapKillsARecordedGroup: a group recorded by a loom that is gone is killed, children
// included, and its record removed.
func TestReapKillsARecordedGroup(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", "sleep 30 & sleep 30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go cmd.Wait()
	pgid := cmd.Process.Pid
	if _, err := writeRecord(dir, pgid); err != nil {
		t.Fatal(err)
	}
	n, err := Reap(dir, 5*time.Second)
	if err != nil || n != 1 {
		t.Fatalf("Reap: %d, %v", n, err)
	}
	if groupAlive(pgid) {
		t.Fatal("the group is still alive")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("records left: %v", entries)
	}
}

// TestReapSparesAReusedID: a record whose process id now names another process (its start time
// differs) kills nothing.
func TestReapSparesAReusedID(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	go cmd.Wait()
	pid := cmd.Process.Pid
	start, _ := startTime(pid)
	os.WriteFile(filepath.Join(dir, strconv.Itoa(pid)), []byte(strconv.FormatUint(start+1, 10)), 0o644)
	if n, err := Reap(dir, time.Second); n != 0 || err != nil {
		t.Fatalf("Reap: %d, %v", n, err)
	}
	if !groupAlive(pid) {
		t.Fatal("an unrelated process was killed")
	}
}

// TestRunRecordsWhileRunning: the record exists while the command runs and is gone after;
// cancelling stops the whole group.
func TestRunRecordsWhileRunning(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "sh", "-c", "sleep 30 & sleep 30")
	done := make(chan error)
	go func() { done <- Run(cmd, dir, time.Second) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if entries, _ := os.ReadDir(dir); len(entries) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no record while the command runs")
		}
		time.Sleep(5 * time.Millisecond)
	}
	pgid := cmd.Process.Pid
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("cancel did not stop the command")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("records left: %v", entries)
	}
	time.Sleep(50 * time.Millisecond)
	if groupAlive(pgid) {
		t.Fatal("a child of the cancelled command lives on")
	}
}

// TestRunEndsWhatTheCommandLeft: a background process the command started and did not wait
// for dies with the command.
func TestRunEndsWhatTheCommandLeft(t *testing.T) {
	cmd := exec.CommandContext(context.Background(), "sh", "-c", "sleep 30 >/dev/null 2>&1 & echo started")
	if err := Run(cmd, t.TempDir(), time.Second); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	deadline := time.Now().Add(2 * time.Second)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			t.Fatal("the background child outlived the command")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestWatchdogKillsTheGroupsOfADeadLoom: a process that runs a command through Run and is then
// killed with SIGKILL leaves nothing: the watchdog kills the command's group.
func TestWatchdogKillsTheGroupsOfADeadLoom(t *testing.T) {
	if os.Getenv("LOOM_PROC_CHILD") != "" {
		Run(exec.CommandContext(context.Background(), "sh", "-c", "sleep 30 & sleep 30"), os.Getenv("LOOM_PROC_CHILD"), time.Second)
		return
	}
	dir := t.TempDir()
	child := exec.Command(os.Args[0], "-test.run=^TestWatchdogKillsTheGroupsOfADeadLoom$")
	child.Env = append(os.Environ(), "LOOM_PROC_CHILD="+dir)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var pgid int
	deadline := time.Now().Add(10 * time.Second)
	for pgid == 0 {
		if entries, _ := os.ReadDir(dir); len(entries) == 1 {
			pgid, _ = strconv.Atoi(entries[0].Name())
		}
		if time.Now().After(deadline) {
			t.Fatal("the child never started its command")
		}
		time.Sleep(5 * time.Millisecond)
	}
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	deadline = time.Now().Add(2 * time.Second)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			t.Fatal("the command's group outlived the killed process")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
