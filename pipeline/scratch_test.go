package pipeline

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// TestDamagedScratchFileIsNotUsed: a scratch file whose bytes changed is refused and removed, so
// that a stage starts from scratch rather than from, say, wrong weights.
func TestDamagedScratchFileIsNotUsed(t *testing.T) {
	root := t.TempDir()
	s := &Scratch{dir: filepath.Join(root, "scratch", "k"), tmp: root}
	for _, name := range []string{"5.ckpt", "15.ckpt"} {
		if err := s.Write(name, writeString("weights after "+name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write("5.ckpt", writeString("other")); err != nil {
		t.Fatal(err)
	}
	if names := s.List(); !slices.Equal(names, []string{"15.ckpt", "5.ckpt"}) {
		t.Fatalf("List = %v", names)
	}
	if b, err := s.Read("5.ckpt"); err != nil || string(b) != "weights after 5.ckpt" {
		t.Fatalf("Read: %q, %v (a second Write of a name must keep the first)", b, err)
	}
	stored, _ := filepath.Glob(filepath.Join(s.dir, "15.ckpt.*"))
	os.WriteFile(stored[0], []byte("weights after 15.ckpX"), 0o644)
	if _, err := s.Read("15.ckpt"); err == nil {
		t.Fatal("a damaged scratch file was read")
	}
	if names := s.List(); !slices.Equal(names, []string{"5.ckpt"}) {
		t.Fatalf("after the damaged file is removed, List = %v", names)
	}
}

// TestScratchFolderLink: a scratch folder that is a symbolic link is not written through.
func TestScratchFolderLink(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(root, "scratch"), 0o755)
	os.Symlink(outside, filepath.Join(root, "scratch", "k"))
	s := &Scratch{dir: filepath.Join(root, "scratch", "k"), tmp: root}
	var le *LinkError
	if err := s.Write("5.ckpt", writeString("w")); !errors.As(err, &le) {
		t.Fatalf("Write through a link: %v", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("wrote through the link: %v", entries)
	}
}
