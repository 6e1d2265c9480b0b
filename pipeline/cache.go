package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
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
// only if it parses and every object it names holds the content its digest says; anything
// else is a miss, never an error. An object is hashed whenever it is used (a hit, a stage's
// input, a restore) unless its (size, mtime, ctime, inode) stamp is the one it had when loom
// last hashed it; a damaged object is removed, so the stage that made it runs again. Several
// processes may share a cache: the worst they can do is duplicate work. The executor still
// takes the workspace lock so that two runs do not fight over the workspace outputs they
// restore.
type Cache struct {
	l       Layout
	objects *fileHasher // what each object held when it was last hashed
	checked sync.Map    // folders below objects/ and actions/ found not to be links
	commits commits     // objects and entries on their way to disk (commit.go)
}

// checkDir makes sure the folder of path, one of objects/ab or actions/ab, is not a symbolic
// link before loom writes or deletes in it; a missing folder is made.
func (c *Cache) checkDir(path string) error {
	dir := filepath.Dir(path)
	if _, ok := c.checked.Load(dir); ok {
		return nil
	}
	if err := notLink(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	c.checked.Store(dir, true)
	return nil
}

// OpenCache opens (creating if needed) the cache in dir.
func OpenCache(dir string) (*Cache, error) {
	l := Layout(dir)
	for _, sub := range []string{l.Objects(), l.Actions(), l.Tmp()} {
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return nil, fmt.Errorf("cache: %w", err)
		}
	}
	return newCache(dir), nil
}

func newCache(dir string) *Cache {
	l := Layout(dir)
	c := &Cache{l: l, objects: openFileHasher(l.ObjectsMemo())}
	c.commits.init()
	return c
}

// Flush saves what the cache learned about its objects' stamps, once the objects are synced:
// a saved stamp vouches for the content without a hash.
func (c *Cache) Flush() error {
	if err := c.syncObjects(); err != nil {
		return err
	}
	return c.objects.save()
}

// Dir returns the cache's folder.
func (c *Cache) Dir() string { return c.l.Dir() }

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
	Trials  []Trial            `json:"trials,omitempty"`  // sub-runs the stage reports (a sweep's trials)
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
	return filepath.Join(c.l.Actions(), string(id[:2]), string(id))
}

// ObjectPath returns where the object with digest d is (or would be) stored.
func (c *Cache) ObjectPath(d Digest) string {
	return filepath.Join(c.l.Objects(), string(d[:2]), string(d))
}

// missError explains a cache miss.
type missError struct{ reason string }

func (e *missError) Error() string { return "cache miss: " + e.reason }

// Get returns the entry for id. A missing, unreadable or damaged entry, or one whose objects are
// not all present and intact, is reported as a miss with the reason.
func (c *Cache) Get(id ActionID) (*Entry, error) {
	e := c.pendingEntry(id)
	if e == nil {
		var err error
		if e, err = c.read(id); err != nil {
			return nil, err
		}
	}
	for _, f := range e.refs() {
		if err := c.Verify(f); err != nil {
			return nil, &missError{err.Error()}
		}
	}
	c.touch(id)
	return e, nil
}

// touch marks the entry of id used now, for trim; at most once every touchAge, so that a
// no-op run does not rewrite every entry's time stamp.
func (c *Cache) touch(id ActionID) {
	path := c.actionPath(id)
	if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > touchAge {
		now := time.Now()
		os.Chtimes(path, now, now) // losing it only shortens the entry's life
	}
}

// read returns the entry for id without looking at its objects.
func (c *Cache) read(id ActionID) (*Entry, error) {
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
	for _, f := range e.refs() {
		if !validDigest(f.Digest) {
			return nil, &missError{"damaged entry"}
		}
	}
	return &e, nil
}

// refs lists every object the entry names.
func (e *Entry) refs() []FileRef { return append(e.Files[:len(e.Files):len(e.Files)], e.Outs...) }

// Damaged hashes every object of e in full, whatever its stamp says, removes those whose
// content does not match their digest and describes them.
func (c *Cache) Damaged(e *Entry) []string {
	var out []string
	for _, f := range e.refs() {
		path := c.ObjectPath(f.Digest)
		if d, err := hashFile(path); err == nil && d != f.Digest {
			c.discard(path)
			out = append(out, f.object())
		}
	}
	return out
}

// Verify checks that the object of ref holds the bytes its digest names: a stat when the
// object's stamp is the one it had when last hashed, else a hash. A damaged object is
// removed, so that whatever produced it runs again and stores it anew.
func (c *Cache) Verify(ref FileRef) error {
	path := c.ObjectPath(ref.Digest)
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("%s missing", ref.object())
	}
	d := Digest("")
	if fi.Mode().IsRegular() && fi.Size() == ref.Size {
		if d, err = c.objects.file(path, fi); err != nil {
			return fmt.Errorf("%s: %w", ref.object(), err)
		}
	}
	if d != ref.Digest {
		c.discard(path)
		return damagedError(ref)
	}
	return nil
}

// object names the object of ref in messages: "object 3f2a9c01b7e4 (model.safetensors)".
func (ref FileRef) object() string {
	return fmt.Sprintf("object %s (%s)", ref.Digest[:12], ref.Path)
}

func damagedError(ref FileRef) error {
	return fmt.Errorf("%s is damaged: its content does not match its SHA-256", ref.object())
}

// discard removes a damaged object.
func (c *Cache) discard(path string) {
	if c.checkDir(path) == nil {
		os.Remove(path)
	}
	c.objects.forget(path)
}

// Put records e under its ActionID. Its objects must already be stored; they are synced first.
func (c *Cache) Put(e *Entry) error {
	e.Output = e.Result.outputID()
	if err := c.syncObjects(); err != nil {
		return err
	}
	return c.writeEntry(e)
}

// writeEntry writes e's entry file (synced) and its recipe.
func (c *Cache) writeEntry(e *Entry) error {
	if err := c.checkDir(c.actionPath(e.Action)); err != nil {
		return err
	}
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
	tmp, err := os.CreateTemp(c.l.Tmp(), "obj-")
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
	out := FileRef{Path: ref, Digest: Digest(hex.EncodeToString(h.Sum(nil))), Size: n, Mode: fi.Mode().Perm()}
	return out, c.place(tmp, out)
}

// StoreMove is Store of a file the cache may take: an artifact a stage wrote under .loom/tmp,
// on the object store's file system. It is moved into place rather than copied, which for a
// large frame saves writing it twice. A file with another name (a shell command may link
// anything into LOOM_OUT) is copied, so that nothing outside the cache turns read-only.
func (c *Cache) StoreMove(path, ref string) (FileRef, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return FileRef{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return FileRef{}, err
	}
	if !soleLink(fi) {
		return c.Store(path, ref)
	}
	defer os.Remove(path) // no-op after a successful rename; the cache's either way
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return FileRef{}, err
	}
	out := FileRef{Path: ref, Digest: Digest(hex.EncodeToString(h.Sum(nil))), Size: n, Mode: fi.Mode().Perm()}
	return out, c.place(f, out)
}

// place makes f, a complete file on the object store's file system, the object of ref. It is
// synced before any entry names it (see commits), so that not even a power cut leaves an
// entry whose object has other content. An object already there is kept, unless it is damaged.
func (c *Cache) place(f *os.File, ref FileRef) error {
	dst := c.ObjectPath(ref.Digest)
	if _, err := os.Lstat(dst); err == nil && c.Verify(ref) == nil {
		return nil
	}
	if err := c.checkDir(dst); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o444); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return err
	}
	c.placed(dst)
	if have, err := os.Lstat(dst); err == nil {
		c.objects.remember(dst, stampOf(have), ref.Digest) // hashed on the way in
	}
	return nil
}

// Restore writes the object of ref to path atomically, replacing what is there. The bytes are
// hashed on the way, and a damaged object writes nothing. The temporary file is in .loom/tmp,
// or beside path when path is on another file system.
func (c *Cache) Restore(ref FileRef, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	err := c.restoreVia(c.l.Tmp(), ref, path)
	if errors.Is(err, syscall.EXDEV) {
		err = c.restoreVia(filepath.Dir(path), ref, path)
	}
	return err
}

func (c *Cache) restoreVia(tmpDir string, ref FileRef, path string) error {
	src, err := os.Open(c.ObjectPath(ref.Digest))
	if err != nil {
		return err
	}
	defer src.Close()
	err = writeFileAtomicIn(tmpDir, path, &checkedReader{r: src, h: sha256.New(), want: ref.Digest}, ref.Mode|0o200, false)
	if errors.Is(err, errDamaged) {
		c.discard(src.Name())
		return damagedError(ref)
	}
	return err
}

var errDamaged = errors.New("content does not match its digest")

// checkedReader hashes what it reads and fails at the end when the digest is not want.
type checkedReader struct {
	r    io.Reader
	h    hash.Hash
	want Digest
}

func (c *checkedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF && Digest(hex.EncodeToString(c.h.Sum(nil))) != c.want {
		return n, errDamaged
	}
	return n, err
}

// writeAtomic writes r to a temporary file in .loom/tmp and renames it to path, so that what
// a killed run leaves half-written is in one folder, emptied when the next run takes the lock.
func (c *Cache) writeAtomic(path string, r io.Reader, mode fs.FileMode, durable bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeFileAtomicIn(c.l.Tmp(), path, r, mode, durable)
}

// writeFileAtomic writes r to a temporary file in path's folder and renames it to path, so
// that readers see the old content or the new, never a part. A durable write is synced to
// disk before the rename, so that not even a power cut leaves a file of the right name and
// size with the wrong content; cache entries and objects are written so, while the
// bookkeeping files that a no-op run rewrites (the file-digest memo, the run record) are
// not: damage to them costs a rehash or a lost record, never a wrong result.
func writeFileAtomic(path string, r io.Reader, mode fs.FileMode, durable bool) error {
	return writeFileAtomicIn(filepath.Dir(path), path, r, mode, durable)
}

// writeFileAtomicIn is writeFileAtomic with the temporary file in tmpDir, which must be on
// path's file system.
func writeFileAtomicIn(tmpDir, path string, r io.Reader, mode fs.FileMode, durable bool) error {
	tmp, err := os.CreateTemp(tmpDir, ".tmp-"+filepath.Base(path)+"-")
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

// ReadFile returns the content of an artifact or out file of an entry, checked against its
// digest: a damaged object is an error, never wrong bytes.
func (c *Cache) ReadFile(ref FileRef) ([]byte, error) {
	f, err := os.Open(c.ObjectPath(ref.Digest))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(&checkedReader{r: f, h: sha256.New(), want: ref.Digest})
	if errors.Is(err, errDamaged) {
		return nil, damagedError(ref)
	}
	return b, err
}
