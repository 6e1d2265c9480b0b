package metrics

import (
	"fmt"
	"math"
)

// checkRegression validates a pair of equal-length, non-empty, finite slices.
func checkRegression(yTrue, yPred []float64) error {
	if len(yTrue) == 0 {
		return fmt.Errorf("no samples")
	}
	if len(yPred) != len(yTrue) {
		return fmt.Errorf("y_pred has %d rows, want %d", len(yPred), len(yTrue))
	}
	if err := checkFinite("y_true", yTrue); err != nil {
		return err
	}
	return checkFinite("y_pred", yPred)
}

// MSE returns the mean squared error.
func MSE(yTrue, yPred []float64) (float64, error) {
	if err := checkRegression(yTrue, yPred); err != nil {
		return 0, err
	}
	return sumSquares(yTrue, yPred) / float64(len(yTrue)), nil
}

// RMSE returns the square root of MSE.
func RMSE(yTrue, yPred []float64) (float64, error) {
	mse, err := MSE(yTrue, yPred)
	return math.Sqrt(mse), err
}

// MAE returns the mean absolute error.
func MAE(yTrue, yPred []float64) (float64, error) {
	if err := checkRegression(yTrue, yPred); err != nil {
		return 0, err
	}
	s := 0.0
	for i, t := range yTrue {
		s += math.Abs(t - yPred[i])
	}
	return s / float64(len(yTrue)), nil
}

// R2 returns the coefficient of determination 1 - SS_res/SS_tot. As scikit-learn's r2_score
// (force_finite=True), a constant yTrue gives 1 for a perfect prediction and 0 otherwise;
// fewer than two samples have no R² (scikit-learn returns NaN) and the error wraps
// ErrUndefined.
func R2(yTrue, yPred []float64) (float64, error) {
	if err := checkRegression(yTrue, yPred); err != nil {
		return 0, err
	}
	if len(yTrue) < 2 {
		return 0, fmt.Errorf("R² of %d sample: %w", len(yTrue), ErrUndefined)
	}
	mean := 0.0
	for _, t := range yTrue {
		mean += t
	}
	mean /= float64(len(yTrue))
	ssTot := 0.0
	for _, t := range yTrue {
		ssTot += (t - mean) * (t - mean)
	}
	ssRes := sumSquares(yTrue, yPred)
	switch {
	case ssTot != 0:
		return 1 - ssRes/ssTot, nil
	case ssRes == 0:
		return 1, nil
	default:
		return 0, nil
	}
}

func sumSquares(a, b []float64) float64 {
	s := 0.0
	for i, x := range a {
		d := x - b[i]
		s += d * d
	}
	return s
}
