package nn_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/loom-ml/loom/nn"
)

// Example trains a small network on XOR, saves it, loads it back and predicts.
func Example() {
	net, err := nn.New(nn.Spec{Inputs: 2, Seed: 1, Layers: []nn.LayerSpec{
		{Type: "dense", Units: 8, Activation: "tanh"},
		{Type: "dense", Units: 1, Activation: "sigmoid"},
	}})
	if err != nil {
		log.Fatal(err)
	}
	xor := nn.Data{Rows: 4, X: []float32{0, 0, 0, 1, 1, 0, 1, 1}, Y: []float32{0, 1, 1, 0}}
	hist, err := nn.Fit(net, xor, nn.Data{}, nn.TrainConfig{
		Loss:      nn.LossBinaryCrossEntropy,
		Optimizer: nn.Optimizer{Name: "adam", LR: 0.05},
		Epochs:    300,
		BatchSize: 4,
	})
	if err != nil {
		log.Fatal(err)
	}
	var file bytes.Buffer
	if err := net.Save(&file); err != nil {
		log.Fatal(err)
	}
	loaded, err := nn.Load(&file)
	if err != nil {
		log.Fatal(err)
	}
	p := loaded.Predict(xor.X, xor.Rows)
	fmt.Printf("%s after %d epochs, accuracy %.2f\n", hist.Reason, hist.StoppedEpoch, hist.Epochs[len(hist.Epochs)-1].Accuracy)
	for i := range 4 {
		fmt.Printf("%v xor %v -> %.0f\n", xor.X[2*i], xor.X[2*i+1], p[i])
	}
	// Output:
	// completed after 300 epochs, accuracy 1.00
	// 0 xor 0 -> 0
	// 0 xor 1 -> 1
	// 1 xor 0 -> 1
	// 1 xor 1 -> 0
}
