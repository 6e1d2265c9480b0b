package frame

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// CSVOptions say how ReadCSV reads a file.
type CSVOptions struct {
	// Delimiter separates fields; 0 chooses by extension: tab for .tsv and
	// .tab files, else comma.
	Delimiter rune
	// Target names the label column (required).
	Target string
	// Features names the columns to keep besides the target, in this order;
	// empty keeps every column in file order.
	Features []string
	// Task is "classification", "regression" or "" to infer it.
	Task string
	// Categorical names columns to keep as text even when every cell is a
	// number (codes such as zip codes).
	Categorical []string
}

// MissingMarkers are the cell values read as missing, compared after
// trimming spaces and ignoring case: the empty cell, NA, N/A, NaN, null and ?.
var MissingMarkers = []string{"", "na", "n/a", "nan", "null", "?"}

func isMissing(s string) bool {
	if len(s) > 0 && (s[0] >= '0' && s[0] <= '9' || s[0] == '-' || s[0] == '.') {
		return false // the common case, a number: no marker starts so
	}
	s = strings.TrimSpace(s)
	if len(s) > 4 {
		return false
	}
	s = strings.ToLower(s)
	for _, m := range MissingMarkers {
		if s == m {
			return true
		}
	}
	return false
}

// ReadCSV reads a CSV or TSV file with a header row (RFC 4180 quoting, CRLF
// or LF line ends, a leading UTF-8 BOM ignored) into a Frame with every row
// in the Train split.
//
// A column is numeric when every non-missing cell parses as a finite
// number, else categorical. A column whose cells are almost all numbers (at least
// mixedMinNumbers numbers and under 5% other text) is taken to hold a typo
// and is an error naming the first bad cell; list it in
// CSVOptions.Categorical to keep it as text. Every failure about the data is
// a *DataError with the file, line and column.
func ReadCSV(path string, opt CSVOptions) (*Frame, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseCSV(path, data, opt)
}

// rawTable is the text of a CSV file by column, with the file line of each row.
type rawTable struct {
	header []string
	cells  [][]string // by column
	lines  []int      // file line of each row
}

func parseCSV(path string, data []byte, opt CSVOptions) (*Frame, error) {
	derr := func(row int, col string, format string, args ...any) error {
		return &DataError{File: path, Row: row, Column: col, Err: fmt.Errorf(format, args...)}
	}
	if opt.Target == "" {
		return nil, derr(0, "", "no target column given")
	}
	raw, err := readRaw(path, data, delimiterFor(path, opt.Delimiter))
	if err != nil {
		return nil, err
	}
	keep, err := chooseColumns(path, raw.header, opt)
	if err != nil {
		return nil, err
	}
	forced := map[string]bool{}
	for _, c := range opt.Categorical {
		if indexOf(raw.header, c) < 0 {
			return nil, derr(1, c, "categorical: no such column (columns: %s)", strings.Join(raw.header, ", "))
		}
		forced[c] = true
	}
	f := &Frame{Target: opt.Target, Splits: make([]Split, len(raw.lines))}
	for _, j := range keep {
		name := raw.header[j]
		col, err := buildColumn(path, name, raw.cells[j], raw.lines, forced[name])
		if err != nil {
			return nil, err
		}
		f.Columns = append(f.Columns, col)
	}
	if err := checkTargetPresent(path, f, raw.lines); err != nil {
		return nil, err
	}
	if err := f.setTarget(opt.Task); err != nil {
		return nil, &DataError{File: path, Column: opt.Target, Err: err}
	}
	return f, nil
}

func delimiterFor(path string, d rune) rune {
	if d != 0 {
		return d
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".tsv", ".tab":
		return '\t'
	}
	return ','
}

func readRaw(path string, data []byte, delim rune) (*rawTable, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &DataError{File: path, Err: errors.New("the file is empty (a header row is required)")}
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = delim
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, csvError(path, err)
	}
	header = append([]string(nil), header...)
	if err := checkHeader(path, header); err != nil {
		return nil, err
	}
	t := &rawTable{header: header, cells: make([][]string, len(header))}
	guess := bytes.Count(data, []byte{'\n'})
	for j := range t.cells {
		t.cells[j] = make([]string, 0, guess)
	}
	t.lines = make([]int, 0, guess)
	for {
		rec, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, csvError(path, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" && len(header) > 1 {
			continue // a blank-looking line of spaces
		}
		t.lines = append(t.lines, line)
		for j, v := range rec {
			t.cells[j] = append(t.cells[j], v)
		}
	}
	if len(t.lines) == 0 {
		return nil, &DataError{File: path, Row: 1, Err: errors.New("the file has a header but no data rows")}
	}
	return t, nil
}

func csvError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		msg := pe.Err
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = errors.New("wrong number of fields (ragged row): it differs from the header")
		}
		return &DataError{File: path, Row: pe.StartLine, Err: fmt.Errorf("%w (column %d)", msg, pe.Column)}
	}
	return &DataError{File: path, Err: err}
}

func checkHeader(path string, header []string) error {
	seen := map[string]int{}
	for j, h := range header {
		if strings.TrimSpace(h) == "" {
			return &DataError{File: path, Row: 1, Err: fmt.Errorf("header field %d is empty; every column needs a name", j+1)}
		}
		if k, dup := seen[h]; dup {
			return &DataError{File: path, Row: 1, Column: h, Err: fmt.Errorf("duplicate column name (fields %d and %d)", k+1, j+1)}
		}
		seen[h] = j
	}
	return nil
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// chooseColumns returns the header indices to keep: the features (or all)
// and the target.
func chooseColumns(path string, header []string, opt CSVOptions) ([]int, error) {
	t := indexOf(header, opt.Target)
	if t < 0 {
		return nil, &DataError{File: path, Row: 1, Column: opt.Target,
			Err: fmt.Errorf("target column not found (columns: %s)", strings.Join(header, ", "))}
	}
	if len(opt.Features) == 0 {
		all := make([]int, len(header))
		for i := range all {
			all[i] = i
		}
		return all, nil
	}
	var keep []int
	seen := map[string]bool{}
	for _, name := range opt.Features {
		j := indexOf(header, name)
		if j < 0 {
			return nil, &DataError{File: path, Row: 1, Column: name,
				Err: fmt.Errorf("feature column not found (columns: %s)", strings.Join(header, ", "))}
		}
		if seen[name] || j == t {
			continue
		}
		seen[name] = true
		keep = append(keep, j)
	}
	return append(keep, t), nil
}

// mixedMinNumbers is how many numbers a column needs before a stray word in
// it is called a typo rather than a sign the column is text.
const mixedMinNumbers = 20

func buildColumn(path, name string, cells []string, lines []int, forceText bool) (*Column, error) {
	nums := make([]float64, len(cells))
	numeric, firstBad, bad := 0, -1, 0
	for i, s := range cells {
		if isMissing(s) {
			nums[i] = math.NaN()
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsInf(v, 0) {
			// Infinities are refused like text: no statistic survives them.
			bad++
			if firstBad < 0 {
				firstBad = i
			}
			continue
		}
		numeric++
		nums[i] = v
	}
	if bad == 0 && !forceText {
		return &Column{Name: name, Kind: Numeric, Num: nums}, nil
	}
	if !forceText && numeric >= mixedMinNumbers && bad*20 < numeric+bad {
		return nil, &DataError{File: path, Row: lines[firstBad], Column: name,
			Err: fmt.Errorf("%q is not a number (column is numeric in %d of %d non-missing rows; use an empty cell for a missing value, or declare the column categorical)",
				cells[firstBad], numeric, numeric+bad)}
	}
	strs := make([]string, len(cells))
	for i, s := range cells {
		if !isMissing(s) {
			strs[i] = s
		}
	}
	return &Column{Name: name, Kind: Categorical, Str: strs}, nil
}

func checkTargetPresent(path string, f *Frame, lines []int) error {
	t := f.TargetColumn()
	for i := range lines {
		if t.Missing(i) {
			return &DataError{File: path, Row: lines[i], Column: f.Target, Err: errors.New("the target value is missing")}
		}
	}
	return nil
}
