//go:build unix

package pipeline

import (
	"io/fs"
	"syscall"
)

// soleLink reports whether fi's file has no other name: only such a file may be moved into
// the object store, since its mode changes to read-only there.
func soleLink(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 1
}
