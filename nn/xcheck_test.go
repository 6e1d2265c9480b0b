package nn

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestExportForPyTorch writes two networks with random weights (an image model and a
// sequence model), a batch of inputs and their predictions to $LOOM_XCHECK_DIR, for
// testdata/xcheck_torch.py to load into PyTorch modules and compare. Skipped unless the
// variable is set: the project never needs Python.
func TestExportForPyTorch(t *testing.T) {
	dir := os.Getenv("LOOM_XCHECK_DIR")
	if dir == "" {
		t.Skip("LOOM_XCHECK_DIR not set")
	}
	for name, spec := range map[string]Spec{
		"image": {Inputs: 16, Seed: 3, Layers: []LayerSpec{
			{Type: LayerReshape, Dims: []int{4, 4, 1}},
			{Type: LayerConv2D, Filters: 3, Kernel: []int{3}, Padding: "1", Activation: "relu"},
			{Type: LayerConv2D, Filters: 2, Kernel: []int{2, 3}, Stride: []int{1, 2}, Padding: "same"},
			{Type: LayerMaxPool2D, Size: []int{2}},
			{Type: LayerFlatten},
			{Type: LayerDense, Units: 2},
		}},
		"sequence": {Inputs: 20, Seed: 4, Layers: []LayerSpec{
			{Type: LayerReshape, Dims: []int{5, 4}},
			{Type: LayerLSTM, Units: 6, ReturnSequences: true},
			{Type: LayerGRU, Units: 5, ReturnSequences: true},
			{Type: LayerSimpleRNN, Units: 4, ReturnSequences: true},
			{Type: LayerTransformer, Heads: 2, FF: 8},
			{Type: LayerAttention, Heads: 2, Causal: true},
			{Type: LayerLayerNorm},
			{Type: LayerGlobalAvgPool},
			{Type: LayerDense, Units: 1},
		}},
	} {
		net := mustNew(t, spec)
		copy(net.params[net.nReg:], randInputs(9, len(net.params)-net.nReg)) // non-trivial biases and norms
		x := randInputs(10, 3*spec.Inputs)
		f, err := os.Create(filepath.Join(dir, name+".safetensors"))
		if err != nil {
			t.Fatal(err)
		}
		if err := net.Save(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		b, _ := json.Marshal(map[string]any{"x": x, "y": net.Predict(x, 3)})
		if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
