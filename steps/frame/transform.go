package frame

import (
	"fmt"
	"math"
	"strconv"
)

// Transform is one fitted, replayable preprocessing operation, recorded in
// Frame.Transforms with the statistics it learned from the Train split.
// Replay applies the same operations to new data. Steps that remove rows
// (Filter, DropMissing, Outliers) or add them (Augment) and Split are not
// recorded, because prediction must keep every row it is given.
type Transform struct {
	// Op is one of "impute", "normalize", "onehot", "ordinal", "tokenize",
	// "derive", "select" and "drop".
	Op string `json:"op"`
	// Column is the column transformed (or made, for derive).
	Column string `json:"column,omitempty"`
	// Columns are the columns kept (select) or removed (drop).
	Columns []string `json:"columns,omitempty"`
	// Center and Scale map x to (x-Center)/Scale (normalize).
	Center float64 `json:"center,omitempty"`
	Scale  float64 `json:"scale,omitempty"`
	// Fill is the imputed value as text (a number for numeric columns).
	Fill string `json:"fill,omitempty"`
	// Levels are the categories, in code order (onehot, ordinal).
	Levels []string `json:"levels,omitempty"`
	// Expr is the expression of a derived column.
	Expr string `json:"expr,omitempty"`
	// Text holds the options of tokenize, whose vocabulary is Levels (the
	// token of id k+2 is Levels[k]).
	Text *TextOptions `json:"text,omitempty"`
}

func (t Transform) clone() Transform {
	t.Columns = append([]string(nil), t.Columns...)
	t.Levels = append([]string(nil), t.Levels...)
	return t
}

// Replay applies transforms, fitted on another frame, to f in order. It is
// how prediction data gets exactly the preprocessing the training data got.
func Replay(f *Frame, transforms []Transform) error {
	for _, t := range transforms {
		if err := f.apply(t); err != nil {
			return fmt.Errorf("replay %s %q: %w", t.Op, t.Column, err)
		}
	}
	return nil
}

// record applies t and appends it to f.Transforms.
func (f *Frame) record(t Transform) error {
	if !finite(t.Center) || !finite(t.Scale) {
		// Only values near float64's limit get here (cells beyond float32's are refused on
		// reading): a statistic that overflows would poison every row it is applied to.
		return fmt.Errorf("column %q: its statistics overflow (center %g, scale %g); rescale the column first", t.Column, t.Center, t.Scale)
	}
	if err := f.apply(t); err != nil {
		return err
	}
	f.Transforms = append(f.Transforms, t)
	return nil
}

func finite(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) }

func (f *Frame) apply(t Transform) error {
	switch t.Op {
	case "select":
		return f.selectColumns(t.Columns)
	case "drop":
		return f.dropColumns(t.Columns)
	case "derive":
		return f.derive(t.Column, t.Expr)
	}
	c := f.Column(t.Column)
	if c == nil {
		return f.unknownColumn(t.Op, t.Column)
	}
	switch t.Op {
	case "impute":
		return imputeColumn(c, t.Fill)
	case "normalize":
		if c.Kind != Numeric {
			return fmt.Errorf("column %q is categorical; encode it first", c.Name)
		}
		for i, v := range c.Num {
			c.Num[i] = (v - t.Center) / t.Scale
		}
		return nil
	case "onehot":
		f.oneHot(c, t.Levels)
		return nil
	case "ordinal":
		ordinal(c, t.Levels)
		return nil
	case "tokenize":
		if t.Text == nil {
			return fmt.Errorf("tokenize %q has no text options", c.Name)
		}
		return f.tokenize(c, t.Levels, *t.Text)
	}
	return fmt.Errorf("unknown transform %q", t.Op)
}

func imputeColumn(c *Column, fill string) error {
	if c.Kind == Categorical {
		for i, v := range c.Str {
			if v == "" {
				c.Str[i] = fill
			}
		}
		return nil
	}
	v, err := strconv.ParseFloat(fill, 64)
	if err != nil {
		return fmt.Errorf("column %q is numeric but the fill value %q is not a number", c.Name, fill)
	}
	for i, x := range c.Num {
		if math.IsNaN(x) {
			c.Num[i] = v
		}
	}
	return nil
}

// oneHot replaces c by one 0/1 column per level, named "col=level", at c's
// place. A missing cell gives NaN in every new column, so that it still
// needs imputing; a level not in levels gives 0 in every one.
func (f *Frame) oneHot(c *Column, levels []string) {
	n := f.Rows()
	cols := make([]*Column, len(levels))
	pos := make(map[string]int, len(levels))
	for k, l := range levels {
		cols[k] = &Column{Name: c.Name + "=" + l, Kind: Numeric, Num: make([]float64, n), OneHot: true}
		pos[l] = k
	}
	for i := 0; i < n; i++ {
		if c.Missing(i) {
			for _, d := range cols {
				d.Num[i] = math.NaN()
			}
			continue
		}
		if k, ok := pos[c.Text(i)]; ok {
			cols[k].Num[i] = 1
		}
	}
	at := f.columnIndex(c.Name)
	rest := append(cols, f.Columns[at+1:]...)
	f.Columns = append(f.Columns[:at], rest...)
}

// ordinal replaces the values of c by their level's index; missing cells
// and levels not in levels (unseen in the Train split) become NaN, so that
// they show up as missing rather than as a made-up code.
func ordinal(c *Column, levels []string) {
	pos := make(map[string]int, len(levels))
	for k, l := range levels {
		pos[l] = k
	}
	out := make([]float64, len(c.Num)+len(c.Str))
	for i := range out {
		k, ok := pos[c.Text(i)]
		if c.Missing(i) || !ok {
			out[i] = math.NaN()
			continue
		}
		out[i] = float64(k)
	}
	c.Kind, c.Num, c.Str = Numeric, out, nil
}
