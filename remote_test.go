package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/loom-ml/loom/pipeline"
)

// s3Server starts VersityGW (LOOM_VERSITYGW names the binary; .ci/run builds it from the Go
// module proxy and sets LOOM_REQUIRE_TOOLS=1, so that in CI its absence fails) on a loopback
// port with a posix back end in a temporary folder, and points the AWS environment at it. It
// returns the remote URL, the folder holding the bucket's objects, a function that stops the
// server, and its pid.
func s3Server(t *testing.T) (url, dir string, stop func(), pid int) {
	t.Helper()
	bin := tool(t, "LOOM_VERSITYGW", "VersityGW, an S3 server: go install github.com/versity/versitygw/cmd/versitygw")
	root := t.TempDir()
	os.Mkdir(filepath.Join(root, "loom"), 0o755) // the bucket
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--port", addr, "posix", root)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY=loomtest", "ROOT_SECRET_KEY=loomtestsecret")
	if err := cmd.Start(); err != nil {
		t.Fatalf("VersityGW: %v", err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("VersityGW did not listen within 10 s")
		}
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "loomtest")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "loomtestsecret")
	t.Setenv("AWS_ENDPOINT_URL", "http://"+addr)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(root, "no-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(root, "no-credentials"))
	return "s3://loom/cache", filepath.Join(root, "loom", "cache"), stop, cmd.Process.Pid
}

// remotes runs f with a file:// remote and with a real S3 server.
func remotes(t *testing.T, f func(t *testing.T, url, dir string, stop func())) {
	t.Run("file", func(t *testing.T) {
		dir := t.TempDir()
		f(t, "file://"+dir, dir, func() { os.RemoveAll(dir); os.WriteFile(dir, nil, 0o644) })
	})
	t.Run("s3", func(t *testing.T) {
		url, dir, stop, _ := s3Server(t)
		f(t, url, dir, stop)
	})
}

// freshCopy copies examples/NAME (and the breast-cancer data a sweep reads) into a new folder.
func freshCopy(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	for _, ex := range []string{name, "breast-cancer"} {
		copyTree(t, filepath.Join("examples", ex), filepath.Join(dir, "examples", ex))
	}
	return filepath.Join(dir, "examples", name, "pipeline.yaml")
}

// runRemote runs `loom run --json` with the remote and returns the exit code, the summary and stderr.
func runRemote(t *testing.T, mf, url string, more ...string) (int, *pipeline.Summary, string) {
	t.Helper()
	code, out, stderr := loom(t, append([]string{"run", "-f", mf, "--json", "--remote", url}, more...)...)
	var s pipeline.Summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("exit %d, not JSON: %v\n%s\n%s", code, err, out, stderr)
	}
	return code, &s, stderr
}

func statuses(s *pipeline.Summary) map[string]string {
	out := map[string]string{}
	for _, st := range s.Stages {
		out[st.Name] = string(st.Status) + "/" + st.Source
	}
	return out
}

// TestRemoteSharesResults: a second, empty folder with the same remote runs no stage and gets
// the same metrics, for the main example and for a sweep; read mode uploads nothing.
func TestRemoteSharesResults(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the sweep")
	}
	remotes(t, func(t *testing.T, url, dir string, _ func()) {
		for _, ex := range []string{"breast-cancer", "sweep"} {
			code, first, stderr := runRemote(t, freshCopy(t, ex), url)
			if code != 0 || strings.Contains(stderr, "warning") {
				t.Fatalf("%s first run: exit %d\n%s", ex, code, stderr)
			}
			clone := freshCopy(t, ex)
			if code, out, _ := loom(t, "status", "-f", clone, "--remote", url); code != 0 || strings.Contains(out, "stale") {
				t.Errorf("%s: status of an empty clone:\n%s", ex, out)
			}
			start := time.Now()
			code, second, stderr := runRemote(t, clone, url)
			took := time.Since(start)
			for name, st := range statuses(second) {
				if st != "cached/remote" {
					t.Errorf("%s: stage %s is %s in the second folder, want cached/remote", ex, name, st)
				}
			}
			if code != 0 || !reflect.DeepEqual(first.Metrics, second.Metrics) {
				t.Errorf("%s: exit %d, metrics %v, want %v\n%s", ex, code, second.Metrics, first.Metrics, stderr)
			}
			t.Logf("%s: remote hit of every stage from an empty folder in %v", ex, took.Round(time.Millisecond))
		}
		// Read mode: a run with new params takes what it can and gives nothing.
		before := countFiles(dir)
		mf := freshCopy(t, "breast-cancer")
		if code, _, stderr := runRemote(t, mf, url, "--remote-mode", "read", "--set", "train.lr=0.004"); code != 0 {
			t.Fatal(stderr)
		}
		if after := countFiles(dir); after != before {
			t.Errorf("read mode changed the remote: %d files, then %d", before, after)
		}
	})
}

func countFiles(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestRemoteFailures: a damaged remote object is found and its stage runs; a remote that is
// down from the start, or stops in the middle of a run, is one warning and a local run with the
// same results and exit code.
func TestRemoteFailures(t *testing.T) {
	remotes(t, func(t *testing.T, url, dir string, stop func()) {
		code, clean, stderr := runRemote(t, freshCopy(t, "seed-case"), url)
		if code != 0 {
			t.Fatal(stderr)
		}
		// Damage the model: same size, other bytes.
		var model string
		filepath.WalkDir(filepath.Join(dir, "objects"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(p); len(b) > 8 && string(b[8:9]) == "{" && strings.Contains(string(b[:400]), "loom_spec") && strings.Contains(string(b), "loom_bundle") {
					model = p
				}
			}
			return nil
		})
		if model == "" {
			t.Fatal("no model object in the remote")
		}
		b, _ := os.ReadFile(model)
		b[len(b)-1] ^= 0xff
		os.WriteFile(model, b, 0o644)
		code, got, stderr := runRemote(t, freshCopy(t, "seed-case"), url)
		if code != 0 || statuses(got)["train"] != "ran/" || !strings.Contains(stderr, "is damaged") {
			t.Errorf("damaged model: exit %d, stages %v\n%s", code, statuses(got), stderr)
		}
		if !reflect.DeepEqual(got.Metrics, clean.Metrics) {
			t.Errorf("damaged model: metrics %v, want %v", got.Metrics, clean.Metrics)
		}

		// The remote goes away.
		stop()
		code, got, stderr = runRemote(t, freshCopy(t, "seed-case"), url)
		if code != 0 || strings.Count(stderr, "warning") != 1 || !reflect.DeepEqual(got.Metrics, clean.Metrics) {
			t.Errorf("remote down: exit %d, %d warnings, metrics %v\n%s", code, strings.Count(stderr, "warning"), got.Metrics, stderr)
		}
		for _, s := range []string{"loomtestsecret"} {
			if strings.Contains(stderr, s) {
				t.Errorf("a credential was printed: %s", stderr)
			}
		}
	})
}

// TestRemoteStopsMidRun: the S3 server is killed by a stage while the run's uploads go on;
// the run warns once and finishes with the results and exit code of a local run.
func TestRemoteStopsMidRun(t *testing.T) {
	url, _, _, pid := s3Server(t)
	dir := t.TempDir()
	mf := filepath.Join(dir, "pipeline.yaml")
	os.WriteFile(mf, []byte(fmt.Sprintf(`version: 1
name: midrun
stages:
  a: {uses: shell, with: {run: "head -c 300000 /dev/urandom > a.bin", outs: [a.bin]}}
  b: {uses: shell, needs: [a], with: {run: "kill %d; sleep 0.2; cat a.bin a.bin > b.bin", deps: [a.bin], outs: [b.bin]}}
  c: {uses: shell, needs: [b], with: {run: "wc -c < b.bin > c.txt", deps: [b.bin], outs: [c.txt]}}
`, pid)), 0o644)
	code, got, stderr := runRemote(t, mf, url)
	for name, st := range statuses(got) {
		if st != "ran/" {
			t.Errorf("stage %s: %s", name, st)
		}
	}
	if c, _ := os.ReadFile(filepath.Join(dir, "c.txt")); code != 0 || strings.TrimSpace(string(c)) != "600000" {
		t.Errorf("exit %d, c.txt %q\n%s", code, c, stderr)
	}
	if n := strings.Count(stderr, "warning"); n != 1 {
		t.Errorf("%d warnings, want 1:\n%s", n, stderr)
	}
}

// TestPushPull: a run without the remote, pushed, then pulled into an empty folder: a run
// there takes every stage from its local cache.
func TestPushPull(t *testing.T) {
	remotes(t, func(t *testing.T, url, dir string, _ func()) {
		a := freshCopy(t, "seed-case")
		if code, _, stderr := loom(t, "run", "-f", a); code != 0 {
			t.Fatal(stderr)
		}
		if code, out, stderr := loom(t, "push", "-f", a, "--remote", url); code != 0 || !strings.Contains(out, "pushed 5 entries") {
			t.Fatalf("push: exit %d %s %s", code, out, stderr)
		}
		b := freshCopy(t, "seed-case")
		if code, out, stderr := loom(t, "pull", "-f", b, "--remote", url); code != 0 || !strings.Contains(out, "pulled 5 entries") {
			t.Fatalf("pull: exit %d %s %s", code, out, stderr)
		}
		_, sum, _ := runJSON(t, "-f", b)
		for name, st := range statuses(sum) {
			if st != "cached/" {
				t.Errorf("after pull, stage %s is %s", name, st)
			}
		}
	})
}

// TestKilledUploadsLeaveNoHalfEntries kills loom at random moments while it uploads to a
// shared folder: every entry the remote then has names objects that are there and intact, and a
// fresh clone gets the clean run's results.
func TestKilledUploadsLeaveNoHalfEntries(t *testing.T) {
	if testing.Short() {
		t.Skip("kills loom repeatedly")
	}
	rem := t.TempDir()
	url := "file://" + rem
	manifest := `version: 1
name: big
stages:
  a: {uses: shell, with: {run: "head -c 4000000 /dev/urandom > a.bin; head -c 3000000 /dev/urandom > a2.bin # round %d", outs: [a.bin, a2.bin]}}
  b: {uses: shell, needs: [a], with: {run: "cat a.bin a2.bin > b.bin", deps: [a.bin, a2.bin], outs: [b.bin]}}
  c: {uses: shell, needs: [b], with: {run: "wc -c < b.bin > c.txt", deps: [b.bin], outs: [c.txt]}}
`
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range 12 {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(fmt.Sprintf(manifest, i)), 0o644)
		cmd := loomProcess(t, "", "run", "-f", filepath.Join(dir, "pipeline.yaml"), "--remote", url)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rng.IntN(300)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		checkRemoteEntries(t, rem, i)
	}
	entries, _ := filepath.Glob(filepath.Join(rem, "actions", "*", "*"))
	objects, _ := filepath.Glob(filepath.Join(rem, "objects", "*", "*"))
	t.Logf("after 12 kills the remote holds %d entries and %d objects, every entry whole", len(entries), len(objects))
	if len(objects) == 0 {
		t.Error("no kill came after an upload started: the test tested nothing")
	}
}

// checkRemoteEntries checks that every entry in a file:// remote names objects it has, intact.
func checkRemoteEntries(t *testing.T, rem string, round int) {
	t.Helper()
	entries, _ := filepath.Glob(filepath.Join(rem, "actions", "*", "*"))
	for _, p := range entries {
		if strings.HasPrefix(filepath.Base(p), ".tmp-") {
			continue // an upload the kill cut short: never linked to an entry's name, never read
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var e pipeline.Entry
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("round %d: a damaged entry %s: %v", round, p, err)
		}
		for _, f := range append(e.Files, e.Outs...) {
			data, err := os.ReadFile(filepath.Join(rem, "objects", string(f.Digest[:2]), string(f.Digest)))
			if err != nil {
				t.Fatalf("round %d: entry %s names object %s, which the remote lacks", round, filepath.Base(p), f.Digest[:12])
			}
			if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != string(f.Digest) {
				t.Fatalf("round %d: object %s is damaged", round, f.Digest[:12])
			}
		}
	}
}
