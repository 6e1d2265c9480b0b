package metrics

import (
	"fmt"
	"math"
)

// logLossEps is the clipping bound of scikit-learn's log_loss since 1.2 (eps="auto"): the
// machine epsilon of float64, not the older 1e-15.
const logLossEps = 0x1p-52

// LogLoss returns the mean negative log-likelihood of the true labels, as scikit-learn's
// log_loss with labels=range(k): probabilities are clipped to [eps, 1-eps] with eps the
// float64 machine epsilon (2.22e-16), then each row is renormalised to sum to 1. probs is a
// row-major rows×cols matrix with cols == k, or cols == 1 for two classes, where the single
// column is the probability of class 1.
func LogLoss(yTrue []int, probs []float64, cols, k int) (float64, error) {
	if k < 2 {
		return 0, fmt.Errorf("log loss needs at least two classes, got %d", k)
	}
	if cols != k && !(cols == 1 && k == 2) {
		return 0, fmt.Errorf("log loss: %d probability columns for %d classes", cols, k)
	}
	if err := checkOutputs(yTrue, probs, cols, k); err != nil {
		return 0, err
	}
	if cols == 1 {
		return binaryLogLoss(yTrue, probs), nil
	}
	total := 0.0
	for i, c := range yTrue {
		row := probs[i*k : (i+1)*k]
		sum := 0.0
		for _, p := range row {
			sum += clip(p)
		}
		total -= math.Log(clip(row[c]) / sum)
	}
	return total / float64(len(yTrue)), nil
}

// binaryLogLoss follows scikit-learn's order: clip the column, then expand it to [1-p, p]
// and renormalise.
func binaryLogLoss(yTrue []int, p1 []float64) float64 {
	total := 0.0
	for i, c := range yTrue {
		p := clip(p1[i])
		q := 1 - p
		mine := q
		if c == 1 {
			mine = p
		}
		total -= math.Log(mine / (q + p))
	}
	return total / float64(len(yTrue))
}

func clip(p float64) float64 {
	return min(max(p, logLossEps), 1-logLossEps)
}
