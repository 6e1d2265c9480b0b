//go:build !unix

package pipeline

import "io/fs"

func inode(fs.FileInfo) (uint64, int64) { return 0, 0 }
