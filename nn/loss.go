package nn

import (
	"fmt"
	"math"
)

// Loss names accepted in TrainConfig.Loss.
const (
	LossBinaryCrossEntropy = "binary_crossentropy"
	LossCrossEntropy       = "crossentropy"
	LossMSE                = "mse"
	LossMAE                = "mae"
	LossHuber              = "huber"
)

// probEps keeps log away from 0 when a cross-entropy is computed from probabilities rather
// than from logits (only for output layers that are not sigmoid/softmax).
const probEps = 1e-7

type lossKind uint8

const (
	lossBCE lossKind = iota
	lossCE
	lossMSE
	lossMAE
	lossHuber
)

var lossNames = map[string]lossKind{
	LossBinaryCrossEntropy: lossBCE, LossCrossEntropy: lossCE,
	LossMSE: lossMSE, LossMAE: lossMAE, LossHuber: lossHuber,
}

// classification reports whether accuracy is meaningful for the loss.
func (k lossKind) classification() bool { return k == lossBCE || k == lossCE }

// lossFunc evaluates a loss on a batch, and optionally its gradient.
//
// Means: binary cross-entropy, MSE, MAE and Huber average over every output value (rows×cols),
// categorical cross-entropy sums over the classes and averages over rows, as PyTorch and Keras
// do. When fused is set, the network ends in sigmoid (BCE) or softmax (CE) and the loss is
// computed from the logits z with log-sum-exp, and its gradient with respect to z is p − y:
// exact, and free of the 0·∞ that the chain rule through a saturated sigmoid would give.
type lossFunc struct {
	kind  lossKind
	fused bool
	delta float32 // Huber threshold
}

// newLossFunc checks that the loss suits a network with outputs outputs and final activation
// outAct.
func newLossFunc(name string, outputs int, outAct actKind, huberDelta float64) (lossFunc, error) {
	k, ok := lossNames[name]
	if !ok {
		return lossFunc{}, fmt.Errorf("unknown loss %q (want binary_crossentropy, crossentropy, mse, mae or huber)", name)
	}
	if k == lossCE && outputs < 2 {
		return lossFunc{}, fmt.Errorf("loss crossentropy needs at least 2 outputs, the network has %d (use binary_crossentropy)", outputs)
	}
	if huberDelta == 0 {
		huberDelta = 1
	}
	if !(huberDelta > 0) {
		return lossFunc{}, fmt.Errorf("huber delta must be positive, got %g", huberDelta)
	}
	return lossFunc{
		kind:  k,
		fused: (k == lossBCE && outAct == actSigmoid) || (k == lossCE && outAct == actSoftmax),
		delta: float32(huberDelta),
	}, nil
}

// eval returns the batch's mean loss and the number of correct predictions (classification
// losses only; for BCE every output value counts once). out holds the final activations and
// z the logits (used when fused). If grad is not nil it receives ∂loss/∂out, or ∂loss/∂z when
// fused.
func (f lossFunc) eval(out, z, y []float32, rows, cols int, grad []float32) (loss float64, correct int) {
	n := rows * cols
	out, y = out[:n], y[:n]
	switch f.kind {
	case lossBCE:
		loss = f.bce(out, z, y, grad)
		for i, p := range out {
			if (p >= 0.5) == (y[i] >= 0.5) {
				correct++
			}
		}
	case lossCE:
		loss = f.ce(out, z, y, rows, cols, grad)
		for r := 0; r < rows; r++ {
			if argmax(out[r*cols:(r+1)*cols]) == argmax(y[r*cols:(r+1)*cols]) {
				correct++
			}
		}
	case lossMSE:
		scale := 2 / float32(n)
		for i, p := range out {
			d := p - y[i]
			loss += float64(d) * float64(d)
			if grad != nil {
				grad[i] = scale * d
			}
		}
		loss /= float64(n)
	case lossMAE:
		scale := 1 / float32(n)
		for i, p := range out {
			d := p - y[i]
			loss += math.Abs(float64(d))
			if grad != nil {
				grad[i] = scale * sign(d)
			}
		}
		loss /= float64(n)
	case lossHuber:
		scale, delta := 1/float32(n), f.delta
		for i, p := range out {
			d := p - y[i]
			if a := abs(d); a <= delta {
				loss += 0.5 * float64(d) * float64(d)
			} else {
				loss += float64(delta) * (float64(a) - 0.5*float64(delta))
				d = delta * sign(d)
			}
			if grad != nil {
				grad[i] = scale * d
			}
		}
		loss /= float64(n)
	}
	return loss, correct
}

// bce is the mean binary cross-entropy.
func (f lossFunc) bce(out, z, y, grad []float32) float64 {
	n := len(out)
	scale := 1 / float32(n)
	var loss float64
	if f.fused {
		// −[y log σ(z) + (1−y) log(1−σ(z))] = max(z,0) − z·y + log(1 + e^−|z|).
		for i, zi := range z[:n] {
			zz, yy := float64(zi), float64(y[i])
			loss += math.Max(zz, 0) - zz*yy + math.Log1p(math.Exp(-math.Abs(zz)))
			if grad != nil {
				grad[i] = scale * (out[i] - y[i])
			}
		}
		return loss / float64(n)
	}
	for i, p := range out {
		pc := min(max(float64(p), probEps), 1-probEps)
		yy := float64(y[i])
		loss -= yy*math.Log(pc) + (1-yy)*math.Log(1-pc)
		if grad != nil {
			grad[i] = scale * float32((pc-yy)/(pc*(1-pc)))
		}
	}
	return loss / float64(n)
}

// ce is the categorical cross-entropy, summed over classes and averaged over rows.
func (f lossFunc) ce(out, z, y []float32, rows, cols int, grad []float32) float64 {
	scale := 1 / float32(rows)
	var loss float64
	for r := 0; r < rows; r++ {
		o := r * cols
		yr, pr := y[o:o+cols], out[o:o+cols]
		if f.fused {
			// −Σ y_i (z_i − lse(z)) with lse(z) = m + log Σ e^(z_j−m).
			zr := z[o : o+cols]
			m := float64(zr[0])
			for _, v := range zr[1:] {
				m = math.Max(m, float64(v))
			}
			var s, ysum float64
			for _, v := range zr {
				s += math.Exp(float64(v) - m)
			}
			lse := m + math.Log(s)
			for i, v := range zr {
				loss -= float64(yr[i]) * (float64(v) - lse)
				ysum += float64(yr[i])
			}
			if grad != nil {
				// ∂/∂z_i = p_i·Σy − y_i, which is p − y for a one-hot or soft label summing to 1.
				ys := float32(ysum)
				for i, p := range pr {
					grad[o+i] = scale * (p*ys - yr[i])
				}
			}
			continue
		}
		for i, p := range pr {
			pc := max(float64(p), probEps)
			loss -= float64(yr[i]) * math.Log(pc)
			if grad != nil {
				grad[o+i] = -scale * float32(float64(yr[i])/pc)
			}
		}
	}
	return loss / float64(rows)
}

// checkTargets rejects targets the loss is not defined for: outside [0, 1] for
// binary_crossentropy, negative for crossentropy. The error names the row and column (from 1).
func (f lossFunc) checkTargets(what string, y []float32, cols int) error {
	for i, v := range y {
		bad := ""
		switch {
		case f.kind == lossBCE && (v < 0 || v > 1):
			bad = "binary_crossentropy needs targets in [0, 1]"
		case f.kind == lossCE && v < 0:
			bad = "crossentropy needs non-negative targets (one-hot or class probabilities)"
		}
		if bad != "" {
			return fmt.Errorf("%s data: Y row %d, column %d: target %v: %s", what, i/cols+1, i%cols+1, v, bad)
		}
	}
	return nil
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

func sign(x float32) float32 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

func abs(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// logits returns the input of the network's final activation for the last forward pass.
func (n *Network) logits(rows int) []float32 {
	switch l := n.layers[len(n.layers)-1].(type) {
	case *dense:
		return l.z[:rows*l.out]
	case *activation:
		return l.x[:rows*l.dim]
	}
	return nil
}
