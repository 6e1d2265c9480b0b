//go:build !unix

package pipeline

import "io/fs"

// soleLink cannot tell here, so files are copied into the object store, never moved.
func soleLink(fs.FileInfo) bool { return false }
