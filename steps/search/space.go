// Package search holds the search algorithms of loom's tune stage, free of any pipeline code:
// search spaces, grid enumeration, seeded random sampling, the tree-structured Parzen
// estimator (TPE) and the asynchronous successive halving (ASHA) scheduler.
//
// Points are encoded as one float64 per dimension: the index of a choice, or the value of a
// numeric range. Dim.Value decodes a coordinate into the param value a trial uses. Every
// algorithm minimizes a loss; callers negate objectives they maximize.
package search

import (
	"fmt"
	"math"
	"sort"
)

// Version identifies the behaviour of this package: it changes whenever the same space, seed
// and results can propose other trials or rank them otherwise, so that a cache keyed on it
// misses.
const Version = "1"

// A Dist is the kind of distribution of one dimension.
type Dist int

// The distributions of the tune stage's space.
const (
	Choice     Dist = iota // one of Choices, uniformly
	Uniform                // a float in [Lo, Hi]
	LogUniform             // a float in [Lo, Hi] whose logarithm is uniform
	Int                    // an integer in [Lo, Hi], both included
)

var distNames = [...]string{"choice", "uniform", "log_uniform", "int"}

// String returns the name the manifest uses for d.
func (d Dist) String() string { return distNames[d] }

// A Dim is one dimension of a search space: the param it sets and its distribution.
type Dim struct {
	Path    string // the param path, e.g. "params.train.lr"
	Dist    Dist
	Choices []any   // the values of a Choice dimension
	Lo, Hi  float64 // the bounds of a numeric dimension
}

// Check reports what is wrong with the dimension's bounds or choices.
func (d Dim) Check() error {
	switch d.Dist {
	case Choice:
		if len(d.Choices) == 0 {
			return fmt.Errorf("choice needs at least one value")
		}
		return nil
	case LogUniform:
		if !(d.Lo > 0) {
			return fmt.Errorf("log_uniform needs a positive lower bound, not %v", d.Lo)
		}
	case Int:
		if d.Lo != math.Trunc(d.Lo) || d.Hi != math.Trunc(d.Hi) {
			return fmt.Errorf("int needs integer bounds, not [%v, %v]", d.Lo, d.Hi)
		}
	}
	if math.IsNaN(d.Lo) || math.IsNaN(d.Hi) || math.IsInf(d.Lo, 0) || math.IsInf(d.Hi, 0) {
		return fmt.Errorf("%s needs finite bounds", d.Dist)
	}
	if d.Lo > d.Hi || (d.Lo == d.Hi && d.Dist != Int) {
		return fmt.Errorf("%s needs lower < upper, not [%v, %v]", d.Dist, d.Lo, d.Hi)
	}
	return nil
}

// Discrete reports whether the dimension has finitely many values.
func (d Dim) Discrete() bool { return d.Dist == Choice || d.Dist == Int }

// Size returns the number of values of a discrete dimension.
func (d Dim) Size() int {
	if d.Dist == Choice {
		return len(d.Choices)
	}
	return int(d.Hi-d.Lo) + 1
}

// Value decodes coordinate x into the value a trial's param takes: a choice, a float64 or an
// int.
func (d Dim) Value(x float64) any {
	switch d.Dist {
	case Choice:
		return d.Choices[int(x)]
	case Int:
		return int(x)
	}
	return x
}

// A Space is a search space, its dimensions sorted by path so that the same space always
// gives the same points.
type Space []Dim

// NewSpace sorts dims by path and checks each.
func NewSpace(dims []Dim) (Space, error) {
	s := append(Space(nil), dims...)
	sort.Slice(s, func(i, j int) bool { return s[i].Path < s[j].Path })
	for _, d := range s {
		if err := d.Check(); err != nil {
			return nil, fmt.Errorf("%s: %w", d.Path, err)
		}
	}
	return s, nil
}

// Params decodes a point into the params a trial overrides, by path.
func (s Space) Params(p []float64) map[string]any {
	out := make(map[string]any, len(s))
	for i, d := range s {
		out[d.Path] = d.Value(p[i])
	}
	return out
}

// Grid returns every combination of the space's values, the last dimension varying fastest.
// Continuous ranges have no grid: the error names them.
func (s Space) Grid() ([][]float64, error) {
	n := 1
	for _, d := range s {
		if !d.Discrete() {
			return nil, fmt.Errorf("%s: grid search needs choice or int values, not a continuous %s range", d.Path, d.Dist)
		}
		n *= d.Size()
		if n > 1_000_000 {
			return nil, fmt.Errorf("the grid has more than a million points")
		}
	}
	points := make([][]float64, n)
	flat := make([]float64, n*len(s))
	for i := range points {
		p := flat[i*len(s) : (i+1)*len(s) : (i+1)*len(s)]
		rest := i
		for j := len(s) - 1; j >= 0; j-- {
			k := s[j].Size()
			p[j] = float64(rest % k)
			if s[j].Dist == Int {
				p[j] += s[j].Lo
			}
			rest /= k
		}
		points[i] = p
	}
	return points, nil
}
