// Package schemas holds the JSON Schema of loom's manifest, generated from the stage kinds'
// settings types (see Build and TestSchemasAreCurrent).
package schemas

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"strings"

	"github.com/loom-ml/loom/pipeline/manifest"
)

// JSON is the manifest's JSON Schema (draft 2020-12) as written, with `${...}` wherever a value
// may be one: what `loom schema` prints and editors read (see AsWritten).
//
//go:embed pipeline.schema.json
var JSON []byte

// Resolved is the schema of a manifest after interpolation.
//
//go:embed resolved.schema.json
var Resolved []byte

// URL is the schema's $id.
const URL = "https://github.com/loom-ml/loom/schemas/pipeline.schema.json"

// Kind is a stage kind as the schema describes it.
type Kind struct {
	Name     string
	Settings map[string]any // the JSON Schema of its `with`
}

// Build returns the resolved schema of a manifest whose stages use kinds: the manifest's own
// keys, and each kind's settings under $defs/NAME, applied to `with` when `uses` names it.
func Build(kinds []Kind) ([]byte, error) {
	defs := map[string]any{"stageName": map[string]any{
		"description": "A stage name: a lowercase letter followed by lowercase letters, digits, _ or -.",
		"type":        "string",
		"pattern":     manifest.StageNamePattern,
	}}
	var names, dispatch []any
	for _, k := range kinds {
		defs[k.Name] = k.Settings
		names = append(names, k.Name)
		then := map[string]any{"properties": map[string]any{"with": map[string]any{"$ref": "#/$defs/" + k.Name}}}
		if t, _ := k.Settings["type"].(string); t == "object" {
			then["required"] = []string{"with"} // settings that cannot be empty
		}
		dispatch = append(dispatch, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"uses": map[string]any{"const": k.Name}}, "required": []string{"uses"}},
			"then": then,
		})
	}
	defs["stage"] = map[string]any{
		"description":          "One stage of the pipeline: what it runs (uses), what it reads (needs), how (with).",
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"uses"},
		"properties": map[string]any{
			"uses": map[string]any{"description": "The stage kind.", "enum": names},
			"needs": map[string]any{
				"description": "The stages whose outputs this one reads: the edges of the DAG. A cycle is an error.",
				"anyOf": []any{
					map[string]any{"$ref": "#/$defs/stageName"},
					map[string]any{"type": "array", "items": map[string]any{"$ref": "#/$defs/stageName"}, "uniqueItems": true},
				},
			},
			"with":  map[string]any{"description": "The kind's settings.", "type": []string{"object", "null"}},
			"cache": map[string]any{"description": "Whether loom may reuse a cached result; false runs the stage every time.", "type": "boolean", "default": true},
		},
		"allOf": dispatch,
	}
	doc := map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"$id":     URL,
		"title":   "loom pipeline manifest, version 1",
		"description": strings.Join([]string{
			"A declarative ML pipeline run by loom: params, and a DAG of stages.",
			"Strings in a stage's `with` may interpolate params with ${EXPR} (expr-lang, over `params`);",
			"a value that is exactly one ${...} keeps the result's type; write $${ for a literal ${.",
			"This schema describes the manifest after interpolation.",
		}, " "),
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"version", "stages"},
		"properties": map[string]any{
			"version": map[string]any{"description": "The manifest format version; must be 1.", "const": 1},
			"name":    map[string]any{"description": "The pipeline's name, shown in reports.", "type": "string"},
			"params": map[string]any{
				"description": "Any YAML tree of values that stages refer to as ${params.a.b}; a leaf is overridden with `loom run --set a.b=VALUE` (VALUE parsed as YAML) or `--params best.yaml`.",
				"type":        "object",
			},
			"stages": map[string]any{
				"description":          "The pipeline's stages, by name.",
				"type":                 "object",
				"propertyNames":        map[string]any{"$ref": "#/$defs/stageName"},
				"additionalProperties": map[string]any{"$ref": "#/$defs/stage"},
			},
		},
		"$defs": defs,
	}
	return encode(doc)
}

// encode writes a schema as the committed files are written: indented, keys sorted, no HTML escapes.
func encode(doc map[string]any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(doc)
	return b.Bytes(), err
}
