// Package bundle is a trained model with everything prediction needs: the network, the fitted
// preprocessing to replay on new data, the input columns with their types, the class labels,
// loom's version and the pipeline's name. A bundle is one safetensors file: the network's
// tensors as nn saves them (so PyTorch's safetensors reader loads the weights), with the rest
// as JSON under the metadata key "loom_bundle". A train stage writes its model this way.
package bundle

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strings"

	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/steps/frame"
)

// Version is the bundle format this loom writes and the newest it reads.
const Version = 1

// metaKey is the safetensors metadata key that holds Info.
const metaKey = "loom_bundle"

// Info is what a bundle holds besides the network.
type Info struct {
	Version int `json:"version"`
	// Loom, Pipeline and Stage say where the bundle came from: the loom that exported it, the
	// manifest's name and the train stage. A train stage's own model leaves them empty, since a
	// cached result must not depend on what its ActionID does not cover.
	Loom     string `json:"loom,omitempty"`
	Pipeline string `json:"pipeline,omitempty"`
	Stage    string `json:"stage,omitempty"`
	Target   string `json:"target"`
	Task     string `json:"task"`
	// Classes are the class labels, in the order of the network's outputs.
	Classes []string `json:"classes,omitempty"`
	// Fields are the columns new data must have, as the data file had them.
	Fields []frame.Field `json:"fields"`
	// Transforms are the fitted preprocessing steps, replayed in order on new data.
	Transforms []frame.Transform `json:"transforms,omitempty"`
	// Features are the columns of the network's input, after the transforms.
	Features []string `json:"features"`
	// Metrics are the train stage's metrics, when exported.
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// Bundle is a model ready to predict.
type Bundle struct {
	Info
	Net *nn.Network
}

// New bundles net, trained on fr (the frame as the train stage read it).
func New(net *nn.Network, fr *frame.Frame) (*Bundle, error) {
	g, err := fr.Prepared()
	if err != nil {
		return nil, err
	}
	b := &Bundle{Net: net, Info: Info{
		Version: Version, Target: g.Target, Task: string(g.Task), Classes: g.ClassLabels,
		Fields: g.Fields, Transforms: g.Transforms, Features: g.FeatureNames(),
	}}
	if len(b.Features) != net.Inputs() {
		return nil, fmt.Errorf("the model takes %d inputs but the data has %d features", net.Inputs(), len(b.Features))
	}
	return b, nil
}

// LoomVersion is this loom's module version and VCS revision, as the Go toolchain recorded them.
func LoomVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			v += " " + s.Value
		}
	}
	return v
}

// Write writes the bundle. The same bundle always gives the same bytes.
func (b *Bundle) Write(w io.Writer) error {
	js, err := json.Marshal(b.Info)
	if err != nil {
		return err
	}
	return b.Net.SaveWithMetadata(w, map[string]string{metaKey: string(js)})
}

// ErrNoBundle is Read's error for a network saved without a bundle's metadata: the output of a
// model stage, say, which has not seen data.
var ErrNoBundle = errors.New("this model file has no preprocessing or input columns with it (a train stage's model, or `loom export --format bundle`, has them)")

// Read reads a bundle written by Write, or says why it cannot.
func Read(r io.Reader) (*Bundle, error) {
	net, meta, err := nn.LoadWithMetadata(r)
	if err != nil {
		return nil, err
	}
	js, ok := meta[metaKey]
	if !ok {
		return nil, ErrNoBundle
	}
	var probe struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal([]byte(js), &probe); err != nil {
		return nil, fmt.Errorf("bundle metadata: %w", err)
	}
	if probe.Version < 1 || probe.Version > Version {
		return nil, fmt.Errorf("bundle format version %d: this loom reads versions 1 to %d; use a newer loom", probe.Version, Version)
	}
	b := &Bundle{Net: net}
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b.Info); err != nil {
		return nil, fmt.Errorf("bundle metadata: %w", err)
	}
	if len(b.Features) != net.Inputs() {
		return nil, fmt.Errorf("bundle: %d features for a network of %d inputs", len(b.Features), net.Inputs())
	}
	return b, nil
}

// ReadFile reads the bundle at path.
func ReadFile(path string) (*Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := Read(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// Matrix replays the fitted preprocessing on new data (a frame of the bundle's Fields, as
// frame.ReadFeatures makes) and returns the network's input, rows × len(Features). An unseen
// category gets what held-out rows got in training; a value still missing after the transforms
// is an error naming the row (1-based, of the input) and the column.
func (b *Bundle) Matrix(fr *frame.Frame) ([]float32, error) {
	fr.Target = b.Target
	if err := frame.Replay(fr, b.Transforms); err != nil {
		return nil, err
	}
	rows, width := fr.Rows(), len(b.Features)
	x := make([]float32, rows*width)
	for j, name := range b.Features {
		if c := fr.Column(name); c != nil && c.Kind == frame.Numeric {
			for r, v := range c.Num {
				if math.IsNaN(v) {
					return nil, missing(fr, r, name)
				}
				x[r*width+j] = float32(v)
			}
			continue
		}
		// A categorical column the manifest did not encode: one indicator per training level,
		// as Frame.Matrix laid it out.
		col, level, ok := strings.Cut(name, "=")
		c := fr.Column(col)
		if !ok || c == nil || c.Kind != frame.Categorical {
			return nil, fmt.Errorf("the data has no column %q after preprocessing", name)
		}
		for r, v := range c.Str {
			if v == "" {
				return nil, missing(fr, r, col)
			}
			if v == level {
				x[r*width+j] = 1
			}
		}
	}
	return x, nil
}

func missing(fr *frame.Frame, r int, col string) error {
	return fmt.Errorf("data row %d, column %q: the value is missing and the model's preprocessing fills none (add an impute step before training)", fr.Source[r]+1, col)
}

// Clone returns a copy with a network of its own: a network is not safe for concurrent use.
func (b *Bundle) Clone() (*Bundle, error) {
	var buf bytes.Buffer
	if err := b.Write(&buf); err != nil {
		return nil, err
	}
	c, err := Read(&buf)
	if err != nil {
		return nil, err
	}
	c.Info = b.Info
	return c, nil
}

// Levels returns the categories of a categorical field that the model was trained on: those
// its encode or tokenize transform learned; nil when none did.
func (b *Bundle) Levels(field string) []string {
	for _, t := range b.Transforms {
		if t.Column == field && (t.Op == "onehot" || t.Op == "ordinal") {
			return t.Levels
		}
	}
	return nil
}

// Predict runs the network on x (rows × len(Features)).
func (b *Bundle) Predict(x []float32, rows int) *Predictions {
	out := make([]float32, rows*b.Net.Outputs())
	b.Net.PredictInto(out, x, rows)
	return &Predictions{Task: frame.Task(b.Task), Classes: b.Classes, Out: out, Width: b.Net.Outputs(), Threshold: 0.5}
}
