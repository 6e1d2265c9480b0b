package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
)

// The saved form is one safetensors file: an 8-byte little-endian header length, a JSON header
// (tensor name → dtype, shape, byte offsets, plus "__metadata__"), then the raw little-endian
// tensor bytes. PyTorch reads it with safetensors.torch.load_file. The network's Spec travels
// as JSON in the metadata under specKey, so the file alone rebuilds the network.
//
// Tensor names are "layers.<i>.weight" ([out, in], as torch.nn.Linear stores it) and
// "layers.<i>.bias" for dense layer i of Spec.Layers; batchnorm layers also have running_mean,
// running_var and num_batches_tracked (I64), like torch.nn.BatchNorm1d. The indices are those
// of Spec.Layers; a torch.nn.Sequential that spells each activation as its own module numbers
// its modules differently, so rename the keys before load_state_dict. Checked by hand: PyTorch
// 1.13 loads such a file with strict=True and reproduces Predict to 6e-8.
//
// The other layers follow PyTorch too: conv2d "weight" [filters, channels, kh, kw] (transposed
// from the channels-last kernel kept in memory) and "bias", as nn.Conv2d; embedding "weight"
// [vocab, dim]; simple_rnn, lstm and gru "weight_ih_l0" [gates·units, in], "weight_hh_l0",
// "bias_ih_l0" and "bias_hh_l0" with the gates in PyTorch's order (i, f, g, o; r, z, n); attention
// "in_proj_weight" [3·dim, in], "in_proj_bias", "out_proj.weight", "out_proj.bias" as
// nn.MultiheadAttention; layernorm "weight" and "bias"; transformer as nn.TransformerEncoderLayer
// ("self_attn.…", "linear1.…", "linear2.…", "norm1.…", "norm2.…"). Checked by hand: each of these
// modules loads its tensors with strict=True and, with NCHW inputs permuted from channels-last,
// reproduces Predict of a conv/pool/dense and an lstm/gru/rnn/transformer/causal
// attention/layernorm network to 2.4e-7.
const (
	specKey        = "loom_spec"
	formatVersion  = "1"
	maxHeaderBytes = 64 << 20
)

// tensorInfo is one header entry; its fields are declared in key order so the JSON is sorted.
type tensorInfo struct {
	DataOffsets [2]int `json:"data_offsets"`
	Dtype       string `json:"dtype"`
	Shape       []int  `json:"shape"`
}

// Save writes the network (architecture, weights and batchnorm running statistics) as a
// safetensors file. The same network always gives the same bytes.
func (n *Network) Save(w io.Writer) error { return n.SaveWithMetadata(w, nil) }

// SaveWithMetadata is Save with more string entries in the file's __metadata__, which
// LoadWithMetadata returns: what a caller keeps beside the network in the same file. Keys
// starting with "loom_" and "format" are Save's own.
func (n *Network) SaveWithMetadata(w io.Writer, extra map[string]string) error {
	specJSON, err := json.Marshal(n.spec)
	if err != nil {
		return fmt.Errorf("save network: %w", err)
	}
	ts := append([]namedTensor(nil), n.tensors...)
	sort.Slice(ts, func(i, j int) bool { return ts[i].name < ts[j].name })
	meta := map[string]string{}
	for k, v := range extra {
		meta[k] = v
	}
	meta["format"], meta[specKey], meta["loom_format"] = "pt", string(specJSON), formatVersion
	header := map[string]any{"__metadata__": meta}
	var data bytes.Buffer
	for _, t := range ts {
		start := data.Len()
		dtype := "F32"
		if t.counter != nil {
			dtype = "I64"
			binary.Write(&data, binary.LittleEndian, *t.counter) //nolint:errcheck // bytes.Buffer cannot fail
		} else {
			var b [4]byte
			for j := range t.data {
				binary.LittleEndian.PutUint32(b[:], math.Float32bits(t.data[t.index(j)]))
				data.Write(b[:])
			}
		}
		header[t.name] = tensorInfo{DataOffsets: [2]int{start, data.Len()}, Dtype: dtype, Shape: t.shape}
	}
	hj, err := json.Marshal(header) // encoding/json sorts map keys: deterministic bytes
	if err != nil {
		return fmt.Errorf("save network: %w", err)
	}
	// Pad the header with spaces so the tensor data starts 8-byte aligned, as safetensors does.
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(len(hj)))
	for _, chunk := range [][]byte{size[:], hj, data.Bytes()} {
		if _, err := w.Write(chunk); err != nil {
			return fmt.Errorf("save network: %w", err)
		}
	}
	return nil
}

// Load reads a network written by Save. A damaged or foreign file gives an error saying what
// is wrong, never a panic.
func Load(r io.Reader) (*Network, error) {
	n, _, err := LoadWithMetadata(r)
	return n, err
}

// LoadWithMetadata is Load that also returns the file's __metadata__ entries.
func LoadWithMetadata(r io.Reader) (*Network, map[string]string, error) {
	fail := func(format string, args ...any) (*Network, map[string]string, error) {
		return nil, nil, fmt.Errorf("load network: "+format, args...)
	}
	var size [8]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return fail("reading the header length: %v", err)
	}
	hl := binary.LittleEndian.Uint64(size[:])
	if hl == 0 || hl > maxHeaderBytes {
		return fail("header length %d is not plausible (not a safetensors file?)", hl)
	}
	hj := make([]byte, hl)
	if _, err := io.ReadFull(r, hj); err != nil {
		return fail("reading the %d-byte header: %v", hl, err)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(hj, &header); err != nil {
		return fail("header is not JSON: %v", err)
	}
	spec, meta, err := specFromMetadata(header["__metadata__"])
	if err != nil {
		return fail("%v", err)
	}
	delete(header, "__metadata__")
	n, err := New(spec)
	if err != nil {
		return fail("stored spec: %v", err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fail("reading tensor data: %v", err)
	}
	for _, t := range n.tensors {
		if err := t.read(header, data); err != nil {
			return fail("%v", err)
		}
		delete(header, t.name)
	}
	for name := range header {
		return fail("unexpected tensor %q for this architecture", name)
	}
	return n, meta, nil
}

// specFromMetadata decodes the header's metadata and the Spec stored in it.
func specFromMetadata(raw json.RawMessage) (Spec, map[string]string, error) {
	var spec Spec
	if raw == nil {
		return spec, nil, errors.New("no __metadata__ in the header (not written by loom)")
	}
	var meta map[string]string
	if err := json.Unmarshal(raw, &meta); err != nil {
		return spec, nil, fmt.Errorf("__metadata__: %v", err)
	}
	if v := meta["loom_format"]; v != formatVersion {
		return spec, nil, fmt.Errorf("loom_format %q is not supported (want %s)", v, formatVersion)
	}
	s, ok := meta[specKey]
	if !ok {
		return spec, nil, fmt.Errorf("no %s in __metadata__", specKey)
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return spec, nil, fmt.Errorf("%s: %v", specKey, err)
	}
	return spec, meta, nil
}

// read fills the tensor from its header entry and the data section.
func (t namedTensor) read(header map[string]json.RawMessage, data []byte) error {
	raw, ok := header[t.name]
	if !ok {
		return fmt.Errorf("tensor %q is missing", t.name)
	}
	var info tensorInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return fmt.Errorf("tensor %q: %v", t.name, err)
	}
	dtype, width, count := "F32", 4, len(t.data)
	if t.counter != nil {
		dtype, width, count = "I64", 8, 1
	}
	if info.Dtype != dtype {
		return fmt.Errorf("tensor %q has dtype %s, want %s", t.name, info.Dtype, dtype)
	}
	if !sameShape(info.Shape, t.shape) {
		return fmt.Errorf("tensor %q has shape %v, want %v", t.name, info.Shape, t.shape)
	}
	start, end := info.DataOffsets[0], info.DataOffsets[1]
	if start < 0 || end > len(data) || end-start != count*width {
		return fmt.Errorf("tensor %q: data offsets [%d, %d] do not fit %d bytes of data for %d values", t.name, start, end, len(data), count)
	}
	b := data[start:end]
	if t.counter != nil {
		*t.counter = int64(binary.LittleEndian.Uint64(b))
		return nil
	}
	for j := range t.data {
		t.data[t.index(j)] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
	}
	return nil
}

// index maps position j of the saved layout to the position in data.
func (t namedTensor) index(j int) int {
	if t.perm == nil {
		return j
	}
	return t.perm[j]
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// String describes the network in one line per layer, for logs.
func (n *Network) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "inputs %d\n", n.spec.Inputs)
	for i, l := range n.spec.Layers {
		b.WriteString(strconv.Itoa(i) + " " + l.Type)
		switch l.Type {
		case LayerDense:
			fmt.Fprintf(&b, " %d %s", l.Units, l.Activation)
		case LayerActivation:
			b.WriteString(" " + l.Activation)
		case LayerDropout:
			fmt.Fprintf(&b, " %g", l.Rate)
		case LayerConv2D:
			fmt.Fprintf(&b, " %d %dx%d stride %dx%d %s %s", l.Filters, l.Kernel[0], l.Kernel[1], l.Stride[0], l.Stride[1], l.Padding, l.Activation)
		case LayerMaxPool2D, LayerAvgPool2D:
			fmt.Fprintf(&b, " %dx%d", l.Size[0], l.Size[1])
		case LayerReshape:
			fmt.Fprintf(&b, " %v", l.Dims)
		case LayerEmbedding:
			fmt.Fprintf(&b, " %d %d", l.Vocab, l.Dim)
		case LayerSimpleRNN, LayerLSTM, LayerGRU:
			fmt.Fprintf(&b, " %d sequences=%v", l.Units, l.ReturnSequences)
		case LayerAttention, LayerTransformer:
			fmt.Fprintf(&b, " heads %d dim %d causal=%v", l.Heads, l.Dim, l.Causal)
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "params %d", len(n.params))
	return b.String()
}
