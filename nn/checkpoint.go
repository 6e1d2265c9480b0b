package nn

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
)

// A Checkpoint is the whole state of a Fit after some epochs: the network, the optimiser's
// moments and step count, the shuffle and dropout generators, the sample order and the early
// stopping state. FitFrom continues from it exactly as if training had not stopped, so for
// schedules that do not depend on the number of epochs (constant, step, exponential) and
// without restore_best, E1 epochs then E2 more give bit for bit what E1+E2 epochs give.
type Checkpoint struct {
	Model     []byte // the network, as Save writes it
	History   History
	Best      float64 // the best monitored value so far
	SinceBest int
	Order     []int  // the sample order after the last shuffle
	Shuffle   []byte // the shuffle generator's state
	Drop      []byte // the dropout generator's state
	OptStep   int
	OptM      []float32
	OptV      []float32
}

// Write encodes the checkpoint.
func (c *Checkpoint) Write(w io.Writer) error { return gob.NewEncoder(w).Encode(c) }

// ReadCheckpoint decodes a checkpoint Write wrote.
func ReadCheckpoint(r io.Reader) (*Checkpoint, error) {
	var c Checkpoint
	if err := gob.NewDecoder(r).Decode(&c); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return &c, nil
}

// Resumable reports whether training with cfg can continue from a checkpoint of a shorter run
// and give the same result as one run: the learning rate of an epoch must not depend on the
// number of epochs, and the network must be the last epoch's.
func Resumable(cfg TrainConfig) bool {
	return cfg.Schedule.Kind != "cosine" && !cfg.EarlyStopping.RestoreBest
}

// Stopped reports whether the checkpointed training ended before its epochs ran out (early
// stopping, the callback, divergence): continuing it would stop at once.
func (c *Checkpoint) Stopped() bool { return c.History.Reason != ReasonCompleted }

// FitFrom is Fit continued from a checkpoint (nil: from the start, training net), returning
// the history of all epochs and the checkpoint at the end. From a checkpoint, net is ignored
// and the checkpoint's network is trained; the trained network is returned.
func FitFrom(net *Network, train, val Data, cfg TrainConfig, from *Checkpoint) (*Network, *History, *Checkpoint, error) {
	return fit(net, train, val, cfg, from, true)
}

// fit is Fit and FitFrom: it trains from the checkpoint from (or from the start) and, when
// keep is set, returns the checkpoint at the end.
func fit(net *Network, train, val Data, cfg TrainConfig, from *Checkpoint, keep bool) (*Network, *History, *Checkpoint, error) {
	if from != nil {
		if !Resumable(cfg) {
			return nil, nil, nil, fmt.Errorf("checkpoint: training with a cosine schedule or restore_best cannot be resumed")
		}
		var err error
		if net, err = Load(bytes.NewReader(from.Model)); err != nil {
			return nil, nil, nil, fmt.Errorf("checkpoint: %w", err)
		}
	}
	if cfg.Epochs <= 0 {
		return nil, nil, nil, fmt.Errorf("epochs must be positive, got %d", cfg.Epochs)
	}
	if train.Rows == 0 {
		return nil, nil, nil, fmt.Errorf("train data has no rows")
	}
	if err := checkData("train", train, net.spec.Inputs, net.outputs); err != nil {
		return nil, nil, nil, err
	}
	if err := checkData("validation", val, net.spec.Inputs, net.outputs); err != nil {
		return nil, nil, nil, err
	}
	if err := net.checkTokens("train", train); err != nil {
		return nil, nil, nil, err
	}
	if err := net.checkTokens("validation", val); err != nil {
		return nil, nil, nil, err
	}
	if err := cfg.Schedule.validate(); err != nil {
		return nil, nil, nil, err
	}
	hasVal := val.Rows > 0
	monitor, maximize, err := monitorSpec(cfg.EarlyStopping, hasVal)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.BatchSize > train.Rows {
		cfg.BatchSize = train.Rows
	}
	t, err := newTrainer(net, cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	if cfg.Privacy != nil {
		if t.dp, err = newDP(*cfg.Privacy, net, train.Rows, t.batch); err != nil {
			return nil, nil, nil, err
		}
	}
	for _, d := range []struct {
		what string
		data Data
	}{{"train", train}, {"validation", val}} {
		if err := t.loss.checkTargets(d.what, d.data.Y, net.outputs); err != nil {
			return nil, nil, nil, err
		}
	}
	if (monitor == "accuracy" || monitor == "val_accuracy") && !t.loss.kind.classification() {
		return nil, nil, nil, fmt.Errorf("early_stopping monitors %s but loss %s is not a classification loss", monitor, cfg.Loss)
	}
	s := &fitState{
		baseLR: float64(t.lr), shuffle: rand.NewPCG(cfg.Seed, shuffleStream), order: make([]int, train.Rows),
		h: &History{Monitor: monitor, Reason: ReasonCompleted}, best: math.Inf(1),
	}
	net.dropSrc.Seed(cfg.Seed, dropStream)
	defer net.useThreads(cfg.Threads)()
	for i := range s.order {
		s.order[i] = i
	}
	if maximize {
		s.best = math.Inf(-1)
	}
	if from != nil {
		if err := s.restore(from, t, net); err != nil {
			return nil, nil, nil, err
		}
	}
	if from == nil || !from.Stopped() {
		if err := s.run(t, net, train, val, cfg, monitor, maximize); err != nil {
			return net, s.h, nil, err
		}
	}
	if cfg.EarlyStopping.RestoreBest && s.snapshot != nil && s.h.BestEpoch != s.h.StoppedEpoch {
		net.restore(s.snapshot)
	}
	if !keep {
		return net, s.h, nil, nil
	}
	ck, err := s.checkpoint(t, net)
	return net, s.h, ck, err
}

// fitState is what a Fit carries from epoch to epoch.
type fitState struct {
	baseLR    float64
	shuffle   *rand.PCG
	order     []int
	h         *History
	best      float64
	sinceBest int
	snapshot  []float32 // the best epoch's weights, for restore_best
}

func (s *fitState) restore(c *Checkpoint, t *trainer, net *Network) error {
	if len(c.Order) != len(s.order) || len(c.OptM) != len(t.opt.m) || len(c.OptV) != len(t.opt.v) {
		return fmt.Errorf("checkpoint: it is of other data or another optimizer")
	}
	if err := s.shuffle.UnmarshalBinary(c.Shuffle); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := net.dropSrc.UnmarshalBinary(c.Drop); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	copy(s.order, c.Order)
	copy(t.opt.m, c.OptM)
	copy(t.opt.v, c.OptV)
	t.opt.t = c.OptStep
	h := c.History
	h.Epochs = append([]EpochStats(nil), h.Epochs...)
	h.Monitor = s.h.Monitor
	*s.h = h
	s.best, s.sinceBest = c.Best, c.SinceBest
	return nil
}

func (s *fitState) checkpoint(t *trainer, net *Network) (*Checkpoint, error) {
	var model bytes.Buffer
	if err := net.Save(&model); err != nil {
		return nil, err
	}
	sh, err := s.shuffle.MarshalBinary()
	if err != nil {
		return nil, err
	}
	dr, err := net.dropSrc.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return &Checkpoint{Model: model.Bytes(), History: *s.h, Best: s.best, SinceBest: s.sinceBest,
		Order: append([]int(nil), s.order...), Shuffle: sh, Drop: dr,
		OptStep: t.opt.t, OptM: append([]float32(nil), t.opt.m...), OptV: append([]float32(nil), t.opt.v...)}, nil
}

// run trains the epochs after those in the history.
func (s *fitState) run(t *trainer, net *Network, train, val Data, cfg TrainConfig, monitor string, maximize bool) error {
	rng := rand.New(s.shuffle)
	h := s.h
	for e := len(h.Epochs); e < cfg.Epochs; e++ {
		lr := cfg.Schedule.rate(s.baseLR, e, cfg.Epochs)
		t.lr = float32(lr)
		var loss, acc float64
		if t.dp != nil {
			loss, acc = t.privateEpoch(train, rng)
			h.PrivateSteps += t.dp.steps
			h.SampleRate = t.dp.q
		} else {
			if cfg.Shuffle {
				rng.Shuffle(len(s.order), func(i, j int) { s.order[i], s.order[j] = s.order[j], s.order[i] })
			}
			loss, acc = t.epoch(train, s.order)
		}
		if t.canceled() {
			return ErrCanceled
		}
		st := EpochStats{Epoch: e + 1, Loss: loss, Accuracy: acc, ValLoss: math.NaN(), ValAccuracy: math.NaN(), LR: lr}
		if val.Rows > 0 {
			st.ValLoss, st.ValAccuracy = t.evaluate(val)
		}
		h.Epochs = append(h.Epochs, st)
		h.StoppedEpoch = st.Epoch
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			h.Reason = ReasonDiverged
			return nil
		}
		v, _ := st.Metric(monitor)
		improved := v < s.best-cfg.EarlyStopping.MinDelta
		if maximize {
			improved = v > s.best+cfg.EarlyStopping.MinDelta
		}
		if improved || h.BestEpoch == 0 {
			s.best, h.BestEpoch, s.sinceBest = v, st.Epoch, 0
			if cfg.EarlyStopping.RestoreBest {
				s.snapshot = net.snapshot(s.snapshot)
			}
		} else {
			s.sinceBest++
		}
		if cfg.OnEpoch != nil {
			stop, err := cfg.OnEpoch(st)
			if err != nil {
				return err
			}
			if stop {
				h.Reason = ReasonCallback
				return nil
			}
		}
		if cfg.EarlyStopping.Patience > 0 && s.sinceBest >= cfg.EarlyStopping.Patience {
			h.Reason = ReasonEarlyStopping
			return nil
		}
	}
	h.Reason = ReasonCompleted
	return nil
}
