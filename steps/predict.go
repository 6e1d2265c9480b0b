package steps

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"path/filepath"

	"github.com/loom-ml/loom/bundle"
	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/pipeline/settings"
	"github.com/loom-ml/loom/steps/frame"
	"github.com/loom-ml/loom/steps/metrics"
)

// predictKind scores a data file with a trained model.
type predictKind struct{}

func (predictKind) Version() string {
	return "1+nn" + nn.Version + "+frame" + frame.Version + "+metrics" + metrics.Version
}

// predictSettings score a data file with a trained model, replaying the fitted preprocessing
// of the model's data on it, and output predictions.csv: the keep columns, prediction, and a
// prob_<label> column per class, in the input's row order.
type predictSettings struct {
	// The train stage whose model scores the data.
	Model string `yaml:"model" check:"required,stage"`
	// The data: CSV, TSV, JSON lines (.jsonl) or Parquet by extension, relative to the manifest's
	// folder or absolute. It holds the model's feature columns in any order; other columns
	// are ignored and the target may be absent.
	Input filePath `yaml:"input" check:"required"`
	// Input columns copied into the predictions before them, e.g. an id.
	Keep []string `yaml:"keep"`
	// The output: predictions.csv, or predictions.parquet.
	Format string `yaml:"format" default:"csv" check:"oneof=csv parquet"`
}

func (predictKind) Prepare(st *manifest.Stage, m *manifest.Manifest) (pipeline.Job, error) {
	var s predictSettings
	if err := settings.Decode(st, m, &s); err != nil {
		return nil, err
	}
	return &predictJob{s: s}, nil
}

type predictJob struct{ s predictSettings }

// Deps implements pipeline.Job: the input file is part of the key.
func (j *predictJob) Deps() []string { return []string{string(j.s.Input)} }

// Outs implements pipeline.Job: predictions are an artifact, not a workspace file.
func (j *predictJob) Outs() []string { return nil }

func (j *predictJob) Run(ctx context.Context, env *pipeline.Env) error {
	b, err := loadBundle(env)
	if err != nil {
		return err
	}
	fr, keep, err := b.ReadData(env.Abs(string(j.s.Input)), j.s.Keep)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	preds, err := b.Score(fr)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "%d rows scored\n", preds.Rows())
	if j.s.Format == "parquet" {
		return writeFileWith(filepath.Join(env.Out, "predictions.parquet"), func(w io.Writer) error { return preds.WriteParquet(w, keep) })
	}
	return writeFileWith(filepath.Join(env.Out, predictionsFile), func(w io.Writer) error { return preds.WriteCSV(w, keep) })
}

// loadBundle reads the model of the train stage this stage needs.
func loadBundle(env *pipeline.Env) (*bundle.Bundle, error) {
	f, in, err := openInput(env, "model", modelFile, namesOf(trainKind{})...)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := bundle.Read(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("model from stage %s: %w", in.Stage, err)
	}
	return b, nil
}
