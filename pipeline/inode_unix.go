//go:build unix && !linux && !darwin

package pipeline

import (
	"io/fs"
	"syscall"
)

// inode returns the file's inode number; the status-change time is not read on these
// systems, so a stamp there rests on size, mtime and inode.
func inode(fi fs.FileInfo) (ino uint64, ctime int64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino), 0
	}
	return 0, 0
}
