// Package frame is loom's tabular data layer: it loads CSV/TSV files or
// generates synthetic data into a Frame, applies the preprocess steps of the
// manifest to it, and turns it into the float32 matrices that training reads.
//
// A Frame holds named columns, each numeric ([]float64, NaN = missing) or
// categorical ([]string, "" = missing), one of which is the target. Cells
// equal to one of MissingMarkers (empty, NA, N/A, NaN, null, ?) are missing.
// Every row carries a split tag (Train, Val or Test); every row is Train
// until a SplitData step runs.
//
// The rules the steps share:
//   - Fitted statistics (Impute, Normalize, Outliers, Encode levels) come
//     from the Train rows only and are applied to every row; Impute,
//     Normalize and Encode record theirs in Frame.Transforms, which Replay
//     applies to new data.
//   - A text column marked by MarkText keeps its text until SplitData, which
//     fits its vocabulary on the new Train rows and replaces it by token
//     columns (recorded as "tokenize"); steps that fit measurements skip
//     text and token columns unless they are named.
//   - Outliers removes Train rows only and Augment adds Train rows only, so
//     Val and Test stay the data as it came.
//   - Filter and DropMissing clean every split.
//   - Expressions (Filter, Derive) are expr-lang expressions in which every
//     column is a variable; a name that is not an identifier is reached
//     through the map RowVar: row["od280/od315"].
//   - Randomness (SplitData, Augment, Generate) comes from a PCG generator
//     seeded by the step, so equal inputs and seeds give equal frames, and
//     WriteTo gives equal bytes.
package frame

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Version identifies the behaviour of this package: it changes whenever the
// same input and options can give a different frame, so that a cache keyed
// on it misses instead of serving stale data.
const Version = "4"

// Kind says how a column stores its values.
type Kind uint8

const (
	// Numeric columns hold float64 values; NaN marks a missing value.
	Numeric Kind = iota
	// Categorical columns hold strings; "" marks a missing value.
	Categorical
)

// String returns "numeric" or "categorical".
func (k Kind) String() string {
	if k == Categorical {
		return "categorical"
	}
	return "numeric"
}

// Task is what the target column asks a model to do.
type Task string

const (
	// Classification predicts one of the recorded class labels.
	Classification Task = "classification"
	// Regression predicts the numeric value of the target.
	Regression Task = "regression"
)

// Split tags a row with the part of the data it belongs to.
type Split uint8

const (
	// Train rows fit models and every preprocess statistic.
	Train Split = iota
	// Val rows are used for early stopping and model selection.
	Val
	// Test rows are held out for the final evaluation.
	Test
)

// String returns "train", "val" or "test".
func (s Split) String() string {
	switch s {
	case Val:
		return "val"
	case Test:
		return "test"
	}
	return "train"
}

// ParseSplit maps "train", "val" (or "validation") and "test" to a Split.
func ParseSplit(s string) (Split, error) {
	switch strings.ToLower(s) {
	case "train":
		return Train, nil
	case "val", "validation":
		return Val, nil
	case "test":
		return Test, nil
	}
	return Train, fmt.Errorf("unknown split %q (want train, val or test)", s)
}

// Column is one named column of a Frame. Exactly one of Num and Str is
// used, according to Kind.
type Column struct {
	Name string
	Kind Kind
	// Num holds the values of a numeric column; NaN is missing.
	Num []float64
	// Str holds the values of a categorical column; "" is missing.
	Str []string
	// OneHot marks a 0/1 indicator column made by one-hot encoding, which
	// Augment leaves without noise.
	OneHot bool
	// Token marks a column of token ids or counts made from text: ids, not
	// measurements, so Normalize, Outliers and Augment leave it alone
	// unless it is named.
	Token bool
	// TextOpts, on a categorical column marked by MarkText, says how the
	// column is tokenised once the rows are split; nil for other columns.
	TextOpts *TextOptions
}

// Missing reports whether row i of the column is missing.
func (c *Column) Missing(i int) bool {
	if c.Kind == Numeric {
		return math.IsNaN(c.Num[i])
	}
	return c.Str[i] == ""
}

// Text returns row i as text: numbers in their shortest exact form, missing
// values as "".
func (c *Column) Text(i int) string {
	if c.Kind == Categorical {
		return c.Str[i]
	}
	if math.IsNaN(c.Num[i]) {
		return ""
	}
	return formatNumber(c.Num[i])
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// Frame is a table of named columns with a target, a task, the class labels
// and a split tag per row.
type Frame struct {
	// Columns in order; the target is one of them.
	Columns []*Column
	// Target is the name of the label column.
	Target string
	// Task is classification or regression.
	Task Task
	// ClassLabels are the class labels of a classification target, recorded
	// once when the frame is made and never reordered: numerically sorted
	// when every label is a number, else sorted as strings. A row's class
	// index is its label's position here.
	ClassLabels []string
	// Splits tags each row.
	Splits []Split
	// Source is each row's 0-based index among the data rows it was read
	// from (or generated as); a row Augment adds has its original's. Steps
	// that remove rows keep it aligned, so predictions can name input rows.
	Source []int
	// Fields are the feature columns as the data came, before any step:
	// what Replay expects of new data.
	Fields []Field
	// Transforms are the fitted steps, in the order applied, that Replay
	// applies to new data.
	Transforms []Transform
	// PresetTest says the Test rows came as such (a dataset's test_path):
	// splitting keeps them and divides only the others.
	PresetTest bool

	// index maps column names to positions in Columns. Steps add, replace
	// and remove columns freely, so an entry is trusted only after checking
	// that the column there has the name; a miss rebuilds it. Without it a
	// step over every column of a wide frame was quadratic (100k columns:
	// minutes).
	index map[string]int
}

// Field is a feature column as the data file has it.
type Field struct {
	Name string `json:"name"`
	// Kind is "numeric" or "categorical".
	Kind string `json:"kind"`
}

// Rows returns the number of rows.
func (f *Frame) Rows() int { return len(f.Splits) }

// Column returns the named column, or nil.
func (f *Frame) Column(name string) *Column {
	if i := f.columnIndex(name); i >= 0 {
		return f.Columns[i]
	}
	return nil
}

// columnIndex returns the position of the named column, or -1. A Frame is
// not safe for concurrent use, even by readers, since this may update the
// index.
func (f *Frame) columnIndex(name string) int {
	if i, ok := f.index[name]; ok && i < len(f.Columns) && f.Columns[i].Name == name {
		return i
	}
	f.index = make(map[string]int, len(f.Columns))
	for i, c := range f.Columns {
		f.index[c.Name] = i
	}
	if i, ok := f.index[name]; ok {
		return i
	}
	return -1
}

// Names returns the column names in order, the target included.
func (f *Frame) Names() []string {
	names := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		names[i] = c.Name
	}
	return names
}

// TargetColumn returns the target column.
func (f *Frame) TargetColumn() *Column { return f.Column(f.Target) }

// featureColumns returns every column but the target, in order.
func (f *Frame) featureColumns() []*Column {
	out := make([]*Column, 0, len(f.Columns))
	for _, c := range f.Columns {
		if c.Name != f.Target {
			out = append(out, c)
		}
	}
	return out
}

// Count returns the number of rows in split s.
func (f *Frame) Count(s Split) int {
	n := 0
	for _, t := range f.Splits {
		if t == s {
			n++
		}
	}
	return n
}

// Classes returns the class labels (nil for regression).
func (f *Frame) Classes() []string { return f.ClassLabels }

// Outputs returns the width of the model's output: 1 for regression and
// binary classification, k for k classes.
func (f *Frame) Outputs() int {
	if f.Task == Classification && len(f.ClassLabels) > 2 {
		return len(f.ClassLabels)
	}
	return 1
}

// classIndex maps each label to its position in ClassLabels.
func (f *Frame) classIndex() map[string]int {
	m := make(map[string]int, len(f.ClassLabels))
	for i, l := range f.ClassLabels {
		m[l] = i
	}
	return m
}

// labeler returns a function giving the class index of row i (-1 when the
// label is missing or unknown). A numeric target is looked up by value, so
// that no row is formatted as text.
func (f *Frame) labeler() func(i int) int {
	t := f.TargetColumn()
	if t == nil { // new data read for prediction has no target
		return func(int) int { return -1 }
	}
	if t.Kind == Categorical {
		idx := f.classIndex()
		return func(i int) int {
			if k, ok := idx[t.Str[i]]; ok {
				return k
			}
			return -1
		}
	}
	idx := make(map[float64]int, len(f.ClassLabels))
	for k, l := range f.ClassLabels {
		if v, err := strconv.ParseFloat(l, 64); err == nil {
			idx[v] = k
		}
	}
	return func(i int) int {
		if k, ok := idx[t.Num[i]]; ok {
			return k
		}
		return -1
	}
}

// ClassCounts returns the number of rows of each class in split s.
func (f *Frame) ClassCounts(s Split) []int {
	counts := make([]int, len(f.ClassLabels))
	for _, l := range f.Labels(s) {
		if l >= 0 {
			counts[l]++
		}
	}
	return counts
}

// Labels returns the class index of every row in split s, in row order;
// -1 marks a missing or unknown label. It returns nil for regression.
func (f *Frame) Labels(s Split) []int {
	if f.Task != Classification {
		return nil
	}
	label := f.labeler()
	out := make([]int, 0, f.Count(s))
	for i, tag := range f.Splits {
		if tag == s {
			out = append(out, label(i))
		}
	}
	return out
}

// rowLabels returns the class index of every row (-1 when missing).
func (f *Frame) rowLabels() []int {
	label := f.labeler()
	out := make([]int, f.Rows())
	for i := range out {
		out[i] = label(i)
	}
	return out
}

// Clone returns a deep copy of the frame.
func (f *Frame) Clone() *Frame {
	g := &Frame{Target: f.Target, Task: f.Task, PresetTest: f.PresetTest}
	g.ClassLabels = append([]string(nil), f.ClassLabels...)
	g.Splits = append([]Split(nil), f.Splits...)
	g.Source = append([]int(nil), f.Source...)
	g.Fields = append([]Field(nil), f.Fields...)
	for _, t := range f.Transforms {
		g.Transforms = append(g.Transforms, t.clone())
	}
	for _, c := range f.Columns {
		d := *c
		d.Num = append([]float64(nil), c.Num...)
		d.Str = append([]string(nil), c.Str...)
		g.Columns = append(g.Columns, &d)
	}
	return g
}

// keepRows keeps the rows where keep is true, in order.
func (f *Frame) keepRows(keep []bool) {
	for _, c := range f.Columns {
		if c.Kind == Numeric {
			c.Num = compact(c.Num, keep)
		} else {
			c.Str = compact(c.Str, keep)
		}
	}
	f.Splits = compact(f.Splits, keep)
	f.Source = compact(f.Source, keep)
}

func compact[T any](xs []T, keep []bool) []T {
	out := xs[:0]
	for i, x := range xs {
		if keep[i] {
			out = append(out, x)
		}
	}
	return out
}

// appendRows appends copies of the given rows, tagged Train.
func (f *Frame) appendRows(rows []int) {
	for _, c := range f.Columns {
		for _, r := range rows {
			if c.Kind == Numeric {
				c.Num = append(c.Num, c.Num[r])
			} else {
				c.Str = append(c.Str, c.Str[r])
			}
		}
	}
	for _, r := range rows {
		f.Splits = append(f.Splits, Train)
		f.Source = append(f.Source, f.Source[r])
	}
}

// trainRows returns the indices of the Train rows.
func (f *Frame) trainRows() []int {
	out := make([]int, 0, len(f.Splits))
	for i, t := range f.Splits {
		if t == Train {
			out = append(out, i)
		}
	}
	return out
}

// unknownColumn is the error for a name that is not a column.
func (f *Frame) unknownColumn(what, name string) error {
	return fmt.Errorf("%s: unknown column %q (columns: %s)", what, name, strings.Join(f.Names(), ", "))
}

// sortLabels sorts labels numerically when all are numbers, else as strings.
func sortLabels(labels []string) {
	nums := make([]float64, len(labels))
	for i, l := range labels {
		v, err := strconv.ParseFloat(l, 64)
		if err != nil {
			sort.Strings(labels)
			return
		}
		nums[i] = v
	}
	sort.Sort(byNumber{labels, nums})
}

type byNumber struct {
	s []string
	v []float64
}

func (b byNumber) Len() int { return len(b.s) }
func (b byNumber) Less(i, j int) bool {
	// Ties ("1" and "1.0") fall back to the text, so input order never matters.
	return b.v[i] < b.v[j] || b.v[i] == b.v[j] && b.s[i] < b.s[j]
}
func (b byNumber) Swap(i, j int) {
	b.s[i], b.s[j] = b.s[j], b.s[i]
	b.v[i], b.v[j] = b.v[j], b.v[i]
}

// distinctSorted returns the distinct non-missing values of rows in c,
// sorted as class labels are.
func distinctSorted(c *Column, rows []int) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		if c.Missing(r) {
			continue
		}
		v := c.Text(r)
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sortLabels(out)
	return out
}

// setTarget checks the target and records task and class labels. task ""
// infers it: a categorical target, or an integer target with at most
// maxClasses distinct values, is classification; any other is regression.
//
// It also starts Source (row i came from row i) and Fields, since every
// frame made from data goes through here.
func (f *Frame) setTarget(task string) error {
	t := f.TargetColumn()
	if t == nil {
		return f.unknownColumn("target", f.Target)
	}
	all := make([]int, f.Rows())
	for i := range all {
		all[i] = i
	}
	f.Source = all
	if f.Fields == nil { // else set by shape, which knows the raw columns
		for _, c := range f.featureColumns() {
			f.Fields = append(f.Fields, Field{Name: c.Name, Kind: c.Kind.String()})
		}
	}
	labels := distinctSorted(t, all)
	switch Task(task) {
	case Classification, Regression:
		f.Task = Task(task)
	case "":
		f.Task = inferTask(t, labels)
	default:
		return fmt.Errorf("unknown task %q (want classification or regression)", task)
	}
	if f.Task == Regression {
		if t.Kind != Numeric {
			return fmt.Errorf("target %q is not numeric, so it cannot be a regression target", f.Target)
		}
		f.ClassLabels = nil
		return nil
	}
	if len(labels) < 2 {
		return fmt.Errorf("target %q has %d class(es) %v; classification needs at least 2", f.Target, len(labels), labels)
	}
	f.ClassLabels = labels
	return nil
}

// maxClasses is the most distinct integer values a numeric target may have
// and still be inferred as class labels (digits has 10, a 1-5 rating 5).
const maxClasses = 20

func inferTask(t *Column, labels []string) Task {
	if t.Kind == Categorical {
		return Classification
	}
	if len(labels) > maxClasses {
		return Regression
	}
	for _, v := range t.Num {
		if !math.IsNaN(v) && v != math.Trunc(v) {
			return Regression
		}
	}
	return Classification
}

// New makes a frame of the given columns, every row in Train, with target
// naming one of them; task is "classification", "regression" or "" to
// infer it as ReadCSV does. Columns must have distinct names and equal
// lengths.
func New(columns []*Column, target, task string) (*Frame, error) {
	if len(columns) == 0 {
		return nil, fmt.Errorf("a frame needs at least one column")
	}
	n := -1
	seen := map[string]bool{}
	for _, c := range columns {
		if seen[c.Name] || c.Name == "" {
			return nil, fmt.Errorf("column name %q is empty or repeated", c.Name)
		}
		seen[c.Name] = true
		rows := len(c.Num)
		if c.Kind == Categorical {
			rows = len(c.Str)
		}
		if n >= 0 && rows != n {
			return nil, fmt.Errorf("column %q has %d rows, the others %d", c.Name, rows, n)
		}
		n = rows
	}
	f := &Frame{Columns: columns, Target: target, Splits: make([]Split, n)}
	if err := f.setTarget(task); err != nil {
		return nil, err
	}
	return f, nil
}
