package steps

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/expr-lang/expr/parser"
	"gopkg.in/yaml.v3"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/pipeline/settings"
	"github.com/loom-ml/loom/steps/frame"
)

// preprocessKind applies the preprocess steps in order.
type preprocessKind struct{}

func (preprocessKind) Version() string { return "1+frame" + frame.Version }

// preprocessSettings transform the data: an ordered list of steps.
type preprocessSettings struct {
	readsData
	// The steps, applied in order; each item has exactly one key. Without a split step every
	// row is in the train split.
	Steps []preprocessStep `yaml:"steps" check:"required"`
}

// preprocessStep is one preprocessing step: a mapping with exactly one key. Adding a step is a
// field here and a type that implements stepOptions.
type preprocessStep struct {
	settings.OneKey
	// Drops the rows with a missing value (true), or with one in the listed columns.
	DropMissing *dropMissing `yaml:"drop_missing"`
	// Fills missing values.
	Impute *imputeStep `yaml:"impute"`
	// Keeps the rows where this expression is true; columns are variables.
	Filter *filterStep `yaml:"filter" check:"nonempty"`
	// New columns, each computed by an expression over the columns.
	Derive *deriveStep `yaml:"derive"`
	// Keeps only these columns (and the target).
	Select *selectStep `yaml:"select"`
	// Removes these columns.
	Drop *dropStep `yaml:"drop"`
	// Removes the rows that are outliers in any of the columns.
	Outliers *outliersStep `yaml:"outliers"`
	// Encodes categorical columns as numbers.
	Encode *encodeStep `yaml:"encode"`
	// Splits the rows into train, validation and test sets.
	Split *splitStep `yaml:"split"`
	// Scales the numeric features with statistics from the train split only, applied to
	// every split.
	Normalize *normalizeStep `yaml:"normalize" check:"oneof=zscore minmax robust"`
	// Adds rows to the train split only.
	Augment *augmentStep `yaml:"augment"`
	// Replaces the values of columns by a keyed hash (HMAC-SHA-256 with a salt from the
	// environment). The dataset stage this data comes from hashes them as it reads the file,
	// so the raw values never reach the cache, an artifact or a log.
	Pseudonymize *pseudonymizeStep `yaml:"pseudonymize"`
}

// pseudonymizeStep names the columns to pseudonymize and where the salt is.
type pseudonymizeStep struct {
	// The columns whose values are replaced.
	Columns columns `yaml:"columns" check:"required,nonempty"`
	// The environment variable that holds the salt (the HMAC key); it is never stored.
	SaltEnv string `yaml:"salt_env" check:"required,nonempty"`
}

// frameSteps implements stepOptions: nothing is left to do, the dataset stage hashed the columns.
func (p *pseudonymizeStep) frameSteps() []frame.Step { return nil }

// stepOptions are a preprocess step's settings; frameSteps turns them into the frame steps
// they stand for: none for drop_missing: false, one per new column for derive, else one.
type stepOptions interface {
	frameSteps() []frame.Step
}

// frameSteps returns the step's key and its frame steps.
func (p *preprocessStep) frameSteps() (string, []frame.Step) {
	key, opts := settings.Chosen(p)
	return key, opts.(stepOptions).frameSteps()
}

type (
	filterStep    string
	selectStep    []string
	dropStep      []string
	normalizeStep string
)

func (f *filterStep) frameSteps() []frame.Step { return []frame.Step{frame.Filter{Expr: string(*f)}} }
func (s *selectStep) frameSteps() []frame.Step { return []frame.Step{frame.Select{Columns: *s}} }
func (d *dropStep) frameSteps() []frame.Step   { return []frame.Step{frame.Drop{Columns: *d}} }
func (n *normalizeStep) frameSteps() []frame.Step {
	return []frame.Step{frame.Normalize{Method: string(*n)}}
}
func (d *deriveStep) frameSteps() []frame.Step { return *d }

func (d *dropMissing) frameSteps() []frame.Step {
	if !d.on {
		return nil
	}
	return []frame.Step{frame.DropMissing{Columns: d.columns}}
}

func (i *imputeStep) frameSteps() []frame.Step {
	return []frame.Step{frame.Impute{Strategy: i.Strategy, Value: i.Value.v, Columns: i.Columns}}
}

func (o *outliersStep) frameSteps() []frame.Step {
	return []frame.Step{frame.Outliers{Method: o.Method, Threshold: o.Threshold, Columns: o.Columns}}
}

func (e *encodeStep) frameSteps() []frame.Step {
	return []frame.Step{frame.Encode{Columns: e.Columns, Method: e.Method}}
}

func (s *splitStep) frameSteps() []frame.Step {
	return []frame.Step{frame.SplitData{Test: s.Test, Val: s.Val, Stratify: s.Stratify, Seed: uint64(s.Seed), Column: s.Column}}
}

func (a *augmentStep) frameSteps() []frame.Step {
	step := frame.Augment{Oversample: a.Oversample, Seed: uint64(a.Seed)}
	if a.Noise != nil {
		step.NoiseStd, step.Copies = a.Noise.Std, a.Noise.Copies
	}
	return []frame.Step{step}
}

// dropMissing is drop_missing's value: true, false, or the columns to look at.
type dropMissing struct {
	on      bool
	columns []string
}

// DecodeSetting implements settings.Value.
func (d *dropMissing) DecodeSetting(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		d.on = true
		return decodeStrings(n, &d.columns)
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return errors.New("must be true, false or a list of columns")
	}
	return n.Decode(&d.on)
}

// SettingSchema implements settings.Value.
func (*dropMissing) SettingSchema() map[string]any {
	return map[string]any{"anyOf": []any{map[string]any{"type": "boolean"}, map[string]any{"type": "array", "items": map[string]any{"type": "string"}}}}
}

// decodeStrings decodes a list of strings, refusing numbers and mappings.
func decodeStrings(n *yaml.Node, out *[]string) error {
	for i, it := range n.Content {
		if it.Kind != yaml.ScalarNode || it.ShortTag() != "!!str" {
			return fmt.Errorf("item %d must be a string", i)
		}
		*out = append(*out, it.Value)
	}
	return nil
}

// imputeStep fills missing values.
type imputeStep struct {
	// How a missing value is filled; statistics come from the train split.
	Strategy string `yaml:"strategy" check:"required,oneof=mean median most_frequent constant"`
	// The fill value for strategy constant.
	Value fillValue `yaml:"value"`
	// The columns filled; default every column with a missing value.
	Columns columns `yaml:"columns"`
}

// fillValue is impute's constant: a number, a string or a boolean.
type fillValue struct{ v any }

// DecodeSetting implements settings.Value.
func (f *fillValue) DecodeSetting(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
		return errors.New("must be a number, a string or a boolean")
	}
	return n.Decode(&f.v)
}

// SettingSchema implements settings.Value.
func (*fillValue) SettingSchema() map[string]any {
	return map[string]any{"type": []string{"number", "string", "boolean"}}
}

// deriveStep is derive's value: new columns in the order written, so that one may use another.
type deriveStep []frame.Step

// DecodeSetting implements settings.Value.
func (d *deriveStep) DecodeSetting(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode || len(n.Content) == 0 {
		return errors.New("must be a mapping from new column to expression")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" || v.Value == "" {
			return fmt.Errorf("%s must be an expression", k.Value)
		}
		*d = append(*d, frame.Derive{Column: k.Value, Expr: v.Value})
	}
	return nil
}

// SettingSchema implements settings.Value.
func (*deriveStep) SettingSchema() map[string]any {
	return map[string]any{"type": "object", "minProperties": 1, "additionalProperties": map[string]any{"type": "string", "minLength": 1}}
}

// outliersStep removes the rows that are outliers in any of the columns.
type outliersStep struct {
	// zscore: |x - mean| / std > threshold; iqr: outside [Q1 - threshold*IQR, Q3 + threshold*IQR].
	Method string `yaml:"method" default:"zscore" check:"oneof=zscore iqr"`
	// The cut-off (default 3 for zscore, 1.5 for iqr).
	Threshold float64 `yaml:"threshold" check:"gt=0"`
	// The columns checked; default every numeric feature.
	Columns columns `yaml:"columns"`
}

// encodeStep encodes categorical columns as numbers.
type encodeStep struct {
	// The columns encoded; default every categorical feature.
	Columns columns `yaml:"columns"`
	// onehot: one 0/1 column per category; ordinal: the category's index.
	Method string `yaml:"method" default:"onehot" check:"oneof=onehot ordinal"`
}

// splitStep splits the rows into train, validation and test sets.
type splitStep struct {
	// Fraction of the rows in the test split.
	Test float64 `yaml:"test" check:"gte=0,lt=1"`
	// Fraction of the rows in the validation split.
	Val float64 `yaml:"val" check:"gte=0,lt=1"`
	// Keeps the class proportions in every split.
	Stratify bool `yaml:"stratify"`
	Seed     seed `yaml:"seed"`
	// Takes each row's split from this column instead (values train, val or validation,
	// test); the column is then removed.
	Column string `yaml:"column" check:"nonempty"`
}

// Check implements settings.Checker.
func (s *splitStep) Check() error {
	if s.Column != "" && (s.Test != 0 || s.Val != 0 || s.Stratify) {
		return &settings.FieldError{Key: "column", Msg: "takes the splits from the data: give no test, val or stratify with it"}
	}
	if s.Test+s.Val >= 1 {
		return fmt.Errorf("test + val must leave rows for training, got %g + %g", s.Test, s.Val)
	}
	return nil
}

// augmentStep adds rows to the train split only.
type augmentStep struct {
	// Adds copies of the train rows with Gaussian noise on the numeric features.
	Noise *noiseAugment `yaml:"noise"`
	// Duplicates rows of the minority classes until the classes are balanced.
	Oversample string `yaml:"oversample" check:"oneof=minority"`
	Seed       seed   `yaml:"seed"`
}

// noiseAugment adds noisy copies of the train rows.
type noiseAugment struct {
	// Standard deviation of the noise, in the features' units.
	Std float64 `yaml:"std" check:"gte=0"`
	// How many noisy copies of each row.
	Copies int `yaml:"copies" default:"1" check:"gte=1"`
}

// namedStep is a frame step with where it was written, for errors.
type namedStep struct {
	step frame.Step
	path []string // inside with: steps, i, key
}

func (preprocessKind) Prepare(st *manifest.Stage, m *manifest.Manifest) (pipeline.Job, error) {
	var s preprocessSettings
	if err := settings.Decode(st, m, &s); err != nil {
		return nil, err
	}
	var steps []namedStep
	for i, item := range s.Steps {
		key, parsed := item.frameSteps()
		path := []string{"steps", strconv.Itoa(i), key}
		for _, fs := range parsed {
			steps = append(steps, namedStep{fs, path})
		}
	}
	if err := checkExprs(st, steps); err != nil {
		return nil, err
	}
	return &preprocessJob{st: st, steps: steps}, nil
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
