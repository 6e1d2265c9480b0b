package pipeline

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestDamagedCheckpointIsNotUsed: a checkpoint whose bytes changed is refused and removed, so
// that training starts from scratch rather than from wrong weights.
func TestDamagedCheckpointIsNotUsed(t *testing.T) {
	root := t.TempDir()
	c := &Checkpoints{dir: filepath.Join(root, "resume", "k"), tmp: root}
	for _, budget := range []int{5, 15} {
		if err := c.Save(budget, func(w io.Writer) error { _, err := io.WriteString(w, "weights after some epochs"); return err }); err != nil {
			t.Fatal(err)
		}
	}
	n, path, ok := c.Longest(45)
	if !ok || n != 15 {
		t.Fatalf("Longest(45) = %d, %v", n, ok)
	}
	if b, err := c.Read(path); err != nil || string(b) != "weights after some epochs" {
		t.Fatalf("Read: %q, %v", b, err)
	}
	os.WriteFile(path, []byte("weights after sOme epochs"), 0o644)
	if _, err := c.Read(path); err == nil {
		t.Fatal("a damaged checkpoint was read")
	}
	if n, _, _ := c.Longest(45); n != 5 {
		t.Fatalf("after the damaged one is removed, Longest(45) = %d, want 5", n)
	}
}

// TestCheckpointFolderLink: a checkpoint folder that is a symbolic link is not written through.
func TestCheckpointFolderLink(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(root, "resume"), 0o755)
	os.Symlink(outside, filepath.Join(root, "resume", "k"))
	c := &Checkpoints{dir: filepath.Join(root, "resume", "k"), tmp: root}
	err := c.Save(5, func(w io.Writer) error { _, err := io.WriteString(w, "w"); return err })
	var le *LinkError
	if !errors.As(err, &le) {
		t.Fatalf("Save through a link: %v", err)
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("wrote through the link: %v", entries)
	}
}
