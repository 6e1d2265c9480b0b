package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeChain writes a manifest of n shell stages in a chain, each reading the file the one
// before it wrote.
func writeChain(tb testing.TB, dir string, n int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("version: 1\nname: chain\nstages:\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%d:\n    uses: shell\n", i)
		if i == 0 {
			fmt.Fprintf(&b, "    with: {run: 'echo 0 > f0.txt', outs: [f0.txt]}\n")
			continue
		}
		fmt.Fprintf(&b, "    needs: [s%d]\n    with: {run: 'cat f%d.txt > f%d.txt; echo %d >> f%d.txt', deps: [f%d.txt], outs: [f%d.txt]}\n",
			i-1, i-1, i, i, i, i-1, i)
	}
	path := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// settle waits until the files a first run wrote are older than the racy window, as they are
// when a user reruns: until then their digests are not saved for the next process, which
// hashes them again.
func settle() { time.Sleep(1100 * time.Millisecond) }

// BenchmarkNoopRerun100 measures `loom run` of a 100-stage chain in which nothing changed:
// the whole command, manifest loading and schema validation included, short of process start.
func BenchmarkNoopRerun100(b *testing.B) {
	path := writeChain(b, b.TempDir(), 100)
	if code := runCLI(context.Background(), []string{"run", "-f", path}, io.Discard, io.Discard); code != 0 {
		b.Fatalf("first run: exit %d", code)
	}
	settle()
	for b.Loop() {
		if code := runCLI(context.Background(), []string{"run", "-f", path}, io.Discard, io.Discard); code != 0 {
			b.Fatalf("rerun: exit %d", code)
		}
	}
}

// BenchmarkCachedRerunBreastCancer measures `loom run` of the main example when every stage
// is cached: what a user waits for when iterating on something downstream.
func BenchmarkCachedRerunBreastCancer(b *testing.B) {
	path := copyExampleTB(b, "breast-cancer")
	if code := runCLI(context.Background(), []string{"run", "-f", path}, io.Discard, io.Discard); code != 0 {
		b.Fatalf("first run: exit %d", code)
	}
	settle()
	for b.Loop() {
		if code := runCLI(context.Background(), []string{"run", "-f", path}, io.Discard, io.Discard); code != 0 {
			b.Fatalf("rerun: exit %d", code)
		}
	}
}
