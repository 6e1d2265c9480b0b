package schemas

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/loom-ml/loom/internal/jsonschema"
)

var update = flag.Bool("update", false, "regenerate pipeline.schema.json from resolved.schema.json")

// TestAsWrittenIsCurrent: pipeline.schema.json is AsWritten(resolved.schema.json).
func TestAsWrittenIsCurrent(t *testing.T) {
	want, err := AsWritten(Resolved)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("pipeline.schema.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(JSON, want) {
		t.Fatal("pipeline.schema.json is stale: run go generate ./schemas")
	}
}

// TestAsWrittenTakesInterpolation: the as-written schema accepts ${...} wherever a number, a
// boolean, a list or an enum goes, and still rejects what the resolved schema rejects as
// written.
func TestAsWrittenTakesInterpolation(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSON))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AddResource(URL, doc)
	s, err := c.Compile(URL)
	if err != nil {
		t.Fatal(err)
	}
	manifest := func(with string) any {
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(`{"version": 1, "name": "x", "stages": {"t": {"uses": "train", "with": ` + with + `}}}`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, with := range []string{
		`{"epochs": "${params.epochs}", "batch_size": "${params.b * 2}", "shuffle": "${params.shuffle}"}`,
		`{"optimizer": {"name": "${params.opt}", "lr": "${params.lr}", "betas": ["${params.b1}", 0.999]}}`,
		`{"optimizer": {"name": "adam", "betas": "${params.betas}"}}`,
	} {
		if err := s.Validate(manifest(with)); err != nil {
			t.Errorf("%s: %v", with, err)
		}
	}
	for _, with := range []string{`{"epochs": "ten"}`, `{"optimizer": {"name": "adamm"}}`, `{"epochz": 3}`} {
		if err := s.Validate(manifest(with)); err == nil {
			t.Errorf("%s: accepted", with)
		}
	}
}
