package frame

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

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

// readCSV is Read of CSV data already in memory, the contents of path.
func readCSV(path string, data []byte, opt ReadOptions) (*Frame, error) {
	f, places, err := parseCSV(csvSource{path: path, data: data}, opt)
	if err != nil {
		return nil, err
	}
	return f.complete(path, places, opt)
}

// rawTable is a CSV file read by column, with the file line of each row.
// The first pass parses every cell as a number; a second pass keeps the
// text of only the columns that turn out categorical, so that numeric
// columns never hold strings (which made reading five times slower).
type rawTable struct {
	header    []string
	lines     []int       // file line of each row
	nums      [][]float64 // by column, first pass: NaN for missing and non-numbers
	stats     []numStats  // by column, first pass
	text      [][]string  // by column, second pass: nil for numeric columns
	keep      []int       // the columns the first pass parsed
	huge      bool        // a record was longer than hugeRecord
	intern    []map[string]string
	err       error // the first cell no frame can hold, in column badColumn
	badColumn int
}

// numStats counts what the first pass found in a column.
type numStats struct {
	numbers, bad int
	firstBad     int // row index of the first non-number
	firstBadText string
}

// csvSource is a CSV file to read, once per pass: from path, or from data already in memory.
type csvSource struct {
	path string
	data []byte // nil: read the file at path
}

// open returns the file's bytes and its size (-1 when unknown).
func (s csvSource) open() (io.ReadCloser, int64, error) {
	if s.data != nil {
		return io.NopCloser(bytes.NewReader(s.data)), int64(len(s.data)), nil
	}
	f, err := os.Open(s.path)
	if err != nil {
		return nil, 0, err
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, nil
}

// parseCSV reads a CSV file into a frame without a task yet. It streams the file: a first
// pass parses the kept columns as numbers, and a second reads again, as text, only the
// columns that turned out not to be numbers; the file is never held whole.
func parseCSV(src csvSource, opt ReadOptions) (*Frame, rowPlaces, error) {
	path := src.path
	if opt.Target == "" {
		return nil, rowPlaces{}, &DataError{File: path, Err: errors.New("no target column given")}
	}
	delim := delimiterFor(path, opt.Delimiter)
	shaping := len(opt.Derive) > 0 || len(opt.Drop) > 0
	choose := func(header []string) ([]int, error) {
		if shaping {
			return allColumns(len(header)), nil // derive may read any column: choose after it
		}
		return chooseColumns(path, header, opt)
	}
	raw, err := scanCSV(src, delim, choose, nil, opt.Done)
	if err != nil {
		return nil, rowPlaces{}, err
	}
	needText, err := textColumns(path, raw, raw.keep, opt.Categorical)
	if err != nil {
		return nil, rowPlaces{}, err
	}
	if needText != nil {
		if raw.huge {
			// The reader's buffers grew to the huge record's size, twice over: hand them
			// back before the second pass grows its own.
			debug.FreeOSMemory()
		}
		second, err := scanCSV(src, delim, nil, needText, opt.Done)
		if err != nil {
			return nil, rowPlaces{}, err
		}
		raw.text = second.text
	}
	f := &Frame{Target: opt.Target, Splits: make([]Split, len(raw.lines))}
	for _, j := range raw.keep {
		col := &Column{Name: raw.header[j], Kind: Numeric, Num: raw.nums[j]}
		if raw.text != nil && raw.text[j] != nil {
			col = &Column{Name: raw.header[j], Kind: Categorical, Str: raw.text[j]}
		}
		f.Columns = append(f.Columns, col)
	}
	if shaping {
		if err := f.shape(opt); err != nil {
			var ne *NoColumnError
			if errors.As(err, &ne) {
				return nil, rowPlaces{}, &DataError{File: path, Row: 1, Err: err}
			}
			return nil, rowPlaces{}, &DataError{File: path, Err: err}
		}
	}
	return f, rowPlaces{raw.lines}, nil
}

func allColumns(n int) []int {
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	return all
}

// textColumns returns which columns must be kept as text (nil for none):
// those named categorical and those with a non-number. A column of almost
// only numbers with a stray word is an error instead.
func textColumns(path string, raw *rawTable, keep []int, categorical []string) ([]bool, error) {
	forced := map[string]bool{}
	for _, c := range categorical {
		if indexOf(raw.header, c) < 0 {
			return nil, &DataError{File: path, Row: 1, Column: c,
				Err: fmt.Errorf("categorical: no such column (columns: %s)", strings.Join(raw.header, ", "))}
		}
		forced[c] = true
	}
	var need []bool
	for _, j := range keep {
		name, st := raw.header[j], raw.stats[j]
		if !forced[name] && st.bad == 0 {
			continue
		}
		if !forced[name] && st.numbers >= mixedMinNumbers && st.bad*20 < st.numbers+st.bad {
			return nil, &DataError{File: path, Row: raw.lines[st.firstBad], Column: name,
				Err: fmt.Errorf("%q is not a number (column is numeric in %d of %d non-missing rows; use an empty cell for a missing value, or declare the column categorical)",
					st.firstBadText, st.numbers, st.numbers+st.bad)}
		}
		if need == nil {
			need = make([]bool, len(raw.header))
		}
		need[j] = true
	}
	return need, nil
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

// scanCSV reads the file once. A numeric pass (text nil) parses the columns choose keeps as
// numbers into nums and stats; a text pass keeps the text of the columns marked in text,
// with missing cells as "". A ragged row or a bad cell stops it at once, however long the
// file.
func scanCSV(src csvSource, delim rune, choose func([]string) ([]int, error), text []bool, done <-chan struct{}) (*rawTable, error) {
	path := src.path
	rc, size, err := src.open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 256<<10)
	if bom, _ := br.Peek(3); string(bom) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	r := csv.NewReader(br)
	r.Comma = delim
	r.ReuseRecord = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) || err == nil && len(header) == 1 && strings.TrimSpace(header[0]) == "" {
		return nil, &DataError{File: path, Err: errors.New("the file is empty (a header row is required)")}
	}
	if err != nil {
		return nil, csvError(path, err)
	}
	header = append([]string(nil), header...)
	if err := checkHeader(path, header); err != nil {
		return nil, err
	}
	var keep []int
	if text == nil {
		if keep, err = choose(header); err != nil {
			return nil, err
		}
	}
	t := newRawTable(header, keep, text)
	// One goroutine reads and splits records while this one converts them: on two cores the
	// stream is read about half again as fast (the two halves cost about the same).
	batches, stop := readBatches(r, len(header), size)
	defer close(stop)
	for b := range batches {
		if closed(done) {
			return nil, ErrCanceled
		}
		if b.reserve > 0 {
			t.reserve(b.reserve)
		}
		t.huge = t.huge || b.huge
		cols := len(header)
		for i, line := range b.lines {
			t.add(line, b.cells[i*cols:(i+1)*cols], text)
			if t.err != nil {
				return nil, &DataError{File: path, Row: line, Column: header[t.badColumn], Err: t.err}
			}
		}
		if b.err != nil {
			return nil, csvError(path, b.err)
		}
		b.release()
	}
	if len(t.lines) == 0 {
		return nil, &DataError{File: path, Row: 1, Err: errors.New("the file has a header but no data rows")}
	}
	return t, nil
}

// recordBatch is records one goroutine read for another to convert.
type recordBatch struct {
	cells   []string // len(lines) records of cols cells, row-major
	lines   []int    // each record's first line
	reserve int      // if positive, the rows the columns should be sized for
	huge    bool     // a record was longer than hugeRecord
	err     error    // the read error that ended the stream, after the records
	free    chan *recordBatch
}

// batchRows is the records in a batch: enough to amortise a channel handoff, few enough to
// keep the batches in flight small.
const batchRows = 2048

// release hands the batch back for reuse.
func (b *recordBatch) release() {
	select {
	case b.free <- b:
	default:
	}
}

// readBatches reads the records after the header in a goroutine and sends them in batches;
// a batch with an error is the last. Closing stop ends the goroutine early. size, if
// positive, is the file's size, from which the first batch estimates the rows.
func readBatches(r *csv.Reader, cols int, size int64) (<-chan *recordBatch, chan<- struct{}) {
	out := make(chan *recordBatch, 2)
	stop := make(chan struct{})
	free := make(chan *recordBatch, 4)
	go func() {
		defer close(out)
		prev := r.InputOffset()
		rows := 0
		for {
			var b *recordBatch
			select {
			case b = <-free:
				b.cells, b.lines, b.reserve, b.huge = b.cells[:0], b.lines[:0], 0, false
			default:
				b = &recordBatch{cells: make([]string, 0, batchRows*cols), lines: make([]int, 0, batchRows), free: free}
			}
			for len(b.lines) < batchRows && b.err == nil {
				rec, err := r.Read()
				if err != nil {
					b.err = err
					break
				}
				if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" && cols > 1 {
					continue // a blank-looking line of spaces
				}
				line, _ := r.FieldPos(0)
				b.cells = append(b.cells, rec...)
				b.lines = append(b.lines, line)
				rows++
				off := r.InputOffset()
				if rows == 1024 && size > 0 {
					// Size the columns from the first rows' length, so that they are not
					// regrown (and, for a moment, held twice) as they fill.
					b.reserve = int(float64(size)/float64(off)*1024*1.02) + 64
				}
				if off-prev > hugeRecord {
					b.huge = true
				}
				prev = off
			}
			if errors.Is(b.err, io.EOF) {
				b.err = nil
				if len(b.lines) > 0 {
					select {
					case out <- b:
					case <-stop:
					}
				}
				return
			}
			select {
			case out <- b:
			case <-stop:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	return out, stop
}

// closed reports whether done is closed; a nil done never is.
func closed(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// newRawTable makes the table of a numeric pass over the columns keep, or of a text pass
// over the columns marked in text.
func newRawTable(header []string, keep []int, text []bool) *rawTable {
	t := &rawTable{header: header, keep: keep}
	if text != nil {
		t.text = make([][]string, len(header))
		for j, want := range text {
			if want {
				t.text[j] = []string{}
			}
		}
		return t
	}
	t.nums = make([][]float64, len(header))
	t.stats = make([]numStats, len(header))
	for _, j := range keep {
		t.nums[j] = []float64{}
	}
	return t
}

// reserve grows every column to hold rows rows without reallocating.
func (t *rawTable) reserve(rows int) {
	if rows <= cap(t.lines) {
		return
	}
	t.lines = slices.Grow(t.lines, rows-len(t.lines))
	for j := range t.nums {
		if t.nums[j] != nil {
			t.nums[j] = slices.Grow(t.nums[j], rows-len(t.nums[j]))
		}
	}
	for j := range t.text {
		if t.text[j] != nil {
			t.text[j] = slices.Grow(t.text[j], rows-len(t.text[j]))
		}
	}
}

// add appends one record.
func (t *rawTable) add(line int, rec []string, text []bool) {
	row := len(t.lines)
	t.lines = append(t.lines, line)
	if text != nil {
		for j, v := range rec {
			if text[j] {
				t.text[j] = append(t.text[j], t.interned(j, v))
			}
		}
		return
	}
	for _, j := range t.keep {
		v := rec[j]
		x := t.stats[j].parse(v, row)
		if math.Abs(x) > math.MaxFloat32 {
			t.err, t.badColumn = fmt.Errorf("%s is outside the range models compute in (float32, |x| <= 3.4e38); rescale the column", strings.TrimSpace(v)), j
			return
		}
		if x != x && !utf8.ValidString(v) { // a number is ASCII: only other cells need the check
			// JSON, and so the frame, would replace the bytes and could merge distinct values.
			t.err, t.badColumn = fmt.Errorf("%q is not valid UTF-8; convert the file (e.g. iconv -f latin1 -t utf-8)", v), j
			return
		}
		t.nums[j] = append(t.nums[j], x)
	}
}

// interned returns cell v of column j as a string of its own (a cell shares the memory of
// its whole record), one copy per distinct value while there are few, missing as "".
func (t *rawTable) interned(j int, v string) string {
	if isMissing(v) {
		return ""
	}
	if t.intern == nil {
		t.intern = make([]map[string]string, len(t.header))
	}
	m := t.intern[j]
	if m == nil {
		m = map[string]string{}
		t.intern[j] = m
	}
	if s, ok := m[v]; ok {
		return s
	}
	s := strings.Clone(v)
	if len(m) < maxInterned {
		m[s] = s
	}
	return s
}

// parse returns the number in cell v of row, NaN when it is missing or not
// a number, and counts which it was.
func (st *numStats) parse(v string, row int) float64 {
	if isMissing(v) {
		return math.NaN()
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsInf(x, 0) {
		// Infinities are refused like text: no statistic survives them.
		if st.bad == 0 {
			// A copy, and a short one: the cell shares its record's memory, and may be huge.
			st.firstBad, st.firstBadText = row, strings.Clone(v[:min(len(v), 200)])
		}
		st.bad++
		return math.NaN()
	}
	st.numbers++
	return x
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
func chooseColumns(path string, header []string, opt ReadOptions) ([]int, error) {
	t := indexOf(header, opt.Target)
	if t < 0 {
		return nil, &DataError{File: path, Row: 1, Err: &NoColumnError{Role: "target", Name: opt.Target, Columns: header}}
	}
	if len(opt.Features) == 0 {
		return allColumns(len(header)), nil
	}
	var keep []int
	seen := map[string]bool{}
	for i, name := range opt.Features {
		j := indexOf(header, name)
		if j < 0 {
			return nil, &DataError{File: path, Row: 1, Err: &NoColumnError{Role: "feature", Index: i, Name: name, Columns: header}}
		}
		if seen[name] || j == t {
			continue
		}
		seen[name] = true
		keep = append(keep, j)
	}
	return append(keep, t), nil
}

// hugeRecord is the length past which a record makes the reader's memory worth returning
// between passes: encoding/csv holds a record in two buffers and a string of its size.
const hugeRecord = 1 << 20

// mixedMinNumbers is how many numbers a column needs before a stray word in
// it is called a typo rather than a sign the column is text.
const mixedMinNumbers = 20
