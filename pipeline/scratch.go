package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Scratch is a folder of files that one stage keeps across runs to go faster, such as training
// checkpoints: an ASHA promotion from 5 to 15 epochs continues the 5-epoch run. Runs of the
// stage share it when they differ only in the settings the stage chose to ignore (the budget),
// with the same kind version and the same inputs. What is there must never change a stage's
// result, only how fast it comes: a missing or damaged file is a lost shortcut, and `loom gc`
// empties every scratch folder.
//
// A file is written once, atomically, and never changed; its name carries the SHA-256 of its
// content, which Read checks, so a damaged file is never used.
type Scratch struct {
	dir string // .loom/scratch/KEY
	tmp string // .loom/tmp, emptied by the next run if this one is killed mid-write
}

// Scratch returns the scratch folder of the running stage, shared with the runs whose settings
// differ from this one's only in the keys ignore; version is the stage kind's Version. It
// returns nil when the stage runs outside a workspace.
func (e *Env) Scratch(version string, ignore ...string) *Scratch {
	if e.loom == "" {
		return nil
	}
	settings := make(map[string]any, len(e.Stage.Settings))
	for k, v := range e.Stage.Settings {
		settings[k] = v
	}
	for _, k := range ignore {
		delete(settings, k)
	}
	up := make(map[string]OutputID, len(e.Inputs))
	for _, in := range e.Inputs {
		up[in.Stage] = in.Output
	}
	b, err := json.Marshal(struct {
		Kind, Version string
		Ignore        []string
		Settings      map[string]any
		Upstream      map[string]OutputID
	}{e.Stage.Uses, version, ignore, settings, up})
	if err != nil {
		return nil
	}
	h := sha256.Sum256(append([]byte("loom scratch v1\n"), b...))
	return &Scratch{dir: e.loom.Scratch(hex.EncodeToString(h[:])), tmp: e.loom.Tmp()}
}

// List returns the names of the files in the folder.
func (s *Scratch) List() []string {
	entries, _ := os.ReadDir(s.dir)
	var names []string
	for _, e := range entries {
		if name, _, ok := splitScratchName(e.Name()); ok {
			names = append(names, name)
		}
	}
	return names
}

// splitScratchName splits a stored file name, NAME.SHA256.
func splitScratchName(stored string) (name, digest string, ok bool) {
	i := strings.LastIndexByte(stored, '.')
	if i <= 0 || !validDigest(Digest(stored[i+1:])) {
		return "", "", false
	}
	return stored[:i], stored[i+1:], true
}

// Read returns the content of the file name, after checking it against its digest: a damaged
// file is removed and reported as an error.
func (s *Scratch) Read(name string) ([]byte, error) {
	matches, _ := filepath.Glob(filepath.Join(s.dir, name+".*"))
	for _, m := range matches {
		n, want, ok := splitScratchName(filepath.Base(m))
		if !ok || n != name {
			continue
		}
		b, err := os.ReadFile(m)
		if err != nil {
			return nil, err
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != want {
			os.Remove(m)
			return nil, fmt.Errorf("scratch file %s is damaged: its content does not match its SHA-256", m)
		}
		return b, nil
	}
	return nil, fmt.Errorf("no scratch file %s in %s", name, s.dir)
}

// Write stores the file name, written by write, unless the folder has one of that name.
func (s *Scratch) Write(name string, write func(io.Writer) error) error {
	for _, have := range s.List() {
		if have == name {
			return nil
		}
	}
	if err := notLink(s.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(s.tmp, "scratch-")
	if err != nil {
		return err
	}
	h := sha256.New()
	err = write(io.MultiWriter(f, h))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(s.dir, name+"."+hex.EncodeToString(h.Sum(nil))))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
