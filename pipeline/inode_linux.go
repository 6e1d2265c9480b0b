//go:build linux

package pipeline

import (
	"io/fs"
	"syscall"
)

// inode returns the file's inode number and its status-change time in nanoseconds. The
// ctime moves with every write, chmod and link and, unlike the mtime, cannot be set back by
// `touch -r` or a restoring archiver, so a file whose content changed cannot keep its stamp.
func inode(fi fs.FileInfo) (ino uint64, ctime int64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino), st.Ctim.Nano()
	}
	return 0, 0
}
