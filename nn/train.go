package nn

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Data is a set of samples: X is Rows×Inputs and Y Rows×Outputs, both row-major. Targets are
// one-hot (or soft labels) for crossentropy, 0/1 for binary_crossentropy, values otherwise.
type Data struct {
	X, Y []float32
	Rows int
}

// EarlyStopping stops training when Monitor ("loss", "val_loss", "accuracy" or
// "val_accuracy"; default val_loss when there is validation data, else loss) has not improved
// by more than MinDelta for Patience epochs. Patience 0 disables it. With RestoreBest the
// network ends with the weights of its best epoch.
type EarlyStopping struct {
	Monitor     string  `json:"monitor,omitempty"`
	Patience    int     `json:"patience,omitempty"`
	MinDelta    float64 `json:"min_delta,omitempty"`
	RestoreBest bool    `json:"restore_best,omitempty"`
}

// TrainConfig configures Fit. Zero values take defaults: BatchSize 32; Optimizer.Name "adam".
//
// L1 and L2 add L1·Σ|w| and L2·Σw² over the weight matrices (dense, conv2d, embedding,
// recurrent, attention) to the objective (their gradients L1·sign(w) and 2·L2·w join the
// weights' gradients); ClipGrad, if positive, rescales the whole
// gradient to that global L2 norm when it is longer. HuberDelta (default 1) is the Huber loss's
// threshold. OnEpoch, if set, is called after every epoch; returning stop ends training
// (Reason "callback") and an error aborts Fit with that error.
type TrainConfig struct {
	Loss          string        `json:"loss"`
	Optimizer     Optimizer     `json:"optimizer"`
	Epochs        int           `json:"epochs"`
	BatchSize     int           `json:"batch_size,omitempty"`
	Shuffle       bool          `json:"shuffle,omitempty"`
	L1            float64       `json:"l1,omitempty"`
	L2            float64       `json:"l2,omitempty"`
	Schedule      Schedule      `json:"schedule,omitempty"`
	EarlyStopping EarlyStopping `json:"early_stopping,omitempty"`
	ClipGrad      float64       `json:"clip_grad,omitempty"`
	HuberDelta    float64       `json:"huber_delta,omitempty"`
	Seed          uint64        `json:"seed"`
	// Privacy, if set, trains with DP-SGD instead (Shuffle and ClipGrad then do not apply).
	Privacy *Privacy `json:"privacy,omitempty"`
	// Threads is how many goroutines the large matrix products split over (0 or 1: the
	// caller's only). The weights and history are bit-identical whatever it is.
	Threads int `json:"-"`

	OnEpoch func(EpochStats) (stop bool, err error) `json:"-"`
	// Done, if set, is checked between mini-batches: once it is closed, Fit returns
	// ErrCanceled mid-epoch, so that an epoch over much data does not delay a Ctrl-C.
	Done <-chan struct{} `json:"-"`
}

// ErrCanceled is returned by Fit when TrainConfig.Done is closed.
var ErrCanceled = errors.New("training canceled")

// EpochStats is one epoch's record. Loss is the mean data loss over the epoch's batches, taken
// in training mode as the epoch went (without the L1/L2 penalty); ValLoss is measured after
// the epoch in inference mode. Accuracies are fractions (for binary_crossentropy, of output
// values on the right side of 0.5); they and ValLoss are NaN when they do not apply (a
// regression loss, no validation data) and are then left out of the JSON form. LR is the
// learning rate the epoch used.
type EpochStats struct {
	Epoch       int     // from 1
	Loss        float64 // training data loss
	ValLoss     float64
	Accuracy    float64
	ValAccuracy float64
	LR          float64
}

// MarshalJSON writes the stats with snake_case keys, leaving out NaN values (JSON has no NaN).
func (s EpochStats) MarshalJSON() ([]byte, error) {
	m := map[string]any{"epoch": s.Epoch, "lr": s.LR}
	put := func(k string, v float64) {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			m[k] = v
		}
	}
	put("loss", s.Loss)
	put("val_loss", s.ValLoss)
	put("accuracy", s.Accuracy)
	put("val_accuracy", s.ValAccuracy)
	return json.Marshal(m)
}

// UnmarshalJSON reads the form MarshalJSON writes; absent values become NaN.
func (s *EpochStats) UnmarshalJSON(b []byte) error {
	var m struct {
		Epoch                                int
		LR                                   float64
		Loss, ValLoss, Accuracy, ValAccuracy *float64
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	fields := map[string]any{"epoch": &m.Epoch, "lr": &m.LR, "loss": &m.Loss, "val_loss": &m.ValLoss, "accuracy": &m.Accuracy, "val_accuracy": &m.ValAccuracy}
	for k, v := range raw {
		dst, ok := fields[k]
		if !ok {
			return fmt.Errorf("epoch stats: unknown field %q", k)
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("epoch stats: %s: %w", k, err)
		}
	}
	orNaN := func(p *float64) float64 {
		if p == nil {
			return math.NaN()
		}
		return *p
	}
	*s = EpochStats{Epoch: m.Epoch, LR: m.LR, Loss: orNaN(m.Loss), ValLoss: orNaN(m.ValLoss), Accuracy: orNaN(m.Accuracy), ValAccuracy: orNaN(m.ValAccuracy)}
	return nil
}

// Metric returns the named value ("loss", "val_loss", "accuracy", "val_accuracy", "lr") and
// whether the name is known.
func (s EpochStats) Metric(name string) (float64, bool) {
	switch name {
	case "loss":
		return s.Loss, true
	case "val_loss":
		return s.ValLoss, true
	case "accuracy":
		return s.Accuracy, true
	case "val_accuracy":
		return s.ValAccuracy, true
	case "lr":
		return s.LR, true
	}
	return math.NaN(), false
}

// Reasons training ends, as History.Reason.
const (
	ReasonCompleted     = "completed"      // every epoch ran
	ReasonEarlyStopping = "early_stopping" // the monitored value stopped improving
	ReasonCallback      = "callback"       // OnEpoch asked to stop
	ReasonDiverged      = "diverged"       // the training loss became NaN or infinite
)

// History is the record of a Fit: one entry per epoch run, the epoch training stopped after,
// the best epoch by the monitored value, and why training ended.
type History struct {
	Epochs       []EpochStats `json:"epochs"`
	Monitor      string       `json:"monitor"`
	BestEpoch    int          `json:"best_epoch"`
	StoppedEpoch int          `json:"stopped_epoch"`
	Reason       string       `json:"reason"`
	// With privacy, the DP-SGD steps taken and their Poisson sampling rate: what an
	// accountant needs.
	PrivateSteps int     `json:"private_steps,omitempty"`
	SampleRate   float64 `json:"sample_rate,omitempty"`
}

// trainer holds everything a training step needs, preallocated.
type trainer struct {
	net    *Network
	loss   lossFunc
	opt    *optimizer
	l1, l2 float32
	clip   float64
	lr     float32
	xb, yb []float32 // the gathered mini-batch
	grad   []float32 // ∂loss/∂output
	batch  int
	done   <-chan struct{}
	dp     *dpState // nil unless training with privacy
}

// canceled reports whether TrainConfig.Done is closed.
func (t *trainer) canceled() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// newTrainer validates cfg against net and allocates the step's buffers.
func newTrainer(net *Network, cfg TrainConfig) (*trainer, error) {
	lf, err := newLossFunc(cfg.Loss, net.outputs, net.outAct, cfg.HuberDelta)
	if err != nil {
		return nil, err
	}
	if cfg.Optimizer.Name == "" {
		cfg.Optimizer.Name = "adam"
	}
	o, kind, err := cfg.Optimizer.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = 32
	}
	switch {
	case cfg.BatchSize < 0:
		return nil, fmt.Errorf("batch_size must be positive, got %d", cfg.BatchSize)
	case !(cfg.L1 >= 0) || !(cfg.L2 >= 0):
		return nil, fmt.Errorf("regularization l1 and l2 must not be negative, got %g and %g", cfg.L1, cfg.L2)
	case !(cfg.ClipGrad >= 0):
		return nil, fmt.Errorf("clip_grad must not be negative, got %g", cfg.ClipGrad)
	case cfg.Privacy != nil && cfg.ClipGrad > 0:
		return nil, fmt.Errorf("clip_grad does not apply with privacy, which clips each example's gradient to max_grad_norm")
	}
	b := cfg.BatchSize
	net.reserve(b)
	return &trainer{
		net: net, loss: lf, opt: newOptimizer(o, kind, len(net.params)),
		l1: float32(cfg.L1), l2: float32(cfg.L2), clip: cfg.ClipGrad, lr: float32(o.LR),
		xb: make([]float32, b*net.spec.Inputs), yb: make([]float32, b*net.outputs),
		grad: make([]float32, b*net.outputs), batch: b, done: cfg.Done,
	}, nil
}

// step trains on the rows samples in t.xb and t.yb and returns their mean loss and the number
// of correct predictions.
func (t *trainer) step(rows int) (float64, int) {
	n := t.net
	out := n.forward(t.xb, rows, true)
	loss, correct := t.loss.eval(out, n.logits(rows), t.yb, rows, n.outputs, t.grad)
	n.backward(t.grad, rows, t.loss.fused)
	t.regularize()
	if t.clip > 0 {
		clipNorm(n.grads, t.clip)
	}
	t.opt.step(n.cpu, n.params, n.grads, n.nReg, t.lr)
	return loss, correct
}

// regularize adds the L1 and L2 penalties' gradients to the weight matrices' gradients.
func (t *trainer) regularize() {
	if t.l1 == 0 && t.l2 == 0 {
		return
	}
	w, g := t.net.params[:t.net.nReg], t.net.grads[:t.net.nReg]
	l1, l2 := t.l1, 2*t.l2
	for i, v := range w {
		g[i] += l1*sign(v) + l2*v
	}
}

// clipNorm rescales g to L2 norm limit if it is longer.
func clipNorm(g []float32, limit float64) {
	var ss float64
	for _, v := range g {
		ss += float64(v) * float64(v)
	}
	if norm := math.Sqrt(ss); norm > limit {
		f := float32(limit / norm)
		for i := range g {
			g[i] *= f
		}
	}
}

// evaluate returns the mean loss and accuracy of d in inference mode (accuracy NaN for
// regression losses).
func (t *trainer) evaluate(d Data) (loss, acc float64) {
	n := t.net
	var sum float64
	var correct int
	in, out := n.spec.Inputs, n.outputs
	for r := 0; r < d.Rows; r += t.batch {
		m := min(t.batch, d.Rows-r)
		o := n.forward(d.X[r*in:(r+m)*in], m, false)
		l, c := t.loss.eval(o, n.logits(m), d.Y[r*out:(r+m)*out], m, out, nil)
		sum += l * float64(m)
		correct += c
	}
	return sum / float64(d.Rows), t.accuracy(correct, d.Rows)
}

// accuracy turns a count of correct predictions over rows samples into a fraction.
func (t *trainer) accuracy(correct, rows int) float64 {
	switch t.loss.kind {
	case lossCE:
		return float64(correct) / float64(rows)
	case lossBCE:
		return float64(correct) / float64(rows*t.net.outputs)
	}
	return math.NaN()
}

// checkData reports a shape mismatch or a non-finite value, naming the row and column.
func checkData(what string, d Data, inputs, outputs int) error {
	if d.Rows < 0 || len(d.X) != d.Rows*inputs {
		return fmt.Errorf("%s data: X has %d values, want rows×inputs = %d×%d", what, len(d.X), d.Rows, inputs)
	}
	if len(d.Y) != d.Rows*outputs {
		return fmt.Errorf("%s data: Y has %d values, want rows×outputs = %d×%d", what, len(d.Y), d.Rows, outputs)
	}
	for _, m := range []struct {
		name string
		v    []float32
		cols int
	}{{"X", d.X, inputs}, {"Y", d.Y, outputs}} {
		for i, v := range m.v {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%s data: %s row %d, column %d: value %v is not finite", what, m.name, i/m.cols+1, i%m.cols+1, v)
			}
		}
	}
	return nil
}

// monitorSpec resolves the early-stopping monitor and whether larger is better.
func monitorSpec(es EarlyStopping, hasVal bool) (string, bool, error) {
	m := es.Monitor
	if m == "" {
		m = "loss"
		if hasVal {
			m = "val_loss"
		}
	}
	switch m {
	case "loss", "val_loss", "accuracy", "val_accuracy":
	default:
		return "", false, fmt.Errorf("early_stopping monitor %q is unknown (want loss, val_loss, accuracy or val_accuracy)", m)
	}
	if strings.HasPrefix(m, "val_") && !hasVal {
		return "", false, fmt.Errorf("early_stopping monitors %s but there is no validation data", m)
	}
	if es.Patience < 0 || !(es.MinDelta >= 0) {
		return "", false, fmt.Errorf("early_stopping patience and min_delta must not be negative")
	}
	return m, strings.HasSuffix(m, "accuracy"), nil
}

// Fit trains net on train for cfg.Epochs epochs of mini-batches, evaluating val (which may be
// empty) after each epoch, and returns the history. Invalid configuration or data returns an
// error before any training. The same net, data and cfg give a bit-identical history and
// bit-identical final weights. Each call starts a fresh optimiser state (moments, step count),
// so calling Fit again continues from the current weights, not from the optimiser's state.
func Fit(net *Network, train, val Data, cfg TrainConfig) (*History, error) {
	_, h, _, err := fit(net, train, val, cfg, nil, false)
	return h, err
}

// epoch runs one pass over d in the given sample order and returns the mean training loss and
// accuracy.
func (t *trainer) epoch(d Data, order []int) (float64, float64) {
	in, out := t.net.spec.Inputs, t.net.outputs
	var sum float64
	var correct int
	for start := 0; start < d.Rows && !t.canceled(); start += t.batch {
		rows := min(t.batch, d.Rows-start)
		for r, idx := range order[start : start+rows] {
			copy(t.xb[r*in:(r+1)*in], d.X[idx*in:(idx+1)*in])
			copy(t.yb[r*out:(r+1)*out], d.Y[idx*out:(idx+1)*out])
		}
		l, c := t.step(rows)
		sum += l * float64(rows)
		correct += c
	}
	return sum / float64(d.Rows), t.accuracy(correct, d.Rows)
}

// snapshot copies the trainable parameters and running statistics into dst (grown as needed).
func (n *Network) snapshot(dst []float32) []float32 {
	dst = grow(dst, len(n.params)+len(n.state))
	copy(dst, n.params)
	copy(dst[len(n.params):], n.state)
	return dst
}

// restore is the inverse of snapshot.
func (n *Network) restore(src []float32) {
	copy(n.params, src)
	copy(n.state, src[len(n.params):])
}

// checkTokens reports an input value that is not a token id of a leading embedding layer
// (an integer in [0, vocab)), naming the row and column.
func (n *Network) checkTokens(what string, d Data) error {
	e, ok := n.layers[0].(*embedding)
	if !ok {
		return nil
	}
	in := n.spec.Inputs
	for i, v := range d.X {
		if v < 0 || int(v) >= e.vocab || v != float32(int(v)) {
			return fmt.Errorf("%s data: X row %d, column %d: %v is not a token id of the embedding (an integer in [0, %d))", what, i/in+1, i%in+1, v, e.vocab)
		}
	}
	return nil
}
