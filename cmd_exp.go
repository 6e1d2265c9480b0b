package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/report"
	"github.com/loom-ml/loom/steps/metrics"
)

// The experiment commands: every `loom run` is recorded (pipeline.Experiment); these list and
// compare the records.

func cmdExp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "show" && args[0] != "diff" && !strings.HasPrefix(args[0], "-")) {
		return usagef("usage: %s\n       %s", lookupCommand("exp").lines[0].syntax, lookupCommand("exp").lines[1].syntax)
	}
	if args[0] == "diff" {
		return cmdExpDiff(args[1:], stdout)
	}
	if args[0] == "show" {
		args = args[1:]
	}
	return cmdExpShow(args, stdout)
}

func cmdExpShow(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("exp", flag.ContinueOnError)
	var mf manifestFlags
	mf.register(fs, false)
	asJSON := fs.Bool("json", false, "print JSON")
	md := fs.Bool("md", false, "print a markdown table")
	sortBy := fs.String("sort", "", "order by this metric (STAGE.METRIC or METRIC), best first")
	n := fs.Int("n", 20, "show the newest N experiments (0: all)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	exps, err := pipeline.Experiments(mf.file)
	if err != nil {
		return err
	}
	if *n > 0 && len(exps) > *n {
		exps = exps[:*n]
	}
	if *sortBy != "" {
		if err := sortExperiments(exps, *sortBy); err != nil {
			return err
		}
	}
	if *asJSON {
		type shown struct {
			ID      string                        `json:"id"`
			Time    string                        `json:"time"`
			Commit  string                        `json:"commit,omitempty"`
			Dirty   bool                          `json:"dirty,omitempty"`
			Params  map[string]any                `json:"params"`
			Metrics map[string]map[string]float64 `json:"metrics"`
		}
		out := struct {
			Experiments []shown `json:"experiments"`
		}{[]shown{}}
		for _, e := range exps {
			out.Experiments = append(out.Experiments, shown{e.ID, e.Time.Format("2006-01-02T15:04:05Z07:00"), e.Commit, e.Dirty, e.Params, e.Metrics})
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(exps) == 0 {
		fmt.Fprintf(stdout, "no experiments of %s yet: each `loom run` records one\n", mf.file)
		return nil
	}
	params := differingParams(exps)
	cols := metricColumns(exps)
	header := []string{"id", "time"}
	header = append(header, params...)
	for _, c := range cols {
		header = append(header, c.stage+"."+c.metric)
	}
	var rows [][]string
	for _, e := range exps {
		id := e.ID
		if e.Dirty {
			id += "*" // uncommitted changes
		}
		row := []string{id, e.Time.Local().Format("01-02 15:04:05")}
		for _, p := range params {
			row = append(row, formatParam(e.Params[p]))
		}
		for _, c := range cols {
			if v, ok := e.Metrics[c.stage][c.metric]; ok {
				row = append(row, formatMetric(v))
			} else {
				row = append(row, "-")
			}
		}
		rows = append(rows, row)
	}
	return printTable(stdout, *md, header, rows)
}

// differingParams lists the params whose values differ between the experiments, sorted.
func differingParams(exps []*pipeline.Experiment) []string {
	all := map[string]bool{}
	for _, e := range exps {
		for p := range e.Params {
			all[p] = true
		}
	}
	var out []string
	for _, p := range slices.Sorted(maps.Keys(all)) {
		first := formatParam(exps[0].Params[p])
		for _, e := range exps[1:] {
			if formatParam(e.Params[p]) != first {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

type metricColumn struct{ stage, metric string }

// metricColumns lists every stage.metric the experiments report, in stage then metric order.
func metricColumns(exps []*pipeline.Experiment) []metricColumn {
	seen := map[metricColumn]bool{}
	for _, e := range exps {
		for s, ms := range e.Metrics {
			for m := range ms {
				seen[metricColumn{s, m}] = true
			}
		}
	}
	cols := slices.Collect(maps.Keys(seen))
	slices.SortFunc(cols, func(a, b metricColumn) int {
		return strings.Compare(a.stage+"\x00"+a.metric, b.stage+"\x00"+b.metric)
	})
	return cols
}

func formatParam(v any) string {
	if v == nil {
		return "-"
	}
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

// sortExperiments orders experiments by a metric, best first; those without it go last.
func sortExperiments(exps []*pipeline.Experiment, name string) error {
	stage, metric, ok := strings.Cut(name, ".")
	if !ok {
		stage, metric = "", name
	}
	value := func(e *pipeline.Experiment) (float64, bool) {
		if stage != "" {
			v, ok := e.Metrics[stage][metric]
			return v, ok
		}
		for _, s := range slices.Sorted(maps.Keys(e.Metrics)) {
			if v, ok := e.Metrics[s][metric]; ok {
				return v, true
			}
		}
		return 0, false
	}
	found := false
	for _, e := range exps {
		_, ok := value(e)
		found = found || ok
	}
	if !found {
		return usagef("--sort %s: no experiment has that metric", name)
	}
	dir := metrics.Direction(metric)
	if dir == 0 {
		dir = 1
	}
	slices.SortStableFunc(exps, func(a, b *pipeline.Experiment) int {
		va, oka := value(a)
		vb, okb := value(b)
		switch {
		case oka != okb:
			if oka {
				return -1
			}
			return 1
		case !oka || va == vb:
			return 0
		case (va > vb) == (dir > 0):
			return -1
		}
		return 1
	})
	return nil
}

func cmdExpDiff(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("exp", flag.ContinueOnError)
	var mf manifestFlags
	mf.register(fs, false)
	asJSON := fs.Bool("json", false, "print JSON")
	md := fs.Bool("md", false, "print a markdown table")
	ids, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(ids) > 2 {
		return usagef("exp diff takes at most two experiments, not %d", len(ids))
	}
	exps, err := pipeline.Experiments(mf.file)
	if err != nil {
		return err
	}
	// By default a is the run before the last and b the last; one id is compared with the last.
	find := func(id string) (*pipeline.Experiment, error) {
		e, err := pipeline.FindExperiment(exps, id)
		if err != nil {
			return nil, usagef("%v", err)
		}
		return e, nil
	}
	var a, b *pipeline.Experiment
	switch len(ids) {
	case 0:
		if len(exps) < 2 {
			return usagef("%s has %d experiment(s); exp diff needs two", mf.file, len(exps))
		}
		a, b = exps[1], exps[0]
	case 1:
		if a, err = find(ids[0]); err != nil {
			return err
		}
		b = exps[0]
	default:
		if a, err = find(ids[0]); err != nil {
			return err
		}
		if b, err = find(ids[1]); err != nil {
			return err
		}
	}
	type paramDiff struct {
		Param string `json:"param"`
		A     any    `json:"a"`
		B     any    `json:"b"`
	}
	var pd []paramDiff
	keys := map[string]bool{}
	for k := range a.Params {
		keys[k] = true
	}
	for k := range b.Params {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if formatParam(a.Params[k]) != formatParam(b.Params[k]) {
			pd = append(pd, paramDiff{k, a.Params[k], b.Params[k]})
		}
	}
	md2 := diffMetrics(a.Metrics, b.Metrics)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"a": a.ID, "b": b.ID, "params": pd, "metrics": md2})
	}
	fmt.Fprintf(stdout, "a = %s (%s), b = %s (%s)\n\n", a.ID, a.Time.Local().Format("01-02 15:04:05"), b.ID, b.Time.Local().Format("01-02 15:04:05"))
	if len(pd) > 0 {
		var rows [][]string
		for _, d := range pd {
			rows = append(rows, []string{d.Param, formatParam(d.A), formatParam(d.B)})
		}
		if err := printTable(stdout, *md, []string{"param", "a", "b"}, rows); err != nil {
			return err
		}
		fmt.Fprintln(stdout)
	} else {
		fmt.Fprintln(stdout, "the params are the same")
	}
	return printMetricDiffs(stdout, *md, md2, "a", "b")
}

func cmdReport(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	var mf manifestFlags
	mf.register(fs, false)
	out := fs.String("o", "report.html", "the HTML file to write")
	var exps stringList
	fs.Var(&exps, "exp", "an experiment to include (an id or a unique prefix); repeatable (default: the newest 20)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	err := writeAtomically(*out, func(w io.Writer) error { return report.Write(w, mf.file, exps) })
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", *out)
	return nil
}
