package steps

import (
	"errors"

	"gopkg.in/yaml.v3"
)

// Setting types shared by several kinds; their doc comments describe every field of theirs
// that has none of its own.

// seed seeds the random generator: the same seed gives bit-identical results.
type seed uint64

// columns lists column names, as in the CSV header.
type columns []string

// expression is an expr-lang expression (https://expr-lang.org).
type expression string

// readsData is embedded in the settings of the kinds that read a frame.
type readsData struct {
	// The stage whose data this stage reads, when several stages it needs could provide it.
	Data string `yaml:"data" check:"stage"`
}

// readsModel is embedded in the settings of the kinds that read a model.
type readsModel struct {
	// The stage whose model this stage reads, when several stages it needs could provide it.
	Model string `yaml:"model" check:"stage"`
}

// filePath is a file or folder path.
type filePath string

// DecodeSetting implements settings.Value.
func (p *filePath) DecodeSetting(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" || n.Value == "" {
		return errors.New("must be a path")
	}
	*p = filePath(n.Value)
	return nil
}

// SettingSchema implements settings.Value.
func (*filePath) SettingSchema() map[string]any {
	return map[string]any{"type": "string", "minLength": 1}
}

// paths converts a list of paths to strings.
func paths(list []filePath) []string {
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = string(p)
	}
	return out
}
