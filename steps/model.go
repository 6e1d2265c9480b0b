package steps

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

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

func (modelKind) Version() string { return "1+nn" + nn.Version }

// layerSetting is one item of `layers`, before the data fixes `units: auto`.
type layerSetting struct {
	spec nn.LayerSpec
	auto bool // units: auto
}

// layersLater are layer kinds of the manifest format that nn does not implement yet.
var layersLater = map[string]bool{
	"conv2d": true, "maxpool2d": true, "flatten": true, "reshape": true,
	"embedding": true, "lstm": true, "gru": true, "attention": true,
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
	// activation are reported now, at the layer that has them.
	if _, err := nn.New(j.spec(4, 2, true)); err != nil {
		return nil, j.specError(st, err)
	}
	return j, nil
}

func parseLayer(key string, n *yaml.Node) (layerSetting, error) {
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
	case "batchnorm":
		return layerSetting{spec: nn.LayerSpec{Type: nn.LayerBatchNorm}}, nil
	}
	if layersLater[key] {
		return layerSetting{}, fmt.Errorf("%s layers are not supported yet (supported: dense, dropout, batchnorm)", key)
	}
	return layerSetting{}, fmt.Errorf("unknown layer %q", key)
}

type modelJob struct {
	artifactsOnly
	layers []layerSetting
	paths  [][]string // where each layer is written
	init   string
	seed   uint64
}

// spec resolves `units: auto`: one sigmoid unit for two classes, k softmax units for k
// classes, one linear unit for regression.
func (j *modelJob) spec(inputs, outputs int, classification bool) nn.Spec {
	s := nn.Spec{Inputs: inputs, Init: j.init, Seed: j.seed}
	for _, l := range j.layers {
		ls := l.spec
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

// specError places an nn.SpecError at the layer it is about.
func (j *modelJob) specError(st *manifest.Stage, err error) error {
	if se, ok := err.(*nn.SpecError); ok && se.Layer >= 0 && se.Layer < len(j.paths) {
		return st.Errorf(j.paths[se.Layer], "layer %d: %s", se.Layer, se.Msg)
	}
	return st.Errorf([]string{"layers"}, "%v", err)
}

func (j *modelJob) Run(_ context.Context, env *pipeline.Env) error {
	fr, err := readFrame(env)
	if err != nil {
		return err
	}
	spec := j.spec(len(fr.FeatureNames()), fr.Outputs(), fr.Task == frame.Classification)
	net, err := nn.New(spec)
	if err != nil {
		return j.specError(env.Stage, err)
	}
	env.ReportTable(summaryTable(net.Spec()))
	fmt.Fprintf(env.Log, "%d inputs, %d outputs, %d parameters\n", net.Inputs(), net.Outputs(), net.NumParams())
	return saveNetwork(env, net)
}

// summaryTable lists a network's layers like Keras's model.summary().
func summaryTable(s nn.Spec) pipeline.Table {
	t := pipeline.Table{Title: "model", Header: []string{"layer", "type", "activation", "outputs", "params"}}
	width, total := s.Inputs, 0
	for i, l := range s.Layers {
		params := 0
		switch l.Type {
		case nn.LayerDense:
			params = width*l.Units + l.Units
			width = l.Units
		case nn.LayerBatchNorm:
			params = 2 * width
		}
		total += params
		t.Rows = append(t.Rows, []string{strconv.Itoa(i), l.Type, l.Activation, strconv.Itoa(width), strconv.Itoa(params)})
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
