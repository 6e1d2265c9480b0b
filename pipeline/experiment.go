package pipeline

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Experiment is the record of one `loom run`: what ran, with which params, from which commit,
// and what came out. Each is its own file, .loom/exps/MANIFEST/ID.json, written atomically, so
// concurrent runs each keep theirs.
type Experiment struct {
	ID       string                        `json:"id"`
	Time     time.Time                     `json:"time"`
	Manifest string                        `json:"manifest"`
	Commit   string                        `json:"commit,omitempty"` // of the git repository holding the workspace
	Dirty    bool                          `json:"dirty,omitempty"`  // it had uncommitted changes
	Params   map[string]any                `json:"params"`           // the resolved params, flattened to dotted paths
	Metrics  map[string]map[string]float64 `json:"metrics"`
	Stages   map[string]ActionID           `json:"stages"`            // each stage's ActionID
	Actions  []ActionID                    `json:"actions,omitempty"` // every cache entry used, trials included
}

// gitState is the commit of the repository holding dir and whether its work tree has changes;
// Commit is empty outside a repository or without git.
type gitState struct {
	Commit string
	Dirty  bool
}

// startGit asks git about dir in the background, so that a run does not wait for it; nothing
// is started when no folder above dir has a .git.
func startGit(dir string) <-chan gitState {
	out := make(chan gitState, 1)
	if !insideGitRepo(dir) {
		out <- gitState{}
		return out
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var st gitState
		head, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "HEAD").Output()
		if err == nil {
			st.Commit = strings.TrimSpace(string(head))
			status, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output()
			st.Dirty = err == nil && len(bytes.TrimSpace(status)) > 0
		}
		out <- st
	}()
	return out
}

func insideGitRepo(dir string) bool {
	for {
		if _, err := os.Stat(filepath.Join(dir, ".git")); err == nil {
			return true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return false
		}
		dir = parent
	}
}

// newExperimentID returns 8 random hex digits: short to type, unlikely to repeat in one
// workspace.
func newExperimentID() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// manifestName is the name a manifest's records go by: its file name without extension.
func manifestName(manifestPath string) string {
	return strings.TrimSuffix(filepath.Base(manifestPath), filepath.Ext(manifestPath))
}

// saveExperiment records the run.
func (w *Workspace) saveExperiment(s *Summary, git gitState) error {
	e := &Experiment{
		ID: newExperimentID(), Time: s.Time, Manifest: manifestName(w.M.Path), Commit: git.Commit, Dirty: git.Dirty,
		Params: Flatten(w.M.Params), Metrics: s.Metrics, Stages: s.StageActions(), Actions: s.Actions,
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	dir := w.loom.Exps(e.Manifest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, e.ID+".json"), bytes.NewReader(b), 0o644, false)
}

// Flatten turns nested params into dotted paths: {train: {lr: 0.1}} is {"train.lr": 0.1}.
// Lists stay values.
func Flatten(params map[string]any) map[string]any {
	out := map[string]any{}
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
				walk(prefix+k+".", sub)
				continue
			}
			out[prefix+k] = v
		}
	}
	walk("", params)
	return out
}

// Experiments returns the recorded runs of the manifest at manifestPath, newest first.
func Experiments(manifestPath string) ([]*Experiment, error) {
	return readExperiments(LayoutOf(filepath.Dir(manifestPath)).Exps(manifestName(manifestPath)))
}

// readExperiments reads the records in dir, newest first.
func readExperiments(dir string) ([]*Experiment, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*Experiment
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var e Experiment
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, &e)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Time.Equal(out[j].Time) {
			return out[i].Time.After(out[j].Time)
		}
		return out[i].ID > out[j].ID
	})
	return out, nil
}

// FindExperiment returns the experiment whose id starts with prefix, or an error naming the
// ambiguity or the ids there are.
func FindExperiment(exps []*Experiment, prefix string) (*Experiment, error) {
	var found []*Experiment
	for _, e := range exps {
		if strings.HasPrefix(e.ID, prefix) {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		ids := make([]string, 0, min(len(exps), 10))
		for _, e := range exps[:min(len(exps), 10)] {
			ids = append(ids, e.ID)
		}
		return nil, fmt.Errorf("no experiment %q (the newest: %s)", prefix, strings.Join(ids, ", "))
	}
	ids := make([]string, len(found))
	for i, e := range found {
		ids[i] = e.ID
	}
	return nil, fmt.Errorf("experiment %q is ambiguous: %s", prefix, strings.Join(ids, ", "))
}

// keptByExperiments adds to keep the cache entries of the newest n experiments of each
// manifest in the workspace.
func keptByExperiments(l Layout, n int, keep map[ActionID]bool) error {
	dirs, err := filepath.Glob(l.Exps("*"))
	if err != nil {
		return err
	}
	for _, d := range dirs {
		exps, err := readExperiments(d)
		if err != nil {
			return err
		}
		for i, e := range exps {
			if i >= n {
				// Older records go with the entries they name.
				if err := os.Remove(filepath.Join(d, e.ID+".json")); err != nil {
					return err
				}
				continue
			}
			for _, a := range slices.Concat(e.Actions, slices.Collect(maps.Values(e.Stages))) {
				keep[a] = true
			}
		}
	}
	return nil
}
