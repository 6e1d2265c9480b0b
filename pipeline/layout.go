package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A workspace's .loom folder holds:
//
//	objects/ab/…      the cache's file contents, by digest (Cache)
//	actions/ab/…      the cache's entries, by ActionID, and their recipes (Cache)
//	objects.memo      the stamps of objects when they were last hashed (Cache)
//	files.memo        the digests of the workspace's input files, by stamp (fileHasher)
//	out/STAGE/        each stage's artifact files, hard links to objects (linkOut)
//	runs/NAME.json    the last run of each manifest (record.go)
//	exps/NAME/ID.json every run of each manifest: an experiment (experiment.go)
//	trim.txt          when a run last trimmed the cache of entries unused for days (gc.go)
//	scratch/KEY/      what stages keep to go faster, e.g. training checkpoints (Scratch)
//	procs/PGID        the process groups of running shell commands (internal/proc)
//	tmp/              files being written; emptied whenever the lock is taken
//	lock              the workspace lock
//
// loom writes and deletes below .loom only through folders it made, never through a symbolic
// link: a workspace whose .loom, or a folder in it, is a link (say, from a hostile clone)
// is an error naming the link, found before anything is written.

// A Layout is a workspace's .loom folder; its methods name what is in it, so that the layout
// is written down here only.
type Layout string

// LayoutOf returns the layout of the workspace in dir, the manifest's folder.
func LayoutOf(dir string) Layout { return Layout(filepath.Join(dir, ".loom")) }

// Dir returns the .loom folder itself.
func (l Layout) Dir() string { return string(l) }

func (l Layout) path(parts ...string) string {
	return filepath.Join(append([]string{string(l)}, parts...)...)
}

// Objects, Actions, Out, Runs, Exps, Scratch, Procs and Tmp are the folders of the table above.
func (l Layout) Objects() string           { return l.path("objects") }
func (l Layout) Actions() string           { return l.path("actions") }
func (l Layout) Out(stage string) string   { return l.path("out", stage) }
func (l Layout) Runs() string              { return l.path("runs") }
func (l Layout) Exps(name string) string   { return l.path("exps", name) }
func (l Layout) Scratch(key string) string { return l.path("scratch", key) }
func (l Layout) Procs() string             { return l.path("procs") }
func (l Layout) Tmp() string               { return l.path("tmp") }

// FilesMemo and ObjectsMemo are the digest memos of input files and of objects.
func (l Layout) FilesMemo() string   { return l.path("files.memo") }
func (l Layout) ObjectsMemo() string { return l.path("objects.memo") }

// Lock is the workspace lock's file.
func (l Layout) Lock() string { return l.path("lock") }

// shortcuts are what gc removes besides unused entries and objects: what only makes runs faster
// (scratch), and what earlier versions of loom kept (valid, resume, files.json).
func (l Layout) shortcuts() []string {
	return []string{l.path("scratch"), l.path("valid"), l.path("resume"), l.path("files.json")}
}

// CheckLayout checks that loomDir and its entries are not symbolic links. A missing folder is
// fine: loom makes it. The folders one level further down (objects/ab, actions/ab,
// scratch/KEY) are checked when loom first writes or deletes in one (Cache.checkDir,
// Scratch.Write), so that a run that writes nothing reads no more folders than it must.
func CheckLayout(loomDir string) error {
	if err := notLink(loomDir); err != nil {
		return err
	}
	entries, err := os.ReadDir(loomDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Type()&fs.ModeSymlink != 0 {
			return linkError(filepath.Join(loomDir, e.Name()))
		}
	}
	return nil
}

func notLink(path string) error {
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return linkError(path)
	}
	return nil
}

// LinkError is a symbolic link where loom would write or delete.
type LinkError struct {
	Path, Target string
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("%s is a symbolic link (to %s); loom does not write or delete through links it did not make: remove the link", e.Path, e.Target)
}

func linkError(path string) error {
	target, _ := os.Readlink(path)
	return &LinkError{Path: path, Target: target}
}

// checkOutPath checks that no part of the workspace output rel (a path relative to the
// workspace dir), nor the output itself, is a symbolic link: restoring or clearing it would
// write or delete wherever the link points. It returns the output's own Lstat, or nil when it
// does not exist.
func checkOutPath(dir, rel string) (fs.FileInfo, error) {
	p := dir
	var fi fs.FileInfo
	for _, part := range strings.Split(filepath.ToSlash(filepath.Clean(rel)), "/") {
		p = filepath.Join(p, part)
		var err error
		if fi, err = os.Lstat(p); err != nil {
			return nil, nil // nothing below a missing part exists to follow
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return nil, linkError(p)
		}
	}
	return fi, nil
}

// clearOut removes the output rel before its stage runs, so that a command that appends to
// it starts from nothing, as it did the first time: a file is removed, a folder emptied (the
// command may expect it to exist).
func clearOut(dir, rel string) error {
	fi, err := checkOutPath(dir, rel)
	p := filepath.Join(dir, rel)
	switch {
	case err != nil:
		return err
	case fi == nil:
		return nil
	case !fi.IsDir():
		return os.Remove(p)
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return err
	}
	for _, e := range entries {
		// RemoveAll removes a link, not what it points to.
		if err := os.RemoveAll(filepath.Join(p, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// cleanTmp removes what interrupted runs left in .loom/tmp, and the temporary files of the
// bookkeeping files in .loom itself, which are written beside them. Only the holder of the
// workspace lock writes there, so it is called when the lock is taken.
func cleanTmp(loom Layout) {
	dir := loom.Tmp()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
	leftovers, _ := filepath.Glob(loom.path(".tmp-*"))
	for _, p := range leftovers {
		os.Remove(p)
	}
}
