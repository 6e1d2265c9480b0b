package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxNodes bounds the size of a document after aliases are expanded, so that a few lines of
// nested aliases ("billion laughs") cannot exhaust memory.
const maxNodes = 1 << 18

// maxDepth bounds nesting, which recursive aliases could otherwise make as deep as maxNodes.
const maxDepth = 200

// yamlLineRE finds the line yaml.v3 puts in its syntax errors ("yaml: line 7: ...").
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML decodes src into a normalized node tree: aliases expanded, merge keys (<<) applied,
// duplicate keys and non-scalar keys reported. It returns nil and the errors when src is not a
// single well-formed YAML document, and a nil node with no error for an empty document.
func parseYAML(file string, src []byte) (root *yaml.Node, err error) {
	defer func() {
		// yaml.v3 has panicked on hostile input in the past; a manifest must never crash loom.
		if r := recover(); r != nil {
			root, err = nil, &Error{Pos: Pos{file, 1, 1}, Msg: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{Pos: Pos{file, extra.Line, extra.Column}, Msg: "a manifest holds one YAML document; found a second one (---)"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(file, err)
	}
	n := &normalizer{sink: errorSink{file: file}}
	root = n.node(&doc)
	if err := n.sink.err(); err != nil {
		return nil, err
	}
	return root, nil
}

// syntaxError positions a yaml.v3 error; yaml.v3 reports lines but not columns.
func syntaxError(file string, err error) *Error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{Pos: Pos{file, line, 1}, Msg: "YAML syntax: " + m[2] + flowHint(m[2])}
	}
	if te, ok := err.(*yaml.TypeError); ok && len(te.Errors) > 0 {
		msg = te.Errors[0]
		if m := regexp.MustCompile(`^line (\d+): (.*)$`).FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return &Error{Pos: Pos{file, line, 1}, Msg: "YAML: " + m[2]}
		}
	}
	return &Error{Pos: Pos{file, 1, 1}, Msg: "YAML syntax: " + trimYAMLPrefix(msg)}
}

// flowHint explains the most common syntax error loom users meet: a bare ${...} in a flow collection.
func flowHint(msg string) string {
	if bytes.Contains([]byte(msg), []byte("did not find expected ',' or")) {
		return ` (a ${...} inside {...} or [...] must be quoted: "${params.x}")`
	}
	return ""
}

func trimYAMLPrefix(s string) string {
	if len(s) > 6 && s[:6] == "yaml: " {
		return s[6:]
	}
	return s
}

// normalizer rewrites a decoded tree in place so that later passes see plain mappings,
// sequences and scalars only: aliases are replaced by (shared) targets, merges applied. Shared
// subtrees are safe because nothing changes a tree after this; the resolver copies on write.
type normalizer struct {
	sink  errorSink
	count int // nodes visited, aliases counted every time they are expanded
	depth int
}

func (n *normalizer) node(in *yaml.Node) *yaml.Node {
	if in == nil {
		return nil
	}
	n.count++
	n.depth++
	defer func() { n.depth-- }()
	if n.depth > maxDepth {
		n.sink.add(in.Line, in.Column, "nested more than %d levels deep", maxDepth)
		n.count = maxNodes + 1 // stop here: one message is enough
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: in.Line, Column: in.Column}
	}
	if n.count > maxNodes {
		if n.count == maxNodes+1 {
			n.sink.add(in.Line, in.Column, "document too large after expanding aliases (more than %d nodes)", maxNodes)
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: in.Line, Column: in.Column}
	}
	switch in.Kind {
	case yaml.DocumentNode:
		if len(in.Content) == 0 {
			return nil
		}
		return n.node(in.Content[0])
	case yaml.AliasNode:
		if in.Alias == nil {
			n.sink.add(in.Line, in.Column, "unknown alias *%s", in.Value)
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: in.Line, Column: in.Column}
		}
		return n.node(in.Alias)
	case yaml.MappingNode:
		return n.mapping(in)
	case yaml.SequenceNode:
		for i, c := range in.Content {
			in.Content[i] = n.node(c)
		}
	}
	return in
}

// mapping normalizes a mapping in place, applying merge keys (explicit keys win over merged
// ones, as in YAML 1.1) and reporting duplicate and non-scalar keys. Running it twice on the
// same mapping (an alias expanded twice) changes nothing the second time.
func (n *normalizer) mapping(in *yaml.Node) *yaml.Node {
	content := in.Content
	out := content[:0] // compacts in place: writes never pass reads
	var merged []*yaml.Node
	var index map[string]*yaml.Node // for big mappings (1000 stages), where a scan is quadratic
	if len(content) > 64 {
		index = make(map[string]*yaml.Node, len(content)/2)
	}
	for i := 0; i+1 < len(content); i += 2 {
		k, v := content[i], content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merged = append(merged, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			n.sink.add(k.Line, k.Column, "a mapping key must be a plain value, not a %s", kindName(k))
			continue
		}
		prev := index[k.Value]
		if index == nil {
			prev = findKey(out, k.Value)
		}
		if prev != nil {
			n.sink.add(k.Line, k.Column, "duplicate key %q (first at line %d)", k.Value, prev.Line)
			continue
		}
		if index != nil {
			index[k.Value] = k
		}
		out = append(out, k, n.node(v))
	}
	in.Content = out
	for _, m := range merged {
		n.merge(in, m)
	}
	return in
}

// findKey returns the key node named key among the pairs of content, or nil. Manifests' mappings
// are small, so a scan beats building a map.
func findKey(content []*yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(content); i += 2 {
		if content[i].Value == key {
			return content[i]
		}
	}
	return nil
}

// merge adds the keys of a << source that the mapping does not set itself.
func (n *normalizer) merge(out *yaml.Node, src *yaml.Node) {
	src = deref(src)
	var sources []*yaml.Node
	switch src.Kind {
	case yaml.MappingNode:
		sources = []*yaml.Node{src}
	case yaml.SequenceNode:
		for _, s := range src.Content {
			sources = append(sources, deref(s))
		}
	}
	if len(sources) == 0 {
		n.sink.add(src.Line, src.Column, "<< must merge a mapping or a list of mappings")
	}
	for _, s := range sources {
		if s.Kind != yaml.MappingNode {
			n.sink.add(s.Line, s.Column, "<< must merge a mapping or a list of mappings")
			continue
		}
		m := n.mapping(s)
		for i := 0; i+1 < len(m.Content); i += 2 {
			if findKey(out.Content, m.Content[i].Value) != nil {
				continue
			}
			out.Content = append(out.Content, m.Content[i], m.Content[i+1])
		}
	}
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// kindName names a node's kind for messages: "mapping", "list", "string", "number"...
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			return "number"
		case "!!bool":
			return "boolean"
		case "!!null":
			return "null"
		}
		return "string"
	}
	return "node"
}

// plain converts a normalized node to plain Go values: map[string]any, []any, string, int,
// float64, bool and nil. Timestamps and other tagged scalars stay strings, as written.
func plain(n *yaml.Node) any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			m[n.Content[i].Value] = plain(n.Content[i+1])
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			l[i] = plain(c)
		}
		return l
	}
	return scalar(n)
}

// scalar returns the typed value of a scalar node.
func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool", "!!int", "!!float":
		if v, ok := fastScalar(n); ok {
			return v
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return n.Value
		}
		switch x := v.(type) {
		case int64:
			if x >= math.MinInt && x <= math.MaxInt {
				return int(x)
			}
			return float64(x)
		case uint64:
			return float64(x)
		}
		return v
	}
	return n.Value
}

// fastScalar reads the common spellings (true, 42, 0.001) without yaml.v3's reflection-based
// Decode, which was a tenth of Parse; anything unusual (0x1F, 1_000, .inf, True) is left to Decode.
func fastScalar(n *yaml.Node) (any, bool) {
	switch n.Tag {
	case "!!bool", "":
		switch n.Value {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	if i, err := strconv.Atoi(n.Value); err == nil && n.ShortTag() == "!!int" {
		return i, true
	}
	if n.ShortTag() == "!!float" && !strings.ContainsAny(n.Value, "_xXpPiInN") {
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f, true
		}
	}
	return nil, false
}

// isString reports whether a scalar node holds a string (so ${} applies to it).
func isString(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str"
}
