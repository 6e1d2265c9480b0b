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
	tmp string // .loom/tmp, emptied by the next run if this one is killed mid-write
}

// Checkpoints returns the checkpoint store of the running stage for budget, the setting that
// varies (e.g. "epochs"); version is the stage kind's Version. It returns nil when the stage
// runs outside a workspace's cache.
func (e *Env) Checkpoints(version, budget string) *Checkpoints {
	if e.loom == "" {
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
	return &Checkpoints{dir: filepath.Join(e.loom, "resume", hex.EncodeToString(h[:])), tmp: filepath.Join(e.loom, "tmp")}
}

// Longest returns the path of the checkpoint with the largest budget below limit. Checkpoints
// are named BUDGET-SHA256.ckpt; Read checks the digest.
func (c *Checkpoints) Longest(limit int) (budget int, path string, ok bool) {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return 0, "", false
	}
	for _, e := range entries {
		n, _, valid := parseCheckpointName(e.Name())
		if !valid || n >= limit || n <= budget {
			continue
		}
		budget, path, ok = n, filepath.Join(c.dir, e.Name()), true
	}
	return budget, path, ok
}

func parseCheckpointName(name string) (budget int, digest string, ok bool) {
	b, d, found := strings.Cut(strings.TrimSuffix(name, ".ckpt"), "-")
	n, err := strconv.Atoi(b)
	if !found || err != nil || !strings.HasSuffix(name, ".ckpt") || !validDigest(Digest(d)) {
		return 0, "", false
	}
	return n, d, true
}

// Read returns the content of the checkpoint at path, after checking it against the digest in
// its name: a damaged checkpoint would continue training from wrong weights. A damaged one is
// removed.
func (c *Checkpoints) Read(path string) ([]byte, error) {
	_, want, ok := parseCheckpointName(filepath.Base(path))
	if !ok {
		return nil, fmt.Errorf("%s is not a checkpoint", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != want {
		os.Remove(path)
		return nil, fmt.Errorf("checkpoint %s is damaged: its content does not match its SHA-256", path)
	}
	return b, nil
}

// Save stores the checkpoint of a run with the given budget, written by write, unless one is
// there already.
func (c *Checkpoints) Save(budget int, write func(io.Writer) error) error {
	if have, _ := filepath.Glob(filepath.Join(c.dir, fmt.Sprintf("%d-*.ckpt", budget))); len(have) > 0 {
		return nil
	}
	if err := notLink(c.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(c.tmp, "ckpt-")
	if err != nil {
		return err
	}
	h := sha256.New()
	err = write(io.MultiWriter(f, h))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(c.dir, fmt.Sprintf("%d-%s.ckpt", budget, hex.EncodeToString(h.Sum(nil)))))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
