package remote

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// fileStore is a remote on a shared folder (a network mount, another disk).
type fileStore struct{ root string }

func (f *fileStore) String() string { return "file://" + f.root }

func (f *fileStore) path(key string) string { return filepath.Join(f.root, filepath.FromSlash(key)) }

func (f *fileStore) Get(_ context.Context, key string) (io.ReadCloser, error) {
	r, err := os.Open(f.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	return r, err
}

func (f *fileStore) Has(_ context.Context, key string) (bool, error) {
	_, err := os.Stat(f.path(key))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Put writes a temporary file beside the blob, then links it into place: a link fails when
// the name exists, so ifAbsent holds against concurrent writers, and readers never see a part.
func (f *fileStore) Put(_ context.Context, key string, r io.Reader, _ int64, ifAbsent bool) error {
	dst := f.path(key)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if !ifAbsent {
		return os.Rename(tmp.Name(), dst)
	}
	if err := os.Link(tmp.Name(), dst); errors.Is(err, fs.ErrExist) {
		return ErrExists
	} else if err != nil {
		return err
	}
	return nil
}
