package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/pipeline/settings"
	"github.com/loom-ml/loom/steps/metrics"
	"github.com/loom-ml/loom/steps/search"
)

// Artifact files of a tune stage.
const (
	trialsFile = "trials.json"
	bestFile   = "best.yaml"
)

// Defaults of the tune stage.
const (
	defaultTrials = 20
)

// tuneKind searches params for the best value of a metric of a target stage. Each trial runs
// the target's part of the DAG with the trial's params through the shared cache, so stages a
// trial does not change run once per sweep.
type tuneKind struct{}

// Version changes whenever the search's decisions can change (package search included).
func (tuneKind) Version() string { return "3+search" + search.Version }

// tuneSettings search params for the best value of a metric, each trial running the target's
// part of the DAG with the trial's params through the cache, and output a table of trials and
// the best params as YAML.
type tuneSettings struct {
	// The stage whose metric is the objective.
	Target    string            `yaml:"target" check:"required,stage"`
	Objective objectiveSettings `yaml:"objective" check:"required"`
	// The search: grid (every combination of choice values), random, or tpe (tree-structured
	// Parzen estimator).
	Method string `yaml:"method" default:"random" check:"oneof=grid random tpe"`
	// Number of trials (random, tpe; default 20).
	Trials int  `yaml:"trials" check:"gte=1"`
	Seed   seed `yaml:"seed"`
	// Trials in flight at once: it shapes the sweep's decisions, so it is a setting, never
	// the machine's CPU count, and a manifest gives the same sweep on every machine.
	Parallel int `yaml:"parallel" default:"2" check:"gte=1"`
	// The search space: a map from a param path (params.a.b) to its distribution.
	Space map[string]distribution `yaml:"space" check:"required,nonempty,param"`
	// Stops unpromising trials early.
	Scheduler *schedulerSettings `yaml:"scheduler"`
	// With a shared storage (loom run --storage): seconds between a running trial's
	// heartbeats; a trial silent for twice as long goes back to the queue.
	Heartbeat int `yaml:"heartbeat" default:"30" check:"gte=1"`
	// With a shared storage: how many times a trial whose process died is queued again.
	Retries int `yaml:"retries" default:"2" check:"gte=0"`
}

// objectiveSettings name the metric to optimize.
type objectiveSettings struct {
	// A metric of the target stage.
	Metric string `yaml:"metric" check:"required,nonempty"`
	// maximize or minimize; default maximize for metrics where higher is better (accuracy,
	// f1, r2, ...), else minimize.
	Goal string `yaml:"goal" check:"oneof=maximize minimize"`
}

// distribution says how a param is drawn: exactly one key.
type distribution struct {
	settings.OneKey
	// One of these values.
	Choice []any `yaml:"choice" check:"nonempty"`
	// A number uniform in [lo, hi].
	Uniform []float64 `yaml:"uniform" check:"len=2"`
	// A number whose logarithm is uniform in [lo, hi]; lo > 0.
	LogUniform []float64 `yaml:"log_uniform" check:"len=2,gt=0"`
	// An integer uniform in [lo, hi].
	Int []int `yaml:"int" check:"len=2"`
}

// dim is the search dimension of param path.
func (d *distribution) dim(path string) search.Dim {
	switch {
	case d.Choice != nil:
		return search.Dim{Path: path, Dist: search.Choice, Choices: d.Choice}
	case d.Uniform != nil:
		return search.Dim{Path: path, Dist: search.Uniform, Lo: d.Uniform[0], Hi: d.Uniform[1]}
	case d.LogUniform != nil:
		return search.Dim{Path: path, Dist: search.LogUniform, Lo: d.LogUniform[0], Hi: d.LogUniform[1]}
	}
	return search.Dim{Path: path, Dist: search.Int, Lo: float64(d.Int[0]), Hi: float64(d.Int[1])}
}

// schedulerSettings stop unpromising trials early.
type schedulerSettings struct {
	settings.OneKey
	// Asynchronous successive halving: trials get min, min*eta, ... up to max of the
	// resource; the top 1/eta go on.
	ASHA *ashaSettings `yaml:"asha"`
}

// ashaSettings configure asynchronous successive halving.
type ashaSettings struct {
	// The param path that sets a trial's budget, e.g. params.train.epochs.
	Resource string `yaml:"resource" check:"required,param"`
	// The smallest budget.
	Min int `yaml:"min" default:"1" check:"gte=1"`
	// The largest budget (default the resource param's value).
	Max int `yaml:"max" check:"gte=1"`
	// The reduction factor.
	Eta float64 `yaml:"eta" default:"3" check:"gt=1"`
}

func (tuneKind) Prepare(st *manifest.Stage, m *manifest.Manifest) (pipeline.Job, error) {
	var s tuneSettings
	if err := settings.Decode(st, m, &s); err != nil {
		return nil, err
	}
	j := &tuneJob{s: s, method: s.Method}
	switch s.Objective.Goal {
	case "maximize":
		j.maximize = true
	case "":
		j.maximize = metrics.Direction(s.Objective.Metric) > 0
	}
	covers, err := m.Closure(s.Target)
	if err != nil {
		return nil, st.Errorf([]string{"target"}, "target: %v", err)
	}
	if contains(covers, st.Name) {
		return nil, st.Errorf([]string{"target"}, "target: %s needs this tune stage, so a trial would run the sweep again", s.Target)
	}
	j.covers = covers
	j.resumable = true
	for _, n := range covers {
		if train, ok := trainSettingsOf(m, n); ok {
			j.trainStages = append(j.trainStages, n)
			j.resumable = j.resumable && train.resumable()
		}
	}
	if j.space, err = parseSpace(st, s.Space); err != nil {
		return nil, err
	}
	if j.method == "grid" {
		if j.grid, err = j.space.Grid(); err != nil {
			return nil, st.Errorf([]string{"space"}, "space: %v", err)
		}
	}
	if s.Scheduler != nil {
		if j.asha, err = prepareASHA(st, m, s.Scheduler.ASHA, j.space); err != nil {
			return nil, err
		}
	}
	return j, nil
}

// parseSpace turns the space setting into search dimensions.
func parseSpace(st *manifest.Stage, space map[string]distribution) (search.Space, error) {
	var dims []search.Dim
	for _, path := range slices.Sorted(maps.Keys(space)) {
		d := space[path]
		dim := d.dim(path)
		if err := dim.Check(); err != nil {
			key, _ := settings.Chosen(&d)
			return nil, st.Errorf([]string{"space", path, key}, "space: %s: %v", path, err)
		}
		dims = append(dims, dim)
	}
	space2, err := search.NewSpace(dims)
	if err != nil {
		return nil, st.Errorf([]string{"space"}, "space: %v", err)
	}
	return space2, nil
}

// prepareASHA checks the scheduler and takes max, when absent, from the resource param's value
// in the manifest.
func prepareASHA(st *manifest.Stage, m *manifest.Manifest, a *ashaSettings, space search.Space) (*search.ASHA, error) {
	at := []string{"scheduler", "asha"}
	for _, d := range space {
		if trimParams(d.Path) == trimParams(a.Resource) {
			return nil, st.Errorf(append(at, "resource"), "scheduler: the resource %s is also in the space; ASHA sets it", a.Resource)
		}
	}
	if a.Max == 0 {
		v, ok := paramValue(m.Params, a.Resource).(int)
		if !ok {
			return nil, st.Errorf(at, "scheduler: asha needs max, since %s is not an integer param", a.Resource)
		}
		a.Max = v
	}
	s, err := search.NewASHA(a.Min, a.Max, a.Eta)
	if err != nil {
		return nil, st.Errorf(at, "scheduler: %v", err)
	}
	return s, nil
}

func trimParams(path string) string { return strings.TrimPrefix(path, "params.") }

// paramValue returns the value at a dotted path of params (maps only), or nil.
func paramValue(params map[string]any, path string) any {
	var cur any = params
	for _, k := range strings.Split(trimParams(path), ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

type tuneJob struct {
	artifactsOnly
	s           tuneSettings
	method      string
	maximize    bool
	space       search.Space
	grid        [][]float64
	asha        *search.ASHA // the scheduler's settings, without results; nil without one
	covers      []string
	trainStages []string
	resumable   bool // the train stages continue shorter runs' checkpoints (see trainJob.fit)
}

// Covers implements pipeline.PartsJob: the tune stage's key covers the stages its trials run.
func (j *tuneJob) Covers() []string { return j.covers }

// window is the `parallel` setting: how many trials are in flight in the sweep's decisions.
func (j *tuneJob) window() int { return j.s.Parallel }

// workers is the number of trials that actually run at once: the window, at most
// the threads the run gives the stage. A trial runs its stages one at a time, on its share of the
// trials together use at most one thread per CPU.
func (j *tuneJob) workers(env *pipeline.Env) int { return min(j.window(), env.Threads()) }

// trials is the number of trials to start.
func (j *tuneJob) trials() int {
	switch {
	case j.grid != nil:
		return len(j.grid)
	case j.s.Trials > 0:
		return j.s.Trials
	}
	return defaultTrials
}

func (j *tuneJob) Run(ctx context.Context, env *pipeline.Env) error {
	if env.Storage != "" {
		return j.runShared(ctx, env)
	}
	sw := j.newSweep(env)
	if err := sw.run(ctx); err != nil {
		return err
	}
	return j.report(env, sw)
}

// newSweep makes the sweep's sampler: the grid's points, a seeded random sampler or TPE.
func (j *tuneJob) newSweep(env *pipeline.Env) *sweep {
	workers := j.workers(env)
	sw := &sweep{job: j, runner: env.Parts(workers), log: env.Log, parallel: j.window(), slots: make(chan struct{}, workers), histIndex: map[int]int{}}
	switch j.method {
	case "tpe":
		sw.sampler = search.NewTPE(j.space, uint64(j.s.Seed))
	case "random":
		sw.sampler = search.NewRandom(j.space, uint64(j.s.Seed))
	}
	if j.asha != nil {
		sw.asha = j.asha.Fresh() // a scheduler keeps state: each run gets its own
	}
	return sw
}

// A sweep runs the trials of one tune stage.
//
// Decisions (which point to try next, which trial to promote) must not depend on which trial
// happens to finish first, or the same manifest would give different sweeps. So a sweep
// decides unit k knowing exactly the results of units 0..k-parallel, waiting for them if
// needed: with parallel workers that is what a free worker would know in the worst case, and
// with parallel 1 it is the plain sequential algorithm.
type sweep struct {
	ctx      context.Context
	job      *tuneJob
	runner   pipeline.PartRunner
	log      io.Writer
	parallel int            // the decision window
	slots    chan struct{}  // one per trial allowed to run now
	sampler  search.Sampler // nil for grid
	asha     *search.ASHA

	units     []*unit
	seen      int // units whose results the decisions have used
	trials    []*trialState
	history   []search.Observation // for the sampler
	histIndex map[int]int          // trial -> its place in history
	epochs    float64              // training epochs of every unit
}

// A unit is one run of a trial's part of the DAG: a trial, or a trial's rung under ASHA.
type unit struct {
	over   map[string]any // the params it overrides; the decider owns everything else
	trial  int
	rung   int
	budget int
	done   chan struct{}
	res    *pipeline.PartResult
	err    error
}

// trialState is a trial as the sweep knows it: its latest finished unit and its best one.
type trialState struct {
	point  []float64
	params map[string]any
	result        // the latest unit's
	best   result // the best unit's: what the trial is ranked by and reported with
	epochs int
	rung   int
	status string
	err    string
	worker string // the process that ran its latest unit, in a shared sweep
}

// A result is what one unit of a trial measured.
type result struct {
	metrics map[string]float64
	loss    float64 // the objective, negated when maximised; +Inf when the unit failed
	budget  int     // the ASHA budget it ran with
}

// run runs units until the sampler and scheduler have nothing left to do.
func (sw *sweep) run(ctx context.Context) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sw.ctx = ctx
	var fatal error
	for k := 0; fatal == nil; k++ {
		if fatal = sw.see(max(0, k-sw.parallel+1)); fatal != nil {
			break
		}
		u, ok := sw.decide()
		for !ok && sw.seen < len(sw.units) && fatal == nil {
			fatal = sw.see(sw.seen + 1)
			u, ok = sw.decide()
		}
		if !ok || fatal != nil {
			break
		}
		u.over = sw.overrides(u)
		sw.units = append(sw.units, u)
		go sw.exec(ctx, u)
	}
	if fatal != nil {
		cancel(fatal)
	}
	for _, u := range sw.units[sw.seen:] {
		<-u.done
	}
	if fatal == nil {
		fatal = sw.see(len(sw.units))
	}
	return fatal
}

// see waits for units up to n and feeds their results to the sampler and scheduler.
func (sw *sweep) see(n int) error {
	for ; sw.seen < n; sw.seen++ {
		u := sw.units[sw.seen]
		<-u.done
		if err := sw.record(u); err != nil {
			return err
		}
	}
	return nil
}

// decide returns the next unit to run: a promotion if the scheduler has one, else a new
// trial while any are left.
func (sw *sweep) decide() (*unit, bool) {
	if sw.asha != nil {
		if t, rung, ok := sw.asha.Promote(); ok {
			return &unit{trial: t, rung: rung, budget: sw.asha.Rungs[rung], done: make(chan struct{})}, true
		}
	}
	n := len(sw.trials)
	if n >= sw.job.trials() {
		return nil, false
	}
	var p []float64
	if sw.sampler == nil {
		p = sw.job.grid[n]
	} else {
		p = sw.sampler.Next(sw.history[:len(sw.history):len(sw.history)])
	}
	sw.trials = append(sw.trials, &trialState{point: p, params: sw.job.space.Params(p), result: result{loss: math.Inf(1)}, best: result{loss: math.Inf(1)}, status: "pending"})
	u := &unit{trial: n, done: make(chan struct{})}
	if sw.asha != nil {
		u.budget = sw.asha.Rungs[0]
	}
	return u, true
}

// overrides are the params a unit runs with: its trial's point and its budget.
func (sw *sweep) overrides(u *unit) map[string]any {
	over := make(map[string]any, len(sw.job.space)+1)
	for k, v := range sw.trials[u.trial].params {
		over[k] = v
	}
	if sw.asha != nil {
		over[sw.job.s.Scheduler.ASHA.Resource] = u.budget
	}
	return over
}

// exec runs one unit through the shared cache when a slot is free.
func (sw *sweep) exec(ctx context.Context, u *unit) {
	defer close(u.done)
	sw.slots <- struct{}{}
	defer func() { <-sw.slots }()
	if err := ctx.Err(); err != nil {
		u.err = context.Cause(ctx)
		return
	}
	u.res, u.err = sw.runner.RunPart(ctx, sw.job.s.Target, u.over)
}

// record takes a finished unit's outcome into its trial, the sampler's history and the
// scheduler. A trial whose stages fail is a failed trial; a target without the objective
// metric, or a cancelled run, stops the sweep.
func (sw *sweep) record(u *unit) error {
	// A trial that failed because the run was cancelled says nothing about its params, and
	// a sweep cut short must not be stored as if it were complete.
	if err := sw.ctx.Err(); err != nil {
		return fmt.Errorf("cancelled: %w", context.Cause(sw.ctx))
	}
	tr := sw.trials[u.trial]
	tr.budget, tr.rung = u.budget, u.rung
	var metrics map[string]float64
	if u.res != nil {
		metrics = u.res.Metrics[sw.job.s.Target]
		// A promotion continues the trial's previous run when training can resume.
		prev := 0
		if u.rung > 0 && sw.job.resumable {
			prev = tr.epochs
		}
		for _, st := range sw.job.trainStages {
			tr.epochs = int(u.res.Metrics[st]["epochs"])
			sw.epochs += float64(tr.epochs - prev)
		}
		// The privacy a trial's training spent is one of its results, beside the target's
		// metrics: a sweep over the noise then tables accuracy against ε.
		if len(sw.job.trainStages) == 1 {
			if eps, ok := u.res.Metrics[sw.job.trainStages[0]]["epsilon"]; ok && metrics != nil {
				metrics = maps.Clone(metrics)
				metrics["epsilon"] = eps
			}
		}
	}
	obj, ok := metrics[sw.job.s.Objective.Metric]
	switch {
	case ok:
		tr.metrics, tr.status, tr.err = metrics, "ok", ""
		tr.loss = obj
		if sw.job.maximize {
			tr.loss = -obj
		}
		if u.err != nil {
			tr.err = u.err.Error() // e.g. a failed assert of the target: the metric is still good
		}
	case u.err != nil:
		tr.status, tr.err, tr.loss = "failed", u.err.Error(), math.Inf(1)
	default:
		return fmt.Errorf("target %s reported no metric %q (it has: %s)", sw.job.s.Target, sw.job.s.Objective.Metric, strings.Join(sortedNames(metrics), ", "))
	}
	if math.IsNaN(tr.loss) {
		tr.loss = math.Inf(1)
	}
	// Ties go to the later rung: the same objective from a model trained longer.
	if tr.best.metrics == nil || tr.status == "ok" && tr.loss <= tr.best.loss {
		tr.best = tr.result
	}
	sw.logUnit(u, tr)
	if sw.asha != nil {
		sw.asha.Report(u.trial, u.rung, tr.loss)
	}
	sw.observe(u.trial, tr)
	return nil
}

// observe puts a trial's latest loss into the sampler's history, which lists the trials in
// the order their first results were seen.
func (sw *sweep) observe(trial int, tr *trialState) {
	if i, ok := sw.histIndex[trial]; ok {
		sw.history[i].Loss = tr.loss
		return
	}
	sw.histIndex[trial] = len(sw.history)
	sw.history = append(sw.history, search.Observation{Point: tr.point, Loss: tr.loss})
}

func (sw *sweep) logUnit(u *unit, tr *trialState) {
	var b strings.Builder
	fmt.Fprintf(&b, "trial %d", u.trial+1)
	if sw.asha != nil {
		fmt.Fprintf(&b, " rung %d (%d)", u.rung, u.budget)
	}
	if tr.status == "failed" {
		fmt.Fprintf(&b, ": failed: %s", tr.err)
	} else {
		fmt.Fprintf(&b, ": %s %.6g", sw.job.s.Objective.Metric, tr.metrics[sw.job.s.Objective.Metric])
	}
	switch {
	case u.res != nil && len(u.res.Ran) > 0:
		fmt.Fprintf(&b, " [ran: %s]", strings.Join(u.res.Ran, " "))
	case u.res != nil:
		b.WriteString(" [cached]")
	}
	fmt.Fprintln(sw.log, b.String())
}

func sortedNames(m map[string]float64) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// finalStatus names what became of a trial: under ASHA, "completed" when it reached the
// largest budget and "stopped" when it was not promoted.
func (sw *sweep) finalStatus(tr *trialState) string {
	if sw.asha == nil || tr.status != "ok" {
		return tr.status
	}
	if tr.rung == len(sw.asha.Rungs)-1 {
		return "completed"
	}
	return "stopped"
}

// ranked returns the trial numbers best first, by each trial's best result over the rungs
// it ran (Ray Tune's scope="all"). Each rung of a trial is a finished model of its budget,
// the same bytes a run with that many epochs gives, and best.yaml carries that budget, so
// the best rung is reproducible as it stands; a trial that got worse after a promotion keeps
// its better, shorter model. Ties go to the larger budget, then to the earlier trial.
func (sw *sweep) ranked() []int {
	order := make([]int, len(sw.trials))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		ta, tb := sw.trials[order[a]].best, sw.trials[order[b]].best
		if ta.loss != tb.loss {
			return ta.loss < tb.loss
		}
		return ta.budget > tb.budget
	})
	return order
}

// report writes trials.json and best.yaml and reports the table and the best objective.
func (j *tuneJob) report(env *pipeline.Env, sw *sweep) error {
	order := sw.ranked()
	best := sw.trials[order[0]]
	if best.best.metrics == nil { // a trial that failed after a promotion still has its rungs before
		return fmt.Errorf("every trial failed; the first: %s", sw.trials[0].err)
	}
	list := make([]pipeline.Trial, len(sw.trials))
	records := make([]trialRecord, len(sw.trials))
	for i, tr := range sw.trials {
		list[i] = pipeline.Trial{Number: i + 1, Params: sw.trialParams(tr), Metrics: tr.best.metrics, Status: sw.finalStatus(tr), Error: tr.err}
		records[i] = trialRecord{list[i], tr.epochs, tr.worker}
	}
	env.ReportTrials(list)
	b, err := json.MarshalIndent(records, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(env.Out, trialsFile), append(b, '\n'), 0o644); err != nil {
		return err
	}
	bestParams := map[string]any{}
	for k, v := range sw.trialParams(best) {
		bestParams[trimParams(k)] = v
	}
	var yb strings.Builder
	enc := yaml.NewEncoder(&yb)
	enc.SetIndent(2)
	if err := enc.Encode(bestParams); err != nil {
		return err
	}
	y := []byte(yb.String())
	header := fmt.Sprintf("# best params of tune stage %s (trial %d, %s %v); apply with: loom run --params %s\n",
		env.Stage.Name, order[0]+1, j.s.Objective.Metric, best.best.metrics[j.s.Objective.Metric], filepath.Join(pipeline.LayoutOf("").Out(env.Stage.Name), bestFile))
	if err := os.WriteFile(filepath.Join(env.Out, bestFile), append([]byte(header), y...), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "best params (.loom/out/%s/%s):\n%s", env.Stage.Name, bestFile, y)
	env.ReportTable(sw.table(order, list))
	env.ReportMetric("best_"+j.s.Objective.Metric, best.best.metrics[j.s.Objective.Metric])
	env.ReportMetric("trials", float64(len(sw.trials)))
	env.ReportMetric("train_epochs", sw.epochs)
	return nil
}

// trialParams are a trial's params, with the ASHA budget of its best result.
func (sw *sweep) trialParams(tr *trialState) map[string]any {
	p := make(map[string]any, len(tr.params)+1)
	for k, v := range tr.params {
		p[k] = v
	}
	if sw.asha != nil {
		p[sw.job.s.Scheduler.ASHA.Resource] = tr.best.budget
	}
	return p
}

// table lays the trials out best first: trial, each param, each metric of the target, the
// epochs trained and the status.
// trialRecord is a trial as trials.json lists it: with the epochs it trained, all rungs counted.
type trialRecord struct {
	pipeline.Trial
	Epochs int    `json:"epochs,omitempty"`
	Worker string `json:"worker,omitempty"` // the process that ran it, in a shared sweep
}

func (sw *sweep) table(order []int, list []pipeline.Trial) pipeline.Table {
	paths := make([]string, 0, len(sw.job.space)+1)
	for _, d := range sw.job.space {
		paths = append(paths, d.Path)
	}
	if sw.asha != nil {
		paths = append(paths, sw.job.s.Scheduler.ASHA.Resource)
	}
	metricSet := map[string]float64{}
	for _, tr := range sw.trials {
		for k := range tr.best.metrics {
			metricSet[k] = 0
		}
	}
	metrics := sortedNames(metricSet)
	t := pipeline.Table{Title: "trials of " + sw.job.s.Target + " by " + sw.job.s.Objective.Metric, Header: []string{"trial"}}
	for _, p := range paths {
		t.Header = append(t.Header, trimParams(p))
	}
	t.Header = append(append(t.Header, metrics...), "epochs", "status")
	shared := slices.ContainsFunc(sw.trials, func(tr *trialState) bool { return tr.worker != "" })
	if shared {
		t.Header = append(t.Header, "worker")
	}
	for _, i := range order {
		tr := list[i]
		row := []string{strconv.Itoa(tr.Number)}
		for _, p := range paths {
			row = append(row, formatValue(tr.Params[p]))
		}
		for _, m := range metrics {
			if v, ok := tr.Metrics[m]; ok {
				row = append(row, strconv.FormatFloat(v, 'g', 4, 64))
			} else {
				row = append(row, "")
			}
		}
		row = append(row, strconv.Itoa(sw.trials[i].epochs), tr.Status)
		if shared {
			row = append(row, sw.trials[i].worker)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func formatValue(v any) string {
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'g', 4, 64)
	case string:
		return x
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
