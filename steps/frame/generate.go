package frame

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// GenOptions describe a synthetic data set for Generate.
type GenOptions struct {
	// Kind is moons, circles, blobs, xor, spiral or linear.
	Kind string
	// N is the number of rows (default 100).
	N int
	// Features is the number of feature columns x0..x{d-1}; moons, circles
	// and spiral have exactly 2, xor at least 2 (default 2).
	Features int
	// Classes is the number of classes; moons, circles and xor have exactly
	// 2 (default 2, and 3 for blobs as scikit-learn).
	Classes int
	// Noise is the standard deviation of Gaussian noise; for blobs it is
	// the cluster standard deviation, where 0 means scikit-learn's 1.0.
	Noise float64
	// Seed makes the data: the same options give the same frame.
	Seed uint64
	// Task "regression" makes linear give a numeric target; "" or
	// "classification" give class labels.
	Task string
}

// GenKinds lists the kinds Generate knows.
var GenKinds = []string{"moons", "circles", "blobs", "xor", "spiral", "linear"}

// Generate makes a synthetic data set with feature columns x0..x{d-1} and
// target "y" (class labels 0..k-1), shuffled, every row in Train. The
// kinds follow scikit-learn where it has them:
//
//   - moons: make_moons, two interleaved half circles.
//   - circles: make_circles with factor 0.8, a circle inside another.
//   - blobs: make_blobs, Gaussian clusters around centres drawn uniformly
//     in [-10, 10]^d, with cluster standard deviation Noise.
//   - xor: points uniform in [-1, 1]^d, class 1 when x0 and x1 have
//     different signs; the other features are distractors.
//   - spiral: k arms of 1.5 turns each, radius growing from 0 to 1; the
//     Noise is added to the angle (radians) as well as to the point.
//   - linear: x ~ N(0, 1)^d, class argmax(W x) for a random Gaussian W
//     (w.x > 0 for two classes), so the classes are linearly separable
//     before the noise is added to x; with Task "regression", y = w.x plus
//     Gaussian noise of standard deviation Noise.
func Generate(opt GenOptions) (*Frame, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	rng := newRand(opt.Seed)
	var X [][]float64
	var y []float64
	switch opt.Kind {
	case "moons":
		X, y = genMoons(opt.N)
	case "circles":
		X, y = genCircles(opt.N)
	case "blobs":
		X, y = genBlobs(opt, rng)
	case "xor":
		X, y = genXor(opt, rng)
	case "spiral":
		X, y = genSpiral(opt, rng)
	case "linear":
		X, y = genLinear(opt, rng)
	}
	if opt.Kind != "blobs" && opt.Task != string(Regression) && opt.Noise > 0 {
		for _, x := range X {
			for j := range x {
				x[j] += opt.Noise * rng.NormFloat64()
			}
		}
	}
	perm := rng.Perm(opt.N)
	f := &Frame{Target: "y", Splits: make([]Split, opt.N)}
	for j := 0; j < opt.Features; j++ {
		c := &Column{Name: fmt.Sprintf("x%d", j), Kind: Numeric, Num: make([]float64, opt.N)}
		for i, p := range perm {
			c.Num[i] = X[p][j]
		}
		f.Columns = append(f.Columns, c)
	}
	t := &Column{Name: "y", Kind: Numeric, Num: make([]float64, opt.N)}
	for i, p := range perm {
		t.Num[i] = y[p]
	}
	f.Columns = append(f.Columns, t)
	task := string(Classification)
	if opt.Task == string(Regression) {
		task = opt.Task
	}
	if err := f.setTarget(task); err != nil {
		return nil, fmt.Errorf("generate %s: %w", opt.Kind, err)
	}
	return f, nil
}

func (o GenOptions) withDefaults() (GenOptions, error) {
	known := false
	for _, k := range GenKinds {
		known = known || k == o.Kind
	}
	if !known {
		return o, fmt.Errorf("generate: unknown kind %q (want one of %v)", o.Kind, GenKinds)
	}
	if o.N == 0 {
		o.N = 100
	}
	if o.Features == 0 {
		o.Features = 2
	}
	if o.Classes == 0 {
		o.Classes = 2
		if o.Kind == "blobs" {
			o.Classes = 3
		}
	}
	if o.Kind == "blobs" && o.Noise == 0 {
		o.Noise = 1
	}
	switch {
	case o.N < 0 || o.Features < 0 || o.Classes < 0 || o.Noise < 0 || math.IsNaN(o.Noise):
		return o, fmt.Errorf("generate: n %d, features %d, classes %d and noise %v must not be negative", o.N, o.Features, o.Classes, o.Noise)
	case o.Task != "" && o.Task != string(Classification) && o.Task != string(Regression):
		return o, fmt.Errorf("generate: unknown task %q", o.Task)
	case o.Task == string(Regression) && o.Kind != "linear":
		return o, fmt.Errorf("generate: only kind linear can make a regression target")
	case (o.Kind == "moons" || o.Kind == "circles" || o.Kind == "spiral") && o.Features != 2:
		return o, fmt.Errorf("generate: %s has exactly 2 features, not %d", o.Kind, o.Features)
	case o.Kind == "xor" && o.Features < 2:
		return o, errors.New("generate: xor needs at least 2 features")
	case (o.Kind == "moons" || o.Kind == "circles" || o.Kind == "xor") && o.Classes != 2:
		return o, fmt.Errorf("generate: %s has exactly 2 classes, not %d", o.Kind, o.Classes)
	case o.Classes < 2:
		return o, errors.New("generate: at least 2 classes are needed")
	case o.N < 2*o.Classes:
		return o, fmt.Errorf("generate: n %d is too small for %d classes (need at least %d)", o.N, o.Classes, 2*o.Classes)
	}
	return o, nil
}

// linspace returns n evenly spaced values from lo to hi, including hi when
// endpoint is true (numpy.linspace).
func linspace(lo, hi float64, n int, endpoint bool) []float64 {
	out := make([]float64, n)
	div := float64(n)
	if endpoint {
		div = float64(n - 1)
	}
	if div <= 0 {
		div = 1
	}
	step := (hi - lo) / div
	for i := range out {
		out[i] = lo + float64(i)*step
	}
	return out
}

func genMoons(n int) ([][]float64, []float64) {
	nOut := n / 2
	nIn := n - nOut
	var X [][]float64
	var y []float64
	for _, t := range linspace(0, math.Pi, nOut, true) {
		X = append(X, []float64{math.Cos(t), math.Sin(t)})
		y = append(y, 0)
	}
	for _, t := range linspace(0, math.Pi, nIn, true) {
		X = append(X, []float64{1 - math.Cos(t), 1 - math.Sin(t) - 0.5})
		y = append(y, 1)
	}
	return X, y
}

func genCircles(n int) ([][]float64, []float64) {
	const factor = 0.8
	nOut := n / 2
	nIn := n - nOut
	var X [][]float64
	var y []float64
	for _, t := range linspace(0, 2*math.Pi, nOut, false) {
		X = append(X, []float64{math.Cos(t), math.Sin(t)})
		y = append(y, 0)
	}
	for _, t := range linspace(0, 2*math.Pi, nIn, false) {
		X = append(X, []float64{factor * math.Cos(t), factor * math.Sin(t)})
		y = append(y, 1)
	}
	return X, y
}

// perClass splits n rows over k classes, the remainder to the first ones.
func perClass(n, k int) []int {
	out := make([]int, k)
	for j := range out {
		out[j] = n / k
		if j < n%k {
			out[j]++
		}
	}
	return out
}

func genBlobs(o GenOptions, rng *rand.Rand) ([][]float64, []float64) {
	centers := make([][]float64, o.Classes)
	for j := range centers {
		centers[j] = make([]float64, o.Features)
		for d := range centers[j] {
			centers[j][d] = -10 + 20*rng.Float64()
		}
	}
	var X [][]float64
	var y []float64
	for j, m := range perClass(o.N, o.Classes) {
		for range m {
			x := make([]float64, o.Features)
			for d := range x {
				x[d] = centers[j][d] + o.Noise*rng.NormFloat64()
			}
			X = append(X, x)
			y = append(y, float64(j))
		}
	}
	return X, y
}

func genXor(o GenOptions, rng *rand.Rand) ([][]float64, []float64) {
	X := make([][]float64, o.N)
	y := make([]float64, o.N)
	for i := range X {
		X[i] = make([]float64, o.Features)
		for d := range X[i] {
			X[i][d] = 2*rng.Float64() - 1
		}
		if (X[i][0] > 0) != (X[i][1] > 0) {
			y[i] = 1
		}
	}
	return X, y
}

func genSpiral(o GenOptions, rng *rand.Rand) ([][]float64, []float64) {
	var X [][]float64
	var y []float64
	for j, m := range perClass(o.N, o.Classes) {
		offset := 2 * math.Pi * float64(j) / float64(o.Classes)
		for _, r := range linspace(0, 1, m, true) {
			t := offset + 3*math.Pi*r + o.Noise*rng.NormFloat64()
			X = append(X, []float64{r * math.Sin(t), r * math.Cos(t)})
			y = append(y, float64(j))
		}
	}
	return X, y
}

func genLinear(o GenOptions, rng *rand.Rand) ([][]float64, []float64) {
	rowsW := o.Classes
	if o.Classes == 2 || o.Task == string(Regression) {
		rowsW = 1
	}
	W := make([][]float64, rowsW)
	for k := range W {
		W[k] = make([]float64, o.Features)
		for d := range W[k] {
			W[k][d] = rng.NormFloat64()
		}
	}
	X := make([][]float64, o.N)
	y := make([]float64, o.N)
	for i := range X {
		X[i] = make([]float64, o.Features)
		for d := range X[i] {
			X[i][d] = rng.NormFloat64()
		}
		y[i] = linearLabel(W, X[i], o)
	}
	if o.Task == string(Regression) {
		for i := range y {
			y[i] += o.Noise * rng.NormFloat64()
		}
	}
	return X, y
}

func linearLabel(W [][]float64, x []float64, o GenOptions) float64 {
	scores := make([]float64, len(W))
	for k, w := range W {
		for d, v := range x {
			scores[k] += w[d] * v
		}
	}
	if o.Task == string(Regression) {
		return scores[0]
	}
	if len(W) == 1 {
		if scores[0] > 0 {
			return 1
		}
		return 0
	}
	best := 0
	for k := range scores {
		if scores[k] > scores[best] {
			best = k
		}
	}
	return float64(best)
}
