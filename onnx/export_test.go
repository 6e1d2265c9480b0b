package onnx

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/loom-ml/loom/bundle"
	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/onnx/reference"
	"github.com/loom-ml/loom/steps/frame"
)

// data makes a frame of width numeric columns (a few cells missing) and a target with classes
// classes (0 for regression), with every row in Train.
func data(t *testing.T, rows, width, classes int, categorical bool) *frame.Frame {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var cols []*frame.Column
	for j := range width {
		c := &frame.Column{Name: "f" + string(rune('a'+j)), Kind: frame.Numeric, Num: make([]float64, rows)}
		for i := range c.Num {
			c.Num[i] = rng.NormFloat64()*float64(j+1) + float64(j)
			if (i+j)%17 == 3 {
				c.Num[i] = math.NaN()
			}
		}
		cols = append(cols, c)
	}
	if categorical {
		c := &frame.Column{Name: "colour", Kind: frame.Categorical, Str: make([]string, rows)}
		for i := range c.Str {
			c.Str[i] = []string{"red", "green", "blue"}[i%3]
		}
		cols = append(cols, c)
	}
	y := &frame.Column{Name: "y", Kind: frame.Numeric, Num: make([]float64, rows)}
	for i := range y.Num {
		if classes > 0 {
			y.Num[i] = float64(i % classes)
		} else {
			y.Num[i] = rng.Float64()
		}
	}
	task := "classification"
	if classes == 0 {
		task = "regression"
	}
	fr, err := frame.New(append(cols, y), "y", task)
	if err != nil {
		t.Fatal(err)
	}
	return fr
}

func apply(t *testing.T, fr *frame.Frame, steps ...frame.Step) {
	t.Helper()
	for _, s := range steps {
		if err := s.Apply(fr); err != nil {
			t.Fatal(err)
		}
	}
}

func network(t *testing.T, inputs int, layers ...nn.LayerSpec) *nn.Network {
	t.Helper()
	net, err := nn.New(nn.Spec{Inputs: inputs, Seed: 7, Layers: layers})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// check exports b, evaluates the model's bytes on input (raw columns or the network's input)
// and compares with the bundle's own predictions of fr.
func check(t *testing.T, b *bundle.Bundle, fr *frame.Frame, wantInput string) {
	t.Helper()
	raw := fr.Clone() // as it came, for the graph's input
	model, err := Export(b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := reference.Decode(model)
	if err != nil {
		t.Fatal(err)
	}
	if m.Opset != 13 || m.Metadata["loom.classes"] != strings.Join(b.Classes, ",") {
		t.Errorf("opset %d, metadata %v", m.Opset, m.Metadata)
	}
	cols := strings.Split(m.Metadata["loom.features"], ",")
	if wantInput != "" && m.Metadata["loom.features"] != wantInput {
		t.Errorf("loom.features = %s, want %s", m.Metadata["loom.features"], wantInput)
	}
	var x []float32
	if cols[0] == b.Features[0] && len(cols) == len(b.Features) && wantInput == strings.Join(b.Features, ",") {
		if x, err = b.Matrix(fr.Clone()); err != nil {
			t.Fatal(err)
		}
	} else {
		for r := range raw.Rows() {
			for _, c := range cols {
				x = append(x, float32(raw.Column(c).Num[r]))
			}
		}
	}
	preds, err := b.Score(fr.Clone())
	if err != nil {
		t.Fatal(err)
	}
	rows := fr.Rows()
	got, err := m.Run(&reference.Value{Dims: []int{rows, len(cols)}, Data: x})
	if err != nil {
		t.Fatal(err)
	}
	width := len(got.Data) / rows
	worst := 0.0
	for r := range rows {
		for k := range width {
			var want float32
			if b.Task == string(frame.Classification) {
				want = preds.Prob(r, k)
			} else {
				want = preds.Out[r]
			}
			worst = max(worst, math.Abs(float64(got.Data[r*width+k]-want)))
		}
	}
	if worst > 1e-5 {
		t.Errorf("ONNX and loom differ by up to %g", worst)
	}
}

// TestNumericPreprocessingInTheGraph: impute, normalize and drop become graph nodes, and the
// graph takes the raw columns, NaN for missing.
func TestNumericPreprocessingInTheGraph(t *testing.T) {
	fr := data(t, 50, 4, 2, false)
	apply(t, fr, frame.Impute{Strategy: "median", Columns: []string{"fa", "fb", "fc"}}, frame.Drop{Columns: []string{"fd"}},
		frame.Normalize{Method: "zscore"}, frame.Impute{Strategy: "mean"})
	net := network(t, 3, nn.LayerSpec{Type: "dense", Units: 6, Activation: "relu"}, nn.LayerSpec{Type: "dropout", Rate: 0.3},
		nn.LayerSpec{Type: "batchnorm"}, nn.LayerSpec{Type: "dense", Units: 5, Activation: "tanh"},
		nn.LayerSpec{Type: "dense", Units: 4, Activation: "leaky_relu"}, nn.LayerSpec{Type: "dense", Units: 4, Activation: "gelu"},
		nn.LayerSpec{Type: "dense", Units: 1, Activation: "sigmoid"})
	b, err := bundle.New(net, fr)
	if err != nil {
		t.Fatal(err)
	}
	input := data(t, 50, 4, 2, false)
	input.Columns = input.Columns[:4] // new data: no target
	input.Target = ""
	check(t, b, input, "fa,fb,fc,fd")
}

// TestEncodedInput: a categorical column keeps the preprocessing out of the graph, which takes
// the network's input, whose columns the metadata lists.
func TestEncodedInput(t *testing.T) {
	fr := data(t, 40, 2, 3, true)
	apply(t, fr, frame.Impute{Strategy: "mean"}, frame.Encode{Columns: []string{"colour"}}, frame.Normalize{Method: "minmax"})
	net := network(t, 5, nn.LayerSpec{Type: "dense", Units: 8, Activation: "relu"}, nn.LayerSpec{Type: "dense", Units: 3, Activation: "softmax"})
	b, err := bundle.New(net, fr)
	if err != nil {
		t.Fatal(err)
	}
	input := data(t, 40, 2, 3, true)
	input.Columns = input.Columns[:3]
	check(t, b, input, strings.Join(b.Features, ","))
}

// TestImagesAndRegression: reshape, conv2d (same and valid padding, strides), batchnorm on
// channels, max and average pooling, flatten, and a linear output.
func TestImagesAndRegression(t *testing.T) {
	fr := data(t, 12, 36, 0, false)
	apply(t, fr, frame.Impute{Strategy: "mean"})
	net := network(t, 36,
		nn.LayerSpec{Type: "reshape", Dims: []int{6, 6, 1}},
		nn.LayerSpec{Type: "conv2d", Filters: 3, Kernel: []int{3, 3}, Padding: "same", Activation: "relu"},
		nn.LayerSpec{Type: "batchnorm"},
		nn.LayerSpec{Type: "maxpool2d", Size: []int{2, 2}},
		nn.LayerSpec{Type: "conv2d", Filters: 2, Kernel: []int{2, 2}, Stride: []int{1, 1}, Padding: "1", Activation: "tanh"},
		nn.LayerSpec{Type: "avgpool2d", Size: []int{2, 2}},
		nn.LayerSpec{Type: "flatten"},
		nn.LayerSpec{Type: "dense", Units: 1})
	b, err := bundle.New(net, fr)
	if err != nil {
		t.Fatal(err)
	}
	input := data(t, 12, 36, 0, false)
	input.Columns = input.Columns[:36]
	check(t, b, input, "")
}

func TestUnsupportedLayerIsNamed(t *testing.T) {
	fr := data(t, 10, 4, 2, false)
	apply(t, fr, frame.Impute{Strategy: "mean"})
	net := network(t, 4, nn.LayerSpec{Type: "reshape", Dims: []int{2, 2}}, nn.LayerSpec{Type: "lstm", Units: 3}, nn.LayerSpec{Type: "dense", Units: 1, Activation: "sigmoid"})
	b, err := bundle.New(net, fr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Export(b); err == nil || !strings.Contains(err.Error(), "layer 0 (reshape)") && !strings.Contains(err.Error(), "layer 1 (lstm)") {
		t.Errorf("got %v", err)
	}
}
