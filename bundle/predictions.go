package bundle

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"

	"github.com/loom-ml/loom/steps/frame"
	"github.com/loom-ml/loom/steps/metrics"
)

// Predictions are a model's outputs for some rows, with what turns them into labels.
type Predictions struct {
	Task      frame.Task
	Classes   []string  // classification: the labels, in the order of the outputs
	Out       []float32 // rows × Width, as the network computed them
	Width     int
	Threshold float64 // two classes: the class-1 probability at and above which a row is class 1
}

// Rows returns the number of rows.
func (p *Predictions) Rows() int { return len(p.Out) / p.Width }

func (p *Predictions) row(r int) []float32 { return p.Out[r*p.Width : (r+1)*p.Width] }

// Label returns row r's prediction: its class label, or its value for regression.
func (p *Predictions) Label(r int) string {
	if p.Task != frame.Classification {
		return formatFloat(p.Out[r*p.Width])
	}
	return p.Classes[metrics.ClassOf(p.row(r), p.Threshold)]
}

// Prob returns the probability of class k for row r; with one sigmoid output, class 0's is
// 1 - p.
func (p *Predictions) Prob(r, k int) float32 {
	row := p.row(r)
	if len(row) == 1 {
		if k == 0 {
			return 1 - row[0]
		}
		return row[0]
	}
	return row[k]
}

// Columns names what Cells writes: prediction, then for classification prob_<label> per class.
func (p *Predictions) Columns() []string {
	cols := []string{"prediction"}
	if p.Task == frame.Classification {
		for _, l := range p.Classes {
			cols = append(cols, "prob_"+l)
		}
	}
	return cols
}

// AppendCells appends row r's cells, as Columns names them, to dst.
func (p *Predictions) AppendCells(dst []string, r int) []string {
	dst = append(dst, p.Label(r))
	if p.Task == frame.Classification {
		for k := range p.Classes {
			dst = append(dst, formatFloat(p.Prob(r, k)))
		}
	}
	return dst
}

// formatFloat writes a float32 in the shortest form that reads back to the same float32.
func formatFloat(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }

// Keep is input columns written beside the predictions, one value per row.
type Keep struct {
	Names  []string
	Values [][]string // by column, then row
}

// WriteCSV writes the kept columns and the predictions, one row per input row, in input order.
func (p *Predictions) WriteCSV(w io.Writer, keep Keep) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(append(append([]string(nil), keep.Names...), p.Columns()...)); err != nil {
		return err
	}
	rec := make([]string, 0, len(keep.Names)+1+len(p.Classes))
	for r := range p.Rows() {
		rec = rec[:0]
		for _, col := range keep.Values {
			rec = append(rec, col[r])
		}
		if err := cw.Write(p.AppendCells(rec, r)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Record is one row's prediction as JSON writes it: the serve API's and the JSON-lines output's.
type Record struct {
	Keep          map[string]string  `json:"keep,omitempty"`
	Prediction    json.RawMessage    `json:"prediction"`
	Probabilities map[string]float32 `json:"probabilities,omitempty"`
}

// Record returns row r as a Record: a regression prediction is a JSON number, a class label a
// string.
func (p *Predictions) Record(r int) Record {
	var rec Record
	if p.Task == frame.Classification {
		rec.Prediction, _ = json.Marshal(p.Label(r))
		rec.Probabilities = make(map[string]float32, len(p.Classes))
		for k, l := range p.Classes {
			rec.Probabilities[l] = p.Prob(r, k)
		}
	} else {
		rec.Prediction = json.RawMessage(p.Label(r))
	}
	return rec
}

// WriteJSONLines writes one Record per line.
func (p *Predictions) WriteJSONLines(w io.Writer, keep Keep) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for r := range p.Rows() {
		rec := p.Record(r)
		if len(keep.Names) > 0 {
			rec.Keep = make(map[string]string, len(keep.Names))
			for i, n := range keep.Names {
				rec.Keep[n] = keep.Values[i][r]
			}
		}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	return bw.Flush()
}
