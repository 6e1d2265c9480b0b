package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/loom-ml/loom/pipeline"
)

// copyExample copies examples/NAME into a temporary folder, so tests never touch the
// repository's own .loom folders, and returns the manifest's path there.
func copyExample(t *testing.T, name string) string {
	return copyExampleTB(t, name)
}

func copyExampleTB(t testing.TB, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	copyTree(t, filepath.Join("examples", name), dst)
	return filepath.Join(dst, "pipeline.yaml")
}

// copyTree copies the folder src to dst, leaving out .loom folders.
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			if d.Name() == ".loom" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// loom runs the CLI in-process and returns its exit code, stdout and stderr.
func loom(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runCLI(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// runJSON runs `loom run --json` and decodes its summary.
func runJSON(t *testing.T, args ...string) (int, *pipeline.Summary, string) {
	t.Helper()
	code, out, errOut := loom(t, append([]string{"run", "--json"}, args...)...)
	var s pipeline.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("loom run --json printed no JSON (exit %d): %v\nstdout: %s\nstderr: %s", code, err, out, errOut)
	}
	return code, &s, errOut
}

func statusOf(s *pipeline.Summary) map[string]pipeline.Status {
	m := map[string]pipeline.Status{}
	for _, st := range s.Stages {
		m[st.Name] = st.Status
	}
	return m
}

func wantStatuses(t *testing.T, s *pipeline.Summary, want string) {
	t.Helper()
	got := statusOf(s)
	for _, f := range strings.Fields(want) {
		name, status, _ := strings.Cut(f, "=")
		if got[name] != pipeline.Status(status) {
			t.Errorf("stage %s: %s, want %s (all: %v)", name, got[name], status, got)
		}
	}
}

// TestExamplesReachTheirAccuracy runs every bundled ML example from an empty cache and checks
// the test accuracy the README promises, then that a rerun runs nothing.
func TestExamplesReachTheirAccuracy(t *testing.T) {
	for _, tc := range []struct {
		name string
		min  float64
	}{
		{"seed-case", 0.95},
		{"iris", 0.95},
		{"breast-cancer", 0.94},
		{"digits", 0.96},
		{"moons", 0.90},
		{"text", 0.90},
		{"digits-cnn", 0.97},
		{"sequence", 0.95},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := copyExample(t, tc.name)
			code, s, stderr := runJSON(t, "-f", path)
			if code != 0 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			acc := s.Metrics["evaluate"]["accuracy"]
			t.Logf("%s: test accuracy %.4f", tc.name, acc)
			if acc < tc.min {
				t.Errorf("test accuracy %.4f, want >= %.2f", acc, tc.min)
			}
			switch tc.name {
			case "sequence": // order is learned: the LSTM beats a bag-of-symbols MLP by 10 points
				if bag := s.Metrics["bag_evaluate"]["accuracy"]; acc < bag+0.10 {
					t.Errorf("lstm %.4f vs bag of symbols %.4f: want a 10-point lead", acc, bag)
				}
			case "text":
				if tr := s.Metrics["evaluate_transformer"]["accuracy"]; tr < 0.90 {
					t.Errorf("transformer model: test accuracy %.4f, want >= 0.90", tr)
				}
			}
			_, again, _ := runJSON(t, "-f", path)
			for _, st := range again.Stages {
				if st.Status != pipeline.Cached {
					t.Errorf("rerun with nothing changed: %s %s", st.Name, st.Status)
				}
			}
			if !equalMetrics(s.Metrics, again.Metrics) {
				t.Errorf("cached metrics differ: %v vs %v", s.Metrics, again.Metrics)
			}
		})
	}
}

func equalMetrics(a, b map[string]map[string]float64) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// TestRunsAreBitIdentical runs one manifest from scratch in two folders: the metrics and
// every artifact (models included) must be the same bytes.
func TestRunsAreBitIdentical(t *testing.T) {
	a, b := copyExample(t, "breast-cancer"), copyExample(t, "breast-cancer")
	_, sa, _ := runJSON(t, "-f", a)
	_, sb, _ := runJSON(t, "-f", b)
	if !equalMetrics(sa.Metrics, sb.Metrics) {
		t.Errorf("metrics differ between two runs:\n%v\n%v", sa.Metrics, sb.Metrics)
	}
	for i := range sa.Stages {
		if sa.Stages[i].Action != sb.Stages[i].Action {
			t.Errorf("stage %s: action ids differ, so an upstream artifact differed", sa.Stages[i].Name)
		}
	}
	for _, f := range []string{"train/model.safetensors", "train/history.json", "train/loss.png", "prep/data.frame"} {
		x, err1 := os.ReadFile(filepath.Join(filepath.Dir(a), ".loom", "out", f))
		y, err2 := os.ReadFile(filepath.Join(filepath.Dir(b), ".loom", "out", f))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between runs (%v, %v)", f, err1, err2)
		}
	}
}

// TestThreadsChangeNoBit trains the digits MLP, widened until its products and updates are
// split, on 1 CPU and on 2: the train stage computes on 2 threads when it runs alone, and the
// model is the same to the bit, so a cached model is the model whatever machine made it.
func TestThreadsChangeNoBit(t *testing.T) {
	models := map[int][]byte{}
	for _, procs := range []int{1, 2} {
		dir := copyExample(t, "digits")
		old := runtime.GOMAXPROCS(procs)
		code, _, errOut := loom(t, "run", "-f", dir, "--set", "hidden=1024", "--set", "epochs=3", "train")
		runtime.GOMAXPROCS(old)
		if code != 0 {
			t.Fatalf("GOMAXPROCS %d: exit %d\n%s", procs, code, errOut)
		}
		if said := strings.Contains(errOut, "training on 2 threads"); said != (procs == 2) {
			t.Errorf("GOMAXPROCS %d: the log says \"training on 2 threads\": %v\n%s", procs, said, errOut)
		}
		b, err := os.ReadFile(filepath.Join(filepath.Dir(dir), ".loom", "out", "train", "model.safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		models[procs] = b
	}
	if !bytes.Equal(models[1], models[2]) {
		t.Error("the model trained on 2 threads differs from the one trained on 1")
	}
}

// TestChangesRerunOnlyWhatTheyAffect edits the breast-cancer manifest the ways a user iterates.
func TestChangesRerunOnlyWhatTheyAffect(t *testing.T) {
	path := copyExample(t, "breast-cancer")
	if code, _, stderr := runJSON(t, "-f", path); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	src, _ := os.ReadFile(path)
	edited := strings.Replace(string(src), "metrics: [accuracy, precision, recall, f1, auc, log_loss, confusion_matrix]", "metrics: [accuracy, f1]", 1)
	if edited == string(src) {
		t.Fatal("the example's metrics line changed; update this test")
	}
	os.WriteFile(path, []byte(edited), 0o644)
	_, s, _ := runJSON(t, "-f", path)
	wantStatuses(t, s, "load=cached prep=cached build=cached train=cached evaluate=ran")

	_, s, _ = runJSON(t, "-f", path, "--set", "train.lr=0.002")
	wantStatuses(t, s, "load=cached prep=cached build=cached train=ran evaluate=ran")
}

func TestAssertFailureExitsThree(t *testing.T) {
	path := copyExample(t, "seed-case")
	for i := range 2 { // the second run is cached and must fail the same way
		code, s, stderr := runJSON(t, "-f", path, "--set", "epochs=1", "--set", "lr=0.0001")
		if code != exitAssert {
			t.Fatalf("run %d: exit %d, want 3\n%s", i, code, stderr)
		}
		if !strings.Contains(stderr, "assertion failed: accuracy >= 0.95 (accuracy = ") {
			t.Errorf("run %d: stderr does not explain the assertion:\n%s", i, stderr)
		}
		if s.Metrics["evaluate"] == nil {
			t.Errorf("run %d: the failing stage's metrics are missing", i)
		}
	}
}

func TestBadInputExitCodes(t *testing.T) {
	for _, tc := range []struct {
		name, csv, manifestEdit string
		code                    int
		want                    string
	}{
		{name: "ragged row", csv: "x,y\n1,0\n2\n3,1\n", code: exitFailed, want: "data/samples.csv:3"},
		{name: "not a number", csv: "x,y\n1,0\n2,1\n3,1\n4,0\n5,1\n6,0\n7,1\n8,0\n9,1\n10,0\n11,1\n12,0\n13,1\n14,0\n15,1\n16,0\n17,1\n18,0\n19,1\n20,0\nabc,1\n", code: exitFailed, want: `data/samples.csv:22: column "x"`},
		{name: "empty file", csv: "", code: exitFailed, want: "data/samples.csv"},
		{name: "one class", csv: "x,y\n1,0\n2,0\n3,0\n", code: exitFailed, want: "needs at least 2"},
		{name: "missing target", csv: "x,z\n1,0\n2,1\n", code: exitUsage, want: `pipeline.yaml:16:44: dataset: data/samples.csv: target column "y" not found`},
		{name: "unknown param", manifestEdit: `lr: "${params.lrr}"`, code: exitUsage, want: "pipeline.yaml:"},
		{name: "unknown optimizer", manifestEdit: "name: sgdd", code: exitUsage, want: "pipeline.yaml:"},
		{name: "conv2d on flat input", manifestEdit: "conv2d", code: exitUsage, want: "layer 0: conv2d needs [height, width, channels] input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := copyExample(t, "seed-case")
			dir := filepath.Dir(path)
			if code, _, stderr := loom(t, "run", "-f", path); code != 0 {
				t.Fatalf("the example itself fails: %s", stderr)
			}
			before := listCache(t, dir)
			if tc.csv != "" || tc.manifestEdit == "" {
				os.WriteFile(filepath.Join(dir, "data", "samples.csv"), []byte(tc.csv), 0o644)
			}
			if tc.manifestEdit != "" {
				src, _ := os.ReadFile(path)
				var edited string
				switch tc.manifestEdit {
				case "conv2d":
					edited = strings.Replace(string(src), "- dense: {units: 10, activation: relu}", "- conv2d: {filters: 4, kernel: 3}", 1)
				case "name: sgdd":
					edited = strings.Replace(string(src), "name: sgd", "name: sgdd", 1)
				default:
					edited = strings.Replace(string(src), `lr: "${params.lr}"`, tc.manifestEdit, 1)
				}
				if edited == string(src) {
					t.Fatal("edit did not apply")
				}
				os.WriteFile(path, []byte(edited), 0o644)
			}
			code, _, stderr := loom(t, "run", "-f", path)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr lacks %q:\n%s", tc.want, stderr)
			}
			for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
				if strings.Contains(line, "panic") || strings.Contains(line, "goroutine") {
					t.Errorf("panic: %s", stderr)
				}
			}
			if after := listCache(t, dir); after != before {
				t.Errorf("the failed run changed the cache entries:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// listCache lists the action entries and objects of a workspace's cache.
func listCache(t *testing.T, dir string) string {
	t.Helper()
	var names []string
	for _, sub := range []string{"actions", "objects"} {
		filepath.WalkDir(filepath.Join(dir, ".loom", sub), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				names = append(names, filepath.Base(p)[:8])
			}
			return nil
		})
	}
	return strings.Join(names, " ")
}

func TestCommandLineMistakesExitTwo(t *testing.T) {
	path := copyExample(t, "seed-case")
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"run", "-f", path, "--nope"},
		{"run", "-f", path, "-j", "0"},
		{"run", "-f", path, "no-such-stage"},
		{"run", "-f", path, "--set", "nosuchparam=1"},
		{"dag", "-f", path, "--dot", "--mermaid"},
		{"run", "-f", filepath.Join(filepath.Dir(path), "missing.yaml")},
		{"validate", "-f", filepath.Join(filepath.Dir(path), "missing.yaml")},
		{"run", "-f", path, "--params", filepath.Join(filepath.Dir(path), "missing.yaml")},
	} {
		code, _, stderr := loom(t, args...)
		if code != exitUsage {
			t.Errorf("loom %v: exit %d, want %d\n%s", args, code, exitUsage, stderr)
		}
	}
}

func TestMetricsCommand(t *testing.T) {
	path := copyExample(t, "seed-case")
	if code, _, stderr := loom(t, "metrics", "-f", path); code != exitFailed || !strings.Contains(stderr, "not been run") {
		t.Errorf("metrics before any run: exit %d, %s", code, stderr)
	}
	code, out, _ := loom(t, "run", "--json", "-f", path)
	if code != 0 {
		t.Fatal(code)
	}
	saved := filepath.Join(t.TempDir(), "base.json")
	os.WriteFile(saved, []byte(out), 0o644)

	_, md, _ := loom(t, "metrics", "--md", "-f", path)
	if !regexp.MustCompile(`(?m)^\| evaluate +\| accuracy +\| +1\.0000 \|$`).MatchString(md) {
		t.Errorf("markdown metrics:\n%s", md)
	}
	_, js, _ := loom(t, "metrics", "--json", "-f", path)
	var s pipeline.Summary
	if err := json.Unmarshal([]byte(js), &s); err != nil || s.Metrics["evaluate"]["accuracy"] == 0 {
		t.Errorf("metrics --json: %v\n%s", err, js)
	}
	loom(t, "run", "-f", path, "--set", "epochs=5")
	_, diff, _ := loom(t, "metrics", "diff", saved, "-f", path)
	if !strings.Contains(diff, "change") || !strings.Contains(diff, "epochs") {
		t.Errorf("metrics diff:\n%s", diff)
	}
}

// TestBrokenSettingExitsTwo: a setting broken in the file, or by --set, stops the run with exit
// 2 and its position, every time (nothing remembers a manifest as checked).
func TestBrokenSettingExitsTwo(t *testing.T) {
	path := copyExample(t, "seed-case")
	if code, _, stderr := loom(t, "run", "-f", path); code != 0 {
		t.Fatal(stderr)
	}
	src, _ := os.ReadFile(path)
	os.WriteFile(path, []byte(strings.Replace(string(src), "epochs: 300", "epochs: -3", 1)), 0o644)
	if code, _, stderr := loom(t, "run", "-f", path); code != exitUsage || !strings.Contains(stderr, "pipeline.yaml:") {
		t.Errorf("edited manifest: exit %d\n%s", code, stderr)
	}
	os.WriteFile(path, src, 0o644)
	if code, _, stderr := loom(t, "run", "-f", path, "--set", "epochs=-3"); code != exitUsage || !strings.Contains(stderr, "must be >= 1, not -3") {
		t.Errorf("--set epochs=-3: exit %d\n%s", code, stderr)
	}
}

func TestDagAndDryRun(t *testing.T) {
	path := copyExample(t, "breast-cancer")
	for flag, want := range map[string]string{
		"":          "train (train) <- prep, build",
		"--dot":     `"prep" -> "train";`,
		"--mermaid": "build --> train",
	} {
		args := []string{"dag", "-f", path}
		if flag != "" {
			args = append(args, flag)
		}
		if code, out, _ := loom(t, args...); code != 0 || !strings.Contains(out, want) {
			t.Errorf("dag %s: exit %d, want %q in\n%s", flag, code, want, out)
		}
	}
	code, out, _ := loom(t, "run", "--dry-run", "-f", path, "train")
	if code != 0 || !strings.Contains(out, "never ran") || strings.Contains(out, "evaluate") {
		t.Errorf("dry run of train: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), ".loom", "runs")); err == nil {
		t.Error("a dry run recorded a run")
	}
}

func TestHelpFlag(t *testing.T) {
	code, out, _ := loom(t, "run", "-h")
	if code != exitOK || !strings.Contains(out, "usage: loom run") || !strings.Contains(out, "-verify") {
		t.Errorf("loom run -h: exit %d\n%s", code, out)
	}
}

// TestREADMEListsTheCommands: the README's command list is `loom help`'s, line for line.
func TestREADMEListsTheCommands(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "## Commands\n\n```\n")
	block, _, _ := strings.Cut(section, "```")
	var want strings.Builder
	synopsis(&want, "", "", commands...)
	if block != want.String() {
		t.Errorf("README.md's Commands block:\n%s\nloom help lists:\n%s", block, want.String())
	}
	for _, c := range commands {
		if code, out, _ := loom(t, "help", c.name); code != exitOK || !strings.Contains(out, "usage: loom "+c.name) {
			t.Errorf("loom help %s: exit %d\n%s", c.name, code, out)
		}
	}
}

// TestStatusAfterARunOfSomeStages: a stage left out of the last run (`loom run STAGE`) is
// explained against its earlier run, not reported as never run.
func TestStatusAfterARunOfSomeStages(t *testing.T) {
	path := copyExample(t, "seed-case")
	if code, _, stderr := loom(t, "run", "-f", path); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := loom(t, "run", "-f", path, "--set", "lr=0.2", "train"); code != 0 {
		t.Fatal(stderr)
	}
	code, out, _ := loom(t, "status", "-f", path, "--set", "lr=0.2")
	if code != 0 || strings.Contains(out, "never ran") || !strings.Contains(out, "upstream train changed") {
		t.Errorf("status after running train alone:\n%s", out)
	}
}

// tool returns the value of the environment variable that names an outside tool a test needs
// (a server, a browser). Without it the test skips; under LOOM_REQUIRE_TOOLS=1, which .ci/run
// sets after installing every tool, it fails, so that CI never skips one silently.
func tool(t *testing.T, env, what string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		if os.Getenv("LOOM_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s is not set: %s", env, what)
		}
		t.Skipf("%s is not set (%s); .ci/run sets it", env, what)
	}
	return v
}
