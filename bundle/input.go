package bundle

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/loom-ml/loom/steps/frame"
)

// ReadData reads new data for the model from a file: CSV or TSV, JSON lines (.jsonl,
// .ndjson) or Parquet (.parquet), by extension. It returns the frame of the model's fields and the text of the keep
// columns, which may be features or any other column of the file.
func (b *Bundle) ReadData(path string, keep []string) (*frame.Frame, Keep, error) {
	fields := slices.Clone(b.Fields)
	for _, k := range keep {
		if !slices.ContainsFunc(fields, func(f frame.Field) bool { return f.Name == k }) {
			fields = append(fields, frame.Field{Name: k, Kind: frame.Categorical.String()})
		}
	}
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".parquet" {
		fr, err := frame.ReadFeaturesParquet(path, fields)
		if err != nil {
			return nil, Keep{}, err
		}
		return fr, keepColumns(fr, keep), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Keep{}, err
	}
	var fr *frame.Frame
	if ext == ".jsonl" || ext == ".ndjson" {
		fr, err = frame.ReadJSONLines(path, data, fields)
	} else {
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

// WriteFile writes predictions to path: JSON lines for .jsonl and .ndjson, Parquet for
// .parquet, else CSV.
func (p *Predictions) WriteFile(path string, keep Keep) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		err = p.WriteJSONLines(f, keep)
	case ".parquet":
		err = p.WriteParquet(f, keep)
	case ".csv", ".tsv", "":
		err = p.WriteCSV(f, keep)
	default:
		err = fmt.Errorf("%s: write .csv, .jsonl or .parquet", path)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
