package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
	"github.com/loom-ml/loom/steps"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/outputs.golden")

// TestOutputsChangeOnlyWithTheirVersion runs examples and compares each stage's OutputID with
// the one recorded for the same kind Version. A different output under the same Version means
// the code changed what a stage produces without changing its kind's Version, so caches
// everywhere would serve the old output for the new code. After a deliberate change, bump the
// Version (and, once checked, go test -run TestOutputsChangeOnlyWithTheirVersion -update).
func TestOutputsChangeOnlyWithTheirVersion(t *testing.T) {
	golden := filepath.Join("testdata", "outputs.golden")
	want := map[string]string{} // "example stage version" -> output
	if b, err := os.ReadFile(golden); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(line); len(f) == 4 {
				want[f[0]+" "+f[1]+" "+f[2]] = f[3]
			}
		}
	}
	kinds := steps.Kinds()
	var got []string
	for _, example := range []string{"seed-case", "iris", "breast-cancer", "moons"} {
		path := copyExample(t, example)
		m, err := manifest.Load(path, manifest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ws, err := pipeline.Open(m, kinds)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := ws.Run(context.Background(), pipeline.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range rep.Stages {
			if st.Entry == nil {
				t.Fatalf("%s: stage %s %s: %v", example, st.Name, st.Status, st.Err)
			}
			key := fmt.Sprintf("%s %s %s", example, st.Name, kinds[st.Kind].Version())
			got = append(got, key+" "+string(st.Entry.Output))
			if w, ok := want[key]; ok && w != string(st.Entry.Output) {
				t.Errorf("%s: stage %s (%s) produces other bytes than before under the same Version %s: bump the kind's Version",
					example, st.Name, st.Kind, kinds[st.Kind].Version())
			} else if !ok && !*updateGolden {
				t.Logf("%s: no recorded output for %s (a new Version or another matrix kernel): run with -update to record it", example, key)
			}
		}
	}
	if *updateGolden {
		slices.Sort(got)
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
