package steps

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
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
	return "1+nn" + nn.Version + "+frame" + frame.Version + "+plot" + plot.Version
}

type trainSettings struct {
	Loss      string `yaml:"loss"`
	Optimizer struct {
		Name        string    `yaml:"name"`
		LR          float64   `yaml:"lr"`
		Momentum    float64   `yaml:"momentum"`
		Betas       []float64 `yaml:"betas"`
		WeightDecay float64   `yaml:"weight_decay"`
	} `yaml:"optimizer"`
	Epochs         int   `yaml:"epochs"`
	BatchSize      int   `yaml:"batch_size"`
	Shuffle        *bool `yaml:"shuffle"`
	Regularization struct {
		L1 float64 `yaml:"l1"`
		L2 float64 `yaml:"l2"`
	} `yaml:"regularization"`
	LRSchedule struct {
		Step *struct {
			Every  int     `yaml:"every"`
			Factor float64 `yaml:"factor"`
		} `yaml:"step"`
		Cosine      *struct{} `yaml:"cosine"`
		Exponential *struct {
			Factor float64 `yaml:"factor"`
		} `yaml:"exponential"`
	} `yaml:"lr_schedule"`
	EarlyStopping *struct {
		Monitor     string  `yaml:"monitor"`
		Patience    *int    `yaml:"patience"`
		MinDelta    float64 `yaml:"min_delta"`
		RestoreBest bool    `yaml:"restore_best"`
	} `yaml:"early_stopping"`
	StopWhen string  `yaml:"stop_when"`
	ClipGrad float64 `yaml:"clip_grad"`
	Seed     uint64  `yaml:"seed"`
}

// historyVars are the names a stop_when expression may use.
var historyVars = []string{"epoch", "loss", "val_loss", "accuracy", "val_accuracy", "lr"}

func (trainKind) Prepare(st *manifest.Stage, _ *manifest.Manifest) (pipeline.Job, error) {
	var s trainSettings
	if err := decode(st, &s); err != nil {
		return nil, err
	}
	cfg := nn.TrainConfig{
		Loss:      s.Loss,
		Epochs:    s.Epochs,
		BatchSize: s.BatchSize,
		Shuffle:   s.Shuffle == nil || *s.Shuffle,
		L1:        s.Regularization.L1,
		L2:        s.Regularization.L2,
		ClipGrad:  s.ClipGrad,
		Seed:      s.Seed,
		Optimizer: nn.Optimizer{Name: s.Optimizer.Name, LR: s.Optimizer.LR, Momentum: s.Optimizer.Momentum, WeightDecay: s.Optimizer.WeightDecay},
	}
	if cfg.Optimizer.Name == "" {
		cfg.Optimizer.Name = "adam"
	}
	if cfg.Epochs == 0 {
		cfg.Epochs = 10
	}
	if len(s.Optimizer.Betas) == 2 {
		cfg.Optimizer.Beta1, cfg.Optimizer.Beta2 = s.Optimizer.Betas[0], s.Optimizer.Betas[1]
	}
	switch sc := s.LRSchedule; {
	case sc.Step != nil:
		cfg.Schedule = nn.Schedule{Kind: "step", Every: sc.Step.Every, Factor: sc.Step.Factor}
	case sc.Exponential != nil:
		cfg.Schedule = nn.Schedule{Kind: "exponential", Factor: sc.Exponential.Factor}
	case sc.Cosine != nil:
		cfg.Schedule = nn.Schedule{Kind: "cosine"}
	}
	if es := s.EarlyStopping; es != nil {
		cfg.EarlyStopping = nn.EarlyStopping{Monitor: es.Monitor, Patience: 10, MinDelta: es.MinDelta, RestoreBest: es.RestoreBest}
		if es.Patience != nil {
			cfg.EarlyStopping.Patience = *es.Patience
		}
	}
	if m := cfg.EarlyStopping.Monitor; m != "" && !contains(historyVars[1:5], m) {
		return nil, st.Errorf([]string{"early_stopping", "monitor"}, "early_stopping: cannot monitor %q (want one of %s)", m, strings.Join(historyVars[1:5], ", "))
	}
	j := &trainJob{cfg: cfg}
	if s.StopWhen != "" {
		env := map[string]any{}
		for _, v := range historyVars {
			env[v] = 0.0
		}
		env["epoch"] = 0
		p, err := expr.Compile(s.StopWhen, expr.Env(env), expr.AsBool())
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
	cfg      nn.TrainConfig
	stopWhen *vm.Program
}

func (j *trainJob) Run(ctx context.Context, env *pipeline.Env) error {
	fr, err := readFrame(ctx, env)
	if err != nil {
		return err
	}
	net, err := loadNetwork(env, "model", "train")
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
	if cfg.Loss == "" || cfg.Loss == "auto" {
		cfg.Loss = autoLoss(fr)
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
	for _, name := range historyVars[1:5] {
		if v, _ := final.Metric(name); !math.IsNaN(v) {
			env.ReportMetric(name, v)
		}
	}
	if err := saveNetwork(env, net); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(env.Out, historyFile), hist); err != nil {
		return err
	}
	return writeLossPlot(filepath.Join(env.Out, plotFile), env.Stage.Name, hist)
}

// fit trains net. When the result cannot depend on the number of epochs except through how
// many run (nn.Resumable), it continues the checkpoint of the longest shorter run with the
// same settings and inputs, if one is stored, and stores its own: an ASHA promotion from 5 to
// 15 epochs trains 10, with the bytes 15 from scratch would give.
func (j *trainJob) fit(env *pipeline.Env, net *nn.Network, train, val nn.Data, cfg nn.TrainConfig) (*nn.Network, *nn.History, error) {
	store := env.Scratch(trainKind{}.Version(), "epochs")
	if store == nil || !nn.Resumable(cfg) {
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
	err = plot.LossCurve(w, epochs, loss, val, title)
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
