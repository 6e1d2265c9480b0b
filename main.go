// Command loom runs declarative machine-learning pipelines: a YAML manifest describes the
// stages (load data, preprocess, build, train, evaluate, tune, shell commands) and loom runs
// them as a DAG, in parallel where it can, caching every result by content.
//
// `loom help` lists the commands (the table `commands` in this file), `loom help COMMAND` a
// command's flags. Exit codes: 0 success, 1 a stage failed, 2 the manifest or the command line
// is wrong, 3 an assertion failed.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/remote"
	"github.com/loom-ml/loom/schemas"
	"github.com/loom-ml/loom/steps"
	"github.com/loom-ml/loom/steps/frame"
	"github.com/loom-ml/loom/steps/metrics"
)

// Exit codes, as documented in MANIFEST.md.
const (
	exitOK     = 0
	exitFailed = 1 // a stage failed, or loom itself could not work
	exitUsage  = 2 // the manifest or the command line is wrong
	exitAssert = 3 // an assertion failed
)

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Tables are written a line at a time; one buffer makes them one write.
	stdout := bufio.NewWriterSize(os.Stdout, 64<<10)
	code := runCLI(ctx, os.Args[1:], stdout, os.Stderr)
	if err := stdout.Flush(); err != nil && code == exitOK {
		code = exitFailed
	}
	stop()
	os.Exit(code)
}

// tuneGC makes the collector lazier unless the user set GOGC or GOMEMLIMIT. loom is a
// short-lived process whose live heap is small next to what it allocates on the way (YAML
// nodes, cache entries); with the default GOGC=100 a cached 100-stage run spent a quarter of
// its CPU time collecting. The soft memory limit brings collection back as the heap nears
// 2 GiB, so a large data set does not grow the heap elevenfold.
func tuneGC() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(1000)
		debug.SetMemoryLimit(2 << 30)
	}
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// helpError is a request for a command's help (-h), carrying the text to print.
type helpError struct{ text string }

func (e *helpError) Error() string { return e.text }

// exitError carries an exit code chosen by a command.
type exitError struct{ code int }

func (e *exitError) Error() string { return "exit " + strconv.Itoa(e.code) }

// A command is one loom subcommand. This table is the only place commands are named: it drives
// `loom help`, `loom help CMD`, `loom CMD -h`, the usage in errors, and the README's command list
// (TestREADMEListsTheCommands).
type command struct {
	name  string
	lines []usageLine // what `loom help` prints for it
	run   func(context.Context, []string, io.Writer, io.Writer) error
}

// A usageLine is one synopsis line and what it does ("" for a line that speaks for itself).
type usageLine struct{ syntax, short string }

// commands is filled in init, since the commands' functions print help from it.
var commands []*command

func init() {
	commands = []*command{
		{"run", []usageLine{{"loom run [-f FILE] [--set PATH=VALUE]... [--params FILE]... [-j N] [--force] [--verify] [--dry-run] [--json] [--remote URL] [--remote-mode read|write|readwrite] [--storage URL] [STAGE...]", ""}}, cmdRun},
		{"status", []usageLine{{"loom status [-f FILE] [--remote URL]", "which stages would run, and why; which the remote has"}}, cmdStatus},
		{"validate", []usageLine{{"loom validate [-f FILE]", "check the manifest: every setting, params and the DAG"}}, cmdValidate},
		{"dag", []usageLine{{"loom dag [-f FILE] [--dot|--mermaid]", "print the stage graph"}}, cmdDag},
		{"metrics", []usageLine{
			{"loom metrics [-f FILE] [--json|--md]", "the metrics of the last run"},
			{"loom metrics diff [-f FILE] [--json|--md] OLD.json [NEW.json]", "compare them (or NEW's) with a saved `loom run --json`"},
		}, cmdMetrics},
		{"exp", []usageLine{
			{"loom exp show [-f FILE] [--json|--md] [--sort METRIC] [-n N]", "every run: params that differ, metrics"},
			{"loom exp diff [-f FILE] [--json|--md] [A [B]]", "two runs' params and metrics (default: the last two)"},
		}, cmdExp},
		{"report", []usageLine{{"loom report [-f FILE] [-o report.html] [--exp ID]...", "one HTML page of the last run and the experiments"}}, cmdReport},
		{"predict", []usageLine{{"loom predict [-f FILE] [--model STAGE|BUNDLE] --input DATA [--output OUT] [--keep COL]... [--json]", "score new data with a trained model"}}, cmdPredict},
		{"serve", []usageLine{{"loom serve [-f FILE] [--model STAGE|BUNDLE] [--addr 127.0.0.1:8080] [--max-body BYTES]", "answer predictions over HTTP"}}, cmdServe},
		{"export", []usageLine{{"loom export [-f FILE] [--model STAGE] --format onnx|bundle -o PATH", "write the model as one file"}}, cmdExport},
		{"push", []usageLine{{"loom push [-f FILE] [--remote URL]", "upload the last run's entries and objects to the remote"}}, cmdPush},
		{"pull", []usageLine{{"loom pull [-f FILE] [--remote URL]", "download them from the remote"}}, cmdPull},
		{"gc", []usageLine{{"loom gc [-f FILE] [--keep N]", "remove cache entries that neither the last run nor the newest N experiments use"}}, cmdGC},
		{"schema", []usageLine{{"loom schema", "print the manifest's JSON Schema"}}, cmdSchema},
		{"help", []usageLine{{"loom help [COMMAND]", "this text, or a command's flags"}}, cmdHelp},
	}
}

func lookupCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// synopsis writes the usage lines of cmds, the first after first and the others after rest,
// the short texts aligned after the syntax.
func synopsis(w io.Writer, first, rest string, cmds ...*command) {
	const maxWidth = 56 // a longer syntax has its short text on the next line
	width := 0
	for _, c := range cmds {
		for _, l := range c.lines {
			if l.short != "" && len(l.syntax) <= maxWidth {
				width = max(width, len(l.syntax))
			}
		}
	}
	prefix := first
	for _, c := range cmds {
		for _, l := range c.lines {
			switch {
			case l.short == "":
				fmt.Fprintf(w, "%s%s\n", prefix, l.syntax)
			case len(l.syntax) > width:
				fmt.Fprintf(w, "%s%s\n%s%-*s  %s\n", prefix, l.syntax, rest, width, "", l.short)
			default:
				fmt.Fprintf(w, "%s%-*s  %s\n", prefix, width, l.syntax, l.short)
			}
			prefix = rest
		}
	}
}

const exitCodes = "Exit codes: 0 success, 1 a stage failed, 2 the manifest or command line is wrong, 3 an assert failed.\n"

// writeUsage writes the general help.
func writeUsage(w io.Writer) {
	fmt.Fprint(w, "loom runs machine-learning pipelines described in YAML.\n\nUsage:\n")
	synopsis(w, "  ", "  ", commands...)
	fmt.Fprint(w, "\n"+exitCodes)
}

// cmdHelp prints the general help, or a command's usage and flags.
func cmdHelp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	args, err := parseFlags(flag.NewFlagSet("help", flag.ContinueOnError), args)
	switch {
	case err != nil:
		return err
	case len(args) == 0:
		writeUsage(stdout)
		return nil
	case len(args) > 1:
		return usagef("help takes one command")
	}
	c := lookupCommand(args[0])
	if c == nil {
		return usagef("unknown command %q", args[0])
	}
	return c.run(ctx, []string{"-h"}, stdout, stderr)
}

// runCLI runs one loom command and returns its exit code.
func runCLI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeUsage(stderr)
		return exitUsage
	}
	name := args[0]
	if name == "-h" || name == "--help" {
		name = "help"
	}
	cmd := lookupCommand(name)
	if cmd == nil {
		fmt.Fprintf(stderr, "loom: unknown command %q\n\n", name)
		writeUsage(stderr)
		return exitUsage
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	var (
		he  *helpError
		ue  *usageError
		ee  *exitError
		me  *manifest.Error
		mel manifest.ErrorList
		de  *frame.DataError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &he):
		fmt.Fprint(stdout, he.text)
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "loom %s: %v\n", name, err)
		return exitUsage
	case errors.As(err, &mel) || errors.As(err, &me):
		fmt.Fprintln(stderr, err)
		return exitUsage
	case errors.As(err, &de):
		fmt.Fprintf(stderr, "loom %s: %v\n", name, err)
		return exitUsage
	}
	fmt.Fprintf(stderr, "loom %s: %v\n", name, err)
	return exitFailed
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// parseFlags parses flags that may come before, between or after positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				var b strings.Builder
				synopsis(&b, "usage: ", "       ", lookupCommand(fs.Name()))
				if hasFlags(fs) {
					b.WriteString("\nflags:\n")
				}
				fs.SetOutput(&b)
				fs.PrintDefaults()
				return nil, &helpError{b.String()}
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}

// parseNoArgs parses flags for a command that takes no positional arguments.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parseFlags(fs, args)
	if err == nil && len(pos) > 0 {
		err = usagef("unexpected argument %q", pos[0])
	}
	return err
}

// manifestFlags are the flags every manifest-reading command takes.
type manifestFlags struct {
	file   string
	sets   stringList
	params stringList
}

func (mf *manifestFlags) register(fs *flag.FlagSet, withParams bool) {
	fs.StringVar(&mf.file, "f", "pipeline.yaml", "the manifest")
	if withParams {
		fs.Var(&mf.sets, "set", "override a param: PATH=VALUE (VALUE is YAML); repeatable")
		fs.Var(&mf.params, "params", "a YAML file of params to merge over the manifest's; repeatable")
	}
}

func (mf *manifestFlags) load() (*manifest.Manifest, error) {
	m, err := manifest.Load(mf.file, manifest.Options{Sets: mf.sets, ParamFiles: mf.params})
	return m, missingIsUsage(err)
}

// missingIsUsage makes a manifest or params file that cannot be opened a command-line
// mistake (exit 2), as the user named it.
func missingIsUsage(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return usagef("%v", err)
	}
	return err
}

// open loads the manifest and prepares its stages.
func (mf *manifestFlags) open() (*pipeline.Workspace, error) {
	m, err := mf.load()
	if err != nil {
		return nil, err
	}
	return pipeline.Open(m, steps.Kinds())
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var mf manifestFlags
	mf.register(fs, true)
	jobs := fs.Int("j", runtime.NumCPU(), "stages to run at once")
	force := fs.Bool("force", false, "run every selected stage, ignoring the cache")
	verify := fs.Bool("verify", false, "rerun cached stages and check they reproduce their cached results")
	dry := fs.Bool("dry-run", false, "print what would run, run nothing")
	asJSON := fs.Bool("json", false, "print one JSON object on stdout")
	var rf remoteFlags
	rf.register(fs, true)
	storage := fs.String("storage", os.Getenv("LOOM_STORAGE"), "a PostgreSQL URL through which processes on several machines share a sweep's trials (default $LOOM_STORAGE)")
	targets, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if *jobs < 1 {
		return usagef("-j must be at least 1")
	}
	store, err := rf.open(false)
	if err != nil {
		return err
	}
	ws, err := mf.open()
	if err != nil {
		return err
	}
	if _, err := ws.M.Closure(targets...); len(targets) > 0 && err != nil {
		return usagef("%v", err)
	}
	if *dry {
		return printStatus(ws, stdout, targets, *force, store)
	}
	opt := pipeline.Options{Targets: targets, Jobs: *jobs, Force: *force, Verify: *verify, Log: stderr, Remote: store, RemoteMode: rf.mode, Storage: *storage}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opt.Progress = stderr
	}
	rep, err := ws.Run(ctx, opt)
	if err != nil {
		return err
	}
	sum := rep.Summarize(ws.M.Path)
	if *asJSON {
		sum.Actions = nil // cache bookkeeping, kept in the run record only
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sum); err != nil {
			return err
		}
	} else {
		if err := printRun(stdout, rep, sum); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		// Stages skipped by a Ctrl-C are not failures of their own, but the run did not finish.
		fmt.Fprintln(stderr, "loom: run cancelled: stages that had not finished were not recorded")
		return &exitError{exitFailed}
	}
	return runExit(stderr, rep)
}

// runExit reports failed stages and picks the exit code. A mistake in the manifest found
// while a stage ran (an expression naming a column the data lacks) counts as a manifest error;
// it and a stage failure both outrank a failed assertion.
func runExit(stderr io.Writer, rep *pipeline.Report) error {
	code := exitOK
	for _, st := range rep.Stages {
		if st.Status != pipeline.Failed {
			continue
		}
		var (
			ae *pipeline.AssertError
			me *manifest.Error
		)
		switch {
		case errors.As(st.Err, &ae):
			for _, f := range ae.Failed {
				fmt.Fprintf(stderr, "loom: stage %s: assertion failed: %s\n", st.Name, f)
			}
			if code == exitOK {
				code = exitAssert
			}
		case errors.As(st.Err, &me):
			fmt.Fprintln(stderr, me)
			if code != exitFailed {
				code = exitUsage
			}
		default:
			fmt.Fprintf(stderr, "loom: stage %s failed: %v\n", st.Name, st.Err)
			code = exitFailed
		}
	}
	if code != exitOK {
		return &exitError{code}
	}
	return nil
}

func printRun(w io.Writer, rep *pipeline.Report, sum *pipeline.Summary) error {
	var rows [][]string
	for _, st := range sum.Stages {
		rows = append(rows, []string{st.Name, st.Kind, string(st.Status), strconv.FormatFloat(st.Seconds, 'f', 2, 64)})
	}
	if err := printTable(w, false, []string{"stage", "kind", "status", "seconds"}, rows); err != nil {
		return err
	}
	for _, st := range rep.Stages {
		if st.Entry == nil {
			continue
		}
		for _, t := range st.Entry.Tables {
			fmt.Fprintf(w, "\n%s: %s\n", st.Name, t.Title)
			if err := printTable(w, false, t.Header, t.Rows); err != nil {
				return err
			}
		}
	}
	if len(sum.Metrics) > 0 {
		fmt.Fprintln(w)
		return printMetrics(w, false, sum)
	}
	return nil
}

// printMetrics prints one row per stage and metric.
func printMetrics(w io.Writer, markdown bool, sum *pipeline.Summary) error {
	var rows [][]string
	for _, st := range sum.Stages {
		ms := sum.Metrics[st.Name]
		for _, k := range slices.Sorted(maps.Keys(ms)) {
			rows = append(rows, []string{st.Name, k, formatMetric(ms[k])})
		}
	}
	return printTable(w, markdown, []string{"stage", "metric", "value"}, rows)
}

var formatMetric = pipeline.FormatMetric

func printStatus(ws *pipeline.Workspace, w io.Writer, targets []string, force bool, store remote.Store) error {
	states, err := ws.StatusWith(store)
	if err != nil {
		return err
	}
	selected := map[string]bool{}
	names := ws.M.Order
	if len(targets) > 0 {
		names, _ = ws.M.Closure(targets...)
	}
	for _, n := range names {
		selected[n] = true
	}
	var rows [][]string
	for _, s := range states {
		if !selected[s.Name] {
			continue
		}
		state := "up to date"
		switch {
		case force:
			state, s.Reasons = "stale", []string{"--force"}
		case !s.UpToDate && s.OnRemote:
			state, s.Reasons = "on the remote", []string{"the remote has its result: a run downloads it"}
		case !s.UpToDate:
			state = "stale"
		}
		rows = append(rows, []string{s.Name, s.Kind, state, strings.Join(s.Reasons, "; ")})
	}
	return printTable(w, false, []string{"stage", "kind", "state", "why"}, rows)
}

func cmdStatus(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	var mf manifestFlags
	mf.register(fs, true)
	var rf remoteFlags
	rf.register(fs, false)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	store, err := rf.open(false)
	if err != nil {
		return err
	}
	ws, err := mf.open()
	if err != nil {
		return err
	}
	return printStatus(ws, stdout, nil, false, store)
}

func cmdValidate(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	var mf manifestFlags
	mf.register(fs, true)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	m, err := mf.load()
	if err != nil {
		return err
	}
	if err := pipeline.Prepare(m, steps.Kinds()); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: ok, %d stages\n", mf.file, len(m.Stages))
	return nil
}

func cmdDag(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("dag", flag.ContinueOnError)
	var mf manifestFlags
	mf.register(fs, false)
	dot := fs.Bool("dot", false, "print Graphviz dot")
	mermaid := fs.Bool("mermaid", false, "print a Mermaid flowchart")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	format := "text"
	switch {
	case *dot && *mermaid:
		return usagef("--dot and --mermaid exclude each other")
	case *dot:
		format = "dot"
	case *mermaid:
		format = "mermaid"
	}
	m, err := mf.load()
	if err != nil {
		return err
	}
	return pipeline.WriteGraph(stdout, m, format)
}

func cmdMetrics(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("metrics", flag.ContinueOnError)
	var mf manifestFlags
	mf.register(fs, false)
	asJSON := fs.Bool("json", false, "print JSON")
	md := fs.Bool("md", false, "print a markdown table")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	sum, err := pipeline.LastRun(mf.file)
	if err != nil {
		return err
	}
	if len(pos) > 0 && pos[0] == "diff" {
		if len(pos) != 2 && len(pos) != 3 {
			return usagef("usage: %s", lookupCommand("metrics").lines[1].syntax)
		}
		old, err := readSummary(pos[1])
		if err != nil {
			return err
		}
		if len(pos) == 3 { // two saved runs
			if sum, err = readSummary(pos[2]); err != nil {
				return err
			}
		}
		diffs := diffMetrics(old.Metrics, sum.Metrics)
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(diffs)
		}
		return printMetricDiffs(stdout, *md, diffs, "old", "new")
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	return printMetrics(stdout, *md, sum)
}

// readSummary reads a saved `loom run --json` or `loom metrics --json`.
func readSummary(path string) (*pipeline.Summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s pipeline.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: not a loom run summary: %w", path, err)
	}
	return &s, nil
}

// metricDiff is one metric's change between two runs.
type metricDiff struct {
	Stage  string   `json:"stage"`
	Metric string   `json:"metric"`
	Old    *float64 `json:"old"`
	New    *float64 `json:"new"`
	Change *float64 `json:"change"`
	// Verdict is "better" or "worse" by the metric's direction (loss down, accuracy up), or
	// "" when it did not change or has no direction.
	Verdict string `json:"verdict,omitempty"`
}

// diffMetrics compares every metric of two runs, stage by stage.
func diffMetrics(old, cur map[string]map[string]float64) []metricDiff {
	var diffs []metricDiff
	stages := map[string]bool{}
	for s := range old {
		stages[s] = true
	}
	for s := range cur {
		stages[s] = true
	}
	for _, s := range slices.Sorted(maps.Keys(stages)) {
		names := map[string]bool{}
		for k := range old[s] {
			names[k] = true
		}
		for k := range cur[s] {
			names[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(names)) {
			d := metricDiff{Stage: s, Metric: k}
			if v, ok := old[s][k]; ok {
				d.Old = &v
			}
			if v, ok := cur[s][k]; ok {
				d.New = &v
			}
			if d.Old != nil && d.New != nil {
				c := *d.New - *d.Old
				d.Change = &c
				switch dir := metrics.Direction(k); {
				case c == 0 || dir == 0:
				case (c > 0) == (dir > 0):
					d.Verdict = "better"
				default:
					d.Verdict = "worse"
				}
			}
			diffs = append(diffs, d)
		}
	}
	return diffs
}

// printMetricDiffs prints diffs as a table whose value columns are named oldName and newName.
func printMetricDiffs(w io.Writer, md bool, diffs []metricDiff, oldName, newName string) error {
	opt := func(v *float64, sign bool) string {
		switch {
		case v == nil:
			return "-"
		case sign:
			return strconv.FormatFloat(*v, 'f', 4, 64)
		}
		return formatMetric(*v)
	}
	var rows [][]string
	for _, d := range diffs {
		change := opt(d.Change, true)
		if d.Change != nil && *d.Change > 0 {
			change = "+" + change
		}
		rows = append(rows, []string{d.Stage, d.Metric, opt(d.Old, false), opt(d.New, false), change, d.Verdict})
	}
	return printTable(w, md, []string{"stage", "metric", oldName, newName, "change", ""}, rows)
}

func cmdGC(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("gc", flag.ContinueOnError)
	var mf manifestFlags
	mf.register(fs, false)
	keep := fs.Int("keep", 20, "keep the cache entries of each manifest's newest N experiments")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *keep < 0 {
		return usagef("--keep must not be negative")
	}
	dir := pipeline.LayoutOf(filepath.Dir(mf.file)).Dir()
	if _, err := os.Stat(dir); err != nil {
		fmt.Fprintf(stdout, "no cache in %s\n", filepath.Dir(mf.file))
		return nil
	}
	st, err := pipeline.GC(dir, *keep)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "removed %d entries and %d objects (%.1f MB)\n", st.Actions, st.Objects, float64(st.Bytes)/1e6)
	return nil
}

func cmdSchema(_ context.Context, args []string, stdout, _ io.Writer) error {
	if err := parseNoArgs(flag.NewFlagSet("schema", flag.ContinueOnError), args); err != nil {
		return err
	}
	_, err := stdout.Write(schemas.JSON)
	return err
}
