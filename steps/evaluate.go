package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"

	"github.com/loom-ml/loom/bundle"
	"github.com/loom-ml/loom/internal/suggest"

	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/pipeline/settings"
	"github.com/loom-ml/loom/steps/frame"
	"github.com/loom-ml/loom/steps/metrics"
	"github.com/loom-ml/loom/steps/plot"
)

// evaluateKind computes metrics of a trained model on one split and checks assertions.
type evaluateKind struct{}

func (evaluateKind) Version() string {
	return "2+nn" + nn.Version + "+frame" + frame.Version + "+metrics" + metrics.Version + "+plot" + plot.Version
}

// evaluateSettings compute metrics of a trained model on one split, and check assertions.
type evaluateSettings struct {
	readsData
	readsModel
	// The split evaluated.
	Split string `yaml:"split" default:"test" check:"oneof=train val test"`
	// The metrics computed.
	Metrics []metricName `yaml:"metrics" check:"unique"`
	// How per-class precision, recall and f1 are combined: binary for two classes, else macro
	// by default.
	Average string `yaml:"average" check:"oneof=binary macro micro weighted"`
	// Probability above which a two-class prediction is positive.
	Threshold float64 `yaml:"threshold" default:"0.5" check:"gte=0,lte=1"`
	// Conditions over the metrics; loom exits with code 3 when one is false.
	Assert []expression `yaml:"assert" check:"nonempty"`
	// Columns of the data (features or not, before or after one-hot encoding) whose groups
	// are compared: a table per group and the metrics demographic_parity_difference,
	// demographic_parity_ratio and equalized_odds_difference (Fairlearn's definitions; with
	// several columns, the worst over them). Classification only.
	Groups oneOrMany `yaml:"groups"`
}

// oneOrMany is a column name or a list of them.
type oneOrMany []string

// DecodeSetting implements settings.Value.
func (o *oneOrMany) DecodeSetting(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && n.Value != "" {
		*o = oneOrMany{n.Value}
		return nil
	}
	if n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
		var list []string
		if err := decodeStrings(n, &list); err != nil {
			return err
		}
		*o = list
		return nil
	}
	return errors.New("must be a column name or a list of them")
}

// SettingSchema implements settings.Value.
func (*oneOrMany) SettingSchema() map[string]any {
	str := map[string]any{"type": "string", "minLength": 1}
	return map[string]any{"anyOf": []any{str, map[string]any{"type": "array", "items": str, "minItems": 1}}}
}

// metricName names a metric that evaluate computes.
type metricName string

// computable lists the metrics an evaluate stage can compute, confusion_matrix included.
var computable = append(metrics.Names(metrics.Classification), metrics.Names(metrics.Regression)...)

// DecodeSetting implements settings.Value.
func (m *metricName) DecodeSetting(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" || !slices.Contains(computable, n.Value) {
		return fmt.Errorf("%s is not one of %s%s", shown(n), strings.Join(computable, ", "), suggest.DidYouMean(n.Value, computable))
	}
	*m = metricName(n.Value)
	return nil
}

// SettingSchema implements settings.Value.
func (*metricName) SettingSchema() map[string]any { return map[string]any{"enum": computable} }

// assertion is a compiled `assert` condition.
type assertion struct {
	src  string
	prog *vm.Program
	path []string
}

func (evaluateKind) Prepare(st *manifest.Stage, m *manifest.Manifest) (pipeline.Job, error) {
	var s evaluateSettings
	if err := settings.Decode(st, m, &s); err != nil {
		return nil, err
	}
	split, err := frame.ParseSplit(s.Split)
	if err != nil {
		return nil, st.Errorf([]string{"split"}, "split: %v", err)
	}
	j := &evaluateJob{s: s, split: split, threshold: s.Threshold}
	// Assertions may use any metric name; whether the metric was computed is checked when
	// they run, since the defaults depend on the task.
	env := map[string]any{}
	for _, name := range metricNames {
		env[name] = 0.0
	}
	var errs manifest.ErrorList
	for i, src := range s.Assert {
		path := []string{"assert", strconv.Itoa(i)}
		p, err := expr.Compile(string(src), expr.Env(env), expr.AsBool())
		if err != nil {
			errs = append(errs, st.Errorf(path, "assert: %v (metrics: %s)", oneLine(err), strings.Join(metricNames, ", ")))
			continue
		}
		j.asserts = append(j.asserts, assertion{src: string(src), prog: p, path: path})
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return j, nil
}

type evaluateJob struct {
	artifactsOnly
	s         evaluateSettings
	split     frame.Split
	threshold float64
	asserts   []assertion
}

func (j *evaluateJob) Run(ctx context.Context, env *pipeline.Env) error {
	fr, err := readFrame(ctx, env, j.split)
	if err != nil {
		return err
	}
	net, err := loadNetwork(env, namesOf(trainKind{}, modelKind{})...)
	if err != nil {
		return err
	}
	data, err := frameData(fr, j.split)
	if err != nil {
		return err
	}
	if data.Rows == 0 {
		return fmt.Errorf("the %s split is empty: add a split step to the preprocess stage", j.s.Split)
	}
	if net.Inputs()*data.Rows != len(data.X) {
		return fmt.Errorf("the model takes %d inputs but the data has %d features", net.Inputs(), len(data.X)/data.Rows)
	}
	out := net.Predict(data.X, data.Rows)
	in := metrics.Input{Task: metrics.Classification, Classes: len(fr.ClassLabels), Labels: fr.Labels(j.split),
		Outputs: make([]float64, len(out)), Cols: net.Outputs()}
	for i, v := range out {
		in.Outputs[i] = float64(v)
	}
	names := make([]string, len(j.s.Metrics))
	for i, m := range j.s.Metrics {
		names[i] = string(m)
	}
	if fr.Task != frame.Classification {
		in.Task, in.Labels, in.Targets = metrics.Regression, nil, make([]float64, data.Rows)
		for i := range in.Targets {
			in.Targets[i] = float64(data.Y[i])
		}
		if len(names) == 0 {
			names = []string{"mse", "mae", "rmse", "r2"}
		}
	} else if len(names) == 0 {
		names = []string{"accuracy", "precision", "recall", "f1", metrics.ConfusionMatrixName}
	}
	res, err := metrics.Evaluate(in, metrics.Options{Metrics: names, Average: j.s.Average, Threshold: j.threshold})
	if err != nil {
		var ne *metrics.NameError
		if errors.As(err, &ne) {
			return env.Stage.Errorf([]string{"metrics", strconv.Itoa(ne.Index)}, "%v", err)
		}
		return err
	}
	values := map[string]any{}
	for _, m := range res.Values {
		env.ReportMetric(m.Name, m.Value)
		values[m.Name] = m.Value
	}
	if in.Task == metrics.Classification {
		env.ReportTable(classTable(res, fr.ClassLabels, j.s.Split))
		if contains(names, metrics.ConfusionMatrixName) {
			env.ReportTable(confusionTable(res.Confusion, fr.ClassLabels, j.s.Split))
		}
	}
	if len(j.s.Groups) > 0 {
		if in.Task != metrics.Classification {
			return env.Stage.Errorf([]string{"groups"}, "groups: fairness metrics need a classification task")
		}
		predicted := make([]int, data.Rows)
		for r := range predicted {
			predicted[r] = metrics.ClassOf(out[r*net.Outputs():(r+1)*net.Outputs()], j.threshold)
		}
		fair, err := groupMetrics(env, fr, j.split, in.Labels, predicted, []string(j.s.Groups))
		if err != nil {
			return err
		}
		for _, k := range []string{metrics.DemographicParityDifference, metrics.DemographicParityRatio, metrics.EqualizedOddsDifference} {
			env.ReportMetric(k, fair[k])
			values[k] = fair[k]
		}
	}
	if err := writeJSON(filepath.Join(env.Out, "metrics.json"), values); err != nil {
		return err
	}
	preds := &bundle.Predictions{Task: fr.Task, Classes: fr.ClassLabels, Out: out, Width: net.Outputs(), Threshold: j.threshold}
	if err := writePredictions(filepath.Join(env.Out, predictionsFile), fr, j.split, preds); err != nil {
		return err
	}
	if in.Task == metrics.Classification {
		if err := writeClassPlots(env, in.Labels, preds, j.s.Split); err != nil {
			return err
		}
	}
	return j.check(env, values)
}

// writeClassPlots draws roc.png (one curve, of the second class, for two classes; one per
// class against the rest for more) and confusion.png.
func writeClassPlots(env *pipeline.Env, labels []int, preds *bundle.Predictions, split string) error {
	k := len(preds.Classes)
	title := env.Stage.Name + ", " + split + " split"
	var curves []plot.Curve
	for c := range k {
		if k == 2 && c == 0 {
			continue
		}
		isPos, scores := make([]bool, len(labels)), make([]float64, len(labels))
		for r, l := range labels {
			isPos[r], scores[r] = l == c, float64(preds.Prob(r, c))
		}
		fpr, tpr := metrics.ROCCurve(isPos, scores)
		label := preds.Classes[c]
		if auc, err := metrics.BinaryROCAUC(isPos, scores); err == nil {
			label += fmt.Sprintf(" (AUC %.3f)", auc)
		}
		curves = append(curves, plot.Curve{Label: label, FPR: fpr, TPR: tpr})
	}
	err := writeFileWith(filepath.Join(env.Out, "roc.png"), func(w io.Writer) error { return plot.ROC(w, curves, title) })
	if err != nil {
		return err
	}
	predicted := make([]int, len(labels))
	for r := range predicted {
		predicted[r] = metrics.ClassOf(preds.Out[r*preds.Width:(r+1)*preds.Width], preds.Threshold)
	}
	cm, err := metrics.ConfusionMatrix(labels, predicted, k)
	if err != nil {
		return err
	}
	return writeFileWith(filepath.Join(env.Out, "confusion.png"), func(w io.Writer) error { return plot.Confusion(w, cm, preds.Classes, title) })
}

// predictionsFile is the artifact file of the rows' predictions, of evaluate and predict stages.
const predictionsFile = "predictions.csv"

// writePredictions writes the predictions of split's rows of fr: the row's index in the data
// file, its split, its true value, then the prediction columns.
func writePredictions(path string, fr *frame.Frame, split frame.Split, preds *bundle.Predictions) error {
	target := fr.TargetColumn()
	keep := bundle.Keep{Names: []string{"row", "split", "true"}, Values: make([][]string, 3)}
	for i, s := range fr.Splits {
		if s == split {
			keep.Values[0] = append(keep.Values[0], strconv.Itoa(fr.Source[i]))
			keep.Values[1] = append(keep.Values[1], s.String())
			keep.Values[2] = append(keep.Values[2], target.Text(i))
		}
	}
	return writeFileWith(path, func(w io.Writer) error { return preds.WriteCSV(w, keep) })
}

// check evaluates the assertions; a failure is recorded, not returned, so that the stage's
// metrics are kept, shown and cached, and loom exits with code 3.
func (j *evaluateJob) check(env *pipeline.Env, values map[string]any) error {
	var machine vm.VM
	for _, a := range j.asserts {
		names := identifiers(a.src)
		var missing, shown []string
		for _, n := range names {
			if v, ok := values[n]; ok {
				shown = append(shown, fmt.Sprintf("%s = %.4f", n, v))
			} else {
				missing = append(missing, n)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("assert %q uses %s, which this stage does not compute: add it to metrics",
				a.src, strings.Join(missing, ", "))
		}
		out, err := machine.Run(a.prog, values)
		if err != nil {
			return fmt.Errorf("assert %q: %v", a.src, err)
		}
		if ok, _ := out.(bool); !ok {
			env.AssertFailed(fmt.Sprintf("%s (%s)", a.src, strings.Join(shown, ", ")))
		}
	}
	return nil
}

// identifiers lists the distinct metric names an expression reads, in order.
func identifiers(src string) []string {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	var c identCollector
	ast.Walk(&tree.Node, &c)
	return c.names
}

type identCollector struct{ names []string }

func (c *identCollector) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok && contains(metricNames, id.Value) && !contains(c.names, id.Value) {
		c.names = append(c.names, id.Value)
	}
}

// metricNames are the names an assertion may use: every scalar metric of either task.
var metricNames = func() []string {
	names := []string{metrics.DemographicParityDifference, metrics.DemographicParityRatio, metrics.EqualizedOddsDifference}
	for _, n := range append(metrics.Names(metrics.Classification), metrics.Names(metrics.Regression)...) {
		if n != metrics.ConfusionMatrixName {
			names = append(names, n)
		}
	}
	return names
}()

// groupMetrics reports a table per group column and returns the fairness metrics, the worst
// over the columns.
func groupMetrics(env *pipeline.Env, fr *frame.Frame, split frame.Split, labels, predicted []int, columns []string) (map[string]float64, error) {
	worst := map[string]float64{metrics.DemographicParityDifference: 0, metrics.DemographicParityRatio: 1, metrics.EqualizedOddsDifference: 0}
	for i, col := range columns {
		groups, err := groupValues(fr, split, col)
		if err != nil {
			return nil, env.Stage.Errorf([]string{"groups", strconv.Itoa(i)}, "groups: %v", err)
		}
		table, m := metrics.Fairness(labels, predicted, groups, len(fr.ClassLabels))
		t := pipeline.Table{Title: "groups of " + col + ", " + split.String() + " split",
			Header: []string{col, "count", "selection_rate", "accuracy", "tpr", "fpr"}}
		for _, g := range table {
			t.Rows = append(t.Rows, []string{g.Group, strconv.Itoa(g.Count), f4(g.SelectionRate), f4(g.Accuracy), f4(g.TPR), f4(g.FPR)})
		}
		env.ReportTable(t)
		worst[metrics.DemographicParityDifference] = math.Max(worst[metrics.DemographicParityDifference], m[metrics.DemographicParityDifference])
		worst[metrics.DemographicParityRatio] = math.Min(worst[metrics.DemographicParityRatio], m[metrics.DemographicParityRatio])
		worst[metrics.EqualizedOddsDifference] = math.Max(worst[metrics.EqualizedOddsDifference], m[metrics.EqualizedOddsDifference])
	}
	return worst, nil
}

// groupValues returns the group of each row of split: the column's text, or for a column that
// was one-hot encoded the level whose indicator is 1.
func groupValues(fr *frame.Frame, split frame.Split, col string) ([]string, error) {
	var out []string
	c := fr.Column(col)
	var levels []*frame.Column
	if c == nil {
		for _, d := range fr.Columns {
			if strings.HasPrefix(d.Name, col+"=") && d.OneHot {
				levels = append(levels, d)
			}
		}
		if levels == nil {
			return nil, fmt.Errorf("the data has no column %q (nor its one-hot columns)", col)
		}
	}
	for i, s := range fr.Splits {
		if s != split {
			continue
		}
		if c != nil {
			out = append(out, c.Text(i))
			continue
		}
		g := ""
		for _, l := range levels {
			if l.Num[i] == 1 {
				g = strings.TrimPrefix(l.Name, col+"=")
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// classTable is the per-class report, as scikit-learn's classification_report.
func classTable(res metrics.Result, labels []string, split string) pipeline.Table {
	t := pipeline.Table{Title: "per class, " + split + " split", Header: []string{"class", "precision", "recall", "f1", "support"}}
	for _, r := range res.Report {
		t.Rows = append(t.Rows, []string{labels[r.Class], f4(r.Precision), f4(r.Recall), f4(r.F1), strconv.Itoa(r.Support)})
	}
	return t
}

// confusionTable has a row per true class and a column per predicted class.
func confusionTable(cm [][]int, labels []string, split string) pipeline.Table {
	t := pipeline.Table{Title: "confusion matrix, " + split + " split (rows: true, columns: predicted)", Header: append([]string{"true \\ predicted"}, labels...)}
	for i, row := range cm {
		r := []string{labels[i]}
		for _, n := range row {
			r = append(r, strconv.Itoa(n))
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

func f4(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
