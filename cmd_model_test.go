package main

import (
	"bufio"
	"encoding/csv"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loom-ml/loom/bundle"
	"github.com/loom-ml/loom/onnx/reference"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/steps"
)

// shop is a small classification workspace: a numeric, a categorical column with missing
// values and an id column that is not a feature.
func shop(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("id,age,city,income,label\n")
	cities := []string{"paris", "rome", "oslo", ""}
	for i := range 60 {
		age, income := 20+(i*7)%45, 20+(i*13)%70
		label := "no"
		if age+income > 80 {
			label = "yes"
		}
		inc := ""
		if i%11 != 5 {
			inc = itoa(income)
		}
		b.WriteString(strings.Join([]string{"c" + itoa(i), itoa(age), cities[i%4], inc, label}, ",") + "\n")
	}
	files := map[string]string{
		"shop.csv": b.String(),
		"pipeline.yaml": `version: 1
name: shop
stages:
  load: {uses: dataset, with: {path: shop.csv, target: label, features: [age, city, income]}}
  prep:
    uses: preprocess
    needs: [load]
    with:
      steps:
        - impute: {strategy: most_frequent, columns: [city]}
        - impute: {strategy: median, columns: [income]}
        - encode: {columns: [city]}
        - split: {test: 0.3, seed: 2}
        - normalize: zscore
  build: {uses: model, needs: [prep], with: {layers: [{dense: {units: 8, activation: relu}}, {dense: {units: auto}}], seed: 1}}
  train: {uses: train, needs: [prep, build], with: {epochs: 40, seed: 1}}
  evaluate: {uses: evaluate, needs: [prep, train], with: {metrics: [accuracy]}}
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func itoa(i int) string { return strconv.Itoa(i) }

func httpPost(url, body string) (string, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func readRows(t *testing.T, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("%v\n%s", err, s)
	}
	return rows
}

// TestPredictCommand: loom predict on the data file gives the test rows exactly evaluate's
// predictions; reordered, extra and JSON-lines input give the same; a missing column and a
// cell that is not a number are exit 2 naming them; an unseen category is scored.
func TestPredictCommand(t *testing.T) {
	dir := shop(t)
	mf := filepath.Join(dir, "pipeline.yaml")
	if code, _, stderr := loom(t, "run", "-f", mf); code != 0 {
		t.Fatal(stderr)
	}
	code, out, stderr := loom(t, "predict", "-f", mf, "--input", filepath.Join(dir, "shop.csv"), "--keep", "id")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	pred := readRows(t, out)
	if strings.Join(pred[0], ",") != "id,prediction,prob_no,prob_yes" || len(pred) != 61 {
		t.Fatalf("header %v, %d rows", pred[0], len(pred))
	}
	evalOut, err := os.ReadFile(filepath.Join(dir, ".loom", "out", "evaluate", "predictions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	ev := readRows(t, string(evalOut))
	for _, row := range ev[1:] {
		var r int
		for _, c := range row[0] {
			r = r*10 + int(c-'0')
		}
		if strings.Join(row[3:], ",") != strings.Join(pred[r+1][1:], ",") {
			t.Errorf("row %d: evaluate %v, predict %v", r, row[3:], pred[r+1][1:])
		}
	}

	// The same rows with the columns in another order, an extra column and no target.
	src := readRows(t, mustRead(t, filepath.Join(dir, "shop.csv")))
	var re, jl strings.Builder
	re.WriteString("income,extra,city,age,id\n")
	for _, r := range src[1:] {
		re.WriteString(strings.Join([]string{r[3], "x", r[2], r[1], r[0]}, ",") + "\n")
		inc := r[3]
		if inc == "" {
			inc = "null"
		}
		jl.WriteString(`{"id": "` + r[0] + `", "age": ` + r[1] + `, "city": "` + r[2] + `", "income": ` + inc + "}\n")
	}
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o644)
		return p
	}
	for _, input := range []string{write("reordered.csv", re.String()), write("rows.jsonl", jl.String())} {
		if code, got, stderr := loom(t, "predict", "-f", mf, "--input", input, "--keep", "id"); code != 0 || got != out {
			t.Errorf("%s: exit %d, %s\n%s", input, code, stderr, firstLines(got, 3))
		}
	}
	for name, c := range map[string]struct{ data, msg string }{
		"missing.csv":  {"age,income\n30,40\n", `column "city": the model needs this column`},
		"notnum.csv":   {"age,city,income\n30,rome,40\n31,oslo,forty\n", `notnum.csv:3: column "income": "forty" is not a number`},
		"ragged.jsonl": {`{"age": 1, "city": "rome"}` + "\n", `ragged.jsonl:1: column "income": the model needs this column`},
	} {
		code, _, stderr := loom(t, "predict", "-f", mf, "--input", write(name, c.data))
		if code != exitUsage || !strings.Contains(stderr, c.msg) {
			t.Errorf("%s: exit %d, %s; want 2 and %q", name, code, stderr, c.msg)
		}
	}
	code, got, stderr := loom(t, "predict", "-f", mf, "--input", write("unseen.csv", "age,city,income\n30,tokyo,40\n"))
	if rows := readRows(t, got); code != 0 || len(rows) != 2 {
		t.Errorf("an unseen category: exit %d %s %s", code, got, stderr)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// TestBundleRoundTrip: an exported bundle, copied to a folder without the pipeline or its
// cache, predicts the same bytes; a model stage's file is refused with a reason.
func TestBundleRoundTrip(t *testing.T) {
	dir := shop(t)
	mf := filepath.Join(dir, "pipeline.yaml")
	data := filepath.Join(dir, "shop.csv")
	_, want, _ := loom(t, "predict", "-f", mf, "--input", data)
	elsewhere := t.TempDir()
	b := filepath.Join(elsewhere, "shop.bundle")
	if code, _, stderr := loom(t, "export", "-f", mf, "--format", "bundle", "-o", b); code != 0 {
		t.Fatalf("export: exit %d %s", code, stderr)
	}
	os.Rename(data, filepath.Join(elsewhere, "shop.csv"))
	os.RemoveAll(dir)
	code, got, stderr := loom(t, "predict", "--model", b, "--input", filepath.Join(elsewhere, "shop.csv"))
	if code != 0 || got != want {
		t.Errorf("from the bundle: exit %d %s\n%s\nwant\n%s", code, stderr, firstLines(got, 3), firstLines(want, 3))
	}
}

// TestServeStopsOnSIGTERM: loom serve answers, and SIGTERM makes it exit 0.
func TestServeStopsOnSIGTERM(t *testing.T) {
	dir := shop(t)
	if code, _, stderr := loom(t, "run", "-f", filepath.Join(dir, "pipeline.yaml")); code != 0 {
		t.Fatal(stderr)
	}
	cmd := loomProcess(t, "", "serve", "-f", filepath.Join(dir, "pipeline.yaml"), "--addr", "127.0.0.1:0")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	var url string
	for lines.Scan() {
		if _, u, ok := strings.Cut(lines.Text(), " on "); ok {
			url = u
			break
		}
	}
	go func() {
		for lines.Scan() {
		}
	}()
	if url == "" {
		t.Fatal("loom serve did not say where it listens")
	}
	resp, err := httpPost(url+"/v1/predict", `{"records": [{"age": 30, "city": "rome", "income": 40}]}`)
	if err != nil || !strings.Contains(resp, `"prediction"`) {
		t.Fatalf("%v %s", err, resp)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("after SIGTERM: %v", err)
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatal("loom serve did not stop within 5 s of SIGTERM")
	}
}

// TestExamplesExportToONNX: every numeric example's model exported to ONNX, evaluated by the
// reference evaluator on the data file's rows, matches loom predict within 1e-5; examples
// whose layers ONNX cannot hold are refused naming the layer.
func TestExamplesExportToONNX(t *testing.T) {
	if testing.Short() {
		t.Skip("trains every example")
	}
	for _, c := range []struct{ example, data, refused string }{
		{"breast-cancer", "data/breast_cancer.csv", ""},
		{"iris", "data/iris.csv", ""},
		{"digits-cnn", "data/digits.csv", ""},
		{"seed-case", "data/samples.csv", ""},
		{"text", "", "(embedding)"},
	} {
		t.Run(c.example, func(t *testing.T) {
			mf := copyExample(t, c.example)
			args := []string{"export", "-f", mf, "--format", "onnx", "-o", filepath.Join(t.TempDir(), "m.onnx")}
			if c.refused != "" {
				args = append(args, "--model", steps.ModelStages(mustLoad(t, mf))[0])
			}
			code, _, stderr := loom(t, args...)
			if c.refused != "" {
				if code == 0 || !strings.Contains(stderr, c.refused) {
					t.Errorf("exit %d %s; want a refusal naming %s", code, stderr, c.refused)
				}
				return
			}
			if code != 0 {
				t.Fatalf("export: exit %d %s", code, stderr)
			}
			data := filepath.Join(filepath.Dir(mf), c.data)
			_, out, stderr := loom(t, "predict", "-f", mf, "--input", data)
			want := readRows(t, out)
			if len(want) < 2 {
				t.Fatalf("predict: %s", stderr)
			}
			m, err := reference.Decode([]byte(mustRead(t, args[6])))
			if err != nil {
				t.Fatal(err)
			}
			rows := readRows(t, mustRead(t, data))
			cols := strings.Split(m.Metadata["loom.features"], ",")
			var x []float32
			if slices.ContainsFunc(cols, func(c string) bool { return !slices.Contains(rows[0], c) }) {
				// The graph takes the network's input: the preprocessing has steps it cannot hold.
				b, err := bundle.ReadFile(filepath.Join(filepath.Dir(mf), ".loom", "out", steps.ModelStages(mustLoad(t, mf))[0], steps.ModelFile))
				if err != nil {
					t.Fatal(err)
				}
				fr, _, err := b.ReadData(data, nil)
				if err != nil {
					t.Fatal(err)
				}
				if x, err = b.Matrix(fr); err != nil {
					t.Fatal(err)
				}
			} else {
				x = rawColumns(t, rows, cols)
			}
			got, err := m.Run(&reference.Value{Dims: []int{len(rows) - 1, len(cols)}, Data: x})
			if err != nil {
				t.Fatal(err)
			}
			width := len(got.Data) / (len(rows) - 1)
			worst := 0.0
			for r, row := range want[1:] {
				for k := range width {
					p, _ := strconv.ParseFloat(row[1+k], 64)
					worst = max(worst, math.Abs(float64(got.Data[r*width+k])-p))
				}
			}
			if worst > 1e-5 {
				t.Errorf("ONNX and loom predict differ by up to %g", worst)
			}
			t.Logf("%d rows, largest difference %.2g", len(rows)-1, worst)
		})
	}
}

func mustLoad(t *testing.T, path string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load(path, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// rawColumns lays out the data rows' cols as a float matrix, empty cells as NaN.
func rawColumns(t *testing.T, rows [][]string, cols []string) []float32 {
	var x []float32
	for _, r := range rows[1:] {
		for _, col := range cols {
			v := float32(math.NaN())
			if cell := r[slices.Index(rows[0], col)]; cell != "" {
				f, err := strconv.ParseFloat(cell, 64)
				if err != nil {
					t.Fatalf("column %s is not numeric: the export should take the encoded input", col)
				}
				v = float32(f)
			}
			x = append(x, v)
		}
	}
	return x
}
