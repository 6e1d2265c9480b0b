package frame

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/loom-ml/loom/internal/suggest"
)

// RowVar is the expression variable that holds every column of the current
// row by name, so that a column whose name is not an identifier is written
// row["od280/od315"] or row["a b"]. Columns whose names are identifiers are
// also variables of their own: mean_radius > 0. The same goes for a column
// named like an expr operator keyword (in, not, and, or, matches,
// contains...), which must be written row["in"]; a column named like a
// builtin function (max, len, abs...) hides that function.
//
// In an expression a numeric cell is a float (NaN when missing) and a
// categorical cell a string ("" when missing). A column named "row" is
// reached only as row["row"].
const RowVar = "row"

// rowExpr is a compiled expression with the environment it runs in.
type rowExpr struct {
	src     string
	prog    *vm.Program
	machine vm.VM
	env     map[string]any
	row     map[string]any
	vars    []*Column // columns read as variables of their own
	rowCols []*Column // columns that row must hold
}

// compileRowExpr compiles src over the columns of f. Unknown names are
// compile-time errors that list the columns.
func compileRowExpr(f *Frame, src string, opts ...expr.Option) (*rowExpr, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &ExprError{Expr: src, Msg: "the expression is empty"}
	}
	env := make(map[string]any, len(f.Columns)+1)
	row := make(map[string]any, len(f.Columns))
	for _, c := range f.Columns {
		if c.Kind == Numeric {
			env[c.Name] = 0.0
			row[c.Name] = 0.0
		} else {
			env[c.Name] = ""
			row[c.Name] = ""
		}
	}
	env[RowVar] = row
	c, err := compileCached(f, src, env, opts)
	if err != nil {
		return nil, err
	}
	e := &rowExpr{src: src, prog: c.prog, env: env, row: row}
	used := c.used
	for _, c := range f.Columns {
		if used.names[c.Name] && c.Name != RowVar {
			e.vars = append(e.vars, c)
		}
	}
	// Filling row costs a boxed value per column per row: when every use
	// of row has a constant key, fill only those columns.
	for _, c := range f.Columns {
		if used.rowUses > used.rowConst || used.rowKeys[c.Name] {
			e.rowCols = append(e.rowCols, c)
		}
	}
	return e, nil
}

// compiledExpr is a compiled expression and the names it reads; both are read-only, so one
// serves every frame of the same columns.
type compiledExpr struct {
	prog *vm.Program
	used *nameCollector
}

// exprCache holds compiled expressions by source and column names and kinds: replaying a
// model's derived columns on every request of a server compiles each once. It is cleared when
// it grows past maxCachedExprs, since training frames rarely repeat.
var exprCache struct {
	sync.Mutex
	m map[string]*compiledExpr
}

const maxCachedExprs = 256

// compileCached compiles src over env, through exprCache when no options are given.
func compileCached(f *Frame, src string, env map[string]any, opts []expr.Option) (*compiledExpr, error) {
	var key string
	if len(opts) == 0 {
		var b strings.Builder
		b.WriteString(src)
		for _, c := range f.Columns {
			b.WriteByte(0)
			b.WriteByte(byte('0' + c.Kind))
			b.WriteString(c.Name)
		}
		key = b.String()
		exprCache.Lock()
		c := exprCache.m[key]
		exprCache.Unlock()
		if c != nil {
			return c, nil
		}
	}
	options := []expr.Option{expr.Env(env)}
	for _, fn := range mathFuncs {
		if _, isColumn := env[fn.name]; !isColumn {
			options = append(options, fn.option())
		}
	}
	prog, err := expr.Compile(src, append(options, opts...)...)
	if err != nil {
		return nil, exprError(src, err, f.Names())
	}
	c := &compiledExpr{prog: prog, used: collectNames(prog)}
	if key != "" {
		exprCache.Lock()
		if exprCache.m == nil || len(exprCache.m) >= maxCachedExprs {
			exprCache.m = map[string]*compiledExpr{}
		}
		exprCache.m[key] = c
		exprCache.Unlock()
	}
	return c, nil
}

// nameCollector gathers the names an expression reads, and the keys of
// row["key"] lookups with a constant key.
type nameCollector struct {
	names    map[string]bool
	rowKeys  map[string]bool
	rowUses  int // identifiers "row"
	rowConst int // of which row["constant"]
}

func (n *nameCollector) Visit(node *ast.Node) {
	switch x := (*node).(type) {
	case *ast.IdentifierNode:
		n.names[x.Value] = true
		if x.Value == RowVar {
			n.rowUses++
		}
	case *ast.MemberNode:
		id, isID := x.Node.(*ast.IdentifierNode)
		key, isKey := x.Property.(*ast.StringNode)
		if isID && isKey && id.Value == RowVar {
			n.rowKeys[key.Value] = true
			n.rowConst++
		}
	}
}

func collectNames(p *vm.Program) *nameCollector {
	n := &nameCollector{names: map[string]bool{}, rowKeys: map[string]bool{}}
	node := p.Node()
	ast.Walk(&node, n)
	return n
}

func exprError(src string, err error, columns []string) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return &ExprError{Expr: src, Msg: err.Error()}
	}
	msg := fe.Message
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		sorted := append([]string(nil), columns...)
		sort.Strings(sorted)
		msg += suggest.DidYouMean(name, sorted)
		msg += fmt.Sprintf(" (columns: %s; write row[\"name\"] for a name that is not an identifier)", strings.Join(sorted, ", "))
	}
	return &ExprError{Expr: src, Line: fe.Line, Column: fe.Column + 1, Msg: msg}
}

func cellValue(c *Column, i int) any {
	if c.Kind == Numeric {
		return c.Num[i]
	}
	return c.Str[i]
}

// eval runs the expression on row i.
func (e *rowExpr) eval(i int) (any, error) {
	for _, c := range e.vars {
		e.env[c.Name] = cellValue(c, i)
	}
	for _, c := range e.rowCols {
		e.row[c.Name] = cellValue(c, i)
	}
	out, err := e.machine.Run(e.prog, e.env)
	if err != nil {
		return nil, &ExprError{Expr: e.src, Msg: fmt.Sprintf("row %d: %v", i+1, err)}
	}
	return out, nil
}

// toNumber converts an expression result to a number; ok is false for
// strings and other types.
func toNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case bool:
		if x {
			return 1, true
		}
		return 0, true
	case nil:
		return math.NaN(), true
	}
	return 0, false
}

// mathFunc is a numeric function expressions may call, beside expr's builtins (abs, ceil,
// floor, round, min, max...). A column of the same name hides it.
type mathFunc struct {
	name string
	f1   func(float64) float64
	f2   func(float64, float64) float64
}

// mathFuncs are the functions of derived columns and filters: sqrt(x), log(x) (natural),
// log10, log2, log1p, exp, pow(x, y), sin, cos, tanh, and isnan(x), true for a missing value.
var mathFuncs = []mathFunc{
	{name: "sqrt", f1: math.Sqrt}, {name: "log", f1: math.Log}, {name: "log10", f1: math.Log10},
	{name: "log2", f1: math.Log2}, {name: "log1p", f1: math.Log1p}, {name: "exp", f1: math.Exp},
	{name: "sin", f1: math.Sin}, {name: "cos", f1: math.Cos}, {name: "tanh", f1: math.Tanh},
	{name: "pow", f2: math.Pow}, {name: "isnan"},
}

func (m mathFunc) option() expr.Option {
	switch {
	case m.f1 != nil:
		return expr.Function(m.name, func(p ...any) (any, error) { return m.f1(toFloat(p[0])), nil }, new(func(float64) float64))
	case m.f2 != nil:
		return expr.Function(m.name, func(p ...any) (any, error) { return m.f2(toFloat(p[0]), toFloat(p[1])), nil }, new(func(float64, float64) float64))
	}
	return expr.Function(m.name, func(p ...any) (any, error) { return math.IsNaN(toFloat(p[0])), nil }, new(func(float64) bool))
}

// toFloat converts the numbers an expression may pass (expr keeps integer literals as int).
func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	}
	return math.NaN()
}
