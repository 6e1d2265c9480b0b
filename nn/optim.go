package nn

import (
	"fmt"
	"math"
)

// Optimizer configures the update rule. Zero fields take defaults: LR 0.01 for the SGD family
// and 0.001 for adam, adamw and rmsprop; Momentum 0.9; Beta1 0.9; Beta2 0.999; Rho 0.9; Eps 1e-8.
//
// The rules follow PyTorch: momentum v = μv + g, w −= lr·v; nesterov w −= lr·(g + μv); adam and
// adamw with bias correction; rmsprop s = ρs + (1−ρ)g², w −= lr·g/(√s + ε). WeightDecay is
// decoupled for adamw (w −= lr·λ·w before the step) and added to the gradient (g += λw) for the
// others; like L1 and L2 it applies to weight matrices only (dense, conv2d, embedding,
// recurrent, attention), never to biases or normalisation scales and shifts.
type Optimizer struct {
	Name        string  `json:"name"`
	LR          float64 `json:"lr,omitempty"`
	Momentum    float64 `json:"momentum,omitempty"`
	Beta1       float64 `json:"beta1,omitempty"`
	Beta2       float64 `json:"beta2,omitempty"`
	Rho         float64 `json:"rho,omitempty"`
	Eps         float64 `json:"eps,omitempty"`
	WeightDecay float64 `json:"weight_decay,omitempty"`
}

// Optimizers lists the optimiser names, in a stable order.
var Optimizers = []string{"sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop"}

type optKind uint8

const (
	optSGD optKind = iota
	optMomentum
	optNesterov
	optAdam
	optAdamW
	optRMSProp
)

var optNames = map[string]optKind{
	"sgd": optSGD, "momentum": optMomentum, "nesterov": optNesterov,
	"adam": optAdam, "adamw": optAdamW, "rmsprop": optRMSProp,
}

// withDefaults validates o and fills its zero fields.
func (o Optimizer) withDefaults() (Optimizer, optKind, error) {
	k, ok := optNames[o.Name]
	if !ok {
		return o, 0, fmt.Errorf("unknown optimizer %q (want sgd, momentum, nesterov, adam, adamw or rmsprop)", o.Name)
	}
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	if k <= optNesterov {
		def(&o.LR, 0.01)
	} else {
		def(&o.LR, 0.001)
	}
	def(&o.Momentum, 0.9)
	def(&o.Beta1, 0.9)
	def(&o.Beta2, 0.999)
	def(&o.Rho, 0.9)
	def(&o.Eps, 1e-8)
	switch {
	case !(o.LR > 0) || math.IsInf(o.LR, 0):
		return o, k, fmt.Errorf("optimizer lr must be positive, got %g", o.LR)
	case !(o.Momentum > 0 && o.Momentum < 1):
		return o, k, fmt.Errorf("optimizer momentum must be in (0, 1), got %g", o.Momentum)
	case !(o.Beta1 > 0 && o.Beta1 < 1), !(o.Beta2 > 0 && o.Beta2 < 1):
		return o, k, fmt.Errorf("optimizer betas must be in (0, 1), got %g and %g", o.Beta1, o.Beta2)
	case !(o.Rho > 0 && o.Rho < 1):
		return o, k, fmt.Errorf("optimizer rho must be in (0, 1), got %g", o.Rho)
	case !(o.Eps > 0):
		return o, k, fmt.Errorf("optimizer eps must be positive, got %g", o.Eps)
	case !(o.WeightDecay >= 0):
		return o, k, fmt.Errorf("optimizer weight_decay must not be negative, got %g", o.WeightDecay)
	}
	return o, k, nil
}

// optimizer holds an update rule's state for one network.
type optimizer struct {
	kind                 optKind
	mom, b1, b2, rho, wd float32
	eps                  float32
	m, v                 []float32 // first and second moments (momentum uses m only)
	t                    int       // steps taken, for Adam's bias correction

	// The step being taken, which update applies to a range of the values.
	w, g       []float32
	nReg       int
	lr, stepLR float32 // stepLR: Adam's lr over its first bias correction
	invSqrtC2  float32
	update     func(lo, hi int) // o.updateRange, bound once so that a step allocates nothing
}

func newOptimizer(o Optimizer, k optKind, size int) *optimizer {
	opt := &optimizer{
		kind: k, mom: float32(o.Momentum), b1: float32(o.Beta1), b2: float32(o.Beta2),
		rho: float32(o.Rho), wd: float32(o.WeightDecay), eps: float32(o.Eps),
	}
	if k != optSGD {
		opt.m = make([]float32, size)
	}
	if k >= optAdam {
		opt.v = make([]float32, size)
	}
	opt.update = opt.updateRange
	return opt
}

// step updates w from its gradient g with learning rate lr; w[:nReg] are the decayed weights.
// Every value's update depends on that value alone, so cp may split the values over its
// workers without changing a bit.
func (o *optimizer) step(cp *compute, w, g []float32, nReg int, lr float32) {
	o.t++
	o.w, o.g, o.nReg, o.lr = w, g[:len(w)], nReg, lr
	if o.kind == optAdam || o.kind == optAdamW {
		c1 := 1 - math.Pow(float64(o.b1), float64(o.t))
		c2 := 1 - math.Pow(float64(o.b2), float64(o.t))
		// lr·m̂/(√v̂+ε) = (lr/c1)·m/(√v/√c2 + ε): the bias corrections leave the loop.
		o.stepLR, o.invSqrtC2 = lr/float32(c1), float32(1/math.Sqrt(c2))
	}
	cp.eachOwned(len(w), o.update)
	o.w, o.g = nil, nil
}

// updateRange is step on values lo to hi.
func (o *optimizer) updateRange(lo, hi int) {
	w, g := o.w[lo:hi], o.g[lo:hi]
	if reg := min(max(o.nReg-lo, 0), len(w)); o.wd != 0 && reg > 0 {
		if o.kind == optAdamW {
			f := 1 - o.lr*o.wd
			for i := range w[:reg] {
				w[i] *= f
			}
		} else {
			for i, v := range w[:reg] {
				g[i] += o.wd * v
			}
		}
	}
	switch o.kind {
	case optSGD:
		sgdStep(w, g, o.lr)
	case optMomentum, optNesterov:
		momentumStep(w, g, o.m[lo:hi], o.mom, o.lr, o.kind == optNesterov)
	case optAdam, optAdamW:
		adamStep(w, g, o.m[lo:hi], o.v[lo:hi], o.b1, o.b2, o.eps, o.stepLR, o.invSqrtC2)
	case optRMSProp:
		rmspropStep(w, g, o.m[lo:hi], o.rho, o.eps, o.lr)
	}
}

// The update loops are separate functions so that each keeps its operands in registers; all
// slices have len(g) elements.

func sgdStep(w, g []float32, lr float32) {
	w = w[:len(g)]
	for i, gi := range g {
		w[i] -= lr * gi
	}
}

func momentumStep(w, g, m []float32, mu, lr float32, nesterov bool) {
	w, m = w[:len(g)], m[:len(g)]
	if nesterov {
		for i, gi := range g {
			v := mu*m[i] + gi
			m[i] = v
			w[i] -= lr * (gi + mu*v)
		}
		return
	}
	for i, gi := range g {
		v := mu*m[i] + gi
		m[i] = v
		w[i] -= lr * v
	}
}

// adamStep applies Adam's update; the assembly version, where there is one, takes the bulk in
// blocks of 8 and this loop the rest. Both round every operation to float32 in the same order
// (the explicit conversions forbid fused multiply-adds), so they give bit-identical weights.
func adamStep(w, g, m, v []float32, b1, b2, eps, step, invSqrtC2 float32) {
	w, m, v = w[:len(g)], m[:len(g)], v[:len(g)]
	k := adamConsts{b1, 1 - b1, b2, 1 - b2, step, invSqrtC2, eps}
	done := adamVector(w, g, m, v, &k)
	adamScalar(w[done:], g[done:], m[done:], v[done:], &k)
}

// adamConsts is the layout the assembly kernel reads.
type adamConsts struct{ b1, a1, b2, a2, step, invSqrtC2, eps float32 }

func adamScalar(w, g, m, v []float32, k *adamConsts) {
	w, m, v = w[:len(g)], m[:len(g)], v[:len(g)]
	for i, gi := range g {
		mi := float32(k.b1*m[i]) + float32(k.a1*gi)
		vi := float32(k.b2*v[i]) + float32(float32(k.a2*gi)*gi)
		m[i], v[i] = mi, vi
		den := float32(sqrt32(vi)*k.invSqrtC2) + k.eps
		w[i] -= float32(k.step*mi) / den
	}
}

func rmspropStep(w, g, s []float32, rho, eps, lr float32) {
	w, s = w[:len(g)], s[:len(g)]
	a := 1 - rho
	for i, gi := range g {
		si := rho*s[i] + a*gi*gi
		s[i] = si
		w[i] -= lr * gi / (sqrt32(si) + eps)
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// Schedule changes the learning rate from epoch to epoch (epoch e counts from 0):
// "step" multiplies it by Factor (default 0.1, as PyTorch's StepLR) every Every epochs, "exponential" by Factor each epoch,
// "cosine" anneals it from LR to MinLR over the training's epochs; "" keeps it constant.
type Schedule struct {
	Kind   string  `json:"kind,omitempty"`
	Every  int     `json:"every,omitempty"`
	Factor float64 `json:"factor,omitempty"`
	MinLR  float64 `json:"min_lr,omitempty"`
}

// defaultStepFactor is the step schedule's factor when none is given.
const defaultStepFactor = 0.1

// validate checks the schedule's fields for its kind.
func (s Schedule) validate() error {
	switch s.Kind {
	case "":
	case "step":
		if s.Factor == 0 {
			s.Factor = defaultStepFactor
		}
		if s.Every <= 0 {
			return fmt.Errorf("lr schedule step: every must be positive, got %d", s.Every)
		}
		if !(s.Factor > 0 && s.Factor <= 1) {
			return fmt.Errorf("lr schedule step: factor must be in (0, 1], got %g", s.Factor)
		}
	case "exponential":
		if !(s.Factor > 0 && s.Factor <= 1) {
			return fmt.Errorf("lr schedule exponential: factor must be in (0, 1], got %g", s.Factor)
		}
	case "cosine":
		if !(s.MinLR >= 0) {
			return fmt.Errorf("lr schedule cosine: min_lr must not be negative, got %g", s.MinLR)
		}
	default:
		return fmt.Errorf("unknown lr schedule %q (want step, exponential or cosine)", s.Kind)
	}
	return nil
}

// rate returns the learning rate of epoch e (from 0) of epochs, starting from base.
func (s Schedule) rate(base float64, e, epochs int) float64 {
	switch s.Kind {
	case "step":
		f := s.Factor
		if f == 0 {
			f = defaultStepFactor
		}
		return base * math.Pow(f, float64(e/s.Every))
	case "exponential":
		return base * math.Pow(s.Factor, float64(e))
	case "cosine":
		return s.MinLR + 0.5*(base-s.MinLR)*(1+math.Cos(math.Pi*float64(e)/float64(epochs)))
	}
	return base
}
