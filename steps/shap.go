package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/steps/frame"
	"github.com/loom-ml/loom/steps/metrics"
	"github.com/loom-ml/loom/steps/plot"
)

// Kernel SHAP (Lundberg and Lee, 2017): a row's Shapley values are the weighted least-squares
// fit of a linear model over coalitions of features, a coalition's value being the model's mean
// output when the features outside it take the values of background rows. The fit is
// constrained so that the values add up to the row's output minus the background's mean
// (local accuracy). With few features every coalition is used and the values are exact; with
// more, coalitions are drawn by the Shapley kernel's weights.

// maxExactFeatures is the most features for which every coalition is evaluated (2^M − 2 of them).
const maxExactFeatures = 12

// shapExplainer computes Shapley values for rows of a model's input.
type shapExplainer struct {
	predict    func(x []float32, rows int) []float64 // the explained output of each row
	background []float32                             // rows × width
	bgRows     int
	width      int
	groups     []featureGroup
	samples    int // coalitions drawn when the features are too many to enumerate
	rng        *rand.Rand
}

// explain returns the Shapley value of each feature group for row x, and the expected value
// (the model's mean output on the background).
func (e *shapExplainer) explain(ctx context.Context, x []float32) ([]float64, float64, error) {
	m := len(e.groups)
	value := e.valueFunc(x)
	none, err := value(0, m)
	if err != nil {
		return nil, 0, err
	}
	all, err := value(fullMask(m), m)
	if err != nil {
		return nil, 0, err
	}
	phi := make([]float64, m)
	if m == 1 {
		phi[0] = all - none
		return phi, none, nil
	}
	masks, weights := e.coalitions(m)
	// Eliminate the last feature with the constraint Σφ = all − none: for each coalition S,
	// v(S) − none − z_m·Δ = Σ_{i<m} φ_i (z_i − z_m).
	delta := all - none
	X := mat.NewDense(len(masks), m-1, nil)
	y := mat.NewVecDense(len(masks), nil)
	w := make([]float64, len(masks))
	for r, s := range masks {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		v, err := value(s, m)
		if err != nil {
			return nil, 0, err
		}
		zm := float64(s >> (m - 1) & 1)
		y.SetVec(r, v-none-zm*delta)
		for i := range m - 1 {
			X.Set(r, i, float64(s>>i&1)-zm)
		}
		w[r] = weights[r]
	}
	// Weighted least squares: (Xᵀ W X) φ = Xᵀ W y.
	var xtw mat.Dense
	xtw.CloneFrom(X.T())
	for r := range len(masks) {
		for i := range m - 1 {
			xtw.Set(i, r, xtw.At(i, r)*w[r])
		}
	}
	var a mat.Dense
	a.Mul(&xtw, X)
	var b mat.VecDense
	b.MulVec(&xtw, y)
	var sol mat.VecDense
	if err := sol.SolveVec(&a, &b); err != nil {
		return nil, 0, errors.New("kernel SHAP: the coalitions do not determine the values; raise samples")
	}
	rest := delta
	for i := range m - 1 {
		phi[i] = sol.AtVec(i)
		rest -= phi[i]
	}
	phi[m-1] = rest
	return phi, none, nil
}

func fullMask(m int) uint64 { return 1<<m - 1 }

// coalitions returns the coalitions to evaluate, as bit masks over the features, with their
// weights: all of them with the Shapley kernel's weight when there are few features, else
// samples drawn by size from the kernel's distribution, each of weight 1.
func (e *shapExplainer) coalitions(m int) ([]uint64, []float64) {
	kernel := func(size int) float64 {
		return float64(m-1) / (binomial(m, size) * float64(size) * float64(m-size))
	}
	var masks []uint64
	var weights []float64
	if m <= maxExactFeatures {
		for s := uint64(1); s < fullMask(m); s++ {
			masks = append(masks, s)
			weights = append(weights, kernel(bits.OnesCount64(s)))
		}
		return masks, weights
	}
	// The chance of a size is the kernel's weight of all its coalitions together.
	sizeWeight := make([]float64, m)
	total := 0.0
	for k := 1; k < m; k++ {
		sizeWeight[k] = kernel(k) * binomial(m, k)
		total += sizeWeight[k]
	}
	for range e.samples {
		u, k := e.rng.Float64()*total, 1
		for ; k < m-1 && u > sizeWeight[k]; k++ {
			u -= sizeWeight[k]
		}
		var s uint64
		for _, i := range e.rng.Perm(m)[:k] {
			s |= 1 << i
		}
		masks = append(masks, s)
		weights = append(weights, 1)
	}
	return masks, weights
}

func binomial(n, k int) float64 {
	r := 1.0
	for i := 1; i <= k; i++ {
		r = r * float64(n-k+i) / float64(i)
	}
	return r
}

// valueFunc returns v(S) for row x: the mean output over the background rows with the features
// in S taken from x.
func (e *shapExplainer) valueFunc(x []float32) func(s uint64, m int) (float64, error) {
	batch := make([]float32, len(e.background))
	return func(s uint64, m int) (float64, error) {
		copy(batch, e.background)
		for g := range m {
			if s>>g&1 == 0 {
				continue
			}
			for _, c := range e.groups[g].cols {
				for r := range e.bgRows {
					batch[r*e.width+c] = x[c]
				}
			}
		}
		out := e.predict(batch, e.bgRows)
		sum := 0.0
		for _, v := range out {
			sum += v
		}
		mean := sum / float64(e.bgRows)
		if math.IsNaN(mean) {
			return 0, errors.New("kernel SHAP: the model's output is not a number")
		}
		return mean, nil
	}
}

// shapFile is the artifact of an explain stage with method kernel_shap.
const shapFile = "shap.csv"

// runSHAP explains the first rows of the split: for regression the model's output, for
// classification the probability of the row's predicted class (of the second class, with two).
func (j *explainJob) runSHAP(ctx context.Context, env *pipeline.Env, fr *frame.Frame, net *nn.Network, data nn.Data) error {
	train, err := frameData(fr, frame.Train)
	if err != nil {
		return err
	}
	if train.Rows == 0 {
		return errors.New("kernel_shap: the train split, where the background rows come from, is empty")
	}
	width, k := len(data.X)/data.Rows, net.Outputs()
	rng := rand.New(rand.NewPCG(uint64(j.s.Seed), 0x73686170))
	bgRows := min(j.s.Background, train.Rows)
	bg := make([]float32, 0, bgRows*width)
	for _, r := range rng.Perm(train.Rows)[:bgRows] {
		bg = append(bg, train.X[r*width:(r+1)*width]...)
	}
	groups := featureGroups(fr.FeatureNames())
	rows := min(j.s.Rows, data.Rows)
	all := net.Predict(data.X[:rows*width], rows)
	out := make([]float32, bgRows*k)
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.name
	}
	header := append(append([]string{"row"}, names...), "expected_value", "output")
	source := splitSources(fr, j.split)
	meanAbs := make([]float64, len(groups))
	err = writeFileWith(filepath.Join(env.Out, shapFile), func(w io.Writer) error {
		fmt.Fprintln(w, strings.Join(header, ","))
		for r := range rows {
			class := 0 // regression, or the one sigmoid unit
			if fr.Task == frame.Classification && k > 1 {
				class = metrics.ClassOf(all[r*k:(r+1)*k], metrics.DefaultThreshold)
			}
			e := &shapExplainer{background: bg, bgRows: bgRows, width: width, groups: groups, samples: j.s.Samples, rng: rng,
				predict: func(x []float32, n int) []float64 {
					net.PredictInto(out[:n*k], x, n)
					v := make([]float64, n)
					for i := range v {
						v[i] = float64(out[i*k+class])
					}
					return v
				}}
			phi, expected, err := e.explain(ctx, data.X[r*width:(r+1)*width])
			if err != nil {
				return err
			}
			cells := []string{strconv.Itoa(source[r])}
			for i, v := range phi {
				cells = append(cells, strconv.FormatFloat(v, 'g', -1, 64))
				meanAbs[i] += math.Abs(v) / float64(rows)
			}
			cells = append(cells, strconv.FormatFloat(expected, 'g', -1, 64), strconv.FormatFloat(float64(all[r*k+class]), 'g', -1, 32))
			fmt.Fprintln(w, strings.Join(cells, ","))
		}
		return nil
	})
	if err != nil {
		return err
	}
	order := make([]int, len(groups))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return meanAbs[order[a]] > meanAbs[order[b]] })
	t := pipeline.Table{Title: fmt.Sprintf("mean |SHAP value| over %d rows of the %s split", rows, j.s.Split), Header: []string{"feature", "mean_abs_shap"}}
	sortedNames, sortedValues := make([]string, len(order)), make([]float64, len(order))
	for i, g := range order {
		t.Rows = append(t.Rows, []string{names[g], strconv.FormatFloat(meanAbs[g], 'g', 6, 64)})
		sortedNames[i], sortedValues[i] = names[g], meanAbs[g]
	}
	env.ReportTable(t)
	return writeFileWith(filepath.Join(env.Out, "shap.png"), func(w io.Writer) error {
		return plot.Bars(w, sortedNames, sortedValues, "mean |SHAP value|")
	})
}

// splitSources returns the source row of each row of split, in order.
func splitSources(fr *frame.Frame, split frame.Split) []int {
	var out []int
	for i, s := range fr.Splits {
		if s == split {
			out = append(out, fr.Source[i])
		}
	}
	return out
}
