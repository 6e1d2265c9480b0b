package steps_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/loom-ml/loom/pipeline"
)

// affairsCSV has a label to derive (affairs > 0) and a column saying each row's split.
func affairsCSV(rows int) string {
	var b strings.Builder
	b.WriteString("rating,age,affairs,fold\n")
	for i := range rows {
		affairs := 0.0
		if i%3 == 0 {
			affairs = float64(i%5) + 0.5
		}
		fold := []string{"train", "train", "train", "val", "test"}[i%5]
		fmt.Fprintf(&b, "%d,%d,%g,%s\n", 1+i%5, 20+i%30, affairs, fold)
	}
	return b.String()
}

// TestDataInFromYAML: a derived target with its source dropped, a predefined split from a
// column, and a data file outside the workspace given by its absolute path, which is an input
// like any other: editing it reruns the stage.
func TestDataInFromYAML(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "affairs.csv")
	if err := os.WriteFile(outside, []byte(affairsCSV(100)), 0o644); err != nil {
		t.Fatal(err)
	}
	manifest := `version: 1
name: datain
stages:
  load:
    uses: dataset
    with: {path: ` + outside + `, target: had_affair, derive: {had_affair: "affairs > 0"}, drop: [affairs]}
  prep: {uses: preprocess, needs: [load], with: {steps: [{split: {column: fold}}, {normalize: zscore}]}}
  build: {uses: model, needs: [prep], with: {layers: [{dense: {units: 4, activation: relu}}, {dense: {units: auto}}], seed: 1}}
  train: {uses: train, needs: [prep, build], with: {epochs: 2, seed: 1}}
  score: {uses: evaluate, needs: [prep, train], with: {metrics: [accuracy]}}
  scored: {uses: predict, needs: [train], with: {model: train, input: new.csv}}
`
	dir := t.TempDir()
	// New rows have the raw features only: no affairs, the target's source, and no fold.
	os.WriteFile(filepath.Join(dir, "new.csv"), []byte("age,rating\n30,2\n41,5\n"), 0o644)
	rep := runIn(t, dir, map[string]string{"pipeline.yaml": manifest})
	mustSucceed(t, rep)
	header, rows := readCSV(t, filepath.Join(dir, ".loom", "out", "score", "predictions.csv"))
	if len(rows) != 20 || strings.Join(header, ",") != "row,split,true,prediction,prob_0,prob_1" {
		t.Errorf("predictions: %v, %d rows (the fold column gives 20 test rows)", header, len(rows))
	}
	if rows[0][0] != "4" { // the fifth data row is the first test row
		t.Errorf("first test row %s, want 4", rows[0][0])
	}
	if _, rows := readCSV(t, filepath.Join(dir, ".loom", "out", "scored", "predictions.csv")); len(rows) != 2 {
		t.Errorf("predict: %v", rows)
	}
	if err := os.WriteFile(outside, []byte(affairsCSV(90)), 0o644); err != nil {
		t.Fatal(err)
	}
	rep = runIn(t, dir, nil)
	for _, s := range rep.Stages {
		if s.Name == "load" && s.Status != pipeline.Ran {
			t.Errorf("load is %s after its outside file changed", s.Status)
		}
	}
}

func TestTestPathFromYAML(t *testing.T) {
	data := affairsCSV(100)
	train, test := "rating,age,affairs\n", "rating,age,affairs\n"
	for i, line := range strings.Split(strings.TrimSpace(data), "\n")[1:] {
		line = line[:strings.LastIndexByte(line, ',')]
		if i%4 == 0 {
			test += line + "\n"
		} else {
			train += line + "\n"
		}
	}
	dir := t.TempDir()
	mustSucceed(t, runIn(t, dir, map[string]string{"train.csv": train, "test.csv": test, "pipeline.yaml": `version: 1
name: testpath
stages:
  load: {uses: dataset, with: {path: train.csv, test_path: test.csv, target: had_affair, derive: {had_affair: "affairs > 0"}, drop: [affairs]}}
  prep: {uses: preprocess, needs: [load], with: {steps: [{split: {val: 0.2, seed: 1}}]}}
  build: {uses: model, needs: [prep], with: {layers: [{dense: {units: auto}}], seed: 1}}
  train: {uses: train, needs: [prep, build], with: {epochs: 1, seed: 1}}
  score: {uses: evaluate, needs: [prep, train], with: {metrics: [accuracy]}}
`}))
	_, rows := readCSV(t, filepath.Join(dir, ".loom", "out", "score", "predictions.csv"))
	if len(rows) != 25 || rows[0][0] != "0" || rows[24][0] != "24" {
		t.Errorf("%d test rows from %s to %s, want test.csv's 25 rows 0..24", len(rows), rows[0][0], rows[len(rows)-1][0])
	}
	// A split column with other values is an error naming the row.
	rep := run(t, map[string]string{"d.csv": "x,fold,y\n1,train,0\n2,train,1\n3,holdout,1\n", "pipeline.yaml": `version: 1
name: badfold
stages:
  load: {uses: dataset, with: {path: d.csv, target: y}}
  prep: {uses: preprocess, needs: [load], with: {steps: [{split: {column: fold}}]}}
`})
	for _, s := range rep.Stages {
		if s.Name == "prep" && (s.Err == nil || !strings.Contains(s.Err.Error(), `column "fold", data row 3: "holdout" is not train, val or test`)) {
			t.Errorf("prep: %v", s.Err)
		}
	}
}

// loan is a row of the Parquet twin of a CSV table.
type loan struct {
	Income float64 `parquet:"income"`
	Years  *int32  `parquet:"years,optional"`
	Region string  `parquet:"region,dict"`
	Label  string  `parquet:"label"`
}

// TestParquetPipelineEqualsCSV: the same data as Parquet and as CSV give the same metrics
// through impute, encode, split, normalize, training and evaluation; a predict stage reads
// Parquet and writes Parquet with the CSV output's values.
func TestParquetPipelineEqualsCSV(t *testing.T) {
	var rows []loan
	var csv strings.Builder
	csv.WriteString("income,years,region,label\n")
	for i := range 120 {
		l := loan{Income: float64(20 + i%37*3), Region: []string{"north", "south", "east"}[i%3], Label: []string{"no", "yes"}[(i/2+i%3)%2]}
		years := ""
		if i%7 != 0 {
			y := int32(i % 11)
			l.Years, years = &y, fmt.Sprint(y)
		}
		rows = append(rows, l)
		fmt.Fprintf(&csv, "%g,%s,%s,%s\n", l.Income, years, l.Region, l.Label)
	}
	dir := t.TempDir()
	writeParquetFile(t, filepath.Join(dir, "loans.parquet"), rows)
	os.WriteFile(filepath.Join(dir, "loans.csv"), []byte(csv.String()), 0o644)
	pipeline := func(file string) string {
		return `version: 1
name: loans
stages:
  load: {uses: dataset, with: {path: ` + file + `, target: label}}
  prep: {uses: preprocess, needs: [load], with: {steps: [{impute: {strategy: median}}, {encode: {columns: [region]}}, {split: {test: 0.25, seed: 2}}, {normalize: zscore}]}}
  build: {uses: model, needs: [prep], with: {layers: [{dense: {units: 8, activation: relu}}, {dense: {units: auto}}], seed: 1}}
  train: {uses: train, needs: [prep, build], with: {epochs: 5, seed: 1}}
  score: {uses: evaluate, needs: [prep, train], with: {metrics: [accuracy, log_loss]}}
  scored: {uses: predict, needs: [train], with: {model: train, input: loans.parquet, keep: [region], format: parquet}}
  scored_csv: {uses: predict, needs: [train], with: {model: train, input: loans.csv, keep: [region]}}
`
	}
	fromParquet := mustSucceed(t, runIn(t, dir, map[string]string{"pipeline.yaml": pipeline("loans.parquet")}))
	_, csvRows := readCSV(t, filepath.Join(dir, ".loom", "out", "scored_csv", "predictions.csv"))
	got := readParquetFile[scoredLoan](t, filepath.Join(dir, ".loom", "out", "scored", "predictions.parquet"))
	if len(got) != 120 || got[5].Region != csvRows[5][0] || got[5].Prediction != csvRows[5][1] || fmt.Sprint(got[5].ProbYes) != csvRows[5][3] {
		t.Errorf("Parquet predictions %+v, CSV %v", got[5], csvRows[5])
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "loans.parquet"), mustRead(t, filepath.Join(dir, "loans.parquet")), 0o644)
	os.WriteFile(filepath.Join(other, "loans.csv"), []byte(csv.String()), 0o644)
	fromCSV := mustSucceed(t, runIn(t, other, map[string]string{"pipeline.yaml": pipeline("loans.csv")}))
	for _, m := range []string{"accuracy", "log_loss"} {
		if fromParquet["score"][m] != fromCSV["score"][m] {
			t.Errorf("%s: Parquet %v, CSV %v", m, fromParquet["score"][m], fromCSV["score"][m])
		}
	}
}

// scoredLoan is a row of predictions.parquet of TestParquetPipelineEqualsCSV.
type scoredLoan struct {
	Region     string  `parquet:"region"`
	Prediction string  `parquet:"prediction"`
	ProbNo     float32 `parquet:"prob_no"`
	ProbYes    float32 `parquet:"prob_yes"`
}

func writeParquetFile[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	if err := parquet.WriteFile(path, rows, parquet.MaxRowsPerRowGroup(50)); err != nil {
		t.Fatal(err)
	}
}

func readParquetFile[T any](t *testing.T, path string) []T {
	t.Helper()
	rows, err := parquet.ReadFile[T](path)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
