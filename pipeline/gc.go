package pipeline

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
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
	st, err = collect(l, kept, time.Time{})
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
	return st, nil
}

// Trimming, as cmd/go trims its build cache: an entry's file is touched when a run uses it (at
// most once an hour), and once a day a run removes the entries unused for trimAge that no
// manifest's last run names, so that sweeps do not grow the cache without bound.
const (
	trimEvery = 24 * time.Hour
	trimAge   = 5 * 24 * time.Hour
	touchAge  = time.Hour
)

// trim removes the entries unused for trimAge, when the last trim is trimEvery old. The caller
// holds the workspace lock.
func trim(l Layout, now time.Time) error {
	stamp := l.path("trim.txt")
	fi, err := os.Stat(stamp)
	if err == nil && now.Sub(fi.ModTime()) < trimEvery {
		return nil
	}
	if err == nil { // the first run only starts the clock
		if _, err := collect(l, map[ActionID]bool{}, now.Add(-trimAge)); err != nil {
			return err
		}
	}
	return os.WriteFile(stamp, []byte(now.UTC().Format(time.RFC3339)+"\n"), 0o644)
}

// collect removes every entry that is not in kept, not named by a manifest's last run and,
// when usedSince is not zero, not used since then; then every object no remaining entry names.
func collect(l Layout, kept map[ActionID]bool, usedSince time.Time) (GCStats, error) {
	var st GCStats
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
	if !usedSince.IsZero() {
		err := walkFiles(l.Actions(), func(path string, fi fs.FileInfo) error {
			if !strings.HasSuffix(path, recipeSuffix) && fi.ModTime().After(usedSince) {
				kept[ActionID(filepath.Base(path))] = true
			}
			return nil
		})
		if err != nil {
			return st, err
		}
	}
	c := newCache(string(l))
	objects := map[Digest]bool{}
	err := walkFiles(l.Actions(), func(path string, fi fs.FileInfo) error {
		isRecipe := strings.HasSuffix(path, recipeSuffix)
		id := ActionID(strings.TrimSuffix(filepath.Base(path), recipeSuffix))
		if kept[id] {
			if isRecipe {
				return nil
			}
			if e, err := c.read(id); err == nil {
				for _, f := range e.refs() {
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
	return st, c.Flush()
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
