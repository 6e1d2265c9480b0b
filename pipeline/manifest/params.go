package manifest

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/loom-ml/loom/internal/suggest"
)

// step is one segment of a param path: a map key, or a list index when isIndex.
type step struct {
	key     string
	index   int
	isIndex bool
}

// parsePath splits "train.lr", "hidden[0]", "hidden.0" or "params.train.lr" into steps.
func parsePath(path string) ([]step, error) {
	path = strings.TrimPrefix(path, "params.")
	if path == "" {
		return nil, fmt.Errorf("empty param path")
	}
	var steps []step
	for _, seg := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(seg, "[")
		if key == "" && rest == "" {
			return nil, fmt.Errorf("param path %q has an empty segment", path)
		}
		if key != "" {
			if i, err := strconv.Atoi(key); err == nil {
				steps = append(steps, step{index: i, isIndex: true})
			} else {
				steps = append(steps, step{key: key})
			}
		}
		for rest != "" {
			num, after, ok := strings.Cut(rest, "]")
			i, err := strconv.Atoi(num)
			if !ok || err != nil {
				return nil, fmt.Errorf("param path %q: bad index [%s", path, rest)
			}
			steps = append(steps, step{index: i, isIndex: true})
			if after == "" {
				break
			}
			if after[0] != '[' {
				return nil, fmt.Errorf("param path %q: unexpected %q after ]", path, after)
			}
			rest = after[1:]
		}
	}
	return steps, nil
}

// formatPath renders steps as "params.a.b[0]", the form Stage.Params uses.
func formatPath(steps []step) string {
	var b strings.Builder
	b.WriteString("params")
	for _, s := range steps {
		if s.isIndex {
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		} else {
			b.WriteString("." + s.key)
		}
	}
	return b.String()
}

// setParam replaces the existing value at path in params. It fails, naming the closest existing
// path, when the path does not exist: a typo in --set must not silently add an unused param.
func setParam(params map[string]any, steps []step, value any) error {
	var cur any = params
	for i, s := range steps {
		last := i == len(steps)-1
		switch c := cur.(type) {
		case map[string]any:
			old, ok := c[s.key]
			if s.isIndex || !ok {
				return missingPath(params, steps, i)
			}
			if last {
				c[s.key] = keepFloat(old, value)
				return nil
			}
			cur = old
		case []any:
			if !s.isIndex || s.index < 0 || s.index >= len(c) {
				return missingPath(params, steps, i)
			}
			if last {
				c[s.index] = keepFloat(c[s.index], value)
				return nil
			}
			cur = c[s.index]
		default:
			return missingPath(params, steps, i)
		}
	}
	return nil
}

// keepFloat turns an int into a float where the param was a float, so that --set lr=1 keeps
// lr a float and the stages that read it see the type the manifest declared.
func keepFloat(old, v any) any {
	if _, ok := old.(float64); ok {
		if i, ok := v.(int); ok {
			return float64(i)
		}
	}
	return v
}

// missingPath explains why steps[:bad+1] does not exist in params.
func missingPath(params map[string]any, steps []step, bad int) error {
	want := formatPath(steps)
	msg := fmt.Sprintf("param %s does not exist", want)
	if c := suggest.Closest(want, allPaths(params)); c != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", c)
	} else {
		msg += fmt.Sprintf(" (%s has: %s)", formatPath(steps[:bad]), quoteList(childNames(params, steps[:bad])))
	}
	return fmt.Errorf("%s", msg)
}

// allPaths lists every path in params, inner nodes included, sorted.
func allPaths(params map[string]any) []string {
	var out []string
	var walk func(v any, prefix []step)
	walk = func(v any, prefix []step) {
		switch c := v.(type) {
		case map[string]any:
			for k, x := range c {
				p := append(prefix[:len(prefix):len(prefix)], step{key: k})
				out = append(out, formatPath(p))
				walk(x, p)
			}
		case []any:
			for i, x := range c {
				p := append(prefix[:len(prefix):len(prefix)], step{index: i, isIndex: true})
				out = append(out, formatPath(p))
				walk(x, p)
			}
		}
	}
	walk(params, nil)
	sort.Strings(out)
	return out
}

// childNames lists what exists one level below steps: map keys, or "[0..n-1]" for a list.
func childNames(params map[string]any, steps []step) []string {
	v, ok := lookup(params, steps)
	if !ok {
		return nil
	}
	switch c := v.(type) {
	case map[string]any:
		return slices.Sorted(maps.Keys(c))
	case []any:
		if len(c) == 0 {
			return []string{"an empty list"}
		}
		return []string{fmt.Sprintf("indexes 0..%d", len(c)-1)}
	}
	return []string{fmt.Sprintf("a %s, not a mapping or list", typeName(v))}
}

// lookup returns the value at steps; negative list indexes count from the end, as in expr.
func lookup(params map[string]any, steps []step) (any, bool) {
	var cur any = params
	for _, s := range steps {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[s.key]
			if s.isIndex || !ok {
				return nil, false
			}
			cur = v
		case []any:
			i := s.index
			if i < 0 {
				i += len(c)
			}
			if !s.isIndex || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// typeName names a plain value's type for messages.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case int, float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "list"
	case map[string]any:
		return "mapping"
	}
	return fmt.Sprintf("%T", v)
}

// applySets applies --set items ("PATH=VALUE", VALUE parsed as YAML) in order.
func applySets(params map[string]any, sets []string) error {
	var errs ErrorList
	for _, item := range sets {
		if err := applySet(params, item); err != nil {
			errs = append(errs, &Error{Pos: Pos{File: "--set " + item}, Msg: err.Error()})
		}
	}
	return finish(errs)
}

func applySet(params map[string]any, item string) error {
	path, val, ok := strings.Cut(item, "=")
	path = strings.TrimSpace(path)
	if !ok || path == "" {
		return fmt.Errorf("want PATH=VALUE, e.g. train.lr=0.01")
	}
	steps, err := parsePath(path)
	if err != nil {
		return err
	}
	v, err := parseValue(val)
	if err != nil {
		return fmt.Errorf("value %q is not valid YAML: %v", val, err)
	}
	return setParam(params, steps, v)
}

// parseValue parses a --set value as YAML, so that "0.01" is a number and "[8,4]" a list.
func parseValue(s string) (any, error) {
	root, err := parseYAML("value", []byte(s))
	if err != nil {
		return nil, err
	}
	return plain(root), nil
}

// mergeParamFile merges a params file (such as tune's best.yaml) over params. Its keys may be
// nested mappings or dotted paths ("train.lr: 0.01"); an outer "params:" wrapper is accepted.
func mergeParamFile(params map[string]any, file string) error {
	src, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	root, err := parseYAML(file, src)
	if err != nil {
		return err
	}
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return &Error{Pos: Pos{file, root.Line, root.Column}, Msg: "a params file must be a mapping of param paths to values"}
	}
	if len(root.Content) == 2 && root.Content[0].Value == "params" && root.Content[1].Kind == yaml.MappingNode {
		if _, clash := params["params"]; !clash {
			root = root.Content[1]
		}
	}
	sink := errorSink{file: file}
	mergeNode(params, root, nil, &sink)
	return sink.err()
}

// mergeNode sets each leaf of the mapping n at prefix; mappings merge into existing mappings.
func mergeNode(params map[string]any, n *yaml.Node, prefix []step, sink *errorSink) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		steps, err := parsePath(k.Value)
		if err != nil {
			sink.add(k.Line, k.Column, "%v", err)
			continue
		}
		path := append(prefix[:len(prefix):len(prefix)], steps...)
		if cur, ok := lookup(params, path); ok && v.Kind == yaml.MappingNode {
			if _, isMap := cur.(map[string]any); isMap {
				mergeNode(params, v, path, sink)
				continue
			}
		}
		if err := setParam(params, path, plain(v)); err != nil {
			sink.add(k.Line, k.Column, "%v", err)
		}
	}
}

// cloneValue deep-copies a plain value, so that overrides never alias another manifest's params.
func cloneValue(v any) any {
	switch c := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(c))
		for k, x := range c {
			m[k] = cloneValue(x)
		}
		return m
	case []any:
		l := make([]any, len(c))
		for i, x := range c {
			l[i] = cloneValue(x)
		}
		return l
	}
	return v
}

// CheckParam reports whether path (params.a.b, a.b or hidden[0]) names a param of the manifest;
// the error says what the params around it are.
func (m *Manifest) CheckParam(path string) error {
	steps, err := parsePath(path)
	if err != nil {
		return err
	}
	return checkChain(m.Params, steps)
}
