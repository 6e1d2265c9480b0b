package steps_test

import (
	"encoding/json"
	"maps"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/loom-ml/loom/schemas"
	"github.com/loom-ml/loom/steps"
)

// TestKindsAgree: the kinds loom implements are the kinds the schema lists (its `uses` enum and
// one $defs entry each, in both schema files) and docs/MANIFEST.md names.
func TestKindsAgree(t *testing.T) {
	implemented := slices.Sorted(maps.Keys(steps.Kinds()))
	for _, doc := range [][]byte{schemas.Resolved, schemas.JSON} {
		var s struct {
			Defs map[string]json.RawMessage `json:"$defs"`
		}
		if err := json.Unmarshal(doc, &s); err != nil {
			t.Fatal(err)
		}
		var stage struct {
			Properties struct {
				Uses struct {
					Enum  []string `json:"enum"`
					AnyOf []struct {
						Enum []string `json:"enum"`
					} `json:"anyOf"`
				} `json:"uses"`
			} `json:"properties"`
		}
		json.Unmarshal(s.Defs["stage"], &stage)
		enum := stage.Properties.Uses.Enum
		if len(stage.Properties.Uses.AnyOf) > 0 {
			enum = stage.Properties.Uses.AnyOf[0].Enum
		}
		if got := slices.Sorted(slices.Values(enum)); !slices.Equal(got, implemented) {
			t.Errorf("the schema's uses enum %v, implemented %v", got, implemented)
		}
		for _, k := range implemented {
			if _, ok := s.Defs[k]; !ok {
				t.Errorf("the schema has no $defs/%s", k)
			}
		}
	}
	docs, err := os.ReadFile("../docs/MANIFEST.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("\\| `uses` \\| the stage kind: (.*) \\|").FindSubmatch(docs)
	if row == nil {
		t.Fatal("docs/MANIFEST.md has no uses row")
	}
	var listed []string
	for _, m := range regexp.MustCompile("`([a-z]+)`").FindAllSubmatch(row[1], -1) {
		listed = append(listed, string(m[1]))
	}
	if got := slices.Sorted(slices.Values(listed)); !slices.Equal(got, implemented) {
		t.Errorf("docs/MANIFEST.md lists %v, implemented %v", got, implemented)
	}
}
