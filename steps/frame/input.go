package frame

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// New data for a trained model: its feature columns, named as in the model's Fields, in any
// order, among other columns that are ignored. The frames these functions return have every
// row in the Test split (so steps fitted on Train treat them as they treated held-out rows),
// Source counting the input's data rows, and no target column.

// ReadFeatures reads the fields from CSV or TSV data (delim 0: by path's extension).
// A field the header lacks, or a numeric field's cell that is not a number, is a *DataError
// naming the row and the column.
func ReadFeatures(path string, data []byte, fields []Field, delim rune) (*Frame, error) {
	delim = delimiterFor(path, delim)
	src := csvSource{path: path, data: data}
	raw, err := scanCSV(src, delim, allColumnsOf, nil, nil)
	if err != nil {
		return nil, err
	}
	cols := make([]int, len(fields))
	var text []bool
	for i, fd := range fields {
		j := indexOf(raw.header, fd.Name)
		if j < 0 {
			return nil, &DataError{File: path, Row: 1, Column: fd.Name, Err: fmt.Errorf("the model needs this column (the file has: %s)", strings.Join(raw.header, ", "))}
		}
		cols[i] = j
		if fd.Kind != Numeric.String() {
			if text == nil {
				text = make([]bool, len(raw.header))
			}
			text[j] = true
		} else if st := raw.stats[j]; st.bad > 0 {
			return nil, &DataError{File: path, Row: raw.lines[st.firstBad], Column: fd.Name, Err: fmt.Errorf("%q is not a number", st.firstBadText)}
		}
	}
	if text != nil {
		second, err := scanCSV(src, delim, nil, text, nil)
		if err != nil {
			return nil, err
		}
		raw.text = second.text
	}
	f := newInputFrame(fields, len(raw.lines))
	for i, j := range cols {
		if raw.text != nil && raw.text[j] != nil {
			f.Columns[i].Str = raw.text[j]
		} else {
			f.Columns[i].Num = raw.nums[j]
		}
	}
	return f, nil
}

// NewInput makes a frame of the fields for rows rows, every cell missing, to fill with SetCell.
func NewInput(fields []Field, rows int) *Frame {
	f := newInputFrame(fields, rows)
	for _, c := range f.Columns {
		if c.Kind == Numeric {
			c.Num = make([]float64, rows)
			for i := range c.Num {
				c.Num[i] = math.NaN()
			}
		} else {
			c.Str = make([]string, rows)
		}
	}
	return f
}

// SetCell stores a value given as text in row r of column i: a number or a missing marker in
// a numeric column, any text in a categorical one.
func (f *Frame) SetCell(i, r int, text string) error {
	c := f.Columns[i]
	if c.Kind == Categorical {
		if isMissing(text) {
			text = ""
		}
		c.Str[r] = text
		return nil
	}
	var st numStats
	x := st.parse(text, r)
	if st.bad > 0 {
		return fmt.Errorf("%q is not a number", text)
	}
	if math.Abs(x) > math.MaxFloat32 {
		return fmt.Errorf("%s is outside the range models compute in (float32)", text)
	}
	c.Num[r] = x
	return nil
}

// newInputFrame makes an empty frame of the fields for rows rows.
func newInputFrame(fields []Field, rows int) *Frame {
	f := &Frame{Splits: make([]Split, rows), Source: make([]int, rows), Fields: fields}
	for i := range f.Splits {
		f.Splits[i], f.Source[i] = Test, i
	}
	for _, fd := range fields {
		c := &Column{Name: fd.Name, Kind: Numeric}
		if fd.Kind != Numeric.String() {
			c.Kind = Categorical
		}
		f.Columns = append(f.Columns, c)
	}
	return f
}

// ReadJSONLines reads the fields from JSON lines: one object per line, keyed by column.
func ReadJSONLines(path string, data []byte, fields []Field) (*Frame, error) {
	var rows []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var rec map[string]any
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&rec); err != nil {
			return nil, &DataError{File: path, Row: line, Err: fmt.Errorf("not a JSON object: %v", err)}
		}
		rows = append(rows, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, &DataError{File: path, Err: err}
	}
	return FromRecords(path, rows, fields)
}

// FromRecords makes a frame of the fields from records keyed by column; a record's Row in
// errors is its 1-based position. A value is a number (json.Number, float64 or int), a string,
// a boolean, or null for missing; a field absent from a record is an error.
func FromRecords(path string, records []map[string]any, fields []Field) (*Frame, error) {
	if len(records) == 0 {
		return nil, &DataError{File: path, Err: errors.New("no rows")}
	}
	f := NewInput(fields, len(records))
	for i, fd := range fields {
		for r, rec := range records {
			v, ok := rec[fd.Name]
			if !ok {
				return nil, &DataError{File: path, Row: r + 1, Column: fd.Name, Err: errors.New("the model needs this column")}
			}
			var text string
			switch x := v.(type) {
			case nil:
				continue
			case json.Number:
				text = x.String()
			case float64:
				text = strconv.FormatFloat(x, 'g', -1, 64)
			case int:
				text = strconv.Itoa(x)
			case string:
				text = x
			case bool:
				text = strconv.FormatBool(x)
			default:
				return nil, &DataError{File: path, Row: r + 1, Column: fd.Name, Err: fmt.Errorf("%v is not a number or a string", v)}
			}
			if err := f.SetCell(i, r, text); err != nil {
				return nil, &DataError{File: path, Row: r + 1, Column: fd.Name, Err: err}
			}
		}
	}
	return f, nil
}

func allColumnsOf(header []string) ([]int, error) { return allColumns(len(header)), nil }
