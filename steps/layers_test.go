package steps_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/loom-ml/loom/pipeline"
)

// tinyOrderText is a text dataset whose label depends on word order: "a b" before or after
// "c d".
func tinyOrderText(rows int) string {
	var b strings.Builder
	b.WriteString("text,label\n")
	for i := 0; i < rows; i++ {
		first, second := "red apple", "green pear"
		label := "yes"
		if i%2 == 1 {
			first, second, label = second, first, "no"
		}
		fmt.Fprintf(&b, "%s then %s,%s\n", first, second, label)
	}
	return b.String()
}

// TestEveryLayerFromYAML builds and trains a model with each layer of MANIFEST.md, as
// written there: an image model on blobs reshaped to 4x4x1 and a text model on token ids.
func TestEveryLayerFromYAML(t *testing.T) {
	rep := run(t, map[string]string{
		"data/text.csv": tinyOrderText(60),
		"pipeline.yaml": `version: 1
name: layers
stages:
  blobs: {uses: dataset, with: {generate: {kind: blobs, n: 120, features: 16, classes: 3, seed: 1}}}
  image:
    uses: model
    needs: [blobs]
    with:
      seed: 1
      layers:
        - reshape: [4, 4, -1]
        - conv2d: {filters: 4, kernel: [2, 3], stride: 1, padding: same, activation: relu}
        - maxpool2d: {size: 2}
        - conv2d: {filters: 3, kernel: 1, padding: 0}
        - avgpool2d: {size: [1, 2]}
        - flatten: {}
        - batchnorm: {}
        - dropout: 0.1
        - dense: {units: auto}
  train_image: {uses: train, needs: [blobs, image], with: {epochs: 3, seed: 1}}
  text_data: {uses: dataset, with: {path: data/text.csv, target: label, text: {column: text, length: 5}}}
  sequence:
    uses: model
    needs: [text_data]
    with:
      seed: 1
      layers:
        - embedding: {vocab: auto, dim: 8}
        - positional_encoding: {}
        - transformer: {heads: 2, ff: 16, dropout: 0.1, causal: true}
        - attention: {heads: 4, dim: 8}
        - layernorm: {eps: 0.001}
        - simple_rnn: {units: 6, return_sequences: true}
        - gru: {units: 6, return_sequences: true}
        - lstm: {units: 4, return_sequences: true}
        - global_avg_pool: {}
        - dense: {units: auto}
  train_sequence: {uses: train, needs: [text_data, sequence], with: {epochs: 3, seed: 1}}
`})
	mustSucceed(t, rep)
	for _, s := range rep.Stages {
		if s.Name == "sequence" && s.Status == pipeline.Ran {
			return
		}
	}
	t.Error("the sequence model stage did not run")
}

// TestVocabAutoNeedsOneTextColumn: vocab: auto over data without a text column is an error
// at the setting.
func TestVocabAutoNeedsOneTextColumn(t *testing.T) {
	rep := run(t, map[string]string{"pipeline.yaml": `version: 1
name: v
stages:
  load: {uses: dataset, with: {generate: {kind: blobs, n: 50, features: 4, classes: 2, seed: 1}}}
  build: {uses: model, needs: [load], with: {layers: [{embedding: {vocab: auto, dim: 4}}, {lstm: {units: 2}}, {dense: {units: auto}}]}}
`})
	for _, s := range rep.Stages {
		if s.Name == "build" {
			if s.Err == nil || !strings.Contains(s.Err.Error(), "pipeline.yaml:5:75: layer 0: vocab: auto needs exactly one text column in the data, found 0") {
				t.Errorf("build: %v", s.Err)
			}
			return
		}
	}
	t.Error("no build stage in the report")
}
