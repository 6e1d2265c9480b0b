package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgres returns the URL of a new, empty database on the test server: LOOM_PG_URL names the
// server (.ci/run starts one with scripts/pg_start.sh and sets LOOM_REQUIRE_TOOLS=1, so that in
// CI its absence fails).
func postgres(t *testing.T) string {
	t.Helper()
	base := tool(t, "LOOM_PG_URL", "a PostgreSQL server: eval \"$(scripts/pg_start.sh)\"")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("loom_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(base, "/loom") + "/" + name
}

var dbSeq atomic.Int64

var bestLine = regexp.MustCompile(`(?m)^# best params.*$`)

// sweepResult is what a sweep left: best.yaml, and the units each process ran.
func sweepBest(t *testing.T, mf string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(mf), ".loom", "out", "tune", "best.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// localBest runs examples/sweep in one process without storage.
func localBest(t *testing.T) string {
	t.Helper()
	mf := freshCopy(t, "sweep")
	if code, _, stderr := loom(t, "run", "-f", mf); code != 0 {
		t.Fatal(stderr)
	}
	return sweepBest(t, mf)
}

// startSweep starts `loom run --storage` of a fresh copy of examples/sweep in its own process.
func startSweep(t *testing.T, url string, edit func(string) string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	mf := freshCopy(t, "sweep")
	if edit != nil {
		b, _ := os.ReadFile(mf)
		os.WriteFile(mf, []byte(edit(string(b))), 0o644)
	}
	cmd := loomProcess(t, "", "run", "-f", mf, "--storage", url)
	var log bytes.Buffer
	cmd.Stderr = &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, mf, &log
}

// unitsDone counts the units each process log says it ran.
func unitsDone(logs ...*bytes.Buffer) int {
	n := 0
	for _, l := range logs {
		n += strings.Count(l.String(), "done here")
	}
	return n
}

// checkUnits checks the storage: every unit done exactly once.
func checkUnits(t *testing.T, url string, want int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var units, done, distinct int
	err = conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE state = 'done'), count(DISTINCT (trial, rung)) FROM loom_units`).Scan(&units, &done, &distinct)
	if err != nil {
		t.Fatal(err)
	}
	if units != want || done != want || distinct != want {
		t.Errorf("storage: %d units, %d done, %d distinct (trial, rung); want %d of each", units, done, distinct, want)
	}
}

// TestSharedSweep: 1, 2 and 4 processes run examples/sweep's 27 trials through PostgreSQL:
// every trial exactly once, and the best of the local sweep with the same seed.
func TestSharedSweep(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the sweep several times")
	}
	url := postgres(t)
	want := localBest(t)
	for _, n := range []int{1, 2, 4} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			url := postgres(t)
			var cmds []*exec.Cmd
			var mfs []string
			var logs []*bytes.Buffer
			start := time.Now()
			for range n {
				cmd, mf, log := startSweep(t, url, nil)
				cmds, mfs, logs = append(cmds, cmd), append(mfs, mf), append(logs, log)
			}
			for i, cmd := range cmds {
				if err := cmd.Wait(); err != nil {
					t.Fatalf("process %d: %v\n%s", i, err, logs[i])
				}
			}
			for i, mf := range mfs {
				if got := sweepBest(t, mf); got != want {
					t.Errorf("process %d's best:\n%s\nthe local sweep's:\n%s", i, got, want)
				}
			}
			if got := unitsDone(logs...); got != 27 {
				t.Errorf("the processes ran %d units, want 27", got)
			}
			checkUnits(t, url, 27)
			t.Logf("%d processes: %v", n, time.Since(start).Round(time.Millisecond))
		})
	}
	_ = url
}

// TestSharedSweepSurvivesAKill: one of two processes is killed with SIGKILL in the middle of a
// unit; after two heartbeats its unit goes back to the queue, the other finishes the sweep,
// and the best is the local sweep's.
func TestSharedSweepSurvivesAKill(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the sweep")
	}
	want := localBest(t)
	url := postgres(t)
	slow := func(s string) string { // slow trials, a one-second heartbeat
		s = strings.Replace(s, "seed: 1\n", "seed: 1\n      heartbeat: 1\n", 1)
		return s
	}
	victim, _, vlog := startSweep(t, url, slow)
	survivor, mf, slog := startSweep(t, url, slow)
	// Kill it while it holds a unit: once it has run two, at a moment it has claimed more than
	// it has finished.
	for deadline := time.Now().Add(20 * time.Second); unitsDone(vlog) < 2 || strings.Count(vlog.String(), "claimed") <= unitsDone(vlog); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the victim ran no unit:\n%s", vlog)
		}
	}
	victim.Process.Signal(syscall.SIGKILL)
	victim.Wait()
	if err := survivor.Wait(); err != nil {
		t.Fatalf("the survivor: %v\n%s", err, slog)
	}
	if got := sweepBest(t, mf); got != want {
		t.Errorf("best after a kill:\n%s\nwant\n%s", got, want)
	}
	checkUnits(t, url, 27)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var requeued int
	conn.QueryRow(ctx, `SELECT count(*) FROM loom_units WHERE attempts > 0`).Scan(&requeued)
	if requeued == 0 {
		t.Error("no unit of the killed process was queued again and rerun elsewhere")
	}
	t.Logf("%d unit(s) of the killed process rerun by the survivor", requeued)
}

// TestSharedSweepSurvivesARestart: the database restarts in the middle of a sweep; the
// processes carry on (or stop with a clear message, and a rerun finishes), and the best is the
// local sweep's.
func TestSharedSweepSurvivesARestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the sweep")
	}
	data, bin := os.Getenv("LOOM_PG_DATA"), os.Getenv("LOOM_PG_BIN")
	if data == "" || bin == "" {
		t.Skip("LOOM_PG_DATA and LOOM_PG_BIN name the test server's cluster, to restart it")
	}
	want := localBest(t)
	url := postgres(t)
	a, mf, alog := startSweep(t, url, nil)
	for deadline := time.Now().Add(20 * time.Second); unitsDone(alog) < 3; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no unit ran:\n%s", alog)
		}
	}
	restart := exec.Command("runuser", "-u", "postgres", "--", filepath.Join(bin, "pg_ctl"), "-D", data, "-l", filepath.Join(filepath.Dir(data), "log"), "-m", "fast", "-w", "restart")
	if out, err := restart.CombinedOutput(); err != nil {
		t.Fatalf("restart: %v\n%s", err, out)
	}
	if err := a.Wait(); err != nil {
		// Stopping is allowed if it says why; a rerun must then finish the sweep.
		if !strings.Contains(alog.String(), "storage") {
			t.Fatalf("the process stopped without naming the storage: %v\n%s", err, alog)
		}
		if code, _, stderr := loom(t, "run", "-f", mf, "--storage", url); code != 0 {
			t.Fatalf("rerun: %s", stderr)
		}
	}
	if got := sweepBest(t, mf); got != want {
		t.Errorf("best after a restart:\n%s\nwant\n%s", got, want)
	}
	checkUnits(t, url, 27)
}
