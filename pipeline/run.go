package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"github.com/loom-ml/loom/internal/proc"
	"github.com/loom-ml/loom/internal/suggest"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/remote"
)

// Status says what became of a stage in a run.
type Status string

// The statuses of a stage, as printed and as in --json.
const (
	Ran     Status = "ran"     // the stage ran
	Cached  Status = "cached"  // its result came from the cache
	Failed  Status = "failed"  // it failed, or an assertion failed
	Skipped Status = "skipped" // a stage it needs failed, or the run was cancelled
)

// Workspace is a manifest with its prepared stages and its cache in .loom beside it.
type Workspace struct {
	M     *manifest.Manifest
	kinds Kinds
	jobs  map[string]Job
	cache *Cache
	files *fileHasher
	loom  Layout

	mu      sync.Mutex
	running map[ActionID]*sync.Mutex
}

// lockAction serialises work on one action within this process.
func (w *Workspace) lockAction(id ActionID) func() {
	w.mu.Lock()
	if w.running == nil {
		w.running = map[ActionID]*sync.Mutex{}
	}
	l, ok := w.running[id]
	if !ok {
		l = new(sync.Mutex)
		w.running[id] = l
	}
	w.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// Open prepares every stage of m with its kind and opens the workspace's cache. Errors in
// stage settings are returned together, as a manifest.ErrorList, before anything runs.
func Open(m *manifest.Manifest, kinds Kinds) (*Workspace, error) {
	jobs, err := prepare(m, kinds)
	if err != nil {
		return nil, err
	}
	l := LayoutOf(m.Dir)
	if err := CheckLayout(l.Dir()); err != nil {
		return nil, err
	}
	c, err := OpenCache(l.Dir())
	if err != nil {
		return nil, err
	}
	return &Workspace{M: m, kinds: kinds, jobs: jobs, cache: c, files: openFileHasher(l.FilesMemo()), loom: l}, nil
}

// Prepare checks every stage's settings with its kind without opening a cache, as
// `loom validate` does.
func Prepare(m *manifest.Manifest, kinds Kinds) error {
	_, err := prepare(m, kinds)
	return err
}

func prepare(m *manifest.Manifest, kinds Kinds) (map[string]Job, error) {
	jobs := make(map[string]Job, len(m.Stages))
	var errs manifest.ErrorList
	for _, name := range m.Order {
		st := m.Stages[name]
		kind, ok := kinds[st.Uses]
		if !ok {
			names := slices.Sorted(maps.Keys(kinds))
			errs = append(errs, &manifest.Error{Pos: st.UsesPos, Msg: fmt.Sprintf("stage %s: unknown stage kind %q%s; valid kinds: %s",
				name, st.Uses, suggest.DidYouMean(st.Uses, names), strings.Join(names, ", "))})
			continue
		}
		job, err := kind.Prepare(st, m)
		if err != nil {
			errs = append(errs, asManifestErrors(st, err)...)
			continue
		}
		for _, p := range job.Outs() {
			if !insideWorkspace(p) {
				errs = append(errs, st.Errorf([]string{"outs"}, "output %q is outside the manifest's folder", p))
			}
		}
		jobs[name] = job
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return jobs, nil
}

// asManifestErrors positions an error from a kind: positioned errors stay as they are, others
// are placed at the stage.
func asManifestErrors(st *manifest.Stage, err error) manifest.ErrorList {
	var list manifest.ErrorList
	if errors.As(err, &list) {
		return list
	}
	var e *manifest.Error
	if errors.As(err, &e) {
		return manifest.ErrorList{e}
	}
	return manifest.ErrorList{{Pos: st.Pos, Msg: fmt.Sprintf("stage %s: %v", st.Name, err)}}
}

func insideWorkspace(p string) bool {
	if filepath.IsAbs(p) {
		return false
	}
	c := filepath.Clean(p)
	return c != ".." && !strings.HasPrefix(c, ".."+string(filepath.Separator)) && c != "." && c != ".loom" &&
		!strings.HasPrefix(c, ".loom"+string(filepath.Separator))
}

// Options control a run.
type Options struct {
	Targets  []string  // run these stages and what they need; all when empty
	Jobs     int       // stages at once; runtime.NumCPU() when 0
	Force    bool      // ignore cache hits
	Verify   bool      // run cached stages too and check they reproduce their entries
	Log      io.Writer // progress lines; io.Discard when nil
	Progress io.Writer // a terminal for progress displays, or nil
	// Remote, when set, is a shared cache: looked up on local misses and given what stages
	// make, as RemoteMode allows (RemoteRead, RemoteWrite or RemoteReadWrite, the default).
	Remote     remote.Store
	RemoteMode string
	// Storage is a database URL through which processes on several machines share work (a
	// sweep's trials); stages that can share work read it from Env.
	Storage string
	// NotAnExperiment marks a run made on the way to something else (`loom predict` making
	// sure its model is there): it updates the last run but is not recorded as an experiment.
	NotAnExperiment bool
}

// StageResult is what became of one stage.
type StageResult struct {
	Name    string
	Kind    string
	Status  Status
	Seconds float64
	Err     error    // why it failed or was skipped
	Source  string   // "remote" when its result came from the remote cache
	Action  ActionID // empty when the key could not be computed
	Entry   *Entry   // its result when it ran or was cached
}

// Report is the outcome of a run, stages in topological order.
type Report struct {
	Stages []*StageResult
	Trials map[string][]Trial // tune stage -> trials

	partActions []ActionID // cache entries used by parts run by stages (a sweep's trials)
}

// Run runs the selected stages, in parallel where the DAG allows, taking results from the
// cache where it can. A failing stage stops the stages that need it; independent stages go
// on. Cancelling ctx stops running stages and skips the rest. The returned error is for
// problems of the run itself (the lock, the cache); stage failures are in the report.
func (w *Workspace) Run(ctx context.Context, opt Options) (*Report, error) {
	names := w.M.Order
	if len(opt.Targets) > 0 {
		var err error
		if names, err = w.M.Closure(opt.Targets...); err != nil {
			return nil, err
		}
	}
	unlock, err := lockDir(w.loom, opt.Log)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if opt.Log != nil {
		opt.Log = &lockedWriter{w: opt.Log} // stages running side by side log to it
	}
	git := startGit(w.M.Dir)
	ex := &executor{ws: w, m: w.M, jobs: w.jobs, opt: opt, materialize: true, cpus: newCPUs(0)}
	if opt.Remote != nil {
		warnings := opt.Log
		if warnings == nil {
			warnings = os.Stderr
		}
		if ex.share, err = newSharing(opt.Remote, opt.RemoteMode, w.cache, warnings); err != nil {
			return nil, err
		}
	}
	rep := ex.run(ctx, names)
	ex.share.wait() // the run's uploads finish before it reports
	if err := w.cache.Commit(); err != nil {
		return rep, fmt.Errorf("cache: %w", err)
	}
	if err := w.files.save(); err != nil {
		return rep, err
	}
	if err := w.cache.Flush(); err != nil {
		return rep, err
	}
	s, err := w.saveRecord(rep)
	if err == nil && !opt.NotAnExperiment {
		err = w.saveExperiment(s, <-git)
	}
	if err != nil {
		return rep, err
	}
	return rep, trim(w.loom, time.Now())
}

// lockDir takes the lock of the workspace whose .loom is loom, saying so on log when another
// process holds it. Holding it, it clears what killed runs left behind. The caller has checked
// the layout (CheckLayout) before writing anything below it.
func lockDir(loom Layout, log io.Writer) (func(), error) {
	l := flock.New(loom.Lock())
	ok, err := l.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", l.Path(), err)
	}
	if !ok {
		if log != nil {
			fmt.Fprintf(log, "waiting for another loom process in %s to finish\n", filepath.Dir(loom.Dir()))
		}
		if err := l.Lock(); err != nil {
			return nil, fmt.Errorf("lock %s: %w", l.Path(), err)
		}
	}
	cleanTmp(loom)
	n, err := proc.Reap(loom.Procs(), 5*time.Second)
	if n > 0 && log != nil {
		fmt.Fprintf(log, "killed %d process group(s) left running by an earlier loom that was killed\n", n)
	}
	if err != nil {
		l.Unlock()
		return nil, err
	}
	return func() { l.Unlock() }, nil
}

// executor runs one set of stages of one manifest.
type executor struct {
	ws          *Workspace
	m           *manifest.Manifest
	jobs        map[string]Job
	opt         Options
	materialize bool // restore workspace outputs and fill .loom/out
	parts       *partRunner
	share       *sharing // the remote cache; nil without one
	cpus        *cpus    // what the stages compute on

	mu        sync.Mutex
	trialsOut map[string][]Trial
}

// run runs the stages names (a closed set: every stage they need is among them) with a pool
// of workers. A worker that finishes a stage takes on a stage that became ready through it
// itself, so a chain of cached stages runs on one goroutine without a hand-off per stage.
func (ex *executor) run(ctx context.Context, names []string) *Report {
	workers := ex.opt.Jobs
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	q := newQueue(ex.m, names)
	var wg sync.WaitGroup
	for range min(workers, len(names)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				res, ok := q.next()
				if !ok {
					return
				}
				ex.runReady(ctx, q, res)
				q.finish(res.Name)
			}
		}()
	}
	wg.Wait()
	rep := &Report{Trials: ex.trialsOut}
	if ex.parts != nil {
		rep.partActions = ex.parts.actions
	}
	for _, n := range names {
		rep.Stages = append(rep.Stages, q.results[n])
	}
	return rep
}

// runReady runs a stage whose needs have all finished, or skips it when one of them failed or
// the run is cancelled.
func (ex *executor) runReady(ctx context.Context, q *queue, res *StageResult) {
	st := ex.m.Stages[res.Name]
	up := make(map[string]*Entry, len(st.Needs))
	for _, need := range st.Needs {
		r := q.results[need]
		if r.Entry == nil || r.Status == Failed {
			res.Status, res.Err = Skipped, fmt.Errorf("needs %s, which %s", need, r.Status)
			return
		}
		up[need] = r.Entry
	}
	if ctx.Err() != nil {
		res.Status, res.Err = Skipped, context.Cause(ctx)
		return
	}
	ex.stage(ctx, st, up, res)
}

// queue hands out stages whose needs have finished, in manifest order among the ready ones.
type queue struct {
	results    map[string]*StageResult
	dependants map[string][]string

	mu      sync.Mutex
	cond    *sync.Cond
	waiting map[string]int // needs not yet finished
	ready   []string
	left    int // stages not yet finished
}

func newQueue(m *manifest.Manifest, names []string) *queue {
	q := &queue{
		results:    make(map[string]*StageResult, len(names)),
		dependants: make(map[string][]string, len(names)),
		waiting:    make(map[string]int, len(names)),
		left:       len(names),
	}
	q.cond = sync.NewCond(&q.mu)
	for _, n := range names {
		st := m.Stages[n]
		q.results[n] = &StageResult{Name: n, Kind: st.Uses}
		q.waiting[n] = len(st.Needs)
		for _, need := range st.Needs {
			q.dependants[need] = append(q.dependants[need], n)
		}
		if len(st.Needs) == 0 {
			q.ready = append(q.ready, n)
		}
	}
	return q
}

// next returns a ready stage, waiting for one; false when every stage has finished.
func (q *queue) next() (*StageResult, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ready) == 0 {
		if q.left == 0 {
			return nil, false
		}
		q.cond.Wait()
	}
	n := q.ready[0]
	q.ready = q.ready[1:]
	return q.results[n], true
}

// finish records that a stage is done and releases the stages waiting for it. The worker
// calling it takes the first released stage itself; other workers are woken only for more.
func (q *queue) finish(name string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.left--
	released := 0
	for _, d := range q.dependants[name] {
		if q.waiting[d]--; q.waiting[d] == 0 {
			q.ready = append(q.ready, d)
			released++
		}
	}
	switch {
	case q.left == 0:
		q.cond.Broadcast()
	case released > 1:
		for range released - 1 {
			q.cond.Signal()
		}
	}
}

// stage runs or restores one stage and fills res.
func (ex *executor) stage(ctx context.Context, st *manifest.Stage, up map[string]*Entry, res *StageResult) {
	start := time.Now()
	log := ex.log()
	defer func() {
		res.Seconds = time.Since(start).Seconds()
		switch res.Status {
		case Failed:
			fmt.Fprintf(log, "%s: failed after %.2fs: %v\n", st.Name, res.Seconds, res.Err)
		case Ran:
			fmt.Fprintf(log, "%s: ran in %.2fs\n", st.Name, res.Seconds)
		}
	}()
	job := ex.jobs[st.Name]
	outputs := make(map[string]OutputID, len(up))
	for n, e := range up {
		outputs[n] = e.Output
	}
	recipe, err := newRecipe(ex.m, st, ex.ws.kinds, ex.jobs, ex.ws.files, outputs)
	if err != nil {
		res.Status, res.Err = Failed, err
		return
	}
	res.Action = recipe.ID()
	if ex.opt.Verify {
		ex.verify(ctx, st, job, recipe, up, res)
		return
	}
	if ex.hit(st, res) {
		return
	}
	// Trials running side by side often share upstream stages: the first to get here runs
	// the stage, the others wait and then find its entry.
	unlock := ex.ws.lockAction(res.Action)
	defer unlock()
	if ex.hit(st, res) {
		return
	}
	fmt.Fprintf(log, "%s: running (%s)\n", st.Name, st.Uses)
	e, err := ex.execute(ctx, st, job, recipe, up)
	if err != nil {
		res.Status, res.Err = Failed, err
		return
	}
	e.Seconds = time.Since(start).Seconds()
	ex.ws.cache.PutLater(e)
	ex.share.queue(e)
	if err := ex.restore(st, e); err != nil {
		res.Status, res.Err = Failed, err
		return
	}
	ex.done(res, Ran, e)
}

// verify runs a stage that has a cache entry and checks that it produces the same output, as
// cmd/go's GODEBUG=gocacheverify=1 does: a cheap, permanent test of reproducibility. A stage
// without an entry runs as usual.
//
// The cached objects are hashed in full first, whatever their stamps say, so that a damaged one
// is named (and replaced by this run's output) rather than blamed on a later stage.
func (ex *executor) verify(ctx context.Context, st *manifest.Stage, job Job, recipe *Recipe, up map[string]*Entry, res *StageResult) {
	cached, _ := ex.ws.cache.read(res.Action)
	var damaged []string
	if cached != nil {
		damaged = ex.ws.cache.Damaged(cached)
	}
	e, err := ex.execute(ctx, st, job, recipe, up)
	if err != nil {
		res.Status, res.Err = Failed, err
		return
	}
	if cached == nil {
		if err := ex.ws.cache.Put(e); err != nil {
			res.Status, res.Err = Failed, fmt.Errorf("cache: %w", err)
			return
		}
	} else if e.Output != cached.Output {
		res.Status, res.Err = Failed, fmt.Errorf("not reproducible: %s", describeDiff(cached.Result, e.Result))
		return
	}
	if len(damaged) > 0 {
		res.Status, res.Err = Failed, fmt.Errorf("damaged cache: %s did not match its SHA-256; this run stored it again", strings.Join(damaged, ", "))
		return
	}
	if err := ex.restore(st, e); err != nil {
		res.Status, res.Err = Failed, err
		return
	}
	ex.done(res, Ran, e)
}

// describeDiff names what differs between two results of one action.
func describeDiff(a, b Result) string {
	var diffs []string
	files := map[string]Digest{}
	for _, f := range append(a.Files, a.Outs...) {
		files[f.Path] = f.Digest
	}
	for _, f := range append(b.Files, b.Outs...) {
		if files[f.Path] != f.Digest {
			diffs = append(diffs, f.Path)
		}
	}
	for k, v := range b.Metrics {
		if a.Metrics[k] != v {
			diffs = append(diffs, "metric "+k)
		}
	}
	sort.Strings(diffs)
	if len(diffs) == 0 {
		return "its output differs from the cached one"
	}
	return "differs from the cached output in " + strings.Join(diffs, ", ")
}

// hit takes st's result from the cache when the cache may be used and has it.
func (ex *executor) hit(st *manifest.Stage, res *StageResult) bool {
	if !st.Cache || ex.opt.Force {
		return false
	}
	e, err := ex.ws.cache.Get(res.Action)
	if err != nil {
		if !ex.share.fetch(res.Action, st.Name) {
			return false
		}
		if e, err = ex.ws.cache.Get(res.Action); err != nil {
			return false
		}
		res.Source = "remote"
	}
	if err := ex.restore(st, e); err != nil {
		res.Status, res.Err = Failed, err
		return true
	}
	ex.done(res, Cached, e)
	return true
}

// done records a stage's entry; failed assertions make it a failure.
func (ex *executor) done(res *StageResult, s Status, e *Entry) {
	res.Status, res.Entry = s, e
	ex.noteTrials(res.Name, e)
	if len(e.Failed) > 0 {
		res.Status, res.Err = Failed, &AssertError{Failed: e.Failed}
	}
}

// AssertError reports failed assertions of a stage.
type AssertError struct{ Failed []string }

func (e *AssertError) Error() string {
	return "assertion failed: " + strings.Join(e.Failed, "; ")
}

func (ex *executor) log() io.Writer {
	if ex.opt.Log == nil {
		return io.Discard
	}
	return ex.opt.Log
}

// execute runs job in a fresh artifact folder and stores what it produced.
func (ex *executor) execute(ctx context.Context, st *manifest.Stage, job Job, recipe *Recipe, up map[string]*Entry) (*Entry, error) {
	c := ex.ws.cache
	out, err := os.MkdirTemp(ex.ws.loom.Tmp(), st.Name+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(out)
	for _, o := range job.Outs() {
		if err := clearOut(ex.m.Dir, o); err != nil {
			return nil, fmt.Errorf("output %s: %w", o, err)
		}
	}
	env := &Env{
		Stage:    st,
		Action:   recipe.ID(),
		Storage:  ex.opt.Storage,
		Dir:      ex.m.Dir,
		Out:      out,
		Log:      &prefixWriter{w: ex.log(), prefix: st.Name + ": "},
		Progress: ex.opt.Progress,
		parts:    ex.partRunner(),
		loom:     ex.ws.loom,
		cpus:     ex.cpus,
		held:     ex.cpus.take(1),
	}
	defer func() { ex.cpus.give(env.held) }()
	for _, n := range st.Needs {
		e := up[n]
		in := Input{Stage: n, Kind: ex.m.Stages[n].Uses, Output: e.Output, files: make(map[string]string, len(e.Files))}
		for _, f := range e.Files {
			if err := c.Verify(f); err != nil {
				return nil, fmt.Errorf("input from stage %s: %w", n, err)
			}
			in.files[f.Path] = c.ObjectPath(f.Digest)
		}
		env.Inputs = append(env.Inputs, in)
	}
	err = job.Run(ctx, env)
	releaseMemory()
	env.Log.(*prefixWriter).Flush()
	if err == nil {
		err = ctx.Err() // a job that finished as the run was cancelled is not stored
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("cancelled: %w", context.Cause(ctx))
		}
		return nil, err
	}
	r := env.result
	if r.Files, err = ex.storeTree(out, "", true); err != nil {
		return nil, err
	}
	for _, o := range job.Outs() {
		refs, err := ex.storeTree(filepath.Join(ex.m.Dir, o), o, false)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("declared output %s was not written", o)
		}
		if err != nil {
			return nil, err
		}
		r.Outs = append(r.Outs, refs...)
	}
	return &Entry{Action: recipe.ID(), Output: r.outputID(), Result: r, Recipe: recipe}, nil
}

// storeTree stores the file or every file below the folder at path, naming each by prefix
// joined with its path relative to path; with move, the files are the cache's to take
// (Cache.StoreMove).
//
// Outputs hold regular files and folders only: a link would be stored as what it points to and
// restored as a copy, and a special file could block the read.
func (ex *executor) storeTree(path, prefix string, move bool) ([]FileRef, error) {
	store := ex.ws.cache.Store
	if move {
		store = ex.ws.cache.StoreMove
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		if err := checkStorable(path, fi.Mode()); err != nil {
			return nil, err
		}
		ref, err := store(path, prefix)
		return []FileRef{ref}, err
	}
	var refs []FileRef
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if err := checkStorable(p, d.Type()); err != nil {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		ref, err := store(p, filepath.ToSlash(filepath.Join(prefix, rel)))
		refs = append(refs, ref)
		return err
	})
	return refs, err
}

func checkStorable(path string, mode fs.FileMode) error {
	switch {
	case mode&fs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link; outputs must be regular files and folders", path)
	case !mode.IsRegular():
		return fmt.Errorf("%s is not a regular file; outputs must be regular files and folders", path)
	}
	return nil
}

// restore puts a stage's workspace outputs in place (skipping files that already hold the
// right content) and refreshes .loom/out/STAGE.
func (ex *executor) restore(st *manifest.Stage, e *Entry) error {
	if !ex.materialize {
		return nil
	}
	for _, o := range e.Outs {
		fi, err := checkOutPath(ex.m.Dir, o.Path)
		if err != nil {
			return fmt.Errorf("restore %s: %w", o.Path, err)
		}
		path := filepath.Join(ex.m.Dir, filepath.FromSlash(o.Path))
		if fi != nil && fi.Mode().IsRegular() {
			if d, err := ex.ws.files.file(path, fi); err == nil && d == o.Digest {
				continue
			}
		}
		if err := ex.ws.cache.Restore(o, path); err != nil {
			return fmt.Errorf("restore %s: %w", o.Path, err)
		}
	}
	return ex.ws.linkOut(st.Name, e)
}

// linkOut makes .loom/out/STAGE hold the stage's artifact files, as hard links to the objects.
// A marker file names the output it holds, so an unchanged stage costs one read.
func (w *Workspace) linkOut(stage string, e *Entry) error {
	dir := w.loom.Out(stage)
	if len(e.Files) == 0 {
		if _, err := os.Lstat(dir); err != nil {
			return nil // the usual case of a stage without artifacts: one syscall
		}
		return os.RemoveAll(dir)
	}
	marker := filepath.Join(dir, ".output")
	if b, err := readFile(marker); err == nil && string(b) == string(e.Output) && w.linked(dir, e) {
		return nil
	}
	tmp, err := os.MkdirTemp(w.loom.Tmp(), "out-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	for _, f := range e.Files {
		dst := filepath.Join(tmp, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Link(w.cache.ObjectPath(f.Digest), dst); err != nil {
			if err := w.cache.Restore(f, dst); err != nil {
				return err
			}
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, ".output"), []byte(e.Output), 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	return os.Rename(tmp, dir)
}

// linked reports whether every artifact file in dir is still a link to its object: a damaged
// object is replaced by a new file, which the old link does not see.
func (w *Workspace) linked(dir string, e *Entry) bool {
	for _, f := range e.Files {
		a, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return false
		}
		b, err := os.Lstat(w.cache.ObjectPath(f.Digest))
		if err != nil || !os.SameFile(a, b) {
			return false
		}
	}
	return true
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// prefixWriter prefixes every line written to it; partial lines wait for their end.
type prefixWriter struct {
	w      io.Writer
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := append([]byte(p.prefix), p.buf[:i+1]...)
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

// Flush writes a pending partial line.
func (p *prefixWriter) Flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		p.w.Write(append(append([]byte(p.prefix), p.buf...), '\n'))
		p.buf = nil
	}
}

// bigHeap is the heap goal past which a finished job's memory is handed back at once.
const bigHeap = 256 << 20

// releaseMemory collects and returns to the system the memory a finished job left, when the
// heap has grown big. Stages run one after another in one process: without it the garbage of
// each big stage stayed mapped while the next allocated its own, and a million-row run
// peaked at 2.0 GB where its largest stage alone takes 0.7 GB. A small heap is left to the
// collector: the forced collection would cost more than it saves.
func releaseMemory() {
	s := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() == metrics.KindUint64 && s[0].Value.Uint64() > bigHeap {
		debug.FreeOSMemory()
	}
}
