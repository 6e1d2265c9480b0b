package nn

import (
	"encoding/json"
	"errors"
	"github.com/loom-ml/loom/nn/internal/gemm"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// noisyData is a small classification set with random labels: a network can fit the train part
// but the validation loss soon rises, which early stopping must catch.
func noisyData(seed uint64, rows, inputs, classes int) Data {
	rng := rand.New(rand.NewPCG(seed, 5))
	d := Data{Rows: rows, X: randSlice(rng, rows*inputs, -1, 1), Y: make([]float32, rows*classes)}
	for r := 0; r < rows; r++ {
		d.Y[r*classes+rng.IntN(classes)] = 1
	}
	return d
}

func paramBits(n *Network) []uint32 {
	b := make([]uint32, 0, len(n.params)+len(n.state))
	for _, v := range append(append([]float32(nil), n.params...), n.state...) {
		b = append(b, math.Float32bits(v))
	}
	return b
}

// randomnessCase is a small 3-class problem through every source of randomness in training
// (initial weights, shuffling, dropout) and through batch statistics.
func randomnessCase() (Spec, Data, Data) {
	spec := Spec{Inputs: 6, Seed: 9, Layers: []LayerSpec{
		{Type: "dense", Units: 16, Activation: "relu"},
		{Type: "batchnorm"},
		{Type: "dropout", Rate: 0.3},
		{Type: "dense", Units: 3, Activation: "softmax"},
	}}
	return spec, noisyData(1, 90, 6, 3), noisyData(2, 30, 6, 3)
}

func TestFitDeterministic(t *testing.T) {
	spec, train, val := randomnessCase()
	cfg := TrainConfig{Loss: LossCrossEntropy, Optimizer: Optimizer{Name: "adamw", WeightDecay: 0.01},
		Epochs: 5, BatchSize: 16, Shuffle: true, L1: 1e-4, ClipGrad: 1, Seed: 11,
		Schedule: Schedule{Kind: "cosine"}}
	run := func(seed uint64) ([]EpochStats, []uint32) {
		net := mustNew(t, spec)
		c := cfg
		c.Seed = seed
		h, err := Fit(net, train, val, c)
		if err != nil {
			t.Fatal(err)
		}
		return h.Epochs, paramBits(net)
	}
	h1, w1 := run(11)
	h2, w2 := run(11)
	for i := range h1 {
		if h1[i] != h2[i] && !(math.IsNaN(h1[i].Loss) && math.IsNaN(h2[i].Loss)) {
			t.Fatalf("epoch %d differs: %+v vs %+v", i+1, h1[i], h2[i])
		}
	}
	for i := range w1 {
		if w1[i] != w2[i] {
			t.Fatalf("weight %d differs between identical runs", i)
		}
	}
	if _, w3 := run(12); equalBits(w1, w3) {
		t.Error("a different training seed gave identical weights (shuffle/dropout ignore the seed?)")
	}
}

// TestThreadsSameWeights: training on 2 or 3 threads gives the weights and history of 1
// thread, bit for bit, for every optimiser (weight decay included) and for networks whose
// products and updates are large enough to be split: an MLP, the 28×28 CNN, a transformer.
func TestThreadsSameWeights(t *testing.T) {
	mlpNet := Spec{Inputs: 64, Seed: 3, Layers: []LayerSpec{
		{Type: "dense", Units: 256, Activation: "relu"},
		{Type: "batchnorm"},
		{Type: "dropout", Rate: 0.2},
		{Type: "dense", Units: 128, Activation: "tanh"},
		{Type: "dense", Units: 3, Activation: "softmax"},
	}}
	cases := []struct {
		name string
		spec Spec
		data Data
		opt  Optimizer
	}{
		{"mlp/adamw", mlpNet, noisyData(1, 200, 64, 3), Optimizer{Name: "adamw", WeightDecay: 0.01}},
		{"mlp/sgd", mlpNet, noisyData(1, 200, 64, 3), Optimizer{Name: "sgd", WeightDecay: 0.01}},
		{"mlp/nesterov", mlpNet, noisyData(1, 200, 64, 3), Optimizer{Name: "nesterov"}},
		{"mlp/rmsprop", mlpNet, noisyData(1, 200, 64, 3), Optimizer{Name: "rmsprop"}},
		{"cnn28/adam", cnn28Spec, noisyData(2, 96, 784, 10), Optimizer{Name: "adam"}},
		{"transformer/adam", Spec{Inputs: 512, Seed: 5, Layers: []LayerSpec{
			{Type: LayerReshape, Dims: []int{8, 64}},
			{Type: LayerTransformer, Heads: 4, FF: 256, Rate: 0.1},
			{Type: LayerGlobalAvgPool},
			{Type: LayerDense, Units: 3, Activation: "softmax"},
		}}, noisyData(3, 96, 512, 3), Optimizer{Name: "adam"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var bits [3][]uint32
			var hist [3][]EpochStats
			for i := range bits {
				net := mustNew(t, c.spec)
				h, err := Fit(net, c.data, Data{}, TrainConfig{Loss: LossCrossEntropy, Optimizer: c.opt,
					Epochs: 2, BatchSize: 48, Shuffle: true, Seed: 7, Threads: i + 1})
				if err != nil {
					t.Fatal(err)
				}
				bits[i], hist[i] = paramBits(net), h.Epochs
			}
			for i := 1; i < 3; i++ {
				if !equalBits(bits[0], bits[i]) {
					t.Errorf("%d threads give other weights than 1", i+1)
				}
				for e := range hist[0] {
					if hist[0][e].Loss != hist[i][e].Loss {
						t.Errorf("%d threads: epoch %d loss %v, 1 thread %v", i+1, e+1, hist[i][e].Loss, hist[0][e].Loss)
					}
				}
			}
		})
	}
}

// TestOwnersCoverParams: the optimiser's split on 2 and 3 threads gives every parameter to
// exactly one worker, each split dense layer's weight rows to the worker that computes their
// gradient (gemm.Block's rows, in part order), and on 2 threads halves within a few percent.
func TestOwnersCoverParams(t *testing.T) {
	for _, threads := range []int{2, 3} {
		net := mustNew(t, mlpSpec(784, []int{256, 256}, 10))
		release := net.useThreads(threads)
		net.planOwners(128)
		owners := net.cpu.owners
		release()
		if len(owners) != threads {
			t.Fatalf("%d threads: %d parts", threads, len(owners))
		}
		seen := make([]int, len(net.params))
		for p, spans := range owners {
			size := 0
			for _, s := range spans {
				for i := s.lo; i < s.hi; i++ {
					seen[i]++
				}
				size += s.hi - s.lo
			}
			// On 3 threads the 8 strips of 256 rows split 2, 3, 3: the products are as uneven.
			if share := float64(size) * float64(threads) / float64(len(net.params)); threads == 2 && (share < 0.95 || share > 1.05) {
				t.Errorf("%d threads: part %d updates %d of %d values", threads, p, size, len(net.params))
			}
		}
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("%d threads: value %d is updated by %d parts", threads, i, c)
			}
		}
		// The first layer's rows: part p owns rows gemm.Block(256, threads, p) of its 256×784.
		for p := range threads {
			r0, r1 := gemm.Block(256, threads, p)
			if got, want := owners[p][0], (span{r0 * 784, r1 * 784}); got != want {
				t.Errorf("%d threads: part %d's first span is %v, want the first layer's rows %v", threads, p, got, want)
			}
		}
	}
}

func equalBits(a, b []uint32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEarlyStoppingRestoresBest(t *testing.T) {
	net := mustNew(t, mlp(8, []int{64}, 4, "softmax", 1))
	train, val := noisyData(3, 64, 8, 4), noisyData(4, 64, 8, 4)
	var seen []EpochStats
	h, err := Fit(net, train, val, TrainConfig{
		Loss: LossCrossEntropy, Optimizer: Optimizer{Name: "adam", LR: 0.01}, Epochs: 200, BatchSize: 16,
		Shuffle: true, EarlyStopping: EarlyStopping{Patience: 3, RestoreBest: true},
		OnEpoch: func(s EpochStats) (bool, error) { seen = append(seen, s); return false, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if h.Reason != ReasonEarlyStopping || h.Monitor != "val_loss" {
		t.Fatalf("reason %q monitor %q, want early_stopping on val_loss", h.Reason, h.Monitor)
	}
	if h.StoppedEpoch != h.BestEpoch+3 || len(h.Epochs) != h.StoppedEpoch || len(seen) != len(h.Epochs) {
		t.Errorf("stopped %d, best %d, %d epochs, %d callbacks", h.StoppedEpoch, h.BestEpoch, len(h.Epochs), len(seen))
	}
	for _, s := range h.Epochs {
		if s.ValLoss < h.Epochs[h.BestEpoch-1].ValLoss {
			t.Errorf("epoch %d has a lower val_loss than the best epoch %d", s.Epoch, h.BestEpoch)
		}
	}
	tr, _ := newTrainer(net, TrainConfig{Loss: LossCrossEntropy, BatchSize: 16})
	if got, _ := tr.evaluate(val); got != h.Epochs[h.BestEpoch-1].ValLoss {
		t.Errorf("restored network's val_loss %v, want the best epoch's %v", got, h.Epochs[h.BestEpoch-1].ValLoss)
	}
}

func TestCallbackStopsAndFails(t *testing.T) {
	data := noisyData(5, 20, 3, 2)
	cfg := TrainConfig{Loss: LossCrossEntropy, Epochs: 50}
	cfg.OnEpoch = func(s EpochStats) (bool, error) { return s.Epoch == 3, nil }
	h, err := Fit(mustNew(t, mlp(3, []int{4}, 2, "softmax", 1)), data, Data{}, cfg)
	if err != nil || h.Reason != ReasonCallback || len(h.Epochs) != 3 {
		t.Fatalf("err %v reason %q epochs %d, want callback stop after 3", err, h.Reason, len(h.Epochs))
	}
	if !math.IsNaN(h.Epochs[0].ValLoss) || math.IsNaN(h.Epochs[0].Accuracy) {
		t.Errorf("without validation data: %+v", h.Epochs[0])
	}
	boom := errors.New("boom")
	cfg.OnEpoch = func(EpochStats) (bool, error) { return false, boom }
	if _, err := Fit(mustNew(t, mlp(3, []int{4}, 2, "softmax", 1)), data, Data{}, cfg); !errors.Is(err, boom) {
		t.Errorf("callback error not returned: %v", err)
	}
}

// TestDoneStopsMidEpoch: closing Done stops Fit between mini-batches, not at the end of an
// epoch that may take long.
func TestDoneStopsMidEpoch(t *testing.T) {
	data := noisyData(5, 200_000, 3, 2) // 6,250 batches an epoch
	done := make(chan struct{})
	close(done)
	start := time.Now()
	_, err := Fit(mustNew(t, mlp(3, []int{64}, 2, "softmax", 1)), data, Data{}, TrainConfig{Loss: LossCrossEntropy, Epochs: 1000, Done: done})
	if !errors.Is(err, ErrCanceled) {
		t.Fatalf("err %v, want ErrCanceled", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("Fit took %v to notice Done", d)
	}
}

func TestHistoryJSON(t *testing.T) {
	b, err := json.Marshal(EpochStats{Epoch: 2, Loss: 0.5, ValLoss: math.NaN(), Accuracy: math.NaN(), ValAccuracy: math.NaN(), LR: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"epoch":2,"loss":0.5,"lr":0.1}` {
		t.Errorf("JSON %s", b)
	}
	var back EpochStats
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Epoch != 2 || back.Loss != 0.5 || back.LR != 0.1 || !math.IsNaN(back.ValLoss) || !math.IsNaN(back.Accuracy) {
		t.Errorf("read back %+v", back)
	}
	if err := json.Unmarshal([]byte(`{"epoch":1,"bogus":2}`), &back); err == nil {
		t.Error("an unknown field was accepted")
	}
}

func TestRegressionLearns(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const rows = 200
	d := Data{Rows: rows, X: randSlice(rng, rows*2, -1, 1), Y: make([]float32, rows)}
	for r := range rows {
		d.Y[r] = 2*d.X[2*r] - d.X[2*r+1] + 0.5
	}
	for _, loss := range []string{LossMSE, LossMAE, LossHuber} {
		net := mustNew(t, Spec{Inputs: 2, Layers: []LayerSpec{{Type: "dense", Units: 1}}})
		h, err := Fit(net, d, Data{}, TrainConfig{Loss: loss, Optimizer: Optimizer{Name: "adam", LR: 0.05}, Epochs: 100, Shuffle: true})
		if err != nil {
			t.Fatal(err)
		}
		last := h.Epochs[len(h.Epochs)-1]
		if last.Loss > 0.02 || !math.IsNaN(last.Accuracy) {
			t.Errorf("%s: final loss %v (accuracy %v), want < 0.02 and NaN", loss, last.Loss, last.Accuracy)
		}
	}
}

func TestFitErrors(t *testing.T) {
	net := mustNew(t, mlp(2, []int{3}, 2, "softmax", 1))
	good := Data{Rows: 2, X: []float32{1, 2, 3, 4}, Y: []float32{1, 0, 0, 1}}
	nan := Data{Rows: 2, X: []float32{1, 2, 3, float32(math.NaN())}, Y: good.Y}
	cases := []struct {
		train, val Data
		cfg        TrainConfig
		want       string
	}{
		{good, Data{}, TrainConfig{Loss: "hinge", Epochs: 1}, `unknown loss "hinge"`},
		{good, Data{}, TrainConfig{Loss: "crossentropy"}, "epochs must be positive"},
		{Data{Rows: 2, X: []float32{1}, Y: good.Y}, Data{}, TrainConfig{Loss: "crossentropy", Epochs: 1}, "train data: X has 1 values, want rows×inputs = 2×2"},
		{nan, Data{}, TrainConfig{Loss: "crossentropy", Epochs: 1}, "train data: X row 2, column 2: value NaN is not finite"},
		{good, Data{}, TrainConfig{Loss: "crossentropy", Epochs: 1, EarlyStopping: EarlyStopping{Monitor: "val_loss", Patience: 2}}, "no validation data"},
		{good, good, TrainConfig{Loss: "mse", Epochs: 1, EarlyStopping: EarlyStopping{Monitor: "val_accuracy", Patience: 2}}, "not a classification loss"},
		{good, Data{}, TrainConfig{Loss: "crossentropy", Epochs: 1, Optimizer: Optimizer{Name: "adagrad"}}, `unknown optimizer "adagrad"`},
		{good, Data{}, TrainConfig{Loss: "crossentropy", Epochs: 1, BatchSize: -1}, "batch_size must be positive"},
		{good, Data{}, TrainConfig{Loss: "crossentropy", Epochs: 1, Schedule: Schedule{Kind: "step"}}, "every must be positive"},
		{good, Data{Rows: 1, X: []float32{1, 2}, Y: []float32{-1, 2}}, TrainConfig{Loss: "crossentropy", Epochs: 1}, "validation data: Y row 1, column 1: target -1: crossentropy needs non-negative targets"},
		{Data{Rows: 2, X: good.X, Y: []float32{0, 1, 2, 0}}, Data{}, TrainConfig{Loss: "binary_crossentropy", Epochs: 1}, "train data: Y row 2, column 1: target 2: binary_crossentropy needs targets in [0, 1]"},
	}
	for _, c := range cases {
		_, err := Fit(net, c.train, c.val, c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want it to contain %q", err, c.want)
		}
	}
	one := mustNew(t, mlp(2, []int{3}, 1, "sigmoid", 1))
	if _, err := Fit(one, Data{Rows: 1, X: []float32{1, 2}, Y: []float32{1}}, Data{}, TrainConfig{Loss: "crossentropy", Epochs: 1}); err == nil || !strings.Contains(err.Error(), "use binary_crossentropy") {
		t.Errorf("crossentropy on one output: %v", err)
	}
}

func TestEpochStatsMetric(t *testing.T) {
	s := EpochStats{Epoch: 1, Loss: 1, ValLoss: 2, Accuracy: 0.5, ValAccuracy: 0.25, LR: 0.1}
	for name, want := range map[string]float64{"loss": 1, "val_loss": 2, "accuracy": 0.5, "val_accuracy": 0.25, "lr": 0.1} {
		if got, ok := s.Metric(name); !ok || got != want {
			t.Errorf("Metric(%q) = %v, %v; want %v", name, got, ok, want)
		}
	}
	if v, ok := s.Metric("f1"); ok || !math.IsNaN(v) {
		t.Errorf("Metric(f1) = %v, %v; want NaN, false", v, ok)
	}
}
