package steps_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readCSV reads a CSV artifact or file into its header and rows.
func readCSV(t *testing.T, path string) ([]string, [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs[0], recs[1:]
}

// predictPipeline trains on people (filter, impute, encode, normalize, derive and a split), evaluates the
// test rows, and scores the whole file again with a predict stage.
const predictPipeline = `version: 1
name: people
stages:
  load: {uses: dataset, with: {path: people.csv, target: label}}
  prep:
    uses: preprocess
    needs: [load]
    with:
      steps:
        - filter: "age != 22"
        - impute: {strategy: median}
        - derive: {ratio: "income / (age + 1)"}
        - encode: {columns: [city]}
        - split: {test: 0.4, seed: 3}
        - normalize: zscore
  build: {uses: model, needs: [prep], with: {layers: [{dense: {units: 8, activation: relu}}, {dense: {units: auto}}], seed: 1}}
  fit: {uses: train, needs: [prep, build], with: {epochs: 30, seed: 1}}
  score: {uses: evaluate, needs: [prep, fit], with: {metrics: [accuracy]}}
  predict: {uses: predict, needs: [fit], with: {model: fit, input: people.csv, keep: ["a b", city]}}
`

// TestPredictReproducesEvaluate: the predict stage, replaying the fitted preprocessing on the
// raw file, gives the test rows exactly the predictions evaluate gave them, and row numbers
// that name the file's rows although a filter removed one.
func TestPredictReproducesEvaluate(t *testing.T) {
	dir := t.TempDir()
	mustSucceed(t, runIn(t, dir, map[string]string{"pipeline.yaml": predictPipeline, "people.csv": people}))
	out := filepath.Join(dir, ".loom", "out")
	evHeader, evRows := readCSV(t, filepath.Join(out, "score", "predictions.csv"))
	prHeader, prRows := readCSV(t, filepath.Join(out, "predict", "predictions.csv"))
	if got := strings.Join(evHeader, ","); got != "row,split,true,prediction,prob_no,prob_yes" {
		t.Fatalf("evaluate's header: %s", got)
	}
	if got := strings.Join(prHeader, ","); got != "a b,city,prediction,prob_no,prob_yes" {
		t.Fatalf("predict's header: %s", got)
	}
	_, input := readCSV(t, filepath.Join(dir, "people.csv"))
	if len(prRows) != len(input) {
		t.Fatalf("predict scored %d rows of %d", len(prRows), len(input))
	}
	if len(evRows) == 0 {
		t.Fatal("no test rows")
	}
	for _, ev := range evRows {
		var r int
		for _, c := range ev[0] {
			r = r*10 + int(c-'0')
		}
		if ev[1] != "test" || ev[2] != input[r][4] {
			t.Errorf("evaluate row %v: want split test and true %s", ev, input[r][4])
		}
		if want := strings.Join(prRows[r][2:], ","); strings.Join(ev[3:], ",") != want {
			t.Errorf("row %d: evaluate %v, predict %v", r, ev[3:], prRows[r][2:])
		}
		if prRows[r][0] != input[r][3] || prRows[r][1] != input[r][1] {
			t.Errorf("row %d: kept %v, input %v", r, prRows[r][:2], input[r])
		}
	}
}

// TestExplainRanksTheLeak: a feature equal to the label plus tiny noise is the most important
// by permutation, with a one-hot column shuffled as one feature.
func TestExplainRanksTheLeak(t *testing.T) {
	var b strings.Builder
	b.WriteString("leak,noise,colour,label\n")
	for i := range 200 {
		label := i % 2
		fmt.Fprintf(&b, "%.4f,%.4f,%s,%d\n", float64(label)+float64(i%7)*0.001, float64((i*37)%101)/101, []string{"red", "blue", "green"}[i%3], label)
	}
	dir := t.TempDir()
	mustSucceed(t, runIn(t, dir, map[string]string{"data.csv": b.String(), "pipeline.yaml": `version: 1
name: leak
stages:
  load: {uses: dataset, with: {path: data.csv, target: label}}
  prep: {uses: preprocess, needs: [load], with: {steps: [{encode: {columns: [colour]}}, {split: {test: 0.3, seed: 1}}, {normalize: zscore}]}}
  build: {uses: model, needs: [prep], with: {layers: [{dense: {units: 8, activation: relu}}, {dense: {units: auto}}], seed: 1}}
  train: {uses: train, needs: [prep, build], with: {epochs: 60, seed: 1}}
  why: {uses: explain, needs: [prep, train], with: {repeats: 3, seed: 1}}
  shap: {uses: explain, needs: [prep, train], with: {method: kernel_shap, background: 20, rows: 10, seed: 1}}
`}))
	// Kernel SHAP: every explained row's values add up to its output minus the expected value.
	sheader, srows := readCSV(t, filepath.Join(dir, ".loom", "out", "shap", "shap.csv"))
	if strings.Join(sheader, ",") != "row,leak,noise,colour,expected_value,output" || len(srows) != 10 {
		t.Fatalf("shap.csv: %v, %d rows", sheader, len(srows))
	}
	for _, r := range srows {
		sum := 0.0
		for _, c := range r[1:5] {
			v, _ := strconv.ParseFloat(c, 64)
			sum += v
		}
		out, _ := strconv.ParseFloat(r[5], 64)
		if math.Abs(sum-out) > 1e-6 {
			t.Errorf("row %s: Σφ + E = %.9f, output %.9f", r[0], sum, out)
		}
	}
	header, rows := readCSV(t, filepath.Join(dir, ".loom", "out", "why", "importance.csv"))
	if strings.Join(header, ",") != "feature,importance_mean,importance_std" || len(rows) != 3 {
		t.Fatalf("importance.csv: %v %v", header, rows)
	}
	if rows[0][0] != "leak" {
		t.Errorf("the leak is not first: %v", rows)
	}
	if _, err := os.Stat(filepath.Join(dir, ".loom", "out", "why", "importance.png")); err != nil {
		t.Error(err)
	}
}

// TestEvaluateGroups: a group column gives its table and the fairness metrics, which an assert
// can use; a column the data lacks is an error naming it.
func TestEvaluateGroups(t *testing.T) {
	manifest := func(groups, assert string) string {
		return `version: 1
name: groups
stages:
  load: {uses: dataset, with: {path: people.csv, target: label}}
  prep: {uses: preprocess, needs: [load], with: {steps: [{impute: {strategy: most_frequent}}, {split: {test: 0.5, seed: 2}}, {normalize: zscore}]}}
  build: {uses: model, needs: [prep], with: {layers: [{dense: {units: 4, activation: relu}}, {dense: {units: auto}}], seed: 1}}
  train: {uses: train, needs: [prep, build], with: {epochs: 20, seed: 1}}
  evaluate: {uses: evaluate, needs: [prep, train], with: {groups: ` + groups + `, assert: ["` + assert + `"]}}
`
	}
	rep := run(t, map[string]string{"people.csv": people, "pipeline.yaml": manifest("city", "demographic_parity_difference <= 1")})
	m := mustSucceed(t, rep)["evaluate"]
	for _, k := range []string{"demographic_parity_difference", "demographic_parity_ratio", "equalized_odds_difference"} {
		if v, ok := m[k]; !ok || v < 0 || v > 1 {
			t.Errorf("%s = %v, %v", k, v, ok)
		}
	}
	rep = run(t, map[string]string{"people.csv": people, "pipeline.yaml": manifest("[town]", "accuracy >= 0")})
	for _, s := range rep.Stages {
		if s.Name == "evaluate" && (s.Err == nil || !strings.Contains(s.Err.Error(), `no column "town"`)) {
			t.Errorf("a missing group column: %v", s.Err)
		}
	}
}

// TestPseudonymizeKeepsRawValuesOut: no raw value of a pseudonymized column, and not the salt,
// is in any file under .loom or in the log; another salt is another key.
func TestPseudonymizeKeepsRawValuesOut(t *testing.T) {
	names := []string{"Alice Martin", "Bruno Keller", "Chloé Dubois", "Dmitri Ivanov", "Esther Haddad", "Farid Benali"}
	var b strings.Builder
	b.WriteString("name,age,label\n")
	for i := range 60 {
		fmt.Fprintf(&b, "%s,%d,%d\n", names[i%len(names)], 20+i%40, (i/3)%2)
	}
	t.Setenv("LOOM_TEST_SALT", "s3cr3t-salt-value")
	dir := t.TempDir()
	var log strings.Builder
	files := map[string]string{"people.csv": b.String(), "pipeline.yaml": `version: 1
name: pseudo
stages:
  load: {uses: dataset, with: {path: people.csv, target: label}}
  prep:
    uses: preprocess
    needs: [load]
    with: {steps: [{pseudonymize: {columns: [name], salt_env: LOOM_TEST_SALT}}, {encode: {columns: [name]}}, {split: {test: 0.3, seed: 1}}]}
  build: {uses: model, needs: [prep], with: {layers: [{dense: {units: 4, activation: relu}}, {dense: {units: auto}}], seed: 1}}
  train: {uses: train, needs: [prep, build], with: {epochs: 5, seed: 1}}
  evaluate: {uses: evaluate, needs: [prep, train]}
`}
	for name, content := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	if err := prepareAndRun(t, filepath.Join(dir, "pipeline.yaml"), &log); err != nil {
		t.Fatal(err)
	}
	leaks := append(slices.Clone(names), "s3cr3t-salt-value")
	filepath.WalkDir(filepath.Join(dir, ".loom"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		content, _ := os.ReadFile(p)
		for _, v := range leaks {
			if bytes.Contains(content, []byte(v)) {
				t.Errorf("%s holds %q", p, v)
			}
		}
		return nil
	})
	for _, v := range leaks {
		if strings.Contains(log.String(), v) {
			t.Errorf("the log holds %q", v)
		}
	}
	// Another salt: the dataset stage's key changes, so it runs again.
	t.Setenv("LOOM_TEST_SALT", "another salt")
	log.Reset()
	if err := prepareAndRun(t, filepath.Join(dir, "pipeline.yaml"), &log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "load: running") {
		t.Errorf("another salt did not rerun the dataset stage:\n%s", log.String())
	}
}
