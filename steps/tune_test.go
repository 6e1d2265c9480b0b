package steps

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/steps/search"
)

// sweepManifest is a small moons pipeline with a tune stage; TUNE is replaced by the tune
// stage's settings.
const sweepManifest = `version: 1
name: sweep
params:
  seed: 0
  hidden: [8]
  train: {lr: 0.01, epochs: 4}
stages:
  load:
    uses: dataset
    with: {generate: {kind: moons, n: 200, noise: 0.2, seed: 1}}
  prep:
    uses: preprocess
    needs: [load]
    with:
      steps:
        - split: {test: 0.3, val: 0.2, stratify: true, seed: 0}
        - normalize: zscore
  build:
    uses: model
    needs: [prep]
    with:
      seed: ${params.seed}
      layers:
        - dense: {units: "${params.hidden[0]}", activation: tanh}
        - dense: {units: auto}
  train:
    uses: train
    needs: [prep, build]
    with:
      optimizer: {name: adam, lr: "${params.train.lr}"}
      epochs: ${params.train.epochs}
      batch_size: 16
      seed: ${params.seed}
  evaluate:
    uses: evaluate
    needs: [train, prep]
    with: {metrics: [accuracy, f1, log_loss]}
  tune:
    uses: tune
    with:
TUNE
`

// tuneKinds are loom's kinds, the tune kind among them.
func tuneKinds() pipeline.Kinds { return Kinds() }

// sweepRun is the outcome of running a sweep manifest once.
type sweepRun struct {
	rep  *pipeline.Report
	log  string
	runs map[string]int // stage -> executions inside trials
}

// runSweep writes the manifest with the tune settings into dir and runs the tune stage.
func runSweep(t *testing.T, dir, tune string, opt manifest.Options, targets ...string) sweepRun {
	t.Helper()
	src := strings.Replace(sweepManifest, "TUNE", tune, 1)
	if err := os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load(filepath.Join(dir, "pipeline.yaml"), opt)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := pipeline.Open(m, tuneKinds())
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) == 0 {
		targets = []string{"tune"}
	}
	var log bytes.Buffer
	rep, err := ws.Run(context.Background(), pipeline.Options{Targets: targets, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Stages {
		if s.Status == pipeline.Failed || s.Status == pipeline.Skipped {
			t.Fatalf("stage %s %s: %v\n%s", s.Name, s.Status, s.Err, log.String())
		}
	}
	return sweepRun{rep: rep, log: log.String(), runs: countRuns(log.String())}
}

// countRuns counts the stage executions the tune stage logged ("[ran: a b]").
func countRuns(log string) map[string]int {
	runs := map[string]int{}
	for _, line := range strings.Split(log, "\n") {
		_, ran, ok := strings.Cut(line, "[ran:")
		if !ok {
			continue
		}
		for _, s := range strings.Fields(strings.TrimSuffix(ran, "]")) {
			runs[s]++
		}
	}
	return runs
}

func (r sweepRun) stage(t *testing.T, name string) *pipeline.StageResult {
	t.Helper()
	for _, s := range r.rep.Stages {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stage %s", name)
	return nil
}

func randomTune(trials int) string {
	return `      target: evaluate
      objective: {metric: accuracy, goal: maximize}
      method: random
      trials: ` + itoa(trials) + `
      seed: 3
      parallel: 2
      space:
        params.train.lr: {log_uniform: [1.0e-3, 0.3]}`
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestTuneSharesTheCacheAcrossTrials(t *testing.T) {
	dir := t.TempDir()
	first := runSweep(t, dir, randomTune(6), manifest.Options{})
	// Only the learning rate varies: load, prep and build run once for the sweep.
	want := map[string]int{"load": 1, "prep": 1, "build": 1, "train": 6, "evaluate": 6}
	if !equalCounts(first.runs, want) {
		t.Fatalf("stage runs %v, want %v\n%s", first.runs, want, first.log)
	}
	trials := first.rep.Trials["tune"]
	if len(trials) != 6 {
		t.Fatalf("%d trials in the report", len(trials))
	}
	// Rerunning an unchanged sweep runs nothing.
	again := runSweep(t, dir, randomTune(6), manifest.Options{})
	if s := again.stage(t, "tune"); s.Status != pipeline.Cached || len(again.runs) != 0 {
		t.Fatalf("rerun: tune %s, runs %v", s.Status, again.runs)
	}
	// Extending the sweep runs only the new trials.
	more := runSweep(t, dir, randomTune(9), manifest.Options{})
	if want := map[string]int{"train": 3, "evaluate": 3}; !equalCounts(more.runs, want) {
		t.Fatalf("extending 6 -> 9 trials ran %v, want %v", more.runs, want)
	}
	for i, tr := range more.rep.Trials["tune"][:6] {
		if tr.Params["params.train.lr"] != trials[i].Params["params.train.lr"] {
			t.Fatalf("trial %d changed when the sweep was extended", i+1)
		}
	}
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestTuneBestParamsReproduceTheBestTrial(t *testing.T) {
	dir := t.TempDir()
	r := runSweep(t, dir, randomTune(5), manifest.Options{})
	best := r.stage(t, "tune").Entry.Metrics["best_accuracy"]
	var bestTrial pipeline.Trial
	for _, tr := range r.rep.Trials["tune"] {
		if tr.Metrics["accuracy"] == best && bestTrial.Number == 0 {
			bestTrial = tr
		}
	}
	if bestTrial.Number == 0 {
		t.Fatalf("no trial has the best accuracy %v", best)
	}
	bestYAML := filepath.Join(dir, ".loom", "out", "tune", "best.yaml")
	b, err := os.ReadFile(bestYAML)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "train.lr:") {
		t.Fatalf("best.yaml:\n%s", b)
	}
	// `loom run --params best.yaml evaluate` finds the best trial's evaluation in the cache.
	again := runSweep(t, dir, randomTune(5), manifest.Options{ParamFiles: []string{bestYAML}}, "evaluate")
	ev := again.stage(t, "evaluate")
	if ev.Status != pipeline.Cached || ev.Entry.Metrics["accuracy"] != best {
		t.Fatalf("evaluate with best.yaml: %s, accuracy %v; want cached %v", ev.Status, ev.Entry.Metrics["accuracy"], best)
	}
	for _, row := range r.stage(t, "tune").Entry.Tables[0].Rows[1:] {
		if row[0] == itoa(bestTrial.Number) {
			t.Fatalf("the table does not start with the best trial: %v", r.stage(t, "tune").Entry.Tables[0].Rows)
		}
	}
}

func TestTuneIsReproducible(t *testing.T) {
	tune := strings.Replace(randomTune(12), "method: random", "method: tpe", 1) + `
        params.hidden: {choice: [[4], [8], [16]]}`
	a := runSweep(t, t.TempDir(), tune, manifest.Options{})
	b := runSweep(t, t.TempDir(), tune, manifest.Options{})
	ea, eb := a.stage(t, "tune").Entry, b.stage(t, "tune").Entry
	if ea.Output != eb.Output {
		ja, _ := json.Marshal(a.rep.Trials)
		jb, _ := json.Marshal(b.rep.Trials)
		t.Fatalf("two sweeps from empty caches differ:\n%s\n%s", ja, jb)
	}
}

func TestTuneASHAPromotesTheTopThird(t *testing.T) {
	tune := `      target: evaluate
      objective: {metric: log_loss, goal: minimize}
      method: grid
      space:
        params.train.lr: {choice: [0.001, 0.01, 0.1]}
        params.hidden: {choice: [[2], [4], [8]]}
      scheduler: {asha: {resource: params.train.epochs, min: 1, max: 9, eta: 3}}`
	r := runSweep(t, t.TempDir(), tune, manifest.Options{})
	// rungs[k] maps the trials that finished rung k to their loss, from the log.
	rungs := make([]map[int]float64, 3)
	for k := range rungs {
		rungs[k] = map[int]float64{}
	}
	var epochs int
	reached := map[int]int{}
	for _, line := range strings.Split(r.log, "\n") {
		var trial, rung, budget int
		var loss float64
		if _, err := fmt.Sscanf(strings.TrimSpace(line), "tune: trial %d rung %d (%d): log_loss %g", &trial, &rung, &budget, &loss); err == nil {
			rungs[rung][trial] = loss
			// A promotion continues the trial's checkpoint: it trains only the difference.
			epochs += budget - reached[trial]
			reached[trial] = budget
			if want := []int{1, 3, 9}[rung]; budget != want {
				t.Fatalf("rung %d has budget %d, want %d", rung, budget, want)
			}
		}
	}
	if len(rungs[0]) != 9 || len(rungs[2]) == 0 {
		t.Fatalf("rungs %v: want all 9 trials at rung 0 and one at least at rung 2", rungs)
	}
	// Asynchronous halving promotes from the top 1/eta of the results seen so far (the exact
	// top third with all results in is tested in package search), so a rung holds only
	// trials of the rung below, and never more of them.
	for k := 1; k < 3; k++ {
		if len(rungs[k]) > len(rungs[k-1]) {
			t.Fatalf("rung %d has %d trials from %d below", k, len(rungs[k]), len(rungs[k-1]))
		}
		for tr := range rungs[k] {
			if _, ok := rungs[k-1][tr]; !ok {
				t.Fatalf("trial %d reached rung %d without rung %d", tr, k, k-1)
			}
		}
	}
	// The best of rung 0 always goes on.
	bestTrial, bestLoss := 0, math.Inf(1)
	for tr, l := range rungs[0] {
		if l < bestLoss {
			bestTrial, bestLoss = tr, l
		}
	}
	if _, ok := rungs[1][bestTrial]; !ok {
		t.Fatalf("the best trial of rung 0 (%d) was not promoted: %v", bestTrial, rungs)
	}
	m := r.stage(t, "tune").Entry.Metrics
	if int(m["train_epochs"]) != epochs || r.runs["train"] != len(rungs[0])+len(rungs[1])+len(rungs[2]) {
		t.Fatalf("train_epochs %v, train runs %d; the log has %d epochs in %v", m["train_epochs"], r.runs["train"], epochs, rungs)
	}
	count := map[string]int{}
	for _, tr := range r.rep.Trials["tune"] {
		count[tr.Status]++
	}
	if count["completed"] != len(rungs[2]) || count["stopped"] != 9-len(rungs[2]) {
		t.Fatalf("statuses %v for %d trials at the top rung", count, len(rungs[2]))
	}
	// The table ranks trials by their last result, best first.
	rows := r.stage(t, "tune").Entry.Tables[0].Rows
	for _, tr := range r.rep.Trials["tune"] {
		if tr.Metrics["log_loss"] < r.rep.Trials["tune"][atoi(t, rows[0][0])-1].Metrics["log_loss"] {
			t.Fatalf("trial %d beats the first row %v", tr.Number, rows[0])
		}
	}
}

func atoi(t *testing.T, s string) int {
	var n int
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTuneErrors(t *testing.T) {
	for _, c := range []struct{ tune, want string }{
		{`      target: evaluate
      objective: {metric: accuracy}
      method: grid
      space: {params.train.lr: {uniform: [0.001, 0.1]}}`, "grid search needs choice"},
		{`      target: evaluate
      objective: {metric: accuracy}
      space: {params.train.lr: {uniform: [0.1, 0.001]}}`, "lower < upper"},
		{`      target: evaluate
      objective: {metric: accuracy}
      space: {params.train.epochs: {int: [1, 3]}}
      scheduler: {asha: {resource: params.train.epochs}}`, "also in the space"},
	} {
		dir := t.TempDir()
		src := strings.Replace(sweepManifest, "TUNE", c.tune, 1)
		os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(src), 0o644)
		m, err := manifest.Load(filepath.Join(dir, "pipeline.yaml"), manifest.Options{})
		if err == nil {
			_, err = pipeline.Open(m, tuneKinds())
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "pipeline.yaml:") {
			t.Errorf("err = %v, want a positioned %q", err, c.want)
		}
	}
}

func TestTuneMissingObjectiveMetric(t *testing.T) {
	dir := t.TempDir()
	src := strings.Replace(sweepManifest, "TUNE", strings.Replace(randomTune(2), "metric: accuracy", "metric: acuracy", 1), 1)
	os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(src), 0o644)
	m, err := manifest.Load(filepath.Join(dir, "pipeline.yaml"), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := pipeline.Open(m, tuneKinds())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ws.Run(context.Background(), pipeline.Options{Targets: []string{"tune"}})
	if err != nil {
		t.Fatal(err)
	}
	last := rep.Stages[len(rep.Stages)-1]
	if last.Status != pipeline.Failed || !strings.Contains(last.Err.Error(), `no metric "acuracy"`) {
		t.Fatalf("tune %s: %v", last.Status, last.Err)
	}
}

// cancelOn is a log that cancels a run when a line containing marker is written.
type cancelOn struct {
	marker string
	cancel context.CancelFunc
	buf    bytes.Buffer
}

func (c *cancelOn) Write(b []byte) (int, error) {
	if strings.Contains(string(b), c.marker) {
		c.cancel()
	}
	return c.buf.Write(b)
}

func TestTuneCancelledIsNotCached(t *testing.T) {
	dir := t.TempDir()
	src := strings.Replace(sweepManifest, "TUNE", randomTune(8), 1)
	os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(src), 0o644)
	m, err := manifest.Load(filepath.Join(dir, "pipeline.yaml"), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := pipeline.Open(m, tuneKinds())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &cancelOn{marker: "tune: trial 2", cancel: cancel}
	rep, err := ws.Run(ctx, pipeline.Options{Targets: []string{"tune"}, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if st := rep.Stages[len(rep.Stages)-1]; st.Status != pipeline.Failed {
		t.Fatalf("cancelled sweep: tune %s\n%s", st.Status, log.buf.String())
	}
	again := runSweep(t, dir, randomTune(8), manifest.Options{})
	if s := again.stage(t, "tune"); s.Status != pipeline.Ran || len(s.Entry.Metrics) == 0 {
		t.Fatalf("after a cancelled sweep: tune %s", s.Status)
	}
}

func TestTrainContinuesShorterRuns(t *testing.T) {
	tune := randomTune(1)
	// 5 then 15 epochs in one workspace, 15 in another: the same bytes.
	dir := t.TempDir()
	runSweep(t, dir, tune, manifest.Options{Sets: []string{"train.epochs=5"}}, "train")
	resumed := runSweep(t, dir, tune, manifest.Options{Sets: []string{"train.epochs=15"}}, "train")
	fresh := runSweep(t, t.TempDir(), tune, manifest.Options{Sets: []string{"train.epochs=15"}}, "train")
	if !strings.Contains(resumed.log, "continuing from the checkpoint after 5 epochs") {
		t.Fatalf("the 15-epoch run did not continue the 5-epoch one:\n%s", resumed.log)
	}
	if strings.Contains(fresh.log, "continuing") {
		t.Fatalf("a run in an empty workspace continued something:\n%s", fresh.log)
	}
	a, b := resumed.stage(t, "train").Entry, fresh.stage(t, "train").Entry
	if a.Output != b.Output {
		t.Fatalf("5 + 10 epochs differ from 15: %v vs %v", a.Result, b.Result)
	}
	// A cosine schedule depends on the number of epochs: no continuing.
	cos := strings.Replace(sweepManifest, "      batch_size: 16\n", "      batch_size: 16\n      lr_schedule: {cosine: {}}\n", 1)
	if cos == sweepManifest {
		t.Fatal("no batch_size line to extend")
	}
	dir = t.TempDir()
	for _, e := range []string{"5", "15"} {
		src := strings.Replace(cos, "TUNE", tune, 1)
		os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(src), 0o644)
		m, err := manifest.Load(filepath.Join(dir, "pipeline.yaml"), manifest.Options{Sets: []string{"train.epochs=" + e}})
		if err != nil {
			t.Fatal(err)
		}
		ws, err := pipeline.Open(m, tuneKinds())
		if err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		if _, err := ws.Run(context.Background(), pipeline.Options{Targets: []string{"train"}, Log: &log}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(log.String(), "continuing") {
			t.Fatalf("a cosine schedule continued a shorter run:\n%s", log.String())
		}
	}
}

// copyFile copies the repository file src to dst, making dst's folder.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Dir(dst), 0o755)
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// runExample runs targets of examples/sweep/NAME in a copy of the examples it reads.
func runExample(t *testing.T, root, name string, targets ...string) *pipeline.Report {
	t.Helper()
	return runExampleWith(t, root, name, manifest.Options{}, targets...)
}

func runExampleWith(t *testing.T, root, name string, opts manifest.Options, targets ...string) *pipeline.Report {
	t.Helper()
	m, err := manifest.Load(filepath.Join(root, "sweep", name), opts)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := pipeline.Open(m, tuneKinds())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ws.Run(context.Background(), pipeline.Options{Targets: targets})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Stages {
		if s.Status == pipeline.Failed || s.Status == pipeline.Skipped {
			t.Fatalf("%s: stage %s %s: %v", name, s.Name, s.Status, s.Err)
		}
	}
	return rep
}

func exampleRoot(t *testing.T) string {
	root := t.TempDir()
	for _, f := range []string{"sweep/pipeline.yaml", "sweep/asha.yaml", "breast-cancer/data/breast_cancer.csv"} {
		copyFile(t, filepath.Join("..", "examples", f), filepath.Join(root, f))
	}
	return root
}

func TestSweepExample(t *testing.T) {
	root := exampleRoot(t)
	rep := runExample(t, root, "pipeline.yaml", "tune")
	tune := rep.Stages[len(rep.Stages)-1]
	// The objective is the f1 of the 57-row validation split: one row moves it by ~0.02.
	if n := len(rep.Trials["tune"]); n != 27 || tune.Entry.Metrics["best_f1"] < 0.95 {
		t.Fatalf("%d trials, best f1 %v", n, tune.Entry.Metrics["best_f1"])
	}
	again := runExample(t, root, "pipeline.yaml", "tune")
	for _, s := range again.Stages {
		if s.Status != pipeline.Cached {
			t.Fatalf("rerun: %s %s", s.Name, s.Status)
		}
	}
}

// TestGridAgainstASHA runs examples/sweep/asha.yaml on five split and init seeds: ASHA must
// spend at most a third of the grid's training epochs on every seed and come within half a
// point of the grid's best f1 on average (one test sample of 113 is 0.7 points of f1, so a
// single seed can only tie or miss by a sample), and its best params must reproduce its best
// f1 from the cache.
func TestGridAgainstASHA(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 180 models")
	}
	const seeds = 5
	var gap float64
	for seed := range seeds {
		root, set := exampleRoot(t), []string{fmt.Sprintf("seed=%d", seed)}
		rep := runExampleWith(t, root, "asha.yaml", manifest.Options{Sets: set}, "grid", "asha")
		got := map[string]map[string]float64{}
		for _, s := range rep.Stages {
			got[s.Name] = s.Entry.Metrics
		}
		g, a := got["grid"], got["asha"]
		t.Logf("seed %d: grid best f1 %.4f in %v epochs; asha best f1 %.4f in %v epochs", seed, g["best_f1"], g["train_epochs"], a["best_f1"], a["train_epochs"])
		if a["train_epochs"] > g["train_epochs"]/3 {
			t.Errorf("seed %d: asha trained %v epochs, more than a third of the grid's %v", seed, a["train_epochs"], g["train_epochs"])
		}
		gap += (g["best_f1"] - a["best_f1"]) / seeds

		best := filepath.Join(root, "sweep", ".loom", "out", "asha", "best.yaml")
		again := runExampleWith(t, root, "asha.yaml", manifest.Options{Sets: set, ParamFiles: []string{best}}, "evaluate")
		for _, s := range again.Stages {
			if s.Name == "evaluate" && (s.Status != pipeline.Cached || s.Entry.Metrics["f1"] != a["best_f1"]) {
				t.Errorf("seed %d: evaluate with best.yaml: %s, f1 %v; want cached %v", seed, s.Status, s.Entry.Metrics["f1"], a["best_f1"])
			}
		}
	}
	t.Logf("mean gap %.2f points", 100*gap)
	if gap > 0.005 {
		t.Fatalf("asha's best f1 is %.2f points below the grid's on average, more than 0.5", 100*gap)
	}
}

// A trial that gets worse after a promotion, or then fails, is ranked, reported and reproduced
// by its better, shorter rung: that rung is a finished model of its budget.
func TestASHARanksTrialsByTheirBestRung(t *testing.T) {
	asha, err := search.NewASHA(10, 90, 3)
	if err != nil {
		t.Fatal(err)
	}
	j := &tuneJob{maximize: true, asha: asha, trainStages: []string{"train"}, resumable: true}
	j.s.Target, j.s.Objective.Metric = "evaluate", "f1"
	j.s.Scheduler = &schedulerSettings{ASHA: &ashaSettings{Resource: "params.train.epochs"}}
	sw := &sweep{ctx: context.Background(), job: j, log: io.Discard, asha: asha.Fresh(), histIndex: map[int]int{}}
	done := func(trial, rung, budget int, f1 float64) *unit {
		return &unit{trial: trial, rung: rung, budget: budget, res: &pipeline.PartResult{Metrics: map[string]map[string]float64{
			"evaluate": {"f1": f1}, "train": {"epochs": float64(budget)},
		}}}
	}
	failed := &unit{trial: 0, rung: 2, budget: 90, err: errors.New("train: out of memory")}
	for _, u := range []*unit{done(0, 0, 10, 0.99), done(1, 0, 10, 0.97), done(0, 1, 30, 0.96), done(1, 1, 30, 0.98), failed} {
		if u.rung == 0 {
			sw.trials = append(sw.trials, &trialState{params: map[string]any{"params.train.lr": 0.1 * float64(u.trial+1)}})
		}
		if err := sw.record(u); err != nil {
			t.Fatal(err)
		}
	}
	order := sw.ranked()
	best := sw.trials[order[0]]
	if order[0] != 0 || best.best.metrics["f1"] != 0.99 || sw.trialParams(best)["params.train.epochs"] != 10 {
		t.Fatalf("ranked %v; best trial's f1 %v at %v epochs; want trial 0, 0.99 at 10",
			order, best.best.metrics["f1"], sw.trialParams(best)["params.train.epochs"])
	}
	if best.epochs != 30 || sw.epochs != 60 {
		t.Fatalf("trial 0 trained %d epochs, the sweep %v; want 30 and 60", best.epochs, sw.epochs)
	}
	out := t.TempDir()
	if err := j.report(&pipeline.Env{Stage: &manifest.Stage{Name: "tune"}, Out: out, Log: io.Discard}, sw); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, bestFile)); !bytes.Contains(b, []byte("train.epochs: 10\n")) {
		t.Fatalf("best.yaml:\n%s", b)
	}
}
