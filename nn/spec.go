package nn

import (
	"fmt"
	"strings"
)

// Layer types accepted in LayerSpec.Type.
const (
	LayerDense      = "dense"
	LayerDropout    = "dropout"
	LayerBatchNorm  = "batchnorm"
	LayerActivation = "activation"
)

// Defaults filled in by New when the corresponding field is zero.
const (
	DefaultLeakyAlpha  = 0.01 // LeakyReLU slope for negative inputs
	DefaultBNMomentum  = 0.1  // weight of the batch statistics in the running ones (PyTorch's convention)
	DefaultBNEpsilon   = 1e-5 // added to the variance before the square root
	maxUnitsOrFeatures = 1 << 24
)

// LayerSpec is the JSON-serialisable description of one layer.
//
// A "dense" layer has Units outputs and an optional Activation (with Alpha for leaky_relu); an
// "activation" layer applies Activation alone; "dropout" zeroes a fraction Rate of its inputs
// during training (inverted dropout: the survivors are scaled by 1/(1−Rate), so inference is the
// identity); "batchnorm" normalises each feature by the batch statistics in training and by
// running statistics, updated with Momentum, at inference, and adds Eps to the variance.
type LayerSpec struct {
	Type       string  `json:"type"`
	Units      int     `json:"units,omitempty"`
	Activation string  `json:"activation,omitempty"`
	Alpha      float64 `json:"alpha,omitempty"`
	Rate       float64 `json:"rate,omitempty"`
	Momentum   float64 `json:"momentum,omitempty"`
	Eps        float64 `json:"eps,omitempty"`
}

// Spec describes a whole network: its input width, its layers in order, the weight
// initialisation ("he", "xavier", or "" for He before relu-like activations and Xavier
// otherwise) and the seed of the initial weights.
type Spec struct {
	Inputs int         `json:"inputs"`
	Layers []LayerSpec `json:"layers"`
	Init   string      `json:"init,omitempty"`
	Seed   uint64      `json:"seed"`
}

// SpecError reports an invalid Spec. Layer is the index in Spec.Layers (−1 for a field of the
// Spec itself) and Field the offending field's JSON name, so that callers can point at the
// matching place in their own configuration.
type SpecError struct {
	Layer int
	Type  string
	Field string
	Msg   string
}

// Error formats the error as "layer 2 (dense): units must be positive, got 0".
func (e *SpecError) Error() string {
	if e.Layer < 0 {
		return "network: " + e.Msg
	}
	return fmt.Sprintf("layer %d (%s): %s", e.Layer, e.Type, e.Msg)
}

// normalize validates the spec and returns a copy with every default made explicit.
func (s Spec) normalize() (Spec, error) {
	top := func(field, format string, args ...any) error {
		return &SpecError{Layer: -1, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if s.Inputs <= 0 || s.Inputs > maxUnitsOrFeatures {
		return s, top("inputs", "inputs must be between 1 and %d, got %d", maxUnitsOrFeatures, s.Inputs)
	}
	if len(s.Layers) == 0 {
		return s, top("layers", "a network needs at least one layer")
	}
	switch s.Init {
	case "", "he", "xavier":
	default:
		return s, top("init", `unknown init %q (want "he" or "xavier")`, s.Init)
	}
	out := s
	out.Layers = make([]LayerSpec, len(s.Layers))
	for i, l := range s.Layers {
		nl, err := l.normalize(i)
		if err != nil {
			return s, err
		}
		out.Layers[i] = nl
	}
	return out, nil
}

// normalize validates one layer (index i) and fills its defaults.
func (l LayerSpec) normalize(i int) (LayerSpec, error) {
	bad := func(field, format string, args ...any) (LayerSpec, error) {
		return l, &SpecError{Layer: i, Type: l.Type, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	checkAct := func() (LayerSpec, error) {
		k, ok := activationNames[l.Activation]
		if !ok {
			return bad("activation", "unknown activation %q (want one of %s)", l.Activation, strings.Join(Activations, ", "))
		}
		if l.Alpha < 0 {
			return bad("alpha", "alpha must not be negative, got %g", l.Alpha)
		}
		if k == actLeakyReLU && l.Alpha == 0 {
			l.Alpha = DefaultLeakyAlpha
		}
		if k != actLeakyReLU && l.Alpha != 0 {
			return bad("alpha", "alpha applies only to leaky_relu, not %q", l.Activation)
		}
		if l.Activation == "" {
			l.Activation = "linear"
		}
		return l, nil
	}
	switch l.Type {
	case LayerDense:
		if l.Units <= 0 || l.Units > maxUnitsOrFeatures {
			return bad("units", "units must be positive, got %d", l.Units)
		}
		return checkAct()
	case LayerActivation:
		if l.Activation == "" {
			return bad("activation", "an activation layer needs an activation (one of %s)", strings.Join(Activations, ", "))
		}
		return checkAct()
	case LayerDropout:
		if !(l.Rate >= 0 && l.Rate < 1) {
			return bad("rate", "rate must be in [0, 1), got %g", l.Rate)
		}
	case LayerBatchNorm:
		if l.Momentum == 0 {
			l.Momentum = DefaultBNMomentum
		}
		if !(l.Momentum > 0 && l.Momentum <= 1) {
			return bad("momentum", "momentum must be in (0, 1], got %g", l.Momentum)
		}
		if l.Eps == 0 {
			l.Eps = DefaultBNEpsilon
		}
		if !(l.Eps > 0) {
			return bad("eps", "eps must be positive, got %g", l.Eps)
		}
	default:
		return bad("type", "unknown layer type (want dense, activation, dropout or batchnorm)")
	}
	if l.Units != 0 || l.Activation != "" || l.Alpha != 0 {
		return bad("units", "%s layers take no units, activation or alpha", l.Type)
	}
	if l.Type == LayerDropout && (l.Momentum != 0 || l.Eps != 0) {
		return bad("momentum", "dropout layers take no momentum or eps")
	}
	if l.Type == LayerBatchNorm && l.Rate != 0 {
		return bad("rate", "batchnorm layers take no rate")
	}
	return l, nil
}
