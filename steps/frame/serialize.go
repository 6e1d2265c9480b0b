package frame

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// The binary frame format, version 3, all integers little-endian:
//
//	magic "LOOMFRM\x00" | uint32 version | uint32 n | n bytes of JSON header
//	| rows bytes of split tags | rows uint32 source rows, unless the header says
//	  they are 0, 1, 2… | each column in order:
//	  numeric: rows float64 bits, or float32 bits when the header's bits is 32;
//	  categorical: rows codes of bits/8 bytes (8, 16, or 0 for 32)
//	  (0 missing, k+1 = header levels[k], levels in order of first use).
//
// Compactness is lossless: a numeric column is stored in float32 only when every value
// is exactly a float32 (counts, one-hot indicators, integers below 2^24, halves), codes
// take the fewest bytes their levels need, and sources that count the rows are not
// stored. Version 2 (every number float64, codes uint32, sources stored) is still read.
//
// The header is a struct marshalled by encoding/json, so there is no map
// iteration order in it and the same frame always gives the same bytes.
const (
	frameMagic   = "LOOMFRM\x00"
	frameVersion = 3
	maxHeader    = 1 << 30
	maxRows      = 1 << 31 // a damaged header must not ask for terabytes
)

type fileHeader struct {
	Rows       int          `json:"rows"`
	Target     string       `json:"target"`
	Task       Task         `json:"task"`
	Classes    []string     `json:"classes,omitempty"`
	Columns    []fileColumn `json:"columns"`
	Transforms []Transform  `json:"transforms,omitempty"`
	Fields     []Field      `json:"fields,omitempty"`
	PresetTest bool         `json:"preset_test,omitempty"`
	// CountingSources says every row's source is its index: they are not stored.
	CountingSources bool `json:"counting_sources,omitempty"`
}

type fileColumn struct {
	Name   string   `json:"name"`
	Kind   string   `json:"kind"`
	OneHot bool     `json:"onehot,omitempty"`
	Levels []string `json:"levels,omitempty"`
	// Token and Text carry Column.Token and Column.TextOpts.
	Token bool         `json:"token,omitempty"`
	Text  *TextOptions `json:"text,omitempty"`
	// Bits is the width of each stored value when it is not the kind's widest (64 for
	// numbers, 32 for codes).
	Bits int `json:"bits,omitempty"`
}

// width returns the bytes each value of the column takes in the file.
func (fc fileColumn) width() int {
	switch {
	case fc.Bits != 0:
		return fc.Bits / 8
	case fc.Kind == Numeric.String():
		return 8
	}
	return 4
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
}

// WriteTo writes the frame in loom's binary frame format. Equal frames give
// identical bytes, and ReadFrame restores the frame exactly, NaN included.
func (f *Frame) WriteTo(w io.Writer) (int64, error) {
	h := fileHeader{Rows: f.Rows(), Target: f.Target, Task: f.Task, Classes: f.ClassLabels, Transforms: f.Transforms, Fields: f.Fields,
		PresetTest: f.PresetTest, CountingSources: countingSources(f)}
	codes := make([][]uint32, len(f.Columns))
	for i, c := range f.Columns {
		fc := fileColumn{Name: c.Name, Kind: c.Kind.String(), OneHot: c.OneHot, Token: c.Token, Text: c.TextOpts}
		if c.Kind == Categorical {
			fc.Levels, codes[i] = encodeLevels(c.Str)
			switch {
			case len(fc.Levels) < 1<<8:
				fc.Bits = 8
			case len(fc.Levels) < 1<<16:
				fc.Bits = 16
			}
		} else if exactInFloat32(c.Num) {
			fc.Bits = 32
		}
		h.Columns = append(h.Columns, fc)
	}
	js, err := json.Marshal(h)
	if err != nil {
		return 0, fmt.Errorf("frame header: %w", err)
	}
	cw := &countWriter{w: w}
	buf := []byte(frameMagic)
	buf = binary.LittleEndian.AppendUint32(buf, frameVersion)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(js)))
	cw.write(buf)
	cw.write(js)
	tags := make([]byte, len(f.Splits))
	for i, s := range f.Splits {
		tags[i] = byte(s)
	}
	cw.write(tags)
	buf = buf[:0]
	if !h.CountingSources {
		for _, src := range f.Source {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(src))
		}
	}
	cw.write(buf)
	for i, c := range f.Columns {
		buf = buf[:0]
		switch fc := h.Columns[i]; {
		case c.Kind == Numeric && fc.Bits == 32:
			for _, v := range c.Num {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(v)))
			}
		case c.Kind == Numeric:
			for _, v := range c.Num {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
			}
		default:
			for _, k := range codes[i] {
				buf = appendCode(buf, k, fc.width())
			}
		}
		cw.write(buf)
	}
	return cw.n, cw.err
}

// countingSources reports whether every row's source is its index (or the frame, made
// without setTarget, has no sources).
func countingSources(f *Frame) bool {
	for i, s := range f.Source {
		if s != i {
			return false
		}
	}
	return true
}

// exactInFloat32 reports whether every value survives a round trip through float32 bit for
// bit: a missing value is math.NaN(), which readFloat32 restores, and another NaN is not.
func exactInFloat32(vals []float64) bool {
	for _, v := range vals {
		if float64(float32(v)) != v && math.Float64bits(v) != canonicalNaN {
			return false
		}
	}
	return true
}

var canonicalNaN = math.Float64bits(math.NaN())

// readFloat32 widens a stored float32, a NaN to math.NaN().
func readFloat32(bits uint32) float64 {
	v := float64(math.Float32frombits(bits))
	if v != v {
		return math.NaN()
	}
	return v
}

func appendCode(buf []byte, k uint32, width int) []byte {
	switch width {
	case 1:
		return append(buf, byte(k))
	case 2:
		return binary.LittleEndian.AppendUint16(buf, uint16(k))
	}
	return binary.LittleEndian.AppendUint32(buf, k)
}

// readCode reads a code of len(b) bytes.
func readCode(b []byte) uint32 {
	switch len(b) {
	case 1:
		return uint32(b[0])
	case 2:
		return uint32(binary.LittleEndian.Uint16(b))
	}
	return binary.LittleEndian.Uint32(b)
}

func encodeLevels(vals []string) ([]string, []uint32) {
	pos := map[string]uint32{}
	var levels []string
	codes := make([]uint32, len(vals))
	for i, v := range vals {
		if v == "" {
			continue
		}
		k, ok := pos[v]
		if !ok {
			levels = append(levels, v)
			k = uint32(len(levels))
			pos[v] = k
		}
		codes[i] = k
	}
	return levels, codes
}

// ReadFrame reads a frame written by WriteTo.
func ReadFrame(r io.Reader) (*Frame, error) { return ReadFrameOf(r) }

// ReadFrameOf reads the rows of a frame written by WriteTo that are in one of splits (every
// row when none is given): a stage that uses one split holds only its rows. When a feature is
// not numeric the Train rows are read too, since its categories or vocabulary come from them.
func ReadFrameOf(r io.Reader, splits ...Split) (*Frame, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	if len(splits) > 0 && !slices.Contains(splits, Train) {
		for _, fc := range h.Columns {
			if fc.Kind != Numeric.String() && fc.Name != h.Target {
				splits = append(splits[:len(splits):len(splits)], Train)
				break
			}
		}
	}
	return readBody(r, h, splits)
}

// ReadFrameHeader reads what a frame written by WriteTo says of itself (columns, target,
// task, classes, transforms) without its rows: the frame has columns but no rows.
func ReadFrameHeader(r io.Reader) (*Frame, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	f := h.frame()
	for _, fc := range h.Columns {
		c, err := fc.column()
		if err != nil {
			return nil, fmt.Errorf("read frame column %q: %w", fc.Name, err)
		}
		f.Columns = append(f.Columns, c)
	}
	return f, nil
}

func readHeader(r io.Reader) (*fileHeader, error) {
	pre := make([]byte, len(frameMagic)+8)
	if _, err := io.ReadFull(r, pre); err != nil {
		return nil, fmt.Errorf("read frame: %w", err)
	}
	if string(pre[:len(frameMagic)]) != frameMagic {
		return nil, errors.New("read frame: not a loom frame (bad magic)")
	}
	if v := binary.LittleEndian.Uint32(pre[8:]); v != frameVersion && v != 2 {
		return nil, fmt.Errorf("read frame: version %d, this loom reads versions 2 and %d", v, frameVersion)
	}
	n := binary.LittleEndian.Uint32(pre[12:])
	if n > maxHeader {
		return nil, fmt.Errorf("read frame: header of %d bytes is too large", n)
	}
	js, err := readN(r, int(n))
	if err != nil {
		return nil, fmt.Errorf("read frame header: %w", err)
	}
	var h fileHeader
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, fmt.Errorf("read frame header: %w", err)
	}
	if h.Rows < 0 || h.Rows > maxRows {
		return nil, fmt.Errorf("read frame: row count %d is out of range", h.Rows)
	}
	return &h, nil
}

func (h *fileHeader) frame() *Frame {
	return &Frame{Target: h.Target, Task: h.Task, ClassLabels: h.Classes, Transforms: h.Transforms, Fields: h.Fields, PresetTest: h.PresetTest}
}

func (fc fileColumn) column() (*Column, error) {
	c := &Column{Name: fc.Name, OneHot: fc.OneHot, Token: fc.Token, TextOpts: fc.Text}
	switch fc.Kind {
	case "numeric":
	case "categorical":
		c.Kind = Categorical
	default:
		return nil, fmt.Errorf("unknown column kind %q", fc.Kind)
	}
	return c, nil
}

func readBody(r io.Reader, h *fileHeader, splits []Split) (*Frame, error) {
	f := h.frame()
	// The tags come first and are read whole, so the row count is backed by bytes that exist
	// before anything is sized by it.
	tags, err := readN(r, h.Rows)
	if err != nil {
		return nil, fmt.Errorf("read frame splits: %w", err)
	}
	keep := make([]bool, h.Rows)
	kept := 0
	for i, t := range tags {
		if t > byte(Test) {
			return nil, fmt.Errorf("read frame: row %d has split tag %d", i+1, t)
		}
		keep[i] = len(splits) == 0 || slices.Contains(splits, Split(t))
		if keep[i] {
			f.Splits = append(f.Splits, Split(t))
			kept++
		}
	}
	f.Source = make([]int, 0, kept)
	if h.CountingSources {
		for i, k := range keep {
			if k {
				f.Source = append(f.Source, i)
			}
		}
	} else if err := readWords(r, 4, keep, func(b []byte) { f.Source = append(f.Source, int(binary.LittleEndian.Uint32(b))) }); err != nil {
		return nil, fmt.Errorf("read frame source rows: %w", err)
	}
	for _, fc := range h.Columns {
		c, err := fc.column()
		if err == nil {
			err = readColumn(r, c, fc, keep, kept)
		}
		if err != nil {
			return nil, fmt.Errorf("read frame column %q: %w", fc.Name, err)
		}
		f.Columns = append(f.Columns, c)
	}
	return f, nil
}

// readColumn reads a column's values for the rows keep marks.
func readColumn(r io.Reader, c *Column, fc fileColumn, keep []bool, kept int) error {
	width, levels := fc.width(), fc.Levels
	switch {
	case c.Kind == Numeric && width == 4:
		c.Num = make([]float64, 0, kept)
		return readWords(r, 4, keep, func(b []byte) { c.Num = append(c.Num, readFloat32(binary.LittleEndian.Uint32(b))) })
	case c.Kind == Numeric && width == 8:
		c.Num = make([]float64, 0, kept)
		return readWords(r, 8, keep, func(b []byte) { c.Num = append(c.Num, math.Float64frombits(binary.LittleEndian.Uint64(b))) })
	case c.Kind == Numeric || width != 1 && width != 2 && width != 4:
		return fmt.Errorf("values of %d bits", fc.Bits)
	}
	c.Str = make([]string, 0, kept)
	var bad error
	err := readWords(r, width, keep, func(b []byte) {
		k := readCode(b)
		switch {
		case k > uint32(len(levels)):
			if bad == nil {
				bad = fmt.Errorf("row %d has code %d beyond %d levels", len(c.Str)+1, k, len(levels))
			}
			c.Str = append(c.Str, "")
		case k > 0:
			c.Str = append(c.Str, levels[k-1])
		default:
			c.Str = append(c.Str, "")
		}
	})
	if err == nil {
		err = bad
	}
	return err
}

// readWords reads len(keep) values of size bytes in chunks, handing those keep marks to use.
func readWords(r io.Reader, size int, keep []bool, use func([]byte)) error {
	const chunk = 8192
	buf := make([]byte, chunk*size)
	for start := 0; start < len(keep); start += chunk {
		n := min(chunk, len(keep)-start)
		b := buf[:n*size]
		if _, err := io.ReadFull(r, b); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		for i, k := range keep[start : start+n] {
			if k {
				use(b[i*size : (i+1)*size])
			}
		}
	}
	return nil
}

// readN reads exactly n bytes. Past a megabyte it grows its buffer only as
// data arrives, so that a damaged row count fails on the short read
// instead of first allocating gigabytes.
func readN(r io.Reader, n int) ([]byte, error) {
	const chunk = 1 << 20
	if n <= chunk {
		buf := make([]byte, n)
		_, err := io.ReadFull(r, buf)
		return buf, err
	}
	var buf bytes.Buffer
	m, err := io.CopyN(&buf, r, int64(n))
	if m < int64(n) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf.Bytes(), nil
}
