package frame

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// isParquet reports whether path names a Parquet file, by its extension.
func isParquet(path string) bool { return strings.EqualFold(filepath.Ext(path), ".parquet") }

// parseParquet reads the flat columns of a Parquet file into a frame without a task yet, row
// group by row group and only the columns kept. Types map to loom's as a CSV's cells would:
// numbers (integers, floats, booleans as 0/1, decimals, dates as days and timestamps as
// seconds since 1970) are numeric, strings and enums categorical; a null is missing, as is a
// floating-point NaN.
func parseParquet(path string, opt ReadOptions) (*Frame, rowPlaces, error) {
	if opt.Target == "" {
		return nil, rowPlaces{}, &DataError{File: path, Err: errors.New("no target column given")}
	}
	pf, closeFile, err := openParquet(path)
	if err != nil {
		return nil, rowPlaces{}, err
	}
	defer closeFile()
	var header []string
	for _, fd := range pf.Schema().Fields() {
		header = append(header, fd.Name())
	}
	if err := checkHeader(path, header); err != nil {
		return nil, rowPlaces{}, err
	}
	keep := allColumns(len(header))
	shaping := len(opt.Derive) > 0 || len(opt.Drop) > 0
	if !shaping {
		if keep, err = chooseColumns(path, header, opt); err != nil {
			return nil, rowPlaces{}, err
		}
	}
	names := make([]string, len(keep))
	text := make([]bool, len(keep))
	for i, j := range keep {
		names[i], text[i] = header[j], indexOf(opt.Categorical, header[j]) >= 0
	}
	cols, err := readParquetColumns(path, pf, names, text, nil, opt.Done)
	if err != nil {
		return nil, rowPlaces{}, err
	}
	f := &Frame{Target: opt.Target, Columns: cols, Splits: make([]Split, pf.NumRows())}
	if shaping {
		if err := f.shape(opt); err != nil {
			return nil, rowPlaces{}, &DataError{File: path, Err: err}
		}
	}
	return f, rowPlaces{}, nil
}

// openParquet opens a Parquet file, reading its footer; closeFile closes it.
func openParquet(path string) (pf *parquet.File, closeFile func() error, err error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := file.Stat()
	if err == nil {
		pf, err = parquet.OpenFile(file, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
		if err != nil {
			err = &DataError{File: path, Err: fmt.Errorf("not a Parquet file loom can read: %w", err)}
		}
	}
	if err != nil {
		file.Close()
		return nil, nil, err
	}
	if pf.NumRows() == 0 {
		file.Close()
		return nil, nil, &DataError{File: path, Err: errors.New("the file has no rows")}
	}
	return pf, file.Close, nil
}

// readParquetColumns reads the named columns, row group by row group; text[i] keeps column
// i as text even when it holds numbers, and numeric[i] (if not nil) requires numbers of it.
func readParquetColumns(path string, pf *parquet.File, names []string, text, numeric []bool, done <-chan struct{}) ([]*Column, error) {
	rows := int(pf.NumRows())
	var readers []*parquetColumn
	var cols []*Column
	for i, name := range names {
		c, err := newParquetColumn(pf, name, rows, text[i])
		if err == nil && numeric != nil && numeric[i] && c.col.Kind != Numeric {
			err = errors.New("the model needs numbers, the file has text")
		}
		if err != nil {
			return nil, &DataError{File: path, Row: 1, Column: name, Err: err}
		}
		readers = append(readers, c)
		cols = append(cols, c.col)
	}
	start := 0
	for g, rg := range pf.RowGroups() {
		if closed(done) {
			return nil, ErrCanceled
		}
		chunks := rg.ColumnChunks()
		for _, c := range readers {
			if err := c.read(chunks[c.leaf]); err != nil {
				return nil, &DataError{File: path, Row: start + c.at + 1, Rows: true, Column: c.col.Name,
					Err: fmt.Errorf("row group %d: %w", g+1, err)}
			}
			if n := c.length() - start; n != int(rg.NumRows()) {
				return nil, &DataError{File: path, Column: c.col.Name, Err: fmt.Errorf("row group %d has %d rows, the column %d values", g+1, rg.NumRows(), n)}
			}
		}
		start += int(rg.NumRows())
	}
	return cols, nil
}

// parquetColumn reads one leaf column into a frame column.
type parquetColumn struct {
	col     *Column
	leaf    int
	convert func(v parquet.Value) (float64, error) // for numeric columns
	text    func(v parquet.Value) (string, error)  // for categorical columns
	intern  map[string]string                      // one string per distinct category
	buf     []parquet.Value
	at      int // index in the current chunk of the value being converted, for errors
}

// maxInterned bounds the strings a column interns: past it, a column of mostly distinct
// values (ids, free text) is not worth the map.
const maxInterned = 1 << 16

func newParquetColumn(pf *parquet.File, name string, rows int, forceText bool) (*parquetColumn, error) {
	leaf, ok := pf.Schema().Lookup(name)
	if !ok || !leaf.Node.Leaf() || leaf.MaxRepetitionLevel > 0 {
		return nil, errors.New("a nested or repeated column; loom reads flat columns of numbers and strings")
	}
	c := &parquetColumn{leaf: leaf.ColumnIndex, buf: make([]parquet.Value, 4096), intern: map[string]string{}}
	t := leaf.Node.Type()
	num, text, err := converters(t)
	if err != nil {
		return nil, err
	}
	switch {
	case text != nil:
		c.text = text
	case forceText:
		c.text = func(v parquet.Value) (string, error) {
			x, err := num(v)
			return formatNumber(x), err
		}
	default:
		c.convert = num
	}
	if c.text != nil {
		c.col = &Column{Name: name, Kind: Categorical, Str: make([]string, 0, rows)}
	} else {
		c.col = &Column{Name: name, Kind: Numeric, Num: make([]float64, 0, rows)}
	}
	return c, nil
}

// converters returns how a column of type t becomes numbers or text (exactly one is set).
func converters(t parquet.Type) (num func(parquet.Value) (float64, error), text func(parquet.Value) (string, error), err error) {
	lt, ct := t.LogicalType(), t.ConvertedType()
	is := func(c deprecated.ConvertedType) bool { return ct != nil && *ct == c }
	var logical format.LogicalTypeValue
	if lt != nil {
		logical = lt.Value
	}
	switch l := logical.(type) {
	case *format.DecimalType:
		return decimal(t, int(l.Scale)), nil, nil
	case *format.DateType:
		return func(v parquet.Value) (float64, error) { return float64(v.Int32()), nil }, nil, nil
	case *format.TimestampType:
		per := float64(time1970Units(l.Unit.Value))
		return func(v parquet.Value) (float64, error) { return float64(v.Int64()) / per, nil }, nil, nil
	case *format.UUIDType:
		return nil, func(v parquet.Value) (string, error) { return hex.EncodeToString(v.ByteArray()), nil }, nil
	case *format.StringType, *format.EnumType, *format.JsonType:
		return nil, utf8Text, nil
	case nil:
	default:
		if _, isInt := logical.(*format.IntType); !isInt {
			return nil, nil, fmt.Errorf("its type %s is not one loom reads (numbers, booleans, decimals, dates, timestamps, strings)", lt)
		}
	}
	switch {
	case is(deprecated.UTF8), is(deprecated.Enum), is(deprecated.Json):
		return nil, utf8Text, nil
	case is(deprecated.Date):
		return func(v parquet.Value) (float64, error) { return float64(v.Int32()), nil }, nil, nil
	case is(deprecated.TimestampMillis):
		return func(v parquet.Value) (float64, error) { return float64(v.Int64()) / 1e3, nil }, nil, nil
	case is(deprecated.TimestampMicros):
		return func(v parquet.Value) (float64, error) { return float64(v.Int64()) / 1e6, nil }, nil, nil
	}
	switch t.Kind() {
	case parquet.Boolean:
		return func(v parquet.Value) (float64, error) {
			if v.Boolean() {
				return 1, nil
			}
			return 0, nil
		}, nil, nil
	case parquet.Int32:
		return func(v parquet.Value) (float64, error) { return float64(v.Int32()), nil }, nil, nil
	case parquet.Int64:
		return func(v parquet.Value) (float64, error) { return float64(v.Int64()), nil }, nil, nil
	case parquet.Float:
		return func(v parquet.Value) (float64, error) { return float64(v.Float()), nil }, nil, nil
	case parquet.Double:
		return func(v parquet.Value) (float64, error) { return v.Double(), nil }, nil, nil
	case parquet.Int96: // legacy timestamps: nanoseconds of the day, then the Julian day
		return func(v parquet.Value) (float64, error) {
			x := v.Int96()
			nanos := float64(uint64(x[1])<<32 | uint64(x[0]))
			return (float64(x[2])-2440588)*86400 + nanos/1e9, nil
		}, nil, nil
	case parquet.ByteArray:
		return nil, utf8Text, nil // strings without a logical type, as older writers leave them
	}
	return nil, nil, fmt.Errorf("its type %s is not one loom reads (numbers, booleans, decimals, dates, timestamps, strings)", t)
}

// time1970Units is how many of a timestamp's units make a second.
func time1970Units(u format.TimeUnitValue) int64 {
	switch u.(type) {
	case *format.MilliSeconds:
		return 1e3
	case *format.MicroSeconds:
		return 1e6
	}
	return 1e9
}

// decimal reads a DECIMAL of any physical type: an unscaled integer times 10^−scale.
func decimal(t parquet.Type, scale int) func(parquet.Value) (float64, error) {
	div := math.Pow10(scale)
	switch t.Kind() {
	case parquet.Int32:
		return func(v parquet.Value) (float64, error) { return float64(v.Int32()) / div, nil }
	case parquet.Int64:
		return func(v parquet.Value) (float64, error) { return float64(v.Int64()) / div, nil }
	}
	return func(v parquet.Value) (float64, error) { // big-endian two's complement bytes
		b := v.ByteArray()
		x := new(big.Int).SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 {
			x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
		}
		f, _ := new(big.Float).SetInt(x).Float64()
		return f / div, nil
	}
}

// utf8Text reads a byte array as text, which must be UTF-8 (as a CSV's cells must).
func utf8Text(v parquet.Value) (string, error) {
	b := v.ByteArray()
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%q is not valid UTF-8", b)
	}
	return string(b), nil
}

func (c *parquetColumn) length() int {
	if c.col.Kind == Categorical {
		return len(c.col.Str)
	}
	return len(c.col.Num)
}

// read appends the values of one column chunk.
func (c *parquetColumn) read(chunk parquet.ColumnChunk) error {
	pages := chunk.Pages()
	defer pages.Close()
	c.at = 0
	for {
		p, err := pages.ReadPage()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		values := p.Values()
		for {
			n, err := values.ReadValues(c.buf)
			if err := c.append(c.buf[:n]); err != nil {
				return err
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
		}
	}
}

// append converts values, naming the first bad one by its row.
func (c *parquetColumn) append(values []parquet.Value) error {
	for _, v := range values {
		if c.text != nil {
			s, err := c.textOf(v)
			if err != nil {
				return err
			}
			c.col.Str = append(c.col.Str, s)
			c.at++
			continue
		}
		x := math.NaN()
		if !v.IsNull() {
			var err error
			if x, err = c.convert(v); err != nil {
				return err
			}
			switch {
			case math.IsInf(x, 0):
				return fmt.Errorf("%v is infinite; no statistic survives it", x)
			case math.Abs(x) > math.MaxFloat32:
				return fmt.Errorf("%g is outside the range models compute in (float32, |x| <= 3.4e38); rescale the column", x)
			}
		}
		c.col.Num = append(c.col.Num, x)
		c.at++
	}
	return nil
}

// textOf returns a value as text, one copy per distinct string, so that a category costs its
// bytes once (and a dictionary page's strings are looked up without a copy).
func (c *parquetColumn) textOf(v parquet.Value) (string, error) {
	if v.IsNull() {
		return "", nil
	}
	if v.Kind() == parquet.ByteArray {
		if s, ok := c.intern[string(v.ByteArray())]; ok {
			return s, nil
		}
	}
	s, err := c.text(v)
	if err == nil && len(c.intern) < maxInterned {
		c.intern[s] = s
	}
	return s, err
}

// ReadFeaturesParquet is ReadFeatures from a Parquet file: the fields' columns, categorical
// ones as text whatever their type, numeric ones numbers.
func ReadFeaturesParquet(path string, fields []Field) (*Frame, error) {
	pf, closeFile, err := openParquet(path)
	if err != nil {
		return nil, err
	}
	defer closeFile()
	names := make([]string, len(fields))
	text := make([]bool, len(fields))
	numeric := make([]bool, len(fields))
	for i, fd := range fields {
		if _, ok := pf.Schema().Lookup(fd.Name); !ok {
			var have []string
			for _, f := range pf.Schema().Fields() {
				have = append(have, f.Name())
			}
			return nil, &DataError{File: path, Row: 1, Column: fd.Name, Err: fmt.Errorf("the model needs this column (the file has: %s)", strings.Join(have, ", "))}
		}
		names[i] = fd.Name
		text[i], numeric[i] = fd.Kind != Numeric.String(), fd.Kind == Numeric.String()
	}
	cols, err := readParquetColumns(path, pf, names, text, numeric, nil)
	if err != nil {
		return nil, err
	}
	f := newInputFrame(fields, int(pf.NumRows()))
	f.Columns = cols
	return f, nil
}
