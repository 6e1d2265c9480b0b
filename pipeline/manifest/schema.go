package manifest

import (
	"strings"

	"github.com/loom-ml/loom/schemas"
	"gopkg.in/yaml.v3"
)

// validateSchema checks each stage's resolved settings against its kind's part of
// schemas/pipeline.schema.json ($defs/KIND) and positions each violation at the text it came
// from. The rest of the schema (top level, stage keys, names) is what readTop checks by hand,
// with better messages; ValidateSchema runs the whole schema.
func (m *Manifest) validateSchema() error {
	var list ErrorList
	for _, name := range m.Order {
		st := m.Stages[name]
		vs, err := schemas.ValidateWith(st.Uses, st.Settings)
		if err != nil {
			return err
		}
		for _, v := range vs {
			list = append(list, m.violation(append([]string{"stages", name, "with"}, v.Path...), v))
		}
	}
	return finish(list)
}

// ValidateSchema checks the whole resolved manifest, with each stage's settings after
// interpolation, against schemas/pipeline.schema.json, as `loom validate` promises. Load has
// already applied the same rules, so this finds nothing new in a loaded manifest; it exists so
// that the schema file itself is proven against real manifests.
func (m *Manifest) ValidateSchema() error {
	vs, err := schemas.Validate(m.document())
	if err != nil {
		return err
	}
	var list ErrorList
	for _, v := range vs {
		list = append(list, m.violation(v.Path, v))
	}
	return finish(list)
}

func (m *Manifest) violation(path []string, v schemas.Violation) *Error {
	pos, where := m.locate(path, v.Key)
	return &Error{Pos: pos, Msg: where + ": " + v.Msg}
}

// document is the manifest as plain values, with each stage's settings after interpolation.
func (m *Manifest) document() map[string]any {
	stages := make(map[string]any, len(m.Stages))
	for name, st := range m.Stages {
		s := map[string]any{"uses": st.Uses, "cache": st.Cache}
		if st.Needs != nil {
			needs := make([]any, len(st.Needs))
			for i, n := range st.Needs {
				needs[i] = n
			}
			s["needs"] = needs
		}
		if st.With != nil {
			s["with"] = st.Settings
		}
		stages[name] = s
	}
	doc := map[string]any{"version": m.Version, "params": m.Params, "stages": stages}
	if m.Name != "" {
		doc["name"] = m.Name
	}
	return doc
}

// locate returns the position of the value at a schema instance path (or of its key) and the
// path written for people: stages.train.with.layers[2].dense.
func (m *Manifest) locate(path []string, key string) (Pos, string) {
	n := m.src.root
	var keyOfN *yaml.Node // the key whose value n is
	var b strings.Builder
	for i := 0; i < len(path); i++ {
		p := path[i]
		if i == 2 && path[0] == "stages" && p == "with" {
			if st := m.Stages[path[1]]; st != nil && st.With != nil {
				n = st.With
			}
		}
		writeSeg(&b, n, p)
		if next := child(n, p); next != nil {
			keyOfN = keyNode(n, p)
			n = next
		}
	}
	switch {
	case key != "":
		writeSeg(&b, n, key)
		if k := keyNode(n, key); k != nil {
			n = k
		}
	case keyOfN != nil && (n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode):
		// A problem with a whole block reads best at the key that introduces it.
		n = keyOfN
	}
	if n == nil {
		return Pos{File: m.Path, Line: 1, Col: 1}, b.String()
	}
	return Pos{m.Path, n.Line, n.Column}, b.String()
}

func writeSeg(b *strings.Builder, n *yaml.Node, seg string) {
	if n != nil && n.Kind == yaml.SequenceNode {
		b.WriteString("[" + seg + "]")
		return
	}
	if b.Len() > 0 {
		b.WriteByte('.')
	}
	b.WriteString(seg)
}

// keyNode returns the key node named key of mapping n, or nil.
func keyNode(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i]
		}
	}
	return nil
}
