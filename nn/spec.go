package nn

import (
	"fmt"
	"strconv"
	"strings"
)

// Layer types accepted in LayerSpec.Type.
const (
	LayerDense      = "dense"
	LayerDropout    = "dropout"
	LayerBatchNorm  = "batchnorm"
	LayerActivation = "activation"

	LayerConv2D         = "conv2d"              // 2-D convolution over [height, width, channels]
	LayerMaxPool2D      = "maxpool2d"           // 2-D max pooling, stride = size
	LayerAvgPool2D      = "avgpool2d"           // 2-D average pooling, stride = size
	LayerFlatten        = "flatten"             // a sample's shape becomes one axis
	LayerReshape        = "reshape"             // a sample's shape becomes Dims
	LayerEmbedding      = "embedding"           // token ids [T] to vectors [T, Dim]
	LayerSimpleRNN      = "simple_rnn"          // Elman RNN with tanh, PyTorch's nn.RNN
	LayerLSTM           = "lstm"                // PyTorch's nn.LSTM, gates i, f, g, o
	LayerGRU            = "gru"                 // PyTorch's nn.GRU, gates r, z, n
	LayerGlobalAvgPool  = "global_avg_pool"     // mean over every axis but the last
	LayerLayerNorm      = "layernorm"           // normalises each vector of the last axis
	LayerPositional     = "positional_encoding" // adds sinusoidal position vectors to [T, D]
	LayerAttention      = "attention"           // multi-head self-attention over [T, D]
	LayerTransformer    = "transformer"         // post-norm transformer encoder block
	DefaultLNEpsilon    = 1e-5                  // layernorm's ε, as PyTorch's
	defaultFFMultiplier = 4                     // transformer feed-forward width per model width
)

// LayerTypes lists every layer type, in a stable order for messages.
var LayerTypes = []string{
	LayerDense, LayerActivation, LayerDropout, LayerBatchNorm,
	LayerConv2D, LayerMaxPool2D, LayerAvgPool2D, LayerFlatten, LayerReshape,
	LayerEmbedding, LayerSimpleRNN, LayerLSTM, LayerGRU, LayerGlobalAvgPool,
	LayerLayerNorm, LayerPositional, LayerAttention, LayerTransformer,
}

// Defaults filled in by New when the corresponding field is zero.
const (
	DefaultLeakyAlpha  = 0.01 // LeakyReLU slope for negative inputs
	DefaultBNMomentum  = 0.1  // weight of the batch statistics in the running ones (PyTorch's convention)
	DefaultBNEpsilon   = 1e-5 // added to the variance before the square root
	maxUnitsOrFeatures = 1 << 24
)

// LayerSpec is the JSON-serialisable description of one layer.
//
// A "dense" layer has Units outputs and an optional Activation (with Alpha for leaky_relu); an
// "activation" layer applies Activation alone; "dropout" zeroes a fraction Rate of its inputs
// during training (inverted dropout: the survivors are scaled by 1/(1−Rate), so inference is the
// identity); "batchnorm" normalises each feature by the batch statistics in training and by
// running statistics, updated with Momentum, at inference, and adds Eps to the variance; on
// images and sequences its features are the channels of the last axis, with statistics over
// every position too (PyTorch's BatchNorm2d and BatchNorm1d).
//
// Shapes are per sample and channels-last: an image is [height, width, channels], a sequence
// [time, features], stored row-major, so a batch stays a rows×(product of the shape) matrix.
// The network's input has shape [Inputs] until a "reshape" (Dims, one of which may be −1) or an
// "embedding" gives it more axes. A dense layer reads the whole sample as one vector.
//
// "conv2d" has Filters output channels, a Kernel and Stride of [height, width] (Stride default
// [1, 1]), Padding "valid" (default), "same" (output size ⌈input/stride⌉, the extra pixel at the
// bottom/right as TensorFlow does) or a number of zero pixels on every side, and an optional
// Activation. "maxpool2d" and "avgpool2d" pool Size windows with stride Size (a ragged border
// is dropped). "flatten" makes the shape one axis. "embedding" maps each of the input's token
// ids (integers in [0, Vocab)) to a learned vector of width Dim. "simple_rnn", "lstm" and "gru"
// have Units hidden values and output [time, Units] with ReturnSequences or the last state
// [Units] without. "global_avg_pool" averages over every axis but the last. "layernorm"
// normalises each vector of the last axis (Eps). "positional_encoding" adds the sinusoidal
// encoding of Vaswani et al. to [time, features]. "attention" is multi-head self-attention with
// Heads heads over Dim projected features (default the input width; a multiple of Heads),
// projected back to the input width, Causal masking each position from later ones.
// "transformer" is one encoder block as PyTorch's TransformerEncoderLayer (post-norm, relu):
// x = layernorm(x + dropout(attention(x))); x = layernorm(x + dropout(ff(x))) with a feed-forward
// of width FF (default 4·features) and dropout Rate.
type LayerSpec struct {
	Type            string  `json:"type"`
	Units           int     `json:"units,omitempty"`
	Activation      string  `json:"activation,omitempty"`
	Alpha           float64 `json:"alpha,omitempty"`
	Rate            float64 `json:"rate,omitempty"`
	Momentum        float64 `json:"momentum,omitempty"`
	Eps             float64 `json:"eps,omitempty"`
	Filters         int     `json:"filters,omitempty"`
	Kernel          []int   `json:"kernel,omitempty"`
	Stride          []int   `json:"stride,omitempty"`
	Padding         string  `json:"padding,omitempty"`
	Size            []int   `json:"size,omitempty"`
	Dims            []int   `json:"dims,omitempty"`
	Vocab           int     `json:"vocab,omitempty"`
	Dim             int     `json:"dim,omitempty"`
	Heads           int     `json:"heads,omitempty"`
	FF              int     `json:"ff,omitempty"`
	ReturnSequences bool    `json:"return_sequences,omitempty"`
	Causal          bool    `json:"causal,omitempty"`
}

// Spec describes a whole network: its input width, its layers in order, the weight
// initialisation ("he", "xavier", or "" for He before relu-like activations and Xavier
// otherwise) and the seed of the initial weights.
type Spec struct {
	Inputs int         `json:"inputs"`
	Layers []LayerSpec `json:"layers"`
	Init   string      `json:"init,omitempty"`
	Seed   uint64      `json:"seed"`
}

// SpecError reports an invalid Spec. Layer is the index in Spec.Layers (−1 for a field of the
// Spec itself) and Field the offending field's JSON name, so that callers can point at the
// matching place in their own configuration.
type SpecError struct {
	Layer int
	Type  string
	Field string
	Msg   string
}

// Error formats the error as "layer 2 (dense): units must be positive, got 0".
func (e *SpecError) Error() string {
	if e.Layer < 0 {
		return "network: " + e.Msg
	}
	return fmt.Sprintf("layer %d (%s): %s", e.Layer, e.Type, e.Msg)
}

// normalize validates the spec and returns a copy with every default made explicit.
func (s Spec) normalize() (Spec, error) {
	top := func(field, format string, args ...any) error {
		return &SpecError{Layer: -1, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if s.Inputs <= 0 || s.Inputs > maxUnitsOrFeatures {
		return s, top("inputs", "inputs must be between 1 and %d, got %d", maxUnitsOrFeatures, s.Inputs)
	}
	if len(s.Layers) == 0 {
		return s, top("layers", "a network needs at least one layer")
	}
	switch s.Init {
	case "", "he", "xavier":
	default:
		return s, top("init", `unknown init %q (want "he" or "xavier")`, s.Init)
	}
	out := s
	out.Layers = make([]LayerSpec, len(s.Layers))
	for i, l := range s.Layers {
		nl, err := l.normalize(i)
		if err != nil {
			return s, err
		}
		out.Layers[i] = nl
	}
	if _, err := out.inferShapes(); err != nil {
		return s, err
	}
	return out, nil
}

// normalize validates one layer (index i) and fills its defaults. Checks that depend on the
// input's shape are left to inferShapes.
func (l LayerSpec) normalize(i int) (LayerSpec, error) {
	bad := func(field, format string, args ...any) (LayerSpec, error) {
		return l, &SpecError{Layer: i, Type: l.Type, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	checkAct := func() (LayerSpec, error) {
		k, ok := activationNames[l.Activation]
		if !ok {
			return bad("activation", "unknown activation %q (want one of %s)", l.Activation, strings.Join(Activations, ", "))
		}
		if l.Alpha < 0 {
			return bad("alpha", "alpha must not be negative, got %g", l.Alpha)
		}
		if k == actLeakyReLU && l.Alpha == 0 {
			l.Alpha = DefaultLeakyAlpha
		}
		if k != actLeakyReLU && l.Alpha != 0 {
			return bad("alpha", "alpha applies only to leaky_relu, not %q", l.Activation)
		}
		if l.Activation == "" {
			l.Activation = "linear"
		}
		return l, nil
	}
	allowed, ok := layerFields[l.Type]
	if !ok {
		return bad("type", "unknown layer type (want one of %s)", strings.Join(LayerTypes, ", "))
	}
	for _, f := range l.setFields() {
		if !strings.Contains(" "+allowed+" ", " "+f+" ") {
			if allowed == "" {
				return bad(f, "%s layers take no settings, got %s", l.Type, f)
			}
			return bad(f, "%s layers take no %s (they take %s)", l.Type, f, strings.ReplaceAll(allowed, " ", ", "))
		}
	}
	var err error
	switch l.Type {
	case LayerDense:
		if l.Units <= 0 || l.Units > maxUnitsOrFeatures {
			return bad("units", "units must be positive, got %d", l.Units)
		}
		return checkAct()
	case LayerActivation:
		if l.Activation == "" {
			return bad("activation", "an activation layer needs an activation (one of %s)", strings.Join(Activations, ", "))
		}
		return checkAct()
	case LayerDropout:
		if !(l.Rate >= 0 && l.Rate < 1) {
			return bad("rate", "rate must be in [0, 1), got %g", l.Rate)
		}
	case LayerBatchNorm:
		if l.Momentum == 0 {
			l.Momentum = DefaultBNMomentum
		}
		if !(l.Momentum > 0 && l.Momentum <= 1) {
			return bad("momentum", "momentum must be in (0, 1], got %g", l.Momentum)
		}
		if l.Eps == 0 {
			l.Eps = DefaultBNEpsilon
		}
		if !(l.Eps > 0) {
			return bad("eps", "eps must be positive, got %g", l.Eps)
		}
	case LayerConv2D:
		if l.Filters <= 0 || l.Filters > maxUnitsOrFeatures {
			return bad("filters", "filters must be positive, got %d", l.Filters)
		}
		if l.Kernel, err = pair(l.Kernel, nil); err != nil {
			return bad("kernel", "kernel %v", err)
		}
		if l.Stride, err = pair(l.Stride, []int{1, 1}); err != nil {
			return bad("stride", "stride %v", err)
		}
		if l.Padding == "" {
			l.Padding = "valid"
		}
		if _, err := padding(l.Padding); err != nil {
			return bad("padding", "%v", err)
		}
		return checkAct()
	case LayerMaxPool2D, LayerAvgPool2D:
		if l.Size, err = pair(l.Size, nil); err != nil {
			return bad("size", "size %v", err)
		}
	case LayerReshape:
		if len(l.Dims) == 0 {
			return bad("dims", "reshape needs dims")
		}
		free := 0
		for _, d := range l.Dims {
			if d == -1 {
				free++
			} else if d <= 0 {
				return bad("dims", "reshape dims must be positive or -1, got %v", l.Dims)
			}
		}
		if free > 1 {
			return bad("dims", "only one reshape dim may be -1, got %v", l.Dims)
		}
	case LayerEmbedding:
		if l.Vocab <= 0 || l.Vocab > maxUnitsOrFeatures {
			return bad("vocab", "vocab must be positive, got %d", l.Vocab)
		}
		if l.Dim <= 0 || l.Dim > maxUnitsOrFeatures {
			return bad("dim", "dim must be positive, got %d", l.Dim)
		}
	case LayerSimpleRNN, LayerLSTM, LayerGRU:
		if l.Units <= 0 || l.Units > maxUnitsOrFeatures {
			return bad("units", "units must be positive, got %d", l.Units)
		}
	case LayerLayerNorm:
		if l.Eps == 0 {
			l.Eps = DefaultLNEpsilon
		}
		if !(l.Eps > 0) {
			return bad("eps", "eps must be positive, got %g", l.Eps)
		}
	case LayerAttention, LayerTransformer:
		if l.Heads <= 0 || l.Heads > maxUnitsOrFeatures {
			return bad("heads", "heads must be positive, got %d", l.Heads)
		}
		if l.Dim < 0 || l.FF < 0 {
			return bad("dim", "dim and ff must be positive")
		}
		if !(l.Rate >= 0 && l.Rate < 1) {
			return bad("rate", "rate must be in [0, 1), got %g", l.Rate)
		}
	}
	return l, nil
}

// layerFields lists the JSON fields each layer type may set, space-separated.
var layerFields = map[string]string{
	LayerDense:         "units activation alpha",
	LayerActivation:    "activation alpha",
	LayerDropout:       "rate",
	LayerBatchNorm:     "momentum eps",
	LayerConv2D:        "filters kernel stride padding activation alpha",
	LayerMaxPool2D:     "size",
	LayerAvgPool2D:     "size",
	LayerFlatten:       "",
	LayerReshape:       "dims",
	LayerEmbedding:     "vocab dim",
	LayerSimpleRNN:     "units return_sequences",
	LayerLSTM:          "units return_sequences",
	LayerGRU:           "units return_sequences",
	LayerGlobalAvgPool: "",
	LayerLayerNorm:     "eps",
	LayerPositional:    "",
	LayerAttention:     "heads dim causal",
	LayerTransformer:   "heads dim ff rate causal",
}

// setFields returns the JSON names of the fields that differ from their zero value.
func (l LayerSpec) setFields() []string {
	var f []string
	add := func(set bool, name string) {
		if set {
			f = append(f, name)
		}
	}
	add(l.Units != 0, "units")
	add(l.Activation != "", "activation")
	add(l.Alpha != 0, "alpha")
	add(l.Rate != 0, "rate")
	add(l.Momentum != 0, "momentum")
	add(l.Eps != 0, "eps")
	add(l.Filters != 0, "filters")
	add(l.Kernel != nil, "kernel")
	add(l.Stride != nil, "stride")
	add(l.Padding != "", "padding")
	add(l.Size != nil, "size")
	add(l.Dims != nil, "dims")
	add(l.Vocab != 0, "vocab")
	add(l.Dim != 0, "dim")
	add(l.Heads != 0, "heads")
	add(l.FF != 0, "ff")
	add(l.ReturnSequences, "return_sequences")
	add(l.Causal, "causal")
	return f
}

// pair validates a [height, width] size, expanding one value to both; def is used when v is
// empty (nil def: required).
func pair(v, def []int) ([]int, error) {
	switch {
	case len(v) == 0 && def != nil:
		return def, nil
	case len(v) == 1:
		v = []int{v[0], v[0]}
	case len(v) != 2:
		return v, fmt.Errorf("must be one or two positive integers [height, width], got %v", v)
	}
	if v[0] <= 0 || v[1] <= 0 || v[0] > maxUnitsOrFeatures || v[1] > maxUnitsOrFeatures {
		return v, fmt.Errorf("must be positive, got %v", v)
	}
	return []int{v[0], v[1]}, nil
}

// padding parses a conv2d padding: −1 for "same", else the zero pixels on each side.
func padding(s string) (int, error) {
	switch s {
	case "same":
		return -1, nil
	case "valid":
		return 0, nil
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 0 || p > maxUnitsOrFeatures {
		return 0, fmt.Errorf(`padding must be "same", "valid" or a number of pixels, got %q`, s)
	}
	return p, nil
}

// product returns the number of values of a shape.
func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// inferShapes walks the layers from the input shape [Inputs], checks that each layer fits the
// shape it receives, fills the defaults that depend on it (attention and transformer widths)
// and returns every layer's input shape plus the output shape at the end.
func (s *Spec) inferShapes() ([][]int, error) {
	shapes := make([][]int, 0, len(s.Layers)+1)
	shape := []int{s.Inputs}
	for i := range s.Layers {
		l := &s.Layers[i]
		shapes = append(shapes, shape)
		bad := func(field, format string, args ...any) error {
			return &SpecError{Layer: i, Type: l.Type, Field: field, Msg: fmt.Sprintf(format, args...)}
		}
		rank := func(want int, what string) error {
			if len(shape) == want {
				return nil
			}
			got := fmt.Sprintf("shape %v", shape)
			switch len(shape) {
			case 2:
				got = "a [time, features] sequence"
			case 3:
				got = "a [height, width, channels] image"
			}
			if len(shape) == 1 && want == 3 {
				got = "a flat vector (reshape it first, e.g. reshape: [8, 8, 1] for 8x8 images)"
			} else if len(shape) == 1 {
				got = "a flat vector (start with an embedding of token ids, or reshape: [time, features])"
			}
			return bad("type", "%s needs %s input, got %s", l.Type, what, got)
		}
		var next []int
		switch l.Type {
		case LayerDense:
			next = []int{l.Units}
		case LayerActivation, LayerDropout, LayerBatchNorm, LayerLayerNorm:
			next = shape
		case LayerConv2D:
			if err := rank(3, "[height, width, channels]"); err != nil {
				return nil, err
			}
			g := convGeometry(shape, l)
			if g.outH <= 0 || g.outW <= 0 {
				return nil, bad("kernel", "kernel %v does not fit the %dx%d input (with padding %s)", l.Kernel, shape[0], shape[1], l.Padding)
			}
			next = []int{g.outH, g.outW, l.Filters}
		case LayerMaxPool2D, LayerAvgPool2D:
			if err := rank(3, "[height, width, channels]"); err != nil {
				return nil, err
			}
			if l.Size[0] > shape[0] || l.Size[1] > shape[1] {
				return nil, bad("size", "pool size %v is larger than the %dx%d input", l.Size, shape[0], shape[1])
			}
			next = []int{shape[0] / l.Size[0], shape[1] / l.Size[1], shape[2]}
		case LayerFlatten:
			next = []int{product(shape)}
		case LayerReshape:
			var err error
			if next, err = reshapeDims(l.Dims, product(shape)); err != nil {
				return nil, bad("dims", "%v", err)
			}
		case LayerEmbedding:
			if err := rank(1, "[time] token ids as"); err != nil {
				return nil, err
			}
			next = []int{shape[0], l.Dim}
		case LayerSimpleRNN, LayerLSTM, LayerGRU:
			if err := rank(2, "[time, features]"); err != nil {
				return nil, err
			}
			next = []int{l.Units}
			if l.ReturnSequences {
				next = []int{shape[0], l.Units}
			}
		case LayerGlobalAvgPool:
			if len(shape) < 2 {
				return nil, bad("type", "global_avg_pool needs [time, features] or [height, width, channels] input, got a flat vector")
			}
			next = shape[len(shape)-1:]
		case LayerPositional:
			if err := rank(2, "[time, features]"); err != nil {
				return nil, err
			}
			next = shape
		case LayerAttention, LayerTransformer:
			if err := rank(2, "[time, features]"); err != nil {
				return nil, err
			}
			if l.Dim == 0 {
				l.Dim = shape[1]
			}
			if l.Dim%l.Heads != 0 {
				return nil, bad("dim", "dim %d is not a multiple of heads %d", l.Dim, l.Heads)
			}
			if l.Type == LayerTransformer && l.FF == 0 {
				l.FF = defaultFFMultiplier * shape[1]
			}
			next = shape
		}
		if product(next) > maxUnitsOrFeatures {
			return nil, bad("type", "output shape %v is too large", next)
		}
		shape = next
	}
	return append(shapes, shape), nil
}

// reshapeDims resolves a −1 in dims so that they hold n values.
func reshapeDims(dims []int, n int) ([]int, error) {
	out := append([]int(nil), dims...)
	known, free := 1, -1
	for i, d := range dims {
		if d == -1 {
			free = i
		} else {
			known *= d
		}
	}
	if free >= 0 && known > 0 && n%known == 0 {
		out[free] = n / known
		known = n
	}
	if known != n {
		return nil, fmt.Errorf("cannot reshape %d values to %v", n, dims)
	}
	return out, nil
}
