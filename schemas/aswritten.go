package schemas

import (
	"encoding/json"
	"slices"
)

// The manifest's schema comes in two forms, both generated from the stage kinds' settings types
// (go generate; TestSchemasAreCurrent fails when either is stale). resolved.schema.json
// describes a manifest after `${...}` interpolation, as loom decodes it. pipeline.schema.json,
// which `loom schema` prints and editors read, is AsWritten of it: it describes the manifest as
// written, where any value that is not free text may be a `${...}` expression. Without it,
// yaml-language-server flagged every `${params...}` in a number field.
//
//go:generate go test -run TestSchemasAreCurrent -update

// interpolated is the schema of a `${...}` expression, added to $defs.
var interpolated = map[string]any{
	"description": "A ${...} expression over params, replaced by its value before the manifest is checked; a value that is exactly one ${...} keeps the result's type.",
	"type":        "string",
	"pattern":     `^.*\$\{.*\}.*$`,
}

// AsWritten turns the resolved schema into the schema of the manifest as written: every
// subschema that takes a number, an integer, a boolean, a list, or a constrained string (an
// enum, a pattern) also takes a `${...}` string. Conditions (if, not, contains) are left as
// they are, since they test values, not describe them.
func AsWritten(resolved []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(resolved, &doc); err != nil {
		return nil, err
	}
	doc = widen(doc)
	defs, _ := doc["$defs"].(map[string]any)
	if defs == nil {
		defs = map[string]any{}
		doc["$defs"] = defs
	}
	defs["interpolated"] = interpolated
	return encode(doc)
}

// widen rewrites the subschemas below s, then s itself.
func widen(s map[string]any) map[string]any {
	for _, key := range []string{"properties", "$defs", "patternProperties", "dependentSchemas"} {
		if m, ok := s[key].(map[string]any); ok {
			for k, v := range m {
				if sub, ok := v.(map[string]any); ok {
					m[k] = widen(sub)
				}
			}
		}
	}
	for _, key := range []string{"items", "additionalProperties", "then", "else"} {
		if sub, ok := s[key].(map[string]any); ok {
			s[key] = widen(sub)
		}
	}
	for _, key := range []string{"anyOf", "oneOf", "allOf", "prefixItems"} {
		if list, ok := s[key].([]any); ok {
			for i, v := range list {
				if sub, ok := v.(map[string]any); ok {
					list[i] = widen(sub)
				}
			}
		}
	}
	if !constrained(s) {
		return s
	}
	wrapped := map[string]any{"anyOf": []any{s, map[string]any{"$ref": "#/$defs/interpolated"}}}
	for _, k := range []string{"description", "default", "title"} { // what editors show stays on top
		if v, ok := s[k]; ok {
			wrapped[k] = v
			delete(s, k)
		}
	}
	return wrapped
}

// constrained reports whether a `${...}` string would break s.
func constrained(s map[string]any) bool {
	var types []string
	switch t := s["type"].(type) {
	case string:
		types = []string{t}
	case []any:
		for _, x := range t {
			if x, ok := x.(string); ok {
				types = append(types, x)
			}
		}
	}
	for _, t := range []string{"number", "integer", "boolean", "array"} {
		if slices.Contains(types, t) {
			return true
		}
	}
	_, enum := s["enum"]
	_, pattern := s["pattern"]
	_, constant := s["const"]
	return (len(types) == 0 || slices.Contains(types, "string")) && (enum || pattern || constant)
}
