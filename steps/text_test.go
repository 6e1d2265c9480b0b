package steps_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/steps"
)

// tinyReviews returns n reviews whose label needs the word before the adjective: "not good"
// is negative.
func tinyReviews(n int) string {
	adj := []string{"good", "great", "fine", "bad", "awful", "dull"}
	subj := []string{"the film", "the plot", "this movie", "the cast"}
	var b strings.Builder
	b.WriteString("review,label\n")
	for i := range n {
		a, neg := adj[i%len(adj)], i/len(adj)%2 == 1
		pos := i%len(adj) < 3
		text := subj[i/12%len(subj)] + " was "
		if neg {
			text += "not "
			pos = !pos
		}
		label := "neg"
		if pos {
			label = "pos"
		}
		b.WriteString(text + a + "," + label + "\n")
	}
	return b.String()
}

// TestTextDatasetFromYAML tokenises a text column into ids at the split, and into counts
// without a split (every row train, tokenised when the model reads the frame), and trains
// on both; a bag of words and bigrams separates "was good" from "was not good". The counts
// have 36 columns: 14 words, 21 bigrams and the out-of-vocabulary count.
func TestTextDatasetFromYAML(t *testing.T) {
	for _, tc := range []struct{ text, data, shape, assert string }{
		{"{column: review, level: word, length: 5, pad: pre}", "prep", "prep: 240 rows (train 180, val 0, test 60), 5 features", "accuracy >= 0"},
		{"{column: review, output: counts, ngrams: 2}", "load", "load: 240 rows (train 240, val 0, test 0), 36 features", "accuracy >= 0.95"},
	} {
		files := map[string]string{
			"data/reviews.csv": tinyReviews(240),
			"pipeline.yaml": `version: 1
name: text
stages:
  load:
    uses: dataset
    with: {path: data/reviews.csv, target: label, text: ` + tc.text + `}
  prep: {uses: preprocess, needs: [load], with: {steps: [{split: {test: 0.25, seed: 1, stratify: true}}, {normalize: zscore}]}}
  build:
    uses: model
    needs: [` + tc.data + `]
    with: {seed: 1, layers: [{dense: {units: 32, activation: relu}}, {dense: {units: auto}}]}
  train: {uses: train, needs: [` + tc.data + `, build], with: {optimizer: {name: adam, lr: 0.01}, epochs: 150, seed: 1}}
  evaluate: {uses: evaluate, needs: [train, ` + tc.data + `], with: {split: train, metrics: [accuracy], assert: ["` + tc.assert + `"]}}
`}
		dir := t.TempDir()
		for name, content := range files {
			os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
			os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		}
		var log strings.Builder
		if err := prepareAndRun(t, filepath.Join(dir, "pipeline.yaml"), &log); err != nil {
			t.Fatalf("text %s: %v", tc.text, err)
		}
		if !strings.Contains(log.String(), tc.shape) {
			t.Errorf("text %s: the log does not say %q:\n%s", tc.text, tc.shape, log.String())
		}
	}
}

// TestTextSettingErrorsArePositioned checks the errors of the text option: those the
// settings show at preparation, those the data shows when the dataset runs; each names the
// setting's line and column.
func TestTextSettingErrorsArePositioned(t *testing.T) {
	const data = "review,n,label\ngood film,1,pos\nbad film,2,neg\n"
	for _, tc := range []struct{ with, want string }{
		{"text: {column: review, vocab: 2, length: 3}", "pipeline.yaml:6:75: dataset: text vocab: 2 leaves no room"},
		{"text: {column: review}", "pipeline.yaml:6:51: dataset: text length: ids output needs a length"},
		{"text: {column: review, length: 3, ngrams: 2}", "pipeline.yaml:6:87: dataset: text ngrams: n-grams need level word and output counts"},
		{"text: {column: review, output: counts, length: 3}", "pipeline.yaml:6:92: dataset: text length: counts output"},
		{"text: {column: review, length: 0}", "pipeline.yaml:6:"},
		{"text: {column: nope, length: 3}", `pipeline.yaml:6:60: dataset: column "nope": text: no such column (columns: review, n, label)`},
		{"text: {column: n, length: 3}", `pipeline.yaml:6:60: dataset: column "n": text: every value is a number`},
		{"text: {column: label, length: 3}", `pipeline.yaml:6:60: dataset: column "label": text: this is the target column`},
	} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "data"), 0o755)
		os.WriteFile(filepath.Join(dir, "data", "r.csv"), []byte(data), 0o644)
		src := "version: 1\nname: x\nstages:\n  load:\n    uses: dataset\n    with: {path: data/r.csv, target: label, " + tc.with + "}\n"
		os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(src), 0o644)
		err := prepareAndRun(t, filepath.Join(dir, "pipeline.yaml"), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.with, err, tc.want)
		}
	}
}

func TestTextWithGenerateIsAnError(t *testing.T) {
	dir := t.TempDir()
	src := "version: 1\nname: x\nstages:\n  load:\n    uses: dataset\n    with: {generate: {kind: moons}, text: {column: x0, length: 3}}\n"
	os.WriteFile(filepath.Join(dir, "pipeline.yaml"), []byte(src), 0o644)
	err := prepareAndRun(t, filepath.Join(dir, "pipeline.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "pipeline.yaml:6:43: stages.load.with.text: needs a file") {
		t.Errorf("got %v", err)
	}
}

// prepareAndRun loads, prepares and runs a manifest, writing its log to log (nil: nowhere),
// and returns the first error: the load's, the preparation's or a stage's.
func prepareAndRun(t *testing.T, path string, log io.Writer) error {
	t.Helper()
	m, err := manifest.Load(path, manifest.Options{})
	if err != nil {
		return err
	}
	ws, err := pipeline.Open(m, steps.Kinds())
	if err != nil {
		return err
	}
	rep, err := ws.Run(t.Context(), pipeline.Options{Log: log})
	if err != nil {
		return err
	}
	for _, s := range rep.Stages {
		if s.Err != nil {
			return s.Err
		}
	}
	return nil
}
