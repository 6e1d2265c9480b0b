package steps_test

import (
	"math"
	"strings"
	"testing"

	"github.com/loom-ml/loom/nn/privacy"
	"github.com/loom-ml/loom/pipeline"
)

// privatePipeline trains on 400 generated rows (320 after the split) with DP-SGD, given a
// noise multiplier in one train stage and a budget in the other.
const privatePipeline = `version: 1
name: private
stages:
  load: {uses: dataset, with: {generate: {kind: blobs, n: 400, features: 4, classes: 2, seed: 1}}}
  prep: {uses: preprocess, needs: [load], with: {steps: [{split: {test: 0.2, seed: 1}}, {normalize: zscore}]}}
  build: {uses: model, needs: [prep], with: {layers: [{dense: {units: 8, activation: relu}}, {dense: {units: auto}}], seed: 1}}
  noisy:
    uses: train
    needs: [prep, build]
    with: {epochs: 6, batch_size: 32, seed: 1, optimizer: {name: sgd, lr: 0.2}, privacy: {noise_multiplier: 1.3, max_grad_norm: 1}}
  budget:
    uses: train
    needs: [prep, build]
    with: {epochs: 6, batch_size: 32, seed: 1, optimizer: {name: sgd, lr: 0.2}, privacy: {target_epsilon: 2, max_grad_norm: 1, delta: 1.0e-4}}
  score: {uses: evaluate, needs: [prep, noisy], with: {metrics: [accuracy]}}
`

// TestTrainPrivacyFromYAML: the ε a train stage reports is the accountant's for the steps it
// took (6 epochs of ⌈320/32⌉ = 10 steps at rate 32/320), a budget is met within Opacus's
// tolerance, and the model still separates two blobs.
func TestTrainPrivacyFromYAML(t *testing.T) {
	m := mustSucceed(t, run(t, map[string]string{"pipeline.yaml": privatePipeline}))
	want, _ := privacy.Epsilon(0.1, 1.3, 60, 1e-5)
	if got := m["noisy"]["epsilon"]; math.Abs(got-want) > 1e-9 || m["noisy"]["delta"] != 1e-5 {
		t.Errorf("noisy: ε = %g, δ = %g, want %g and 1e-5", got, m["noisy"]["delta"], want)
	}
	if got := m["budget"]["epsilon"]; got > 2 || got < 2-0.01 {
		t.Errorf("budget: ε = %g, want within 0.01 below 2", got)
	}
	sigma := m["budget"]["noise_multiplier"]
	if eps, _ := privacy.Epsilon(0.1, sigma, 60, 1e-4); math.Abs(eps-m["budget"]["epsilon"]) > 1e-9 {
		t.Errorf("budget: σ = %g gives ε = %g, the stage says %g", sigma, eps, m["budget"]["epsilon"])
	}
	if acc := m["score"]["accuracy"]; acc < 0.9 {
		t.Errorf("accuracy %g on two blobs", acc)
	}
}

func TestPrivacySettingErrors(t *testing.T) {
	for _, tc := range []struct{ train, want string }{
		{"privacy: {noise_multiplier: 1, target_epsilon: 3, max_grad_norm: 1}",
			"pipeline.yaml:7:53: stages.t.with.privacy: give noise_multiplier or target_epsilon, exactly one"},
		{"privacy: {noise_multiplier: 1}",
			`pipeline.yaml:7:53: stages.t.with.privacy: missing "max_grad_norm"`},
		{"clip_grad: 1, privacy: {noise_multiplier: 1, max_grad_norm: 1}",
			"pipeline.yaml:7:64: clip_grad does not apply with privacy"},
	} {
		src := "version: 1\nname: x\nstages:\n  d: {uses: dataset, with: {generate: {kind: blobs, n: 50}}}\n" +
			"  m: {uses: model, needs: [d], with: {layers: [{dense: {units: 4}}, {dense: {units: auto}}]}}\n" +
			"  # the train stage\n" +
			"  t: {uses: train, needs: [d, m], with: {epochs: 1, " + tc.train + "}}\n"
		if err := prepareError(t, src); !strings.Contains(err, tc.want) {
			t.Errorf("%s: got %v, want %q", tc.train, err, tc.want)
		}
	}
}

// TestPrivacyRefusesBatchnorm: the stage fails before training, naming the layer and why.
func TestPrivacyRefusesBatchnorm(t *testing.T) {
	rep := run(t, map[string]string{"pipeline.yaml": `version: 1
name: bn
stages:
  d: {uses: dataset, with: {generate: {kind: blobs, n: 50}}}
  m: {uses: model, needs: [d], with: {layers: [{dense: {units: 4}}, {batchnorm: {}}, {dense: {units: auto}}]}}
  t: {uses: train, needs: [d, m], with: {epochs: 1, privacy: {noise_multiplier: 1, max_grad_norm: 1}}}
`})
	for _, s := range rep.Stages {
		if s.Name == "t" {
			if s.Status != pipeline.Failed || !strings.Contains(s.Err.Error(), "layer 2 (batchnorm) is not compatible with privacy") {
				t.Errorf("t: %s, %v", s.Status, s.Err)
			}
			return
		}
	}
	t.Error("no stage t in the report")
}
