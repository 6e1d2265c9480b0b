package frame

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/expr-lang/expr"
)

// Step is one preprocess step of the manifest. Apply changes the frame in
// place; on error the frame may be partly changed and should be discarded.
type Step interface {
	Apply(f *Frame) error
}

// DropMissing removes every row, of any split, that has a missing value in
// any column.
type DropMissing struct {
	// Columns to check; empty means every column.
	Columns []string
}

// Apply removes the rows with a missing value.
func (s DropMissing) Apply(f *Frame) error {
	cols := f.Columns
	if len(s.Columns) > 0 {
		cols = nil
		for _, name := range s.Columns {
			c := f.Column(name)
			if c == nil {
				return f.unknownColumn("drop_missing", name)
			}
			cols = append(cols, c)
		}
	}
	keep := make([]bool, f.Rows())
	for i := range keep {
		keep[i] = true
		for _, c := range cols {
			if c.Missing(i) {
				keep[i] = false
				break
			}
		}
	}
	f.keepRows(keep)
	return nil
}

// Impute fills missing values with a statistic of the Train rows of each
// column: "mean" or "median" (numeric columns), "most_frequent" (the
// commonest value, the smallest on ties, as scikit-learn), or "constant"
// (Value, a number or a string).
type Impute struct {
	Strategy string
	// Value is the fill value of the constant strategy.
	Value any
	// Columns to impute; empty means every feature column with a missing
	// value. With mean or median, categorical columns chosen this way get
	// their most frequent value instead; naming one explicitly is an error.
	Columns []string
}

// Apply fits the fill value of each column on the Train rows and fills
// every split.
func (s Impute) Apply(f *Frame) error {
	switch s.Strategy {
	case "mean", "median", "most_frequent", "constant":
	default:
		return fmt.Errorf("impute: unknown strategy %q (want mean, median, most_frequent or constant)", s.Strategy)
	}
	if s.Strategy == "constant" && s.Value == nil {
		return errors.New("impute: the constant strategy needs a value")
	}
	cols, err := f.columnsOrDefault("impute", s.Columns, func(c *Column) bool { return hasMissing(c) && c.TextOpts == nil })
	if err != nil {
		return err
	}
	train := f.trainRows()
	for _, c := range cols {
		fill, err := s.fill(c, train, len(s.Columns) > 0)
		if err != nil {
			return fmt.Errorf("impute: column %q: %w", c.Name, err)
		}
		if err := f.record(Transform{Op: "impute", Column: c.Name, Fill: fill}); err != nil {
			return fmt.Errorf("impute: %w", err)
		}
	}
	return nil
}

func hasMissing(c *Column) bool {
	for i := range len(c.Num) + len(c.Str) {
		if c.Missing(i) {
			return true
		}
	}
	return false
}

func (s Impute) fill(c *Column, train []int, explicit bool) (string, error) {
	strategy := s.Strategy
	if c.Kind == Categorical && (strategy == "mean" || strategy == "median") {
		if explicit {
			return "", fmt.Errorf("strategy %s needs a numeric column; this one is categorical (use most_frequent or constant)", strategy)
		}
		strategy = "most_frequent"
	}
	if strategy == "constant" {
		switch v := s.Value.(type) {
		case string:
			return v, nil
		case float64, float32, int, int64:
			n, _ := toNumber(v)
			return formatNumber(n), nil
		}
		return "", fmt.Errorf("the constant value %v is neither a number nor a string", s.Value)
	}
	if strategy == "most_frequent" {
		return mostFrequent(c, train)
	}
	vals := presentValues(c, train)
	if len(vals) == 0 {
		return "", errors.New("every value in the train split is missing, so there is nothing to fit on")
	}
	if strategy == "mean" {
		return formatNumber(mean(vals)), nil
	}
	sort.Float64s(vals)
	return formatNumber(quantile(vals, 0.5)), nil
}

func mostFrequent(c *Column, train []int) (string, error) {
	counts := map[string]int{}
	for _, r := range train {
		if !c.Missing(r) {
			counts[c.Text(r)]++
		}
	}
	if len(counts) == 0 {
		return "", errors.New("every value in the train split is missing, so there is nothing to fit on")
	}
	levels := make([]string, 0, len(counts))
	for l := range counts {
		levels = append(levels, l)
	}
	sortLabels(levels)
	best := levels[0]
	for _, l := range levels[1:] {
		if counts[l] > counts[best] {
			best = l
		}
	}
	return best, nil
}

// presentValues returns the non-missing values of numeric column c in rows.
func presentValues(c *Column, rows []int) []float64 {
	out := make([]float64, 0, len(rows))
	for _, r := range rows {
		if v := c.Num[r]; !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

func mean(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// std is the population standard deviation (ddof 0), as scikit-learn's
// StandardScaler.
func std(xs []float64, m float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)))
}

// quantile of sorted xs with linear interpolation (numpy's default).
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// columnsOrDefault resolves named feature columns, or when names is empty
// every feature column for which def is true.
func (f *Frame) columnsOrDefault(step string, names []string, def func(*Column) bool) ([]*Column, error) {
	var out []*Column
	if len(names) == 0 {
		for _, c := range f.featureColumns() {
			if def(c) {
				out = append(out, c)
			}
		}
		return out, nil
	}
	for _, n := range names {
		c := f.Column(n)
		if c == nil {
			return nil, f.unknownColumn(step, n)
		}
		if n == f.Target {
			return nil, fmt.Errorf("%s: %q is the target column", step, n)
		}
		out = append(out, c)
	}
	return out, nil
}

// Filter keeps the rows, of every split, where Expr is true. See RowVar
// for how columns are named in the expression.
type Filter struct {
	Expr string
}

// Apply compiles the expression once and runs it on every row.
func (s Filter) Apply(f *Frame) error {
	e, err := compileRowExpr(f, s.Expr, expr.AsBool())
	if err != nil {
		return err
	}
	keep := make([]bool, f.Rows())
	for i := range keep {
		v, err := e.eval(i)
		if err != nil {
			return err
		}
		b, ok := v.(bool)
		if !ok {
			return &ExprError{Expr: s.Expr, Msg: fmt.Sprintf("row %d: the filter gave %T, not a bool", i+1, v)}
		}
		keep[i] = b
	}
	f.keepRows(keep)
	return nil
}

// Derive adds (or replaces) Column with the value of Expr on each row. A
// number or bool result (true = 1) makes a numeric column, a string one a
// categorical column; nil and infinities (division by zero) are missing.
type Derive struct {
	Column string
	Expr   string
}

// Apply computes the column and records it for Replay.
func (s Derive) Apply(f *Frame) error {
	if s.Column == "" {
		return errors.New("derive: the new column needs a name")
	}
	if s.Column == f.Target {
		return fmt.Errorf("derive: %q is the target column", s.Column)
	}
	return f.record(Transform{Op: "derive", Column: s.Column, Expr: s.Expr})
}

func (f *Frame) derive(name, src string) error {
	e, err := compileRowExpr(f, src)
	if err != nil {
		return err
	}
	n := f.Rows()
	nums := make([]float64, n)
	var strs []string
	for i := 0; i < n; i++ {
		v, err := e.eval(i)
		if err != nil {
			return err
		}
		if str, ok := v.(string); ok {
			if strs == nil {
				if !allNaN(nums[:i]) {
					return mixedResult(src, i)
				}
				strs = make([]string, n)
			}
			strs[i] = str
			continue
		}
		x, ok := toNumber(v)
		if !ok {
			return &ExprError{Expr: src, Msg: fmt.Sprintf("row %d: the result %v (%T) is neither a number nor a string", i+1, v, v)}
		}
		if strs != nil && v != nil {
			return mixedResult(src, i)
		}
		if math.IsInf(x, 0) {
			x = math.NaN() // a division by zero is a missing value, not a number to scale
		}
		nums[i] = x
	}
	col := &Column{Name: name, Kind: Numeric, Num: nums}
	if strs != nil {
		col = &Column{Name: name, Kind: Categorical, Str: strs}
	}
	if at := f.columnIndex(name); at >= 0 {
		f.Columns[at] = col
		return nil
	}
	// New columns go before the target so that a target-last layout stays.
	at := f.columnIndex(f.Target)
	if at < 0 { // replaying on data without a target
		f.Columns = append(f.Columns, col)
		return nil
	}
	f.Columns = append(f.Columns[:at], append([]*Column{col}, f.Columns[at:]...)...)
	return nil
}

func mixedResult(src string, i int) error {
	return &ExprError{Expr: src, Msg: fmt.Sprintf("row %d: the expression mixes numbers and strings across rows; a column holds one or the other", i+1)}
}

func allNaN(xs []float64) bool {
	for _, x := range xs {
		if !math.IsNaN(x) {
			return false
		}
	}
	return true
}

// Select keeps only the named feature columns, in their current order; the
// target is always kept.
type Select struct {
	Columns []string
}

// Apply drops every other feature column.
func (s Select) Apply(f *Frame) error {
	if len(s.Columns) == 0 {
		return errors.New("select: no columns given")
	}
	for _, n := range s.Columns {
		if f.Column(n) == nil {
			return f.unknownColumn("select", n)
		}
	}
	return f.record(Transform{Op: "select", Columns: append([]string(nil), s.Columns...)})
}

func (f *Frame) selectColumns(names []string) error {
	want := map[string]bool{f.Target: true}
	for _, n := range names {
		if f.Column(n) == nil {
			return f.unknownColumn("select", n)
		}
		want[n] = true
	}
	f.Columns = compact(f.Columns, columnMask(f, want, true))
	return nil
}

func columnMask(f *Frame, names map[string]bool, keep bool) []bool {
	mask := make([]bool, len(f.Columns))
	for i, c := range f.Columns {
		mask[i] = names[c.Name] == keep
	}
	return mask
}

// Drop removes the named feature columns.
type Drop struct {
	Columns []string
}

// Apply removes the columns; dropping the target is an error.
func (s Drop) Apply(f *Frame) error {
	for _, n := range s.Columns {
		if n == f.Target {
			return fmt.Errorf("drop: %q is the target column", n)
		}
		if f.Column(n) == nil {
			return f.unknownColumn("drop", n)
		}
	}
	return f.record(Transform{Op: "drop", Columns: append([]string(nil), s.Columns...)})
}

func (f *Frame) dropColumns(names []string) error {
	gone := map[string]bool{}
	for _, n := range names {
		if f.Column(n) == nil {
			return f.unknownColumn("drop", n)
		}
		gone[n] = true
	}
	f.Columns = compact(f.Columns, columnMask(f, gone, false))
	return nil
}

// Outliers removes Train rows with a value far from the Train rows of a
// column: |x-mean|/std > Threshold (method "zscore", default 3), or x
// outside [Q1-k*IQR, Q3+k*IQR] (method "iqr", k = Threshold, default 1.5).
// Val and Test rows are never removed, so evaluation sees the data as it
// comes. Missing values are not outliers.
type Outliers struct {
	Method    string
	Threshold float64
	// Columns to check; empty means every numeric feature column that is
	// not a one-hot indicator or token column.
	Columns []string
}

// Apply removes the outlying Train rows.
func (s Outliers) Apply(f *Frame) error {
	th := s.Threshold
	switch s.Method {
	case "zscore", "":
		if th == 0 {
			th = 3
		}
	case "iqr":
		if th == 0 {
			th = 1.5
		}
	default:
		return fmt.Errorf("outliers: unknown method %q (want zscore or iqr)", s.Method)
	}
	if th < 0 {
		return fmt.Errorf("outliers: threshold %v is negative", th)
	}
	cols, err := f.numericColumns("outliers", s.Columns)
	if err != nil {
		return err
	}
	train := f.trainRows()
	keep := make([]bool, f.Rows())
	for i := range keep {
		keep[i] = true
	}
	for _, c := range cols {
		vals := presentValues(c, train)
		if len(vals) == 0 {
			continue
		}
		lo, hi := outlierBounds(s.Method, vals, th)
		for _, r := range train {
			if v := c.Num[r]; v < lo || v > hi {
				keep[r] = false
			}
		}
	}
	f.keepRows(keep)
	return nil
}

func outlierBounds(method string, vals []float64, th float64) (lo, hi float64) {
	if method == "iqr" {
		sort.Float64s(vals)
		q1, q3 := quantile(vals, 0.25), quantile(vals, 0.75)
		return q1 - th*(q3-q1), q3 + th*(q3-q1)
	}
	m := mean(vals)
	sd := std(vals, m)
	return m - th*sd, m + th*sd
}

// numericColumns resolves named numeric feature columns, or by default
// every numeric feature column that is not a one-hot indicator or token
// column.
func (f *Frame) numericColumns(step string, names []string) ([]*Column, error) {
	cols, err := f.columnsOrDefault(step, names, func(c *Column) bool { return c.Kind == Numeric && !c.OneHot && !c.Token })
	if err != nil {
		return nil, err
	}
	for _, c := range cols {
		if c.Kind != Numeric {
			return nil, fmt.Errorf("%s: column %q is categorical; encode it first", step, c.Name)
		}
	}
	return cols, nil
}

// Encode turns categorical columns into numbers with levels taken from the
// Train rows, sorted (numerically when all are numbers). "onehot" replaces
// a column by 0/1 columns named "col=level" (a missing cell gives NaN in
// each, a level unseen in training gives all zeros); "ordinal" maps the
// levels to 0..n-1 (missing and unseen levels give NaN).
type Encode struct {
	// Columns to encode; empty means every categorical feature column. A
	// numeric column may be named: its values are used as levels.
	Columns []string
	// Method is "onehot" (default) or "ordinal".
	Method string
}

// Apply fits the levels and encodes every split.
func (s Encode) Apply(f *Frame) error {
	op := s.Method
	switch op {
	case "", "onehot", "one_hot":
		op = "onehot"
	case "ordinal":
	default:
		return fmt.Errorf("encode: unknown method %q (want onehot or ordinal)", s.Method)
	}
	cols, err := f.columnsOrDefault("encode", s.Columns, func(c *Column) bool { return c.Kind == Categorical && c.TextOpts == nil })
	if err != nil {
		return err
	}
	train := f.trainRows()
	for _, c := range cols {
		if c.TextOpts != nil {
			return fmt.Errorf("encode: column %q is text, tokenised when the rows are split", c.Name)
		}
		levels := distinctSorted(c, train)
		if len(levels) == 0 {
			return fmt.Errorf("encode: column %q has no values in the train split", c.Name)
		}
		if err := f.record(Transform{Op: op, Column: c.Name, Levels: levels}); err != nil {
			return fmt.Errorf("encode: %w", err)
		}
	}
	return nil
}

// SplitData assigns every row to Train, Val or Test: a Test fraction and a
// Val fraction of the rows, chosen at random from Seed, the rest Train. With
// Stratify each class is split on its own, so every split keeps the class
// ratios (up to rounding). Splitting again re-assigns every row, except
// preset Test rows (Frame.PresetTest), which stay: only Val is drawn then.
//
// With Column, the rows' splits are that column's values instead (train,
// val or validation, test), and the column is removed.
type SplitData struct {
	Test     float64
	Val      float64
	Stratify bool
	Seed     uint64
	Column   string
}

// Apply tags the rows, then tokenises the text columns marked by MarkText
// with a vocabulary fitted on the new Train rows.
func (s SplitData) Apply(f *Frame) error {
	if s.Column != "" {
		if err := f.splitByColumn(s.Column); err != nil {
			return err
		}
		return f.tokenizeText()
	}
	if s.Test < 0 || s.Val < 0 || s.Test+s.Val >= 1 {
		return fmt.Errorf("split: test %v and val %v must be fractions >= 0 that sum to less than 1", s.Test, s.Val)
	}
	if s.Stratify && f.Task != Classification {
		return errors.New("split: stratify needs a classification target")
	}
	if f.PresetTest && s.Test > 0 {
		return errors.New("split: the data comes with its test rows (the dataset's test_path); give only val")
	}
	groups := [][]int{make([]int, f.Rows())}
	for i := range groups[0] {
		groups[0][i] = i
	}
	if s.Stratify {
		groups = f.classGroups()
	}
	if f.PresetTest {
		for g, rows := range groups {
			groups[g] = slices.DeleteFunc(rows, func(r int) bool { return f.Splits[r] == Test })
		}
	}
	rng := newRand(s.Seed)
	for i := range f.Splits {
		if !f.PresetTest || f.Splits[i] != Test {
			f.Splits[i] = Train
		}
	}
	for _, g := range groups {
		rng.Shuffle(len(g), func(i, j int) { g[i], g[j] = g[j], g[i] })
		nTest := int(math.Round(s.Test * float64(len(g))))
		nVal := int(math.Round(s.Val * float64(len(g))))
		if nTest+nVal > len(g) {
			nVal = len(g) - nTest
		}
		for _, r := range g[:nTest] {
			f.Splits[r] = Test
		}
		for _, r := range g[nTest : nTest+nVal] {
			f.Splits[r] = Val
		}
	}
	if f.Count(Train) == 0 {
		return errors.New("split: no rows are left for the train split")
	}
	// Text is tokenised here, now that the Train rows the vocabulary is
	// fitted on are known.
	return f.tokenizeText()
}

// splitByColumn takes each row's split from the named column, then removes it.
func (f *Frame) splitByColumn(name string) error {
	c := f.Column(name)
	switch {
	case c == nil:
		return f.unknownColumn("split", name)
	case name == f.Target:
		return fmt.Errorf("split: column %q is the target", name)
	case f.PresetTest:
		return fmt.Errorf("split: the data comes with its test rows (the dataset's test_path), so a split column cannot give them")
	}
	for i := range f.Splits {
		s, err := ParseSplit(c.Text(i))
		if err != nil {
			return fmt.Errorf("split: column %q, data row %d: %q is not train, val or test", name, f.Source[i]+1, c.Text(i))
		}
		f.Splits[i] = s
	}
	if f.Count(Train) == 0 {
		return fmt.Errorf("split: column %q gives no train rows", name)
	}
	f.Fields = slices.DeleteFunc(f.Fields, func(fd Field) bool { return fd.Name == name })
	return f.dropColumns([]string{name})
}

// classGroups returns the row indices of each class, in row order; rows
// with an unknown label form a last group.
func (f *Frame) classGroups() [][]int {
	groups := make([][]int, len(f.ClassLabels)+1)
	for i, l := range f.rowLabels() {
		if l < 0 {
			l = len(f.ClassLabels)
		}
		groups[l] = append(groups[l], i)
	}
	return groups
}

// newRand returns the PCG generator used by every random step, so that a
// seed means the same stream everywhere.
func newRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}

// Normalize rescales numeric feature columns with statistics of their
// Train rows: "zscore" (x-mean)/std, "minmax" (x-min)/(max-min), "robust"
// (x-median)/IQR. A zero spread scales by 1, as scikit-learn does. Missing
// values stay missing. The target is never normalized.
type Normalize struct {
	Method string
	// Columns to rescale; empty means every numeric feature column that is
	// not a one-hot indicator or token column.
	Columns []string
}

// Apply fits on the Train rows and rescales every split.
func (s Normalize) Apply(f *Frame) error {
	switch s.Method {
	case "zscore", "minmax", "robust":
	default:
		return fmt.Errorf("normalize: unknown method %q (want zscore, minmax or robust)", s.Method)
	}
	cols, err := f.numericColumns("normalize", s.Columns)
	if err != nil {
		return err
	}
	train := f.trainRows()
	for _, c := range cols {
		vals := presentValues(c, train)
		if len(vals) == 0 {
			return fmt.Errorf("normalize: column %q has no values in the train split", c.Name)
		}
		center, scale := scaling(s.Method, vals)
		if scale == 0 || math.IsNaN(scale) {
			scale = 1
		}
		if err := f.record(Transform{Op: "normalize", Column: c.Name, Center: center, Scale: scale}); err != nil {
			return fmt.Errorf("normalize: %w", err)
		}
	}
	return nil
}

func scaling(method string, vals []float64) (center, scale float64) {
	switch method {
	case "zscore":
		m := mean(vals)
		return m, std(vals, m)
	case "minmax":
		lo, hi := vals[0], vals[0]
		for _, v := range vals {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		return lo, hi - lo
	}
	sort.Float64s(vals)
	return quantile(vals, 0.5), quantile(vals, 0.75) - quantile(vals, 0.25)
}

// Augment adds rows to the Train split only; Val and Test rows are never
// copied. Oversample "minority" copies random rows of the smallest class
// until it is as large as the largest; "not_majority" does so for every
// class. Then, when NoiseStd > 0, each Train row gets Copies (default 1)
// copies with Gaussian noise of that standard deviation added to every
// numeric feature that is not a one-hot indicator or token column.
type Augment struct {
	NoiseStd   float64
	Copies     int
	Oversample string
	Seed       uint64
}

// Apply appends the new rows, tagged Train.
func (s Augment) Apply(f *Frame) error {
	if s.NoiseStd < 0 || s.Copies < 0 {
		return fmt.Errorf("augment: noise std %v and copies %d must not be negative", s.NoiseStd, s.Copies)
	}
	rng := newRand(s.Seed)
	switch s.Oversample {
	case "":
	case "minority", "not_majority":
		if f.Task != Classification {
			return errors.New("augment: oversample needs a classification target")
		}
		f.appendRows(oversampleRows(f, s.Oversample == "minority", rng))
	default:
		return fmt.Errorf("augment: unknown oversample %q (want minority or not_majority)", s.Oversample)
	}
	if s.NoiseStd > 0 {
		f.addNoisyCopies(s.NoiseStd, max(s.Copies, 1), rng)
	}
	return nil
}

func oversampleRows(f *Frame, minorityOnly bool, rng *rand.Rand) []int {
	byClass := make([][]int, len(f.ClassLabels))
	labels := f.rowLabels()
	for _, r := range f.trainRows() {
		if l := labels[r]; l >= 0 {
			byClass[l] = append(byClass[l], r)
		}
	}
	most, least := 0, -1
	for k, rows := range byClass {
		most = max(most, len(rows))
		if len(rows) > 0 && (least < 0 || len(rows) < len(byClass[least])) {
			least = k
		}
	}
	var out []int
	for k, rows := range byClass {
		if len(rows) == 0 || (minorityOnly && k != least) {
			continue
		}
		for range most - len(rows) {
			out = append(out, rows[rng.IntN(len(rows))])
		}
	}
	return out
}

func (f *Frame) addNoisyCopies(sd float64, copies int, rng *rand.Rand) {
	train := f.trainRows()
	start := f.Rows()
	for range copies {
		f.appendRows(train)
	}
	var noisy []*Column
	for _, c := range f.featureColumns() {
		if c.Kind == Numeric && !c.OneHot && !c.Token {
			noisy = append(noisy, c)
		}
	}
	for i := start; i < f.Rows(); i++ {
		for _, c := range noisy {
			c.Num[i] += sd * rng.NormFloat64()
		}
	}
}

// Pseudonymize replaces every value of the named columns by a keyed hash of it: the first 16
// bytes of HMAC-SHA-256(Salt, value), in hex. Equal values stay equal, so the column still
// groups and encodes; without the salt the values cannot be recovered or tested for a guess. A
// missing value stays missing; a numeric column becomes categorical.
type Pseudonymize struct {
	Columns []string
	Salt    []byte
}

// Apply implements Step.
func (p Pseudonymize) Apply(f *Frame) error {
	for _, name := range p.Columns {
		c := f.Column(name)
		if c == nil {
			return f.unknownColumn("pseudonymize", name)
		}
		out := make([]string, f.Rows())
		for i := range out {
			if c.Missing(i) {
				continue
			}
			m := hmac.New(sha256.New, p.Salt)
			m.Write([]byte(c.Text(i)))
			out[i] = hex.EncodeToString(m.Sum(nil)[:16])
		}
		c.Kind, c.Num, c.Str = Categorical, nil, out
		for i := range f.Fields {
			if f.Fields[i].Name == name {
				f.Fields[i].Kind = Categorical.String()
			}
		}
	}
	return nil
}
