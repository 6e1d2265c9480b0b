package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/loom-ml/loom/bundle"
	"github.com/loom-ml/loom/onnx"
	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/serve"
	"github.com/loom-ml/loom/steps"
)

// The commands that use a trained model: predict, serve and export.

// modelFlags choose a model: a train stage of the manifest, or a bundle file.
type modelFlags struct {
	manifestFlags
	model string
}

func (mf *modelFlags) register(fs *flag.FlagSet) {
	mf.manifestFlags.register(fs, false)
	fs.StringVar(&mf.model, "model", "", "a train stage of the manifest, or a bundle file (default: the manifest's only train stage)")
}

// isFile reports whether the --model value names a file rather than a stage: stage names have
// no dots or slashes.
func isFile(model string) bool { return strings.ContainsAny(model, "./\\") }

// load returns the model: read from a bundle file, or the train stage's, which is run first
// unless cached (its log goes to log).
func (mf *modelFlags) load(ctx context.Context, log io.Writer) (*bundle.Bundle, error) {
	if isFile(mf.model) {
		b, err := bundle.ReadFile(mf.model)
		if os.IsNotExist(err) {
			return nil, usagef("--model %s: no such file", mf.model)
		}
		return b, err
	}
	ws, err := mf.open()
	if err != nil {
		return nil, err
	}
	stage := mf.model
	if stage == "" {
		switch trains := steps.ModelStages(ws.M); len(trains) {
		case 0:
			return nil, usagef("%s has no train stage: give --model", ws.M.Path)
		case 1:
			stage = trains[0]
		default:
			return nil, usagef("%s has several train stages (%s): choose one with --model", ws.M.Path, strings.Join(trains, ", "))
		}
	} else if st, ok := ws.M.Stages[stage]; !ok {
		return nil, usagef("--model %s: not a stage of %s", stage, ws.M.Path)
	} else if !contains(steps.ModelStages(ws.M), stage) {
		return nil, usagef("--model %s: a %s stage, not a train stage", stage, st.Uses)
	}
	rep, err := ws.Run(ctx, pipeline.Options{Targets: []string{stage}, Log: log, NotAnExperiment: true})
	if err != nil {
		return nil, err
	}
	if err := runExit(log, rep); err != nil {
		return nil, err
	}
	b, err := bundle.ReadFile(filepath.Join(pipeline.LayoutOf(ws.M.Dir).Out(stage), steps.ModelFile))
	if err != nil {
		return nil, err
	}
	b.Loom, b.Pipeline, b.Stage = bundle.LoomVersion(), ws.M.Name, stage
	for _, st := range rep.Stages {
		if st.Name == stage && st.Entry != nil {
			b.Metrics = st.Entry.Metrics
		}
	}
	return b, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func cmdPredict(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("predict", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	input := fs.String("input", "", "the data to score: CSV, TSV, JSON lines (.jsonl) or Parquet, by extension")
	output := fs.String("output", "", "where to write the predictions: .csv, .jsonl or .parquet (default: CSV on standard output)")
	var keep stringList
	fs.Var(&keep, "keep", "an input column to copy into the output; repeatable")
	asJSON := fs.Bool("json", false, "write JSON lines instead of CSV")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *input == "" {
		return usagef("--input is required: the data to score")
	}
	b, err := mf.load(ctx, stderr)
	if err != nil {
		return err
	}
	fr, kept, err := b.ReadData(*input, keep)
	if err != nil {
		return missingIsUsage(err)
	}
	preds, err := b.Score(fr)
	if err != nil {
		return err
	}
	switch {
	case *output != "":
		return preds.WriteFile(*output, kept)
	case *asJSON:
		return preds.WriteJSONLines(stdout, kept)
	}
	return preds.WriteCSV(stdout, kept)
}

func cmdExport(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	format := fs.String("format", "", "bundle or onnx")
	out := fs.String("o", "", "the file to write")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("-o is required: the file to write")
	}
	if *format != "bundle" && *format != "onnx" {
		return usagef("--format must be bundle or onnx, not %q", *format)
	}
	b, err := mf.load(ctx, stderr)
	if err != nil {
		return err
	}
	if *format == "bundle" {
		return writeAtomically(*out, b.Write)
	}
	model, err := onnx.Export(b)
	if err != nil {
		return err
	}
	return writeAtomically(*out, func(w io.Writer) error { _, err := w.Write(model); return err })
}

// writeAtomically writes path through a temporary file in its folder, renamed into place, so
// that a failed export leaves no half-written file.
func writeAtomically(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = write(tmp)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func cmdServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var mf modelFlags
	mf.register(fs)
	addr := fs.String("addr", "127.0.0.1:8080", "the address to listen on")
	maxBody := fs.Int64("max-body", 16<<20, "the largest request body, in bytes")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	b, err := mf.load(ctx, stderr)
	if err != nil {
		return err
	}
	srv, err := serve.New(b, serve.Options{MaxBody: *maxBody, Log: stderr})
	if err != nil {
		return err
	}
	return srv.ListenAndServe(ctx, *addr, func(a string) {
		fmt.Fprintf(stderr, "loom serve: %s of %s on http://%s\n", b.Stage, b.Pipeline, a)
	})
}
