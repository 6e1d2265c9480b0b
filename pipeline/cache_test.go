package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// failingReader yields some bytes, then fails, as a crash or a full disk would.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errors.New("interrupted")
	}
	k := min(len(p), r.n)
	for i := range k {
		p[i] = 'x'
	}
	r.n -= k
	return k, nil
}

func TestInterruptedWriteLeavesOldContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "entry")
	if err := writeFileAtomic(path, strings.NewReader("old"), 0o644, true); err != nil {
		t.Fatal(err)
	}
	if err := writeFileAtomic(path, &failingReader{n: 1 << 20}, 0o644, true); err == nil {
		t.Fatal("a failing write reported success")
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "old" {
		t.Fatalf("after an interrupted write: %q, %v; want the old content", b, err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestEntryWhoseObjectIsTruncatedIsAMiss(t *testing.T) {
	c, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "f")
	os.WriteFile(src, []byte("hello world"), 0o644)
	ref, err := c.Store(src, "f")
	if err != nil {
		t.Fatal(err)
	}
	e := &Entry{Action: ActionID(strings.Repeat("a", 64)), Result: Result{Files: []FileRef{ref}}}
	if err := c.Put(e); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(e.Action); err != nil {
		t.Fatalf("fresh entry: %v", err)
	}
	obj := c.ObjectPath(ref.Digest)
	os.Chmod(obj, 0o644)
	os.Truncate(obj, 3)
	_, err = c.Get(e.Action)
	var miss *missError
	if !errors.As(err, &miss) {
		t.Fatalf("entry with a truncated object: %v, want a miss", err)
	}
	// Storing the same content again repairs the object.
	if _, err := c.Store(src, "f"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(e.Action); err != nil {
		t.Fatalf("after repair: %v", err)
	}
	// An entry edited by hand no longer matches its output id.
	b, _ := os.ReadFile(c.actionPath(e.Action))
	os.WriteFile(c.actionPath(e.Action), []byte(strings.Replace(string(b), `"path":"f"`, `"path":"g"`, 1)), 0o644)
	if _, err := c.Get(e.Action); !errors.As(err, &miss) {
		t.Fatalf("tampered entry: %v, want a miss", err)
	}
}

// TestGroupCommit: entries put later are found at once, are on disk once Commit returns, with
// every object synced first; a failure to write one is what Commit returns.
func TestGroupCommit(t *testing.T) {
	c, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ids := make([]ActionID, 40)
	for i := range ids {
		src := filepath.Join(t.TempDir(), "f")
		os.WriteFile(src, []byte(fmt.Sprint("content ", i)), 0o644)
		ref, err := c.Store(src, "f")
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = ActionID(fmt.Sprintf("%064x", i+1))
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.PutLater(&Entry{Action: ids[i], Result: Result{Files: []FileRef{ref}}})
			if _, err := c.Get(ids[i]); err != nil {
				t.Errorf("entry %d just put: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if err := c.Commit(); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		if _, err := c.read(id); err != nil {
			t.Errorf("entry %d not on disk after Commit: %v", i, err)
		}
	}
	if len(c.commits.unsynced) != 0 || len(c.commits.pending) != 0 {
		t.Errorf("after Commit: %d objects unsynced, %d entries pending", len(c.commits.unsynced), len(c.commits.pending))
	}

	bad := ActionID(strings.Repeat("b", 64))
	os.WriteFile(filepath.Dir(c.actionPath(bad)), nil, 0o644) // a file where its folder goes
	c.PutLater(&Entry{Action: bad})
	if err := c.Commit(); err == nil {
		t.Error("Commit of an entry that cannot be written returned no error")
	}
}
