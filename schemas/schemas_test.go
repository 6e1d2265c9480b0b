package schemas

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/loom-ml/loom/internal/jsonschema"
)

func TestSchemaCompiles(t *testing.T) {
	if _, err := Schema(); err != nil {
		t.Fatal(err)
	}
	for _, k := range Kinds {
		if compiled.kinds[k] == nil {
			t.Errorf("no schema for kind %s", k)
		}
	}
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
	for _, k := range Kinds {
		doc := map[string]any{"version": 1, "stages": map[string]any{"s": map[string]any{"uses": k, "with": map[string]any{"no_such_option": 1}}}}
		vs, err := Validate(doc)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, v := range vs {
			if v.Key == "no_such_option" && strings.Join(v.Path, "/") == "stages/s/with" {
				found = true
			}
		}
		if !found {
			t.Errorf("kind %s: unknown option not reported: %+v", k, vs)
		}
		vs, _ = ValidateWith(k, map[string]any{"no_such_option": 1})
		if len(vs) == 0 {
			t.Errorf("kind %s: ValidateWith accepted an unknown option", k)
		}
	}
}

func TestMessages(t *testing.T) {
	cases := []struct {
		kind string
		with map[string]any
		path string
		key  string
		msg  string
	}{
		{"train", map[string]any{"optimizer": map[string]any{"name": "adamm"}}, "optimizer/name", "", `"adamm" is not one of sgd, momentum, nesterov, adam, adamw, rmsprop (did you mean "adam"?)`},
		{"train", map[string]any{"optimizer": map[string]any{"name": "sgd", "lrr": 0.1}}, "optimizer", "lrr", `unknown option "lrr" (did you mean "lr"?); valid: betas, lr, momentum, name, weight_decay`},
		{"train", map[string]any{"epochs": "x"}, "epochs", "", "must be an integer, not a string"},
		{"train", map[string]any{"epochs": 0}, "epochs", "", "must be >= 1, not 0"},
		{"train", map[string]any{"optimizer": map[string]any{"name": "sgd", "lr": 0}}, "optimizer/lr", "", "must be > 0, not 0"},
		{"evaluate", map[string]any{"threshold": 2}, "threshold", "", "must be <= 1, not 2"},
		{"dataset", map[string]any{"features": []any{"a"}}, "", "", `missing "path" or "generate"`},
		{"dataset", map[string]any{"path": "a.csv"}, "", "", `"path" needs "target" too`},
		{"model", map[string]any{"layers": []any{map[string]any{"dense": map[string]any{"units": "many"}}}}, "layers/0/dense/units", "", `must be an integer, not a string, or must be "auto", not "many"`},
		{"model", map[string]any{"layers": []any{map[string]any{"dense": map[string]any{"units": 3}, "dropout": 0.5}}}, "layers/0", "", "must have exactly one key, found 2"},
		{"shell", map[string]any{"run": "x", "env": map[string]any{"1X": "a"}}, "env", "1X", `bad name "1X"`},
		{"tune", map[string]any{"space": map[string]any{"params.lr": map[string]any{}}}, "", "", `missing "target"`},
	}
	for _, c := range cases {
		vs, err := ValidateWith(c.kind, c.with)
		if err != nil {
			t.Fatal(err)
		}
		ok := false
		for _, v := range vs {
			if strings.Join(v.Path, "/") == c.path && v.Key == c.key && strings.Contains(v.Msg, c.msg) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("%s %v: want at %q key %q a message containing %q; got %+v", c.kind, c.with, c.path, c.key, c.msg, vs)
		}
	}
}

func TestValidDocuments(t *testing.T) {
	ok := map[string]map[string]any{
		"dataset": {"generate": map[string]any{"kind": "moons", "n": 200, "noise": 0.1, "seed": 3}, "task": "classification"},
		"model": {"layers": []any{
			map[string]any{"conv2d": map[string]any{"filters": 8, "kernel": 3, "padding": "same", "activation": "relu"}},
			map[string]any{"maxpool2d": map[string]any{"size": []any{2, 2}}},
			map[string]any{"flatten": map[string]any{}},
			map[string]any{"batchnorm": nil},
			map[string]any{"reshape": []any{-1, 4}},
			map[string]any{"embedding": map[string]any{"vocab": 100, "dim": 8}},
			map[string]any{"lstm": map[string]any{"units": 4, "return_sequences": true}},
			map[string]any{"gru": map[string]any{"units": 4}},
			map[string]any{"attention": map[string]any{"heads": 2, "dim": 8}},
			map[string]any{"dense": map[string]any{"units": "auto"}},
		}, "init": "xavier", "data": "prep"},
		"train":    {"lr_schedule": map[string]any{"cosine": map[string]any{}}, "data": "prep", "model": "build", "clip_grad": 1.0},
		"evaluate": {"metrics": []any{"r2", "rmse"}, "average": "weighted", "assert": []any{"r2 > 0.5"}},
		"shell":    {"run": "make", "env": map[string]any{"SEED": 3, "LR": 0.1, "NAME": "x", "ON": true}, "metrics": "m.json"},
		"tune":     {"target": "evaluate", "space": map[string]any{"params.hidden[0]": map[string]any{"int": []any{4, 64}}, "train.lr": map[string]any{"uniform": []any{0.1, 0.2}}}, "method": "tpe", "parallel": 2},
	}
	for kind, with := range ok {
		if vs, err := ValidateWith(kind, with); err != nil || len(vs) > 0 {
			t.Errorf("%s: %v %+v", kind, err, vs)
		}
	}
}

// BenchmarkCompile is the one-time cost a loom process pays on its first validation.
func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(Resolved)))
		if err != nil {
			b.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.AddResource(URL, doc)
		if _, err := c.Compile(URL); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateWith is the per-stage cost of checking settings.
func BenchmarkValidateWith(b *testing.B) {
	with := map[string]any{"loss": "auto", "optimizer": map[string]any{"name": "adam", "lr": 0.001}, "epochs": 100, "batch_size": 32,
		"early_stopping": map[string]any{"monitor": "val_loss", "patience": 10}, "seed": 0}
	b.ReportAllocs()
	for b.Loop() {
		if vs, _ := ValidateWith("train", with); len(vs) > 0 {
			b.Fatal(vs)
		}
	}
}
