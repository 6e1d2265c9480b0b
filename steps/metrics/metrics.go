// Package metrics computes evaluation metrics exactly as scikit-learn defines them:
// accuracy, precision, recall and F1 with binary, macro, micro and weighted averages, ROC AUC
// (binary and one-vs-rest), log loss, the confusion matrix, a per-class report, and MSE, MAE,
// RMSE and R² for regression targets.
//
// Every function is a pure function over slices. Class labels are indices 0..k-1; probability
// matrices are row-major rows×cols slices. Where scikit-learn warns and returns 0 (a class never
// predicted), these functions return 0 too; where it raises or returns NaN (ROC AUC with one
// class in y_true, R² of one sample) they return an error wrapping ErrUndefined.
//
// The reference is scikit-learn 1.2.1: its default zero_division ("warn", which yields 0), its
// log_loss eps="auto" (float64 machine epsilon) with row renormalisation, and r2_score's
// force_finite=True.
package metrics

import (
	"errors"
	"fmt"
	"math"
)

// Version identifies the behaviour of this package: it changes whenever the same predictions
// can give other metric values, so that a cache keyed on it misses.
const Version = "1"

// ErrUndefined is wrapped by errors from metrics that have no value for the given data, where
// scikit-learn raises an error or returns NaN: ROC AUC when y_true holds a single class, R²
// with fewer than two samples.
var ErrUndefined = errors.New("metric is undefined")

// checkLabels returns an error unless y has n entries (n > 0), each a class index in [0, k).
func checkLabels(what string, y []int, n, k int) error {
	if len(y) != n {
		return fmt.Errorf("%s has %d rows, want %d", what, len(y), n)
	}
	for i, c := range y {
		if c < 0 || c >= k {
			return fmt.Errorf("%s[%d] = %d is not a class index in [0, %d)", what, i, c, k)
		}
	}
	return nil
}

// checkPair validates true and predicted labels of one classification problem with k classes.
func checkPair(yTrue, yPred []int, k int) error {
	if k < 1 {
		return fmt.Errorf("class count %d, want at least 1", k)
	}
	if len(yTrue) == 0 {
		return errors.New("no samples")
	}
	if err := checkLabels("y_true", yTrue, len(yTrue), k); err != nil {
		return err
	}
	return checkLabels("y_pred", yPred, len(yTrue), k)
}

// checkFinite returns an error naming the first entry of v that is NaN or ±Inf.
func checkFinite(what string, v []float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s[%d] is %v; metrics need finite numbers", what, i, x)
		}
	}
	return nil
}
