// Package remote holds loom's shared caches: a store of blobs by key behind one interface, on a
// shared folder (file://) or any S3-compatible service (s3://). The layout mirrors the local
// cache: objects/ab/DIGEST for file contents, actions/ab/ACTIONID for entries, written after
// their objects and never overwritten.
package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
)

// ErrNotFound is a Get of a key the store does not have.
var ErrNotFound = errors.New("not in the remote")

// ErrDamaged is a read of a blob whose bytes the store itself finds wrong (a checksum it keeps).
var ErrDamaged = errors.New("the remote's checksum of it does not match")

// ErrExists is a Put with ifAbsent of a key the store has.
var ErrExists = errors.New("already in the remote")

// A Store is a remote cache's storage.
type Store interface {
	// Get opens the blob at key; ErrNotFound when there is none.
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	// Put writes the blob at key from r (size bytes). With ifAbsent, an existing blob is left
	// as it is and the error is ErrExists.
	Put(ctx context.Context, key string, r io.Reader, size int64, ifAbsent bool) error
	// Has reports whether the store has a blob at key.
	Has(ctx context.Context, key string) (bool, error)
	// String names the store for messages, without credentials.
	String() string
}

// Open returns the store of a remote URL: s3://BUCKET/PREFIX or file:///PATH. Opening makes no
// request: a store that cannot be reached says so at its first use.
func Open(rawURL string) (Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("remote %q: %v", rawURL, err)
	}
	switch u.Scheme {
	case "file":
		if u.Path == "" {
			return nil, fmt.Errorf("remote %q: want file:///PATH", rawURL)
		}
		return &fileStore{root: u.Path}, nil
	case "s3":
		if u.Host == "" {
			return nil, fmt.Errorf("remote %q: want s3://BUCKET/PREFIX", rawURL)
		}
		return newS3Store(u.Host, strings.Trim(u.Path, "/")), nil
	}
	return nil, fmt.Errorf("remote %q: want s3://BUCKET/PREFIX or file:///PATH", rawURL)
}
