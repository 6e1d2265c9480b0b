package frame

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ReadOptions say how Read reads a file.
type ReadOptions struct {
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
	// Derive adds columns computed from each row, in order, before the
	// target is picked, so that a target may be derived; Drop then removes
	// columns (say, the one a derived target was computed from). Features
	// may name derived columns.
	Derive []Derive
	Drop   []string
	// TestPath, if set, is a second file with the same columns whose rows
	// are the Test split (Frame.PresetTest); the first file's rows are Train.
	TestPath string
	// Done, if set, is checked every few thousand rows: once it is closed,
	// Read stops and returns ErrCanceled.
	Done <-chan struct{}
}

// ErrCanceled is returned by Read when ReadOptions.Done is closed.
var ErrCanceled = errors.New("reading canceled")

// Read reads a data file into a Frame with every row in the Train split (and, with
// ReadOptions.TestPath, a second file's rows in the Test split): Parquet by its extension
// .parquet, else CSV or TSV with a header row (RFC 4180 quoting, CRLF or LF line ends, a
// leading UTF-8 BOM ignored).
//
// A CSV column is numeric when every non-missing cell parses as a finite number, else
// categorical. A column whose cells are almost all numbers (at least mixedMinNumbers numbers
// and under 5% other text) is taken to hold a typo and is an error naming the first bad cell;
// list it in ReadOptions.Categorical to keep it as text. A Parquet column's type says which it
// is (parseParquet). Every failure about the data is a *DataError with the file, the row (a
// CSV's line) and the column.
func Read(path string, opt ReadOptions) (*Frame, error) {
	f, places, err := parseFile(path, opt)
	if err != nil {
		return nil, err
	}
	return f.complete(path, places, opt)
}

// parseFile reads one file into a frame without a task yet.
func parseFile(path string, opt ReadOptions) (*Frame, rowPlaces, error) {
	if isParquet(path) {
		return parseParquet(path, opt)
	}
	return parseCSV(csvSource{path: path}, opt)
}

// rowPlaces locate a frame's rows in the file they were read from, for errors: a CSV's rows
// by their lines, a Parquet file's (lines nil) by their numbers in the file.
type rowPlaces struct{ lines []int }

func (p rowPlaces) errorAt(path string, row int, column string, err error) *DataError {
	if p.lines == nil {
		return &DataError{File: path, Row: row + 1, Rows: true, Column: column, Err: err}
	}
	return &DataError{File: path, Row: p.lines[row], Column: column, Err: err}
}

// complete checks that every row has a target, appends the test file's rows, and records the
// task and class labels.
func (f *Frame) complete(path string, places rowPlaces, opt ReadOptions) (*Frame, error) {
	if err := checkTargetPresent(path, f, places); err != nil {
		return nil, err
	}
	train := f.Rows()
	if opt.TestPath != "" {
		if err := f.appendTest(path, opt); err != nil {
			return nil, err
		}
	}
	if err := f.setTarget(opt.Task); err != nil {
		return nil, &DataError{File: path, Column: opt.Target, Err: err}
	}
	for i := train; i < f.Rows(); i++ {
		f.Source[i] -= train // a test row's index in its own file
	}
	return f, nil
}

func checkTargetPresent(path string, f *Frame, places rowPlaces) error {
	t := f.TargetColumn()
	for i := range f.Rows() {
		if t.Missing(i) {
			return places.errorAt(path, i, f.Target, errors.New("the target value is missing"))
		}
	}
	return nil
}

// appendTest reads opt.TestPath and appends its rows to f as the Test split. A column
// categorical in f is read as categorical there too; one numeric in f must be numeric there.
func (f *Frame) appendTest(path string, opt ReadOptions) error {
	topt := opt
	topt.Categorical = nil
	for _, c := range f.Columns {
		if c.Kind == Categorical {
			topt.Categorical = append(topt.Categorical, c.Name)
		}
	}
	t, places, err := parseFile(opt.TestPath, topt)
	if err != nil {
		return err
	}
	if err := checkTargetPresent(opt.TestPath, t, places); err != nil {
		return err
	}
	if !slices.Equal(t.Names(), f.Names()) {
		return &DataError{File: opt.TestPath, Row: 1, Err: fmt.Errorf("test_path must have the columns of %s (%s), it has %s",
			path, strings.Join(f.Names(), ", "), strings.Join(t.Names(), ", "))}
	}
	for i, c := range f.Columns {
		tc := t.Columns[i]
		if c.Kind == Numeric && tc.Kind == Categorical {
			row, text := firstNonNumber(tc)
			return places.errorAt(opt.TestPath, row, c.Name, fmt.Errorf("%q is not a number, but the column is numeric in %s", text, path))
		}
		c.Num = append(c.Num, tc.Num...)
		c.Str = append(c.Str, tc.Str...)
	}
	for range t.Splits {
		f.Splits = append(f.Splits, Test)
	}
	f.PresetTest = true
	return nil
}

// firstNonNumber returns the first cell of a categorical column that is not a number.
func firstNonNumber(c *Column) (int, string) {
	for i, v := range c.Str {
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); v != "" && err != nil {
			return i, v
		}
	}
	return 0, ""
}
