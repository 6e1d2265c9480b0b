package manifest

import (
	"fmt"
	"strings"
	"testing"
)

// chainManifest generates n shell stages in a chain, each interpolating params, as a large
// real-world manifest would.
func chainManifest(n int) []byte {
	var b strings.Builder
	b.WriteString("version: 1\nname: bench\nparams:\n  seed: 0\n  train: {lr: 0.001, epochs: 10}\nstages:\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%d:\n    uses: shell\n", i)
		if i > 0 {
			fmt.Fprintf(&b, "    needs: [s%d]\n", i-1)
		}
		fmt.Fprintf(&b, "    with:\n      run: echo %d ${params.train.lr} > out/%d.txt\n", i, i)
		fmt.Fprintf(&b, "      deps: [in/%d.txt]\n      outs: [out/%d.txt]\n      env: {SEED: \"${params.seed + %d}\"}\n", i, i, i)
	}
	return []byte(b.String())
}

func TestChainManifest(t *testing.T) {
	m, err := Parse("big.yaml", chainManifest(50), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Order) != 50 || m.Order[49] != "s49" || m.Stages["s7"].Settings["env"].(map[string]any)["SEED"] != 7 {
		t.Errorf("order %v", m.Order[:3])
	}
	if got, _ := m.Closure("s3"); len(got) != 4 {
		t.Errorf("Closure(s3) = %v", got)
	}
}

func benchmarkParse(b *testing.B, n int) {
	src := chainManifest(n)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("big.yaml", src, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse100 is the size that the 30 ms budget of a no-op `loom run` is set for.
func BenchmarkParse100(b *testing.B) { benchmarkParse(b, 100) }

// BenchmarkParse1000 must stay under 200 ms: validate and plan a 1000-stage manifest.
func BenchmarkParse1000(b *testing.B) { benchmarkParse(b, 1000) }

func BenchmarkWithParams(b *testing.B) {
	m, err := Parse("big.yaml", chainManifest(100), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.WithParams(map[string]any{"train.lr": 0.01}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestDuplicateStageInABigManifest(t *testing.T) {
	src := string(chainManifest(40)) + "  s3:\n    uses: shell\n    with: {run: x}\n"
	_, err := Parse("big.yaml", []byte(src), Options{})
	if err == nil || !strings.Contains(err.Error(), `duplicate key "s3" (first at line 30)`) {
		t.Errorf("want a duplicate-key error, got %v", err)
	}
}
