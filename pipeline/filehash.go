package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// racyWindow is how old a file's modification and status-change times must be before its
// digest is saved for later runs. File systems stamp times at a coarse tick, so a file
// written again within the same tick as the hashing could keep its stamp while changing
// content (git's "racily clean" problem); such fresh files are trusted by this process only
// and hashed again by the next.
const racyWindow = time.Second

// fileHasher hashes files and remembers each digest by (size, mtime, ctime, inode), so that a
// rerun in which nothing changed stats its inputs instead of reading them. The workspace keeps
// one for its input files and the cache one for its objects.
type fileHasher struct {
	path string // where the memo is saved

	mu    sync.Mutex
	memo  map[string]fileStamp // saved
	fresh map[string]fileStamp // too recent to save: this process only
	dirty bool
}

// A fileStamp identifies one version of a file well enough to reuse its digest.
type fileStamp struct {
	Size, Mtime, Ctime int64
	Inode              uint64
	Digest             Digest
}

func stampOf(fi fs.FileInfo) fileStamp {
	ino, ctime := inode(fi)
	return fileStamp{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Ctime: ctime, Inode: ino}
}

func (s fileStamp) sameVersion(o fileStamp) bool {
	return s.Size == o.Size && s.Mtime == o.Mtime && s.Ctime == o.Ctime && s.Inode == o.Inode
}

// A memo file holds one line per file, "size mtime ctime inode digest path", path last since it
// may hold spaces. Every command reads it, so it is parsed by hand: encoding/json took a tenth
// of a no-op run. A line that does not parse is skipped: a damaged memo only costs a rehash.
const memoHeader = "loom file memo v1\n"

func openFileHasher(path string) *fileHasher {
	h := &fileHasher{path: path, memo: map[string]fileStamp{}, fresh: map[string]fileStamp{}}
	b, err := readFile(path)
	if err != nil || !bytes.HasPrefix(b, []byte(memoHeader)) {
		return h
	}
	for line := range strings.Lines(string(b[len(memoHeader):])) {
		var st fileStamp
		f := strings.SplitN(strings.TrimSuffix(line, "\n"), " ", 6)
		if len(f) != 6 || !validDigest(Digest(f[4])) {
			continue
		}
		var errs [4]error
		st.Size, errs[0] = strconv.ParseInt(f[0], 10, 64)
		st.Mtime, errs[1] = strconv.ParseInt(f[1], 10, 64)
		st.Ctime, errs[2] = strconv.ParseInt(f[2], 10, 64)
		st.Inode, errs[3] = strconv.ParseUint(f[3], 10, 64)
		if errors.Join(errs[:]...) == nil {
			st.Digest = Digest(f[4])
			h.memo[f[5]] = st
		}
	}
	return h
}

// Digest returns the digest of the file or folder at path, following symbolic links. A
// folder's digest covers the relative paths and digests of every file below it, including
// those reached through links. Anything that is neither a regular file nor a folder (a named
// pipe, a device, a socket) is an error: reading it could block forever or never end.
func (h *fileHasher) Digest(path string) (Digest, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		if err := checkRegular(path, fi); err != nil {
			return "", err
		}
		return h.file(path, fi)
	}
	var list bytes.Buffer
	if err := h.listTree(&list, path, "", map[string]bool{}); err != nil {
		return "", err
	}
	sum := sha256.Sum256(list.Bytes())
	return Digest(hex.EncodeToString(sum[:])), nil
}

// listTree writes "digest relative/path" for every file below dir, in lexical order,
// following links to folders once each (seen holds the real paths entered, so a link cycle
// ends).
func (h *fileHasher) listTree(list *bytes.Buffer, dir, rel string, seen map[string]bool) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	if seen[real] {
		return fmt.Errorf("%s: a symbolic link loops back to %s", dir, real)
	}
	seen[real] = true
	defer delete(seen, real)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p, r := filepath.Join(dir, e.Name()), filepath.ToSlash(filepath.Join(rel, e.Name()))
		fi, err := os.Stat(p) // through links: the link's own stamp says nothing of its target
		if err != nil {
			return err
		}
		if fi.IsDir() {
			if err := h.listTree(list, p, r, seen); err != nil {
				return err
			}
			continue
		}
		if err := checkRegular(p, fi); err != nil {
			return err
		}
		dg, err := h.file(p, fi)
		if err != nil {
			return err
		}
		fmt.Fprintf(list, "%s %s\n", dg, r)
	}
	return nil
}

// checkRegular refuses what is neither a regular file nor a folder.
func checkRegular(path string, fi fs.FileInfo) error {
	m := fi.Mode()
	if m.IsRegular() || m.IsDir() {
		return nil
	}
	what := "special file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		what = "named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		what = "socket"
	case m&fs.ModeCharDevice != 0:
		what = "character device"
	case m&fs.ModeDevice != 0:
		what = "device"
	}
	return &fs.PathError{Op: "read", Path: path, Err: fmt.Errorf("a %s, not a regular file or folder", what)}
}

// file returns the digest of the regular file at path whose stat is fi.
func (h *fileHasher) file(path string, fi fs.FileInfo) (Digest, error) {
	stamp := stampOf(fi)
	if d, ok := h.known(path, stamp); ok {
		return d, nil
	}
	d, err := hashFile(path)
	if err != nil {
		return "", err
	}
	h.remember(path, stamp, d)
	return d, nil
}

// known returns the digest remembered for path at stamp.
func (h *fileHasher) known(path string, stamp fileStamp) (Digest, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	old, ok := h.memo[path]
	if !ok {
		old, ok = h.fresh[path]
	}
	if ok && old.sameVersion(stamp) {
		return old.Digest, true
	}
	return "", false
}

// remember records that the file at path had digest d when its stamp was stamp.
func (h *fileHasher) remember(path string, stamp fileStamp, d Digest) {
	stamp.Digest = d
	h.mu.Lock()
	defer h.mu.Unlock()
	newest := time.Unix(0, max(stamp.Mtime, stamp.Ctime))
	if time.Since(newest) <= racyWindow {
		h.fresh[path] = stamp
		return
	}
	delete(h.fresh, path)
	h.memo[path] = stamp
	h.dirty = true
}

// forget drops what is remembered of path.
func (h *fileHasher) forget(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.memo[path]; ok {
		delete(h.memo, path)
		h.dirty = true
	}
	delete(h.fresh, path)
}

// save writes the memo back if it changed, dropping files that no longer exist.
func (h *fileHasher) save() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.dirty {
		return nil
	}
	for k := range h.memo {
		if _, err := os.Lstat(k); err != nil {
			delete(h.memo, k)
		}
	}
	var b bytes.Buffer
	b.WriteString(memoHeader)
	for _, p := range slices.Sorted(maps.Keys(h.memo)) {
		st := h.memo[p]
		fmt.Fprintf(&b, "%d %d %d %d %s %s\n", st.Size, st.Mtime, st.Ctime, st.Inode, st.Digest, p)
	}
	h.dirty = false
	return writeFileAtomic(h.path, &b, 0o644, false)
}

func hashFile(path string) (Digest, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := sha256.New()
	if _, err := io.Copy(s, f); err != nil {
		return "", err
	}
	return Digest(hex.EncodeToString(s.Sum(nil))), nil
}
