package metrics

import (
	"fmt"
	"strings"
)

// Task says what kind of target a model predicts.
type Task int

const (
	// Classification targets are class indices 0..k-1; model outputs are probabilities.
	Classification Task = iota
	// Regression targets are numbers; model outputs are predictions of them.
	Regression
)

// String returns "classification" or "regression".
func (t Task) String() string {
	if t == Regression {
		return "regression"
	}
	return "classification"
}

// ConfusionMatrixName is the metric name that asks for the confusion matrix; it adds no value
// to Result.Values, since the matrix is not a number.
const ConfusionMatrixName = "confusion_matrix"

var classificationNames = []string{"accuracy", "precision", "recall", "f1", "auc", "log_loss", ConfusionMatrixName}
var regressionNames = []string{"mse", "mae", "rmse", "r2"}

// Names returns the metric names valid for task, in documentation order.
func Names(task Task) []string {
	if task == Regression {
		return append([]string(nil), regressionNames...)
	}
	return append([]string(nil), classificationNames...)
}

// Input is one split's targets and model outputs.
type Input struct {
	Task Task
	// Classes is the class count k (classification only).
	Classes int
	// Labels holds the true class of each row (classification only).
	Labels []int
	// Targets holds the true value of each row (regression only).
	Targets []float64
	// Outputs is the model's row-major rows×Cols output: probabilities for classification
	// (Cols == 1 for a sigmoid over two classes, the probability of class 1; else Cols == k),
	// predictions for regression (Cols == 1).
	Outputs []float64
	Cols    int
}

// Options selects what Evaluate computes.
type Options struct {
	// Metrics lists metric names (see Names); the order is kept and repeats are dropped.
	Metrics []string
	// Average is "binary", "macro", "micro", "weighted", or "" for binary with two classes
	// and macro otherwise.
	Average string
	// Threshold turns a class-1 probability into label 1 when p >= Threshold (two classes);
	// the evaluate stage's default is DefaultThreshold.
	Threshold float64
}

// DefaultThreshold is the probability at and above which a binary prediction is class 1.
const DefaultThreshold = 0.5

// Value is one named metric.
type Value struct {
	Name  string
	Value float64
}

// Result is what Evaluate computes.
type Result struct {
	// Values holds the requested scalar metrics in the requested order.
	Values []Value
	// Average is the average precision, recall, F1 and AUC used (classification only).
	Average Average
	// Confusion is the k×k confusion matrix, rows true and columns predicted (classification
	// only; always filled, whether or not confusion_matrix was requested).
	Confusion [][]int
	// Report has precision, recall, F1 and support per class (classification only).
	Report []ClassReport
	// Predicted holds the predicted class of each row (classification only).
	Predicted []int
}

// NameError reports a metric name that is unknown or does not fit the task.
type NameError struct {
	Index int    // position in Options.Metrics
	Name  string // the name as given
	Task  Task
	Known bool // the name is a metric, of the other task
}

// Error says what is wrong and lists the names that would be valid.
func (e *NameError) Error() string {
	valid := strings.Join(Names(e.Task), ", ")
	if e.Known {
		return fmt.Sprintf("metrics[%d]: %s does not apply to a %s target; valid metrics: %s", e.Index, e.Name, e.Task, valid)
	}
	return fmt.Sprintf("metrics[%d]: unknown metric %q; valid metrics for a %s target: %s", e.Index, e.Name, e.Task, valid)
}

// CheckNames returns a *NameError for the first name in names that is not a metric of task.
func CheckNames(names []string, task Task) error {
	for i, n := range names {
		if contains(Names(task), n) {
			continue
		}
		other := Classification
		if task == Classification {
			other = Regression
		}
		return &NameError{Index: i, Name: n, Task: task, Known: contains(Names(other), n)}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Evaluate checks the metric names against the task, then computes each requested metric.
// Errors name the metric that failed; one that wraps ErrUndefined means the data admit no
// value (ROC AUC with a single class in the split).
func Evaluate(in Input, opt Options) (Result, error) {
	if err := CheckNames(opt.Metrics, in.Task); err != nil {
		return Result{}, err
	}
	if in.Task == Regression {
		return evaluateRegression(in, dedupe(opt.Metrics))
	}
	return evaluateClassification(in, opt)
}

func dedupe(names []string) []string {
	var out []string
	for _, n := range names {
		if !contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func evaluateRegression(in Input, names []string) (Result, error) {
	if in.Cols != 1 {
		return Result{}, fmt.Errorf("regression metrics need one output column, got %d", in.Cols)
	}
	funcs := map[string]func(yTrue, yPred []float64) (float64, error){
		"mse": MSE, "mae": MAE, "rmse": RMSE, "r2": R2,
	}
	var res Result
	for _, n := range names {
		v, err := funcs[n](in.Targets, in.Outputs)
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", n, err)
		}
		res.Values = append(res.Values, Value{n, v})
	}
	return res, nil
}

func evaluateClassification(in Input, opt Options) (Result, error) {
	k := in.Classes
	if k < 2 {
		return Result{}, fmt.Errorf("classification needs at least two classes, got %d", k)
	}
	if in.Cols != k && !(in.Cols == 1 && k == 2) {
		return Result{}, fmt.Errorf("%d output columns for %d classes: want %d (or 1 for two classes)", in.Cols, k, k)
	}
	if err := checkOutputs(in.Labels, in.Outputs, in.Cols, k); err != nil {
		return Result{}, err
	}
	avg, err := ParseAverage(opt.Average, k)
	if err != nil {
		return Result{}, err
	}
	pred := Classify(in.Outputs, len(in.Labels), in.Cols, opt.Threshold)
	cm := confusion(in.Labels, pred, k)
	res := Result{Average: avg, Confusion: cm, Report: reportFrom(cm), Predicted: pred}
	scores, err := averaged(cm, avg)
	if err != nil {
		return Result{}, err
	}
	for _, n := range dedupe(opt.Metrics) {
		var v float64
		switch n {
		case ConfusionMatrixName:
			continue
		case "accuracy":
			v, _ = Accuracy(in.Labels, pred)
		case "precision":
			v = scores.Precision
		case "recall":
			v = scores.Recall
		case "f1":
			v = scores.F1
		case "auc":
			v, err = classificationAUC(in, avg)
		case "log_loss":
			v, err = LogLoss(in.Labels, in.Outputs, in.Cols, k)
		}
		if err != nil {
			return Result{}, fmt.Errorf("%s: %w", n, err)
		}
		res.Values = append(res.Values, Value{n, v})
	}
	return res, nil
}

// classificationAUC is the binary AUC of the class-1 scores for two classes (whatever the
// average, as scikit-learn), else the one-vs-rest AUC.
func classificationAUC(in Input, avg Average) (float64, error) {
	if in.Classes > 2 {
		return ROCAUCOvR(in.Labels, in.Outputs, in.Classes, avg)
	}
	scores := in.Outputs
	if in.Cols == 2 {
		scores = make([]float64, len(in.Labels))
		for i := range scores {
			scores[i] = in.Outputs[2*i+1]
		}
	}
	return ROCAUC(in.Labels, scores)
}

// Direction says which way a metric improves: 1 when higher is better (accuracy, f1, auc, r2,
// val_accuracy, …), -1 when lower is (loss, val_loss, mse, mae, rmse, log_loss), 0 when it is
// not a score (epochs). A tune stage's best_<metric> goes the way <metric> does.
func Direction(name string) int {
	name = strings.TrimPrefix(name, "best_")
	name = strings.TrimPrefix(name, "val_")
	switch name {
	case "accuracy", "precision", "recall", "f1", "auc", "r2":
		return 1
	case "loss", "mse", "mae", "rmse", "log_loss":
		return -1
	}
	return 0
}
