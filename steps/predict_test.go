package steps_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
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
