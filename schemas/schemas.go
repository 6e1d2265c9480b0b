// Package schemas holds the JSON Schema of loom's manifest and validates documents against it.
package schemas

import (
	"bytes"
	_ "embed"
	"fmt"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/loom-ml/loom/internal/jsonschema"
	"github.com/loom-ml/loom/internal/jsonschema/kind"
	"github.com/loom-ml/loom/internal/suggest"
)

// JSON is the manifest's JSON Schema (draft 2020-12) as written, with `${...}` wherever a value
// may be one: what `loom schema` prints and editors read (see AsWritten).
//
//go:embed pipeline.schema.json
var JSON []byte

// Resolved is the schema of a manifest after interpolation, which loom validates against.
//
//go:embed resolved.schema.json
var Resolved []byte

// URL is the schema's $id.
const URL = "https://github.com/loom-ml/loom/schemas/pipeline.schema.json"

// Violation is one way a document breaks the schema.
type Violation struct {
	Path []string // instance location of the offending value: object keys and list indexes
	Key  string   // when set, the problem is this key of the object at Path (unknown option, bad name)
	Msg  string   // what is wrong, without the location
}

// compiled is the schema, compiled once on first use: a run that never validates pays nothing.
var compiled struct {
	once   sync.Once
	schema *jsonschema.Schema
	kinds  map[string]*jsonschema.Schema // $defs/<kind>: the `with` of each stage kind
	byURL  map[string]*jsonschema.Schema
	err    error
}

// Kinds are the stage kinds whose `with` the schema describes, each in $defs under its name.
var Kinds = []string{"dataset", "preprocess", "model", "train", "evaluate", "tune", "shell"}

// Warm starts compiling the schema in the background (about 10 ms, most of it the library
// checking the schema against the 2020-12 metaschema), so that it overlaps with reading the
// manifest and a later Validate finds it ready.
func Warm() { go Schema() }

// Schema returns the compiled schema.
func Schema() (*jsonschema.Schema, error) {
	compiled.once.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Resolved))
		if err != nil {
			compiled.err = fmt.Errorf("resolved.schema.json: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource(URL, doc); err != nil {
			compiled.err = err
			return
		}
		compiled.schema, compiled.err = c.Compile(URL)
		if compiled.err != nil {
			return
		}
		compiled.byURL = map[string]*jsonschema.Schema{}
		index(compiled.schema, compiled.byURL)
		compiled.kinds = map[string]*jsonschema.Schema{}
		// Taken from the compiled whole rather than compiled as fragments: the library checks
		// each compiled fragment against the metaschema again, which tripled the start-up cost.
		for _, k := range Kinds {
			if compiled.kinds[k] = compiled.byURL[URL+"#/$defs/"+k]; compiled.kinds[k] == nil {
				compiled.err = fmt.Errorf("pipeline.schema.json: no $defs/%s", k)
				return
			}
		}
	})
	return compiled.schema, compiled.err
}

// index maps every subschema's location to it, so that an error can list what its schema allows.
func index(s *jsonschema.Schema, by map[string]*jsonschema.Schema) {
	if s == nil || by[s.Location] != nil {
		return
	}
	by[s.Location] = s
	for _, p := range s.Properties {
		index(p, by)
	}
	for _, l := range [][]*jsonschema.Schema{s.AllOf, s.AnyOf, s.OneOf, s.PrefixItems} {
		for _, x := range l {
			index(x, by)
		}
	}
	for _, x := range []*jsonschema.Schema{s.Ref, s.If, s.Then, s.Else, s.Not, s.Items2020, s.PropertyNames, s.Contains} {
		index(x, by)
	}
	if ap, ok := s.AdditionalProperties.(*jsonschema.Schema); ok {
		index(ap, by)
	}
}

// Validate checks doc, a tree of map[string]any, []any, string, bool, nil and numbers, against
// the schema. It returns the violations, most specific first within each place, sorted by path;
// the error is for a schema that does not compile, which is a bug in loom.
func Validate(doc any) ([]Violation, error) {
	sch, err := Schema()
	if err != nil {
		return nil, err
	}
	return violations(doc, sch.Validate(doc)), nil
}

// ValidateWith checks the settings of one stage of the given kind against $defs/<kind>: the
// same rules as Validate applies to stages.NAME.with, at a fraction of the cost, since the
// if/then dispatch on uses is skipped. Paths are relative to the settings.
func ValidateWith(kind string, with map[string]any) ([]Violation, error) {
	if _, err := Schema(); err != nil {
		return nil, err
	}
	sch := compiled.kinds[kind]
	if sch == nil {
		return nil, fmt.Errorf("no schema for stage kind %q", kind)
	}
	return violations(with, sch.Validate(with)), nil
}

// violations explains a validation error of doc.
func violations(doc any, err error) []Violation {
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []Violation{{Msg: err.Error()}}
	}
	vs := dedupe(explain(ve))
	for i, v := range vs {
		// jsonschema v6.0.3 sometimes reports an object-level error (a bad property name)
		// with the location of a sibling validated after it: the location slices share
		// backing arrays. The key is certain, so find the object that has it.
		if v.Key != "" && !hasKey(doc, v.Path, v.Key) {
			if p, ok := findKey(doc, v.Key, nil); ok {
				vs[i].Path = p
			}
		}
	}
	sort.SliceStable(vs, func(i, j int) bool { return lessPath(vs[i].Path, vs[j].Path) })
	return vs
}

var printer = message.NewPrinter(language.English)

// explain turns an error tree into the violations a user should read: leaves, except that of
// the branches of an anyOf/oneOf only the one that got furthest into the document counts, and
// branches that fail at the same place are merged into one "a or b" message.
func explain(e *jsonschema.ValidationError) []Violation {
	if len(e.Causes) == 0 {
		return leaf(e)
	}
	switch e.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf:
		return bestBranch(e)
	case *kind.PropertyNames:
		k := e.ErrorKind.(*kind.PropertyNames)
		var msgs []string
		for _, c := range e.Causes {
			for _, v := range explain(c) {
				msgs = append(msgs, v.Msg)
			}
		}
		return []Violation{{Path: location(e), Key: k.Property, Msg: fmt.Sprintf("bad name %q: %s", k.Property, strings.Join(msgs, "; "))}}
	}
	var out []Violation
	for _, c := range e.Causes {
		out = append(out, explain(c)...)
	}
	return out
}

func bestBranch(e *jsonschema.ValidationError) []Violation {
	var best []Violation
	bestDepth := -1
	var same []string
	for _, c := range e.Causes {
		vs := explain(c)
		d := depth(vs)
		if d > bestDepth {
			best, bestDepth = vs, d
		}
		if d == len(e.InstanceLocation) {
			for _, v := range vs {
				if v.Key == "" {
					same = append(same, v.Msg)
				}
			}
		}
	}
	if bestDepth == len(e.InstanceLocation) && len(same) > 1 {
		return []Violation{{Path: location(e), Msg: joinAlternatives(unique(same))}}
	}
	return best
}

// joinAlternatives merges the messages of failed alternatives: `missing "path" or "generate"`.
func joinAlternatives(msgs []string) string {
	var missing []string
	for _, m := range msgs {
		if !strings.HasPrefix(m, "missing ") {
			return strings.Join(msgs, ", or ")
		}
		missing = append(missing, strings.TrimPrefix(m, "missing "))
	}
	return "missing " + strings.Join(missing, " or ")
}

// depth is the deepest path among vs.
func depth(vs []Violation) int {
	d := -1
	for _, v := range vs {
		n := len(v.Path)
		if v.Key != "" {
			n++
		}
		d = max(d, n)
	}
	return d
}

// hasKey reports whether the object at path in doc has key.
func hasKey(doc any, path []string, key string) bool {
	for _, p := range path {
		switch d := doc.(type) {
		case map[string]any:
			doc = d[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(d) {
				return false
			}
			doc = d[i]
		default:
			return false
		}
	}
	m, ok := doc.(map[string]any)
	_, has := m[key]
	return ok && has
}

// findKey returns the path of the first object in doc (keys visited in sorted order) that has key.
func findKey(doc any, key string, at []string) ([]string, bool) {
	switch d := doc.(type) {
	case map[string]any:
		if _, ok := d[key]; ok {
			return at, true
		}
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p, ok := findKey(d[k], key, append(append([]string(nil), at...), k)); ok {
				return p, true
			}
		}
	case []any:
		for i, x := range d {
			if p, ok := findKey(x, key, append(append([]string(nil), at...), strconv.Itoa(i))); ok {
				return p, true
			}
		}
	}
	return nil, false
}

// location copies an error's instance location: the validator's slices share backing arrays,
// so a kept one can be overwritten by the location of a later error.
func location(e *jsonschema.ValidationError) []string {
	return append([]string(nil), e.InstanceLocation...)
}

// leaf phrases one error for a user.
func leaf(e *jsonschema.ValidationError) []Violation {
	at := location(e)
	switch k := e.ErrorKind.(type) {
	case *kind.AdditionalProperties:
		allowed := allowedKeys(e.SchemaURL)
		out := make([]Violation, 0, len(k.Properties))
		for _, p := range k.Properties {
			msg := fmt.Sprintf("unknown option %q", p)
			if len(allowed) > 0 {
				msg += suggest.DidYouMean(p, allowed) + "; valid: " + strings.Join(allowed, ", ")
			}
			out = append(out, Violation{Path: at, Key: p, Msg: msg})
		}
		return out
	case *kind.Enum:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = fmt.Sprint(w)
		}
		return []Violation{{Path: at, Msg: fmt.Sprintf("%s is not one of %s%s", show(k.Got), strings.Join(want, ", "), suggest.DidYouMean(fmt.Sprint(k.Got), want))}}
	case *kind.Const:
		return []Violation{{Path: at, Msg: fmt.Sprintf("must be %s, not %s", show(k.Want), show(k.Got))}}
	case *kind.Type:
		return []Violation{{Path: at, Msg: fmt.Sprintf("must be %s, not %s", article(strings.Join(k.Want, " or ")), article(k.Got))}}
	case *kind.Required:
		if len(k.Missing) == 1 {
			return []Violation{{Path: at, Msg: fmt.Sprintf("missing %q", k.Missing[0])}}
		}
		return []Violation{{Path: at, Msg: fmt.Sprintf("missing %s", strings.Join(quoteAll(k.Missing), ", "))}}
	case *kind.DependentRequired:
		return []Violation{{Path: at, Msg: fmt.Sprintf("%q needs %q too", k.Prop, k.Missing[0])}}
	case *kind.Minimum:
		return []Violation{{Path: at, Msg: fmt.Sprintf("must be >= %s, not %s", rat(k.Want), rat(k.Got))}}
	case *kind.Maximum:
		return []Violation{{Path: at, Msg: fmt.Sprintf("must be <= %s, not %s", rat(k.Want), rat(k.Got))}}
	case *kind.ExclusiveMinimum:
		return []Violation{{Path: at, Msg: fmt.Sprintf("must be > %s, not %s", rat(k.Want), rat(k.Got))}}
	case *kind.ExclusiveMaximum:
		return []Violation{{Path: at, Msg: fmt.Sprintf("must be < %s, not %s", rat(k.Want), rat(k.Got))}}
	case *kind.MaxProperties:
		if k.Want == 1 {
			return []Violation{{Path: at, Msg: fmt.Sprintf("must have exactly one key, found %d", k.Got)}}
		}
		return []Violation{{Path: at, Msg: fmt.Sprintf("must have at most %d key(s), found %d", k.Want, k.Got)}}
	case *kind.MinProperties:
		return []Violation{{Path: at, Msg: fmt.Sprintf("must have at least %d key(s), found %d", k.Want, k.Got)}}
	}
	return []Violation{{Path: at, Msg: e.ErrorKind.LocalizedString(printer)}}
}

// allowedKeys lists the properties the schema at url declares.
func allowedKeys(url string) []string {
	s := compiled.byURL[url]
	if s == nil {
		return nil
	}
	keys := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// rat formats a bound as a short decimal: 1, 0.5, 0.0001.
func rat(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func show(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case nil:
		return "null"
	}
	return fmt.Sprint(v)
}

func article(t string) string {
	switch {
	case t == "null":
		return "null"
	case strings.HasPrefix(t, "a") || strings.HasPrefix(t, "i") || strings.HasPrefix(t, "o"):
		return "an " + t
	}
	return "a " + t
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = fmt.Sprintf("%q", x)
	}
	return out
}

func unique(s []string) []string {
	seen := map[string]bool{}
	out := s[:0:0]
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

func dedupe(vs []Violation) []Violation {
	seen := map[string]bool{}
	out := vs[:0:0]
	for _, v := range vs {
		k := strings.Join(v.Path, "\x00") + "\x01" + v.Key + "\x01" + v.Msg
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out
}

func lessPath(a, b []string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}
