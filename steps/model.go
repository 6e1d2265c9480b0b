package steps

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/loom-ml/loom/internal/suggest"
	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/pipeline/settings"
	"github.com/loom-ml/loom/steps/frame"
)

// modelFile is the artifact file of model and train stages: architecture and weights.
const modelFile = "model.safetensors"

// modelKind builds a network whose input width and output layer come from the data.
type modelKind struct{}

func (modelKind) Version() string { return "1+nn" + nn.Version + "+frame" + frame.Version }

// modelSettings build a neural network; the input width and class count come from the data.
type modelSettings struct {
	readsData
	// The layers, in order; each item has exactly one key.
	Layers []layerSettings `yaml:"layers" check:"required,nonempty"`
	// Weight initialization: he (for relu-like activations) or xavier.
	Init string `yaml:"init" check:"oneof=he xavier"`
	Seed seed   `yaml:"seed"`
}

// layerSettings is one layer: a mapping with exactly one key. Adding a layer is a field here
// and a type that implements layerOptions.
type layerSettings struct {
	settings.OneKey
	// A fully connected layer.
	Dense *denseLayer `yaml:"dense"`
	// Dropout rate during training.
	Dropout *dropoutRate `yaml:"dropout" check:"gte=0,lt=1"`
	// Batch normalization of each feature; on images and sequences, of each channel (last
	// axis) over the batch and every position, as PyTorch's BatchNorm2d.
	BatchNorm *noOptions `yaml:"batchnorm"`
	// A 2-D convolution over channels-last images [height, width, channels] (start an image
	// model with reshape, e.g. [8, 8, 1]). Output [height', width', filters]; the kernel is
	// saved in PyTorch's Conv2d layout [filters, channels, kh, kw].
	Conv2D *conv2dLayer `yaml:"conv2d"`
	// 2-D max pooling over [height, width, channels]; a ragged border is dropped.
	MaxPool2D *poolLayer `yaml:"maxpool2d"`
	// 2-D average pooling over [height, width, channels]; a ragged border is dropped.
	AvgPool2D *poolLayer `yaml:"avgpool2d"`
	// Flattens each example to one axis (the values do not move: shapes are row-major).
	Flatten *noOptions `yaml:"flatten"`
	// Reshapes each example to these dimensions, row-major; one may be -1 (inferred). Images
	// are channels-last: [height, width, channels].
	Reshape *reshapeDims `yaml:"reshape"`
	// Maps each input column, a token id (an integer in [0, vocab)), to a learned vector:
	// [time] to [time, dim].
	Embedding *embeddingLayer `yaml:"embedding"`
	// An Elman recurrent layer with tanh over [time, features] (PyTorch's nn.RNN).
	SimpleRNN *recurrentLayer `yaml:"simple_rnn"`
	// A long short-term memory layer over [time, features] (PyTorch's nn.LSTM, gates i, f,
	// g, o fused in one weight matrix).
	LSTM *recurrentLayer `yaml:"lstm"`
	// A gated recurrent unit layer over [time, features] (PyTorch's nn.GRU, gates r, z, n).
	GRU *recurrentLayer `yaml:"gru"`
	// Averages over every axis but the last: [time, features] to [features], [height, width,
	// channels] to [channels].
	GlobalAvgPool *noOptions `yaml:"global_avg_pool"`
	// Layer normalization of each vector of the last axis, with a learned scale and shift.
	LayerNorm *layerNormLayer `yaml:"layernorm"`
	// Adds the sinusoidal position encoding of Vaswani et al. to [time, features]; no
	// parameters.
	PositionalEncoding *noOptions `yaml:"positional_encoding"`
	// Multi-head self-attention over [time, features] (PyTorch's nn.MultiheadAttention: one
	// fused Q/K/V projection, then an output projection back to the input width).
	Attention *attentionLayer `yaml:"attention"`
	// One transformer encoder block over [time, features], as PyTorch's
	// TransformerEncoderLayer (post-norm): x = layernorm(x + dropout(attention(x))); x =
	// layernorm(x + dropout(ff(x))), ff = dense(ff, relu) then dense(features) at each timestep.
	Transformer *transformerLayer `yaml:"transformer"`
}

// layerSetting is one item of `layers`, before the data fixes `units: auto`.
type layerSetting struct {
	spec      nn.LayerSpec
	auto      bool // units: auto
	autoVocab bool // embedding vocab: auto
}

// layerOptions are a layer's settings; fill copies them into the layer's nn spec.
type layerOptions interface {
	fill(l *layerSetting)
}

// setting turns the layer's settings into its spec; the manifest's key is nn's layer type.
func (ls *layerSettings) setting() layerSetting {
	key, opts := settings.Chosen(ls)
	l := layerSetting{spec: nn.LayerSpec{Type: key}}
	opts.(layerOptions).fill(&l)
	return l
}

// noOptions are the settings of a layer that has none: `flatten:` or `flatten: {}`.
type noOptions struct{}

func (*noOptions) fill(*layerSetting) {}

// denseLayer is a fully connected layer.
type denseLayer struct {
	// Output width, or auto for the output layer: 1 unit + sigmoid for two classes, k units +
	// softmax for k classes, 1 linear unit for regression.
	Units      orAuto     `yaml:"units" check:"required"`
	Activation activation `yaml:"activation"`
}

func (d *denseLayer) fill(l *layerSetting) {
	l.spec.Units, l.auto, l.spec.Activation = d.Units.n, d.Units.auto, string(d.Activation)
}

// dropoutRate is the rate of a dropout layer.
type dropoutRate float64

func (r *dropoutRate) fill(l *layerSetting) { l.spec.Rate = float64(*r) }

// conv2dLayer is a 2-D convolution.
type conv2dLayer struct {
	// Number of output channels.
	Filters int `yaml:"filters" check:"required,gte=1"`
	// Kernel size.
	Kernel size2 `yaml:"kernel" check:"required"`
	// Stride (default 1).
	Stride size2 `yaml:"stride"`
	// valid (default) adds none; same gives ceil(input/stride) outputs, the odd padding pixel
	// at the bottom/right; or a number of zero pixels on every side.
	Padding    padding    `yaml:"padding"`
	Activation activation `yaml:"activation"`
}

func (c *conv2dLayer) fill(l *layerSetting) {
	l.spec.Filters, l.spec.Kernel, l.spec.Stride = c.Filters, c.Kernel, c.Stride
	l.spec.Padding, l.spec.Activation = string(c.Padding), string(c.Activation)
}

// poolLayer is a 2-D pooling layer.
type poolLayer struct {
	// Window size; the stride equals it.
	Size size2 `yaml:"size" check:"required"`
}

func (p *poolLayer) fill(l *layerSetting) { l.spec.Size = p.Size }

// embeddingLayer maps token ids to learned vectors.
type embeddingLayer struct {
	// Number of distinct token ids, padding and out-of-vocabulary included; auto takes the
	// vocabulary size of the data's text column.
	Vocab orAuto `yaml:"vocab" check:"required"`
	// Vector width.
	Dim int `yaml:"dim" check:"required,gte=1"`
}

func (e *embeddingLayer) fill(l *layerSetting) {
	l.spec.Vocab, l.autoVocab, l.spec.Dim = e.Vocab.n, e.Vocab.auto, e.Dim
}

// recurrentLayer is a simple_rnn, lstm or gru layer.
type recurrentLayer struct {
	// Width of the hidden state.
	Units int `yaml:"units" check:"required,gte=1"`
	// Outputs every timestep [time, units] (true) or only the last state [units] (false,
	// default).
	ReturnSequences bool `yaml:"return_sequences"`
}

func (r *recurrentLayer) fill(l *layerSetting) {
	l.spec.Units, l.spec.ReturnSequences = r.Units, r.ReturnSequences
}

// layerNormLayer is a layer normalization.
type layerNormLayer struct {
	// Added to the variance (default 1e-5).
	Eps float64 `yaml:"eps" check:"gt=0"`
}

func (n *layerNormLayer) fill(l *layerSetting) { l.spec.Eps = n.Eps }

// attentionLayer is multi-head self-attention.
type attentionLayer struct {
	// Number of heads.
	Heads int `yaml:"heads" check:"required,gte=1"`
	// Width of the Q, K and V projections together (default the input width); a multiple of
	// heads.
	Dim int `yaml:"dim" check:"gte=1"`
	// Each position attends only to itself and earlier positions.
	Causal bool `yaml:"causal"`
}

func (a *attentionLayer) fill(l *layerSetting) {
	l.spec.Heads, l.spec.Dim, l.spec.Causal = a.Heads, a.Dim, a.Causal
}

// transformerLayer is one transformer encoder block.
type transformerLayer struct {
	// Number of attention heads.
	Heads int `yaml:"heads" check:"required,gte=1"`
	// Width of the attention's Q, K and V projections (default the input width); a multiple
	// of heads.
	Dim int `yaml:"dim" check:"gte=1"`
	// Width of the feed-forward hidden layer (default 4 x features).
	FF int `yaml:"ff" check:"gte=1"`
	// Dropout rate after the attention and after the feed-forward (default 0).
	Dropout float64 `yaml:"dropout" check:"gte=0,lt=1"`
	// Causal attention mask.
	Causal bool `yaml:"causal"`
}

func (t *transformerLayer) fill(l *layerSetting) {
	l.spec.Heads, l.spec.Dim, l.spec.FF, l.spec.Rate, l.spec.Causal = t.Heads, t.Dim, t.FF, t.Dropout, t.Causal
}

// activation is an activation function.
type activation string

// DecodeSetting implements settings.Value.
func (a *activation) DecodeSetting(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" || !slices.Contains(nn.Activations, n.Value) {
		return fmt.Errorf("%s is not one of %s%s", shown(n), strings.Join(nn.Activations, ", "), suggest.DidYouMean(n.Value, nn.Activations))
	}
	*a = activation(n.Value)
	return nil
}

// SettingSchema implements settings.Value.
func (*activation) SettingSchema() map[string]any {
	return map[string]any{"enum": nn.Activations}
}

// orAuto is a positive integer, or auto for a value the data decides.
type orAuto struct {
	n    int
	auto bool
}

// DecodeSetting implements settings.Value.
func (o *orAuto) DecodeSetting(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Value == "auto" && n.ShortTag() == "!!str" {
		o.auto = true
		return nil
	}
	if !positiveInt(n, &o.n) {
		return fmt.Errorf("must be a positive integer or auto, not %s", shown(n))
	}
	return nil
}

// SettingSchema implements settings.Value.
func (*orAuto) SettingSchema() map[string]any {
	return map[string]any{"anyOf": []any{map[string]any{"type": "integer", "minimum": 1}, map[string]any{"const": "auto"}}}
}

// size2 is a size: one positive integer for both dimensions, or [height, width].
type size2 []int

// DecodeSetting implements settings.Value.
func (s *size2) DecodeSetting(n *yaml.Node) error {
	var one int
	if positiveInt(n, &one) {
		*s = size2{one}
		return nil
	}
	var hw [2]int
	if n.Kind != yaml.SequenceNode || len(n.Content) != 2 || !positiveInt(n.Content[0], &hw[0]) || !positiveInt(n.Content[1], &hw[1]) {
		return fmt.Errorf("must be a positive integer or [height, width], not %s", shown(n))
	}
	*s = hw[:]
	return nil
}

// SettingSchema implements settings.Value.
func (*size2) SettingSchema() map[string]any {
	pos := map[string]any{"type": "integer", "minimum": 1}
	return map[string]any{"anyOf": []any{pos, map[string]any{"type": "array", "items": pos, "minItems": 2, "maxItems": 2}}}
}

// padding is a convolution's padding: same, valid, or a number of pixels.
type padding string

// DecodeSetting implements settings.Value.
func (p *padding) DecodeSetting(n *yaml.Node) error {
	var px int
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && (n.Value == "same" || n.Value == "valid"):
		*p = padding(n.Value)
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" && n.Decode(&px) == nil && px >= 0:
		*p = padding(n.Value)
	default:
		return fmt.Errorf("must be same, valid or a number of pixels >= 0, not %s", shown(n))
	}
	return nil
}

// SettingSchema implements settings.Value.
func (*padding) SettingSchema() map[string]any {
	return map[string]any{"anyOf": []any{map[string]any{"enum": []string{"same", "valid"}}, map[string]any{"type": "integer", "minimum": 0}}}
}

// reshapeDims are the dimensions of a reshape layer.
type reshapeDims []int

// DecodeSetting implements settings.Value.
func (r *reshapeDims) DecodeSetting(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return errors.New("must be a list of dimensions, one of which may be -1")
	}
	for _, it := range n.Content {
		var d int
		if it.Kind != yaml.ScalarNode || it.ShortTag() != "!!int" || it.Decode(&d) != nil || d < -1 || d == 0 {
			return fmt.Errorf("dimension %s must be a positive integer or -1", shown(it))
		}
		*r = append(*r, d)
	}
	return nil
}

func (r *reshapeDims) fill(l *layerSetting) { l.spec.Dims = *r }

// SettingSchema implements settings.Value.
func (*reshapeDims) SettingSchema() map[string]any {
	return map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"type": "integer", "minimum": -1, "not": map[string]any{"const": 0}}}
}

// positiveInt decodes n into *x when it is an integer >= 1.
func positiveInt(n *yaml.Node, x *int) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" && n.Decode(x) == nil && *x >= 1
}

// shown is a value in a message: a scalar's text, quoted when it is a string; else its kind.
func shown(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.ShortTag() == "!!str":
		return strconv.Quote(n.Value)
	}
	return n.Value
}

func (modelKind) Prepare(st *manifest.Stage, m *manifest.Manifest) (pipeline.Job, error) {
	var s modelSettings
	if err := settings.Decode(st, m, &s); err != nil {
		return nil, err
	}
	j := &modelJob{init: s.Init, seed: uint64(s.Seed)}
	for i := range s.Layers {
		l := s.Layers[i].setting()
		j.layers = append(j.layers, l)
		j.paths = append(j.paths, []string{"layers", strconv.Itoa(i), l.spec.Type})
	}
	// Build the network once with stand-in widths, so that mistakes such as a kernel larger
	// than its image are reported now, at the layer that has them.
	if _, err := nn.New(j.spec(j.standInInputs(), 2, true, 2)); err != nil {
		return nil, j.specError(st, err)
	}
	return j, nil
}

type modelJob struct {
	artifactsOnly
	layers []layerSetting
	paths  [][]string // where each layer is written
	init   string
	seed   uint64
}

// spec resolves `units: auto`: one sigmoid unit for two classes, k softmax units for k
// classes, one linear unit for regression; and `vocab: auto` to vocab.
func (j *modelJob) spec(inputs, outputs int, classification bool, vocab int) nn.Spec {
	s := nn.Spec{Inputs: inputs, Init: j.init, Seed: j.seed}
	for _, l := range j.layers {
		ls := l.spec
		if l.autoVocab {
			ls.Vocab = vocab
		}
		if l.auto {
			ls.Units = outputs
			if ls.Activation == "" {
				switch {
				case !classification:
					ls.Activation = "linear"
				case outputs == 1:
					ls.Activation = "sigmoid"
				default:
					ls.Activation = "softmax"
				}
			}
		}
		s.Layers = append(s.Layers, ls)
	}
	return s
}

// standInInputs is an input width for checking the layers before the data is known: the size
// a leading reshape asks for (a −1 dimension taken as 64), else 4.
func (j *modelJob) standInInputs() int {
	if len(j.layers) == 0 || j.layers[0].spec.Type != nn.LayerReshape {
		return 4
	}
	n := 1
	for _, d := range j.layers[0].spec.Dims {
		if d == -1 {
			d = 64
		}
		n *= max(d, 1)
	}
	return n
}

// vocab is the vocabulary size `vocab: auto` stands for: that of the data's one text column.
func (j *modelJob) vocab(st *manifest.Stage, fr *frame.Frame) (int, error) {
	for i, l := range j.layers {
		if !l.autoVocab {
			continue
		}
		names := fr.TextColumns()
		if len(names) != 1 {
			return 0, st.Errorf(append(j.paths[i][:len(j.paths[i]):len(j.paths[i])], "vocab"), "layer %d: vocab: auto needs exactly one text column in the data, found %d (%s); give the number", i, len(names), strings.Join(names, ", "))
		}
		v, _ := fr.Vocab(names[0])
		return v, nil
	}
	return 0, nil
}

// specError places an nn.SpecError at the layer, and the setting, it is about.
func (j *modelJob) specError(st *manifest.Stage, err error) error {
	if se, ok := err.(*nn.SpecError); ok && se.Layer >= 0 && se.Layer < len(j.paths) {
		path := j.paths[se.Layer]
		if se.Field != "" && se.Field != "type" {
			field := se.Field
			if field == "rate" && se.Type == nn.LayerTransformer {
				field = "dropout"
			}
			path = append(path[:len(path):len(path)], field)
		}
		return st.Errorf(path, "layer %d: %s", se.Layer, se.Msg)
	}
	return st.Errorf([]string{"layers"}, "%v", err)
}

func (j *modelJob) Run(ctx context.Context, env *pipeline.Env) error {
	fr, err := readFrameShape(ctx, env)
	if err != nil {
		return err
	}
	vocab, err := j.vocab(env.Stage, fr)
	if err != nil {
		return err
	}
	spec := j.spec(len(fr.FeatureNames()), fr.Outputs(), fr.Task == frame.Classification, vocab)
	net, err := nn.New(spec)
	if err != nil {
		return j.specError(env.Stage, err)
	}
	env.ReportTable(summaryTable(net))
	fmt.Fprintf(env.Log, "%d inputs, %d outputs, %d parameters\n", net.Inputs(), net.Outputs(), net.NumParams())
	return saveNetwork(env, net)
}

// summaryTable lists a network's layers like Keras's model.summary(): each layer's output
// shape per sample and its trainable values.
func summaryTable(net *nn.Network) pipeline.Table {
	t := pipeline.Table{Title: "model", Header: []string{"layer", "type", "activation", "outputs", "params"}}
	total := 0
	for i, l := range net.Layers() {
		total += l.Params
		dims := make([]string, len(l.Shape))
		for k, d := range l.Shape {
			dims[k] = strconv.Itoa(d)
		}
		t.Rows = append(t.Rows, []string{strconv.Itoa(i), l.Type, l.Activation, strings.Join(dims, "x"), strconv.Itoa(l.Params)})
	}
	t.Rows = append(t.Rows, []string{"", "total", "", "", strconv.Itoa(total)})
	return t
}

func saveNetwork(env *pipeline.Env, net *nn.Network) error {
	return writeFileWith(filepath.Join(env.Out, modelFile), net.Save)
}

// loadNetwork reads the network of the model or train stage this stage needs.
func loadNetwork(env *pipeline.Env, kinds ...string) (*nn.Network, error) {
	f, in, err := openInput(env, "model", modelFile, kinds...)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	net, err := nn.Load(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("model from stage %s: %w", in.Stage, err)
	}
	return net, nil
}
