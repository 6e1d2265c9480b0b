package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestPerfectAndWorstBinary(t *testing.T) {
	y := []int{0, 1, 0, 1}
	good := []float64{0.1, 0.9, 0.2, 0.8}
	bad := []float64{0.9, 0.1, 0.8, 0.2}
	auc, _ := ROCAUC(y, good)
	expect(t, "perfect auc", auc, 1)
	auc, _ = ROCAUC(y, bad)
	expect(t, "worst auc", auc, 0)
	for _, avg := range []Average{Binary, Macro, Micro, Weighted} {
		s, _ := PrecisionRecallF1(y, Classify(good, 4, 1, 0.5), 2, avg)
		if s != (Scores{1, 1, 1}) {
			t.Errorf("perfect %s = %+v, want all 1", avg, s)
		}
		s, _ = PrecisionRecallF1(y, Classify(bad, 4, 1, 0.5), 2, avg)
		if s != (Scores{}) {
			t.Errorf("worst %s = %+v, want all 0", avg, s)
		}
	}
	ll, _ := LogLoss(y, good, 1, 2)
	expect(t, "log loss", ll, -(2*math.Log(0.9)+2*math.Log(0.8))/4)
}

func TestPositiveNeverPredicted(t *testing.T) {
	y := []int{0, 1, 0, 1}
	pred := []int{0, 0, 0, 0}
	s, _ := PrecisionRecallF1(y, pred, 2, Binary)
	if s != (Scores{}) {
		t.Errorf("binary = %+v, want zeros (zero_division=0)", s)
	}
	// Class 0: precision 2/4, recall 1, F1 2/3. Class 1: all 0.
	s, _ = PrecisionRecallF1(y, pred, 2, Macro)
	expect(t, "macro precision", s.Precision, 0.25)
	expect(t, "macro recall", s.Recall, 0.5)
	expect(t, "macro f1", s.F1, 1.0/3)
	s, _ = PrecisionRecallF1(y, pred, 2, Micro)
	expect(t, "micro f1", s.F1, 0.5)
}

func TestAllOneClass(t *testing.T) {
	y := []int{1, 1, 1}
	pred := []int{1, 0, 1}
	s, _ := PrecisionRecallF1(y, pred, 2, Binary)
	expect(t, "precision", s.Precision, 1)
	expect(t, "recall", s.Recall, 2.0/3)
	expect(t, "f1", s.F1, 0.8)
	// Class 0 has no true samples but is predicted once: precision 0, recall 0.
	s, _ = PrecisionRecallF1(y, pred, 2, Macro)
	expect(t, "macro f1", s.F1, 0.4)
	s, _ = PrecisionRecallF1(y, pred, 2, Weighted)
	expect(t, "weighted f1", s.F1, 0.8)
	ll, _ := LogLoss(y, []float64{0.5, 0.5, 0.5}, 1, 2)
	expect(t, "log loss", ll, math.Ln2)
}

func TestAUCAllTiedIsOneHalf(t *testing.T) {
	auc, _ := ROCAUC([]int{0, 1, 1, 0, 1}, []float64{3, 3, 3, 3, 3})
	expect(t, "auc", auc, 0.5)
}

// mannWhitney is the O(n²) definition: the share of positive-negative pairs ranked right,
// ties counting one half.
func mannWhitney(y []int, s []float64) float64 {
	var num, pairs float64
	for i := range y {
		for j := range y {
			if y[i] != 1 || y[j] != 0 {
				continue
			}
			pairs++
			switch {
			case s[i] > s[j]:
				num++
			case s[i] == s[j]:
				num += 0.5
			}
		}
	}
	return num / pairs
}

func TestAUCMatchesMannWhitney(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 50; trial++ {
		n := 2 + r.IntN(60)
		y := make([]int, n)
		s := make([]float64, n)
		y[0], y[1] = 0, 1
		for i := range y {
			if i > 1 {
				y[i] = r.IntN(2)
			}
			s[i] = float64(r.IntN(5)) // few levels: many ties
		}
		got, err := ROCAUC(y, s)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, "auc", got, mannWhitney(y, s))
	}
}

func TestOvRMacroIsMeanOfBinaryAUCs(t *testing.T) {
	var sum float64
	for j := 0; j < 3; j++ {
		y := make([]int, len(yD))
		s := make([]float64, len(yD))
		for i, c := range yD {
			if c == j {
				y[i] = 1
			}
			s[i] = pD[i*3+j]
		}
		sum += mannWhitney(y, s)
	}
	got, _ := ROCAUCOvR(yD, pD, 3, Macro)
	expect(t, "macro", got, sum/3)
}

func TestOvRRejectsRowsNotSummingToOne(t *testing.T) {
	_, err := ROCAUCOvR([]int{0, 1, 2}, []float64{1, 1, 1, 0, 1, 0, 0, 0, 1}, 3, Macro)
	if err == nil || !strings.Contains(err.Error(), "row 0") {
		t.Errorf("err = %v, want one naming row 0", err)
	}
}

func TestBadInputErrors(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"label out of range", second(ConfusionMatrix([]int{0, 3}, []int{0, 1}, 3)), "y_true[1] = 3"},
		{"negative prediction", second(ConfusionMatrix([]int{0, 1}, []int{0, -1}, 3)), "y_pred[1] = -1"},
		{"length mismatch", second(Accuracy([]int{0, 1}, []int{0})), "1 rows, want 2"},
		{"empty", second(Accuracy(nil, nil)), "no samples"},
		{"NaN score", second(ROCAUC([]int{0, 1}, []float64{0, math.NaN()})), "scores[1] is NaN"},
		{"Inf prediction", second(MSE([]float64{1}, []float64{math.Inf(1)})), "y_pred[0] is +Inf"},
		{"binary of three", second(F1([]int{0, 1, 2}, []int{0, 1, 2}, 3, Binary)), "two classes"},
		{"unknown average", second(F1([]int{0}, []int{0}, 2, "mean")), `unknown average "mean"`},
		{"log loss columns", second(LogLoss([]int{0}, []float64{1, 0}, 2, 3)), "2 probability columns for 3 classes"},
		{"auc average", second(ROCAUCOvR(yD, pD, 3, Binary)), "average must be"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: err = %v, want it to contain %q", c.name, c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestClassifyThresholdAndTwoColumns(t *testing.T) {
	got := Classify([]float64{0.3, 0.7, 0.6, 0.4, 0.5, 0.5}, 3, 2, 0.5)
	if got[0] != 1 || got[1] != 0 || got[2] != 1 {
		t.Errorf("two columns: %v, want [1 0 1] (column 1 >= 0.5)", got)
	}
	got = Classify([]float64{0.2, 0.25, 0.9}, 3, 1, 0.25)
	if got[0] != 0 || got[1] != 1 || got[2] != 1 {
		t.Errorf("threshold 0.25: %v, want [0 1 1]", got)
	}
}

func TestParseAverageDefaults(t *testing.T) {
	if a, _ := ParseAverage("", 2); a != Binary {
		t.Errorf("two classes: %q, want binary", a)
	}
	if a, _ := ParseAverage("", 5); a != Macro {
		t.Errorf("five classes: %q, want macro", a)
	}
	if _, err := ParseAverage("binary", 3); err == nil {
		t.Error("binary with three classes: no error")
	}
}

func TestEvaluateClassification(t *testing.T) {
	res, err := Evaluate(Input{Task: Classification, Classes: 3, Labels: yD, Outputs: pD, Cols: 3},
		Options{Metrics: []string{"f1", "confusion_matrix", "auc", "accuracy", "f1", "log_loss", "precision", "recall"}, Threshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Average != Macro {
		t.Errorf("average = %q, want macro", res.Average)
	}
	want := []Value{
		{"f1", 0.7142857142857144}, {"auc", 0.8948412698412698}, {"accuracy", 0.7},
		{"log_loss", 0.7410612733098951}, {"precision", 0.7222222222222222}, {"recall", 0.7222222222222222},
	}
	if len(res.Values) != len(want) {
		t.Fatalf("values = %v, want %v", res.Values, want)
	}
	for i, w := range want {
		if res.Values[i].Name != w.Name || !near(res.Values[i].Value, w.Value) {
			t.Errorf("values[%d] = %v, want %v", i, res.Values[i], w)
		}
	}
	if len(res.Confusion) != 3 || len(res.Report) != 3 || res.Report[2].Support != 3 {
		t.Errorf("confusion %v report %v", res.Confusion, res.Report)
	}
}

func TestEvaluateBinaryTwoColumns(t *testing.T) {
	two := make([]float64, 2*len(sA))
	for i, p := range sA {
		two[2*i], two[2*i+1] = 1-p, p
	}
	res, err := Evaluate(Input{Task: Classification, Classes: 2, Labels: yA, Outputs: two, Cols: 2},
		Options{Metrics: []string{"f1", "auc"}, Threshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "f1", res.Values[0].Value, 0.5454545454545454)
	expect(t, "auc", res.Values[1].Value, 0.6458333333333333)
}

func TestEvaluateRegression(t *testing.T) {
	res, err := Evaluate(Input{Task: Regression, Targets: []float64{3, -0.5, 2, 7}, Outputs: []float64{2.5, 0, 2, 8}, Cols: 1},
		Options{Metrics: []string{"r2", "rmse"}})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, "r2", res.Values[0].Value, 0.9486081370449679)
	expect(t, "rmse", res.Values[1].Value, 0.6123724356957945)
}

func TestEvaluateNameErrors(t *testing.T) {
	_, err := Evaluate(Input{Task: Regression, Targets: []float64{1, 2}, Outputs: []float64{1, 2}, Cols: 1},
		Options{Metrics: []string{"mse", "auc"}})
	var ne *NameError
	if !errors.As(err, &ne) || ne.Index != 1 || !ne.Known || !strings.Contains(err.Error(), "does not apply to a regression target") {
		t.Errorf("auc on regression: err = %v", err)
	}
	_, err = Evaluate(Input{Task: Classification, Classes: 2, Labels: yA, Outputs: sA, Cols: 1},
		Options{Metrics: []string{"f2"}})
	if !errors.As(err, &ne) || ne.Known || !strings.Contains(err.Error(), `unknown metric "f2"; valid metrics for a classification target: accuracy, precision`) {
		t.Errorf("unknown name: err = %v", err)
	}
}

func TestEvaluateUndefinedAUC(t *testing.T) {
	_, err := Evaluate(Input{Task: Classification, Classes: 2, Labels: []int{1, 1}, Outputs: []float64{0.4, 0.9}, Cols: 1},
		Options{Metrics: []string{"auc"}, Threshold: 0.5})
	if !errors.Is(err, ErrUndefined) || !strings.HasPrefix(err.Error(), "auc: ") {
		t.Errorf("err = %v, want auc: ... ErrUndefined", err)
	}
}

func TestClassifyPanicsOnShapeMismatch(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for 5 outputs as 2 rows × 3 columns")
		}
	}()
	Classify(make([]float64, 5), 2, 3, 0.5)
}

// The same samples in another order give bit-identical values: ties are grouped, not
// ordered by position.
func TestMetricsIgnoreRowOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	perm := r.Perm(len(yD))
	y := make([]int, len(yD))
	p := make([]float64, len(pD))
	for i, j := range perm {
		y[i] = yD[j]
		copy(p[i*3:i*3+3], pD[j*3:j*3+3])
	}
	for _, avg := range []Average{Macro, Micro, Weighted} {
		a, _ := ROCAUCOvR(yD, pD, 3, avg)
		b, _ := ROCAUCOvR(y, p, 3, avg)
		if a != b {
			t.Errorf("%s auc %v then %v", avg, a, b)
		}
	}
}

// TestROCCurve against scikit-learn 1.2: roc_curve([0, 0, 1, 1, 1], [0.1, 0.4, 0.35, 0.8, 0.8],
// drop_intermediate=False) gives fpr [0, 0, 0.5, 0.5, 1], tpr [0, 2/3, 2/3, 1, 1].
func TestROCCurve(t *testing.T) {
	fpr, tpr := ROCCurve([]bool{false, false, true, true, true}, []float64{0.1, 0.4, 0.35, 0.8, 0.8})
	if !reflect.DeepEqual(fpr, []float64{0, 0, 0.5, 0.5, 1}) || !reflect.DeepEqual(tpr, []float64{0, 2.0 / 3, 2.0 / 3, 1, 1}) {
		t.Errorf("fpr %v tpr %v", fpr, tpr)
	}
}

// TestPRCurve against scikit-learn 1.2's precision_recall_curve([0, 0, 1, 1], [0.1, 0.4, 0.35,
// 0.8]): from the highest threshold, recall 0.5, 0.5, 1, 1 and precision 1, 0.5, 2/3, 0.5.
func TestPRCurve(t *testing.T) {
	rec, prec := PRCurve([]bool{false, false, true, true}, []float64{0.1, 0.4, 0.35, 0.8})
	wantR, wantP := []float64{0.5, 0.5, 1, 1}, []float64{1, 0.5, 2.0 / 3, 0.5}
	for i := range wantR {
		if rec[i] != wantR[i] || math.Abs(prec[i]-wantP[i]) > 1e-12 {
			t.Fatalf("recall %v precision %v", rec, prec)
		}
	}
}
