package pipeline

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// racyWindow is how old a file's modification time must be before its digest is remembered.
// File systems stamp mtimes at a coarse tick, so a file written again within the same tick as
// the hashing could keep size and mtime while changing content (git's "racily clean" problem);
// such fresh files are simply hashed again next time.
const racyWindow = time.Second

// fileHasher hashes workspace files and remembers each digest by (size, mtime, inode), so that
// a rerun in which nothing changed stats its inputs instead of reading them.
type fileHasher struct {
	path string // where the memo is saved

	mu    sync.Mutex
	memo  map[string]fileStamp
	dirty bool
}

// A fileStamp identifies one version of a file well enough to reuse its digest.
type fileStamp struct {
	Size   int64  `json:"size"`
	Mtime  int64  `json:"mtime"`
	Inode  uint64 `json:"inode"`
	Digest Digest `json:"digest"`
}

func openFileHasher(path string) *fileHasher {
	h := &fileHasher{path: path, memo: map[string]fileStamp{}}
	if b, err := os.ReadFile(path); err == nil {
		// A damaged memo is only a lost optimisation.
		if json.Unmarshal(b, &h.memo) != nil {
			h.memo = map[string]fileStamp{}
		}
	}
	return h
}

// Digest returns the digest of the file or folder at path. A folder's digest covers the
// relative paths and digests of every file below it.
func (h *fileHasher) Digest(path string) (Digest, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return h.file(path, fi)
	}
	var list bytes.Buffer
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		dg, err := h.file(p, fi)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(path, p)
		fmt.Fprintf(&list, "%s %s\n", dg, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(list.Bytes())
	return Digest(hex.EncodeToString(sum[:])), nil
}

func (h *fileHasher) file(path string, fi fs.FileInfo) (Digest, error) {
	stamp := fileStamp{Size: fi.Size(), Mtime: fi.ModTime().UnixNano(), Inode: inode(fi)}
	h.mu.Lock()
	old, ok := h.memo[path]
	h.mu.Unlock()
	if ok && old.Size == stamp.Size && old.Mtime == stamp.Mtime && old.Inode == stamp.Inode {
		return old.Digest, nil
	}
	d, err := hashFile(path)
	if err != nil {
		return "", err
	}
	if time.Since(fi.ModTime()) > racyWindow {
		stamp.Digest = d
		h.mu.Lock()
		h.memo[path] = stamp
		h.dirty = true
		h.mu.Unlock()
	}
	return d, nil
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
	b, err := json.Marshal(h.memo)
	if err != nil {
		return err
	}
	h.dirty = false
	return writeFileAtomic(h.path, bytes.NewReader(b), 0o644, false)
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
