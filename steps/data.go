package steps

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"unicode/utf8"

	"github.com/expr-lang/expr/parser"
	"gopkg.in/yaml.v3"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/steps/frame"
)

// frameFile is the artifact file of dataset and preprocess stages.
const frameFile = "data.frame"

// dataKinds are the stage kinds whose artifact is a frame.
var dataKinds = []string{"preprocess", "dataset"}

// openInput opens the artifact file name of the upstream stage chosen by the setting key (or,
// without it, the one stage of the given kinds).
func openInput(env *pipeline.Env, key, name string, kinds ...string) (*os.File, pipeline.Input, error) {
	in, err := env.Input(key, kinds...)
	if err != nil {
		return nil, in, err
	}
	path, err := in.Path(name)
	if err != nil {
		return nil, in, err
	}
	f, err := os.Open(path)
	return f, in, err
}

// readFrame reads the frame of the data stage this stage needs. Cancelling ctx stops it.
func readFrame(ctx context.Context, env *pipeline.Env) (*frame.Frame, error) {
	f, in, err := openInput(env, "data", frameFile, dataKinds...)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fr, err := frame.ReadFrame(bufio.NewReader(ctxIO{ctx: ctx, r: f}))
	if err != nil {
		return nil, fmt.Errorf("data from stage %s: %w", in.Stage, err)
	}
	return fr, nil
}

// writeFrame writes fr as the stage's artifact. Cancelling ctx stops it.
func writeFrame(ctx context.Context, env *pipeline.Env, fr *frame.Frame) error {
	f, err := os.Create(filepath.Join(env.Out, frameFile))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(ctxIO{ctx: ctx, w: f}, 64<<10)
	if _, err := fr.WriteTo(w); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ctxIO reads from r or writes to w until ctx is cancelled: a frame of a million rows takes
// seconds to read or write, longer than a Ctrl-C should wait.
type ctxIO struct {
	ctx context.Context
	r   io.Reader
	w   io.Writer
}

func (c ctxIO) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func (c ctxIO) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// logShape logs a frame's size and split counts.
func logShape(env *pipeline.Env, fr *frame.Frame) {
	msg := fmt.Sprintf("%d rows (train %d, val %d, test %d), %d features",
		fr.Rows(), fr.Count(frame.Train), fr.Count(frame.Val), fr.Count(frame.Test), len(fr.FeatureNames()))
	if fr.Task == frame.Classification {
		msg += fmt.Sprintf(", %d classes", len(fr.ClassLabels))
	} else {
		msg += ", regression target"
	}
	fmt.Fprintln(env.Log, msg)
}

// datasetKind loads a CSV/TSV file or generates synthetic data.
type datasetKind struct{}

type datasetSettings struct {
	Path      string        `yaml:"path"`
	Target    string        `yaml:"target"`
	Features  []string      `yaml:"features"`
	Delimiter string        `yaml:"delimiter"`
	Task      string        `yaml:"task"`
	Generate  *genSettings  `yaml:"generate"`
	Text      *textSettings `yaml:"text"`
}

// textSettings mark a column as text to tokenise (frame.MarkText); the
// vocabulary is fitted once the rows are split.
type textSettings struct {
	Column   string `yaml:"column"`
	Level    string `yaml:"level"`
	Output   string `yaml:"output"`
	Length   int    `yaml:"length"`
	Pad      string `yaml:"pad"`
	Vocab    int    `yaml:"vocab"`
	MinCount int    `yaml:"min_count"`
	NGrams   int    `yaml:"ngrams"`
}

func (t *textSettings) options() frame.TextOptions {
	level := t.Level
	if level == "" {
		level = "word"
	}
	return frame.TextOptions{Level: level, Output: t.Output, Length: t.Length, Pad: t.Pad,
		Vocab: t.Vocab, MinCount: t.MinCount, NGrams: t.NGrams}
}

// checkText places a mistake in the text settings at the setting.
func checkText(st *manifest.Stage, s *datasetSettings) error {
	switch {
	case s.Text == nil:
		return nil
	case s.Generate != nil:
		return st.Errorf([]string{"text"}, "dataset: text needs a file with a text column, not generated data")
	case s.Text.Column == "":
		return st.Errorf([]string{"text"}, "dataset: text needs column, the text column to tokenise")
	}
	err := s.Text.options().Check()
	var oe *frame.OptionError
	if errors.As(err, &oe) {
		return st.Errorf([]string{"text", oe.Option}, "dataset: text %v", err)
	}
	return err
}

type genSettings struct {
	Kind     string  `yaml:"kind"`
	N        int     `yaml:"n"`
	Features int     `yaml:"features"`
	Classes  int     `yaml:"classes"`
	Noise    float64 `yaml:"noise"`
	Seed     uint64  `yaml:"seed"`
}

func (datasetKind) Version() string { return "1+frame" + frame.Version }

func (datasetKind) Prepare(st *manifest.Stage, _ *manifest.Manifest) (pipeline.Job, error) {
	var s datasetSettings
	if err := decode(st, &s); err != nil {
		return nil, err
	}
	switch {
	case s.Generate != nil && s.Path != "":
		return nil, st.Errorf([]string{"generate"}, "dataset: give either path or generate, not both")
	case s.Generate == nil && s.Path == "":
		return nil, st.Errorf(nil, "dataset: needs path (a CSV or TSV file) or generate")
	case s.Generate == nil && s.Target == "":
		return nil, st.Errorf([]string{"path"}, "dataset: needs target, the label column of %s", s.Path)
	}
	if s.Delimiter != "" && utf8.RuneCountInString(s.Delimiter) != 1 {
		return nil, st.Errorf([]string{"delimiter"}, "dataset: delimiter must be one character, got %q", s.Delimiter)
	}
	if err := checkText(st, &s); err != nil {
		return nil, err
	}
	if s.Generate != nil {
		// Check the options now, so a mistake is a manifest error, not a failed run.
		if _, err := frame.Generate(s.genOptions()); err != nil {
			return nil, st.Errorf([]string{"generate"}, "dataset: %v", err)
		}
	}
	return &datasetJob{s: s, st: st}, nil
}

func (s *datasetSettings) genOptions() frame.GenOptions {
	g := s.Generate
	return frame.GenOptions{Kind: g.Kind, N: g.N, Features: g.Features, Classes: g.Classes, Noise: g.Noise, Seed: g.Seed, Task: s.Task}
}

type datasetJob struct {
	s  datasetSettings
	st *manifest.Stage
}

// Outs implements pipeline.Job: a dataset writes only its artifact.
func (j *datasetJob) Outs() []string { return nil }

func (j *datasetJob) Deps() []string {
	if j.s.Path == "" {
		return nil
	}
	return []string{j.s.Path}
}

func (j *datasetJob) Run(ctx context.Context, env *pipeline.Env) error {
	var (
		fr  *frame.Frame
		err error
	)
	if j.s.Generate != nil {
		fr, err = frame.Generate(j.s.genOptions())
	} else {
		var delim rune
		if j.s.Delimiter != "" {
			delim, _ = utf8.DecodeRuneInString(j.s.Delimiter)
		}
		fr, err = frame.ReadCSV(env.Abs(j.s.Path), frame.CSVOptions{Delimiter: delim, Target: j.s.Target, Features: j.s.Features, Task: j.s.Task, Done: ctx.Done()})
		var (
			de *frame.DataError
			ne *frame.NoColumnError
		)
		if errors.As(err, &de) {
			de.File = j.s.Path // as the user wrote it
		}
		if errors.As(err, &ne) {
			// A column the manifest names wrongly is a mistake in the manifest: its position.
			at := []string{"target"}
			if ne.Role == "feature" {
				at = []string{"features", strconv.Itoa(ne.Index)}
			}
			return j.st.Errorf(at, "dataset: %s: %v", j.s.Path, ne)
		}
	}
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if t := j.s.Text; t != nil {
		if err := frame.MarkText(fr, t.Column, t.options()); err != nil {
			return j.st.Errorf([]string{"text", "column"}, "dataset: %v", err)
		}
	}
	logShape(env, fr)
	return writeFrame(ctx, env, fr)
}

// preprocessKind applies the preprocess steps in order.
type preprocessKind struct{}

func (preprocessKind) Version() string { return "1+frame" + frame.Version }

// namedStep is a frame step with where it was written, for errors.
type namedStep struct {
	step frame.Step
	path []string // inside with: steps, i, key
}

func (preprocessKind) Prepare(st *manifest.Stage, _ *manifest.Manifest) (pipeline.Job, error) {
	var raw struct {
		Steps []map[string]yaml.Node `yaml:"steps"`
	}
	if err := decode(st, &raw); err != nil {
		return nil, err
	}
	var (
		steps []namedStep
		errs  manifest.ErrorList
	)
	for i, item := range raw.Steps {
		for key, node := range item { // the schema allows exactly one key
			path := []string{"steps", strconv.Itoa(i), key}
			parsed, err := parseStep(key, &node)
			if err != nil {
				errs = append(errs, st.Errorf(path, "%s: %v", key, err))
				continue
			}
			for _, s := range parsed {
				steps = append(steps, namedStep{s, path})
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if err := checkExprs(st, steps); err != nil {
		return nil, err
	}
	return &preprocessJob{st: st, steps: steps}, nil
}

// parseStep turns one `steps` item into frame steps: none for drop_missing: false, one per
// new column for derive, else one.
func parseStep(key string, n *yaml.Node) ([]frame.Step, error) {
	if key == "derive" {
		// Columns are derived in the order written, so one may use another.
		var out []frame.Step
		for i := 0; i+1 < len(n.Content); i += 2 {
			var e string
			if err := n.Content[i+1].Decode(&e); err != nil {
				return nil, err
			}
			out = append(out, frame.Derive{Column: n.Content[i].Value, Expr: e})
		}
		return out, nil
	}
	s, err := parseOneStep(key, n)
	if s == nil || err != nil {
		return nil, err
	}
	return []frame.Step{s}, nil
}

func parseOneStep(key string, n *yaml.Node) (frame.Step, error) {
	switch key {
	case "drop_missing":
		var cols []string
		if n.Kind == yaml.SequenceNode {
			err := n.Decode(&cols)
			return frame.DropMissing{Columns: cols}, err
		}
		var on bool
		if err := n.Decode(&on); err != nil {
			return nil, fmt.Errorf("want true, false or a list of columns")
		}
		if !on {
			return nil, nil
		}
		return frame.DropMissing{}, nil
	case "impute":
		var v struct {
			Strategy string   `yaml:"strategy"`
			Value    any      `yaml:"value"`
			Columns  []string `yaml:"columns"`
		}
		err := n.Decode(&v)
		return frame.Impute{Strategy: v.Strategy, Value: v.Value, Columns: v.Columns}, err
	case "filter":
		var e string
		err := n.Decode(&e)
		return frame.Filter{Expr: e}, err
	case "select", "drop":
		var cols []string
		if err := n.Decode(&cols); err != nil {
			return nil, err
		}
		if key == "select" {
			return frame.Select{Columns: cols}, nil
		}
		return frame.Drop{Columns: cols}, nil
	case "outliers":
		var v struct {
			Method    string   `yaml:"method"`
			Threshold float64  `yaml:"threshold"`
			Columns   []string `yaml:"columns"`
		}
		err := n.Decode(&v)
		if v.Method == "" {
			v.Method = "zscore"
		}
		return frame.Outliers{Method: v.Method, Threshold: v.Threshold, Columns: v.Columns}, err
	case "encode":
		var v struct {
			Columns []string `yaml:"columns"`
			Method  string   `yaml:"method"`
		}
		err := n.Decode(&v)
		return frame.Encode{Columns: v.Columns, Method: v.Method}, err
	case "split":
		var v struct {
			Test     float64 `yaml:"test"`
			Val      float64 `yaml:"val"`
			Stratify bool    `yaml:"stratify"`
			Seed     uint64  `yaml:"seed"`
		}
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		if v.Test+v.Val >= 1 {
			return nil, fmt.Errorf("test + val must leave rows for training, got %g + %g", v.Test, v.Val)
		}
		return frame.SplitData{Test: v.Test, Val: v.Val, Stratify: v.Stratify, Seed: v.Seed}, nil
	case "normalize":
		var m string
		err := n.Decode(&m)
		return frame.Normalize{Method: m}, err
	case "augment":
		var v struct {
			Noise *struct {
				Std    float64 `yaml:"std"`
				Copies int     `yaml:"copies"`
			} `yaml:"noise"`
			Oversample string `yaml:"oversample"`
			Seed       uint64 `yaml:"seed"`
		}
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		a := frame.Augment{Oversample: v.Oversample, Seed: v.Seed}
		if v.Noise != nil {
			a.NoiseStd, a.Copies = v.Noise.Std, max(v.Noise.Copies, 1)
		}
		return a, nil
	}
	return nil, fmt.Errorf("unknown step")
}

type preprocessJob struct {
	artifactsOnly
	st    *manifest.Stage
	steps []namedStep
}

func (j *preprocessJob) Run(ctx context.Context, env *pipeline.Env) error {
	fr, err := readFrame(ctx, env)
	if err != nil {
		return err
	}
	for _, s := range j.steps {
		// Every step is linear in the frame's cells, so checking between them answers Ctrl-C
		// within a second on any data that fits in memory.
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.step.Apply(fr); err != nil {
			return stepError(j.st, s, err)
		}
	}
	logShape(env, fr)
	return writeFrame(ctx, env, fr)
}

// stepError places a step's error at the step in the manifest. An expression that does
// not compile is a mistake in the manifest; anything else is about the data.
func stepError(st *manifest.Stage, s namedStep, err error) error {
	key := s.path[len(s.path)-1]
	var ee *frame.ExprError
	if errors.As(err, &ee) {
		return st.Errorf(s.path, "%s: %v", key, err)
	}
	return fmt.Errorf("%s: %s: %w", st.PosOf(s.path...), key, err)
}

// checkExprs compiles the expressions of filter and derive steps that do not depend on
// columns, so that syntax errors are reported before anything runs. Unknown column names can
// only be found once the data is there, when the step runs.
func checkExprs(st *manifest.Stage, steps []namedStep) error {
	var errs manifest.ErrorList
	for _, s := range steps {
		var src string
		switch v := s.step.(type) {
		case frame.Filter:
			src = v.Expr
		case frame.Derive:
			src = v.Expr
		default:
			continue
		}
		if _, err := parser.Parse(src); err != nil {
			errs = append(errs, st.Errorf(s.path, "%s: %v", s.path[len(s.path)-1], err))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}
