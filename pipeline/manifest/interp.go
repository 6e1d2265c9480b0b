package manifest

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"

	"github.com/loom-ml/loom/internal/suggest"
)

// piece is a part of a scalar: literal text, or one ${...} expression starting at byte off.
type piece struct {
	lit    string
	expr   string
	off    int // byte offset of "${" in the scalar's value
	isExpr bool
}

// splitTemplate cuts s into literal text and ${...} expressions; "$${" is a literal "${".
// Braces and quotes inside an expression are balanced, so ${ {"a": 1}.a } works.
func splitTemplate(s string) ([]piece, *Error) {
	var out []piece
	var lit strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			lit.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			lit.WriteByte(s[i])
			i++
			continue
		}
		end, err := exprEnd(s, i+2)
		if err != "" {
			return nil, &Error{Pos: Pos{Col: i}, Msg: err}
		}
		src := s[i+2 : end]
		if strings.TrimSpace(src) == "" {
			return nil, &Error{Pos: Pos{Col: i}, Msg: "empty ${} expression"}
		}
		if lit.Len() > 0 {
			out = append(out, piece{lit: lit.String()})
			lit.Reset()
		}
		out = append(out, piece{expr: src, off: i, isExpr: true})
		i = end + 1
	}
	if lit.Len() > 0 {
		out = append(out, piece{lit: lit.String()})
	}
	return out, nil
}

// exprEnd returns the index of the "}" closing the expression that starts at i.
func exprEnd(s string, i int) (int, string) {
	depth := 1
	for ; i < len(s); i++ {
		switch c := s[i]; c {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i, ""
			}
		case '"', '\'', '`':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' && c != '`' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return 0, "unterminated string inside ${...}"
			}
			i = j
		}
	}
	return 0, `unterminated ${: no closing "}" (write $${ for a literal ${)`
}

// compiled is one distinct ${} expression, compiled once per manifest and its WithParams copies.
type compiled struct {
	prog   *vm.Program
	chains []chain // the params paths it reads, as written
	err    error   // compile error, with the offset inside the expression
	errOff int
}

// chain is a params.a.b[0] access inside an expression; off is its byte offset in the expression.
type chain struct {
	steps []step
	off   int
}

// exprCache compiles each distinct expression once. It is shared by WithParams copies, which
// tune may create from several goroutines.
type exprCache struct {
	mu    sync.Mutex
	progs map[string]*compiled
}

func newExprCache() *exprCache { return &exprCache{progs: map[string]*compiled{}} }

// get compiles src against an env shaped like {"params": map[string]any}; programs do not depend
// on the params' values, only on the names at the top level, so copies can share them.
func (c *exprCache) get(src string) *compiled {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.progs[src]; ok {
		return p
	}
	p := compile(src)
	c.progs[src] = p
	return p
}

// exprConfig is built once: expr.Compile builds a fresh config of every builtin per call, which
// was half the cost of a manifest with many distinct expressions. Compiling does not modify it.
var exprConfig = sync.OnceValue(func() *conf.Config {
	c := conf.CreateNew()
	expr.Env(map[string]any{"params": map[string]any{}})(c)
	expr.Function("shquote", func(args ...any) (any, error) { return ShellQuote(args[0]), nil },
		new(func(any) string))(c)
	c.Check()
	return c
})

// ShellQuote quotes v for a POSIX shell, as `${shquote(params.x)}` does in a shell stage's run:
// a string or number becomes one single-quoted word ('it'\”s'), a list one word per
// element, separated by spaces.
func ShellQuote(v any) string {
	if list, ok := v.([]any); ok {
		words := make([]string, len(list))
		for i, x := range list {
			words[i] = ShellQuote(x)
		}
		return strings.Join(words, " ")
	}
	s := fmt.Sprint(v)
	if v == nil {
		s = ""
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// compile compiles one expression and collects the params paths it reads.
func compile(src string) (p *compiled) {
	p = &compiled{}
	defer func() {
		if r := recover(); r != nil {
			p.err = fmt.Errorf("cannot compile: %v", r)
		}
	}()
	config := exprConfig()
	tree, err := checker.ParseCheck(src, config)
	if err == nil {
		// Before the optimizer, which may fold params.a.b into other node kinds.
		p.chains = paramChains(&tree.Node)
		if config.Optimize {
			err = optimizer.Optimize(&tree.Node, config)
		}
	}
	if err == nil {
		p.prog, err = compiler.Compile(tree, config)
	}
	if err != nil {
		p.prog = nil
		var fe *file.Error
		if errors.As(err, &fe) {
			p.err, p.errOff = errors.New(fe.Message), fe.Location.From
		} else {
			p.err = err
		}
	}
	return p
}

// paramChains collects the longest constant params.a.b[0] accesses of an expression. expr cannot
// see into a map env's nested keys at compile time, so loom checks these paths itself.
type chainCollector struct {
	all   map[ast.Node]chain
	inner map[ast.Node]bool
	order []ast.Node
}

func paramChains(root *ast.Node) []chain {
	c := &chainCollector{all: map[ast.Node]chain{}, inner: map[ast.Node]bool{}}
	ast.Walk(root, c)
	var out []chain
	for _, n := range c.order {
		if !c.inner[n] {
			out = append(out, c.all[n])
		}
	}
	return out
}

// Visit records member chains rooted at the identifier params.
func (c *chainCollector) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	steps, static, ok := memberSteps(m)
	if !ok {
		return
	}
	if !static {
		// params.hidden[i]: only the constant prefix can be checked; m.Node recorded it.
		return
	}
	c.inner[m.Node] = true // post-order: m.Node was visited first, and m extends it
	c.all[m] = chain{steps: steps, off: rootOf(m).Location().From}
	c.order = append(c.order, m)
}

// rootOf returns the params identifier a member chain starts from, so errors point at "params".
func rootOf(m *ast.MemberNode) ast.Node {
	n := ast.Node(m)
	for {
		mm, ok := n.(*ast.MemberNode)
		if !ok {
			return n
		}
		n = mm.Node
	}
}

// memberSteps returns the steps of params.a.b...; static is false when the last property is
// computed or optional.
func memberSteps(m *ast.MemberNode) (steps []step, static, ok bool) {
	switch inner := m.Node.(type) {
	case *ast.IdentifierNode:
		if inner.Value != "params" {
			return nil, false, false
		}
	case *ast.MemberNode:
		prefix, st, ok := memberSteps(inner)
		if !ok || !st {
			return nil, false, ok
		}
		steps = prefix
	default:
		return nil, false, false
	}
	if m.Optional || m.Method {
		return nil, false, true
	}
	switch p := m.Property.(type) {
	case *ast.StringNode:
		return append(steps[:len(steps):len(steps)], step{key: p.Value}), true, true
	case *ast.IntegerNode:
		return append(steps[:len(steps):len(steps)], step{index: p.Value, isIndex: true}), true, true
	}
	return nil, false, true
}

// checkChain verifies that a params path read by an expression exists, and explains what does
// exist at the level where it fails.
func checkChain(params map[string]any, steps []step) error {
	var cur any = params
	for i, s := range steps {
		here := formatPath(steps[:i])
		switch c := cur.(type) {
		case map[string]any:
			if s.isIndex {
				return fmt.Errorf("%s is a mapping, not a list (it has: %s)", here, quoteList(slices.Sorted(maps.Keys(c))))
			}
			v, ok := c[s.key]
			if !ok {
				keys := slices.Sorted(maps.Keys(c))
				return fmt.Errorf("unknown param %s%s; %s has: %s", formatPath(steps[:i+1]), suggest.DidYouMean(s.key, keys), here, quoteList(keys))
			}
			cur = v
		case []any:
			if !s.isIndex {
				return fmt.Errorf("%s is a list, not a mapping; it has no key %q", here, s.key)
			}
			j := s.index
			if j < 0 {
				j += len(c)
			}
			if j < 0 || j >= len(c) {
				return fmt.Errorf("index %d is out of range: %s has %d items", s.index, here, len(c))
			}
			cur = c[j]
		default:
			return fmt.Errorf("%s is a %s, it has no %s", here, typeName(cur), describeStep(s))
		}
	}
	return nil
}

func describeStep(s step) string {
	if s.isIndex {
		return fmt.Sprintf("index [%d]", s.index)
	}
	return fmt.Sprintf("key %q", s.key)
}

// resolver interpolates the ${} of one stage's `with` tree.
type resolver struct {
	file   string
	lines  []string // the manifest's source lines, to place errors inside a scalar
	params map[string]any
	env    map[string]any
	cache  *exprCache
	sink   *errorSink
	read   map[string]bool
}

// resolve returns n with every ${} replaced, sharing the subtrees that have none; positions
// are kept.
func (r *resolver) resolve(n *yaml.Node) *yaml.Node {
	switch n.Kind {
	case yaml.MappingNode, yaml.SequenceNode:
		// Copy on write: most of a manifest has no ${}, and its nodes are shared, never changed.
		var content []*yaml.Node
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 {
				continue // keys are not interpolated: they name options
			}
			rc := r.resolve(c)
			if rc == c {
				continue
			}
			if content == nil {
				content = make([]*yaml.Node, len(n.Content))
				copy(content, n.Content)
			}
			content[i] = rc
		}
		if content == nil {
			return n
		}
		out := *n
		out.Content = content
		return &out
	}
	if !isString(n) || !strings.Contains(n.Value, "${") {
		return n
	}
	return r.scalar(n)
}

// scalar interpolates one string scalar. A scalar that is exactly one ${...} becomes a node of
// the result's type; otherwise the results are formatted into the string.
func (r *resolver) scalar(n *yaml.Node) *yaml.Node {
	pieces, perr := splitTemplate(n.Value)
	if perr != nil {
		r.sink.addErr(&Error{Pos: r.posIn(n, perr.Pos.Col), Msg: perr.Msg})
		return n
	}
	if len(pieces) == 1 && pieces[0].isExpr {
		v, ok := r.eval(n, pieces[0])
		if !ok {
			return n
		}
		return valueNode(v, n.Line, n.Column)
	}
	var b strings.Builder
	for _, p := range pieces {
		if !p.isExpr {
			b.WriteString(p.lit)
			continue
		}
		v, ok := r.eval(n, p)
		if !ok {
			return n
		}
		b.WriteString(formatValue(v))
	}
	out := *n
	out.Value, out.Tag, out.Style = b.String(), "!!str", n.Style&^(yaml.LiteralStyle|yaml.FoldedStyle)
	return &out
}

// eval checks and runs one expression of scalar n.
func (r *resolver) eval(n *yaml.Node, p piece) (any, bool) {
	c := r.cache.get(p.expr)
	exprStart := p.off + 2
	if c.err != nil {
		r.sink.addErr(&Error{Pos: r.posIn(n, exprStart+c.errOff), Msg: fmt.Sprintf("in ${%s}: %v", p.expr, c.err)})
		return nil, false
	}
	ok := true
	for _, ch := range c.chains {
		if err := checkChain(r.params, ch.steps); err != nil {
			r.sink.addErr(&Error{Pos: r.posIn(n, exprStart+ch.off), Msg: fmt.Sprintf("in ${%s}: %v", p.expr, err)})
			ok = false
			continue
		}
		r.read[formatPath(ch.steps)] = true
	}
	if !ok {
		return nil, false
	}
	v, err := runProgram(c.prog, r.env)
	if err != nil {
		r.sink.addErr(&Error{Pos: r.posIn(n, exprStart), Msg: fmt.Sprintf("evaluating ${%s}: %v", p.expr, err)})
		return nil, false
	}
	return v, true
}

func runProgram(p *vm.Program, env map[string]any) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	v, err = expr.Run(p, env)
	var fe *file.Error
	if errors.As(err, &fe) {
		err = errors.New(fe.Message)
	}
	return v, err
}

// posIn returns the position of byte off of scalar n's value. The offset is added to the
// scalar's column only when the source text there confirms it (plain or quoted one-line
// scalars without escapes); otherwise the scalar's own position is the honest answer.
func (r *resolver) posIn(n *yaml.Node, off int) Pos {
	base := Pos{r.file, n.Line, n.Column}
	if off <= 0 || off > len(n.Value) || n.Line < 1 || n.Line > len(r.lines) || strings.Contains(n.Value, "\n") {
		return base
	}
	line := r.lines[n.Line-1]
	start := runeIndex(line, n.Column-1)
	if start < 0 {
		return base
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		start++
	}
	if !strings.HasPrefix(line[min(start, len(line)):], n.Value[:off]) {
		return base
	}
	return Pos{r.file, n.Line, n.Column + utf8.RuneCountInString(line[runeIndex(line, n.Column-1):start]) + utf8.RuneCountInString(n.Value[:off])}
}

// runeIndex returns the byte index of the rune-th character of s, or -1.
func runeIndex(s string, rune int) int {
	for i := range s {
		if rune == 0 {
			return i
		}
		rune--
	}
	if rune == 0 {
		return len(s)
	}
	return -1
}

// valueNode builds the node for an interpolated value at the given position.
func valueNode(v any, line, col int) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Line: line, Column: col}
	switch x := v.(type) {
	case nil:
		n.Tag, n.Value = "!!null", "null"
	case bool:
		n.Tag, n.Value = "!!bool", strconv.FormatBool(x)
	case string:
		n.Tag, n.Value = "!!str", x
	case map[string]any:
		n.Kind, n.Tag = yaml.MappingNode, "!!map"
		for _, k := range slices.Sorted(maps.Keys(x)) {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k, Line: line, Column: col}, valueNode(x[k], line, col))
		}
	case []any:
		n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
		for _, e := range x {
			n.Content = append(n.Content, valueNode(e, line, col))
		}
	default:
		return reflectNode(n, reflect.ValueOf(v), line, col)
	}
	return n
}

// reflectNode handles the other numeric, slice and map types expr may return.
func reflectNode(n *yaml.Node, rv reflect.Value, line, col int) *yaml.Node {
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n.Tag, n.Value = "!!int", strconv.FormatInt(rv.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n.Tag, n.Value = "!!int", strconv.FormatUint(rv.Uint(), 10)
	case reflect.Float32, reflect.Float64:
		n.Tag, n.Value = "!!float", floatNodeText(rv.Float())
	case reflect.Slice, reflect.Array:
		n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
		for i := 0; i < rv.Len(); i++ {
			n.Content = append(n.Content, valueNode(rv.Index(i).Interface(), line, col))
		}
	case reflect.Map:
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[fmt.Sprint(it.Key().Interface())] = it.Value().Interface()
		}
		return valueNode(m, line, col)
	default:
		n.Tag, n.Value = "!!str", fmt.Sprint(rv.Interface())
	}
	return n
}

// floatNodeText formats f so that it reads back as a float: 0.001, 1.0, 1e-05, .inf.
func floatNodeText(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	case math.IsNaN(f):
		return ".nan"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// formatValue formats a value inside a longer string the way YAML would write it: 0.001, not
// 1e-03; lists and mappings in flow style.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case []any, map[string]any:
		return flowText(valueNode(v, 0, 0))
	}
	return fmt.Sprint(v)
}

// flowText renders a node in YAML flow style: [8, 4] or {a: 1, b: x}.
func flowText(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		parts := make([]string, len(n.Content))
		for i, c := range n.Content {
			parts[i] = flowText(c)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case yaml.MappingNode:
		parts := make([]string, 0, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			parts = append(parts, n.Content[i].Value+": "+flowText(n.Content[i+1]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	if n.Tag == "!!float" {
		f, _ := strconv.ParseFloat(n.Value, 64)
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return n.Value
}
