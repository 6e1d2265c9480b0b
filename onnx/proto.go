package onnx

import (
	"math"

	"google.golang.org/protobuf/encoding/protowire"
)

// The subset of onnx.proto (IR version 7) an export needs, written with protowire: field
// numbers as in github.com/onnx/onnx/blob/main/onnx/onnx.proto.

// Tensor element types.
const (
	typeFloat = 1
	typeInt64 = 7
)

// Attribute types.
const (
	attrFloat  = 1
	attrInt    = 2
	attrString = 3
	attrInts   = 7
)

type graph struct {
	nodes          []node
	initializers   []tensor
	inputs, output []valueInfo
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
	s    string
	ints []int64
}

type tensor struct {
	name   string
	dims   []int64
	floats []float32 // typeFloat
	ints   []int64   // typeInt64
}

// valueInfo is a graph input or output: a float tensor whose first dimension is the batch.
type valueInfo struct {
	name  string
	width int64
}

type model struct {
	graph    graph
	metadata [][2]string
}

func appendString(b []byte, field protowire.Number, s string) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendString(b, s)
}

func appendVarint(b []byte, field protowire.Number, v uint64) []byte {
	b = protowire.AppendTag(b, field, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

func appendMessage(b []byte, field protowire.Number, msg []byte) []byte {
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func (m *model) marshal() []byte {
	var b []byte
	b = appendVarint(b, 1, 7) // ir_version
	b = appendString(b, 2, "loom")
	b = appendMessage(b, 7, m.graph.marshal())
	opset := appendString(nil, 1, "")
	opset = appendVarint(opset, 2, 13)
	b = appendMessage(b, 8, opset)
	for _, kv := range m.metadata {
		e := appendString(nil, 1, kv[0])
		e = appendString(e, 2, kv[1])
		b = appendMessage(b, 14, e)
	}
	return b
}

func (g *graph) marshal() []byte {
	var b []byte
	for _, n := range g.nodes {
		b = appendMessage(b, 1, n.marshal())
	}
	b = appendString(b, 2, "loom")
	for _, t := range g.initializers {
		b = appendMessage(b, 5, t.marshal())
	}
	for _, v := range g.inputs {
		b = appendMessage(b, 11, v.marshal())
	}
	for _, v := range g.output {
		b = appendMessage(b, 12, v.marshal())
	}
	return b
}

func (n *node) marshal() []byte {
	var b []byte
	for _, in := range n.inputs {
		b = appendString(b, 1, in)
	}
	for _, out := range n.outputs {
		b = appendString(b, 2, out)
	}
	b = appendString(b, 3, n.outputs[0])
	b = appendString(b, 4, n.op)
	for _, a := range n.attrs {
		b = appendMessage(b, 5, a.marshal())
	}
	return b
}

func (a *attribute) marshal() []byte {
	b := appendString(nil, 1, a.name)
	switch a.kind {
	case attrFloat:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case attrInt:
		b = appendVarint(b, 3, uint64(a.i))
	case attrString:
		b = appendString(b, 4, a.s)
	case attrInts:
		for _, v := range a.ints {
			b = appendVarint(b, 8, uint64(v))
		}
	}
	return appendVarint(b, 20, uint64(a.kind))
}

func (t *tensor) marshal() []byte {
	var b []byte
	for _, d := range t.dims {
		b = appendVarint(b, 1, uint64(d))
	}
	if t.ints != nil {
		b = appendVarint(b, 2, typeInt64)
	} else {
		b = appendVarint(b, 2, typeFloat)
	}
	b = appendString(b, 8, t.name)
	if t.ints != nil {
		var raw []byte
		for _, v := range t.ints {
			raw = protowire.AppendFixed64(raw, uint64(v))
		}
		return appendMessage(b, 9, raw)
	}
	raw := make([]byte, 0, 4*len(t.floats))
	for _, v := range t.floats {
		raw = protowire.AppendFixed32(raw, math.Float32bits(v))
	}
	return appendMessage(b, 9, raw) // raw_data, little-endian
}

func (v *valueInfo) marshal() []byte {
	batch := appendString(nil, 2, "N") // dim_param
	width := appendVarint(nil, 1, uint64(v.width))
	shape := appendMessage(nil, 1, batch)
	shape = appendMessage(shape, 1, width)
	tt := appendVarint(nil, 1, typeFloat)
	tt = appendMessage(tt, 2, shape)
	typ := appendMessage(nil, 1, tt)
	b := appendString(nil, 1, v.name)
	return appendMessage(b, 2, typ)
}
