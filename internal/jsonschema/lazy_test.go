package jsonschema

import (
	"strings"
	"sync"
	"testing"
)

// The patch moves the drafts' metaschemas out of init(): they must be absent until a compiler
// is made, then in place for every compiler, however many goroutines make one at once.
func TestDraftsCompiledOnFirstCompiler(t *testing.T) {
	if Draft2020.sch != nil {
		t.Fatal("draft 2020-12 metaschema compiled before any compiler was made")
	}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			c := NewCompiler()
			if err := c.AddResource("bad.json", map[string]any{"type": 5}); err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = c.Compile("bad.json")
		})
	}
	wg.Wait()
	for _, d := range []*Draft{Draft4, Draft6, Draft7, Draft2019, Draft2020} {
		if d.sch == nil {
			t.Errorf("%v: metaschema not compiled", d)
		}
	}
	for i, err := range errs {
		// Only a compiled metaschema can reject "type": 5.
		if err == nil || !strings.Contains(err.Error(), "type") {
			t.Errorf("compiler %d: want an error about type, got %v", i, err)
		}
	}
}
