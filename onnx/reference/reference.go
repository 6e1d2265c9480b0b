// Package reference evaluates the ONNX models that package onnx writes, for tests: written from
// the ONNX operator specification and reading a model's bytes, so that a test checks the
// encoding and the graph's meaning without sharing code with nn.
package reference

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// Model is a model read back from its bytes.
type Model struct {
	nodes    []node
	inits    map[string]*Value
	input    string
	output   string
	Metadata map[string]string // metadata_props
	Opset    int64
}

type node struct {
	op      string
	inputs  []string
	outputs []string
	attrs   []attribute
}

type attribute struct {
	name string
	kind int
	f    float32
	i    int64
	ints []int64
}

const typeInt64 = 7

// Value is a dense float32 tensor (int64 tensors are held as floats: they are small indices).
type Value struct {
	Dims []int
	Data []float32
}

func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			f(num, typ, nil, x)
			b = b[n:]
		case protowire.Fixed32Type:
			x, n := protowire.ConsumeFixed32(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			f(num, typ, nil, uint64(x))
			b = b[n:]
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			f(num, typ, v, 0)
			b = b[n:]
		default:
			return fmt.Errorf("wire type %d", typ)
		}
	}
	return nil
}

// Decode reads a model.
func Decode(b []byte) (*Model, error) {
	d := &Model{inits: map[string]*Value{}, Metadata: map[string]string{}}
	var graph []byte
	err := fields(b, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) {
		switch num {
		case 7:
			graph = v
		case 8:
			fields(v, func(num protowire.Number, _ protowire.Type, _ []byte, x uint64) {
				if num == 2 {
					d.Opset = int64(x)
				}
			})
		case 14:
			var k, val string
			fields(v, func(num protowire.Number, _ protowire.Type, s []byte, _ uint64) {
				if num == 1 {
					k = string(s)
				} else {
					val = string(s)
				}
			})
			d.Metadata[k] = val
		}
	})
	if err != nil {
		return nil, err
	}
	return d, fields(graph, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) {
		switch num {
		case 1:
			d.nodes = append(d.nodes, decodeNode(v))
		case 5:
			name, t := decodeTensor(v)
			d.inits[name] = t
		case 11, 12:
			var name string
			fields(v, func(num protowire.Number, _ protowire.Type, s []byte, _ uint64) {
				if num == 1 {
					name = string(s)
				}
			})
			if num == 11 {
				d.input = name
			} else {
				d.output = name
			}
		}
	})
}

func decodeNode(b []byte) node {
	var n node
	fields(b, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) {
		switch num {
		case 1:
			n.inputs = append(n.inputs, string(v))
		case 2:
			n.outputs = append(n.outputs, string(v))
		case 4:
			n.op = string(v)
		case 5:
			var a attribute
			fields(v, func(num protowire.Number, _ protowire.Type, s []byte, x uint64) {
				switch num {
				case 1:
					a.name = string(s)
				case 2:
					a.f = math.Float32frombits(uint32(x))
				case 3:
					a.i = int64(x)
				case 8:
					a.ints = append(a.ints, int64(x))
				case 20:
					a.kind = int(x)
				}
			})
			n.attrs = append(n.attrs, a)
		}
	})
	return n
}

func decodeTensor(b []byte) (string, *Value) {
	var name string
	var typ uint64
	t := &Value{}
	var raw []byte
	fields(b, func(num protowire.Number, _ protowire.Type, v []byte, x uint64) {
		switch num {
		case 1:
			t.Dims = append(t.Dims, int(x))
		case 2:
			typ = x
		case 8:
			name = string(v)
		case 9:
			raw = v
		}
	})
	if typ == typeInt64 {
		for i := 0; i+8 <= len(raw); i += 8 {
			t.Data = append(t.Data, float32(int64(binary.LittleEndian.Uint64(raw[i:]))))
		}
	} else {
		for i := 0; i+4 <= len(raw); i += 4 {
			t.Data = append(t.Data, math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
		}
	}
	return name, t
}

func (n node) attr(name string) attribute {
	for _, a := range n.attrs {
		if a.name == name {
			return a
		}
	}
	return attribute{}
}

// Run evaluates the model on x [rows, width].
func (d *Model) Run(x *Value) (*Value, error) {
	env := map[string]*Value{d.input: x}
	for k, v := range d.inits {
		env[k] = v
	}
	for _, n := range d.nodes {
		in := make([]*Value, len(n.inputs))
		for i, name := range n.inputs {
			if in[i] = env[name]; in[i] == nil {
				return nil, fmt.Errorf("%s: no value %q", n.op, name)
			}
		}
		out, err := evalNode(n, in)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", n.op, err)
		}
		env[n.outputs[0]] = out
	}
	return env[d.output], nil
}

func size(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// broadcast applies f elementwise to a and b with numpy broadcasting of b's trailing dims.
func broadcast(a, b *Value, f func(x, y float32) float32) *Value {
	if size(b.Dims) > size(a.Dims) {
		out := broadcast(b, a, func(x, y float32) float32 { return f(y, x) })
		return out
	}
	out := &Value{Dims: a.Dims, Data: make([]float32, len(a.Data))}
	m := len(b.Data)
	for i, v := range a.Data {
		out.Data[i] = f(v, b.Data[i%m])
	}
	return out
}

func unary(a *Value, f func(float64) float64) *Value {
	out := &Value{Dims: a.Dims, Data: make([]float32, len(a.Data))}
	for i, v := range a.Data {
		out.Data[i] = float32(f(float64(v)))
	}
	return out
}

func evalNode(n node, in []*Value) (*Value, error) {
	switch n.op {
	case "Identity":
		return in[0], nil
	case "Relu":
		return unary(in[0], func(x float64) float64 { return math.Max(x, 0) }), nil
	case "Sigmoid":
		return unary(in[0], func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }), nil
	case "Tanh":
		return unary(in[0], math.Tanh), nil
	case "Erf":
		return unary(in[0], math.Erf), nil
	case "IsNaN":
		return unary(in[0], func(x float64) float64 {
			if math.IsNaN(x) {
				return 1
			}
			return 0
		}), nil
	case "LeakyRelu":
		alpha := float64(n.attr("alpha").f)
		return unary(in[0], func(x float64) float64 {
			if x < 0 {
				return alpha * x
			}
			return x
		}), nil
	case "Add":
		return broadcast(in[0], in[1], func(x, y float32) float32 { return x + y }), nil
	case "Sub":
		return broadcast(in[0], in[1], func(x, y float32) float32 { return x - y }), nil
	case "Mul":
		return broadcast(in[0], in[1], func(x, y float32) float32 { return x * y }), nil
	case "Div":
		return broadcast(in[0], in[1], func(x, y float32) float32 { return x / y }), nil
	case "Where":
		out := &Value{Dims: in[2].Dims, Data: make([]float32, len(in[2].Data))}
		for i, c := range in[0].Data {
			out.Data[i] = in[2].Data[i]
			if c != 0 {
				out.Data[i] = in[1].Data[i%len(in[1].Data)]
			}
		}
		return out, nil
	case "Gather": // axis 1 of a matrix
		rows, w := in[0].Dims[0], in[0].Dims[1]
		idx := in[1].Data
		out := &Value{Dims: []int{rows, len(idx)}, Data: make([]float32, rows*len(idx))}
		for r := range rows {
			for j, k := range idx {
				out.Data[r*len(idx)+j] = in[0].Data[r*w+int(k)]
			}
		}
		return out, nil
	case "Concat": // axis 1 of matrices
		rows := in[0].Dims[0]
		w := 0
		for _, v := range in {
			w += v.Dims[1]
		}
		out := &Value{Dims: []int{rows, w}}
		for r := range rows {
			for _, v := range in {
				out.Data = append(out.Data, v.Data[r*v.Dims[1]:(r+1)*v.Dims[1]]...)
			}
		}
		return out, nil
	case "Gemm": // A [N, K] · Bᵀ (B [M, K]) + C
		a, b, c := in[0], in[1], in[2]
		rows, k, m := a.Dims[0], a.Dims[1], b.Dims[0]
		out := &Value{Dims: []int{rows, m}, Data: make([]float32, rows*m)}
		for r := range rows {
			for j := range m {
				s := float64(c.Data[j])
				for t := range k {
					s += float64(a.Data[r*k+t]) * float64(b.Data[j*k+t])
				}
				out.Data[r*m+j] = float32(s)
			}
		}
		return out, nil
	case "Softmax": // axis 1 of a matrix
		rows, w := in[0].Dims[0], in[0].Dims[1]
		out := &Value{Dims: in[0].Dims, Data: make([]float32, len(in[0].Data))}
		for r := range rows {
			row := in[0].Data[r*w : (r+1)*w]
			m := row[0]
			for _, v := range row {
				m = max(m, v)
			}
			var sum float64
			for j, v := range row {
				e := math.Exp(float64(v - m))
				out.Data[r*w+j] = float32(e)
				sum += e
			}
			for j := range row {
				out.Data[r*w+j] = float32(float64(out.Data[r*w+j]) / sum)
			}
		}
		return out, nil
	case "Reshape":
		dims := make([]int, len(in[1].Data))
		known := 1
		for i, d := range in[1].Data {
			dims[i] = int(d)
			if d > 0 {
				known *= int(d)
			}
		}
		for i, d := range dims {
			if d == -1 {
				dims[i] = len(in[0].Data) / known
			}
		}
		return &Value{Dims: dims, Data: in[0].Data}, nil
	case "Flatten":
		return &Value{Dims: []int{in[0].Dims[0], len(in[0].Data) / in[0].Dims[0]}, Data: in[0].Data}, nil
	case "Transpose":
		return transpose(in[0], n.attr("perm").ints), nil
	case "BatchNormalization":
		x, scale, bias, mean, variance := in[0], in[1], in[2], in[3], in[4]
		eps := float64(n.attr("epsilon").f)
		c := x.Dims[1]
		inner := size(x.Dims[2:])
		out := &Value{Dims: x.Dims, Data: make([]float32, len(x.Data))}
		for i, v := range x.Data {
			ch := (i / inner) % c
			out.Data[i] = float32((float64(v)-float64(mean.Data[ch]))/math.Sqrt(float64(variance.Data[ch])+eps)*float64(scale.Data[ch]) + float64(bias.Data[ch]))
		}
		return out, nil
	case "Conv":
		return conv(in[0], in[1], in[2], n.attr("strides").ints, n.attr("pads").ints), nil
	case "MaxPool", "AveragePool":
		return pool(in[0], n.attr("kernel_shape").ints, n.op == "MaxPool"), nil
	}
	return nil, fmt.Errorf("the reference evaluator does not know %s", n.op)
}

func transpose(x *Value, perm []int64) *Value {
	dims := make([]int, len(perm))
	for i, p := range perm {
		dims[i] = x.Dims[p]
	}
	strides := make([]int, len(x.Dims))
	s := 1
	for i := len(x.Dims) - 1; i >= 0; i-- {
		strides[i] = s
		s *= x.Dims[i]
	}
	out := &Value{Dims: dims, Data: make([]float32, len(x.Data))}
	idx := make([]int, len(dims))
	for o := range out.Data {
		src := 0
		for i, p := range perm {
			src += idx[i] * strides[p]
		}
		out.Data[o] = x.Data[src]
		for i := len(idx) - 1; i >= 0; i-- {
			if idx[i]++; idx[i] < dims[i] {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

// conv is a 2-D convolution of NCHW x with W [F, C, kh, kw], bias, strides and pads [t, l, b, r].
func conv(x, w, bias *Value, strides, pads []int64) *Value {
	n, c, h, wd := x.Dims[0], x.Dims[1], x.Dims[2], x.Dims[3]
	f, kh, kw := w.Dims[0], w.Dims[2], w.Dims[3]
	sh, sw := int(strides[0]), int(strides[1])
	pt, pl, pb, pr := int(pads[0]), int(pads[1]), int(pads[2]), int(pads[3])
	oh, ow := (h+pt+pb-kh)/sh+1, (wd+pl+pr-kw)/sw+1
	out := &Value{Dims: []int{n, f, oh, ow}, Data: make([]float32, n*f*oh*ow)}
	for b := range n {
		for o := range f {
			for i := range oh {
				for j := range ow {
					s := float64(bias.Data[o])
					for ch := range c {
						for u := range kh {
							for v := range kw {
								y, z := i*sh+u-pt, j*sw+v-pl
								if y < 0 || y >= h || z < 0 || z >= wd {
									continue
								}
								s += float64(x.Data[((b*c+ch)*h+y)*wd+z]) * float64(w.Data[((o*c+ch)*kh+u)*kw+v])
							}
						}
					}
					out.Data[((b*f+o)*oh+i)*ow+j] = float32(s)
				}
			}
		}
	}
	return out
}

// pool pools NCHW x with windows and strides of kernel, dropping a ragged border.
func pool(x *Value, kernel []int64, isMax bool) *Value {
	n, c, h, w := x.Dims[0], x.Dims[1], x.Dims[2], x.Dims[3]
	kh, kw := int(kernel[0]), int(kernel[1])
	oh, ow := h/kh, w/kw
	out := &Value{Dims: []int{n, c, oh, ow}, Data: make([]float32, n*c*oh*ow)}
	for p := range n * c {
		for i := range oh {
			for j := range ow {
				acc := float32(math.Inf(-1))
				var sum float64
				for u := range kh {
					for v := range kw {
						val := x.Data[(p*h+i*kh+u)*w+j*kw+v]
						acc = max(acc, val)
						sum += float64(val)
					}
				}
				if !isMax {
					acc = float32(sum / float64(kh*kw))
				}
				out.Data[(p*oh+i)*ow+j] = acc
			}
		}
	}
	return out
}
