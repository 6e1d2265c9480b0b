package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// damageable is the seed-case example with a shell stage whose out is read by another.
func damageable(t *testing.T) string {
	t.Helper()
	path := copyExample(t, "seed-case")
	src, _ := os.ReadFile(path)
	src = []byte(strings.Replace(string(src), `metrics: [accuracy, precision, recall, f1, auc, confusion_matrix]
      assert: ["accuracy >= 0.95"]`, `metrics: [accuracy, log_loss]`, 1))
	src = append(src, []byte(`
  nums:
    uses: shell
    with: {run: "seq 1 500 > nums.txt", outs: [nums.txt]}
  total:
    uses: shell
    needs: [nums]
    with: {run: "awk '{s += $1} END {print \"{\\\"sum\\\": \" s \"}\"}' nums.txt > total.json", deps: [nums.txt], outs: [total.json], metrics: total.json}
`)...)
	if err := os.WriteFile(path, src, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// flipByte changes one byte in the middle of a cache object, keeping its size, mode and
// modification time: the damage a bad disk or a stray write does.
func flipByte(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 0x20
	os.Chmod(path, 0o644)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, fi.Mode().Perm())
	os.Chtimes(path, fi.ModTime(), fi.ModTime())
}

func objectOf(t *testing.T, dir, workspaceFile string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, workspaceFile))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	d := hex.EncodeToString(sum[:])
	return filepath.Join(dir, ".loom", "objects", d[:2], d)
}

func intact(t *testing.T, object string) bool {
	t.Helper()
	b, err := os.ReadFile(object)
	if err != nil {
		return false
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]) == filepath.Base(object)
}

// TestDamagedObjectsAreMisses flips a byte in a frame, a model and a shell stage's out. The
// next run must notice, rerun the stage that made the object and report the clean metrics;
// --verify must name the object; --force must repair it.
func TestDamagedObjectsAreMisses(t *testing.T) {
	path := damageable(t)
	dir := filepath.Dir(path)
	code, ref, stderr := runJSON(t, "-f", path)
	if code != 0 {
		t.Fatalf("clean run: exit %d\n%s", code, stderr)
	}
	if ref.Metrics["evaluate"]["log_loss"] == 0 || ref.Metrics["total"]["sum"] != 125250 {
		t.Fatalf("clean metrics %v", ref.Metrics)
	}
	for _, o := range []struct{ stage, file string }{
		{"prep", ".loom/out/prep/data.frame"},
		{"train", ".loom/out/train/model.safetensors"},
		{"nums", "nums.txt"},
	} {
		t.Run(o.stage, func(t *testing.T) {
			object := objectOf(t, dir, o.file)
			for _, mode := range []string{"run", "--verify", "--force"} {
				flipByte(t, object)
				if intact(t, object) {
					t.Fatal("the flip did not change the object")
				}
				args := []string{"-f", path}
				if mode != "run" {
					args = append(args, mode)
				}
				code, got, stderr := runJSON(t, args...)
				switch mode {
				case "--verify":
					if code != exitFailed || !strings.Contains(stderr, "object "+filepath.Base(object)[:12]) {
						t.Fatalf("--verify: exit %d, want 1 naming the object %s:\n%s", code, filepath.Base(object)[:12], stderr)
					}
				default:
					if code != 0 || !equalMetrics(got.Metrics, ref.Metrics) {
						t.Fatalf("%s after the flip: exit %d, metrics %v, want %v\n%s", mode, code, got.Metrics, ref.Metrics, stderr)
					}
					if statusOf(got)[o.stage] != "ran" {
						t.Fatalf("%s: %s was %s; a damaged object must be a miss", mode, o.stage, statusOf(got)[o.stage])
					}
				}
				if !intact(t, object) {
					t.Fatalf("%s left the object damaged", mode)
				}
				if code, got, _ := runJSON(t, "-f", path); code != 0 || !equalMetrics(got.Metrics, ref.Metrics) {
					t.Fatalf("after %s: exit %d, metrics %v", mode, code, got.Metrics)
				}
			}
		})
	}
}

// hostile makes a folder outside the workspace with a file in it, and returns the folder and
// a function that fails the test if the file changed or went away.
func hostile(t *testing.T) (string, func()) {
	t.Helper()
	outside := t.TempDir()
	victim := filepath.Join(outside, "precious.txt")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	return outside, func() {
		t.Helper()
		if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me" {
			t.Fatalf("a file outside the workspace was changed or deleted: %q %v", b, err)
		}
		entries, _ := os.ReadDir(outside)
		if len(entries) != 1 {
			t.Fatalf("loom wrote outside the workspace: %d entries in %s", len(entries), outside)
		}
	}
}

// hiDigest is the SHA-256 of linkChain's out.
var hiDigest = func() string { s := sha256.Sum256([]byte("hi\n")); return hex.EncodeToString(s[:]) }()

const linkChain = `version: 1
name: links
stages:
  s: {uses: shell, with: {run: "mkdir -p res && echo hi > res/out.txt", outs: [res/out.txt]}}
`

// TestSymlinksAreNeverFollowedDestructively: with a link in .loom or on an output's path,
// loom stops with an error naming the link and writes or deletes nothing outside.
func TestSymlinksAreNeverFollowedDestructively(t *testing.T) {
	for _, tc := range []struct {
		name, link, cmd string
	}{
		{".loom/tmp for gc", ".loom/tmp", "gc"},
		{".loom/tmp for run", ".loom/tmp", "run"},
		{".loom/out", ".loom/out", "run"},
		{".loom itself", ".loom", "run"},
		{"the folder of the out's object", ".loom/objects/" + hiDigest[:2], "--force"},
		{"an output's folder, cached", "res", "run"},
		{"an output's folder, rerun", "res", "--force"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "pipeline.yaml")
			os.WriteFile(path, []byte(linkChain), 0o644)
			if code, _, stderr := loom(t, "run", "-f", path); code != 0 {
				t.Fatalf("first run: %s", stderr)
			}
			outside, check := hostile(t)
			link := filepath.Join(dir, filepath.FromSlash(tc.link))
			os.RemoveAll(link)
			os.MkdirAll(filepath.Dir(link), 0o755)
			if err := os.Symlink(outside, link); err != nil {
				t.Fatal(err)
			}
			args := []string{"run", "-f", path}
			switch tc.cmd {
			case "gc":
				args = []string{"gc", "-f", path}
			case "--force":
				args = append(args, "--force")
			}
			code, _, stderr := loom(t, args...)
			if code == 0 || !strings.Contains(stderr, link+" is a symbolic link") {
				t.Errorf("exit %d, want an error naming the link:\n%s", code, stderr)
			}
			check()
		})
	}
}

// TestSpecialFilesAsInputs: a FIFO as a dataset's path or in a shell stage's deps would block a
// reader forever; it is an error naming it, at once.
func TestSpecialFilesAsInputs(t *testing.T) {
	for _, manifest := range []string{
		"  load: {uses: dataset, with: {path: data.csv, target: y}}\n",
		"  s: {uses: shell, with: {run: 'cat data.csv', deps: [data.csv]}}\n",
		"  s: {uses: shell, with: {run: 'true', deps: [folder]}}\n",
	} {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "folder"), 0o755)
		for _, fifo := range []string{"data.csv", "folder/pipe"} {
			if err := syscall.Mkfifo(filepath.Join(dir, fifo), 0o644); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
		}
		path := filepath.Join(dir, "pipeline.yaml")
		os.WriteFile(path, []byte("version: 1\nname: f\nstages:\n"+manifest), 0o644)
		start := time.Now()
		code, _, stderr := loom(t, "run", "-f", path)
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s: took %v", manifest, d)
		}
		if code != exitFailed || !strings.Contains(stderr, "named pipe (FIFO), not a regular file or folder") {
			t.Errorf("%s: exit %d\n%s", manifest, code, stderr)
		}
	}
}

// TestOutsideInputs: absolute and ../ paths are inputs like any other, digested by content.
func TestOutsideInputs(t *testing.T) {
	outside := t.TempDir()
	data := filepath.Join(outside, "samples.csv")
	src, _ := os.ReadFile(filepath.Join("examples", "seed-case", "data", "samples.csv"))
	os.WriteFile(data, src, 0o644)
	dir := filepath.Join(outside, "ws")
	os.Mkdir(dir, 0o755)
	for _, p := range []string{data, "../samples.csv"} {
		path := filepath.Join(dir, "pipeline.yaml")
		os.WriteFile(path, []byte("version: 1\nname: o\nstages:\n  load: {uses: dataset, with: {path: "+p+", target: y}}\n"), 0o644)
		if code, s, stderr := runJSON(t, "-f", path); code != 0 {
			t.Fatalf("%s: exit %d\n%s", p, code, stderr)
		} else if statusOf(s)["load"] != "ran" && p == data {
			t.Fatalf("%s: %v", p, statusOf(s))
		}
	}
	// Changing the outside file is a change of input.
	os.WriteFile(data, append(src, []byte("11,1\n")...), 0o644)
	if _, s, _ := runJSON(t, "-f", filepath.Join(dir, "pipeline.yaml")); statusOf(s)["load"] != "ran" {
		t.Fatalf("an edited outside input was %v", statusOf(s)["load"])
	}
}

// TestCancelStopsEveryKindWithinASecond cancels a run while each kind of stage runs (a long
// training, a slow shell command) and wants loom back within a second, exiting 1 with nothing
// recorded for the stage.
func TestCancelStopsEveryKindWithinASecond(t *testing.T) {
	for _, tc := range []struct{ name, edit string }{
		{"train", "epochs: 300"},
		{"shell", "shell"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := copyExample(t, "seed-case")
			src, _ := os.ReadFile(path)
			edited := strings.Replace(string(src), "epochs: 300", "epochs: 100000000", 1)
			if tc.edit == "shell" {
				edited += "  slow: {uses: shell, with: {run: \"trap '' TERM; sleep 30\"}}\n"
				edited = strings.Replace(edited, "epochs: 100000000", "epochs: 300", 1)
			}
			os.WriteFile(path, []byte(edited), 0o644)
			ctx, cancel := context.WithCancel(context.Background())
			var cancelled time.Time
			time.AfterFunc(700*time.Millisecond, func() { cancelled = time.Now(); cancel() })
			var out, errOut bytes.Buffer
			code := runCLI(ctx, []string{"run", "-f", path, "-j", "2"}, &out, &errOut)
			returned := time.Now()
			<-ctx.Done() // orders the write of cancelled before this read
			if d := returned.Sub(cancelled); d > time.Second {
				t.Errorf("loom returned %v after the cancel", d)
			}
			if code != exitFailed || !strings.Contains(errOut.String(), "run cancelled") {
				t.Errorf("exit %d, want 1 saying the run was cancelled\n%s", code, errOut.String())
			}
		})
	}
}
