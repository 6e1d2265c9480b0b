package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loom-ml/loom/pipeline"
)

// TestMain lets the test binary be loom itself, so the crash tests can kill a real loom
// process without building one: LOOM_TEST_MAIN=1 runs main with the arguments given.
func TestMain(m *testing.M) {
	if os.Getenv("LOOM_TEST_MAIN") == "1" {
		os.Args = append([]string{"loom"}, strings.Fields(os.Getenv("LOOM_TEST_ARGS"))...)
		main()
	}
	os.Exit(m.Run())
}

// loomProcess returns a command that runs loom with args in its own process.
func loomProcess(t *testing.T, mark string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOOM_TEST_MAIN=1", "LOOM_TEST_ARGS="+strings.Join(args, " "), "LOOM_CRASH_MARK="+mark)
	return cmd
}

// slowChain is a shell chain whose stages write their outs a line at a time and append: a
// stage run twice at once, or on top of a half-written out, gives other line counts.
const slowChain = `version: 1
name: slow
stages:
  a:
    uses: shell
    with: {run: "for i in 1 2 3 4 5 6; do echo a$i >> a.txt; sleep 0.03; done", outs: [a.txt]}
  b:
    uses: shell
    needs: [a]
    with:
      run: "cat a.txt >> b.txt; (for i in 1 2 3 4 5 6; do echo b$i >> b.txt; sleep 0.03; done) & wait"
      deps: [a.txt]
      outs: [b.txt]
  c:
    uses: shell
    needs: [b]
    with:
      run: "cat b.txt >> c.txt; for i in 1 2 3; do sleep 0.03; echo c$i >> c.txt; done; printf '{\"lines\": %d, \"sum\": %d}' $(wc -l < c.txt) $(cksum < c.txt | cut -d' ' -f1) > m.json"
      deps: [b.txt]
      outs: [c.txt, m.json]
      metrics: m.json
`

// TestKillNeverPoisonsTheCache kills loom (SIGKILL, no chance to clean up) at random moments
// of a slow shell chain and of examples/sweep. After every kill, a rerun must exit 0 with the
// metrics of a clean run, --verify must pass, and no process the killed loom started may be
// left, a second after the kill and after the rerun.
func TestKillNeverPoisonsTheCache(t *testing.T) {
	if testing.Short() {
		t.Skip("kills loom 40 times")
	}
	chainDir := t.TempDir()
	os.WriteFile(filepath.Join(chainDir, "pipeline.yaml"), []byte(slowChain), 0o644)
	sweep := copyExamples(t, "sweep", "breast-cancer")
	for _, tc := range []struct {
		name, manifest string
		kills          int
	}{
		{"shell chain", filepath.Join(chainDir, "pipeline.yaml"), 20},
		{"examples/sweep", sweep, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, took := cleanRun(t, tc.manifest)
			seed := uint64(time.Now().UnixNano())
			rng := rand.New(rand.NewPCG(seed, 1))
			t.Logf("clean run %.2fs; kill moments seeded with %d", took.Seconds(), seed)
			for i := range tc.kills {
				mark := fmt.Sprintf("%d-%d", seed, i)
				if i%5 == 0 {
					os.RemoveAll(filepath.Join(filepath.Dir(tc.manifest), ".loom")) // kill some first runs too
				}
				cmd := loomProcess(t, mark, "run", "-f", tc.manifest, "--force")
				if i%2 == 1 {
					cmd = loomProcess(t, mark, "run", "-f", tc.manifest)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Duration(rng.Float64() * float64(took)))
				cmd.Process.Signal(syscall.SIGKILL)
				cmd.Wait()
				// The commands die with loom: the kernel kills each, its watchdog their groups.
				for deadline := time.Now().Add(time.Second); len(processesMarked(mark)) > 0; time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("kill %d: a second after the kill, processes of the killed run live on: %v", i, processesMarked(mark))
					}
				}

				got := rerun(t, tc.manifest)
				if !equalMetrics(got, want) {
					t.Fatalf("kill %d: the rerun reports %v, a clean run %v", i, got, want)
				}
				verify := loomProcess(t, "verify", "run", "-f", tc.manifest, "--verify")
				if out, err := verify.CombinedOutput(); err != nil {
					t.Fatalf("kill %d: --verify: %v\n%s", i, err, out)
				}
				if left := processesMarked(mark); len(left) > 0 {
					t.Fatalf("kill %d: processes of the killed run are left: %v", i, left)
				}
			}
		})
	}
}

// copyExamples copies examples that refer to each other's files; it returns the first's
// manifest.
func copyExamples(t *testing.T, names ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, n := range names {
		src := copyExample(t, n)
		if err := os.CopyFS(filepath.Join(root, n), os.DirFS(filepath.Dir(src))); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, names[0], "pipeline.yaml")
}

// cleanRun runs the manifest from an empty cache in a copy of its folder and returns its
// metrics and how long it took.
func cleanRun(t *testing.T, manifest string) (map[string]map[string]float64, time.Duration) {
	t.Helper()
	start := time.Now()
	m := rerun(t, manifest)
	took := time.Since(start)
	os.RemoveAll(filepath.Join(filepath.Dir(manifest), ".loom"))
	return m, took
}

// rerun runs loom in its own process and returns the metrics of its --json summary.
func rerun(t *testing.T, manifest string) map[string]map[string]float64 {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := loomProcess(t, "rerun", "run", "-f", manifest, "--json")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, errOut.String())
	}
	var s pipeline.Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("rerun printed no summary: %v\n%s", err, out.String())
	}
	return s.Metrics
}

// processesMarked lists the live processes whose environment holds LOOM_CRASH_MARK=mark.
func processesMarked(mark string) []string {
	want := []byte("LOOM_CRASH_MARK=" + mark + "\x00")
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, p := range procs {
		env, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(env, want) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && bytes.HasPrefix(stat[i+1:], []byte(" Z")) {
			continue // a zombie is dead
		}
		cmdline, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "cmdline"))
		out = append(out, string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
	}
	return out
}
