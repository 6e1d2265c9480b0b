package pipeline

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// GCStats counts what GC removed.
type GCStats struct {
	Actions, Objects int
	Bytes            int64
}

// GC removes from the cache in loomDir every action entry that neither the last run nor the
// newest keep experiments of any manifest in the workspace reference (and older experiment
// records), then every object no remaining entry references, and the training checkpoints.
// It holds the workspace lock meanwhile, so it never removes what a running `loom run` is
// writing.
func GC(loomDir string, keep int) (GCStats, error) {
	var st GCStats
	if err := CheckLayout(loomDir); err != nil {
		return st, err
	}
	l := Layout(loomDir)
	unlock, err := lockDir(l, nil)
	if err != nil {
		return st, err
	}
	defer unlock()
	kept := map[ActionID]bool{}
	if err := keptByExperiments(l, keep, kept); err != nil {
		return st, err
	}
	runs, _ := filepath.Glob(filepath.Join(l.Runs(), "*.json"))
	for _, r := range runs {
		b, err := os.ReadFile(r)
		if err != nil {
			return st, err
		}
		var s Summary
		if err := json.Unmarshal(b, &s); err != nil {
			continue // not a run record
		}
		for _, a := range s.Actions {
			kept[a] = true
		}
	}
	c := newCache(loomDir)
	objects := map[Digest]bool{}
	err = walkFiles(l.Actions(), func(path string, fi fs.FileInfo) error {
		isRecipe := strings.HasSuffix(path, recipeSuffix)
		id := ActionID(strings.TrimSuffix(filepath.Base(path), recipeSuffix))
		if kept[id] {
			if isRecipe {
				return nil
			}
			if e, err := c.Get(id); err == nil {
				for _, f := range append(e.Files, e.Outs...) {
					objects[f.Digest] = true
				}
				return nil
			}
		}
		if !isRecipe {
			st.Actions++
		}
		return os.Remove(path)
	})
	if err != nil {
		return st, err
	}
	err = walkFiles(l.Objects(), func(path string, fi fs.FileInfo) error {
		if objects[Digest(filepath.Base(path))] {
			return nil
		}
		st.Objects++
		st.Bytes += fi.Size()
		return os.Remove(path)
	})
	if err != nil {
		return st, err
	}
	// Shortcuts, not results: training checkpoints (a longer run can start from scratch), and
	// what earlier versions kept.
	for _, dir := range l.shortcuts() {
		if err := os.RemoveAll(dir); err != nil {
			return st, err
		}
	}
	if err := c.Flush(); err != nil {
		return st, err
	}
	return st, nil
}

func walkFiles(root string, fn func(string, fs.FileInfo) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return fn(p, fi)
	})
}
