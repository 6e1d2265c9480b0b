package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
)

// fakeKind is a test stage kind registered as "shell": it writes the setting `out` (a string)
// to its artifact file out.txt, reads the deps it is given, counts its runs, and can be made to
// fail, to block on a barrier, or to wait for cancellation.
type fakeKind struct {
	version string
	salt    string // appended to every artifact, to fake a non-deterministic kind
	mu      sync.Mutex
	runs    map[string]int
	// started is closed... per stage via barrier
	barrier   *barrier
	after     *barrier         // with run: barrier threads, passed once each stage has asked
	threads   map[string][]int // what env.Threads said, by stage
	running   atomic.Int32
	maxActive atomic.Int32
}

type barrier struct {
	n    int
	mu   sync.Mutex
	hit  int
	done chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, done: make(chan struct{})} }

// wait returns true when n stages have arrived, false after a timeout.
func (b *barrier) wait() bool {
	b.mu.Lock()
	b.hit++
	if b.hit == b.n {
		close(b.done)
	}
	b.mu.Unlock()
	select {
	case <-b.done:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

func newFake() *fakeKind {
	return &fakeKind{version: "1", runs: map[string]int{}, threads: map[string][]int{}}
}

func (k *fakeKind) Version() string { return k.version }

func (k *fakeKind) Prepare(st *manifest.Stage, _ *manifest.Manifest) (pipeline.Job, error) {
	j := &fakeJob{k: k}
	if v, ok := st.Settings["run"].(string); ok {
		j.mode = v
	}
	j.parts, _ = st.Settings["parts"].(int)
	j.deps = asStrings(st.Settings["deps"])
	j.outs = asStrings(st.Settings["outs"])
	if v, ok := st.Settings["env"].(map[string]any); ok {
		j.out = fmt.Sprint(v["OUT"])
	}
	return j, nil
}

func asStrings(v any) []string {
	var out []string
	if l, ok := v.([]any); ok {
		for _, x := range l {
			out = append(out, fmt.Sprint(x))
		}
	}
	return out
}

func (k *fakeKind) count(name string) int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.runs[name]
}

type fakeJob struct {
	k          *fakeKind
	mode, out  string
	deps, outs []string
	parts      int // with run: parts, how many runs of stage "part" to make at once
}

func (j *fakeJob) Deps() []string { return j.deps }
func (j *fakeJob) Outs() []string { return j.outs }

func (j *fakeJob) Run(ctx context.Context, env *pipeline.Env) error {
	k := j.k
	k.mu.Lock()
	k.runs[env.Stage.Name]++
	k.mu.Unlock()
	n := k.running.Add(1)
	defer k.running.Add(-1)
	for {
		m := k.maxActive.Load()
		if n <= m || k.maxActive.CompareAndSwap(m, n) {
			break
		}
	}
	switch j.mode {
	case "fail":
		return errors.New("boom")
	case "barrier":
		if !k.barrier.wait() {
			return errors.New("barrier timed out: stages did not run at the same time")
		}
	case "block":
		<-ctx.Done()
		return ctx.Err()
	case "threads":
		k.mu.Lock()
		k.threads[env.Stage.Name] = append(k.threads[env.Stage.Name], env.Threads())
		k.mu.Unlock()
	case "barrier threads":
		if !k.barrier.wait() {
			return errors.New("barrier timed out")
		}
		k.mu.Lock()
		k.threads[env.Stage.Name] = append(k.threads[env.Stage.Name], env.Threads())
		k.mu.Unlock()
		if !k.after.wait() { // hold the CPUs until both have asked
			return errors.New("barrier timed out")
		}
	case "parts":
		runner := env.Parts(j.parts)
		errs := make(chan error, j.parts)
		for i := range j.parts {
			go func() {
				_, err := runner.RunPart(ctx, "part", map[string]any{"x": i})
				errs <- err
			}()
		}
		for range j.parts {
			if err := <-errs; err != nil {
				return err
			}
		}
	}
	// The artifact concatenates the upstream artifacts with this stage's own text, so that
	// upstream content flows downstream.
	var content strings.Builder
	for _, in := range env.Inputs {
		p, err := in.Path("out.txt")
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		content.Write(b)
	}
	content.WriteString(j.out)
	content.WriteString(k.salt)
	for _, o := range j.outs {
		if err := os.WriteFile(env.Abs(o), []byte(content.String()), 0o644); err != nil {
			return err
		}
	}
	env.ReportMetric("len", float64(content.Len()))
	return os.WriteFile(filepath.Join(env.Out, "out.txt"), []byte(content.String()), 0o644)
}

// workspace writes a manifest and files into a temp dir.
type workspace struct {
	t    *testing.T
	dir  string
	kind *fakeKind
}

func newWorkspace(t *testing.T, manifestText string) *workspace {
	t.Helper()
	w := &workspace{t: t, dir: t.TempDir(), kind: newFake()}
	w.write("pipeline.yaml", manifestText)
	return w
}

func (w *workspace) write(name, content string) {
	w.t.Helper()
	p := filepath.Join(w.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

func (w *workspace) open(sets ...string) *pipeline.Workspace {
	w.t.Helper()
	m, err := manifest.Load(filepath.Join(w.dir, "pipeline.yaml"), manifest.Options{Sets: sets})
	if err != nil {
		w.t.Fatal(err)
	}
	ws, err := pipeline.Open(m, pipeline.Kinds{"shell": w.kind})
	if err != nil {
		w.t.Fatal(err)
	}
	return ws
}

// run runs the pipeline and returns each stage's status.
func (w *workspace) run(opt pipeline.Options, sets ...string) map[string]pipeline.Status {
	w.t.Helper()
	rep, err := w.open(sets...).Run(context.Background(), opt)
	if err != nil {
		w.t.Fatal(err)
	}
	return statuses(rep)
}

func statuses(rep *pipeline.Report) map[string]pipeline.Status {
	got := map[string]pipeline.Status{}
	for _, s := range rep.Stages {
		got[s.Name] = s.Status
	}
	return got
}

func expect(t *testing.T, got map[string]pipeline.Status, want string) {
	t.Helper()
	var parts []string
	for _, f := range strings.Fields(want) {
		name, status, _ := strings.Cut(f, "=")
		if got[name] != pipeline.Status(status) {
			parts = append(parts, fmt.Sprintf("%s: got %s, want %s", name, got[name], status))
		}
	}
	if len(parts) > 0 {
		t.Errorf("statuses: %s (all: %v)", strings.Join(parts, "; "), got)
	}
}

const chain = `version: 1
name: chain
params:
  a: one
  b: two
stages:
  first:
    uses: shell
    with: {run: ok, deps: [input.txt], env: {OUT: "${params.a}"}}
  second:
    uses: shell
    needs: [first]
    with: {run: ok, env: {OUT: "${params.b}"}}
  third:
    uses: shell
    needs: [second]
    with: {run: ok, env: {OUT: "3"}}
`

func TestCacheHitAndMissCauses(t *testing.T) {
	w := newWorkspace(t, chain)
	w.write("input.txt", "data v1")
	expect(t, w.run(pipeline.Options{}), "first=ran second=ran third=ran")
	expect(t, w.run(pipeline.Options{}), "first=cached second=cached third=cached")

	// A param read only by the second stage reruns it and what follows.
	expect(t, w.run(pipeline.Options{}, "b=changed"), "first=cached second=ran third=ran")
	// Back to the old value: every entry is still there.
	expect(t, w.run(pipeline.Options{}), "first=cached second=cached third=cached")

	// An input file's content reruns the stage that reads it; its artifact does not depend
	// on the input, so the stages after it are cut off early.
	w.write("input.txt", "data v2")
	expect(t, w.run(pipeline.Options{}), "first=ran second=cached third=cached")

	// The kind's implementation version.
	w.kind.version = "2"
	expect(t, w.run(pipeline.Options{}), "first=ran second=ran third=ran")

	// --force reruns everything without changing anything else.
	expect(t, w.run(pipeline.Options{Force: true}), "first=ran second=ran third=ran")
	if n := w.kind.count("third"); n != 4 {
		t.Errorf("third ran %d times, want 4", n)
	}
}

func TestEarlyCutoff(t *testing.T) {
	// Changing `a` from "x" to "x " and back changes first's settings; but with "same" as the
	// artifact content both ways, the downstream stages must stay cached.
	w := newWorkspace(t, `version: 1
name: cutoff
params: {a: 1}
stages:
  first:
    uses: shell
    with: {run: "ok ${params.a}", env: {OUT: same}}
  second:
    uses: shell
    needs: [first]
    with: {run: ok, env: {OUT: x}}
`)
	expect(t, w.run(pipeline.Options{}), "first=ran second=ran")
	expect(t, w.run(pipeline.Options{}, "a=2"), "first=ran second=cached")
}

func TestParallelStagesOverlap(t *testing.T) {
	w := newWorkspace(t, `version: 1
name: par
stages:
  left: {uses: shell, with: {run: barrier, env: {OUT: l}}}
  right: {uses: shell, with: {run: barrier, env: {OUT: r}}}
`)
	w.kind.barrier = newBarrier(2)
	expect(t, w.run(pipeline.Options{Jobs: 2}), "left=ran right=ran")
}

func TestJobsLimit(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nname: wide\nstages:\n")
	for i := range 8 {
		fmt.Fprintf(&b, "  s%d: {uses: shell, with: {run: ok, env: {OUT: %d}}}\n", i, i)
	}
	w := newWorkspace(t, b.String())
	w.run(pipeline.Options{Jobs: 1})
	if m := w.kind.maxActive.Load(); m != 1 {
		t.Errorf("with -j 1, %d stages ran at once", m)
	}
}

// TestStagesShareTheCPUs: a stage that asks computes on every CPU when it runs alone; stages
// side by side share them; the parts a stage runs at once share its CPUs. Never more threads
// than CPUs.
func TestStagesShareTheCPUs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	w := newWorkspace(t, `version: 1
name: cpus
params: {x: 0}
stages:
  alone: {uses: shell, with: {run: threads, env: {OUT: a}}}
`)
	w.run(pipeline.Options{})
	if got := w.kind.threads["alone"]; len(got) != 1 || got[0] != 4 {
		t.Errorf("a stage alone on 4 CPUs got %v threads, want [4]", got)
	}

	w = newWorkspace(t, `version: 1
name: cpus
stages:
  left: {uses: shell, with: {run: barrier threads, env: {OUT: l}}}
  right: {uses: shell, with: {run: barrier threads, env: {OUT: r}}}
`)
	w.kind.barrier, w.kind.after = newBarrier(2), newBarrier(2)
	expect(t, w.run(pipeline.Options{Jobs: 2}), "left=ran right=ran")
	l, r := w.kind.threads["left"], w.kind.threads["right"]
	if len(l) != 1 || len(r) != 1 || l[0] < 1 || r[0] < 1 || l[0]+r[0] != 4 {
		t.Errorf("two stages side by side on 4 CPUs got %v and %v threads, want at least 1 each and 4 in all", l, r)
	}

	for _, c := range []struct{ parts, want int }{{1, 4}, {2, 2}, {4, 1}} {
		w = newWorkspace(t, fmt.Sprintf(`version: 1
name: cpus
params: {x: 0}
stages:
  part: {uses: shell, with: {run: threads, env: {OUT: "${params.x}"}}}
  sweep: {uses: shell, with: {run: parts, parts: %d, env: {OUT: s}}}
`, c.parts))
		expect(t, w.run(pipeline.Options{Targets: []string{"sweep"}}), "sweep=ran")
		got := w.kind.threads["part"]
		if len(got) != c.parts {
			t.Fatalf("%d parts at once: the part ran %d times", c.parts, len(got))
		}
		for _, n := range got {
			if n != c.want {
				t.Errorf("%d parts at once on 4 CPUs: a part got %v threads, want %d each", c.parts, got, c.want)
				break
			}
		}
	}
}

func TestFailureIsolation(t *testing.T) {
	w := newWorkspace(t, `version: 1
name: fail
stages:
  bad: {uses: shell, with: {run: fail}}
  after: {uses: shell, needs: [bad], with: {run: ok}}
  later: {uses: shell, needs: [after], with: {run: ok}}
  other: {uses: shell, with: {run: ok}}
`)
	expect(t, w.run(pipeline.Options{}), "bad=failed after=skipped later=skipped other=ran")
	// Nothing was cached for the failure: it runs again.
	expect(t, w.run(pipeline.Options{}), "bad=failed other=cached")
	if n := w.kind.count("bad"); n != 2 {
		t.Errorf("bad ran %d times, want 2", n)
	}
}

func TestTargetsRunOnlyWhatTheyNeed(t *testing.T) {
	w := newWorkspace(t, chain)
	w.write("input.txt", "x")
	got := w.run(pipeline.Options{Targets: []string{"second"}})
	if _, ok := got["third"]; ok || got["first"] != pipeline.Ran || got["second"] != pipeline.Ran {
		t.Errorf("targets [second]: got %v", got)
	}
}

func TestCancelStopsRunningStages(t *testing.T) {
	w := newWorkspace(t, `version: 1
name: cancel
stages:
  slow: {uses: shell, with: {run: block}}
  next: {uses: shell, needs: [slow], with: {run: ok}}
`)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	rep, err := w.open().Run(ctx, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, statuses(rep), "slow=failed next=skipped")
}

func TestDamagedCacheIsAMiss(t *testing.T) {
	w := newWorkspace(t, chain)
	w.write("input.txt", "x")
	w.run(pipeline.Options{})
	loom := filepath.Join(w.dir, ".loom")

	// A half-written entry, as a crash during a non-atomic write would leave it.
	truncateAll(t, filepath.Join(loom, "actions"), 10)
	expect(t, w.run(pipeline.Options{}), "first=ran second=ran third=ran")

	// A missing object invalidates the entries that name it.
	removeAll(t, filepath.Join(loom, "objects"))
	expect(t, w.run(pipeline.Options{}), "first=ran second=ran third=ran")

	// Leftover temporary files of an interrupted write are never read as entries.
	w.write(".loom/actions/00/.tmp-x", "{")
	expect(t, w.run(pipeline.Options{}), "first=cached second=cached third=cached")
}

func truncateAll(t *testing.T, dir string, size int64) {
	t.Helper()
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			if err := os.Truncate(p, size); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	})
}

func removeAll(t *testing.T, dir string) {
	t.Helper()
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			os.Remove(p)
		}
		return nil
	})
}

func TestOutsAreRestoredFromTheCache(t *testing.T) {
	w := newWorkspace(t, `version: 1
name: outs
stages:
  make:
    uses: shell
    with: {run: ok, outs: [result.txt], env: {OUT: hello}}
`)
	expect(t, w.run(pipeline.Options{}), "make=ran")
	os.Remove(filepath.Join(w.dir, "result.txt"))
	expect(t, w.run(pipeline.Options{}), "make=cached")
	b, err := os.ReadFile(filepath.Join(w.dir, "result.txt"))
	if err != nil || string(b) != "hello" {
		t.Fatalf("result.txt after a cached run: %q, %v", b, err)
	}
}

func TestOutsOutsideTheWorkspaceAreRejected(t *testing.T) {
	w := newWorkspace(t, `version: 1
name: outs
stages:
  make:
    uses: shell
    with: {run: ok, outs: [../escape.txt]}
`)
	m, err := manifest.Load(filepath.Join(w.dir, "pipeline.yaml"), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pipeline.Open(m, pipeline.Kinds{"shell": w.kind})
	if err == nil || !strings.Contains(err.Error(), "outside the manifest's folder") || !strings.Contains(err.Error(), "pipeline.yaml:") {
		t.Fatalf("got %v, want a positioned error about the folder", err)
	}
}

func TestStatusSaysWhy(t *testing.T) {
	w := newWorkspace(t, chain)
	w.write("input.txt", "x")
	states, err := w.open().Status()
	if err != nil {
		t.Fatal(err)
	}
	if states[0].UpToDate || !strings.Contains(strings.Join(states[0].Reasons, ";"), "never ran") {
		t.Errorf("before any run: %+v", states[0])
	}
	w.run(pipeline.Options{})
	for _, tc := range []struct {
		set, input string
		stage      int
		want       string
	}{
		{"", "x", -1, ""},
		{"b=other", "x", 1, `param params.b changed ("two" -> "other")`},
		{"", "y", 0, "input input.txt changed"},
	} {
		w.write("input.txt", tc.input)
		var sets []string
		if tc.set != "" {
			sets = append(sets, tc.set)
		}
		states, err := w.open(sets...).Status()
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range states {
			if i == tc.stage {
				if s.UpToDate || !strings.Contains(strings.Join(s.Reasons, ";"), tc.want) {
					t.Errorf("set %q input %q: stage %s: %+v, want reason %q", tc.set, tc.input, s.Name, s, tc.want)
				}
			} else if tc.stage == -1 && !s.UpToDate {
				t.Errorf("nothing changed, but %s is stale: %v", s.Name, s.Reasons)
			}
		}
	}
}

func TestConcurrentRunsShareAWorkspace(t *testing.T) {
	w := newWorkspace(t, chain)
	w.write("input.txt", "x")
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := w.open().Run(context.Background(), pipeline.Options{})
			if err != nil {
				t.Error(err)
				return
			}
			for _, s := range rep.Stages {
				if s.Status != pipeline.Ran && s.Status != pipeline.Cached {
					t.Errorf("%s: %s %v", s.Name, s.Status, s.Err)
				}
			}
		}()
	}
	wg.Wait()
	// The lock serialised the runs, so exactly one of them ran each stage.
	if n := w.kind.count("third"); n != 1 {
		t.Errorf("third ran %d times across 4 concurrent runs, want 1", n)
	}
}

func TestGCKeepsWhatTheLastRunUses(t *testing.T) {
	w := newWorkspace(t, chain)
	w.write("input.txt", "x")
	w.run(pipeline.Options{}, "b=old")
	w.run(pipeline.Options{})
	st, err := pipeline.GC(filepath.Join(w.dir, ".loom"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if st.Actions != 2 { // second and third under b=old
		t.Errorf("gc removed %d entries, want 2", st.Actions)
	}
	expect(t, w.run(pipeline.Options{}), "first=cached second=cached third=cached")
	expect(t, w.run(pipeline.Options{}, "b=old"), "second=ran third=ran")
}

// TestVerifyCatchesNonDeterminism: --verify reruns cached stages and fails one whose output
// differs from its entry.
func TestVerifyCatchesNonDeterminism(t *testing.T) {
	w := newWorkspace(t, chain)
	w.write("input.txt", "x")
	w.run(pipeline.Options{})
	expect(t, w.run(pipeline.Options{Verify: true}), "first=ran second=ran third=ran")

	// A kind whose output changes without its key changing: the bug --verify exists for.
	w.kind.salt = "drift"
	rep, err := w.open().Run(context.Background(), pipeline.Options{Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Stages[0]
	if s.Status != pipeline.Failed || !strings.Contains(fmt.Sprint(s.Err), "not reproducible: differs from the cached output in metric len, out.txt") {
		t.Errorf("first: %s %v", s.Status, s.Err)
	}
}

func TestFormatMetric(t *testing.T) {
	for v, want := range map[float64]string{0: "0.0000", 0.95262: "0.9526", 30: "30", 1: "1.0000", 1e-5: "1e-05", -0.00012345: "-0.0001234", 2.5: "2.5000"} {
		if got := pipeline.FormatMetric(v); got != want {
			t.Errorf("FormatMetric(%g) = %q, want %q", v, got, want)
		}
	}
}
