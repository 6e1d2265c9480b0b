package steps

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/pipeline/settings"
	"github.com/loom-ml/loom/steps/frame"
	"github.com/loom-ml/loom/steps/metrics"
	"github.com/loom-ml/loom/steps/plot"
)

// explainKind measures how much a trained model relies on each feature.
type explainKind struct{}

func (explainKind) Version() string {
	return "1+nn" + nn.Version + "+frame" + frame.Version + "+metrics" + metrics.Version + "+plot" + plot.Version
}

// explainSettings explain a trained model on one split: permutation importance of each feature,
// as scikit-learn's permutation_importance computes it, or each row's Shapley values (Kernel
// SHAP).
type explainSettings struct {
	readsData
	readsModel
	// The split the model is scored on.
	Split string `yaml:"split" default:"test" check:"oneof=train val test"`
	// permutation: the metric on the split minus the metric with one column shuffled;
	// kernel_shap: each row's Shapley values.
	Method string `yaml:"method" default:"permutation" check:"oneof=permutation kernel_shap"`
	// The score: default accuracy for classification, r2 for regression. For a metric where
	// lower is better (mse, log_loss…) the importance is how much it rises.
	Metric metricName `yaml:"metric"`
	// Shuffles per column; the importance is their mean, with their standard deviation.
	Repeats int `yaml:"repeats" default:"5" check:"gte=1"`
	// kernel_shap: train rows whose values stand in for the features outside a coalition.
	Background int `yaml:"background" default:"50" check:"gte=1"`
	// kernel_shap: coalitions drawn per row when the features are more than 12 (with fewer,
	// every coalition is used and the values are exact).
	Samples int `yaml:"samples" default:"2048" check:"gte=1"`
	// kernel_shap: rows of the split explained, the first ones.
	Rows int  `yaml:"rows" default:"100" check:"gte=1"`
	Seed seed `yaml:"seed"`
}

func (explainKind) Prepare(st *manifest.Stage, m *manifest.Manifest) (pipeline.Job, error) {
	var s explainSettings
	if err := settings.Decode(st, m, &s); err != nil {
		return nil, err
	}
	split, err := frame.ParseSplit(s.Split)
	if err != nil {
		return nil, st.Errorf([]string{"split"}, "split: %v", err)
	}
	return &explainJob{s: s, split: split}, nil
}

type explainJob struct {
	artifactsOnly
	s     explainSettings
	split frame.Split
}

// importanceFile is the artifact of an explain stage.
const importanceFile = "importance.csv"

func (j *explainJob) Run(ctx context.Context, env *pipeline.Env) error {
	fr, err := readFrame(ctx, env, j.split, frame.Train) // the background rows are train rows
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
		return fmt.Errorf("the %s split is empty", j.s.Split)
	}
	if j.s.Method == "kernel_shap" {
		return j.runSHAP(ctx, env, fr, net, data)
	}
	metric := string(j.s.Metric)
	if metric == "" {
		metric = map[bool]string{true: "accuracy", false: "r2"}[fr.Task == frame.Classification]
	}
	score := scorer(fr, j.split, net, data, metric)
	if _, err := score(data.X); err != nil {
		return err
	}
	imp, err := permutationImportance(ctx, data.X, data.Rows, featureGroups(fr.FeatureNames()), j.s.Repeats, uint64(j.s.Seed), score)
	if err != nil {
		return err
	}
	t := pipeline.Table{Title: fmt.Sprintf("permutation importance (%s, %s split, %d repeats)", metric, j.s.Split, j.s.Repeats),
		Header: []string{"feature", "importance_mean", "importance_std"}}
	for _, f := range imp {
		t.Rows = append(t.Rows, []string{f.name, strconv.FormatFloat(f.mean, 'g', 6, 64), strconv.FormatFloat(f.std, 'g', 6, 64)})
	}
	env.ReportTable(t)
	if len(imp) > 0 {
		env.ReportMetric("top_importance", imp[0].mean)
	}
	err = writeFileWith(filepath.Join(env.Out, importanceFile), func(w io.Writer) error {
		fmt.Fprintln(w, "feature,importance_mean,importance_std")
		for _, f := range imp {
			fmt.Fprintf(w, "%s,%s,%s\n", csvField(f.name), strconv.FormatFloat(f.mean, 'g', -1, 64), strconv.FormatFloat(f.std, 'g', -1, 64))
		}
		return nil
	})
	if err != nil {
		return err
	}
	names, values := make([]string, len(imp)), make([]float64, len(imp))
	for i, f := range imp {
		names[i], values[i] = f.name, f.mean
	}
	return writeFileWith(filepath.Join(env.Out, "importance.png"), func(w io.Writer) error {
		return plot.Bars(w, names, values, "permutation importance ("+metric+")")
	})
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n") {
		return strconv.Quote(s)
	}
	return s
}

// featureGroup is a feature as the data has it: its columns in the model's input (one for a
// number, one per level for an encoded category).
type featureGroup struct {
	name string
	cols []int
}

// featureGroups groups the model's input columns by feature: "colour=red" and "colour=blue"
// are one feature, shuffled together.
func featureGroups(names []string) []featureGroup {
	var out []featureGroup
	index := map[string]int{}
	for i, n := range names {
		base := n
		if b, _, ok := strings.Cut(n, "="); ok {
			base = b
		}
		g, ok := index[base]
		if !ok {
			g = len(out)
			index[base] = g
			out = append(out, featureGroup{name: base})
		}
		out[g].cols = append(out[g].cols, i)
	}
	return out
}

// scorer returns the metric of the model on the split's rows for an input matrix, signed so
// that higher is better.
func scorer(fr *frame.Frame, split frame.Split, net *nn.Network, data nn.Data, metric string) func([]float32) (float64, error) {
	sign := 1.0
	if metrics.Direction(metric) < 0 {
		sign = -1
	}
	in := metrics.Input{Task: metrics.Classification, Classes: len(fr.ClassLabels), Labels: fr.Labels(split), Cols: net.Outputs()}
	if fr.Task != frame.Classification {
		in.Task, in.Labels, in.Targets = metrics.Regression, nil, make([]float64, data.Rows)
		for i := range in.Targets {
			in.Targets[i] = float64(data.Y[i])
		}
	}
	out := make([]float32, data.Rows*net.Outputs())
	in.Outputs = make([]float64, len(out))
	return func(x []float32) (float64, error) {
		net.PredictInto(out, x, data.Rows)
		for i, v := range out {
			in.Outputs[i] = float64(v)
		}
		res, err := metrics.Evaluate(in, metrics.Options{Metrics: []string{metric}, Threshold: metrics.DefaultThreshold})
		if err != nil {
			return 0, err
		}
		return sign * res.Values[0].Value, nil
	}
}

// importance is one feature's permutation importance.
type importance struct {
	name      string
	mean, std float64
}

// permutationImportance is scikit-learn's permutation_importance: for each feature, repeats
// times, the rows of its columns are permuted (one permutation for all its columns) and the
// score's drop recorded; the result is the mean and the standard deviation (ddof 0) of the
// drops, most important first. The permutations come from a PCG seeded with seed, feature by
// feature, so the same seed gives the same values.
func permutationImportance(ctx context.Context, x []float32, rows int, groups []featureGroup, repeats int, seed uint64, score func([]float32) (float64, error)) ([]importance, error) {
	base, err := score(x)
	if err != nil {
		return nil, err
	}
	width := len(x) / rows
	work := make([]float32, len(x))
	rng := rand.New(rand.NewPCG(seed, 0x6c6f6f6d))
	var out []importance
	for _, g := range groups {
		drops := make([]float64, repeats)
		for r := range repeats {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			copy(work, x)
			perm := rng.Perm(rows)
			for i, p := range perm {
				for _, c := range g.cols {
					work[i*width+c] = x[p*width+c]
				}
			}
			s, err := score(work)
			if err != nil {
				return nil, err
			}
			drops[r] = base - s
		}
		mean := 0.0
		for _, d := range drops {
			mean += d
		}
		mean /= float64(repeats)
		variance := 0.0
		for _, d := range drops {
			variance += (d - mean) * (d - mean)
		}
		out = append(out, importance{name: g.name, mean: mean, std: math.Sqrt(variance / float64(repeats))})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].mean > out[b].mean })
	return out, nil
}
