package steps_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/schemas"
	"github.com/loom-ml/loom/steps"
)

// head is a valid manifest start that the cases below append stages to.
const head = `version: 1
params:
  seed: 0
  hidden: [8, 4]
  train: {lr: 0.001, epochs: 10}
  name: x
stages:
`

// prepare loads src and prepares its stages, as `loom validate` does.
func prepare(src string) error {
	m, err := manifest.Parse("p.yaml", []byte(src), manifest.Options{})
	if err != nil {
		return err
	}
	return pipeline.Prepare(m, steps.Kinds())
}

// TestBrokenSettings: each kind of mistake in a stage's `with` is reported at the right line
// and column, with the setting's path and what was expected.
func TestBrokenSettings(t *testing.T) {
	cases := []struct {
		name, src, pos, msg string
	}{
		{"unknown kind", head + "  a:\n    uses: datset\n", "9:11", `unknown stage kind "datset" (did you mean "dataset"?); valid kinds: dataset, evaluate, explain, model, predict, preprocess, shell, train, tune`},
		{"enum", head + "  t:\n    uses: train\n    with:\n      optimizer: {name: adamm, lr: 0.1}\n", "11:25", `stages.t.with.optimizer.name: "adamm" is not one of sgd, momentum, nesterov, adam, adamw, rmsprop (did you mean "adam"?)`},
		{"unknown option", head + "  t:\n    uses: train\n    with:\n      epoch: 3\n", "11:7", `stages.t.with.epoch: unknown option "epoch" (did you mean "epochs"?)`},
		{"unknown nested option", head + "  t:\n    uses: train\n    with:\n      optimizer: {name: sgd, lrr: 0.1}\n", "11:30", `unknown option "lrr" (did you mean "lr"?); valid: betas, lr, momentum, name, weight_decay`},
		{"type after interpolation", head + "  t:\n    uses: train\n    with:\n      epochs: ${params.name}\n", "11:15", "stages.t.with.epochs: must be an integer, not a string"},
		{"minimum", head + "  t:\n    uses: train\n    with: {epochs: 0}\n", "10:20", "stages.t.with.epochs: must be >= 1, not 0"},
		{"exclusive minimum", head + "  t:\n    uses: train\n    with: {optimizer: {name: sgd, lr: 0}}\n", "10:39", "stages.t.with.optimizer.lr: must be > 0, not 0"},
		{"maximum", head + "  e:\n    uses: evaluate\n    with: {threshold: 2}\n", "10:23", "stages.e.with.threshold: must be <= 1, not 2"},
		{"layer", head + "  m:\n    uses: model\n    with:\n      layers:\n        - dense: {units: 3}\n        - dense: {units: 0}\n", "13:26", "stages.m.with.layers[1].dense.units: must be a positive integer or auto, not 0"},
		{"units not a number", head + "  m:\n    uses: model\n    with: {layers: [{dense: {units: many}}]}\n", "10:37", `must be a positive integer or auto, not "many"`},
		{"misspelt layer", head + "  m:\n    uses: model\n    with: {layers: [{dnse: {units: 3}}]}\n", "10:22", `stages.m.with.layers[0].dnse: unknown option "dnse" (did you mean "dense"?)`},
		{"missing with", head + "  s:\n    uses: shell\n", "8:3", `stages.s.with: missing "run"`},
		{"one key per step", head + "  p:\n    uses: preprocess\n    with:\n      steps:\n        - drop_missing: true\n          normalize: zscore\n", "12:11", "must have exactly one key, found 2"},
		{"one key per layer", head + "  m:\n    uses: model\n    with: {layers: [{dense: {units: 3}, dropout: 0.5}]}\n", "10:21", "stages.m.with.layers[0]: must have exactly one key, found 2"},
		{"dataset source", head + "  d:\n    uses: dataset\n    with: {features: [a]}\n", "10:11", `needs "path" (a CSV, TSV or Parquet file) or "generate"`},
		{"dataset target", head + "  d:\n    uses: dataset\n    with: {path: a.csv}\n", "10:18", `stages.d.with.path: needs "target" too`},
		{"generate kind", head + "  d:\n    uses: dataset\n    with: {generate: {kind: swirl}}\n", "10:29", `"swirl" is not one of moons, circles, blobs, xor, spiral, linear`},
		{"env name", head + "  s:\n    uses: shell\n    with: {run: x, env: {1X: a}}\n", "10:26", `bad name "1X"`},
		{"tune without target", head + "  t:\n    uses: tune\n    with: {space: {params.seed: {int: [0, 3]}}, objective: {metric: f1}}\n", "10:11", `missing "target"`},
		{"tune distribution", head + "  t:\n    uses: tune\n    with: {target: e, objective: {metric: f1}, space: {params.seed: {normal: [0, 1]}}}\n  e:\n    uses: evaluate\n", "10:70", `unknown option "normal"`},
		{"tune target unknown", head + "  evaluate:\n    uses: evaluate\n  t:\n    uses: tune\n    with:\n      target: evalute\n      objective: {metric: f1}\n      space: {params.seed: {int: [0, 3]}}\n", "13:15", `stages.t.with.target: "evalute" is not a stage (did you mean "evaluate"?)`},
		{"tune space unknown param", head + "  t:\n    uses: tune\n    with:\n      target: t2\n      objective: {metric: f1}\n      space:\n        params.train.rl: {uniform: [0, 1]}\n  t2:\n    uses: evaluate\n", "14:9", "unknown param params.train.rl"},
		{"tune asha resource", head + "  t:\n    uses: tune\n    with:\n      target: t2\n      objective: {metric: f1}\n      space: {seed: {int: [0, 3]}}\n      scheduler: {asha: {resource: params.epochs}}\n  t2:\n    uses: evaluate\n", "14:36", "unknown param params.epochs"},
		{"data names no stage", head + "  t:\n    uses: train\n    with: {data: prep}\n", "10:18", `stages.t.with.data: "prep" is not a stage`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := prepare(c.src)
			if err == nil {
				t.Fatalf("no error for\n%s", c.src)
			}
			want := "p.yaml:" + c.pos + ": "
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, want) && strings.Contains(line, c.msg) {
					return
				}
			}
			t.Errorf("want an error at %s containing %q; got:\n%v", c.pos, c.msg, err)
		})
	}
}

// TestEverySettingsMistakeIsReported: one validation names every broken setting of every stage.
func TestEverySettingsMistakeIsReported(t *testing.T) {
	err := prepare(head + "  t:\n    uses: train\n    with: {epochs: 0, loss: l2}\n  e:\n    uses: evaluate\n    with: {split: tst}\n")
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Fatalf("want 3 errors, got:\n%v", err)
	}
}

// TestOverridesAreDecodedToo: params a sweep sets are checked as the manifest's own are.
func TestOverridesAreDecodedToo(t *testing.T) {
	m, err := manifest.Parse("p.yaml", []byte(head+"  m:\n    uses: model\n    with:\n      layers: [{dense: {units: \"${params.hidden[0]}\"}}]\n"), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.WithParams(map[string]any{"hidden": []any{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	err = pipeline.Prepare(c, steps.Kinds())
	if err == nil || !strings.Contains(err.Error(), "p.yaml:11:32: stages.m.with.layers[0].dense.units: must be a positive integer or auto, not 0") {
		t.Errorf("an override that breaks a setting must fail with a position: %v", err)
	}
}

// TestValidSettings: every kind's settings, with most of their forms, pass.
func TestValidSettings(t *testing.T) {
	for _, c := range []struct{ kind, with string }{
		{"dataset", "{generate: {kind: moons, n: 200, noise: 0.1, seed: 3}, task: classification}"},
		{"model", `{layers: [{reshape: [8, 8, 1]}, {conv2d: {filters: 8, kernel: 3, padding: same, activation: relu}},
			{maxpool2d: {size: [2, 2]}}, {flatten: {}}, {batchnorm: null}, {dropout: 0.5}, {dense: {units: auto}}], init: xavier, data: prep}`},
		{"model", `{layers: [{embedding: {vocab: 100, dim: 8}}, {positional_encoding: }, {lstm: {units: 8, return_sequences: true}},
			{attention: {heads: 2, dim: 8}}, {transformer: {heads: 2, ff: 16, dropout: 0.1}}, {layernorm: {eps: 1e-6}},
			{gru: {units: 4}}, {dense: {units: 3, activation: softmax}}]}`},
		{"preprocess", `{steps: [{drop_missing: [a]}, {impute: {strategy: constant, value: 0}}, {filter: "a > 1"}, {derive: {b: a * 2}},
			{outliers: {method: iqr}}, {encode: {method: ordinal}}, {split: {test: 0.2, val: 0.1, stratify: true}}, {normalize: robust},
			{augment: {noise: {std: 0.1}, oversample: minority}}]}`},
		{"train", "{lr_schedule: {cosine: {}}, data: prep, model: prep, clip_grad: 1.0, early_stopping: {monitor: val_loss}}"},
		{"evaluate", "{metrics: [r2, rmse], average: weighted, assert: ['r2 > 0.5']}"},
		{"shell", "{run: make, env: {SEED: 3, LR: 0.1, NAME: x, ON: true}, metrics: m.json}"},
		{"tune", "{target: prep, objective: {metric: f1}, space: {'params.hidden[0]': {int: [4, 64]}, train.lr: {uniform: [0.1, 0.2]}}, method: tpe, parallel: 2}"},
	} {
		src := head + "  prep:\n    uses: shell\n    with: {run: x}\n  s:\n    uses: " + c.kind + "\n    with: " + c.with + "\n"
		if err := prepare(src); err != nil {
			t.Errorf("%s: %v", c.kind, err)
		}
	}
}

// TestExamplesAndRejectsAgreeWithTheSchema checks the generated schema against the decoding,
// with a maintained validator: every example is valid as written, and what decoding rejects
// in a settings type the resolved schema rejects too.
func TestExamplesAndRejectsAgreeWithTheSchema(t *testing.T) {
	written, resolved := compileSchema(t, schemas.JSON), compileSchema(t, schemas.Resolved)
	files, _ := filepath.Glob("../examples/*/pipeline.yaml")
	files = append(files, "../pipeline/manifest/testdata/full.yaml")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := written.Validate(asJSON(t, src)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for name, stage := range map[string]string{
		"enum":          "  t:\n    uses: train\n    with:\n      optimizer: {name: adamm}\n",
		"unknown":       "  t:\n    uses: evaluate\n    with:\n      metric: [f1]\n",
		"layer":         "  m:\n    uses: model\n    with:\n      layers: [{dense: {units: 0}}]\n",
		"missing with":  "  s:\n    uses: shell\n",
		"two keys":      "  p:\n    uses: preprocess\n    with:\n      steps: [{drop_missing: true, filter: x}]\n",
		"tune space":    "  t:\n    uses: tune\n    with: {target: a, objective: {metric: f1}, space: {params.x: {normal: [0, 1]}}}\n",
		"dataset":       "  d:\n    uses: dataset\n    with: {path: a.csv}\n",
		"generate kind": "  d:\n    uses: dataset\n    with: {generate: {kind: swirl}}\n",
		"size2":         "  m:\n    uses: model\n    with:\n      layers: [{maxpool2d: {size: [2, 2, 2]}}]\n",
		"env name":      "  s:\n    uses: shell\n    with: {run: x, env: {1X: a}}\n",
	} {
		src := head + stage
		if prepare(src) == nil {
			t.Errorf("%s: decoding accepted it", name)
		}
		if resolved.Validate(asJSON(t, []byte(src))) == nil {
			t.Errorf("%s: the schema accepted it", name)
		}
	}
}

func compileSchema(t *testing.T, schema []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemas.URL, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(schemas.URL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// asJSON turns a YAML document into the values a JSON Schema validator takes.
func asJSON(t *testing.T, src []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(src, &v); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(&b)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
