package metrics

import (
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
	pos := make([]bool, len(yTrue))
	for i, c := range yTrue {
		pos[i] = c == 1
	}
	return BinaryROCAUC(pos, scores)
}

// BinaryROCAUC is ROCAUC of labels given as a mask of the positives (one class of several
// against the rest, as a ROC curve plots it).
func BinaryROCAUC(isPos []bool, scores []float64) (float64, error) {
	if len(isPos) == 0 {
		return 0, fmt.Errorf("no samples")
	}
	if len(scores) != len(isPos) {
		return 0, fmt.Errorf("scores has %d rows, want %d", len(scores), len(isPos))
	}
	if err := checkFinite("scores", scores); err != nil {
		return 0, err
	}
	return binaryAUC(isPos, scores, newAUCScratch(len(isPos)))
}

// aucScratch holds the scores of positives and negatives, sorted separately: sorting plain
// float64 slices is about three times faster than sorting (score, label) pairs.
type aucScratch struct {
	pos, neg []float64
}

func newAUCScratch(n int) *aucScratch {
	return &aucScratch{pos: make([]float64, 0, n), neg: make([]float64, 0, n)}
}

// binaryAUC is ROCAUC over validated input. It counts, for each distinct score, the
// positives there against the negatives below (ties count one half): the Mann-Whitney U,
// which equals scikit-learn's trapezoid over distinct thresholds. Counts are integers, so 2U
// is an exact sum (below 2^53) and the result is rounded once.
func binaryAUC(isPos []bool, scores []float64, sc *aucScratch) (float64, error) {
	pos, neg := sc.pos[:0], sc.neg[:0]
	for i, s := range scores {
		if isPos[i] {
			pos = append(pos, s)
		} else {
			neg = append(neg, s)
		}
	}
	if len(pos) == 0 || len(neg) == 0 {
		only := 0
		if len(neg) == 0 {
			only = 1
		}
		return 0, fmt.Errorf("ROC AUC: only class %d is present in y_true: %w", only, ErrUndefined)
	}
	slices.Sort(pos)
	slices.Sort(neg)
	var twiceU float64
	j := 0 // neg[:j] are below the current score
	for i := 0; i < len(pos); {
		s := pos[i]
		for j < len(neg) && neg[j] < s {
			j++
		}
		eq := j
		for eq < len(neg) && neg[eq] == s {
			eq++
		}
		tied := i
		for ; i < len(pos) && pos[i] == s; i++ {
		}
		twiceU += float64(i-tied) * float64(2*j+(eq-j))
	}
	return twiceU / (2 * float64(len(pos)) * float64(len(neg))), nil
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
		return binaryAUC(pos, probs, newAUCScratch(n*k))
	case Macro, Weighted:
		return perClassAUC(yTrue, probs, k, avg == Weighted)
	}
	return 0, fmt.Errorf("ROC AUC over %d classes: average must be macro, weighted or micro, not %q", k, avg)
}

func perClassAUC(yTrue []int, probs []float64, k int, weighted bool) (float64, error) {
	n := len(yTrue)
	pos, col, buf := make([]bool, n), make([]float64, n), newAUCScratch(n)
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

// ROCCurve returns the points of the ROC curve of binary labels ranked by scores, as
// scikit-learn's roc_curve(drop_intermediate=False): one point per distinct score, from the
// highest threshold down, starting at (0, 0). Tied scores make one point.
func ROCCurve(isPos []bool, scores []float64) (fpr, tpr []float64) {
	tps, fps, p, n := thresholdCounts(isPos, scores)
	fpr, tpr = []float64{0}, []float64{0}
	for i := range tps {
		fpr, tpr = append(fpr, fps[i]/max(n, 1)), append(tpr, tps[i]/max(p, 1))
	}
	return fpr, tpr
}

// PRCurve returns recall and precision at each distinct score, from the highest threshold
// down, as scikit-learn's precision_recall_curve (without its final (0, 1) point).
func PRCurve(isPos []bool, scores []float64) (recall, precision []float64) {
	tps, fps, p, _ := thresholdCounts(isPos, scores)
	for i := range tps {
		recall, precision = append(recall, tps[i]/max(p, 1)), append(precision, tps[i]/(tps[i]+fps[i]))
	}
	return recall, precision
}

// thresholdCounts ranks binary labels by score, highest first, and returns the true and
// false positives at or above each distinct score (tied scores make one step), and the
// numbers of positives and negatives.
func thresholdCounts(isPos []bool, scores []float64) (tps, fps []float64, p, n float64) {
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return -cmpFloat(scores[a], scores[b]) })
	for _, v := range isPos {
		if v {
			p++
		} else {
			n++
		}
	}
	var tp, fp float64
	for k, i := range idx {
		if isPos[i] {
			tp++
		} else {
			fp++
		}
		if k+1 < len(idx) && scores[idx[k+1]] == scores[i] {
			continue
		}
		tps, fps = append(tps, tp), append(fps, fp)
	}
	return tps, fps, p, n
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
