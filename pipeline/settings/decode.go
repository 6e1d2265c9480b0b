package settings

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/loom-ml/loom/internal/suggest"
	"github.com/loom-ml/loom/pipeline/manifest"
)

// Decode decodes the resolved `with` of st into v, a pointer to the kind's settings struct:
// defaults for absent keys, then every check the type declares. It reports every problem, each
// at its place in the manifest, as a manifest.ErrorList (or one *manifest.Error).
func Decode(st *manifest.Stage, m *manifest.Manifest, v any) error {
	d := &decoder{st: st, m: m}
	n := st.With
	if n == nil {
		// No `with`: every key is absent, and a missing one is reported at the stage's name.
		n = &yaml.Node{Kind: yaml.MappingNode, Line: st.Pos.Line, Column: st.Pos.Col}
	}
	d.value(place{node: n, path: "stages." + st.Name + ".with"}, reflect.ValueOf(v).Elem(), rules{})
	return d.errs.Err()
}

// place is where a value is: its node, the key whose value it is (nil for a list item or the
// top), and its path as a user reads it (stages.m.with.layers[2].dense).
type place struct {
	node *yaml.Node
	key  *yaml.Node
	path string
}

// block is where a problem with a whole mapping or list reads best: at the key that introduces it.
func (p place) block() *yaml.Node {
	if p.key != nil {
		return p.key
	}
	return p.node
}

func (p place) child(key *yaml.Node, value *yaml.Node) place {
	return place{node: value, key: key, path: p.path + "." + key.Value}
}

func (p place) item(i int, value *yaml.Node) place {
	return place{node: value, path: p.path + "[" + strconv.Itoa(i) + "]"}
}

type decoder struct {
	st   *manifest.Stage
	m    *manifest.Manifest
	errs manifest.ErrorList
}

func (d *decoder) fail(at *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &manifest.Error{
		Pos: manifest.Pos{File: d.st.Pos.File, Line: at.Line, Col: at.Column},
		Msg: path + ": " + fmt.Sprintf(format, args...),
	})
}

var valueType = reflect.TypeFor[Value]()

func (d *decoder) value(p place, v reflect.Value, r rules) {
	if v.Addr().Type().Implements(valueType) {
		if err := v.Addr().Interface().(Value).DecodeSetting(p.node); err != nil {
			d.fail(p.node, p.path, "%v", err)
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(p, v.Elem(), r)
	case reflect.Struct:
		d.object(p, v)
	case reflect.Slice:
		d.list(p, v, r)
	case reflect.Map:
		d.mapping(p, v, r)
	case reflect.String:
		d.str(p, v, r)
	case reflect.Bool:
		if d.want(p, "!!bool", "a boolean") {
			var b bool
			p.node.Decode(&b)
			v.SetBool(b)
		}
	case reflect.Int, reflect.Uint64:
		d.integer(p, v, r)
	case reflect.Float64:
		if x, ok := d.number(p, r); ok {
			v.SetFloat(x)
		}
	case reflect.Interface:
		var x any
		if err := p.node.Decode(&x); err != nil {
			d.fail(p.node, p.path, "%v", err)
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		panic(fmt.Sprintf("settings: cannot decode into %s", v.Type()))
	}
}

// want checks that the node is a scalar with the tag; what names the expected type.
func (d *decoder) want(p place, tag, what string) bool {
	if p.node.Kind == yaml.ScalarNode && p.node.ShortTag() == tag {
		return true
	}
	d.fail(p.node, p.path, "must be %s, not %s", what, describe(p.node))
	return false
}

// describe names a node's type in a message: "a string", "a list".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.ShortTag() {
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!null":
		return "null"
	}
	return "a string"
}

func (d *decoder) str(p place, v reflect.Value, r rules) bool {
	if !d.want(p, "!!str", "a string") {
		return false
	}
	s := p.node.Value
	switch {
	case r.oneOf != nil && !slices.Contains(r.oneOf, s):
		d.fail(p.node, p.path, "%q is not one of %s%s", s, strings.Join(r.oneOf, ", "), suggest.DidYouMean(s, r.oneOf))
		return false
	case r.nonempty && s == "":
		d.fail(p.node, p.path, "must not be empty")
		return false
	case r.stage:
		return d.stage(p, v)
	case r.param:
		if err := d.m.CheckParam(s); err != nil {
			d.fail(p.node, p.path, "%v", err)
			return false
		}
	}
	v.SetString(s)
	return true
}

// number reads an integer or a float and checks its bounds.
func (d *decoder) number(p place, r rules) (float64, bool) {
	n := p.node
	var x float64
	if n.Kind != yaml.ScalarNode || (n.ShortTag() != "!!int" && n.ShortTag() != "!!float") || n.Decode(&x) != nil {
		d.fail(n, p.path, "must be a number, not %s", describe(n))
		return 0, false
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		d.fail(n, p.path, "must be a finite number, not %s", n.Value)
		return 0, false
	}
	for _, b := range r.bounds {
		if !b.holds(x) {
			d.fail(n, p.path, "must be %s, not %s", b, strconv.FormatFloat(x, 'g', -1, 64))
			return 0, false
		}
	}
	return x, true
}

// integer reads an int or a uint64; a float with no fraction counts, as in JSON Schema.
func (d *decoder) integer(p place, v reflect.Value, r rules) {
	n := p.node
	var x float64
	isNum := n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") && n.Decode(&x) == nil
	if !isNum || x != math.Trunc(x) || math.IsInf(x, 0) {
		d.fail(n, p.path, "must be an integer, not %s", describe(n))
		return
	}
	if v.Kind() == reflect.Uint64 {
		r.bounds = append(r.bounds, bound{"gte", 0})
	}
	if _, ok := d.number(p, r); !ok {
		return
	}
	if v.Kind() == reflect.Uint64 {
		var u uint64
		if n.ShortTag() == "!!int" && n.Decode(&u) == nil {
			v.SetUint(u)
		} else {
			v.SetUint(uint64(x))
		}
		return
	}
	if x > math.MaxInt32 || x < math.MinInt32 {
		d.fail(n, p.path, "%s is too large", n.Value)
		return
	}
	v.SetInt(int64(x))
}

// stage checks that the string names another stage.
func (d *decoder) stage(p place, v reflect.Value) bool {
	name := p.node.Value
	switch _, ok := d.m.Stages[name]; {
	case !ok:
		d.fail(p.node, p.path, "%q is not a stage%s", name, suggest.DidYouMean(name, d.m.Order))
	case name == d.st.Name:
		d.fail(p.node, p.path, "names the stage itself")
	default:
		v.SetString(name)
		return true
	}
	return false
}

func (d *decoder) list(p place, v reflect.Value, r rules) {
	n := p.node
	if n.Kind != yaml.SequenceNode {
		d.fail(n, p.path, "must be a list, not %s", describe(n))
		return
	}
	switch {
	case r.length > 0 && len(n.Content) != r.length:
		d.fail(p.block(), p.path, "must have %d items, not %d", r.length, len(n.Content))
		return
	case r.nonempty && len(n.Content) == 0:
		d.fail(p.block(), p.path, "must not be empty")
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	items := r.forItems()
	for i, it := range n.Content {
		if r.unique {
			for _, prev := range n.Content[:i] {
				if prev.Kind == yaml.ScalarNode && it.Kind == yaml.ScalarNode && prev.Value == it.Value {
					d.fail(it, p.path, "lists %q twice", it.Value)
				}
			}
		}
		d.value(p.item(i, it), out.Index(i), items)
	}
	v.Set(out)
}

func (d *decoder) mapping(p place, v reflect.Value, r rules) {
	n := p.node
	if n.Kind != yaml.MappingNode {
		d.fail(n, p.path, "must be a mapping, not %s", describe(n))
		return
	}
	if r.nonempty && len(n.Content) == 0 {
		d.fail(p.block(), p.path, "must not be empty")
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	items := r.forItems()
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := reflect.New(v.Type().Key()).Elem()
		before := len(d.errs)
		d.value(place{node: k, path: p.path}, key, rules{param: r.param})
		elem := reflect.New(v.Type().Elem()).Elem()
		d.value(p.child(k, val), elem, items)
		if len(d.errs) == before {
			out.SetMapIndex(key, elem)
		}
	}
	v.Set(out)
}

func (d *decoder) object(p place, v reflect.Value) {
	n := p.node
	in := infoOf(v.Type())
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	} else if n.Kind != yaml.MappingNode {
		d.fail(n, p.path, "must be a mapping, not %s", describe(n))
		return
	}
	seen := make([]bool, len(in.fields))
	count, unknown := 0, false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		fi, ok := in.byKey[k.Value]
		if !ok {
			d.fail(k, p.path+"."+k.Value, "unknown option %q%s; valid: %s", k.Value, suggest.DidYouMean(k.Value, in.keys), strings.Join(in.keys, ", "))
			unknown = true
			continue
		}
		seen[fi] = true
		count++
		f := in.fields[fi]
		d.value(p.child(k, val), v.FieldByIndex(f.index), f.rules)
	}
	var missing []string
	for i, f := range in.fields {
		switch {
		case seen[i]:
		case f.rules.required:
			missing = append(missing, strconv.Quote(f.key))
		case f.rules.def != nil:
			d.value(place{node: f.rules.def, path: p.path + "." + f.key}, v.FieldByIndex(f.index), f.rules)
		}
	}
	if missing != nil {
		d.fail(p.block(), p.path, "missing %s", strings.Join(missing, ", "))
	}
	if in.oneKey && count != 1 && !unknown {
		if count == 0 {
			d.fail(p.block(), p.path, "needs one of %s", strings.Join(in.keys, ", "))
		} else {
			d.fail(p.block(), p.path, "must have exactly one key, found %d", count)
		}
	}
	if c, ok := v.Addr().Interface().(Checker); ok && missing == nil {
		if err := c.Check(); err != nil {
			d.checkError(p, n, err)
		}
	}
}

// checkError places a Checker's error at the field it names, or at the struct.
func (d *decoder) checkError(p place, n *yaml.Node, err error) {
	var fe *FieldError
	if errors.As(err, &fe) {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == fe.Key {
				d.fail(n.Content[i+1], p.path+"."+fe.Key, "%s", fe.Msg)
				return
			}
		}
		d.fail(p.block(), p.path, "%v", fe)
		return
	}
	d.fail(p.block(), p.path, "%v", err)
}
