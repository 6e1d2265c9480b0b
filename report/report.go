// Package report writes one self-contained HTML page about a manifest's runs: the last run's
// stages, metrics and tables, learning curves, ROC, precision-recall and confusion (or
// predicted-against-true and residuals), a sweep's history, parallel coordinates and param
// importance, and the experiments side by side. Every chart is inline SVG and the style is in
// the page: it opens offline and asks nothing of the network.
package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/loom-ml/loom/nn"
	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/steps/metrics"
)

// Write writes the report of the manifest at manifestPath: its last run, and the experiments
// named by ids (id prefixes; all of them, newest 20, when ids is empty).
func Write(w io.Writer, manifestPath string, ids []string) error {
	sum, err := pipeline.LastRun(manifestPath)
	if err != nil {
		return err
	}
	cache, err := pipeline.OpenCache(pipeline.LayoutOf(filepath.Dir(manifestPath)).Dir())
	if err != nil {
		return err
	}
	exps, err := pipeline.Experiments(manifestPath)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		var chosen []*pipeline.Experiment
		for _, id := range ids {
			e, err := pipeline.FindExperiment(exps, id)
			if err != nil {
				return err
			}
			chosen = append(chosen, e)
		}
		exps = chosen
	} else if len(exps) > 20 {
		exps = exps[:20]
	}
	m, err := manifest.Load(manifestPath, manifest.Options{})
	if err != nil {
		return err
	}
	p := &page{}
	p.header(manifestPath, sum, exps)
	p.stages(sum)
	// Every stage's last result, from this run or, for the stages a `loom run STAGE` left out,
	// an earlier one.
	actions := sum.StageActions()
	for _, name := range m.Order {
		e, err := cache.Get(actions[name])
		if actions[name] == "" || err != nil {
			continue // never run, or gone from the cache since
		}
		p.stage(cache, name, m.Stages[name].Uses, e, sum.Trials[name])
	}
	p.experiments(exps)
	_, err = io.WriteString(w, p.html())
	return err
}

// page accumulates the report's sections.
type page struct {
	title    string
	sections []string
	charts   int
}

func (p *page) add(h2, body string) {
	p.sections = append(p.sections, "<section><h2>"+esc(h2)+"</h2>"+body+"</section>")
}

func (p *page) chart(svg string) string {
	p.charts++
	return `<figure>` + svg + `</figure>`
}

func (p *page) header(path string, sum *pipeline.Summary, exps []*pipeline.Experiment) {
	p.title = "loom report: " + filepath.Base(path)
	var b strings.Builder
	fmt.Fprintf(&b, "<p>Last run %s", esc(sum.Time.Local().Format("2006-01-02 15:04:05")))
	if len(exps) > 0 && exps[0].Commit != "" {
		fmt.Fprintf(&b, ", commit <code>%s</code>", esc(exps[0].Commit[:min(12, len(exps[0].Commit))]))
		if exps[0].Dirty {
			b.WriteString(" with uncommitted changes")
		}
	}
	b.WriteString(".</p>")
	p.sections = append(p.sections, b.String())
}

func (p *page) stages(sum *pipeline.Summary) {
	var rows [][]string
	for _, st := range sum.Stages {
		rows = append(rows, []string{st.Name, st.Kind, string(st.Status), strconv.FormatFloat(st.Seconds, 'f', 2, 64), st.Error})
	}
	body := table([]string{"stage", "kind", "status", "seconds", "error"}, rows)
	var mrows [][]string
	for _, s := range slices.Sorted(maps.Keys(sum.Metrics)) {
		for _, m := range slices.Sorted(maps.Keys(sum.Metrics[s])) {
			mrows = append(mrows, []string{s, m, formatMetric(sum.Metrics[s][m])})
		}
	}
	if len(mrows) > 0 {
		body += "<h3>Metrics</h3>" + table([]string{"stage", "metric", "value"}, mrows)
	}
	p.add("Stages", body)
}

// stage adds what one stage's result shows.
func (p *page) stage(cache *pipeline.Cache, name, kind string, e *pipeline.Entry, trials []pipeline.Trial) {
	file := func(name string) []byte {
		for _, f := range e.Files {
			if f.Path == name {
				if b, err := cache.ReadFile(f); err == nil {
					return b
				}
			}
		}
		return nil
	}
	var body strings.Builder
	for _, t := range e.Tables {
		fmt.Fprintf(&body, "<h3>%s</h3>%s", esc(t.Title), table(t.Header, t.Rows))
	}
	if h := file("history.json"); h != nil {
		body.WriteString(p.learningCurves(name, h))
	}
	if pr := file("predictions.csv"); pr != nil {
		body.WriteString(p.predictionCharts(name, pr))
	}
	if imp := file("importance.csv"); imp != nil {
		body.WriteString(p.importance(name, imp))
	}
	if len(trials) > 0 {
		body.WriteString(p.sweep(name, e.Metrics, trials))
	}
	if body.Len() > 0 {
		p.add(name+" ("+kind+")", body.String())
	}
}

// learningCurves draws loss and val_loss per epoch, the best epoch marked, on a linear axis
// and a log one that a checkbox swaps in (CSS only).
func (p *page) learningCurves(stage string, raw []byte) string {
	var h nn.History
	if json.Unmarshal(raw, &h) != nil || len(h.Epochs) == 0 {
		return ""
	}
	var xs, loss, val []float64
	for _, e := range h.Epochs {
		xs = append(xs, float64(e.Epoch))
		loss, val = append(loss, e.Loss), append(val, e.ValLoss)
	}
	c := lineChart{title: "learning curve of " + stage, xLabel: "epoch", yLabel: "loss",
		series: []series{{name: "loss", xs: xs, ys: loss}, {name: "val_loss", xs: xs, ys: val, dashed: true}}}
	if h.BestEpoch > 0 {
		c.markX, c.markLabel = []float64{float64(h.BestEpoch)}, fmt.Sprintf("best epoch %d", h.BestEpoch)
	}
	linear := p.chart(c.svg())
	c.logY = true
	logScale := p.chart(c.svg())
	id := "log-" + stage
	return fmt.Sprintf(`<div class="toggle"><input type="checkbox" id="%s"><label for="%s">log-scale loss axis</label><div class="linear">%s</div><div class="log">%s</div></div>`,
		esc(id), esc(id), linear, logScale)
}

// predictionCharts draws ROC, precision-recall and the confusion matrix for classification,
// predicted against true and the residuals for regression, from predictions.csv.
func (p *page) predictionCharts(stage string, raw []byte) string {
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(recs) < 2 {
		return ""
	}
	header, rows := recs[0], recs[1:]
	col := func(name string) int { return slices.Index(header, name) }
	var classes []string
	for _, h := range header {
		if c, ok := strings.CutPrefix(h, "prob_"); ok {
			classes = append(classes, c)
		}
	}
	if len(classes) == 0 { // regression
		var truth, pred, resid []float64
		for _, r := range rows {
			t, _ := strconv.ParseFloat(r[col("true")], 64)
			v, _ := strconv.ParseFloat(r[col("prediction")], 64)
			truth, pred, resid = append(truth, t), append(pred, v), append(resid, t-v)
		}
		a := lineChart{title: "predicted against true, " + stage, xLabel: "true", yLabel: "predicted", diagonal: true,
			series: []series{{name: "rows", xs: truth, ys: pred, dots: true}}}
		r := lineChart{title: "residuals, " + stage, xLabel: "predicted", yLabel: "true − predicted",
			series: []series{{name: "rows", xs: pred, ys: resid, dots: true}}}
		return p.chart(a.svg()) + p.chart(r.svg())
	}
	truth := make([]int, len(rows))
	probs := make([][]float64, len(classes))
	for i, r := range rows {
		truth[i] = slices.Index(classes, r[col("true")])
		for k, c := range classes {
			probs[k] = append(probs[k], parse(r[col("prob_"+c)]))
		}
	}
	roc := lineChart{title: "ROC, " + stage, xLabel: "false positive rate", yLabel: "true positive rate", unitSquare: true, diagonal: true}
	pr := lineChart{title: "precision-recall, " + stage, xLabel: "recall", yLabel: "precision", unitSquare: true}
	for k, c := range classes {
		if len(classes) == 2 && k == 0 {
			continue // two classes: one curve, of the second
		}
		isPos := make([]bool, len(truth))
		for i, t := range truth {
			isPos[i] = t == k
		}
		fpr, tpr := metrics.ROCCurve(isPos, probs[k])
		name := c
		if auc, err := metrics.BinaryROCAUC(isPos, probs[k]); err == nil {
			name += fmt.Sprintf(" (AUC %.3f)", auc)
		}
		roc.series = append(roc.series, series{name: name, xs: fpr, ys: tpr})
		rec, prec := metrics.PRCurve(isPos, probs[k])
		pr.series = append(pr.series, series{name: c, xs: rec, ys: prec})
	}
	cm := make([][]int, len(classes))
	for i := range cm {
		cm[i] = make([]int, len(classes))
	}
	for i, r := range rows {
		if p := slices.Index(classes, r[col("prediction")]); p >= 0 && truth[i] >= 0 {
			cm[truth[i]][p]++
		}
	}
	return p.chart(roc.svg()) + p.chart(pr.svg()) + p.chart(heatmap("confusion matrix, "+stage, "true", "predicted", classes, cm))
}

// importance draws an explain stage's importance.csv as bars, most important first.
func (p *page) importance(stage string, raw []byte) string {
	recs, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil || len(recs) < 2 {
		return ""
	}
	var names []string
	var values []float64
	top := 0.0
	for _, r := range recs[1:] {
		v := parse(r[1])
		names, values = append(names, r[0]), append(values, v)
		top = math.Max(top, math.Abs(v))
	}
	if top > 0 {
		for i := range values {
			values[i] /= top // the longest bar is the most important feature
		}
	}
	return p.chart(bars("permutation importance, "+stage, "importance relative to the most important feature", names, values))
}

// sweep draws a tune stage's trials (which its own table lists): the objective per trial with
// the best so far, parallel coordinates over the params, and each param's importance.
func (p *page) sweep(stage string, stageMetrics map[string]float64, trials []pipeline.Trial) string {
	objective := ""
	for m := range stageMetrics {
		if o, ok := strings.CutPrefix(m, "best_"); ok {
			objective = o
		}
	}
	params := map[string]bool{}
	for _, t := range trials {
		for k := range t.Params {
			params[k] = true
		}
	}
	names := slices.Sorted(maps.Keys(params))
	higher := metrics.Direction(objective) >= 0
	var xs, ys, best []float64
	var rows [][]float64
	for _, t := range trials { // the stage's own table lists them
		v, ok := t.Metrics[objective]
		if !ok || !finite(v) {
			continue
		}
		xs, ys = append(xs, float64(t.Number)), append(ys, v)
		b := v
		if len(best) > 0 && (best[len(best)-1] > v) == higher {
			b = best[len(best)-1]
		}
		best = append(best, b)
		r := make([]float64, len(names))
		for j, n := range names {
			r[j] = paramValue(t.Params[n], names[j], trials)
		}
		rows = append(rows, r)
	}
	var b strings.Builder
	hist := lineChart{title: "optimisation history, " + stage, xLabel: "trial", yLabel: objective,
		series: []series{{name: objective, xs: xs, ys: ys, dots: true}, {name: "best so far", xs: xs, ys: best}}}
	b.WriteString(p.chart(hist.svg()))
	if len(rows) > 1 && len(names) > 0 {
		b.WriteString(p.chart(parallel("parallel coordinates, "+stage, append(slices.Clone(names), objective), appendObjective(rows, ys), ys, higher)))
		imp := importance(rows, ys)
		b.WriteString(p.chart(bars("param importance, "+stage, "share of the objective's variance explained", names, imp)))
		b.WriteString(`<p class="note">A param's importance is the correlation ratio η² of the objective over the param's values
(grouped into at most five quantile bins): the share of the objective's variance between the bins.</p>`)
	}
	return b.String()
}

func appendObjective(rows [][]float64, ys []float64) [][]float64 {
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = append(slices.Clone(r), ys[i])
	}
	return out
}

// paramValue places a param value on an axis: a number as itself, anything else by its rank
// among the values the trials took.
func paramValue(v any, name string, trials []pipeline.Trial) float64 {
	if f, ok := v.(float64); ok {
		return f
	}
	seen := map[string]bool{}
	for _, t := range trials {
		seen[formatAny(t.Params[name])] = true
	}
	return float64(slices.Index(slices.Sorted(maps.Keys(seen)), formatAny(v)))
}

// importance returns, for each param (column of rows), the correlation ratio η² of ys over
// the param's values binned into at most five quantile bins.
func importance(rows [][]float64, ys []float64) []float64 {
	mean := 0.0
	for _, y := range ys {
		mean += y
	}
	mean /= float64(len(ys))
	total := 0.0
	for _, y := range ys {
		total += (y - mean) * (y - mean)
	}
	out := make([]float64, len(rows[0]))
	if total == 0 {
		return out
	}
	for j := range out {
		idx := make([]int, len(rows))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return rows[idx[a]][j] < rows[idx[b]][j] })
		bins := min(5, len(idx))
		between := 0.0
		for k := range bins {
			part := idx[k*len(idx)/bins : (k+1)*len(idx)/bins]
			m := 0.0
			for _, i := range part {
				m += ys[i]
			}
			m /= float64(len(part))
			between += float64(len(part)) * (m - mean) * (m - mean)
		}
		out[j] = between / total
	}
	return out
}

// experiments adds the experiments' params and metrics side by side and each metric over time.
func (p *page) experiments(exps []*pipeline.Experiment) {
	if len(exps) == 0 {
		return
	}
	ordered := slices.Clone(exps)
	slices.Reverse(ordered) // oldest first, for the charts
	params := map[string]bool{}
	cols := map[string]bool{}
	for _, e := range exps {
		for k := range e.Params {
			params[k] = true
		}
		for s, ms := range e.Metrics {
			for m := range ms {
				cols[s+"."+m] = true
			}
		}
	}
	var differing []string
	for _, k := range slices.Sorted(maps.Keys(params)) {
		for _, e := range exps[1:] {
			if formatAny(e.Params[k]) != formatAny(exps[0].Params[k]) {
				differing = append(differing, k)
				break
			}
		}
	}
	metricNames := slices.Sorted(maps.Keys(cols))
	header := append(append([]string{"experiment", "time"}, differing...), metricNames...)
	var rows [][]string
	for _, e := range exps {
		r := []string{e.ID, e.Time.Local().Format("01-02 15:04:05")}
		for _, k := range differing {
			r = append(r, formatAny(e.Params[k]))
		}
		for _, c := range metricNames {
			s, m, _ := strings.Cut(c, ".")
			if v, ok := e.Metrics[s][m]; ok {
				r = append(r, formatMetric(v))
			} else {
				r = append(r, "-")
			}
		}
		rows = append(rows, r)
	}
	body := table(header, rows)
	if len(ordered) > 1 {
		for _, c := range metricNames {
			s, m, _ := strings.Cut(c, ".")
			if metrics.Direction(m) == 0 {
				continue
			}
			var xs, ys []float64
			for i, e := range ordered {
				if v, ok := e.Metrics[s][m]; ok {
					xs, ys = append(xs, float64(i+1)), append(ys, v)
				}
			}
			ch := lineChart{title: c + " over the experiments", xLabel: "experiment, oldest first", yLabel: m,
				series: []series{{name: c, xs: xs, ys: ys}, {name: "", xs: xs, ys: ys, dots: true}}}
			body += p.chart(ch.svg())
		}
	}
	p.add("Experiments", body)
}

func (p *page) html() string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`)
	fmt.Fprintf(&b, "<title>%s</title><style>%s</style></head><body><h1>%s</h1>", esc(p.title), css, esc(p.title))
	for _, s := range p.sections {
		b.WriteString(s)
	}
	b.WriteString(`<footer>Written by loom. Every chart is inline SVG; the page needs no network.</footer></body></html>`)
	return b.String()
}

const css = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;color:#222}
h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:32px}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0 16px;font-variant-numeric:tabular-nums}th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}figure{display:inline-block;margin:8px 12px 8px 0}
svg{max-width:100%;height:auto;background:#fff}.title{font-size:14px;font-weight:600}.tick{font-size:11px;fill:#444}
.label{font-size:12px;fill:#222}.legend{font-size:11px}.grid{stroke:#eee}.frame{fill:none;stroke:#999}.axis{stroke:#999}
.chance{stroke:#bbb;stroke-dasharray:4 4}.mark{stroke:#D55E00;stroke-dasharray:3 3}.cell{font-size:12px}.note{color:#555;font-size:12px}
.toggle .log{display:none}.toggle input:checked~.log{display:block}.toggle input:checked~.linear{display:none}
footer{margin-top:40px;color:#777;font-size:12px}@media print{.toggle input,.toggle label{display:none}figure{break-inside:avoid}}`

func table(header []string, rows [][]string) string {
	var b strings.Builder
	b.WriteString("<table><thead><tr>")
	for _, h := range header {
		b.WriteString("<th>" + esc(h) + "</th>")
	}
	b.WriteString("</tr></thead><tbody>")
	for _, r := range rows {
		b.WriteString("<tr>")
		for _, c := range r {
			b.WriteString("<td>" + esc(c) + "</td>")
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return b.String()
}

var formatMetric = pipeline.FormatMetric

func formatAny(v any) string {
	if v == nil {
		return "-"
	}
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

func parse(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}
