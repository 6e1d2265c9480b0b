package manifest

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that no input makes Parse panic, and that every error it returns is
// positioned in the manifest (or names the --set item).
func FuzzParse(f *testing.F) {
	full, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(full), "train.lr=0.01")
	f.Add(head+"  a:\n    uses: shell\n    with:\n      run: echo ${params.train.lr * 2} $${x}\n      env: {A: \"${params.hidden}\"}\n", "hidden=[1,2]")
	f.Add(head+"  a:\n    uses: shell\n    needs: [b]\n    with: {run: x}\n  b:\n    uses: shell\n    needs: [a]\n    with: {run: x}\n", "seed=1")
	f.Add("version: 1\nstages:\n  a: &x\n    uses: train\n    with: {epochs: 3}\n  b:\n    <<: *x\n", "")
	f.Add("version: 1\nstages: {a: {uses: model, with: {layers: [{dense: {units: \"${1/0}\"}}]}}}\n", "x")
	f.Add("a: &a [*a]\n", "=")
	f.Fuzz(func(t *testing.T, src, set string) {
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		// A hang is a bug too: crash so that the fuzzer keeps the input.
		watchdog := time.AfterFunc(20*time.Second, func() { panic(fmt.Sprintf("Parse hangs on %q --set %q", src, set)) })
		defer watchdog.Stop()
		m, err := Parse("f.yaml", []byte(src), Options{Sets: sets})
		if err != nil {
			checkPositioned(t, err)
			return
		}
		if len(m.Order) != len(m.Stages) {
			t.Fatalf("Order has %d stages, Stages %d", len(m.Order), len(m.Stages))
		}
		for _, st := range m.Stages {
			st.PosOf("a", "0", "b")
		}
		if _, err := m.WithParams(map[string]any{"seed": 1}); err != nil {
			checkPositioned(t, err)
		}
	})
}

func checkPositioned(t *testing.T, err error) {
	var list ErrorList
	var one *Error
	switch {
	case errors.As(err, &list):
	case errors.As(err, &one):
		list = ErrorList{one}
	default:
		t.Fatalf("error of type %T: %v", err, err)
	}
	for _, e := range list {
		if strings.HasPrefix(e.Pos.File, "--set ") || strings.HasPrefix(e.Msg, "override ") {
			continue
		}
		if e.Pos.File != "f.yaml" || e.Pos.Line < 1 || e.Pos.Col < 1 {
			t.Fatalf("unpositioned error %q", e.Error())
		}
	}
}
