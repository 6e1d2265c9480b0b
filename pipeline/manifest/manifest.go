// Package manifest reads loom's pipeline manifests: it keeps the YAML syntax tree with positions,
// applies params overrides, interpolates ${} expressions, checks the manifest's structure and
// DAG rules, and hands execution a resolved form. What a stage's `with` may hold is its kind's
// business (see package settings). Every problem is an *Error (or an ErrorList) naming
// file:line:column.
//
// Interpolation: in any string inside a stage's `with`, ${EXPR} is an expr-lang expression over
// {"params": Params}. A string that is exactly one ${...} (quoted or not) becomes the result
// with its type: number, bool, list or mapping. Inside a longer string the result is formatted
// as YAML would write it (0.001, [8, 4]). $${ is a literal ${. Keys are never interpolated, nor
// are uses, needs and cache. Params read by an expression are checked to exist, since expr
// cannot see into a map's keys at compile time.
//
// Overrides: Options.ParamFiles are merged over params, then Options.Sets ("a.b=VALUE", VALUE
// parsed as YAML) are applied; both may only replace params that exist, so that a typo fails
// instead of adding a param nobody reads. An int set over a float param stays a float.
//
// YAML anchors, aliases and merge keys (<<) are expanded before anything else reads the tree.
package manifest

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/loom-ml/loom/internal/suggest"
	"gopkg.in/yaml.v3"
)

// StageNamePattern is the pattern of a stage name; names become folder names and CLI arguments.
const StageNamePattern = `^[a-z][a-z0-9_-]*$`

var stageNameRE = regexp.MustCompile(StageNamePattern)

var (
	topKeys   = []string{"version", "name", "params", "stages"}
	stageKeys = []string{"uses", "needs", "with", "cache"}
)

// Options are the overrides the command line applies to a manifest's params.
type Options struct {
	Sets       []string // --set PATH=VALUE; PATH relative to params, a leading "params." is also accepted; VALUE parsed as YAML
	ParamFiles []string // YAML files whose trees are merged over params before Sets (for --params best.yaml)
}

// Manifest is a loaded, resolved and validated pipeline.
type Manifest struct {
	Path    string            // as given to Load
	Dir     string            // absolute path of the manifest's folder (the workspace)
	Version int               // always 1
	Name    string            // the pipeline's name; "" when absent
	Params  map[string]any    // after ParamFiles and Sets
	Stages  map[string]*Stage // by name
	Order   []string          // every stage, topologically sorted, ties broken by order in the file

	src   *source // what WithParams needs to resolve the stages again
	index map[string]int
}

// source is the part of a manifest that overrides do not change.
type source struct {
	root  *yaml.Node
	lines []string
	raw   map[string]*yaml.Node // each stage's `with` before interpolation
	cache *exprCache
}

// Stage is one node of the pipeline's DAG.
type Stage struct {
	Name     string
	Uses     string         // the stage kind; which kinds exist is the caller's to check, at UsesPos
	Needs    []string       // as written, in order
	Cache    bool           // default true
	With     *yaml.Node     // the resolved `with` mapping: ${} replaced, every node keeps the Line/Column of the text it came from; nil when absent
	Settings map[string]any // With as plain values (map[string]any, []any, string, int, float64, bool, nil); empty map when absent
	Params   []string       // param paths its ${} expressions read, e.g. "params.train.lr", sorted, unique
	Pos      Pos            // position of the stage's name key
	UsesPos  Pos            // position of the uses value

	file     string
	needsPos []Pos // position of each Needs entry
}

// Load reads and parses the manifest at path.
func Load(path string, opt Options) (*Manifest, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, src, opt)
}

// Parse parses a manifest's source; path names it in errors and fixes its workspace folder.
func Parse(path string, src []byte, opt Options) (*Manifest, error) {
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, err
	}
	root, err := parseYAML(path, src)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Path: path, Dir: dir, Stages: map[string]*Stage{}, index: map[string]int{}}
	m.src = &source{root: root, lines: strings.Split(string(src), "\n"), raw: map[string]*yaml.Node{}, cache: newExprCache()}
	sink := &errorSink{file: path}
	paramsNode := m.readTop(root, sink)
	if err := sink.err(); err != nil {
		return nil, err
	}
	m.Params = map[string]any{}
	if paramsNode != nil {
		m.Params = plain(paramsNode).(map[string]any)
	}
	if err := applyOptions(m.Params, opt); err != nil {
		return nil, err
	}
	m.checkNeeds(sink)
	m.order(sink)
	m.resolveAll(sink)
	if err := sink.err(); err != nil {
		return nil, err
	}
	return m, nil
}

// applyOptions merges params files, then --set items, over params.
func applyOptions(params map[string]any, opt Options) error {
	for _, f := range opt.ParamFiles {
		if err := mergeParamFile(params, f); err != nil {
			return err
		}
	}
	return applySets(params, opt.Sets)
}

// readTop checks the top-level mapping and reads version, name and stages; it returns the
// params node, nil when absent.
func (m *Manifest) readTop(root *yaml.Node, sink *errorSink) *yaml.Node {
	if root == nil {
		sink.add(1, 1, "empty manifest: want a mapping with version: 1 and stages")
		return nil
	}
	if root.Kind != yaml.MappingNode {
		sink.add(root.Line, root.Column, "a manifest must be a mapping with version, name, params and stages; found a %s", kindName(root))
		return nil
	}
	var params, stages, version *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "version":
			version = v
		case "name":
			if !isString(v) {
				sink.add(v.Line, v.Column, "name must be a string, not a %s", kindName(v))
			}
			m.Name = v.Value
		case "params":
			params = v
		case "stages":
			stages = v
		default:
			sink.add(k.Line, k.Column, "unknown top-level key %q%s; valid keys: %s", k.Value, suggest.DidYouMean(k.Value, topKeys), quoteList(topKeys))
		}
	}
	m.readVersion(root, version, sink)
	if params != nil && params.Kind != yaml.MappingNode {
		if params.ShortTag() != "!!null" {
			sink.add(params.Line, params.Column, "params must be a mapping, not a %s", kindName(params))
		}
		params = nil
	}
	if stages == nil {
		sink.add(root.Line, root.Column, "missing stages: a mapping from stage name to stage")
	} else {
		m.readStages(stages, sink)
	}
	return params
}

func (m *Manifest) readVersion(root, v *yaml.Node, sink *errorSink) {
	switch {
	case v == nil:
		sink.add(root.Line, root.Column, "missing version: 1")
	case v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Value != "1":
		sink.add(v.Line, v.Column, "version must be 1, not %s", describe(v))
	default:
		m.Version = 1
	}
}

// describe shows a node in a message: its text for scalars, its kind otherwise.
func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return strconv.Quote(n.Value)
	}
	return "a " + kindName(n)
}

// readStages reads the stages mapping in file order.
func (m *Manifest) readStages(n *yaml.Node, sink *errorSink) {
	if n.Kind != yaml.MappingNode {
		if n.ShortTag() != "!!null" {
			sink.add(n.Line, n.Column, "stages must be a mapping from stage name to stage, not a %s", kindName(n))
		}
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !stageNameRE.MatchString(k.Value) {
			sink.add(k.Line, k.Column, "bad stage name %q: want a lowercase letter then lowercase letters, digits, _ or - ([a-z][a-z0-9_-]*)", k.Value)
		}
		st := &Stage{Name: k.Value, Cache: true, Pos: Pos{sink.file, k.Line, k.Column}, file: sink.file}
		st.read(v, sink)
		m.index[st.Name] = len(m.index)
		m.Stages[st.Name] = st
		m.src.raw[st.Name] = st.With
	}
}

// read checks one stage's mapping.
func (st *Stage) read(n *yaml.Node, sink *errorSink) {
	if n.Kind != yaml.MappingNode {
		sink.add(n.Line, n.Column, "stage %s must be a mapping with uses (and needs, with, cache), not a %s", st.Name, kindName(n))
		return
	}
	var uses *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "uses":
			uses = v
			st.readUses(v, sink)
		case "needs":
			st.readNeeds(v, sink)
		case "with":
			if v.Kind == yaml.MappingNode {
				st.With = v
			} else if v.ShortTag() != "!!null" {
				sink.add(v.Line, v.Column, "stage %s: with must be a mapping of %s settings, not a %s", st.Name, st.Uses, kindName(v))
			}
		case "cache":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
				sink.add(v.Line, v.Column, "stage %s: cache must be true or false, not %s", st.Name, describe(v))
				continue
			}
			st.Cache = scalar(v) == true
		default:
			sink.add(k.Line, k.Column, "stage %s: unknown key %q%s; valid keys: %s", st.Name, k.Value, suggest.DidYouMean(k.Value, stageKeys), quoteList(stageKeys))
		}
	}
	if uses == nil {
		sink.add(st.Pos.Line, st.Pos.Col, "stage %s: missing uses, the stage's kind", st.Name)
	}
}

func (st *Stage) readUses(v *yaml.Node, sink *errorSink) {
	if !isString(v) || v.Value == "" {
		sink.add(v.Line, v.Column, "stage %s: uses must name a stage kind, not %s", st.Name, describe(v))
		return
	}
	st.Uses, st.UsesPos = v.Value, Pos{sink.file, v.Line, v.Column}
}

// readNeeds accepts a list of stage names, or one name as shorthand.
func (st *Stage) readNeeds(v *yaml.Node, sink *errorSink) {
	items := []*yaml.Node{v}
	switch {
	case v.Kind == yaml.SequenceNode:
		items = v.Content
	case v.ShortTag() == "!!null":
		return
	}
	seen := map[string]bool{}
	for _, it := range items {
		if !isString(it) {
			sink.add(it.Line, it.Column, "stage %s: needs must list stage names, not %s", st.Name, describe(it))
			continue
		}
		if seen[it.Value] {
			sink.add(it.Line, it.Column, "stage %s: needs lists %q twice", st.Name, it.Value)
			continue
		}
		seen[it.Value] = true
		st.Needs = append(st.Needs, it.Value)
		st.needsPos = append(st.needsPos, Pos{sink.file, it.Line, it.Column})
	}
}

// checkNeeds reports needs naming missing stages or the stage itself, and drops those edges so
// that the DAG can still be ordered and other problems found.
func (m *Manifest) checkNeeds(sink *errorSink) {
	names := slices.Sorted(maps.Keys(m.Stages))
	for _, name := range m.fileOrder() {
		st := m.Stages[name]
		keep, keepPos := st.Needs[:0:0], st.needsPos[:0:0]
		for i, n := range st.Needs {
			switch _, ok := m.Stages[n]; {
			case n == name:
				sink.addErr(&Error{Pos: st.needsPos[i], Msg: fmt.Sprintf("stage %s needs itself", name)})
			case !ok:
				sink.addErr(&Error{Pos: st.needsPos[i], Msg: fmt.Sprintf("stage %s needs %q, which is not a stage%s", name, n, suggest.DidYouMean(n, names))})
			default:
				keep, keepPos = append(keep, n), append(keepPos, st.needsPos[i])
			}
		}
		st.Needs, st.needsPos = keep, keepPos
	}
}

// fileOrder returns the stage names in the order the file lists them.
func (m *Manifest) fileOrder() []string {
	out := make([]string, len(m.index))
	for name, i := range m.index {
		out[i] = name
	}
	return out
}

// resolveAll interpolates every stage's `with`.
func (m *Manifest) resolveAll(sink *errorSink) {
	env := map[string]any{"params": m.Params}
	for _, name := range m.fileOrder() {
		m.Stages[name].resolve(m.src, m.Params, env, sink)
	}
}

// resolve sets With, Settings and Params from the stage's raw `with`.
func (st *Stage) resolve(src *source, params, env map[string]any, sink *errorSink) {
	st.With, st.Settings, st.Params = nil, map[string]any{}, nil
	raw := src.raw[st.Name]
	if raw == nil {
		return
	}
	r := &resolver{file: st.file, lines: src.lines, params: params, env: env, cache: src.cache, sink: sink, read: map[string]bool{}}
	st.With = r.resolve(raw)
	st.Settings = plain(st.With).(map[string]any)
	if len(r.read) > 0 {
		st.Params = slices.Sorted(maps.Keys(r.read))
	}
}

// PosOf returns the position of the value at path inside with, e.g. PosOf("optimizer","lr") or
// PosOf("layers","2","dense"); the nearest existing ancestor's position when the path is absent.
func (s *Stage) PosOf(path ...string) Pos {
	if s.With == nil {
		return s.Pos
	}
	n := s.With
	for _, p := range path {
		next := child(n, p)
		if next == nil {
			break
		}
		n = next
	}
	return Pos{s.file, n.Line, n.Column}
}

// child returns the value under key (mapping) or index (list) p of n, or nil.
func child(n *yaml.Node, p string) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				return n.Content[i+1]
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(p); err == nil && i >= 0 && i < len(n.Content) {
			return n.Content[i]
		}
	}
	return nil
}

// Errorf returns an *Error positioned at PosOf(path...).
func (s *Stage) Errorf(path []string, format string, args ...any) *Error {
	return &Error{Pos: s.PosOf(path...), Msg: fmt.Sprintf(format, args...)}
}

// WithParams returns a copy of m whose params have the given overrides (paths as in Options.Sets,
// values already typed) and whose stages are re-resolved; used by the tune stage for each trial.
// m itself is not changed, and several goroutines may call WithParams on one manifest at once.
func (m *Manifest) WithParams(overrides map[string]any) (*Manifest, error) {
	params := cloneValue(m.Params).(map[string]any)
	var errs ErrorList
	for _, path := range slices.Sorted(maps.Keys(overrides)) {
		steps, err := parsePath(path)
		if err == nil {
			err = setParam(params, steps, overrides[path])
		}
		if err != nil {
			errs = append(errs, &Error{Pos: Pos{File: m.Path}, Msg: fmt.Sprintf("override %s: %v", path, err)})
		}
	}
	if err := finish(errs); err != nil {
		return nil, err
	}
	c := *m
	c.Params = params
	c.Stages = make(map[string]*Stage, len(m.Stages))
	sink := &errorSink{file: m.Path}
	env := map[string]any{"params": params}
	for name, st := range m.Stages {
		cs := *st
		cs.resolve(m.src, params, env, sink)
		c.Stages[name] = &cs
	}
	if err := sink.err(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Closure returns the named stages and every stage they need, transitively, including s itself, in m.Order order.
func (m *Manifest) Closure(names ...string) ([]string, error) {
	want := map[string]bool{}
	var stack []string
	for _, n := range names {
		if _, ok := m.Stages[n]; !ok {
			return nil, fmt.Errorf("unknown stage %q%s; stages: %s", n, suggest.DidYouMean(n, m.Order), quoteList(m.Order))
		}
		if !want[n] {
			want[n] = true
			stack = append(stack, n)
		}
	}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, d := range m.Stages[n].Needs {
			if !want[d] {
				want[d] = true
				stack = append(stack, d)
			}
		}
	}
	out := make([]string, 0, len(want))
	for _, n := range m.Order {
		if want[n] {
			out = append(out, n)
		}
	}
	return out, nil
}
