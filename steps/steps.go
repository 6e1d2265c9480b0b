// Package steps implements loom's stage kinds: one type per `uses:` value, each in its own file
// with its settings type.
package steps

import (
	"github.com/loom-ml/loom/pipeline"
	"github.com/loom-ml/loom/pipeline/manifest"
)

// registry lists the stage kinds, in the order the documentation gives them: the `uses` name,
// the implementation, and the settings type its `with` decodes into. Adding a kind is a line here.
var registry = []Registered{
	{"dataset", datasetKind{}, datasetSettings{}},
	{"preprocess", preprocessKind{}, preprocessSettings{}},
	{"model", modelKind{}, modelSettings{}},
	{"train", trainKind{}, trainSettings{}},
	{"evaluate", evaluateKind{}, evaluateSettings{}},
	{"tune", tuneKind{}, tuneSettings{}},
	{"explain", explainKind{}, explainSettings{}},
	{"predict", predictKind{}, predictSettings{}},
	{"shell", shellKind{}, shellSettings{}},
}

// Registered is one stage kind: its name, implementation and settings type.
type Registered struct {
	Name     string
	Kind     pipeline.Kind
	Settings any // the zero settings value, whose type the schema is derived from
}

// Registry returns every stage kind loom implements, in documentation order.
func Registry() []Registered { return registry }

// Kinds returns every stage kind loom implements, by `uses` name.
func Kinds() pipeline.Kinds {
	kinds := make(pipeline.Kinds, len(registry))
	for _, r := range registry {
		kinds[r.Name] = r.Kind
	}
	return kinds
}

// namesOf returns the `uses` names of kinds, in the order given.
func namesOf(kinds ...pipeline.Kind) []string {
	var names []string
	for _, k := range kinds {
		for _, r := range registry {
			if r.Kind == k {
				names = append(names, r.Name)
			}
		}
	}
	return names
}

// kindOf returns the kind named uses, or nil.
func kindOf(uses string) pipeline.Kind {
	for _, r := range registry {
		if r.Name == uses {
			return r.Kind
		}
	}
	return nil
}

// artifactsOnly is embedded by the jobs that read only upstream artifacts and write only their
// own: no workspace files go into their keys, none come out.
type artifactsOnly struct{}

func (artifactsOnly) Deps() []string { return nil }
func (artifactsOnly) Outs() []string { return nil }

// ModelStages returns the stages of m whose artifact is a model bundle (train stages), in
// m.Order: what `loom predict`, `serve` and `export` read.
func ModelStages(m *manifest.Manifest) []string {
	var out []string
	for _, name := range m.Order {
		if _, ok := kindOf(m.Stages[name].Uses).(trainKind); ok {
			out = append(out, name)
		}
	}
	return out
}

// ModelFile is the name of a train stage's model bundle in its artifact.
const ModelFile = modelFile
