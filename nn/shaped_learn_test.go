package nn

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLearnDigitsCNN(t *testing.T) {
	train, test := digitImages(t)
	// The digits-cnn example's network: cnnSpec with dropout before the dense layers.
	spec := Spec{Inputs: 64, Seed: 0, Layers: append(append(append([]LayerSpec(nil), cnnSpec.Layers[:6]...),
		LayerSpec{Type: LayerDropout, Rate: 0.2}), cnnSpec.Layers[6:]...)}
	net := mustNew(t, spec)
	_, err := Fit(net, train, Data{}, TrainConfig{
		Loss: LossCrossEntropy, Optimizer: Optimizer{Name: "adam", LR: 0.003},
		Epochs: 25, BatchSize: 32, Shuffle: true, Seed: 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	acc := testAccuracy(net, test)
	t.Logf("digits CNN: test accuracy %.3f", acc)
	if acc < 0.97 {
		t.Errorf("digits CNN test accuracy %.3f < 0.97", acc)
	}
}

// digitImages is the digits split of TestLearnDigits with pixels scaled from 0..16 to 0..1
// rather than z-scored one by one, which would give each position of the image its own
// contrast.
func digitImages(t *testing.T) (train, test Data) {
	d := loadCSV(t, "digits.csv")
	raw, err := os.ReadFile(filepath.Join("testdata", "digits_test_rows.txt"))
	if err != nil {
		t.Fatal(err)
	}
	isTest := make([]bool, len(d.x))
	for _, f := range strings.Fields(string(raw)) {
		i, err := strconv.Atoi(f)
		if err != nil || i < 0 || i >= len(d.x) {
			t.Fatalf("digits_test_rows.txt: bad row %q", f)
		}
		isTest[i] = true
	}
	for i, row := range d.x {
		part := &train
		if isTest[i] {
			part = &test
		}
		for _, v := range row {
			part.X = append(part.X, float32(v/16))
		}
		y := make([]float32, d.classes)
		y[d.label[i]] = 1
		part.Y = append(part.Y, y...)
		part.Rows++
	}
	return train, test
}

// orderData draws pairs of rows of length symbols from 1..4 with the same symbols in two
// orders, one where a 1 is immediately followed by a 2 (label 1) and one where none is: the
// counts of the symbols say nothing about the label, only the order does.
func orderData(seed uint64, pairs, length int) Data {
	rng := rand.New(rand.NewPCG(seed, 5))
	has := func(s []float32) bool {
		for i := 0; i+1 < len(s); i++ {
			if s[i] == 1 && s[i+1] == 2 {
				return true
			}
		}
		return false
	}
	arrange := func(s []float32, want bool) bool {
		for range 200 {
			rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
			if has(s) == want {
				return true
			}
		}
		return false
	}
	d := Data{}
	for d.Rows < 2*pairs {
		set := make([]float32, length)
		for i := range set {
			set[i] = float32(1 + rng.IntN(4))
		}
		pos, neg := append([]float32(nil), set...), append([]float32(nil), set...)
		if !arrange(pos, true) || !arrange(neg, false) {
			continue
		}
		d.X = append(append(d.X, pos...), neg...)
		d.Y = append(d.Y, 1, 0)
		d.Rows += 2
	}
	return d
}

// TestLearnOrder trains each sequence model on orderData, where a model that ignores order
// stays at chance (0.5).
func TestLearnOrder(t *testing.T) {
	const length = 10
	train, test := orderData(1, 800, length), orderData(2, 200, length)
	embed := LayerSpec{Type: LayerEmbedding, Vocab: 5, Dim: 8}
	out := LayerSpec{Type: LayerDense, Units: 1, Activation: "sigmoid"}
	for name, layers := range map[string][]LayerSpec{
		"simple_rnn":  {embed, {Type: LayerSimpleRNN, Units: 24}, out},
		"lstm":        {embed, {Type: LayerLSTM, Units: 24}, out},
		"gru":         {embed, {Type: LayerGRU, Units: 24}, out},
		"transformer": {{Type: LayerEmbedding, Vocab: 5, Dim: 16}, {Type: LayerPositional}, {Type: LayerTransformer, Heads: 2, FF: 32}, {Type: LayerGlobalAvgPool}, out},
	} {
		t.Run(name, func(t *testing.T) {
			net := mustNew(t, Spec{Inputs: length, Seed: 1, Layers: layers})
			epochs := 15
			if name == "transformer" {
				epochs = 40 // attention finds the previous position more slowly than a recurrence
			}
			_, err := Fit(net, train, Data{}, TrainConfig{
				Loss: LossBinaryCrossEntropy, Optimizer: Optimizer{Name: "adam", LR: 0.005},
				Epochs: epochs, BatchSize: 32, Shuffle: true, Seed: 1,
			})
			if err != nil {
				t.Fatal(err)
			}
			acc := testAccuracy(net, test)
			t.Logf("%s: test accuracy %.3f", name, acc)
			if acc < 0.9 {
				t.Errorf("%s test accuracy %.3f < 0.9", name, acc)
			}
		})
	}
}
