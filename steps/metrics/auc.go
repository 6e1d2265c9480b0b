package metrics

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// ROCAUC returns the area under the ROC curve of binary labels (0 or 1) ranked by scores, as
// scikit-learn's roc_auc_score: the trapezoid over distinct thresholds, so tied scores count
// one half, which equals the Mann-Whitney U statistic with mid-ranks over n_pos·n_neg.
// With a single class in yTrue the AUC is undefined and the error wraps ErrUndefined.
func ROCAUC(yTrue []int, scores []float64) (float64, error) {
	if len(yTrue) == 0 {
		return 0, fmt.Errorf("no samples")
	}
	if err := checkLabels("y_true", yTrue, len(yTrue), 2); err != nil {
		return 0, err
	}
	if len(scores) != len(yTrue) {
		return 0, fmt.Errorf("scores has %d rows, want %d", len(scores), len(yTrue))
	}
	if err := checkFinite("scores", scores); err != nil {
		return 0, err
	}
	pos := make([]bool, len(yTrue))
	for i, c := range yTrue {
		pos[i] = c == 1
	}
	return binaryAUC(pos, scores, make([]scored, len(pos)))
}

// scored is one sample of a binary ranking problem; sorting these contiguous pairs is about
// four times faster than sorting indices into separate slices.
type scored struct {
	score float64
	pos   bool
}

// binaryAUC is ROCAUC over validated input; buf is scratch space of len(pos).
func binaryAUC(pos []bool, scores []float64, buf []scored) (float64, error) {
	for i, s := range scores {
		buf[i] = scored{s, pos[i]}
	}
	slices.SortFunc(buf, func(a, b scored) int { return cmp.Compare(b.score, a.score) })
	// Walk the thresholds from the highest score down. Counts are integers, so twice the
	// area is an exact integer sum (below 2^53) and the result is rounded once.
	var tp, fp, prevTP, prevFP, twiceArea float64
	for i := 0; i < len(buf); {
		s := buf[i].score
		for ; i < len(buf) && buf[i].score == s; i++ {
			if buf[i].pos {
				tp++
			} else {
				fp++
			}
		}
		twiceArea += (fp - prevFP) * (tp + prevTP)
		prevTP, prevFP = tp, fp
	}
	if tp == 0 || fp == 0 {
		only := 0
		if fp == 0 {
			only = 1
		}
		return 0, fmt.Errorf("ROC AUC: only class %d is present in y_true: %w", only, ErrUndefined)
	}
	return twiceArea / (2 * tp * fp), nil
}

// ROCAUCOvR returns the one-vs-rest ROC AUC of k classes (k >= 2) from a row-major rows×k
// probability matrix, as roc_auc_score(multi_class="ovr", labels=range(k)): Macro is the
// mean of the k per-class AUCs, Weighted weighs them by support, Micro is the AUC of the
// flattened one-hot labels against the flattened matrix. As scikit-learn does, it requires
// each row to sum to 1 (within numpy.allclose tolerance). A class with no sample in yTrue
// makes the Macro and Weighted AUC undefined (the error wraps ErrUndefined).
func ROCAUCOvR(yTrue []int, probs []float64, k int, avg Average) (float64, error) {
	if err := checkOutputs(yTrue, probs, k, k); err != nil {
		return 0, err
	}
	for i := range yTrue {
		if s := rowSum(probs[i*k : (i+1)*k]); math.Abs(1-s) > 1e-8+1e-5*math.Abs(s) {
			return 0, fmt.Errorf("ROC AUC: probabilities of row %d sum to %v, not 1", i, s)
		}
	}
	n := len(yTrue)
	switch avg {
	case Micro:
		pos := make([]bool, n*k)
		for i, c := range yTrue {
			pos[i*k+c] = true
		}
		return binaryAUC(pos, probs, make([]scored, n*k))
	case Macro, Weighted:
		return perClassAUC(yTrue, probs, k, avg == Weighted)
	}
	return 0, fmt.Errorf("ROC AUC over %d classes: average must be macro, weighted or micro, not %q", k, avg)
}

func perClassAUC(yTrue []int, probs []float64, k int, weighted bool) (float64, error) {
	n := len(yTrue)
	pos, col, buf := make([]bool, n), make([]float64, n), make([]scored, n)
	var sum, total float64
	for j := 0; j < k; j++ {
		support := 0
		for i, c := range yTrue {
			pos[i] = c == j
			col[i] = probs[i*k+j]
			if pos[i] {
				support++
			}
		}
		auc, err := binaryAUC(pos, col, buf)
		if err != nil {
			return 0, fmt.Errorf("ROC AUC of class %d against the rest: %w", j, err)
		}
		w := 1.0
		if weighted {
			w = float64(support)
		}
		sum += w * auc
		total += w
	}
	return sum / total, nil
}

// checkOutputs validates labels of k classes against a rows×cols matrix of finite outputs.
func checkOutputs(yTrue []int, probs []float64, cols, k int) error {
	if k < 1 {
		return fmt.Errorf("class count %d, want at least 1", k)
	}
	if len(yTrue) == 0 {
		return fmt.Errorf("no samples")
	}
	if err := checkLabels("y_true", yTrue, len(yTrue), k); err != nil {
		return err
	}
	if len(probs) != len(yTrue)*cols {
		return fmt.Errorf("probabilities have %d values, want %d rows × %d columns", len(probs), len(yTrue), cols)
	}
	return checkFinite("probabilities", probs)
}

func rowSum(row []float64) float64 {
	s := 0.0
	for _, v := range row {
		s += v
	}
	return s
}
