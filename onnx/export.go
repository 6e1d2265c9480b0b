// Package onnx writes a model bundle as an ONNX model (opset 13): one float input "features"
// [N, F] and one output, "probabilities" [N, K] for classification (columns in the order of
// the classes, with one sigmoid unit expanded to [1 − p, p]) or "prediction" [N, 1] for
// regression. When every input column is numeric and the preprocessing is impute, normalize,
// select and drop only, the graph includes it and takes the raw columns; otherwise it takes
// the network's input. The metadata_props "loom.features" and "loom.classes" list the input's
// columns and the classes, comma-separated.
package onnx

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/loom-ml/loom/bundle"
	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/steps/frame"
)

// Export returns b as the bytes of an ONNX model, or an error naming what ONNX cannot hold.
func Export(b *bundle.Bundle) ([]byte, error) {
	weights, err := tensorsOf(b.Net)
	if err != nil {
		return nil, err
	}
	e := &exporter{weights: weights}
	x, features := e.preprocess(b)
	spec, infos := b.Net.Spec(), b.Net.Layers()
	in := []int{spec.Inputs}
	for i, l := range spec.Layers {
		if x, err = e.layer(x, i, l, in, infos[i].Shape); err != nil {
			return nil, err
		}
		in = infos[i].Shape
	}
	x = e.flatten(x)
	out := "prediction"
	if frame.Task(b.Task) == frame.Classification {
		out = "probabilities"
		if b.Net.Outputs() == 1 { // a sigmoid unit: the classes are [1 - p, p]
			one := e.constant("one", []int64{1}, []float32{1})
			x = e.op("Concat", []string{e.op("Sub", []string{one, x}), x}, intAttr("axis", 1))
		}
	}
	e.g.nodes = append(e.g.nodes, node{op: "Identity", inputs: []string{x}, outputs: []string{out}})
	e.g.inputs = []valueInfo{{"features", int64(len(features))}}
	e.g.output = []valueInfo{{out, int64(max(b.Net.Outputs(), len(b.Classes)))}}
	m := model{graph: e.g, metadata: [][2]string{
		{"loom.features", strings.Join(features, ",")},
		{"loom.classes", strings.Join(b.Classes, ",")},
		{"loom.target", b.Target},
	}}
	return m.marshal(), nil
}

type exporter struct {
	g       graph
	n       int
	weights map[string]weight
	layout  string // of the current value: "flat" [N, F], "nhwc" or "nchw"
}

// op adds a node and returns its output's name.
func (e *exporter) op(op string, inputs []string, attrs ...attribute) string {
	e.n++
	out := fmt.Sprintf("%s_%d", strings.ToLower(op), e.n)
	e.g.nodes = append(e.g.nodes, node{op: op, inputs: inputs, outputs: []string{out}, attrs: attrs})
	return out
}

func (e *exporter) constant(name string, dims []int64, v []float32) string {
	e.n++
	name = fmt.Sprintf("%s_%d", name, e.n)
	e.g.initializers = append(e.g.initializers, tensor{name: name, dims: dims, floats: v})
	return name
}

func (e *exporter) ints(name string, v []int64) string {
	e.n++
	name = fmt.Sprintf("%s_%d", name, e.n)
	e.g.initializers = append(e.g.initializers, tensor{name: name, dims: []int64{int64(len(v))}, ints: v})
	return name
}

// weightOf adds the network tensor name as an initializer.
func (e *exporter) weightOf(name string) string {
	w := e.weights[name]
	dims := make([]int64, len(w.shape))
	for i, d := range w.shape {
		dims[i] = int64(d)
	}
	e.g.initializers = append(e.g.initializers, tensor{name: name, dims: dims, floats: w.data})
	return name
}

func intAttr(name string, v int64) attribute { return attribute{name: name, kind: attrInt, i: v} }
func intsAttr(name string, v ...int64) attribute {
	return attribute{name: name, kind: attrInts, ints: v}
}

// preprocess returns the value the network reads and the graph input's columns: the raw
// columns with the fitted impute and normalize steps as graph nodes when the bundle's
// preprocessing allows, else the network's input itself.
func (e *exporter) preprocess(b *bundle.Bundle) (string, []string) {
	e.layout = "flat"
	if !numericOnly(b) {
		return "features", b.Features
	}
	names := make([]string, len(b.Fields))
	pos := map[string]int{}
	for i, f := range b.Fields {
		names[i], pos[f.Name] = f.Name, i
	}
	x, w := "features", len(names)
	for i := 0; i < len(b.Transforms); {
		op := b.Transforms[i].Op
		j := i
		for j < len(b.Transforms) && b.Transforms[j].Op == op {
			j++
		}
		group := b.Transforms[i:j]
		switch op {
		case "impute": // Where(IsNaN(x), fill, x); NaN fill leaves the other columns as they are
			fill := filled(w, float32(math.NaN()))
			for _, t := range group {
				fill[pos[t.Column]] = parseFill(t.Fill)
			}
			x = e.op("Where", []string{e.op("IsNaN", []string{x}), e.constant("fill", []int64{int64(w)}, fill), x})
		case "normalize": // (x - center) / scale
			center, scale := filled(w, 0), filled(w, 1)
			for _, t := range group {
				center[pos[t.Column]], scale[pos[t.Column]] = float32(t.Center), float32(t.Scale)
			}
			x = e.op("Sub", []string{x, e.constant("center", []int64{int64(w)}, center)})
			x = e.op("Div", []string{x, e.constant("scale", []int64{int64(w)}, scale)})
		}
		i = j
	}
	idx := make([]int64, len(b.Features))
	for i, f := range b.Features {
		idx[i] = int64(pos[f])
	}
	if !slices.Equal(b.Features, names) {
		x = e.op("Gather", []string{x, e.ints("columns", idx)}, intAttr("axis", 1))
	}
	return x, names
}

// numericOnly reports whether the graph can take the raw columns: every field numeric, and
// every transform one the graph replays (select and drop only choose columns).
func numericOnly(b *bundle.Bundle) bool {
	for _, f := range b.Fields {
		if f.Kind != frame.Numeric.String() {
			return false
		}
	}
	for _, t := range b.Transforms {
		switch t.Op {
		case "impute", "normalize", "select", "drop":
		default:
			return false
		}
	}
	return true
}

func filled(n int, v float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func parseFill(s string) float32 {
	var v float64
	fmt.Sscan(s, &v)
	return float32(v)
}

// layer adds layer i of the network, whose input has shape in (per sample).
func (e *exporter) layer(x string, i int, l nn.LayerSpec, in, out []int) (string, error) {
	p := fmt.Sprintf("layers.%d.", i)
	switch l.Type {
	case nn.LayerDense:
		x = e.flatten(x)
		x = e.op("Gemm", []string{x, e.weightOf(p + "weight"), e.weightOf(p + "bias")}, intAttr("transB", 1))
		return e.activation(x, l)
	case nn.LayerActivation:
		return e.activation(x, l)
	case nn.LayerDropout: // the identity at inference
		return x, nil
	case nn.LayerBatchNorm:
		if e.layout == "nhwc" {
			x = e.toNCHW(x)
		}
		return e.op("BatchNormalization", []string{x, e.weightOf(p + "weight"), e.weightOf(p + "bias"),
			e.weightOf(p + "running_mean"), e.weightOf(p + "running_var")},
			attribute{name: "epsilon", kind: attrFloat, f: float32(l.Eps)}), nil
	case nn.LayerReshape:
		if len(out) != 3 && len(out) != 1 {
			break
		}
		x = e.flatten(x)
		dims := []int64{-1}
		for _, d := range out {
			dims = append(dims, int64(d))
		}
		e.layout = map[int]string{1: "flat", 3: "nhwc"}[len(out)]
		return e.op("Reshape", []string{x, e.ints("shape", dims)}), nil
	case nn.LayerFlatten:
		return e.flatten(x), nil
	case "conv2d":
		x = e.toNCHW(x)
		pt, pl, pb, pr := convPads(l, in)
		x = e.op("Conv", []string{x, e.weightOf(p + "weight"), e.weightOf(p + "bias")},
			intsAttr("kernel_shape", int64(l.Kernel[0]), int64(l.Kernel[1])),
			intsAttr("strides", int64(l.Stride[0]), int64(l.Stride[1])),
			intsAttr("pads", pt, pl, pb, pr))
		return e.activation(x, l)
	case "maxpool2d", "avgpool2d":
		x = e.toNCHW(x)
		op := map[string]string{"maxpool2d": "MaxPool", "avgpool2d": "AveragePool"}[l.Type]
		return e.op(op, []string{x}, intsAttr("kernel_shape", int64(l.Size[0]), int64(l.Size[1])),
			intsAttr("strides", int64(l.Size[0]), int64(l.Size[1]))), nil
	}
	return "", fmt.Errorf("layer %d (%s) has no ONNX form in this loom; export --format bundle instead", i, l.Type)
}

// convPads returns a conv2d's zero padding [top, left, bottom, right] on an input [h, w, c]:
// for same, the odd pixel at the bottom/right, as nn computes it.
func convPads(l nn.LayerSpec, in []int) (int64, int64, int64, int64) {
	if l.Padding != "same" {
		var p int64
		fmt.Sscan(l.Padding, &p)
		return p, p, p, p
	}
	total := func(size, k, s int) int64 {
		outSize := (size + s - 1) / s
		return int64(max((outSize-1)*s+k-size, 0))
	}
	th, tw := total(in[0], l.Kernel[0], l.Stride[0]), total(in[1], l.Kernel[1], l.Stride[1])
	return th / 2, tw / 2, th - th/2, tw - tw/2
}

// toNCHW puts an image in ONNX's layout; nn keeps images channels-last.
func (e *exporter) toNCHW(x string) string {
	if e.layout == "nhwc" {
		x = e.op("Transpose", []string{x}, intsAttr("perm", 0, 3, 1, 2))
	}
	e.layout = "nchw"
	return x
}

// flatten makes the value [N, F] with the features in nn's (channels-last, row-major) order.
func (e *exporter) flatten(x string) string {
	switch e.layout {
	case "nchw":
		x = e.op("Transpose", []string{x}, intsAttr("perm", 0, 2, 3, 1))
		fallthrough
	case "nhwc":
		x = e.op("Flatten", []string{x}, intAttr("axis", 1))
	}
	e.layout = "flat"
	return x
}

func (e *exporter) activation(x string, l nn.LayerSpec) (string, error) {
	switch l.Activation {
	case "", "linear":
		return x, nil
	case "relu":
		return e.op("Relu", []string{x}), nil
	case "sigmoid":
		return e.op("Sigmoid", []string{x}), nil
	case "tanh":
		return e.op("Tanh", []string{x}), nil
	case "leaky_relu":
		return e.op("LeakyRelu", []string{x}, attribute{name: "alpha", kind: attrFloat, f: float32(l.Alpha)}), nil
	case "softmax":
		if e.layout != "flat" {
			return "", fmt.Errorf("softmax over an image has no ONNX form in this loom")
		}
		return e.op("Softmax", []string{x}, intAttr("axis", 1)), nil
	case "gelu": // 0.5 x (1 + erf(x / √2)), as nn computes it
		half := e.constant("half", []int64{1}, []float32{0.5})
		one := e.constant("one", []int64{1}, []float32{1})
		root2 := e.constant("sqrt2", []int64{1}, []float32{math.Sqrt2})
		erf := e.op("Erf", []string{e.op("Div", []string{x, root2})})
		return e.op("Mul", []string{e.op("Mul", []string{x, half}), e.op("Add", []string{erf, one})}), nil
	}
	return "", fmt.Errorf("activation %q has no ONNX form in this loom", l.Activation)
}

// weight is one tensor of the network, in the layout nn saves (PyTorch's).
type weight struct {
	shape []int
	data  []float32
}

// tensorsOf reads the network's tensors from its safetensors form, which has PyTorch's layouts,
// the ones ONNX's operators take too.
func tensorsOf(net *nn.Network) (map[string]weight, error) {
	var buf bytes.Buffer
	if err := net.Save(&buf); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	hl := binary.LittleEndian.Uint64(b)
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+hl], &header); err != nil {
		return nil, err
	}
	data := b[8+hl:]
	out := map[string]weight{}
	for name, raw := range header {
		var info struct {
			Dtype   string `json:"dtype"`
			Shape   []int  `json:"shape"`
			Offsets [2]int `json:"data_offsets"`
		}
		if name == "__metadata__" || json.Unmarshal(raw, &info) != nil || info.Dtype != "F32" {
			continue
		}
		w := weight{shape: info.Shape, data: make([]float32, (info.Offsets[1]-info.Offsets[0])/4)}
		for i := range w.data {
			w.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[info.Offsets[0]+4*i:]))
		}
		out[name] = w
	}
	return out, nil
}
