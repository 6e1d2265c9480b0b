package steps_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/steps"
)

// run writes files (name -> content) into a temporary workspace, runs its pipeline.yaml and
// returns the report.
func run(t *testing.T, files map[string]string) *pipeline.Report {
	t.Helper()
	return runIn(t, t.TempDir(), files)
}

// runIn writes files into dir and runs the pipeline.yaml among them.
func runIn(t *testing.T, dir string, files map[string]string) *pipeline.Report {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := manifest.Load(filepath.Join(dir, "pipeline.yaml"), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := pipeline.Open(m, steps.Kinds())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := ws.Run(context.Background(), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func mustSucceed(t *testing.T, rep *pipeline.Report) map[string]map[string]float64 {
	t.Helper()
	metrics := map[string]map[string]float64{}
	for _, s := range rep.Stages {
		if s.Status != pipeline.Ran && s.Status != pipeline.Cached {
			t.Fatalf("stage %s %s: %v", s.Name, s.Status, s.Err)
		}
		metrics[s.Name] = s.Entry.Metrics
	}
	return metrics
}

// people is a small table with a categorical column, missing values, a name that is not an
// identifier and a string target.
const people = "age,city,income,a b,label\n" +
	"25,paris,30,1,no\n35,berlin,,2,yes\n45,paris,50,3,yes\n,rome,40,4,no\n" +
	"52,berlin,60,5,yes\n23,rome,20,6,no\n40,paris,45,7,yes\n31,rome,35,8,no\n" +
	"60,berlin,80,9,yes\n28,paris,25,10,no\n50,rome,70,11,yes\n33,berlin,33,12,no\n" +
	"47,paris,55,13,yes\n22,rome,21,14,no\n58,berlin,75,15,yes\n29,paris,28,16,no\n"

// TestEveryPreprocessStepFromYAML runs each preprocess step of MANIFEST.md as written there.
func TestEveryPreprocessStepFromYAML(t *testing.T) {
	rep := run(t, map[string]string{
		"data/people.tsv": strings.ReplaceAll(people, ",", "\t"),
		"pipeline.yaml": `version: 1
name: prep
stages:
  load:
    uses: dataset
    with: {path: data/people.tsv, target: label, features: [age, city, income, "a b"], task: classification}
  prep:
    uses: preprocess
    needs: [load]
    with:
      steps:
        - drop_missing: [age]
        - impute: {strategy: median}
        - drop_missing: true
        - filter: 'age > 0 && row["a b"] < 100'
        - derive: {ratio: "income / age", log_income: "log(income)"}
        - select: [age, city, income, ratio, log_income, "a b"]
        - drop: ["a b"]
        - encode: {columns: [city], method: onehot}
        - split: {test: 0.25, val: 0.25, stratify: true, seed: 3}
        - outliers: {method: iqr, threshold: 3}
        - normalize: robust
        - augment: {noise: {std: 0.01, copies: 2}, oversample: minority}
  build:
    uses: model
    needs: [prep]
    with:
      init: xavier
      seed: 1
      layers:
        - dense: {units: 8, activation: gelu}
        - batchnorm: {}
        - dropout: 0.2
        - dense: {units: 8, activation: leaky_relu}
        - dense: {units: auto}
  train:
    uses: train
    needs: [prep, build]
    with:
      loss: binary_crossentropy
      optimizer: {name: adamw, lr: 0.01, betas: [0.9, 0.99], weight_decay: 0.01}
      epochs: 30
      batch_size: 4
      shuffle: false
      regularization: {l1: 1.0e-5, l2: 1.0e-4}
      lr_schedule: {step: {every: 10, factor: 0.5}}
      early_stopping: {monitor: val_loss, patience: 5, min_delta: 0.001, restore_best: true}
      stop_when: "epoch >= 25 || val_loss < 0.01"
      clip_grad: 1.0
      seed: 2
  evaluate:
    uses: evaluate
    needs: [train, prep]
    with: {split: val, metrics: [accuracy, f1, log_loss], average: weighted, threshold: 0.4}
`,
	})
	m := mustSucceed(t, rep)
	if _, ok := m["evaluate"]["log_loss"]; !ok {
		t.Errorf("evaluate metrics: %v", m["evaluate"])
	}
	if e := m["train"]["epochs"]; e > 25 {
		t.Errorf("stop_when epoch >= 25 did not stop training: %v epochs", e)
	}
}

// TestOptimizersAndSchedulesFromYAML trains the moons data with every optimizer and schedule.
func TestOptimizersAndSchedulesFromYAML(t *testing.T) {
	for _, opt := range []string{
		"{name: sgd, lr: 0.1}", "{name: momentum, lr: 0.05, momentum: 0.9}", "{name: nesterov, lr: 0.05, momentum: 0.9}",
		"{name: adam, lr: 0.01}", "{name: adamw, lr: 0.01, weight_decay: 0.001}", "{name: rmsprop, lr: 0.005}",
	} {
		for _, sched := range []string{"{cosine: {}}", "{exponential: {factor: 0.98}}"} {
			rep := run(t, map[string]string{"pipeline.yaml": `version: 1
name: moons
stages:
  load: {uses: dataset, with: {generate: {kind: moons, n: 300, noise: 0.1, seed: 1}}}
  prep:
    uses: preprocess
    needs: [load]
    with: {steps: [{split: {test: 0.3, seed: 1}}, {normalize: zscore}]}
  build:
    uses: model
    needs: [prep]
    with: {seed: 1, layers: [{dense: {units: 16, activation: tanh}}, {dense: {units: auto}}]}
  train:
    uses: train
    needs: [prep, build]
    with: {optimizer: ` + opt + `, lr_schedule: ` + sched + `, epochs: 60, batch_size: 16, seed: 1}
  evaluate: {uses: evaluate, needs: [train, prep], with: {metrics: [accuracy, auc]}}
`})
			m := mustSucceed(t, rep)
			if acc := m["evaluate"]["accuracy"]; acc < 0.85 {
				t.Errorf("optimizer %s, schedule %s: moons accuracy %.3f, want >= 0.85", opt, sched, acc)
			}
		}
	}
}

// TestRegressionFromYAML: a numeric target with many values is regression; loss auto is MSE
// and evaluate reports the regression metrics.
func TestRegressionFromYAML(t *testing.T) {
	rep := run(t, map[string]string{"pipeline.yaml": `version: 1
name: reg
stages:
  load: {uses: dataset, with: {generate: {kind: linear, n: 400, features: 3, noise: 0.1, seed: 2}, task: regression}}
  prep: {uses: preprocess, needs: [load], with: {steps: [{split: {test: 0.25, seed: 0}}]}}
  build: {uses: model, needs: [prep], with: {seed: 0, layers: [{dense: {units: 16, activation: relu}}, {dense: {units: auto}}]}}
  train:
    uses: train
    needs: [prep, build]
    with: {loss: auto, optimizer: {name: adam, lr: 0.01}, epochs: 100, seed: 0}
  huber:
    uses: train
    needs: [prep, build]
    with: {loss: huber, optimizer: {name: adam, lr: 0.01}, epochs: 5, seed: 0}
  evaluate:
    uses: evaluate
    needs: [train, prep]
    with: {model: train, metrics: [mse, mae, rmse, r2], assert: ["r2 > 0.9"]}
`})
	m := mustSucceed(t, rep)
	if r2 := m["evaluate"]["r2"]; r2 < 0.9 {
		t.Errorf("r2 %.3f", r2)
	}
}

// TestStageSettingErrorsArePositioned: mistakes only a kind can see are manifest errors with
// the line and column of the offending setting.
func TestStageSettingErrorsArePositioned(t *testing.T) {
	for _, tc := range []struct{ with, want string }{
		{"layers: [{lstm: {units: 4}}]", "pipeline.yaml:6:28: layer 0: lstm needs [time, features] input, got a flat vector"},
		{"layers: [{dense: {units: 4, activation: relu}}, {dropout: 0.5}, {attention: {heads: 2, dim: 4}}]", "pipeline.yaml:6:88: layer 2: attention needs [time, features] input"},
		{"layers: [{reshape: [8, 8, 1]}, {conv2d: {filters: 4, kernel: 9}}]", "pipeline.yaml:6:73: layer 1: kernel [9 9] does not fit the 8x8 input"},
		{"layers: [{embedding: {vocab: 10, dim: 6}}, {transformer: {heads: 4}}]", "pipeline.yaml:6:69: layer 1: dim 6 is not a multiple of heads 4"},
		{"layers: [{embedding: {vocab: 10, dim: 8}}, {conv2d: {filters: 2, kernel: 2}}]", "pipeline.yaml:6:64: layer 1: conv2d needs [height, width, channels] input, got a [time, features] sequence"},
	} {
		src := "version: 1\nname: x\nstages:\n  m:\n    uses: model\n    with: {" + tc.with + "}\n"
		if err := prepareError(t, src); !strings.Contains(err, tc.want) {
			t.Errorf("%s: got %v, want %q", tc.with, err, tc.want)
		}
	}
}

// prepareError writes src as a workspace's pipeline.yaml and returns the positioned errors
// Prepare gives for it ("" when there are none).
func prepareError(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(src), 0o644)
	m, err := manifest.Load(filepath.Join(dir, "pipeline.yaml"), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var list manifest.ErrorList
	if err := pipeline.Prepare(m, steps.Kinds()); !errors.As(err, &list) {
		return fmt.Sprint(err)
	}
	return list.Error()
}
