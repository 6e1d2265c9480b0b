package steps

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/pipeline/settings"
	"github.com/loom-ml/loom/steps/frame"
)

// datasetKind loads a CSV/TSV file or generates synthetic data.
type datasetKind struct{}

// datasetSettings load a table from a CSV/TSV file, or generate a synthetic one.
type datasetSettings struct {
	// The data file, relative to the manifest's folder or absolute: CSV, TSV (.tsv) or
	// Parquet (.parquet) by extension; a CSV needs a header row.
	Path string `yaml:"path" check:"nonempty"`
	// The label column. A string target is a class label.
	Target string `yaml:"target" check:"nonempty"`
	// The feature columns; default every column but the target. Columns that are not numbers
	// are categorical.
	Features columns `yaml:"features"`
	// The field separator; default from the extension (, for .csv, tab for .tsv).
	Delimiter string `yaml:"delimiter" check:"nonempty"`
	// classification or regression; default classification for a string or integer target
	// with few values, else regression.
	Task string `yaml:"task" check:"oneof=classification regression"`
	// Columns computed from each row, in order, before the target is picked, so that a target
	// may be derived (had_affair: "affairs > 0"); features may name them.
	Derive *deriveStep `yaml:"derive"`
	// Columns removed after derive, such as the one a derived target was computed from.
	Drop columns `yaml:"drop" check:"nonempty,unique"`
	// A second file with the same columns, read as the test split; a split step then draws
	// only the validation rows from the others.
	TestPath string `yaml:"test_path" check:"nonempty"`
	// Synthetic data instead of a file.
	Generate *generateSettings `yaml:"generate"`
	// Tokenises a text column into token features. The column keeps its text (filter and
	// derive may read it) until the split step, which fits the vocabulary on the train rows
	// only and replaces the column by its token columns; without a split every row is train
	// and the model stage tokenises. Encode, impute, normalize, outliers and augment skip text
	// and token columns unless named.
	Text *textSettings `yaml:"text"`
}

// Check implements settings.Checker.
func (s *datasetSettings) Check() error {
	switch {
	case s.Generate != nil && s.Path != "":
		return &settings.FieldError{Key: "generate", Msg: "give either path or generate, not both"}
	case s.Generate == nil && s.Path == "":
		return errors.New(`needs "path" (a CSV, TSV or Parquet file) or "generate"`)
	case s.Generate == nil && s.Target == "":
		return &settings.FieldError{Key: "path", Msg: `needs "target" too, the label column of ` + s.Path}
	case s.Delimiter != "" && utf8.RuneCountInString(s.Delimiter) != 1:
		return &settings.FieldError{Key: "delimiter", Msg: "must be one character, got " + strconv.Quote(s.Delimiter)}
	case s.Text != nil && s.Generate != nil:
		return &settings.FieldError{Key: "text", Msg: "needs a file with a text column, not generated data"}
	case s.Generate != nil && (s.Derive != nil || s.Drop != nil || s.TestPath != ""):
		return &settings.FieldError{Key: "generate", Msg: "derive, drop and test_path apply to a file, not to generated data"}
	}
	return nil
}

// ExtendSchema implements settings.SchemaExtender: what Check enforces, for editors.
func (*datasetSettings) ExtendSchema(s map[string]any) {
	s["anyOf"] = []any{map[string]any{"required": []string{"path"}}, map[string]any{"required": []string{"generate"}}}
	s["dependentRequired"] = map[string]any{"path": []string{"target"}}
	s["type"] = "object"
}

// generateSettings choose a synthetic data set.
type generateSettings struct {
	// The generator.
	Kind string `yaml:"kind" check:"required,oneof=moons circles blobs xor spiral linear"`
	// Number of rows.
	N int `yaml:"n" check:"gte=1"`
	// Number of feature columns.
	Features int `yaml:"features" check:"gte=1"`
	// Number of classes.
	Classes int `yaml:"classes" check:"gte=1"`
	// Standard deviation of the Gaussian noise added to the features.
	Noise float64 `yaml:"noise" check:"gte=0"`
	Seed  seed    `yaml:"seed"`
}

// textSettings mark a column as text to tokenise (frame.MarkText); the vocabulary is fitted
// once the rows are split.
type textSettings struct {
	// The text column (a column that is not all numbers, not the target).
	Column string `yaml:"column" check:"required,nonempty"`
	// word: lower-cased runs of letters and digits, apostrophes inside words kept; char:
	// lower-cased characters, white space runs as one space.
	Level string `yaml:"level" default:"word" check:"oneof=word char"`
	// ids (default): length columns <column>_0..<column>_{length-1} of token ids, 0 padding, 1
	// out of vocabulary, 2.. the vocabulary by descending train count; counts: a column
	// <column>[token] per vocabulary token counting it in the row, and <column>[#oov] counting
	// the rest.
	Output string `yaml:"output" check:"oneof=ids counts"`
	// Token ids per row (required with output ids): longer texts are truncated, shorter
	// padded with 0.
	Length int `yaml:"length" check:"gte=1"`
	// post (default): pad and truncate at the end, keeping the first tokens; pre: at the
	// start, keeping the last tokens.
	Pad string `yaml:"pad" check:"oneof=post pre"`
	// Largest vocabulary size, padding and out-of-vocabulary ids included: the vocab-2 most
	// frequent train tokens are kept. Default 0, every token.
	Vocab int `yaml:"vocab" check:"gte=0"`
	// Drops tokens seen fewer times in the train rows (default 1).
	MinCount int `yaml:"min_count" check:"gte=0"`
	// With level word and output counts, also count runs of 2..ngrams consecutive words
	// ("not good"). Default 1.
	NGrams int `yaml:"ngrams" check:"gte=1"`
}

func (t *textSettings) options() frame.TextOptions {
	return frame.TextOptions{Level: t.Level, Output: t.Output, Length: t.Length, Pad: t.Pad,
		Vocab: t.Vocab, MinCount: t.MinCount, NGrams: t.NGrams}
}

func (datasetKind) Version() string { return "1+frame" + frame.Version }

func (datasetKind) Prepare(st *manifest.Stage, m *manifest.Manifest) (pipeline.Job, error) {
	var s datasetSettings
	if err := settings.Decode(st, m, &s); err != nil {
		return nil, err
	}
	if s.Text != nil {
		var oe *frame.OptionError
		if err := s.Text.options().Check(); errors.As(err, &oe) {
			return nil, st.Errorf([]string{"text", oe.Option}, "dataset: text %v", err)
		} else if err != nil {
			return nil, err
		}
	}
	if s.Generate != nil {
		// Check the options now, so a mistake is a manifest error, not a failed run.
		if _, err := frame.Generate(s.genOptions()); err != nil {
			return nil, st.Errorf([]string{"generate"}, "dataset: %v", err)
		}
	}
	j := &datasetJob{s: s, st: st}
	if err := j.findPseudonyms(st, m); err != nil {
		return nil, err
	}
	return j, nil
}

// pseudonym is a request, from a preprocess stage downstream, to hash columns as they are read.
type pseudonym struct {
	columns []string
	salt    []byte
}

// findPseudonyms collects the pseudonymize steps of the preprocess stages whose data comes
// from this dataset stage: it hashes those columns itself, so that the raw values are never
// stored.
func (j *datasetJob) findPseudonyms(st *manifest.Stage, m *manifest.Manifest) error {
	for _, name := range m.Order {
		other := m.Stages[name]
		if _, ok := kindOf(other.Uses).(preprocessKind); !ok {
			continue
		}
		up, err := m.Closure(name)
		if err != nil || !contains(up, st.Name) {
			continue
		}
		var s preprocessSettings
		if settings.Decode(other, m, &s) != nil {
			continue // the preprocess stage reports its own mistakes
		}
		for i, step := range s.Steps {
			p := step.Pseudonymize
			if p == nil {
				continue
			}
			salt := os.Getenv(p.SaltEnv)
			if salt == "" {
				return other.Errorf([]string{"steps", strconv.Itoa(i), "pseudonymize", "salt_env"},
					"pseudonymize: the environment variable %s, the salt, is not set", p.SaltEnv)
			}
			j.pseudonyms = append(j.pseudonyms, pseudonym{columns: p.Columns, salt: []byte(salt)})
		}
	}
	return nil
}

// SecretDigest implements pipeline.SecretJob: an HMAC keyed by each salt, so that another salt
// is another key, while neither the key nor the recipe holds a salt.
func (j *datasetJob) SecretDigest() string {
	if len(j.pseudonyms) == 0 {
		return ""
	}
	h := sha256.New()
	for _, p := range j.pseudonyms {
		m := hmac.New(sha256.New, p.salt)
		m.Write([]byte("loom pseudonymize"))
		h.Write(m.Sum(nil))
		h.Write([]byte(strings.Join(p.columns, "\x00")))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (s *datasetSettings) genOptions() frame.GenOptions {
	g := s.Generate
	return frame.GenOptions{Kind: g.Kind, N: g.N, Features: g.Features, Classes: g.Classes, Noise: g.Noise, Seed: uint64(g.Seed), Task: s.Task}
}

type datasetJob struct {
	s          datasetSettings
	st         *manifest.Stage
	pseudonyms []pseudonym
}

// Outs implements pipeline.Job: a dataset writes only its artifact.
func (j *datasetJob) Outs() []string { return nil }

func (j *datasetJob) Deps() []string {
	var deps []string
	for _, p := range []string{j.s.Path, j.s.TestPath} {
		if p != "" {
			deps = append(deps, p)
		}
	}
	return deps
}

// userPath is the manifest's spelling of abs, one of the files the stage reads.
func (j *datasetJob) userPath(env *pipeline.Env, abs string) string {
	if j.s.TestPath != "" && abs == env.Abs(j.s.TestPath) {
		return j.s.TestPath
	}
	return j.s.Path
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
		opt := frame.ReadOptions{Delimiter: delim, Target: j.s.Target, Features: j.s.Features, Task: j.s.Task,
			Drop: j.s.Drop, Done: ctx.Done()}
		if j.s.Derive != nil {
			for _, d := range *j.s.Derive {
				opt.Derive = append(opt.Derive, d.(frame.Derive))
			}
		}
		if j.s.TestPath != "" {
			opt.TestPath = env.Abs(j.s.TestPath)
		}
		fr, err = frame.Read(env.Abs(j.s.Path), opt)
		var (
			de *frame.DataError
			ne *frame.NoColumnError
		)
		if errors.As(err, &de) {
			de.File = j.userPath(env, de.File) // as the user wrote it
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
	for _, p := range j.pseudonyms {
		if err := (frame.Pseudonymize{Columns: p.columns, Salt: p.salt}).Apply(fr); err != nil {
			return fmt.Errorf("pseudonymize: %v", err)
		}
	}
	if t := j.s.Text; t != nil {
		if err := frame.MarkText(fr, t.Column, t.options()); err != nil {
			return j.st.Errorf([]string{"text", "column"}, "dataset: %v", err)
		}
	}
	logShape(env, fr)
	return writeFrame(ctx, env, fr)
}
