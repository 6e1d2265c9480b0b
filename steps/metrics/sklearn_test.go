package metrics

import (
	"errors"
	"math"
	"testing"
)

// The expected values in this file were computed with scikit-learn 1.2.1 (Debian
// python3-sklearn 1.2.1+dfsg-1) on the same inputs, e.g.
// sklearn.metrics.f1_score(yB, pB, average="weighted"), and pasted as literals.

// near reports whether got is within a few ulps of want.
func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))
}

func expect(t *testing.T, what string, got, want float64) {
	t.Helper()
	if !near(got, want) {
		t.Errorf("%s = %.17g, want %.17g", what, got, want)
	}
}

// Case A: binary, six positives, a tie at score 0.5 between a positive and a negative.
var (
	yA = []int{0, 1, 1, 0, 1, 1, 0, 0, 1, 1}
	sA = []float64{0.1, 0.4, 0.35, 0.8, 0.65, 0.9, 0.2, 0.5, 0.5, 0.3}
)

func TestSklearnBinaryCase(t *testing.T) {
	pred := Classify(sA, len(sA), 1, 0.5)
	wantPred := []int{0, 0, 0, 1, 1, 1, 0, 1, 1, 0}
	for i := range pred {
		if pred[i] != wantPred[i] {
			t.Fatalf("Classify = %v, want %v", pred, wantPred)
		}
	}
	acc, _ := Accuracy(yA, pred)
	expect(t, "accuracy", acc, 0.5)
	want := map[Average]Scores{
		Binary:   {0.6, 0.5, 0.5454545454545454},
		Macro:    {0.5, 0.5, 0.4949494949494949},
		Micro:    {0.5, 0.5, 0.5},
		Weighted: {0.5199999999999999, 0.5, 0.505050505050505},
	}
	for avg, w := range want {
		s, err := PrecisionRecallF1(yA, pred, 2, avg)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, string(avg)+" precision", s.Precision, w.Precision)
		expect(t, string(avg)+" recall", s.Recall, w.Recall)
		expect(t, string(avg)+" f1", s.F1, w.F1)
	}
	auc, err := ROCAUC(yA, sA)
	if err != nil {
		t.Fatal(err)
	}
	// By hand: 15.5 of the 24 positive-negative pairs are ordered right, the tie counting 1/2.
	expect(t, "auc", auc, 15.5/24)
	expect(t, "auc (sklearn)", auc, 0.6458333333333333)
	ll, _ := LogLoss(yA, sA, 1, 2)
	expect(t, "log loss", ll, 0.7030465432975076)
	cm, _ := ConfusionMatrix(yA, pred, 2)
	if cm[0][0] != 2 || cm[0][1] != 2 || cm[1][0] != 3 || cm[1][1] != 3 {
		t.Errorf("confusion = %v, want [[2 2] [3 3]]", cm)
	}
}

// Case B: three classes, class 2 is never predicted.
var (
	yB = []int{0, 0, 1, 1, 2, 2, 2, 0}
	pB = []int{0, 1, 1, 1, 0, 1, 0, 0}
)

func TestSklearnClassNeverPredicted(t *testing.T) {
	want := map[Average]Scores{
		Macro:    {0.3333333333333333, 0.5555555555555555, 0.41269841269841273},
		Micro:    {0.5, 0.5, 0.5},
		Weighted: {0.3125, 0.5, 0.38095238095238093},
	}
	for avg, w := range want {
		s, err := PrecisionRecallF1(yB, pB, 3, avg)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, string(avg)+" precision", s.Precision, w.Precision)
		expect(t, string(avg)+" recall", s.Recall, w.Recall)
		expect(t, string(avg)+" f1", s.F1, w.F1)
	}
	rep, _ := Report(yB, pB, 3)
	wantRep := []ClassReport{
		{0, 0.5, 0.6666666666666666, 0.5714285714285715, 3},
		{1, 0.5, 1.0, 0.6666666666666666, 2},
		{2, 0, 0, 0, 3},
	}
	for i, w := range wantRep {
		g := rep[i]
		if g.Class != w.Class || g.Support != w.Support || !near(g.Precision, w.Precision) ||
			!near(g.Recall, w.Recall) || !near(g.F1, w.F1) {
			t.Errorf("report[%d] = %+v, want %+v", i, g, w)
		}
	}
}

// Case C: four classes, class 3 in neither y_true nor y_pred: scikit-learn's default labels
// leave it out of the macro average.
func TestSklearnAbsentClassLeftOutOfMacro(t *testing.T) {
	yC := []int{0, 1, 1, 2, 0, 2}
	pC := []int{0, 1, 2, 2, 1, 2}
	want := map[Average]Scores{
		Macro:    {0.7222222222222222, 0.6666666666666666, 0.6555555555555556},
		Micro:    {0.6666666666666666, 0.6666666666666666, 0.6666666666666666},
		Weighted: {0.7222222222222222, 0.6666666666666666, 0.6555555555555556},
	}
	for avg, w := range want {
		s, err := PrecisionRecallF1(yC, pC, 4, avg)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, string(avg)+" precision", s.Precision, w.Precision)
		expect(t, string(avg)+" recall", s.Recall, w.Recall)
		expect(t, string(avg)+" f1", s.F1, w.F1)
	}
}

// Case D: three classes from probabilities, with ties inside columns.
var (
	pD = []float64{
		0.7, 0.2, 0.1,
		0.2, 0.5, 0.3,
		0.1, 0.1, 0.8,
		0.4, 0.4, 0.2,
		0.3, 0.3, 0.4,
		0.5, 0.25, 0.25,
		0.25, 0.5, 0.25,
		0.1, 0.6, 0.3,
		0.2, 0.2, 0.6,
		0.6, 0.3, 0.1,
	}
	yD = []int{0, 1, 2, 1, 2, 0, 0, 1, 2, 1}
)

func TestSklearnMulticlassProbabilities(t *testing.T) {
	for avg, w := range map[Average]float64{
		Macro: 0.8948412698412698, Weighted: 0.8928571428571429, Micro: 0.8875,
	} {
		got, err := ROCAUCOvR(yD, pD, 3, avg)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, "auc "+string(avg), got, w)
	}
	ll, err := LogLoss(yD, pD, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "log loss", ll, 0.7410612733098951)
	pred := Classify(pD, 10, 3, 0.5)
	// Row 3 is a tie between classes 0 and 1: the lowest index wins.
	wantPred := []int{0, 1, 2, 0, 2, 0, 1, 1, 2, 0}
	for i := range pred {
		if pred[i] != wantPred[i] {
			t.Fatalf("Classify = %v, want %v", pred, wantPred)
		}
	}
	for avg, w := range map[Average]Scores{
		Macro:    {0.7222222222222222, 0.7222222222222222, 0.7142857142857144},
		Micro:    {0.7, 0.7, 0.7},
		Weighted: {0.7166666666666666, 0.7, 0.7},
	} {
		s, _ := PrecisionRecallF1(yD, pred, 3, avg)
		expect(t, string(avg)+" precision", s.Precision, w.Precision)
		expect(t, string(avg)+" recall", s.Recall, w.Recall)
		expect(t, string(avg)+" f1", s.F1, w.F1)
	}
}

// Probabilities of exactly 0 and 1 are clipped to machine epsilon (1e-15 would give
// 11.5129...), and rows that do not sum to 1 are renormalised.
func TestSklearnLogLossClipping(t *testing.T) {
	ll, _ := LogLoss([]int{0, 1, 1}, []float64{0, 1, 0}, 1, 2)
	expect(t, "binary clipped", ll, 12.014551129705717)
	expect(t, "binary clipped by hand", ll, -math.Log(0x1p-52)/3)
	ll, _ = LogLoss([]int{0, 1, 1}, []float64{2, 1, 1, 0, 0.5, 0.5, 1, 0, 0}, 3, 3)
	expect(t, "multiclass unnormalised", ll, 12.611804286115069)
}

func TestSklearnRegression(t *testing.T) {
	y := []float64{3, -0.5, 2, 7}
	p := []float64{2.5, 0, 2, 8}
	mse, _ := MSE(y, p)
	mae, _ := MAE(y, p)
	rmse, _ := RMSE(y, p)
	r2, _ := R2(y, p)
	expect(t, "mse", mse, 0.375)
	expect(t, "mae", mae, 0.5)
	expect(t, "rmse", rmse, 0.6123724356957945)
	expect(t, "r2", r2, 0.9486081370449679)
	r2, _ = R2([]float64{2, 2, 2}, []float64{2, 2, 2})
	expect(t, "r2 constant perfect", r2, 1)
	r2, _ = R2([]float64{2, 2, 2}, []float64{2, 2, 3})
	expect(t, "r2 constant imperfect", r2, 0)
}

// Case G: 200 samples from numpy RandomState(0), scores rounded to tenths so most are tied.
func TestSklearnAUCManyTies(t *testing.T) {
	ys := "01101111111001000001011001111010101101100101111101011110100110101000001100011010010111111011001001101001000110100000101011111011110110010000110010111100010111010010110010101010100010101000001001000100"
	tenths := []int{7, 3, 7, 10, 2, 6, 6, 6, 2, 10, 4, 8, 7, 3, 8, 4, 9, 6, 9, 7, 7, 5, 10, 6, 4, 6, 0, 3, 7, 3, 6, 4, 1, 3, 6, 6, 6, 7, 7, 4, 9, 4, 4, 9, 8, 7, 1, 9, 7, 10, 1, 9, 2, 6, 1, 8, 8, 6, 4, 1, 7, 5, 7, 9, 10, 9, 0, 4, 7, 2, 5, 1, 2, 0, 8, 2, 3, 9, 7, 0, 2, 6, 6, 2, 9, 6, 5, 6, 7, 3, 4, 2, 2, 9, 7, 5, 2, 3, 1, 4, 3, 7, 4, 2, 0, 1, 7, 5, 5, 9, 10, 2, 7, 3, 0, 8, 3, 4, 6, 8, 6, 9, 3, 8, 2, 10, 7, 2, 9, 7, 3, 2, 5, 0, 2, 4, 4, 5, 3, 6, 9, 1, 5, 1, 7, 4, 6, 2, 1, 5, 4, 9, 8, 7, 9, 1, 6, 6, 10, 3, 2, 1, 0, 9, 7, 8, 3, 6, 1, 5, 10, 9, 3, 10, 2, 9, 9, 8, 6, 9, 3, 8, 6, 0, 3, 1, 10, 5, 5, 6, 4, 1, 8, 2, 5, 2, 1, 9, 10, 10}
	y := make([]int, len(ys))
	s := make([]float64, len(ys))
	for i := range y {
		y[i] = int(ys[i] - '0')
		s[i] = float64(tenths[i]) / 10
	}
	auc, err := ROCAUC(y, s)
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "auc", auc, 0.477997799779978)
}

func TestUndefinedAUCIsAnError(t *testing.T) {
	_, err := ROCAUC([]int{1, 1, 1}, []float64{0.2, 0.5, 0.9})
	if !errors.Is(err, ErrUndefined) {
		t.Errorf("one class in y_true: err = %v, want ErrUndefined", err)
	}
	// Class 2 has no sample: its one-vs-rest AUC, so the macro AUC, is undefined.
	_, err = ROCAUCOvR([]int{0, 1, 0}, []float64{.5, .3, .2, .2, .5, .3, .6, .2, .2}, 3, Macro)
	if !errors.Is(err, ErrUndefined) {
		t.Errorf("absent class: err = %v, want ErrUndefined", err)
	}
	_, err = R2([]float64{1}, []float64{1})
	if !errors.Is(err, ErrUndefined) {
		t.Errorf("R² of one sample: err = %v, want ErrUndefined", err)
	}
}
