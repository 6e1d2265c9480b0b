package steps_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/steps"
)

func TestShellStage(t *testing.T) {
	rep := run(t, map[string]string{
		"in.txt": "3\n4\n",
		"pipeline.yaml": `version: 1
name: sh
params: {scale: 10}
stages:
  sum:
    uses: shell
    with:
      run: |
        awk -v s="$SCALE" '{t += $1 * s} END {printf "{\"total\": %d, \"nested\": {\"ok\": true}}", t}' in.txt > out/m.json
      deps: [in.txt]
      outs: [out]
      env: {SCALE: "${params.scale}"}
      metrics: out/m.json
`,
		"out/.keep": "",
	})
	m := mustSucceed(t, rep)
	if m["sum"]["total"] != 70 || m["sum"]["nested.ok"] != 1 {
		t.Errorf("metrics from the shell stage's JSON file: %v", m["sum"])
	}
}

func TestShellStageFailures(t *testing.T) {
	for _, tc := range []struct{ with, want string }{
		{`{run: "exit 3"}`, "command exited with status 3"},
		{`{run: "true", outs: [never.txt]}`, "declared output never.txt was not written"},
		{`{run: "true", deps: [missing.txt]}`, "input missing.txt: no such file or directory"},
		{`{run: "echo nope > m.json", metrics: m.json}`, "metrics file m.json"},
	} {
		rep := run(t, map[string]string{"pipeline.yaml": "version: 1\nname: f\nstages:\n  s:\n    uses: shell\n    with: " + tc.with + "\n"})
		s := rep.Stages[0]
		if s.Status != pipeline.Failed || s.Err == nil || !strings.Contains(s.Err.Error(), tc.want) {
			t.Errorf("%s: %s %v, want failure %q", tc.with, s.Status, s.Err, tc.want)
		}
	}
}

// TestShellCancelKillsTheProcessGroup: cancelling a run stops a command and its children.
func TestShellCancelKillsTheProcessGroup(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(`version: 1
name: c
stages:
  slow: {uses: shell, with: {run: "sleep 30 & sleep 30; touch finished"}}
`), 0o644)
	m, err := manifest.Load(filepath.Join(dir, "pipeline.yaml"), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := pipeline.Open(m, steps.Kinds())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	rep, err := ws.Run(ctx, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancelled run took %v", d)
	}
	if rep.Stages[0].Status != pipeline.Failed {
		t.Errorf("cancelled stage: %s", rep.Stages[0].Status)
	}
	if _, err := os.Stat(filepath.Join(dir, "finished")); err == nil {
		t.Error("the command ran to its end")
	}
}

// TestShellParamsArePassedSafely: a param holding shell syntax reaches the command as data,
// both through env and through ${shquote(...)}.
func TestShellParamsArePassedSafely(t *testing.T) {
	dir := t.TempDir()
	name := "it's; touch pwned $(touch pwned2) \"q\""
	mustSucceed(t, runIn(t, dir, map[string]string{
		"pipeline.yaml": `version: 1
name: q
params: {name: ` + strconv.Quote(name) + `, hidden: [64, 32]}
stages:
  s:
    uses: shell
    with:
      run: printf '%s|' "$NAME" ${shquote(params.name)} ${shquote(params.hidden)} > args.txt
      env: {NAME: "${params.name}"}
      outs: [args.txt]
`,
	}))
	b, err := os.ReadFile(filepath.Join(dir, "args.txt"))
	if want := name + "|" + name + "|64|32|"; err != nil || string(b) != want {
		t.Errorf("the command saw %q (%v), want %q", b, err, want)
	}
	for _, f := range []string{"pwned", "pwned2"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("a param ran as a command: %s exists", f)
		}
	}
}

// TestLinkedArtifactIsCopied: a command may link a workspace file into LOOM_OUT; the cache
// takes artifacts by moving them, and must not take that one, or its mode, from the workspace.
func TestLinkedArtifactIsCopied(t *testing.T) {
	dir := t.TempDir()
	mustSucceed(t, runIn(t, dir, map[string]string{"data.txt": "mine\n", "pipeline.yaml": `version: 1
name: link
stages:
  s: {uses: shell, with: {run: 'ln data.txt "$LOOM_OUT/data.txt"', deps: [data.txt]}}
`}))
	fi, err := os.Stat(filepath.Join(dir, "data.txt"))
	if err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("data.txt: %v, mode %v", err, fi.Mode())
	}
	b, err := os.ReadFile(filepath.Join(dir, ".loom", "out", "s", "data.txt"))
	if err != nil || string(b) != "mine\n" {
		t.Errorf("artifact: %q, %v", b, err)
	}
}
