package manifest

import (
	"fmt"
	"maps"
	"slices"

	"github.com/loom-ml/loom/internal/suggest"
)

// stageRefs are the settings that name another stage, by kind.
var stageRefs = map[string][]string{
	"preprocess": {"data"},
	"model":      {"data"},
	"train":      {"data", "model"},
	"evaluate":   {"data", "model"},
	"tune":       {"target"},
}

// checkRefs reports settings that name stages or params that do not exist: with.data,
// with.model and tune's target must be stages; tune's space keys and asha resource must be
// params. Catching them here gives them a position; the stage kinds would find them only when run.
func (m *Manifest) checkRefs(sink *errorSink) {
	for _, name := range m.Order {
		st := m.Stages[name]
		for _, key := range stageRefs[st.Uses] {
			ref, ok := st.Settings[key].(string)
			if !ok {
				continue
			}
			if _, exists := m.Stages[ref]; !exists {
				sink.addErr(st.Errorf([]string{key}, "stage %s: %s %q is not a stage%s", name, key, ref, suggest.DidYouMean(ref, m.Order)))
			} else if ref == name {
				sink.addErr(st.Errorf([]string{key}, "stage %s: %s names the stage itself", name, key))
			}
		}
		if st.Uses == "tune" {
			m.checkTuneParams(st, sink)
		}
	}
}

// checkTuneParams checks that the params a tune stage searches over exist.
func (m *Manifest) checkTuneParams(st *Stage, sink *errorSink) {
	space, _ := st.Settings["space"].(map[string]any)
	for _, path := range slices.Sorted(maps.Keys(space)) {
		if err := m.checkParamPath(path); err != nil {
			sink.addErr(&Error{Pos: st.keyPos([]string{"space"}, path), Msg: fmt.Sprintf("stage %s: space: %v", st.Name, err)})
		}
	}
	sched, _ := st.Settings["scheduler"].(map[string]any)
	asha, _ := sched["asha"].(map[string]any)
	if res, ok := asha["resource"].(string); ok {
		if err := m.checkParamPath(res); err != nil {
			sink.addErr(st.Errorf([]string{"scheduler", "asha", "resource"}, "stage %s: resource: %v", st.Name, err))
		}
	}
}

func (m *Manifest) checkParamPath(path string) error {
	steps, err := parsePath(path)
	if err != nil {
		return err
	}
	return checkChain(m.Params, steps)
}

// keyPos returns the position of the key named key in the mapping at path inside with.
func (s *Stage) keyPos(path []string, key string) Pos {
	n := s.With
	for _, p := range path {
		if n == nil {
			break
		}
		n = child(n, p)
	}
	if k := keyNode(n, key); k != nil {
		return Pos{s.file, k.Line, k.Column}
	}
	return s.PosOf(path...)
}
