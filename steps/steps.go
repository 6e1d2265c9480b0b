// Package steps implements loom's stage kinds: one type per `uses:` value.
package steps

import (
	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
)

// Kinds returns every stage kind loom implements, by `uses` name.
func Kinds() pipeline.Kinds {
	return pipeline.Kinds{
		"shell":      shellKind{},
		"dataset":    datasetKind{},
		"preprocess": preprocessKind{},
		"model":      modelKind{},
		"train":      trainKind{},
		"evaluate":   evaluateKind{},
		"tune":       tuneKind{},
	}
}

// decode decodes a stage's resolved settings into v. Types were checked against the JSON
// Schema already, so an error here is a value the schema could not rule out; it is placed at
// the stage's `with`.
func decode(st *manifest.Stage, v any) error {
	if st.With == nil {
		return nil
	}
	if err := st.With.Decode(v); err != nil {
		return st.Errorf(nil, "stage %s: %v", st.Name, err)
	}
	return nil
}

// artifactsOnly is embedded by the jobs that read only upstream artifacts and write only their
// own: no workspace files go into their keys, none come out.
type artifactsOnly struct{}

func (artifactsOnly) Deps() []string { return nil }
func (artifactsOnly) Outs() []string { return nil }
