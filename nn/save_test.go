package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// trainedNet returns a small trained network with every kind of saved tensor.
func trainedNet(t *testing.T) *Network {
	t.Helper()
	net := mustNew(t, Spec{Inputs: 5, Seed: 2, Init: "xavier", Layers: []LayerSpec{
		{Type: "dense", Units: 7, Activation: "leaky_relu", Alpha: 0.05},
		{Type: "batchnorm", Momentum: 0.2},
		{Type: "dropout", Rate: 0.1},
		{Type: "dense", Units: 3},
		{Type: "activation", Activation: "softmax"},
	}})
	if _, err := Fit(net, noisyData(1, 40, 5, 3), Data{}, TrainConfig{Loss: LossCrossEntropy, Epochs: 3, BatchSize: 8, Shuffle: true}); err != nil {
		t.Fatal(err)
	}
	return net
}

func TestSaveLoadRoundTrip(t *testing.T) {
	net := trainedNet(t)
	var buf bytes.Buffer
	if err := net.Save(&buf); err != nil {
		t.Fatal(err)
	}
	saved := buf.Bytes()
	back, err := Load(bytes.NewReader(saved))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Spec(), net.Spec()) {
		t.Errorf("spec %+v, want %+v", back.Spec(), net.Spec())
	}
	if !equalBits(paramBits(back), paramBits(net)) {
		t.Error("weights or running statistics changed in the round trip")
	}
	if bn0, bn1 := net.layers[1].(*batchNorm), back.layers[1].(*batchNorm); bn0.batches != bn1.batches || bn0.batches != 15 {
		t.Errorf("num_batches_tracked %d after load, %d before, want 15", bn1.batches, bn0.batches)
	}
	x := noisyData(2, 9, 5, 3).X
	p0, p1 := net.Predict(x, 9), back.Predict(x, 9)
	for i := range p0 {
		if math.Float32bits(p0[i]) != math.Float32bits(p1[i]) {
			t.Fatalf("prediction %d: %v before, %v after", i, p0[i], p1[i])
		}
	}
	var again bytes.Buffer
	if err := back.Save(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(saved, again.Bytes()) {
		t.Error("saving the loaded network gave different bytes")
	}
}

// TestSafetensorsLayout parses the file as any safetensors reader would.
func TestSafetensorsLayout(t *testing.T) {
	net := trainedNet(t)
	var buf bytes.Buffer
	if err := net.Save(&buf); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	hl := binary.LittleEndian.Uint64(b)
	if (8+hl)%8 != 0 {
		t.Errorf("data does not start 8-byte aligned: header %d bytes", hl)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+hl], &header); err != nil {
		t.Fatal(err)
	}
	var w tensorInfo
	if err := json.Unmarshal(header["layers.0.weight"], &w); err != nil {
		t.Fatal(err)
	}
	if w.Dtype != "F32" || !sameShape(w.Shape, []int{7, 5}) {
		t.Errorf("layers.0.weight: %+v, want F32 [7 5] (PyTorch Linear's [out, in])", w)
	}
	data := b[8+hl:]
	first := math.Float32frombits(binary.LittleEndian.Uint32(data[w.DataOffsets[0]:]))
	if first != net.layers[0].(*dense).w[0] {
		t.Errorf("first weight %v in the file, %v in the network", first, net.layers[0].(*dense).w[0])
	}
	want := []string{"__metadata__", "layers.0.bias", "layers.0.weight", "layers.1.bias", "layers.1.num_batches_tracked",
		"layers.1.running_mean", "layers.1.running_var", "layers.1.weight", "layers.3.bias", "layers.3.weight"}
	var got []string
	for k := range header {
		got = append(got, k)
	}
	if len(got) != len(want) {
		t.Errorf("tensors %v, want %v", got, want)
	}
	for _, k := range want {
		if _, ok := header[k]; !ok {
			t.Errorf("tensor %s missing", k)
		}
	}
}

// TestLoadDamaged truncates and corrupts a saved file: every variant must give an error, and
// none may panic.
func TestLoadDamaged(t *testing.T) {
	var buf bytes.Buffer
	if err := trainedNet(t).Save(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for n := 0; n < len(good); n++ {
		if _, err := Load(bytes.NewReader(good[:n])); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(good))
		}
	}
	corrupt := func(old, new string) []byte {
		return bytes.Replace(append([]byte(nil), good...), []byte(old), []byte(new), 1)
	}
	cases := map[string][]byte{
		"not safetensors":  []byte("hello, this is not a model file at all"),
		"wrong dtype":      corrupt(`"dtype":"F32"`, `"dtype":"F16"`),
		"wrong shape":      corrupt(`"shape":[7,5]`, `"shape":[5,7]`),
		"bad spec":         corrupt(`\"units\":7`, `\"units\":0`),
		"unknown format":   corrupt(`"loom_format":"1"`, `"loom_format":"9"`),
		"extra tensor":     corrupt(`"layers.3.bias"`, `"layers.9.bias"`),
		"offsets too long": corrupt(`"data_offsets":[0,`, `"data_offsets":[4,`),
	}
	for name, b := range cases {
		if bytes.Equal(b, good) {
			t.Fatalf("%s: the corruption did not apply", name)
		}
		_, err := Load(bytes.NewReader(b))
		if err == nil || !strings.HasPrefix(err.Error(), "load network: ") {
			t.Errorf("%s: error %v", name, err)
		}
	}
}
