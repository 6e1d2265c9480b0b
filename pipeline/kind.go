package pipeline

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/loom-ml/loom/internal/proc"
	"github.com/loom-ml/loom/pipeline/manifest"
)

// A Kind implements the stages of one kind, named by a stage's `uses`. Package steps holds
// loom's kinds; the executor knows them only through this interface.
type Kind interface {
	// Version identifies the implementation. It is part of every ActionID of the kind, so a
	// change that can alter what a stage produces for the same settings must change it.
	Version() string
	// Prepare decodes and checks a stage's resolved settings. Every stage is prepared before
	// any runs, so a mistake anywhere in a manifest stops the run before work starts. Errors
	// should be positioned with st.Errorf.
	Prepare(st *manifest.Stage, m *manifest.Manifest) (Job, error)
}

// A Job is a prepared stage.
type Job interface {
	// Deps lists the workspace files and folders, relative to the manifest's folder, whose
	// content the job reads. Their digests are part of the ActionID.
	Deps() []string
	// Outs lists the workspace files and folders the job writes. They are stored in the cache
	// and restored from it on a hit.
	Outs() []string
	// Run does the stage's work.
	Run(ctx context.Context, env *Env) error
}

// Kinds maps a `uses` name to its implementation.
type Kinds map[string]Kind

// Env is what a running job sees.
type Env struct {
	// Stage is the stage being run.
	Stage *manifest.Stage
	// Action is the stage's key: processes that share work (through Storage) know a stage by it.
	Action ActionID
	// Storage is the URL of the database that coordinates work across processes (`loom run
	// --storage`), or "".
	Storage string
	// Dir is the manifest's folder: the workspace, and the working folder of shell commands.
	Dir string
	// Out is an empty folder for the stage's artifact files. Everything in it when Run returns
	// is the stage's artifact, stored in the cache and handed to downstream stages.
	Out string
	// Inputs are the artifacts of the stages this one needs, in the order of `needs`.
	Inputs []Input
	// Log receives the stage's log lines.
	Log io.Writer
	// Progress, when not nil, is a terminal that may show a progress display.
	Progress io.Writer

	result Result
	parts  *partRunner
	loom   Layout
	cpus   *cpus
	held   int       // CPUs of cpus the stage holds: 1, or 0 when more stages run than there are CPUs
	asked  sync.Once // Threads claims the free CPUs once
}

// RunCommand runs cmd, made with exec.CommandContext(ctx, ...), as a process of the stage: in
// a process group of its own, which cancellation stops (SIGTERM, then SIGKILL half a second
// later, so that every stage answers Ctrl-C within about a second), which ends with the command
// and which dies with loom (see internal/proc); a rerun never runs beside an orphan.
func (e *Env) RunCommand(cmd *exec.Cmd) error {
	return proc.Run(cmd, e.loom.Procs(), 500*time.Millisecond)
}

// An Input is an upstream stage's artifact.
type Input struct {
	Stage  string   // the upstream stage's name
	Kind   string   // its kind
	Output OutputID // what it produced
	files  map[string]string
}

// Path returns the path of the artifact file name, or an error naming the files there are.
func (in Input) Path(name string) (string, error) {
	if p, ok := in.files[name]; ok {
		return p, nil
	}
	names := make([]string, 0, len(in.files))
	for n := range in.files {
		names = append(names, n)
	}
	sort.Strings(names)
	return "", fmt.Errorf("stage %q produced no %s (it has: %s)", in.Stage, name, strings.Join(names, ", "))
}

// Has reports whether the artifact has a file called name.
func (in Input) Has(name string) bool { _, ok := in.files[name]; return ok }

// Input returns the unique input whose kind is one of kinds, or, when the stage's settings
// name one with the setting key (e.g. `data: prep`), that one.
func (e *Env) Input(key string, kinds ...string) (Input, error) {
	if name, ok := e.Stage.Settings[key].(string); ok && name != "" {
		for _, in := range e.Inputs {
			if in.Stage == name {
				return in, nil
			}
		}
		return Input{}, e.Stage.Errorf([]string{key}, "%s: stage %q is not in needs", key, name)
	}
	var found []Input
	for _, in := range e.Inputs {
		for _, k := range kinds {
			if in.Kind == k {
				found = append(found, in)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return Input{}, fmt.Errorf("stage %q needs a %s stage for its %s", e.Stage.Name, strings.Join(kinds, " or "), key)
	}
	names := make([]string, len(found))
	for i, in := range found {
		names[i] = in.Stage
	}
	return Input{}, fmt.Errorf("stage %q needs several %s stages (%s): name one with `with: {%s: STAGE}`",
		e.Stage.Name, strings.Join(kinds, "/"), strings.Join(names, ", "), key)
}

// Abs resolves a path of the manifest: relative to the workspace, or absolute.
func (e *Env) Abs(path string) string { return resolve(e.Dir, path) }

// resolve returns path, relative to dir unless it is absolute. Inputs may be anywhere, an
// absolute path or one that climbs out with ../; outputs must stay in the workspace.
func resolve(dir, path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(dir, path)
}

// ReportMetric records a number the stage produced; metrics are printed after the run, saved
// with the run and usable in assertions.
func (e *Env) ReportMetric(name string, v float64) {
	if e.result.Metrics == nil {
		e.result.Metrics = map[string]float64{}
	}
	e.result.Metrics[name] = v
}

// ReportTrials records the runs of part of the pipeline the stage made with other params (a
// sweep's trials); --json lists them under "trials".
func (e *Env) ReportTrials(trials []Trial) { e.result.Trials = trials }

// ReportTable records a table to print after the run.
func (e *Env) ReportTable(t Table) { e.result.Tables = append(e.result.Tables, t) }

// AssertFailed records a failed assertion. The stage still succeeds as far as the cache is
// concerned: its result, failures included, is stored, so a rerun reports the same failures
// without redoing the work; loom exits with code 3.
func (e *Env) AssertFailed(msg string) { e.result.Failed = append(e.result.Failed, msg) }

// Threads returns how many threads the stage may compute on: the CPU the run gave it and every
// CPU of the run that no other stage holds when it asks, which it keeps until it ends. A stage
// that splits its work over threads (one model's training) asks once, as it starts
// computing; the others need not ask. It is at least 1.
func (e *Env) Threads() int {
	e.asked.Do(func() {
		if e.cpus != nil {
			e.held += e.cpus.take(all)
		}
	})
	return max(1, e.held)
}

// Parts returns the runner with which a stage runs parts of the pipeline with other params, as
// a sweep runs its trials; parallel is how many parts the stage runs at once. The stage's
// threads (see Threads) are shared among them: a part's stages compute on Threads()/parallel.
func (e *Env) Parts(parallel int) PartRunner {
	return &partShare{runner: e.parts, threads: max(1, e.Threads()/max(1, parallel))}
}

// A PartRunner runs part of the pipeline (a target stage and what it needs) with overridden
// params, through the same cache. It is safe for concurrent use.
type PartRunner interface {
	// RunPart runs target and what it needs with params overridden and returns the
	// metrics of every stage it ran or found cached.
	RunPart(ctx context.Context, target string, overrides map[string]any) (*PartResult, error)
}

// PartResult is the outcome of one run of a part.
type PartResult struct {
	Metrics map[string]map[string]float64 // stage -> metric -> value
	Ran     []string                      // stages that ran (the rest were cached)
}
