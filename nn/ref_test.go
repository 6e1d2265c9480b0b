package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// This file holds an independent float64 reference of the forward pass and the losses,
// written as plainly as possible, against which the float32 layers' analytic gradients are
// checked by central finite differences.

// refAct applies an activation to one row in float64.
func refAct(name string, alpha float64, z []float64) []float64 {
	a := make([]float64, len(z))
	switch name {
	case "softmax":
		m := math.Inf(-1)
		for _, v := range z {
			m = math.Max(m, v)
		}
		s := 0.0
		for i, v := range z {
			a[i] = math.Exp(v - m)
			s += a[i]
		}
		for i := range a {
			a[i] /= s
		}
		return a
	}
	for i, v := range z {
		switch name {
		case "linear":
			a[i] = v
		case "relu":
			a[i] = math.Max(v, 0)
		case "leaky_relu":
			a[i] = v
			if v < 0 {
				a[i] = alpha * v
			}
		case "sigmoid":
			a[i] = 1 / (1 + math.Exp(-v))
		case "tanh":
			a[i] = math.Tanh(v)
		case "gelu":
			a[i] = 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
		default:
			panic("refAct: " + name)
		}
	}
	return a
}

// refForward runs x through net's architecture in float64 with parameters p (laid out as
// net.params). Dropout reuses the masks of net's last training forward; batchnorm uses batch
// statistics when train is set. It returns the outputs and the logits (the input of the final
// activation).
func refForward(net *Network, p []float64, x []float64, rows int, train bool) (out, logits []float64) {
	h := x
	width := net.spec.Inputs
	wOff, oOff := 0, net.nReg
	for li, l := range net.spec.Layers {
		logits = h
		switch l.Type {
		case LayerDense:
			w := p[wOff : wOff+l.Units*width]
			b := p[oOff : oOff+l.Units]
			wOff += l.Units * width
			oOff += l.Units
			z := make([]float64, rows*l.Units)
			for r := 0; r < rows; r++ {
				for o := 0; o < l.Units; o++ {
					s := b[o]
					for i := 0; i < width; i++ {
						s += w[o*width+i] * h[r*width+i]
					}
					z[r*l.Units+o] = s
				}
			}
			width = l.Units
			logits = z
			h = refActRows(l.Activation, l.Alpha, z, rows, width)
		case LayerActivation:
			h = refActRows(l.Activation, l.Alpha, h, rows, width)
		case LayerDropout:
			d := net.layers[li].(*dropout)
			nh := make([]float64, len(h))
			for i := range h {
				nh[i] = h[i]
				if train && d.active {
					nh[i] *= float64(d.mask[i])
				}
			}
			h = nh
		case LayerBatchNorm:
			bn := net.layers[li].(*batchNorm)
			gamma, beta := p[oOff:oOff+width], p[oOff+width:oOff+2*width]
			oOff += 2 * width
			nh := make([]float64, len(h))
			for j := 0; j < width; j++ {
				mean, variance := float64(bn.runMean[j]), float64(bn.runVar[j])
				if train {
					mean, variance = 0, 0
					for r := 0; r < rows; r++ {
						mean += h[r*width+j]
					}
					mean /= float64(rows)
					for r := 0; r < rows; r++ {
						d := h[r*width+j] - mean
						variance += d * d
					}
					variance /= float64(rows)
				}
				for r := 0; r < rows; r++ {
					nh[r*width+j] = gamma[j]*(h[r*width+j]-mean)/math.Sqrt(variance+l.Eps) + beta[j]
				}
			}
			h = nh
		}
	}
	return h, logits
}

func refActRows(name string, alpha float64, z []float64, rows, cols int) []float64 {
	out := make([]float64, 0, len(z))
	for r := 0; r < rows; r++ {
		out = append(out, refAct(name, alpha, z[r*cols:(r+1)*cols])...)
	}
	return out
}

// refLoss is each loss's textbook definition in float64, on probabilities/outputs.
func refLoss(kind string, out, y []float64, rows, cols int) float64 {
	s := 0.0
	for i, p := range out {
		d := p - y[i]
		switch kind {
		case LossBinaryCrossEntropy:
			s -= y[i]*math.Log(p) + (1-y[i])*math.Log(1-p)
		case LossCrossEntropy:
			s -= y[i] * math.Log(p)
		case LossMSE:
			s += d * d
		case LossMAE:
			s += math.Abs(d)
		case LossHuber:
			if math.Abs(d) <= 1 {
				s += 0.5 * d * d
			} else {
				s += math.Abs(d) - 0.5
			}
		}
	}
	if kind == LossCrossEntropy {
		return s / float64(rows)
	}
	return s / float64(rows*cols)
}

// relErr is ‖a−b‖/max(‖a‖,‖b‖,1e-5): relative, except for gradients that are zero in exact
// arithmetic (a bias before batchnorm), where float32 rounding leaves ~1e-8.
func relErr(a, b []float64) float64 {
	var d, na, nb float64
	for i := range a {
		d += (a[i] - b[i]) * (a[i] - b[i])
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	den := math.Max(math.Sqrt(math.Max(na, nb)), 1e-5)
	return math.Sqrt(d) / den
}

func to64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func randSlice(rng *rand.Rand, n int, lo, hi float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return v
}

// targetsFor draws targets suited to the loss: one-hot rows, 0/1 values or reals.
func targetsFor(rng *rand.Rand, loss string, rows, cols int) []float32 {
	y := make([]float32, rows*cols)
	for r := 0; r < rows; r++ {
		switch loss {
		case LossCrossEntropy:
			y[r*cols+rng.IntN(cols)] = 1
		case LossBinaryCrossEntropy:
			for j := 0; j < cols; j++ {
				y[r*cols+j] = float32(rng.IntN(2))
			}
		default:
			for j := 0; j < cols; j++ {
				y[r*cols+j] = float32(rng.NormFloat64())
			}
		}
	}
	return y
}

// gradCheck trains nothing: it runs one forward/backward of net on random data and compares
// every parameter tensor's analytic gradient with central differences of the float64
// reference. l1 and l2 add the regularisation penalty to both sides.
func gradCheck(t *testing.T, net *Network, loss string, rows int, l1, l2 float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	x := randSlice(rng, rows*net.Inputs(), -1.5, 1.5)
	y := targetsFor(rng, loss, rows, net.Outputs())
	tr, err := newTrainer(net, TrainConfig{Loss: loss, Optimizer: Optimizer{Name: "sgd"}, BatchSize: rows, L1: l1, L2: l2})
	if err != nil {
		t.Fatal(err)
	}
	out := net.forward(x, rows, true)
	tr.loss.eval(out, net.logits(rows), y, rows, net.Outputs(), tr.grad)
	net.backward(tr.grad, rows, tr.loss.fused)
	tr.regularize()
	analytic := to64(net.grads)

	p := to64(net.params)
	x64, y64 := to64(x), to64(y)
	objective := func() float64 {
		o, _ := refForward(net, p, x64, rows, true)
		v := refLoss(loss, o, y64, rows, net.Outputs())
		for _, w := range p[:net.nReg] {
			v += l1*math.Abs(w) + l2*w*w
		}
		return v
	}
	const h = 1e-6
	numeric := make([]float64, len(p))
	for i := range p {
		orig := p[i]
		p[i] = orig + h
		up := objective()
		p[i] = orig - h
		down := objective()
		p[i] = orig
		numeric[i] = (up - down) / (2 * h)
	}
	// The forward passes agree too: a wrong forward would make a right backward look wrong.
	o64, _ := refForward(net, p, x64, rows, true)
	net.forward(x, rows, true) // dropout draws a new mask; only the comparison below needs the old
	if e := relErr(to64(out[:rows*net.Outputs()]), o64); e > 1e-5 && !hasDropout(net) {
		t.Errorf("forward differs from the float64 reference: relative error %.2e", e)
	}
	for _, ten := range net.tensors {
		if ten.counter != nil || !inParams(net, ten.data) {
			continue
		}
		off := offsetIn(net.params, ten.data)
		a, nm := analytic[off:off+len(ten.data)], numeric[off:off+len(ten.data)]
		if e := relErr(a, nm); e > 1e-3 || math.IsNaN(e) {
			t.Errorf("%s: analytic vs numeric gradient relative error %.2e\nanalytic %.6g\nnumeric  %.6g", ten.name, e, a[:min(6, len(a))], nm[:min(6, len(nm))])
		}
	}
}

func hasDropout(net *Network) bool {
	for _, l := range net.layers {
		if d, ok := l.(*dropout); ok && d.rate > 0 {
			return true
		}
	}
	return false
}

// offsetIn returns where view starts inside buf.
func offsetIn(buf, view []float32) int {
	for i := range buf {
		if &buf[i] == &view[0] {
			return i
		}
	}
	return -1
}

func inParams(net *Network, view []float32) bool { return offsetIn(net.params, view) >= 0 }
