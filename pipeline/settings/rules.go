// Package settings declares a stage kind's settings once, as a Go struct, and derives from it
// both the decoding of a stage's `with` (defaults and checks, every problem at file:line:col)
// and the JSON Schema that editors read. A field's YAML key, default and checks live in its
// tags, its description in its doc comment:
//
//	type optimizer struct {
//		// The update rule.
//		Name string `yaml:"name" default:"adam" check:"oneof=sgd adam"`
//		// Learning rate.
//		LR float64 `yaml:"lr" default:"0.001" check:"gt=0"`
//	}
//
// Tags:
//
//	yaml:"key"       the key in the manifest
//	default:"VALUE"  the value, read as YAML, when the key is absent
//	check:"RULES"    comma-separated rules:
//	    required           the key must be present
//	    gt=N gte=N lt=N lte=N  bounds of a number (of each number of a list)
//	    oneof=a b c        the allowed strings (of each string of a list)
//	    nonempty           a string, list or mapping that is not empty
//	    len=N              a list of exactly N items
//	    unique             a list without repeats
//	    stage              a string that names another stage of the manifest
//	    param              a string that names a param (params.a.b or a.b); on a mapping,
//	                       each key does
//
// A struct that embeds OneKey takes exactly one of its keys: a layer, a preprocess step.
// A type with a form of its own (an integer or "auto") implements Value; a struct with rules
// across its fields implements Checker.
package settings

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// OneKey, embedded in a struct, makes it take exactly one of its keys.
type OneKey struct{}

// A Value is a setting with a form of its own, such as an integer or "auto".
type Value interface {
	// DecodeSetting sets the value from n; an error says what was expected.
	DecodeSetting(n *yaml.Node) error
	// SettingSchema returns the value's JSON Schema, without a description.
	SettingSchema() map[string]any
}

// A Checker is a settings struct with rules across its fields, checked once the struct is
// decoded and its defaults are set.
type Checker interface {
	Check() error
}

// FieldError is an error of a Checker about one of its fields, named by its YAML key.
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// rules are what a field's tags ask of its value.
type rules struct {
	required, nonempty, unique bool
	stage, param               bool
	length                     int // len=N; 0 means any
	oneOf                      []string
	bounds                     []bound
	def                        *yaml.Node // default; nil without one
}

// bound is one numeric bound: gt, gte, lt or lte.
type bound struct {
	op string
	at float64
}

// holds reports whether x is within the bound.
func (b bound) holds(x float64) bool {
	switch b.op {
	case "gt":
		return x > b.at
	case "gte":
		return x >= b.at
	case "lt":
		return x < b.at
	}
	return x <= b.at
}

// String writes the bound as a user reads it: >= 1.
func (b bound) String() string {
	sym := map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[b.op]
	return sym + " " + strconv.FormatFloat(b.at, 'g', -1, 64)
}

// forItems keeps the rules that apply to each item of a list or mapping.
func (r rules) forItems() rules {
	return rules{oneOf: r.oneOf, bounds: r.bounds}
}

// field is one settings field.
type field struct {
	key   string
	index []int // in the struct, through embedded structs
	rules rules
	typ   reflect.Type
	owner reflect.Type // the struct that declares it
	name  string       // its Go name: with owner, what keys its doc comment
}

// structInfo is what a settings struct's tags say, read once per type.
type structInfo struct {
	fields []field
	byKey  map[string]int
	keys   []string // sorted, for messages
	oneKey bool
}

var infos sync.Map // reflect.Type -> *structInfo

// infoOf reads the tags of struct type t; a malformed tag is a bug in loom, so it panics, and
// TestEverySchemaBuilds makes every registered type go through here.
func infoOf(t reflect.Type) *structInfo {
	if in, ok := infos.Load(t); ok {
		return in.(*structInfo)
	}
	in := &structInfo{byKey: map[string]int{}}
	in.add(t, nil)
	slices.Sort(in.keys)
	actual, _ := infos.LoadOrStore(t, in)
	return actual.(*structInfo)
}

// add reads the fields of t, a struct at index inside the settings struct; the fields of
// embedded structs are the settings struct's own, as in encoding/json.
func (in *structInfo) add(t reflect.Type, index []int) {
	for i := range t.NumField() {
		f := t.Field(i)
		at := append(slices.Clone(index), i)
		switch {
		case f.Anonymous && f.Type == reflect.TypeFor[OneKey]():
			in.oneKey = true
			continue
		case f.Anonymous && f.Type.Kind() == reflect.Struct:
			in.add(f.Type, at)
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			panic(fmt.Sprintf("settings: %s.%s has no yaml key", t, f.Name))
		}
		def, hasDef := f.Tag.Lookup("default")
		r, err := parseRules(f.Tag.Get("check"), def, hasDef)
		if err != nil {
			panic(fmt.Sprintf("settings: %s.%s: %v", t, f.Name, err))
		}
		in.byKey[key] = len(in.fields)
		in.fields = append(in.fields, field{key: key, index: at, rules: r, typ: f.Type, owner: t, name: f.Name})
		in.keys = append(in.keys, key)
	}
}

func parseRules(check, def string, hasDefault bool) (rules, error) {
	var r rules
	if hasDefault {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(def), &n); err != nil || len(n.Content) != 1 {
			return r, fmt.Errorf("default %q is not one YAML value", def)
		}
		r.def = n.Content[0]
	}
	for _, rule := range strings.Split(check, ",") {
		name, arg, _ := strings.Cut(strings.TrimSpace(rule), "=")
		switch name {
		case "":
		case "required":
			r.required = true
		case "nonempty":
			r.nonempty = true
		case "unique":
			r.unique = true
		case "stage":
			r.stage = true
		case "param":
			r.param = true
		case "len":
			n, err := strconv.Atoi(arg)
			if err != nil || n < 1 {
				return r, fmt.Errorf("bad rule %q", rule)
			}
			r.length = n
		case "oneof":
			r.oneOf = strings.Fields(arg)
		case "gt", "gte", "lt", "lte":
			x, err := strconv.ParseFloat(arg, 64)
			if err != nil {
				return r, fmt.Errorf("bad rule %q", rule)
			}
			r.bounds = append(r.bounds, bound{name, x})
		default:
			return r, fmt.Errorf("unknown rule %q", rule)
		}
	}
	return r, nil
}

// Chosen returns the key a decoded OneKey struct has, and that field's value.
func Chosen(v any) (string, any) {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	for _, f := range infoOf(rv.Type()).fields {
		if fv := rv.FieldByIndex(f.index); !fv.IsZero() {
			return f.key, fv.Interface()
		}
	}
	return "", nil
}
