package steps

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/steps/frame"
)

// modelFile is the artifact file of model and train stages: architecture and weights.
const modelFile = "model.safetensors"

// modelKind builds a network whose input width and output layer come from the data.
type modelKind struct{}

func (modelKind) Version() string { return "1+nn" + nn.Version + "+frame" + frame.Version }

// layerSetting is one item of `layers`, before the data fixes `units: auto`.
type layerSetting struct {
	spec      nn.LayerSpec
	auto      bool // units: auto
	autoVocab bool // embedding vocab: auto
}

func (modelKind) Prepare(st *manifest.Stage, _ *manifest.Manifest) (pipeline.Job, error) {
	var raw struct {
		Layers []map[string]yaml.Node `yaml:"layers"`
		Init   string                 `yaml:"init"`
		Seed   uint64                 `yaml:"seed"`
	}
	if err := decode(st, &raw); err != nil {
		return nil, err
	}
	j := &modelJob{init: raw.Init, seed: raw.Seed}
	var errs manifest.ErrorList
	for i, item := range raw.Layers {
		for key, node := range item {
			path := []string{"layers", strconv.Itoa(i), key}
			l, err := parseLayer(key, &node)
			if err != nil {
				errs = append(errs, st.Errorf(path, "layer %d: %v", i, err))
				continue
			}
			j.layers = append(j.layers, l)
			j.paths = append(j.paths, path)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	// Build the network once with stand-in widths, so that mistakes such as an unknown
	// activation or a kernel larger than its image are reported now, at the layer that has them.
	if _, err := nn.New(j.spec(j.standInInputs(), 2, true, 2)); err != nil {
		return nil, j.specError(st, err)
	}
	return j, nil
}

func parseLayer(key string, n *yaml.Node) (layerSetting, error) {
	spec := nn.LayerSpec{Type: key}
	var err error
	switch key {
	case "dense":
		var v struct {
			Units      yaml.Node `yaml:"units"`
			Activation string    `yaml:"activation"`
		}
		if err := n.Decode(&v); err != nil {
			return layerSetting{}, err
		}
		l := layerSetting{spec: nn.LayerSpec{Type: nn.LayerDense, Activation: v.Activation}}
		if v.Units.Value == "auto" {
			l.auto = true
		} else if err := v.Units.Decode(&l.spec.Units); err != nil || l.spec.Units < 1 {
			return l, fmt.Errorf("dense units must be a positive integer or auto, got %s", v.Units.Value)
		}
		return l, nil
	case "dropout":
		var rate float64
		if err := n.Decode(&rate); err != nil {
			return layerSetting{}, fmt.Errorf("dropout takes a rate in [0, 1)")
		}
		return layerSetting{spec: nn.LayerSpec{Type: nn.LayerDropout, Rate: rate}}, nil
	case "batchnorm", "flatten", "global_avg_pool", "positional_encoding":
	case "conv2d":
		err = parseConv(n, &spec)
	case "maxpool2d", "avgpool2d":
		var v struct {
			Size yaml.Node `yaml:"size"`
		}
		if err = n.Decode(&v); err == nil {
			spec.Size, err = parseSize2("size", &v.Size)
		}
	case "reshape":
		if err = n.Decode(&spec.Dims); err != nil {
			err = fmt.Errorf("reshape takes a list of dimensions, one of which may be -1")
		}
	case "embedding":
		var v struct {
			Vocab yaml.Node `yaml:"vocab"`
			Dim   int       `yaml:"dim"`
		}
		if err = n.Decode(&v); err != nil {
			break
		}
		spec.Dim = v.Dim
		if v.Vocab.Value == "auto" {
			return layerSetting{spec: spec, autoVocab: true}, nil
		}
		if v.Vocab.Decode(&spec.Vocab) != nil {
			err = fmt.Errorf("vocab must be a positive integer or auto, got %s", v.Vocab.Value)
		}
	case "simple_rnn", "lstm", "gru":
		var v struct {
			Units           int  `yaml:"units"`
			ReturnSequences bool `yaml:"return_sequences"`
		}
		err = n.Decode(&v)
		spec.Units, spec.ReturnSequences = v.Units, v.ReturnSequences
	case "layernorm":
		var v struct {
			Eps float64 `yaml:"eps"`
		}
		err = n.Decode(&v)
		spec.Eps = v.Eps
	case "attention", "transformer":
		var v struct {
			Heads   int     `yaml:"heads"`
			Dim     int     `yaml:"dim"`
			FF      int     `yaml:"ff"`
			Dropout float64 `yaml:"dropout"`
			Causal  bool    `yaml:"causal"`
		}
		err = n.Decode(&v)
		spec.Heads, spec.Dim, spec.FF, spec.Rate, spec.Causal = v.Heads, v.Dim, v.FF, v.Dropout, v.Causal
	default:
		return layerSetting{}, fmt.Errorf("unknown layer %q (want one of %s)", key, strings.Join(layerNames, ", "))
	}
	if err != nil {
		return layerSetting{}, fmt.Errorf("%s: %v", key, err)
	}
	return layerSetting{spec: spec}, nil
}

// layerNames are the manifest's layer keys.
var layerNames = []string{
	"dense", "dropout", "batchnorm", "conv2d", "maxpool2d", "avgpool2d", "flatten", "reshape",
	"embedding", "simple_rnn", "lstm", "gru", "global_avg_pool", "layernorm",
	"positional_encoding", "attention", "transformer",
}

// parseConv reads `conv2d: {filters, kernel, stride, padding, activation}`.
func parseConv(n *yaml.Node, spec *nn.LayerSpec) error {
	var v struct {
		Filters    int       `yaml:"filters"`
		Kernel     yaml.Node `yaml:"kernel"`
		Stride     yaml.Node `yaml:"stride"`
		Padding    string    `yaml:"padding"`
		Activation string    `yaml:"activation"`
	}
	if err := n.Decode(&v); err != nil {
		return err
	}
	spec.Filters, spec.Padding, spec.Activation = v.Filters, v.Padding, v.Activation
	var err error
	if spec.Kernel, err = parseSize2("kernel", &v.Kernel); err != nil {
		return err
	}
	if v.Stride.Kind != 0 {
		spec.Stride, err = parseSize2("stride", &v.Stride)
	}
	return err
}

// parseSize2 reads a size: one integer for both dimensions or [height, width].
func parseSize2(name string, n *yaml.Node) ([]int, error) {
	var one int
	if n.Kind == yaml.ScalarNode && n.Decode(&one) == nil {
		return []int{one}, nil
	}
	var two []int
	if n.Kind == yaml.SequenceNode && n.Decode(&two) == nil && len(two) == 2 {
		return two, nil
	}
	return nil, fmt.Errorf("%s must be an integer or [height, width]", name)
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
	fr, err := readFrame(ctx, env)
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
	f, err := os.Create(filepath.Join(env.Out, modelFile))
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = net.Save(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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
