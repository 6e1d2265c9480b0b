package nn

import (
	"encoding/csv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// dataset is a CSV from testdata with its last column as the class label.
type dataset struct {
	x       [][]float64
	label   []int
	classes int
}

// loadCSV reads testdata/name: numeric feature columns, then a label column (numeric or a
// class name).
// exampleOf names the example whose data folder holds each data set: the tests read the
// examples' copies rather than keep their own.
var exampleOf = map[string]string{"iris.csv": "iris", "breast_cancer.csv": "breast-cancer", "digits.csv": "digits"}

func loadCSV(t testing.TB, name string) dataset {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "examples", exampleOf[name], "data", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var d dataset
	ids := map[string]int{}
	var names []string
	for _, rec := range recs[1:] {
		row := make([]float64, len(rec)-1)
		for j, s := range rec[:len(rec)-1] {
			if row[j], err = strconv.ParseFloat(s, 64); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		d.x = append(d.x, row)
		lab := rec[len(rec)-1]
		if _, ok := ids[lab]; !ok {
			ids[lab] = -1
			names = append(names, lab)
		}
		d.label = append(d.label, 0)
		_ = lab
	}
	sort.Strings(names)
	for i, n := range names {
		ids[n] = i
	}
	for i, rec := range recs[1:] {
		d.label[i] = ids[rec[len(rec)-1]]
	}
	d.classes = len(names)
	return d
}

// split returns the train/test split whose test rows testdata/<name>_test_rows.txt lists,
// z-scored with the train part's statistics, as Data with one-hot targets (or a single 0/1
// column when binary is set). The row lists are scikit-learn's
// train_test_split(test_size=0.2, stratify=y, random_state=0), written once so that these tests
// use the split the reference figures in ../shared/data/README.md were measured on.
func (d dataset) split(t testing.TB, name string, binary bool) (train, test Data) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+"_test_rows.txt"))
	if err != nil {
		t.Fatal(err)
	}
	isTest := make([]bool, len(d.x))
	var trIdx, teIdx []int
	for _, f := range strings.Fields(string(raw)) {
		i, err := strconv.Atoi(f)
		if err != nil || i < 0 || i >= len(d.x) {
			t.Fatalf("%s_test_rows.txt: bad row %q", name, f)
		}
		isTest[i] = true
		teIdx = append(teIdx, i)
	}
	for i, te := range isTest {
		if !te {
			trIdx = append(trIdx, i)
		}
	}
	nf := len(d.x[0])
	mean, std := make([]float64, nf), make([]float64, nf)
	for _, i := range trIdx {
		for j, v := range d.x[i] {
			mean[j] += v
		}
	}
	for j := range mean {
		mean[j] /= float64(len(trIdx))
	}
	for _, i := range trIdx {
		for j, v := range d.x[i] {
			std[j] += (v - mean[j]) * (v - mean[j])
		}
	}
	for j := range std {
		std[j] = math.Sqrt(std[j] / float64(len(trIdx)))
		if std[j] == 0 {
			std[j] = 1 // constant pixels of digits
		}
	}
	outs := d.classes
	if binary {
		outs = 1
	}
	build := func(idx []int) Data {
		out := Data{Rows: len(idx), X: make([]float32, 0, len(idx)*nf), Y: make([]float32, len(idx)*outs)}
		for r, i := range idx {
			for j, v := range d.x[i] {
				out.X = append(out.X, float32((v-mean[j])/std[j]))
			}
			if binary {
				out.Y[r] = float32(d.label[i])
			} else {
				out.Y[r*outs+d.label[i]] = 1
			}
		}
		return out
	}
	return build(trIdx), build(teIdx)
}

// testAccuracy is the fraction of test rows the network classifies right.
func testAccuracy(net *Network, test Data) float64 {
	p := net.Predict(test.X, test.Rows)
	k := net.Outputs()
	correct := 0
	for r := 0; r < test.Rows; r++ {
		if k == 1 {
			if (p[r] >= 0.5) == (test.Y[r] >= 0.5) {
				correct++
			}
		} else if argmax(p[r*k:(r+1)*k]) == argmax(test.Y[r*k:(r+1)*k]) {
			correct++
		}
	}
	return float64(correct) / float64(test.Rows)
}

func mlp(inputs int, hidden []int, outputs int, outAct string, seed uint64) Spec {
	s := Spec{Inputs: inputs, Seed: seed}
	for _, h := range hidden {
		s.Layers = append(s.Layers, LayerSpec{Type: "dense", Units: h, Activation: "relu"})
	}
	s.Layers = append(s.Layers, LayerSpec{Type: "dense", Units: outputs, Activation: outAct})
	return s
}

func TestLearnIris(t *testing.T) {
	d := loadCSV(t, "iris.csv")
	train, test := d.split(t, "iris", false)
	net := mustNew(t, mlp(4, []int{16}, 3, "softmax", 0))
	h, err := Fit(net, train, Data{}, TrainConfig{
		Loss: LossCrossEntropy, Optimizer: Optimizer{Name: "adam", LR: 0.01},
		Epochs: 100, BatchSize: 16, Shuffle: true, Seed: 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	acc := testAccuracy(net, test)
	t.Logf("iris: test accuracy %.3f, final loss %.4f", acc, h.Epochs[len(h.Epochs)-1].Loss)
	if acc < 0.95 {
		t.Errorf("iris test accuracy %.3f < 0.95", acc)
	}
}

func TestLearnBreastCancer(t *testing.T) {
	d := loadCSV(t, "breast_cancer.csv")
	train, test := d.split(t, "breast_cancer", true)
	net := mustNew(t, mlp(30, []int{64, 32}, 1, "sigmoid", 0))
	h, err := Fit(net, train, test, TrainConfig{
		Loss: LossBinaryCrossEntropy, Optimizer: Optimizer{Name: "adam", LR: 0.001},
		Epochs: 50, BatchSize: 32, Shuffle: true, L2: 1e-4, Seed: 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	acc := testAccuracy(net, test)
	last := h.Epochs[len(h.Epochs)-1]
	t.Logf("breast_cancer: test accuracy %.3f, val_accuracy %.3f, loss %.4f", acc, last.ValAccuracy, last.Loss)
	if acc < 0.94 {
		t.Errorf("breast_cancer test accuracy %.3f < 0.94", acc)
	}
	if math.Abs(acc-last.ValAccuracy) > 1e-12 {
		t.Errorf("Fit's val_accuracy %.4f disagrees with Predict's %.4f", last.ValAccuracy, acc)
	}
}

func TestLearnDigits(t *testing.T) {
	d := loadCSV(t, "digits.csv")
	train, test := d.split(t, "digits", false)
	net := mustNew(t, mlp(64, []int{128}, 10, "softmax", 0))
	_, err := Fit(net, train, Data{}, TrainConfig{
		Loss: LossCrossEntropy, Optimizer: Optimizer{Name: "adam", LR: 0.001},
		Epochs: 30, BatchSize: 32, Shuffle: true, Seed: 0,
	})
	if err != nil {
		t.Fatal(err)
	}
	acc := testAccuracy(net, test)
	t.Logf("digits: test accuracy %.3f", acc)
	if acc < 0.96 {
		t.Errorf("digits test accuracy %.3f < 0.96", acc)
	}
}

// TestLearnSeedCase is the issue's own example: 100 samples of one feature, a hidden layer of
// 10 ReLU units, a sigmoid output, cross-entropy and plain SGD learn a threshold rule.
func TestLearnSeedCase(t *testing.T) {
	rng := rand.New(rand.NewPCG(42, 0))
	const rows = 100
	data := Data{Rows: rows, X: make([]float32, rows), Y: make([]float32, rows)}
	for i := range rows {
		x := 4*rng.Float64() - 2
		data.X[i] = float32(x)
		if x > 0.3 {
			data.Y[i] = 1
		}
	}
	net := mustNew(t, mlp(1, []int{10}, 1, "sigmoid", 1))
	h, err := Fit(net, data, Data{}, TrainConfig{
		Loss: LossBinaryCrossEntropy, Optimizer: Optimizer{Name: "sgd", LR: 0.5},
		Epochs: 200, BatchSize: 10, Shuffle: true, Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	acc := testAccuracy(net, data)
	t.Logf("seed case: accuracy %.3f, loss %.4f", acc, h.Epochs[len(h.Epochs)-1].Loss)
	if acc < 0.95 {
		t.Errorf("seed case accuracy %.3f < 0.95", acc)
	}
}
