package settings

import (
	"errors"
	"go/parser"
	"go/token"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/loom-ml/loom/pipeline/manifest"
)

// sample exercises every rule and form the decoder knows.
type sample struct {
	inner
	// How many.
	Count int            `yaml:"count" default:"3" check:"gte=1,lte=10"`
	Rate  float64        `yaml:"rate" check:"gt=0,lt=1"`
	Mode  string         `yaml:"mode" default:"fast" check:"oneof=fast slow"`
	Name  string         `yaml:"name" check:"required,nonempty"`
	Seed  uint64         `yaml:"seed"`
	On    bool           `yaml:"on" default:"true"`
	Pair  []int          `yaml:"pair" check:"len=2,gte=0"`
	Tags  []string       `yaml:"tags" check:"unique"`
	Stage string         `yaml:"stage" check:"stage"`
	Param string         `yaml:"param" check:"param"`
	Space map[string]int `yaml:"space" check:"param"`
	Pick  *pick          `yaml:"pick"`
	Any   any            `yaml:"any"`
	Auto  autoInt        `yaml:"auto"`
}

type inner struct {
	// Embedded fields are the struct's own.
	Deep bool `yaml:"deep"`
}

// pick takes one key.
type pick struct {
	OneKey
	A *struct{} `yaml:"a"`
	B *int      `yaml:"b"`
}

// Check implements Checker: seed 13 is unlucky.
func (s *sample) Check() error {
	if s.Seed == 13 {
		return &FieldError{Key: "seed", Msg: "is unlucky"}
	}
	return nil
}

// autoInt is an integer or auto (-1).
type autoInt int

func (a *autoInt) DecodeSetting(n *yaml.Node) error {
	if n.Value == "auto" {
		*a = -1
		return nil
	}
	return n.Decode((*int)(a))
}

func (*autoInt) SettingSchema() map[string]any {
	return map[string]any{"type": []string{"integer", "string"}}
}

const head = "version: 1\nparams: {lr: 0.1, grid: {a: 1}}\nstages:\n  other:\n    uses: x\n  s:\n    uses: x\n    with:\n"

func decode(t *testing.T, with string) (sample, error) {
	t.Helper()
	m, err := manifest.Parse("p.yaml", []byte(head+with), manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var s sample
	err = Decode(m.Stages["s"], m, &s)
	return s, err
}

func TestDecode(t *testing.T) {
	s, err := decode(t, "      name: n\n      rate: 0.5\n      seed: 18446744073709551615\n      pair: [1, 2]\n      deep: true\n      stage: other\n      param: params.lr\n      space: {grid.a: 3}\n      pick: {a: }\n      any: [1, x]\n      auto: auto\n")
	if err != nil {
		t.Fatal(err)
	}
	want := sample{inner: inner{Deep: true}, Count: 3, Rate: 0.5, Mode: "fast", Name: "n", Seed: 1<<64 - 1, On: true, Pair: []int{1, 2},
		Stage: "other", Param: "params.lr", Space: map[string]int{"grid.a": 3}, Pick: &pick{A: &struct{}{}}, Any: []any{1, "x"}, Auto: -1}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got  %+v\nwant %+v", s, want)
	}
	if s, err := decode(t, "      name: n\n      count: 4.0\n"); err != nil || s.Count != 4 {
		t.Errorf("an integral float is an integer: %v %v", s.Count, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	for with, want := range map[string]string{
		"      rate: 0.5\n":                         `p.yaml:9:7: stages.s.with: missing "name"`,
		"      name: n\n      count: 11\n":          "p.yaml:10:14: stages.s.with.count: must be <= 10, not 11",
		"      name: n\n      count: 2.5\n":         "stages.s.with.count: must be an integer, not a number",
		"      name: n\n      rate: 1\n":            "stages.s.with.rate: must be < 1, not 1",
		"      name: n\n      rate: .nan\n":         "must be a finite number",
		"      name: n\n      rate: x\n":            "stages.s.with.rate: must be a number, not a string",
		"      name: n\n      mode: fats\n":         `"fats" is not one of fast, slow (did you mean "fast"?)`,
		"      name: \"\"\n":                        "stages.s.with.name: must not be empty",
		"      name: n\n      seed: -1\n":           "stages.s.with.seed: must be >= 0, not -1",
		"      name: n\n      seed: 13\n":           "p.yaml:10:13: stages.s.with.seed: is unlucky",
		"      name: n\n      on: yes please\n":     "stages.s.with.on: must be a boolean, not a string",
		"      name: n\n      pair: [1]\n":          "stages.s.with.pair: must have 2 items, not 1",
		"      name: n\n      pair: [1, -1]\n":      "stages.s.with.pair[1]: must be >= 0, not -1",
		"      name: n\n      tags: [a, a]\n":       `stages.s.with.tags: lists "a" twice`,
		"      name: n\n      stage: s\n":           "stages.s.with.stage: names the stage itself",
		"      name: n\n      stage: othr\n":        `"othr" is not a stage (did you mean "other"?)`,
		"      name: n\n      param: params.lrr\n":  `unknown param params.lrr (did you mean "lr"?)`,
		"      name: n\n      space: {grid.b: 1}\n": "p.yaml:10:15: stages.s.with.space: unknown param params.grid.b",
		"      name: n\n      pick: {a: , b: 1}\n":  "stages.s.with.pick: must have exactly one key, found 2",
		"      name: n\n      pick: {}\n":           "stages.s.with.pick: needs one of a, b",
		"      name: n\n      pick: {c: 1}\n":       `stages.s.with.pick.c: unknown option "c"; valid: a, b`,
		"      name: n\n      auto: [1]\n":          "stages.s.with.auto: yaml: unmarshal errors",
		"      name: n\n      nmae: n\n":            `p.yaml:10:7: stages.s.with.nmae: unknown option "nmae" (did you mean "name"?)`,
	} {
		_, err := decode(t, with)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", with, err, want)
		}
	}
}

// TestAllMistakesAtOnce: decoding goes on after a mistake, so a user sees them all.
func TestAllMistakesAtOnce(t *testing.T) {
	_, err := decode(t, "      count: 0\n      mode: x\n      pick: {}\n")
	var list manifest.ErrorList
	if !errors.As(err, &list) || len(list) != 4 {
		t.Fatalf("want 4 errors (count, mode, pick, missing name), got %v", err)
	}
}

func TestSchema(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "settings_test.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	docs := Docs{}
	readFileDocs(file, docs)
	s := Schema(sample{}, docs)
	props := s["properties"].(map[string]any)
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", name, got, want)
		}
	}
	check("required", s["required"], []string{"name"})
	check("count", props["count"], map[string]any{"type": "integer", "minimum": 1.0, "maximum": 10.0, "default": 3, "description": "How many."})
	check("rate", props["rate"], map[string]any{"type": "number", "exclusiveMinimum": 0.0, "exclusiveMaximum": 1.0})
	check("mode", props["mode"], map[string]any{"type": "string", "enum": []string{"fast", "slow"}, "default": "fast"})
	check("pair", props["pair"], map[string]any{"type": "array", "items": map[string]any{"type": "integer", "minimum": 0.0}, "minItems": 2, "maxItems": 2})
	check("deep", props["deep"], map[string]any{"type": "boolean", "description": "Embedded fields are the struct's own."})
	check("space", props["space"].(map[string]any)["propertyNames"], map[string]any{"type": "string", "pattern": paramPattern})
	check("stage", props["stage"], map[string]any{"type": "string", "pattern": manifest.StageNamePattern})
	p := props["pick"].(map[string]any)
	check("pick", []any{p["minProperties"], p["maxProperties"], p["description"]}, []any{1, 1, "Takes one key."})
	check("auto", props["auto"], map[string]any{"type": []string{"integer", "string"}, "description": "An integer or auto (-1)."})
}
