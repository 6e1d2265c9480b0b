package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type shownExperiments struct {
	Experiments []struct {
		ID      string                        `json:"id"`
		Params  map[string]any                `json:"params"`
		Metrics map[string]map[string]float64 `json:"metrics"`
	} `json:"experiments"`
}

func expShow(t *testing.T, mf string) shownExperiments {
	t.Helper()
	code, out, stderr := loom(t, "exp", "show", "-f", mf, "--json")
	if code != 0 {
		t.Fatalf("exp show: exit %d %s", code, stderr)
	}
	var s shownExperiments
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return s
}

// TestExperiments: three runs with different --set are three experiments with their params
// and metrics; exp diff names the changed param and each metric's change with its verdict;
// gc --keep keeps every entry of the kept experiments and drops the others'.
func TestExperiments(t *testing.T) {
	mf := copyExample(t, "seed-case")
	for _, lr := range []string{"0.5", "0.2", "0.1"} {
		if code, _, stderr := loom(t, "run", "-f", mf, "--set", "lr="+lr); code != 0 {
			t.Fatalf("run lr=%s: %s", lr, stderr)
		}
	}
	s := expShow(t, mf)
	if len(s.Experiments) != 3 {
		t.Fatalf("%d experiments, want 3", len(s.Experiments))
	}
	for i, lr := range []float64{0.1, 0.2, 0.5} { // newest first
		e := s.Experiments[i]
		if e.Params["lr"] != lr || len(e.Metrics["evaluate"]) == 0 {
			t.Errorf("experiment %d: params %v metrics %v", i, e.Params, e.Metrics)
		}
	}
	code, out, stderr := loom(t, "exp", "show", "-f", mf)
	if code != 0 || !strings.Contains(out, " lr ") || !strings.Contains(out, s.Experiments[2].ID) {
		t.Errorf("exp show: %d %s %s", code, out, stderr)
	}
	code, out, _ = loom(t, "exp", "diff", "-f", mf, s.Experiments[2].ID[:4], s.Experiments[0].ID)
	if code != 0 || !strings.Contains(out, "lr") || !strings.Contains(out, "0.5") || !strings.Contains(out, "0.1") {
		t.Errorf("exp diff: %s", out)
	}
	code, out, _ = loom(t, "exp", "diff", "-f", mf, "--json")
	var d struct {
		Params []struct {
			Param string `json:"param"`
			A, B  any
		} `json:"params"`
		Metrics []metricDiff `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != 0 {
		t.Fatalf("exp diff --json: %v %s", err, out)
	}
	if len(d.Params) != 1 || d.Params[0].Param != "lr" || d.Params[0].A != 0.2 || d.Params[0].B != 0.1 {
		t.Errorf("param diff %+v", d.Params)
	}
	for _, m := range d.Metrics {
		if m.Change != nil && *m.Change != 0 && m.Metric == "loss" && m.Verdict != map[bool]string{true: "better", false: "worse"}[*m.Change < 0] {
			t.Errorf("loss changed by %g: verdict %q", *m.Change, m.Verdict)
		}
	}

	// gc keeping the newest two: their stages stay cached, the oldest variant's train is gone.
	if code, _, stderr := loom(t, "gc", "-f", mf, "--keep", "2"); code != 0 {
		t.Fatal(stderr)
	}
	for _, c := range []struct {
		lr   string
		runs bool
	}{{"0.1", false}, {"0.2", false}, {"0.5", true}} {
		_, sum, _ := runJSON(t, "-f", mf, "--set", "lr="+c.lr)
		ran := false
		for _, st := range sum.Stages {
			ran = ran || st.Status == "ran"
		}
		if ran != c.runs {
			t.Errorf("after gc --keep 2, lr=%s ran stages: %v, want %v", c.lr, ran, c.runs)
		}
	}
}

// TestConcurrentRunsEachRecordAnExperiment: runs that wait for each other's lock each leave
// their own record.
func TestConcurrentRunsEachRecordAnExperiment(t *testing.T) {
	mf := copyExample(t, "seed-case")
	var wg sync.WaitGroup
	for _, lr := range []string{"0.5", "0.4", "0.3", "0.2"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, _, stderr := loom(t, "run", "-f", mf, "--set", "lr="+lr); code != 0 {
				t.Errorf("run lr=%s: %s", lr, stderr)
			}
		}()
	}
	wg.Wait()
	s := expShow(t, mf)
	seen := map[any]bool{}
	for _, e := range s.Experiments {
		seen[e.Params["lr"]] = true
	}
	if len(s.Experiments) != 4 || len(seen) != 4 {
		t.Errorf("%d experiments with lr %v, want 4 different", len(s.Experiments), seen)
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(mf), ".loom", "exps", "pipeline", "*.json")); len(matches) != 4 {
		t.Errorf("%d record files", len(matches))
	}
}

// TestTrimRemovesEntriesUnusedForDays: once a day a run removes the entries no run used for
// five days, except those of the manifest's last run, as cmd/go trims its cache.
func TestTrimRemovesEntriesUnusedForDays(t *testing.T) {
	mf := copyExample(t, "seed-case")
	loomDir := filepath.Join(filepath.Dir(mf), ".loom")
	for _, lr := range []string{"0.5", "0.2"} { // the last run is lr=0.2
		if code, _, stderr := loom(t, "run", "-f", mf, "--set", "lr="+lr); code != 0 {
			t.Fatal(stderr)
		}
	}
	// Six days pass, and the last trim was two days ago.
	old := time.Now().Add(-6 * 24 * time.Hour)
	filepath.WalkDir(filepath.Join(loomDir, "actions"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chtimes(p, old, old)
		}
		return nil
	})
	twoDays := time.Now().Add(-48 * time.Hour)
	os.Chtimes(filepath.Join(loomDir, "trim.txt"), twoDays, twoDays)
	ranStages := func(lr string) []string {
		_, sum, _ := runJSON(t, "-f", mf, "--set", "lr="+lr)
		var ran []string
		for _, st := range sum.Stages {
			if st.Status == "ran" {
				ran = append(ran, st.Name)
			}
		}
		return ran
	}
	if ran := ranStages("0.2"); len(ran) != 0 { // the last run's entries stay, and this run trims
		t.Errorf("the last run's stages ran again: %v", ran)
	}
	if ran := ranStages("0.5"); strings.Join(ran, ",") != "train,evaluate" {
		t.Errorf("after the trim, lr=0.5 ran %v, want train and evaluate (its own entries were unused for six days)", ran)
	}
}
