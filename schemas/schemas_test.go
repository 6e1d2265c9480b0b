package schemas

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/loom-ml/loom/pipeline/settings"
	"github.com/loom-ml/loom/steps"
)

var update = flag.Bool("update", false, "regenerate resolved.schema.json and pipeline.schema.json from the settings types")

// generate builds both schemas from the registered kinds' settings types and their doc comments.
func generate(t *testing.T) (resolved, written []byte) {
	t.Helper()
	docs, err := settings.ReadDocs("../steps")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []Kind
	for _, r := range steps.Registry() {
		kinds = append(kinds, Kind{Name: r.Name, Settings: settings.Schema(r.Settings, docs)})
	}
	if resolved, err = Build(kinds); err != nil {
		t.Fatal(err)
	}
	if written, err = AsWritten(resolved); err != nil {
		t.Fatal(err)
	}
	return resolved, written
}

// TestSchemasAreCurrent: the committed schemas are what the settings types generate.
func TestSchemasAreCurrent(t *testing.T) {
	resolved, written := generate(t)
	if *update {
		for name, b := range map[string][]byte{"resolved.schema.json": resolved, "pipeline.schema.json": written} {
			if err := os.WriteFile(name, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	if !bytes.Equal(Resolved, resolved) || !bytes.Equal(JSON, written) {
		t.Fatal("the schemas are stale: run go generate ./schemas")
	}
}

// compile compiles a schema with the upstream validator, a test-only dependency: loom itself
// checks manifests by decoding them into the settings types.
func compile(t testing.TB, schema []byte) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(URL, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(URL)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func instance(t *testing.T, src string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestEveryPropertyHasADescription walks the schema: editors show descriptions, so every
// property (directly or through its $ref) must have one.
func TestEveryPropertyHasADescription(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(Resolved, &doc); err != nil {
		t.Fatal(err)
	}
	defs := doc["$defs"].(map[string]any)
	described := func(s map[string]any) bool {
		for range 5 {
			if d, _ := s["description"].(string); d != "" {
				return true
			}
			ref, _ := s["$ref"].(string)
			if !strings.HasPrefix(ref, "#/$defs/") {
				return false
			}
			s = defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
		return false
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if props, ok := x["properties"].(map[string]any); ok {
				for name, p := range props {
					if ps, ok := p.(map[string]any); ok && !described(ps) {
						t.Errorf("%s.properties.%s has no description", path, name)
					}
				}
			}
			for k, c := range x {
				if k != "if" { // conditions match documents; they describe nothing
					walk(path+"."+k, c)
				}
			}
		case []any:
			for _, c := range x {
				walk(path+"[]", c)
			}
		}
	}
	walk("", doc)
}

// TestEachKindIsDispatched checks that the whole schema applies each kind's $defs to `with`.
func TestEachKindIsDispatched(t *testing.T) {
	s := compile(t, Resolved)
	for _, r := range steps.Registry() {
		doc := instance(t, `{"version": 1, "stages": {"s": {"uses": "`+r.Name+`", "with": {"no_such_option": 1}}}}`)
		err := s.Validate(doc)
		if err == nil || !strings.Contains(err.Error(), "no_such_option") {
			t.Errorf("kind %s: an unknown option is not reported: %v", r.Name, err)
		}
	}
}

// TestAsWrittenTakesInterpolation: the as-written schema accepts ${...} wherever a number, a
// boolean, a list or an enum goes, and still rejects what the resolved schema rejects as
// written.
func TestAsWrittenTakesInterpolation(t *testing.T) {
	s := compile(t, JSON)
	manifest := func(with string) any {
		return instance(t, `{"version": 1, "name": "x", "stages": {"t": {"uses": "train", "with": `+with+`}}}`)
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
