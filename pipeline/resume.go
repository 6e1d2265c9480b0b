package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Checkpoints holds the checkpoints of the runs of one stage that differ only in a budget
// setting such as a train stage's `epochs`, so that a run with a larger budget can continue the
// longest shorter one instead of starting over, as ASHA's promotions do. A checkpoint is
// written once, atomically, and never changed; a damaged or missing one is only a lost
// shortcut, since the stage can always start from scratch.
//
// The checkpoints live in .loom/resume/KEY/, where KEY hashes the stage's kind version, its
// settings without the budget and the outputs of the stages it needs: everything that makes
// two runs the same run up to their budgets.
type Checkpoints struct {
	dir string
}

// Checkpoints returns the checkpoint store of the running stage for budget, the setting that
// varies (e.g. "epochs"); version is the stage kind's Version. It returns nil when the stage
// runs outside a workspace's cache.
func (e *Env) Checkpoints(version, budget string) *Checkpoints {
	tr, ok := e.trial.(*trialRunner)
	if !ok || tr == nil || tr.ws == nil {
		return nil
	}
	settings := make(map[string]any, len(e.Stage.Settings))
	for k, v := range e.Stage.Settings {
		if k != budget {
			settings[k] = v
		}
	}
	up := make(map[string]OutputID, len(e.Inputs))
	for _, in := range e.Inputs {
		up[in.Stage] = in.Output
	}
	b, err := json.Marshal(struct {
		Kind, Version, Budget string
		Settings              map[string]any
		Upstream              map[string]OutputID
	}{e.Stage.Uses, version, budget, settings, up})
	if err != nil {
		return nil
	}
	h := sha256.Sum256(append([]byte("loom resume v1\n"), b...))
	return &Checkpoints{dir: filepath.Join(tr.ws.dir, "resume", hex.EncodeToString(h[:]))}
}

// Longest returns the path of the checkpoint with the largest budget below limit.
func (c *Checkpoints) Longest(limit int) (budget int, path string, ok bool) {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return 0, "", false
	}
	for _, e := range entries {
		n, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".ckpt"))
		if err != nil || !strings.HasSuffix(e.Name(), ".ckpt") || n >= limit || n <= budget {
			continue
		}
		budget, path, ok = n, filepath.Join(c.dir, e.Name()), true
	}
	return budget, path, ok
}

// Save stores the checkpoint of a run with the given budget, written by write, unless one is
// there already.
func (c *Checkpoints) Save(budget int, write func(io.Writer) error) error {
	final := filepath.Join(c.dir, fmt.Sprintf("%d.ckpt", budget))
	if _, err := os.Stat(final); err == nil {
		return nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	// The temporary file is in .loom/tmp, which the next run empties if this one is killed.
	f, err := os.CreateTemp(filepath.Join(c.dir, "..", "..", "tmp"), "ckpt-")
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), final)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
