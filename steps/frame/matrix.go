package frame

import (
	"fmt"
	"math"
)

// FeatureNames returns the names of the columns of Matrix's X: every
// feature column in order, with a categorical column still present
// expanded to "col=level" for each level in the Train rows, and a text
// column not tokenised yet replaced by its token columns.
func (f *Frame) FeatureNames() []string {
	if g, err := f.tokenized(); err == nil && g != f {
		return g.FeatureNames()
	}
	var names []string
	for _, c := range f.featureColumns() {
		if c.Kind == Numeric {
			names = append(names, c.Name)
			continue
		}
		for _, l := range distinctSorted(c, f.trainRows()) {
			names = append(names, c.Name+"="+l)
		}
	}
	return names
}

// Matrix returns the rows of split s as a row-major float32 feature matrix
// X (rows x len(FeatureNames())) and target matrix Y (rows x Outputs()).
// Categorical feature columns still present are one-hot encoded with the
// levels of the Train rows, as Encode would (use an explicit Encode step
// so that Replay reproduces the same columns on new data). Y is the class
// index (0/1) for binary classification, a one-hot row for k > 2 classes,
// and the value for regression. A missing value is an error naming the
// column. A text column not tokenised yet (a frame never split) is
// tokenised with a vocabulary fitted on the Train rows.
func (f *Frame) Matrix(s Split) (X, Y []float32, rows int, err error) {
	if g, err := f.tokenized(); err != nil || g != f {
		if err != nil {
			return nil, nil, 0, err
		}
		return g.Matrix(s)
	}
	var idx []int
	for i, t := range f.Splits {
		if t == s {
			idx = append(idx, i)
		}
	}
	rows = len(idx)
	width := len(f.FeatureNames())
	X = make([]float32, rows*width)
	col := 0
	for _, c := range f.featureColumns() {
		if c.Kind == Categorical {
			levels := distinctSorted(c, f.trainRows())
			for k, l := range levels {
				for r, i := range idx {
					if c.Str[i] == "" {
						return nil, nil, 0, missingError(c.Name, s, r)
					}
					if c.Str[i] == l {
						X[r*width+col+k] = 1
					}
				}
			}
			col += len(levels)
			continue
		}
		for r, i := range idx {
			v := c.Num[i]
			if math.IsNaN(v) {
				return nil, nil, 0, missingError(c.Name, s, r)
			}
			X[r*width+col] = float32(v)
		}
		col++
	}
	Y, err = f.targets(idx, s)
	if err != nil {
		return nil, nil, 0, err
	}
	return X, Y, rows, nil
}

func missingError(name string, s Split, r int) error {
	return fmt.Errorf("column %q has a missing value (row %d of the %s split); add an impute or drop_missing step before training", name, r+1, s)
}

func (f *Frame) targets(idx []int, s Split) ([]float32, error) {
	t := f.TargetColumn()
	if t == nil {
		return nil, f.unknownColumn("target", f.Target)
	}
	out := f.Outputs()
	Y := make([]float32, len(idx)*out)
	if f.Task == Regression {
		for r, i := range idx {
			if math.IsNaN(t.Num[i]) {
				return nil, missingError(t.Name, s, r)
			}
			Y[r] = float32(t.Num[i])
		}
		return Y, nil
	}
	label := f.labeler()
	for r, i := range idx {
		k := label(i)
		if k < 0 {
			return nil, fmt.Errorf("target %q: row %d of the %s split has label %q, which is not one of the classes %v", t.Name, r+1, s, t.Text(i), f.ClassLabels)
		}
		if out == 1 {
			Y[r] = float32(k)
		} else {
			Y[r*out+k] = 1
		}
	}
	return Y, nil
}

// AllNumeric reports whether every feature column is numeric: then the features are the
// columns themselves, known without the rows.
func (f *Frame) AllNumeric() bool {
	for _, c := range f.featureColumns() {
		if c.Kind != Numeric {
			return false
		}
	}
	return true
}
