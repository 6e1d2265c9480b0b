package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// An ActionID is a stage's cache key: the hash of a complete description of one repeatable
// computation — the stage kind and the version of its implementation, the stage's resolved
// settings, the content digests of the workspace files it reads and the OutputIDs of the
// upstream stages it reads.
type ActionID string

// An OutputID is the hash of everything a stage produced: the digests of its artifact files and
// workspace outputs, its metrics and its tables. Downstream ActionIDs are built from OutputIDs,
// not from upstream ActionIDs, so a stage whose upstream reran but produced identical bytes is
// still a cache hit (early cutoff).
type OutputID string

// A Digest is the hex SHA-256 of a file's content.
type Digest string

// Cache is a content-addressed store of stage results, kept in a workspace's .loom folder:
//
//	objects/ab/abcdef…   file contents, named by their digest, read-only
//	actions/ab/abcdef…   one Entry per ActionID, as JSON
//
// Every write goes to a temporary file that is renamed into place, so a crash leaves either
// the old state or the new, never a half-written file under its final name. An entry is trusted
// only if it parses and every object it names exists with the recorded size; anything else is
// a miss, never an error. Several processes may share a cache: the worst they can do is
// duplicate work. The executor still takes the workspace lock so that two runs do not fight
// over the workspace outputs they restore.
type Cache struct {
	dir string
}

// OpenCache opens (creating if needed) the cache in dir.
func OpenCache(dir string) (*Cache, error) {
	for _, sub := range []string{"objects", "actions", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	return &Cache{dir: dir}, nil
}

// Dir returns the cache's folder.
func (c *Cache) Dir() string { return c.dir }

// An Entry is what the cache records for one ActionID.
type Entry struct {
	Action  ActionID `json:"action"`
	Output  OutputID `json:"output"`
	Result           // what the stage produced
	Recipe  *Recipe  `json:"-"`       // what went into the ActionID, stored beside the entry
	Seconds float64  `json:"seconds"` // how long the run took
}

// A Result is everything a stage produced; its hash is the OutputID.
type Result struct {
	Files   []FileRef          `json:"files,omitempty"`   // artifact files, by name
	Outs    []FileRef          `json:"outs,omitempty"`    // workspace files, by path relative to the workspace
	Metrics map[string]float64 `json:"metrics,omitempty"` // numbers the stage reports
	Tables  []Table            `json:"tables,omitempty"`  // tables the stage reports
	Failed  []string           `json:"failed,omitempty"`  // failed assertions
}

// A FileRef names one stored file.
type FileRef struct {
	Path   string      `json:"path"`
	Digest Digest      `json:"digest"`
	Size   int64       `json:"size"`
	Mode   fs.FileMode `json:"mode"`
}

// A Table is a titled table a stage reports, printed after the run.
type Table struct {
	Title  string     `json:"title"`
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// outputID hashes a result canonically: encoding/json sorts map keys.
func (r *Result) outputID() OutputID {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err) // a Result holds only JSON-safe types
	}
	h := sha256.Sum256(b)
	return OutputID(hex.EncodeToString(h[:]))
}

func (c *Cache) actionPath(id ActionID) string {
	return filepath.Join(c.dir, "actions", string(id[:2]), string(id))
}

// ObjectPath returns where the object with digest d is (or would be) stored.
func (c *Cache) ObjectPath(d Digest) string {
	return filepath.Join(c.dir, "objects", string(d[:2]), string(d))
}

// missError explains a cache miss.
type missError struct{ reason string }

func (e *missError) Error() string { return "cache miss: " + e.reason }

// Get returns the entry for id. A missing, unreadable or damaged entry, or one whose objects are
// not all present, is reported as a miss with the reason.
func (c *Cache) Get(id ActionID) (*Entry, error) {
	b, err := readFile(c.actionPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &missError{"no entry"}
	}
	if err != nil {
		return nil, &missError{err.Error()}
	}
	var e Entry
	if err := json.Unmarshal(b, &e); err != nil || e.Action != id {
		return nil, &missError{"damaged entry"}
	}
	if e.Result.outputID() != e.Output {
		return nil, &missError{"entry does not match its output id"}
	}
	for _, list := range [][]FileRef{e.Files, e.Outs} {
		for _, f := range list {
			if !validDigest(f.Digest) {
				return nil, &missError{"damaged entry"}
			}
			fi, err := os.Stat(c.ObjectPath(f.Digest))
			if err != nil || fi.Size() != f.Size {
				return nil, &missError{"object " + string(f.Digest[:12]) + " missing"}
			}
		}
	}
	return &e, nil
}

// Put records e under its ActionID. Its objects must already be stored.
func (c *Cache) Put(e *Entry) error {
	e.Output = e.Result.outputID()
	if e.Recipe != nil {
		// The recipe only explains misses (loom status), so it lives in a file of its own
		// that hits never read.
		b, err := json.Marshal(e.Recipe)
		if err != nil {
			return err
		}
		if err := c.writeAtomic(c.actionPath(e.Action)+recipeSuffix, bytes.NewReader(b), 0o644, false); err != nil {
			return err
		}
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return c.writeAtomic(c.actionPath(e.Action), bytes.NewReader(b), 0o644, true)
}

// recipeSuffix names the file beside an entry that holds its recipe.
const recipeSuffix = ".recipe"

// Recipe returns the recipe recorded with the entry id.
func (c *Cache) Recipe(id ActionID) (*Recipe, error) {
	b, err := os.ReadFile(c.actionPath(id) + recipeSuffix)
	if err != nil {
		return nil, err
	}
	var r Recipe
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Store copies the file at path into the object store and returns its reference under the
// name ref. The digest is computed while copying, so the file is read once.
func (c *Cache) Store(path, ref string) (FileRef, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileRef{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return FileRef{}, err
	}
	tmp, err := os.CreateTemp(filepath.Join(c.dir, "tmp"), "obj-")
	if err != nil {
		return FileRef{}, err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	defer tmp.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), f)
	if err != nil {
		return FileRef{}, err
	}
	d := Digest(hex.EncodeToString(h.Sum(nil)))
	dst := c.ObjectPath(d)
	// An object already there is kept, unless a damaged copy is.
	if have, err := os.Stat(dst); err == nil && have.Size() == n {
		return FileRef{Path: ref, Digest: d, Size: n, Mode: fi.Mode().Perm()}, nil
	}
	if err := tmp.Sync(); err != nil {
		return FileRef{}, err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return FileRef{}, err
	}
	if err := os.Chmod(tmp.Name(), 0o444); err != nil {
		return FileRef{}, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return FileRef{}, err
	}
	return FileRef{Path: ref, Digest: d, Size: n, Mode: fi.Mode().Perm()}, nil
}

// Restore writes the object of ref to path atomically, replacing what is there.
func (c *Cache) Restore(ref FileRef, path string) error {
	src, err := os.Open(c.ObjectPath(ref.Digest))
	if err != nil {
		return err
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return c.writeAtomic(path, src, ref.Mode|0o200, false)
}

// writeAtomic writes r to a temporary file beside path and renames it into place.
func (c *Cache) writeAtomic(path string, r io.Reader, mode fs.FileMode, durable bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(path, r, mode, durable)
}

// writeFileAtomic writes r to a temporary file in path's folder and renames it to path, so
// that readers see the old content or the new, never a part. A durable write is synced to
// disk before the rename, so that not even a power cut leaves a file of the right name and
// size with the wrong content; cache entries and objects are written so, while the
// bookkeeping files that a no-op run rewrites (the file-digest memo, the run record) are
// not: damage to them costs a rehash or a lost record, never a wrong result.
func writeFileAtomic(path string, r io.Reader, mode fs.FileMode, durable bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, r)
	if err == nil && durable {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), mode)
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func validDigest(d Digest) bool {
	if len(d) != 64 {
		return false
	}
	return strings.Trim(string(d), "0123456789abcdef") == ""
}
