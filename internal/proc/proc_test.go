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
