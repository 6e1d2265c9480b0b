package metrics

import "fmt"

// Average selects how per-class precision, recall, F1 and ROC AUC combine into one number,
// as scikit-learn's `average` argument does.
type Average string

// The averages scikit-learn offers for single-label classification.
const (
	// Binary reports the positive class (index 1) alone; it needs exactly two classes.
	Binary Average = "binary"
	// Macro is the unweighted mean over the classes present in y_true or y_pred.
	Macro Average = "macro"
	// Micro counts true and false positives over all classes together; for single-label
	// data precision, recall and F1 all equal the accuracy.
	Micro Average = "micro"
	// Weighted is the mean over classes weighted by their support (true count).
	Weighted Average = "weighted"
)

// ParseAverage returns the Average named s; the empty string means the default, Binary for
// two classes and Macro otherwise.
func ParseAverage(s string, k int) (Average, error) {
	switch a := Average(s); a {
	case "":
		if k == 2 {
			return Binary, nil
		}
		return Macro, nil
	case Binary:
		if k != 2 {
			return "", fmt.Errorf("average binary needs two classes, the target has %d; use macro, micro or weighted", k)
		}
		return a, nil
	case Macro, Micro, Weighted:
		return a, nil
	}
	return "", fmt.Errorf("unknown average %q: valid averages are binary, macro, micro, weighted", s)
}

// ConfusionMatrix returns the k×k matrix whose entry [i][j] counts the samples of true class
// i predicted as class j (scikit-learn's layout: rows are true, columns predicted).
func ConfusionMatrix(yTrue, yPred []int, k int) ([][]int, error) {
	if err := checkPair(yTrue, yPred, k); err != nil {
		return nil, err
	}
	return confusion(yTrue, yPred, k), nil
}

// confusion counts without validation; rows share one backing array.
func confusion(yTrue, yPred []int, k int) [][]int {
	flat := make([]int, k*k)
	for i, t := range yTrue {
		flat[t*k+yPred[i]]++
	}
	cm := make([][]int, k)
	for i := range cm {
		cm[i] = flat[i*k : (i+1)*k : (i+1)*k]
	}
	return cm
}

// Accuracy returns the fraction of samples whose predicted label equals the true label.
func Accuracy(yTrue, yPred []int) (float64, error) {
	if len(yTrue) == 0 {
		return 0, fmt.Errorf("no samples")
	}
	if len(yPred) != len(yTrue) {
		return 0, fmt.Errorf("y_pred has %d rows, want %d", len(yPred), len(yTrue))
	}
	hit := 0
	for i, t := range yTrue {
		if yPred[i] == t {
			hit++
		}
	}
	return float64(hit) / float64(len(yTrue)), nil
}

// ClassReport holds one class's line of scikit-learn's classification_report.
type ClassReport struct {
	Class     int     // class index
	Precision float64 // tp / (tp + fp), 0 when the class is never predicted
	Recall    float64 // tp / (tp + fn), 0 when the class has no true samples
	F1        float64 // harmonic mean of Precision and Recall, 0 when both are 0
	Support   int     // number of true samples of the class
}

// Report returns precision, recall, F1 and support for each of the k classes, in class order.
func Report(yTrue, yPred []int, k int) ([]ClassReport, error) {
	if err := checkPair(yTrue, yPred, k); err != nil {
		return nil, err
	}
	return reportFrom(confusion(yTrue, yPred, k)), nil
}

// classCounts holds the per-class tallies every score is built from.
type classCounts struct {
	tp, pred, support int
}

func countsFrom(cm [][]int) []classCounts {
	c := make([]classCounts, len(cm))
	for i, row := range cm {
		c[i].tp = row[i]
		for j, n := range row {
			c[i].support += n
			c[j].pred += n
		}
	}
	return c
}

// ratio is num/den, or 0 when den is 0: scikit-learn's default zero_division.
func ratio(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// fscore is F1 from precision and recall as scikit-learn 1.2 computes it (0 when both are 0).
func fscore(p, r float64) float64 {
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

func reportFrom(cm [][]int) []ClassReport {
	counts := countsFrom(cm)
	rep := make([]ClassReport, len(counts))
	for i, c := range counts {
		p, r := ratio(c.tp, c.pred), ratio(c.tp, c.support)
		rep[i] = ClassReport{Class: i, Precision: p, Recall: r, F1: fscore(p, r), Support: c.support}
	}
	return rep
}

// Scores holds averaged precision, recall and F1.
type Scores struct {
	Precision, Recall, F1 float64
}

// PrecisionRecallF1 returns precision, recall and F1 averaged as avg, following
// scikit-learn's precision_recall_fscore_support with its default labels (macro averages over
// the classes that occur in y_true or y_pred) and zero_division (0).
func PrecisionRecallF1(yTrue, yPred []int, k int, avg Average) (Scores, error) {
	if err := checkPair(yTrue, yPred, k); err != nil {
		return Scores{}, err
	}
	return averaged(confusion(yTrue, yPred, k), avg)
}

// Precision returns PrecisionRecallF1's precision.
func Precision(yTrue, yPred []int, k int, avg Average) (float64, error) {
	s, err := PrecisionRecallF1(yTrue, yPred, k, avg)
	return s.Precision, err
}

// Recall returns PrecisionRecallF1's recall.
func Recall(yTrue, yPred []int, k int, avg Average) (float64, error) {
	s, err := PrecisionRecallF1(yTrue, yPred, k, avg)
	return s.Recall, err
}

// F1 returns PrecisionRecallF1's F1.
func F1(yTrue, yPred []int, k int, avg Average) (float64, error) {
	s, err := PrecisionRecallF1(yTrue, yPred, k, avg)
	return s.F1, err
}

func averaged(cm [][]int, avg Average) (Scores, error) {
	counts := countsFrom(cm)
	switch avg {
	case Binary:
		if len(counts) != 2 {
			return Scores{}, fmt.Errorf("average binary needs two classes, got %d", len(counts))
		}
		c := counts[1]
		p, r := ratio(c.tp, c.pred), ratio(c.tp, c.support)
		return Scores{p, r, fscore(p, r)}, nil
	case Micro:
		var tp, pred, sup int
		for _, c := range counts {
			tp, pred, sup = tp+c.tp, pred+c.pred, sup+c.support
		}
		p, r := ratio(tp, pred), ratio(tp, sup)
		return Scores{p, r, fscore(p, r)}, nil
	case Macro, Weighted:
		return meanOverClasses(counts, avg == Weighted), nil
	}
	return Scores{}, fmt.Errorf("unknown average %q: valid averages are binary, macro, micro, weighted", avg)
}

// meanOverClasses averages per-class scores over the classes present in y_true or y_pred,
// each weighted by its support when weighted is set, else by 1.
func meanOverClasses(counts []classCounts, weighted bool) Scores {
	var s Scores
	var total float64
	for _, c := range counts {
		if c.support == 0 && c.pred == 0 {
			continue // absent from both: scikit-learn's default labels leave it out
		}
		w := 1.0
		if weighted {
			w = float64(c.support)
		}
		p, r := ratio(c.tp, c.pred), ratio(c.tp, c.support)
		s.Precision += w * p
		s.Recall += w * r
		s.F1 += w * fscore(p, r)
		total += w
	}
	if total == 0 {
		return Scores{}
	}
	return Scores{s.Precision / total, s.Recall / total, s.F1 / total}
}

// Classify turns model outputs into class labels. probs is row-major rows×k; each row's label
// is ClassOf it. Classify panics if len(probs) != rows*k.
func Classify(probs []float64, rows, k int, threshold float64) []int {
	if k < 1 || len(probs) != rows*k {
		panic(fmt.Sprintf("metrics: Classify: %d outputs for %d rows × %d columns", len(probs), rows, k))
	}
	out := make([]int, rows)
	for i := range out {
		out[i] = ClassOf(probs[i*k:(i+1)*k], threshold)
	}
	return out
}

// ClassOf is the class of one row of model outputs. With one column it is the probability of
// class 1 and p >= threshold gives 1; with two the same rule applies to column 1, so the
// threshold works for either output layout; with more the class is the argmax, ties going to
// the lowest index.
func ClassOf[F float32 | float64](row []F, threshold float64) int {
	k := len(row)
	if k <= 2 {
		if float64(row[k-1]) >= threshold {
			return 1
		}
		return 0
	}
	best := 0
	for j := 1; j < k; j++ {
		if row[j] > row[best] {
			best = j
		}
	}
	return best
}
