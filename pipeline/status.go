package pipeline

import (
	"github.com/loom-ml/loom/remote"

	"fmt"
	"path/filepath"
	"strings"
)

// StageState says whether a stage is up to date and, when not, why.
type StageState struct {
	Name     string
	Kind     string
	UpToDate bool
	Reasons  []string
	Action   ActionID // its key as the inputs are now; empty when an upstream stage must run first
	OnRemote bool     // not in the local cache, but the remote has it
}

// Status reports, for every stage in topological order, whether `loom run` would take it from
// the cache, and if not, what changed since the run that made the closest cache entry.
// It reads input files but runs nothing and writes only the file-digest memo.
func (w *Workspace) Status() ([]StageState, error) { return w.StatusWith(nil) }

// StatusWith is Status that also asks store, when not nil, for the stages the local cache lacks:
// a remote entry's outputs give the keys of the stages after it.
func (w *Workspace) StatusWith(store remote.Store) ([]StageState, error) {
	var sh *sharing
	if store != nil {
		sh = &sharing{store: store, cache: w.cache, read: true}
	}
	prev := map[string]ActionID{}
	if last, err := LastRun(w.M.Path); err == nil {
		prev = last.StageActions()
	}
	outputs := map[string]OutputID{}
	var states []StageState
	for _, name := range w.M.Order {
		st := w.M.Stages[name]
		state := StageState{Name: name, Kind: st.Uses}
		var stale []string
		for _, n := range st.Needs {
			if _, ok := outputs[n]; !ok {
				stale = append(stale, n)
			}
		}
		switch {
		case len(stale) > 0:
			state.Reasons = []string{"needs " + strings.Join(stale, ", ") + ", which will run first"}
		case !st.Cache:
			state.Reasons = []string{"cache: false, runs every time"}
		default:
			state.UpToDate, state.Reasons, state.Action = w.explainStage(name, outputs, prev[name])
			if !state.UpToDate && sh != nil && state.Action != "" {
				state.OnRemote = sh.has(state.Action, outputs, name)
			}
		}
		states = append(states, state)
	}
	return states, w.files.save()
}

// explainStage computes a stage's key and looks it up; on a miss it compares the recipe with
// the one of the stage's previous run. It returns the key too.
func (w *Workspace) explainStage(name string, outputs map[string]OutputID, prev ActionID) (bool, []string, ActionID) {
	st := w.M.Stages[name]
	r, err := newRecipe(w.M, st, w.kinds, w.jobs, w.files, outputs)
	if err != nil {
		return false, []string{err.Error()}, ""
	}
	id := r.ID()
	e, err := w.cache.Get(id)
	if err == nil {
		outputs[name] = e.Output
		for _, o := range e.Outs {
			if d, err := w.files.Digest(filepath.Join(w.M.Dir, filepath.FromSlash(o.Path))); err != nil || d != o.Digest {
				return true, []string{"output " + o.Path + " differs from the cache: it will be restored"}, id
			}
		}
		return true, nil, id
	}
	if prev == "" {
		return false, []string{"never ran"}, id
	}
	if prev == id {
		return false, []string{fmt.Sprintf("cache entry unusable (%v)", err)}, id
	}
	old, perr := w.cache.Recipe(prev)
	if perr != nil {
		return false, []string{"no cache entry for these settings and inputs"}, id
	}
	why := explain(old, r)
	if len(why) == 0 {
		why = []string{"no cache entry for these settings and inputs"}
	}
	return false, why, id
}
