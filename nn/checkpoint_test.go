package nn

import (
	"bytes"
	"encoding/json"
	"testing"
)

// fitBytes is what a train stage keeps of a Fit: the saved network and the history's JSON.
func fitBytes(t *testing.T, net *Network, h *History) ([]byte, []byte) {
	t.Helper()
	var model bytes.Buffer
	if err := net.Save(&model); err != nil {
		t.Fatal(err)
	}
	hist, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	return model.Bytes(), hist
}

func TestCheckpointResumeIsBitIdentical(t *testing.T) {
	spec, train, val := randomnessCase()
	for _, opt := range []string{"adam", "adamw", "momentum", "rmsprop", "sgd"} {
		cfg := TrainConfig{Loss: LossCrossEntropy, Optimizer: Optimizer{Name: opt, WeightDecay: 0.01},
			BatchSize: 16, Shuffle: true, L2: 1e-4, ClipGrad: 1, Seed: 11,
			Schedule: Schedule{Kind: "step", Every: 4, Factor: 0.5}}
		// One run of 15 epochs, with Fit and with FitFrom.
		cfg.Epochs = 15
		fresh := mustNew(t, spec)
		h, err := Fit(fresh, train, val, cfg)
		if err != nil {
			t.Fatal(err)
		}
		wantModel, wantHist := fitBytes(t, fresh, h)
		net, h2, _, err := FitFrom(mustNew(t, spec), train, val, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if m, hb := fitBytes(t, net, h2); !bytes.Equal(m, wantModel) || !bytes.Equal(hb, wantHist) {
			t.Fatalf("%s: FitFrom without a checkpoint differs from Fit", opt)
		}
		// 5 epochs, a checkpoint through its encoding, then 10 more.
		cfg.Epochs = 5
		_, _, ck, err := FitFrom(mustNew(t, spec), train, val, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := ck.Write(&buf); err != nil {
			t.Fatal(err)
		}
		ck, err = ReadCheckpoint(&buf)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Epochs = 15
		net, h3, _, err := FitFrom(nil, train, val, cfg, ck)
		if err != nil {
			t.Fatal(err)
		}
		if m, hb := fitBytes(t, net, h3); !bytes.Equal(m, wantModel) || !bytes.Equal(hb, wantHist) {
			t.Fatalf("%s: 5 + 10 epochs differ from 15:\n%s\n%s", opt, hb, wantHist)
		}
	}
}

func TestCheckpointOfAStoppedRun(t *testing.T) {
	spec := Spec{Inputs: 6, Seed: 3, Layers: []LayerSpec{{Type: "dense", Units: 32, Activation: "relu"}, {Type: "dense", Units: 3, Activation: "softmax"}}}
	train, val := noisyData(1, 90, 6, 3), noisyData(2, 30, 6, 3)
	cfg := TrainConfig{Loss: LossCrossEntropy, Optimizer: Optimizer{Name: "adam", LR: 0.05}, BatchSize: 8, Shuffle: true, Seed: 1,
		EarlyStopping: EarlyStopping{Patience: 2}}
	cfg.Epochs = 200
	fresh := mustNew(t, spec)
	h, err := Fit(fresh, train, val, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if h.Reason != ReasonEarlyStopping {
		t.Fatalf("the reference run did not stop early: %s", h.Reason)
	}
	wantModel, wantHist := fitBytes(t, fresh, h)
	cfg.Epochs = h.StoppedEpoch + 5 // stops early too, at the same epoch
	_, _, ck, err := FitFrom(mustNew(t, spec), train, val, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !ck.Stopped() {
		t.Fatal("the checkpoint of an early-stopped run is not Stopped")
	}
	cfg.Epochs = 200
	net, h2, _, err := FitFrom(nil, train, val, cfg, ck)
	if err != nil {
		t.Fatal(err)
	}
	if m, hb := fitBytes(t, net, h2); !bytes.Equal(m, wantModel) || !bytes.Equal(hb, wantHist) {
		t.Fatal("continuing an early-stopped run changed it")
	}
	// Early stopping with patience continues bit for bit from a run that had not stopped yet.
	cfg.Epochs = 2
	_, _, ck, err = FitFrom(mustNew(t, spec), train, val, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Epochs = 200
	net, h3, _, err := FitFrom(nil, train, val, cfg, ck)
	if err != nil {
		t.Fatal(err)
	}
	if m, hb := fitBytes(t, net, h3); !bytes.Equal(m, wantModel) || !bytes.Equal(hb, wantHist) {
		t.Fatal("2 epochs then the rest differ from one run with early stopping")
	}
	cfg.Schedule = Schedule{Kind: "cosine"}
	if _, _, _, err := FitFrom(nil, train, val, cfg, ck); err == nil {
		t.Fatal("resumed a cosine schedule")
	}
}
