package pipeline

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/loom-ml/loom/pipeline/manifest"
)

// A Recipe is everything that goes into a stage's ActionID, kept in its cache entry so that
// `loom status` can say what changed.
type Recipe struct {
	Kind     string              `json:"kind"`
	Version  string              `json:"version"`
	Settings map[string]any      `json:"settings"`
	Deps     map[string]Digest   `json:"deps,omitempty"`     // workspace path -> digest
	Upstream map[string]OutputID `json:"upstream,omitempty"` // stage -> output
	// Covers holds the stages a PartsJob runs, as they are resolved with the manifest's own
	// params; their input files are in Deps.
	Covers map[string]Covered `json:"covers,omitempty"`
	// Secrets holds, for a job with secret inputs (a SecretJob), a keyed digest of them: a
	// changed secret changes the ActionID, while neither the key nor the recipe holds it.
	Secrets string `json:"secrets,omitempty"`
	// Params holds the values of the params the settings read. It explains changes; it is not
	// hashed, since the settings already hold the interpolated values.
	Params map[string]any `json:"params,omitempty"`
}

// A SecretJob has inputs that must not be stored, such as a salt from the environment.
type SecretJob interface {
	Job
	// SecretDigest returns a digest that changes with the secrets and reveals nothing of
	// them (an HMAC of a constant keyed by them).
	SecretDigest() string
}

// ID returns the ActionID the recipe describes.
func (r *Recipe) ID() ActionID {
	hashed := *r
	hashed.Params = nil
	b, err := json.Marshal(&hashed)
	if err != nil {
		panic(err) // settings come from YAML and hold only JSON-safe values
	}
	h := sha256.New()
	fmt.Fprintf(h, "loom action v1\n")
	h.Write(b)
	return ActionID(hex.EncodeToString(h.Sum(nil)))
}

// Covered is a stage a PartsJob runs, as part of the PartsJob's recipe.
type Covered struct {
	Kind     string         `json:"kind"`
	Version  string         `json:"version"`
	Settings map[string]any `json:"settings"`
}

// A PartsJob is a job that runs parts of the pipeline itself, through Env.Parts (a sweep runs
// its target's part of the DAG for each trial). Its ActionID covers those stages' kinds,
// settings and input files, so that editing any of them, or their data, makes it run again.
type PartsJob interface {
	Job
	Covers() []string // the stages it runs
}

// newRecipe builds the recipe of st given the outputs of the stages it needs.
func newRecipe(m *manifest.Manifest, st *manifest.Stage, kinds Kinds, jobs map[string]Job, h *fileHasher, up map[string]OutputID) (*Recipe, error) {
	job := jobs[st.Name]
	r := &Recipe{Kind: st.Uses, Version: kinds[st.Uses].Version(), Settings: st.Settings}
	if len(st.Needs) > 0 {
		r.Upstream = make(map[string]OutputID, len(st.Needs))
		for _, n := range st.Needs {
			r.Upstream[n] = up[n]
		}
	}
	if sj, ok := job.(SecretJob); ok {
		r.Secrets = sj.SecretDigest()
	}
	deps := job.Deps()
	if pj, ok := job.(PartsJob); ok {
		r.Covers = map[string]Covered{}
		for _, name := range pj.Covers() {
			cs, ok := m.Stages[name]
			if !ok {
				return nil, fmt.Errorf("runs stage %q, which does not exist", name)
			}
			r.Covers[name] = Covered{Kind: cs.Uses, Version: kinds[cs.Uses].Version(), Settings: cs.Settings}
			deps = append(deps, jobs[name].Deps()...)
		}
	}
	if len(deps) > 0 {
		r.Deps = make(map[string]Digest, len(deps))
		for _, d := range deps {
			abs := resolve(m.Dir, d)
			dg, err := h.Digest(abs)
			if err != nil {
				return nil, inputError(d, abs, err)
			}
			r.Deps[d] = dg
		}
	}
	if len(st.Params) > 0 {
		r.Params = make(map[string]any, len(st.Params))
		for _, p := range st.Params {
			r.Params[p] = lookupParam(m.Params, p)
		}
	}
	return r, nil
}

// inputError names the input the manifest lists, and the file below it when the trouble is
// there.
func inputError(dep, abs string, err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return fmt.Errorf("input %s: %w", dep, err)
	}
	if pe.Path != abs {
		if rel, rerr := filepath.Rel(abs, pe.Path); rerr == nil {
			dep = filepath.Join(dep, rel)
		}
	}
	return fmt.Errorf("input %s: %w", dep, pe.Err)
}

// lookupParam returns the value at a dotted path such as "params.hidden.0" or
// "params.hidden[0]", or nil.
func lookupParam(params map[string]any, path string) any {
	path = strings.TrimPrefix(path, "params.")
	path = strings.NewReplacer("[", ".", "]", "").Replace(path)
	var cur any = params
	for _, k := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[k]
		case []any:
			var i int
			if _, err := fmt.Sscan(k, &i); err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// explain lists what differs between an old recipe and a new one, in words.
func explain(old, cur *Recipe) []string {
	var why []string
	if old.Kind != cur.Kind || old.Version != cur.Version {
		why = append(why, fmt.Sprintf("implementation of %s changed (%s -> %s)", cur.Kind, old.Version, cur.Version))
	}
	for _, p := range slices.Sorted(maps.Keys(union(old.Params, cur.Params))) {
		if a, b := jsonString(old.Params[p]), jsonString(cur.Params[p]); a != b {
			why = append(why, fmt.Sprintf("param %s changed (%s -> %s)", p, a, b))
		}
	}
	if len(why) == 0 || len(cur.Params) == 0 {
		for _, d := range diffValues("with", old.Settings, cur.Settings) {
			why = append(why, "setting "+d)
		}
	}
	for _, d := range slices.Sorted(maps.Keys(union(old.Deps, cur.Deps))) {
		switch a, b := old.Deps[d], cur.Deps[d]; {
		case a == "":
			why = append(why, "new input "+d)
		case b == "":
			why = append(why, "input "+d+" no longer read")
		case a != b:
			why = append(why, "input "+d+" changed")
		}
	}
	for _, s := range slices.Sorted(maps.Keys(union(old.Covers, cur.Covers))) {
		if jsonString(old.Covers[s]) != jsonString(cur.Covers[s]) {
			why = append(why, "swept stage "+s+" changed")
		}
	}
	for _, s := range slices.Sorted(maps.Keys(union(old.Upstream, cur.Upstream))) {
		if old.Upstream[s] != cur.Upstream[s] {
			why = append(why, "upstream "+s+" changed")
		}
	}
	return why
}

// diffValues lists the paths below prefix where a and b differ.
func diffValues(prefix string, a, b any) []string {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		var out []string
		for _, k := range slices.Sorted(maps.Keys(union(am, bm))) {
			out = append(out, diffValues(prefix+"."+k, am[k], bm[k])...)
		}
		return out
	}
	if as, bs := jsonString(a), jsonString(b); as != bs {
		return []string{fmt.Sprintf("%s changed (%s -> %s)", prefix, as, bs)}
	}
	return nil
}

func jsonString(v any) string {
	if v == nil {
		return "unset"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func union[V any](a, b map[string]V) map[string]bool {
	u := make(map[string]bool, len(a)+len(b))
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}
