package steps

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/schollz/progressbar/v3"

	"github.com/loom-ml/loom/bundle"
	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/nn/privacy"
	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/pipeline/settings"
	"github.com/loom-ml/loom/steps/frame"
	"github.com/loom-ml/loom/steps/plot"
)

// Artifact files of a train stage besides the model.
const (
	historyFile = "history.json"
	plotFile    = "loss.png"
)

// trainKind trains the network of a model stage on the train split, validating on the val split.
type trainKind struct{}

func (trainKind) Version() string {
	return "2+nn" + nn.Version + "+frame" + frame.Version + "+plot" + plot.Version
}

// trainSettings train a model on the train split; the stage outputs the trained model, the
// per-epoch history and a loss-curve plot.
type trainSettings struct {
	readsData
	readsModel
	// The loss; auto picks binary_crossentropy, crossentropy or mse from the task.
	Loss      string            `yaml:"loss" default:"auto" check:"oneof=auto binary_crossentropy crossentropy mse mae huber"`
	Optimizer optimizerSettings `yaml:"optimizer"`
	// Number of passes over the train split.
	Epochs int `yaml:"epochs" default:"10" check:"gte=1"`
	// Examples per gradient step.
	BatchSize int `yaml:"batch_size" default:"32" check:"gte=1"`
	// Shuffles the train split every epoch.
	Shuffle        bool                   `yaml:"shuffle" default:"true"`
	Regularization regularizationSettings `yaml:"regularization"`
	LRSchedule     *scheduleSettings      `yaml:"lr_schedule"`
	EarlyStopping  *earlyStoppingSettings `yaml:"early_stopping"`
	// Stops training when this expression, over epoch, loss, val_loss and the validation
	// metrics, is true after an epoch.
	StopWhen expression `yaml:"stop_when" check:"nonempty"`
	// Clips the gradient's global L2 norm to this value.
	ClipGrad float64 `yaml:"clip_grad" check:"gt=0"`
	Seed     seed    `yaml:"seed"`
	// Trains with DP-SGD: per-example clipping, Gaussian noise and Poisson sampling; the
	// metrics epsilon and delta state the privacy spent.
	Privacy *privacySettings `yaml:"privacy"`
}

// privacySettings train with differentially private SGD.
type privacySettings struct {
	// Standard deviation of the noise as a multiple of max_grad_norm; give it or target_epsilon.
	NoiseMultiplier *float64 `yaml:"noise_multiplier" check:"gte=0"`
	// The ε to spend over all the epochs: the noise multiplier is solved for (as Opacus's
	// get_noise_multiplier does).
	TargetEpsilon *float64 `yaml:"target_epsilon" check:"gt=0"`
	// Each example's gradient is clipped to this L2 norm over all the parameters.
	MaxGradNorm float64 `yaml:"max_grad_norm" check:"required,gt=0"`
	// The δ of (ε, δ)-differential privacy; well below 1/rows.
	Delta float64 `yaml:"delta" default:"1e-5" check:"gt=0,lt=1"`
}

// Check implements settings.Checker.
func (s *privacySettings) Check() error {
	if (s.NoiseMultiplier == nil) == (s.TargetEpsilon == nil) {
		return errors.New("give noise_multiplier or target_epsilon, exactly one")
	}
	return nil
}

// ExtendSchema implements settings.SchemaExtender: what Check enforces, for editors.
func (*privacySettings) ExtendSchema(s map[string]any) {
	s["oneOf"] = []any{map[string]any{"required": []string{"noise_multiplier"}}, map[string]any{"required": []string{"target_epsilon"}}}
}

// optimizerSettings choose the optimizer.
type optimizerSettings struct {
	// The update rule.
	Name string `yaml:"name" default:"adam" check:"oneof=sgd momentum nesterov adam adamw rmsprop"`
	// Learning rate.
	LR float64 `yaml:"lr" check:"gt=0"`
	// Momentum coefficient (momentum, nesterov, rmsprop).
	Momentum float64 `yaml:"momentum" check:"gte=0,lt=1"`
	// Adam's decay rates [beta1, beta2].
	Betas []float64 `yaml:"betas" check:"len=2,gte=0,lt=1"`
	// Weight decay (decoupled for adamw).
	WeightDecay float64 `yaml:"weight_decay" check:"gte=0"`
}

// regularizationSettings add penalties on the weights to the loss.
type regularizationSettings struct {
	// L1 coefficient.
	L1 float64 `yaml:"l1" check:"gte=0"`
	// L2 coefficient.
	L2 float64 `yaml:"l2" check:"gte=0"`
}

// scheduleSettings change the learning rate over epochs; exactly one key.
type scheduleSettings struct {
	settings.OneKey
	// Multiplies the rate by factor every `every` epochs.
	Step *stepSchedule `yaml:"step"`
	// Cosine decay from lr to 0 over the epochs.
	Cosine *noOptions `yaml:"cosine"`
	// Multiplies the rate by factor every epoch.
	Exponential *exponentialSchedule `yaml:"exponential"`
}

// stepSchedule multiplies the rate by factor every `every` epochs.
type stepSchedule struct {
	// Epochs between steps.
	Every int `yaml:"every" check:"required,gte=1"`
	// Multiplier at each step.
	Factor float64 `yaml:"factor" check:"required,gt=0"`
}

// exponentialSchedule multiplies the rate by factor every epoch.
type exponentialSchedule struct {
	// Multiplier per epoch.
	Factor float64 `yaml:"factor" check:"required,gt=0"`
}

// earlyStoppingSettings stop training when the monitored value stops improving.
type earlyStoppingSettings struct {
	// The value watched: loss, val_loss or a validation metric.
	Monitor string `yaml:"monitor" check:"nonempty"`
	// Epochs without improvement before stopping.
	Patience int `yaml:"patience" default:"10" check:"gte=0"`
	// The smallest change that counts as an improvement.
	MinDelta float64 `yaml:"min_delta" check:"gte=0"`
	// Restores the weights of the best epoch at the end.
	RestoreBest bool `yaml:"restore_best"`
}

// config is the nn training configuration the settings ask for.
func (s *trainSettings) config() nn.TrainConfig {
	o := s.Optimizer
	cfg := nn.TrainConfig{
		Loss:      s.Loss,
		Epochs:    s.Epochs,
		BatchSize: s.BatchSize,
		Shuffle:   s.Shuffle,
		L1:        s.Regularization.L1,
		L2:        s.Regularization.L2,
		ClipGrad:  s.ClipGrad,
		Seed:      uint64(s.Seed),
		Optimizer: nn.Optimizer{Name: o.Name, LR: o.LR, Momentum: o.Momentum, WeightDecay: o.WeightDecay},
	}
	if len(o.Betas) == 2 {
		cfg.Optimizer.Beta1, cfg.Optimizer.Beta2 = o.Betas[0], o.Betas[1]
	}
	if sc := s.LRSchedule; sc != nil {
		switch {
		case sc.Step != nil:
			cfg.Schedule = nn.Schedule{Kind: "step", Every: sc.Step.Every, Factor: sc.Step.Factor}
		case sc.Exponential != nil:
			cfg.Schedule = nn.Schedule{Kind: "exponential", Factor: sc.Exponential.Factor}
		case sc.Cosine != nil:
			cfg.Schedule = nn.Schedule{Kind: "cosine"}
		}
	}
	if es := s.EarlyStopping; es != nil {
		cfg.EarlyStopping = nn.EarlyStopping{Monitor: es.Monitor, Patience: es.Patience, MinDelta: es.MinDelta, RestoreBest: es.RestoreBest}
	}
	return cfg
}

// resolve gives the DP-SGD configuration for rows training examples, solving for the noise
// multiplier when a target ε is given: the steps are those Fit will take, ⌈rows/batch⌉ an
// epoch, at sampling rate batch/rows.
func (s *privacySettings) resolve(env *pipeline.Env, cfg nn.TrainConfig, rows int) (*nn.Privacy, error) {
	p := &nn.Privacy{MaxGradNorm: s.MaxGradNorm}
	if s.NoiseMultiplier != nil {
		p.NoiseMultiplier = *s.NoiseMultiplier
		return p, nil
	}
	batch := min(cfg.BatchSize, rows)
	steps := cfg.Epochs * ((rows + batch - 1) / batch)
	q := float64(batch) / float64(rows)
	sigma, err := privacy.NoiseMultiplier(*s.TargetEpsilon, s.Delta, q, steps)
	if err != nil {
		return nil, fmt.Errorf("privacy: target_epsilon %g over %d steps at sampling rate %.4g: %w", *s.TargetEpsilon, steps, q, err)
	}
	fmt.Fprintf(env.Log, "privacy: noise multiplier %.6g spends ε ≤ %g (δ = %g) over %d steps at sampling rate %.4g\n", sigma, *s.TargetEpsilon, s.Delta, steps, q)
	p.NoiseMultiplier = sigma
	return p, nil
}

// trainSettingsOf decodes the settings of the stage name, when it is a train stage.
func trainSettingsOf(m *manifest.Manifest, name string) (*trainSettings, bool) {
	st := m.Stages[name]
	if _, ok := kindOf(st.Uses).(trainKind); !ok {
		return nil, false
	}
	var s trainSettings
	if settings.Decode(st, m, &s) != nil {
		return nil, false
	}
	return &s, true
}

// resumable reports whether runs with more epochs continue those with fewer (nn.Resumable):
// not when the noise multiplier is solved for a budget, which depends on the epochs.
func (s *trainSettings) resumable() bool {
	return nn.Resumable(s.config()) && (s.Privacy == nil || s.Privacy.TargetEpsilon == nil)
}

// historyVars are the names a stop_when expression may use.
var historyVars = []string{"epoch", "loss", "val_loss", "accuracy", "val_accuracy", "lr"}

func (trainKind) Prepare(st *manifest.Stage, m *manifest.Manifest) (pipeline.Job, error) {
	var s trainSettings
	if err := settings.Decode(st, m, &s); err != nil {
		return nil, err
	}
	cfg := s.config()
	if m := cfg.EarlyStopping.Monitor; m != "" && !contains(historyVars[1:5], m) {
		return nil, st.Errorf([]string{"early_stopping", "monitor"}, "early_stopping: cannot monitor %q (want one of %s)", m, strings.Join(historyVars[1:5], ", "))
	}
	if s.Privacy != nil && s.ClipGrad > 0 {
		return nil, st.Errorf([]string{"clip_grad"}, "clip_grad does not apply with privacy, which clips each example's gradient to privacy.max_grad_norm")
	}
	j := &trainJob{cfg: cfg, privacy: s.Privacy, resumable: s.resumable()}
	if s.StopWhen != "" {
		env := map[string]any{}
		for _, v := range historyVars {
			env[v] = 0.0
		}
		env["epoch"] = 0
		p, err := expr.Compile(string(s.StopWhen), expr.Env(env), expr.AsBool())
		if err != nil {
			return nil, st.Errorf([]string{"stop_when"}, "stop_when: %v (names: %s)", oneLine(err), strings.Join(historyVars, ", "))
		}
		j.stopWhen = p
	}
	return j, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// oneLine keeps the first line of an expr error (the rest is a caret drawing).
func oneLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

type trainJob struct {
	artifactsOnly
	cfg       nn.TrainConfig
	stopWhen  *vm.Program
	privacy   *privacySettings
	resumable bool // trainSettings.resumable
}

func (j *trainJob) Run(ctx context.Context, env *pipeline.Env) error {
	fr, err := readFrame(ctx, env, frame.Train, frame.Val)
	if err != nil {
		return err
	}
	net, err := loadNetwork(env, namesOf(modelKind{}, trainKind{})...)
	if err != nil {
		return err
	}
	train, err := frameData(fr, frame.Train)
	if err != nil {
		return err
	}
	if train.Rows == 0 {
		return fmt.Errorf("the train split is empty")
	}
	val, err := frameData(fr, frame.Val)
	if err != nil {
		return err
	}
	cfg := j.cfg
	cfg.Done = ctx.Done()
	// The weights do not depend on the thread count, so it is not part of the stage's key.
	if cfg.Threads = env.Threads(); cfg.Threads > 1 {
		fmt.Fprintf(env.Log, "training on %d threads\n", cfg.Threads)
	}
	if cfg.Loss == "" || cfg.Loss == "auto" {
		cfg.Loss = autoLoss(fr)
	}
	if j.privacy != nil {
		p, err := j.privacy.resolve(env, cfg, train.Rows)
		if err != nil {
			return err
		}
		cfg.Privacy = p
	}
	progress := newProgress(env, cfg.Epochs)
	var machine vm.VM
	cfg.OnEpoch = func(s nn.EpochStats) (bool, error) {
		progress.epoch(s)
		if err := ctx.Err(); err != nil {
			return true, err
		}
		if j.stopWhen == nil {
			return false, nil
		}
		out, err := machine.Run(j.stopWhen, statsEnv(s))
		if err != nil {
			return true, fmt.Errorf("stop_when: %v", err)
		}
		return out.(bool), nil
	}
	net, hist, err := j.fit(env, net, train, val, cfg)
	progress.done()
	if err != nil {
		return err
	}
	if hist.Reason == nn.ReasonDiverged {
		return fmt.Errorf("training diverged at epoch %d (loss is not finite): lower the learning rate", hist.StoppedEpoch)
	}
	fmt.Fprintf(env.Log, "stopped after epoch %d (%s), best epoch %d\n", hist.StoppedEpoch, hist.Reason, hist.BestEpoch)
	// The metrics describe the model the stage outputs: the best epoch's when early stopping
	// restored its weights, else the last epoch's.
	final := hist.Epochs[len(hist.Epochs)-1]
	if cfg.EarlyStopping.RestoreBest && hist.BestEpoch > 0 {
		final = hist.Epochs[hist.BestEpoch-1]
	}
	env.ReportMetric("epochs", float64(len(hist.Epochs)))
	env.ReportMetric("best_epoch", float64(hist.BestEpoch))
	if p := cfg.Privacy; p != nil {
		// Spent by the steps that ran, which early stopping may make fewer than planned.
		eps, _ := privacy.Epsilon(hist.SampleRate, p.NoiseMultiplier, hist.PrivateSteps, j.privacy.Delta)
		if !math.IsInf(eps, 1) { // no noise: no guarantee, and JSON has no infinity
			env.ReportMetric("epsilon", eps)
		}
		env.ReportMetric("delta", j.privacy.Delta)
		env.ReportMetric("noise_multiplier", p.NoiseMultiplier)
		fmt.Fprintf(env.Log, "privacy: (ε = %.4g, δ = %g) after %d DP-SGD steps at sampling rate %.4g, noise multiplier %.4g\n",
			eps, j.privacy.Delta, hist.PrivateSteps, hist.SampleRate, p.NoiseMultiplier)
	}
	for _, name := range historyVars[1:5] {
		if v, _ := final.Metric(name); !math.IsNaN(v) {
			env.ReportMetric(name, v)
		}
	}
	// The model file is a bundle: the network with what predicting with it needs.
	b, err := bundle.New(net, fr)
	if err != nil {
		return err
	}
	if err := writeFileWith(filepath.Join(env.Out, modelFile), b.Write); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(env.Out, historyFile), hist); err != nil {
		return err
	}
	return writeLossPlot(filepath.Join(env.Out, plotFile), env.Stage.Name, hist)
}

// fit trains net. When the result cannot depend on the number of epochs except through how
// many run (trainSettings.resumable), it continues the checkpoint of the longest shorter run with the
// same settings and inputs, if one is stored, and stores its own: an ASHA promotion from 5 to
// 15 epochs trains 10, with the bytes 15 from scratch would give.
func (j *trainJob) fit(env *pipeline.Env, net *nn.Network, train, val nn.Data, cfg nn.TrainConfig) (*nn.Network, *nn.History, error) {
	store := env.Scratch(trainKind{}.Version(), "epochs")
	if store == nil || !j.resumable {
		h, err := nn.Fit(net, train, val, cfg)
		return net, h, err
	}
	from := loadCheckpoint(env, store, cfg.Epochs)
	net, h, ck, err := nn.FitFrom(net, train, val, cfg, from)
	if err != nil {
		return nil, nil, err
	}
	if err := store.Write(checkpointName(cfg.Epochs), ck.Write); err != nil {
		fmt.Fprintf(env.Log, "could not store a checkpoint: %v\n", err)
	}
	return net, h, nil
}

// checkpointName names the checkpoint after epochs in a stage's scratch folder.
func checkpointName(epochs int) string { return strconv.Itoa(epochs) + ".ckpt" }

// loadCheckpoint returns the checkpoint of the longest stored run shorter than epochs, or nil.
// A checkpoint that cannot be read is only a lost shortcut.
func loadCheckpoint(env *pipeline.Env, store *pipeline.Scratch, epochs int) *nn.Checkpoint {
	done := 0
	for _, name := range store.List() {
		n, err := strconv.Atoi(strings.TrimSuffix(name, ".ckpt"))
		if err == nil && name == checkpointName(n) && n < epochs && n > done {
			done = n
		}
	}
	if done == 0 {
		return nil
	}
	b, err := store.Read(checkpointName(done))
	if err != nil {
		fmt.Fprintf(env.Log, "ignoring checkpoint: %v\n", err)
		return nil
	}
	ck, err := nn.ReadCheckpoint(bytes.NewReader(b))
	if err != nil {
		fmt.Fprintf(env.Log, "ignoring checkpoint %s: %v\n", checkpointName(done), err)
		return nil
	}
	fmt.Fprintf(env.Log, "continuing from the checkpoint after %d epochs\n", done)
	return ck
}

// autoLoss picks the loss for the task: binary or categorical cross-entropy, or MSE.
func autoLoss(fr *frame.Frame) string {
	switch {
	case fr.Task != frame.Classification:
		return "mse"
	case fr.Outputs() == 1:
		return "binary_crossentropy"
	}
	return "crossentropy"
}

// frameData returns split s of fr as nn data.
func frameData(fr *frame.Frame, s frame.Split) (nn.Data, error) {
	x, y, rows, err := fr.Matrix(s)
	if err != nil {
		return nn.Data{}, err
	}
	return nn.Data{X: x, Y: y, Rows: rows}, nil
}

// statsEnv is the environment of stop_when: the epoch's values, NaN when they do not apply.
func statsEnv(s nn.EpochStats) map[string]any {
	return map[string]any{"epoch": s.Epoch, "loss": s.Loss, "val_loss": s.ValLoss,
		"accuracy": s.Accuracy, "val_accuracy": s.ValAccuracy, "lr": s.LR}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func writeLossPlot(path, title string, h *nn.History) error {
	epochs := make([]int, len(h.Epochs))
	loss := make([]float64, len(h.Epochs))
	val := make([]float64, len(h.Epochs))
	for i, e := range h.Epochs {
		epochs[i], loss[i], val[i] = e.Epoch, e.Loss, e.ValLoss
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	err = plot.LossCurve(w, epochs, loss, val, h.BestEpoch, title)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// progress shows training progress: a bar on a terminal, else a log line every tenth of the
// epochs.
type progress struct {
	bar    *progressbar.ProgressBar // nil when not on a terminal
	name   string
	log    io.Writer
	epochs int
	every  int
}

func newProgress(env *pipeline.Env, epochs int) *progress {
	p := &progress{name: env.Stage.Name, log: env.Log, epochs: epochs, every: max(1, epochs/10)}
	if env.Progress != nil {
		p.bar = progressbar.NewOptions(epochs,
			progressbar.OptionSetWriter(env.Progress),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(24),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *progress) epoch(s nn.EpochStats) {
	vals := fmt.Sprintf("loss %.4f", s.Loss)
	if !math.IsNaN(s.ValLoss) {
		vals += fmt.Sprintf(" val_loss %.4f", s.ValLoss)
	}
	if p.bar != nil {
		p.bar.Describe(p.name + ": " + vals)
		p.bar.Set(s.Epoch)
		return
	}
	if s.Epoch%p.every == 0 || s.Epoch == p.epochs {
		fmt.Fprintf(p.log, "epoch %d/%d %s\n", s.Epoch, p.epochs, vals)
	}
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
