package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/loom-ml/loom/steps/frame"
)

// ReadData reads new data for the model from a file: CSV or TSV, or JSON lines (.jsonl,
// .ndjson), by extension. It returns the frame of the model's fields and the text of the keep
// columns, which may be features or any other column of the file.
func (b *Bundle) ReadData(path string, keep []string) (*frame.Frame, Keep, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Keep{}, err
	}
	fields := slices.Clone(b.Fields)
	for _, k := range keep {
		if !slices.ContainsFunc(fields, func(f frame.Field) bool { return f.Name == k }) {
			fields = append(fields, frame.Field{Name: k, Kind: frame.Categorical.String()})
		}
	}
	var fr *frame.Frame
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		fr, err = frame.ReadJSONLines(path, data, fields)
	default:
		fr, err = frame.ReadFeatures(path, data, fields, 0)
	}
	if err != nil {
		return nil, Keep{}, err
	}
	return fr, keepColumns(fr, keep), nil
}

// keepColumns takes the text of the keep columns, before the transforms change them.
func keepColumns(fr *frame.Frame, names []string) Keep {
	k := Keep{Names: names, Values: make([][]string, len(names))}
	for i, n := range names {
		c := fr.Column(n)
		k.Values[i] = make([]string, fr.Rows())
		for r := range k.Values[i] {
			k.Values[i][r] = c.Text(r)
		}
	}
	return k
}

// Score predicts every row of fr (a frame of the model's fields).
func (b *Bundle) Score(fr *frame.Frame) (*Predictions, error) {
	x, err := b.Matrix(fr)
	if err != nil {
		return nil, err
	}
	return b.Predict(x, fr.Rows()), nil
}

// WriteFile writes predictions to path: JSON lines for .jsonl and .ndjson, else CSV.
func (p *Predictions) WriteFile(path string, keep Keep) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		err = p.WriteJSONLines(f, keep)
	case ".csv", ".tsv", "":
		err = p.WriteCSV(f, keep)
	default:
		err = fmt.Errorf("%s: write .csv or .jsonl (Parquet comes with the data-in issue)", path)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
