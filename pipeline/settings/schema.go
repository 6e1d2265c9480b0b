package settings

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/loom-ml/loom/pipeline/manifest"
)

// paramPattern is the JSON Schema pattern of a Param: params.a.b, a.b, hidden[0].
const paramPattern = `^(params\.)?[A-Za-z_][A-Za-z0-9_-]*(\[[0-9]+\])*(\.[A-Za-z_][A-Za-z0-9_-]*(\[[0-9]+\])*|\.[0-9]+)*$`

// A SchemaExtender adds to the JSON Schema derived from its type what the tags cannot say,
// typically the rules its Check enforces, so that editors know them too.
type SchemaExtender interface {
	ExtendSchema(s map[string]any)
}

// Schema returns the JSON Schema of settings of v's type (a struct or a pointer to one): the
// schema of a manifest after interpolation, with descriptions from docs.
func Schema(v any, docs Docs) map[string]any {
	return schemaOf(reflect.TypeOf(v), rules{}, docs)
}

func schemaOf(t reflect.Type, r rules, docs Docs) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var s map[string]any
	numeric := false
	switch {
	case reflect.PointerTo(t).Implements(valueType):
		s = reflect.New(t).Interface().(Value).SettingSchema()
	default:
		switch t.Kind() {
		case reflect.Struct:
			s = objectSchema(t, docs)
		case reflect.Slice:
			s = map[string]any{"type": "array", "items": schemaOf(t.Elem(), r.forItems(), docs)}
			if r.length > 0 {
				s["minItems"], s["maxItems"] = r.length, r.length
			} else if r.nonempty {
				s["minItems"] = 1
			}
			if r.unique {
				s["uniqueItems"] = true
			}
		case reflect.Map:
			s = map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem(), r.forItems(), docs)}
			if t.Key() != reflect.TypeFor[string]() || r.param {
				s["propertyNames"] = schemaOf(t.Key(), rules{param: r.param}, docs)
			}
			if r.nonempty {
				s["minProperties"] = 1
			}
		case reflect.String:
			s = map[string]any{"type": "string"}
			if r.oneOf != nil {
				s["enum"] = r.oneOf
			}
			switch {
			case r.nonempty:
				s["minLength"] = 1
			case r.stage:
				s["pattern"] = manifest.StageNamePattern
			case r.param:
				s["pattern"] = paramPattern
			}
		case reflect.Bool:
			s = map[string]any{"type": "boolean"}
		case reflect.Int:
			s, numeric = map[string]any{"type": "integer"}, true
		case reflect.Uint64:
			s, numeric = map[string]any{"type": "integer", "minimum": 0}, true
		case reflect.Float64:
			s, numeric = map[string]any{"type": "number"}, true
		case reflect.Interface:
			s = map[string]any{}
		default:
			panic("settings: no schema for " + t.String())
		}
	}
	if numeric {
		for _, b := range r.bounds {
			s[map[string]string{"gt": "exclusiveMinimum", "gte": "minimum", "lt": "exclusiveMaximum", "lte": "maximum"}[b.op]] = b.at
		}
	}
	if r.def != nil {
		var v any
		r.def.Decode(&v)
		s["default"] = v
	}
	if d := docs.ofType(t); d != "" {
		s["description"] = d
	}
	return s
}

func objectSchema(t reflect.Type, docs Docs) map[string]any {
	in := infoOf(t)
	props := map[string]any{}
	var required []string
	for _, f := range in.fields {
		fs := schemaOf(f.typ, f.rules, docs)
		if d := docs[typeKey(f.owner)+"."+f.name]; d != "" {
			fs["description"] = d
		}
		props[f.key] = fs
		if f.rules.required {
			required = append(required, f.key)
		}
	}
	s := map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	switch {
	case in.oneKey:
		s["minProperties"], s["maxProperties"] = 1, 1
	case required != nil:
		s["required"] = required
	default:
		s["type"] = []string{"object", "null"} // `batchnorm:` with nothing after it means {}
	}
	if e, ok := reflect.New(t).Interface().(SchemaExtender); ok {
		e.ExtendSchema(s)
	}
	return s
}

// Docs are the doc comments of Go types and their fields, by "pkg.Type" and "pkg.Type.Field"
// (pkg the package's name): the descriptions of the schema.
type Docs map[string]string

func typeKey(t reflect.Type) string { return t.String() }

// ofType is a named type's description: the first sentence of its doc comment (the rest is for
// maintainers), without the leading type name and "is", so that "seed seeds the random
// generator" reads "Seeds the random generator" and "layer is one layer" reads "One layer".
func (d Docs) ofType(t reflect.Type) string {
	doc, ok := strings.CutPrefix(d[typeKey(t)], t.Name()+" ")
	if !ok || t.Name() == "" {
		return d[typeKey(t)]
	}
	for _, verb := range []string{"is ", "are "} {
		doc = strings.TrimPrefix(doc, verb)
	}
	if end := strings.Index(doc, ". "); end >= 0 {
		doc = doc[:end+1]
	}
	r, n := utf8.DecodeRuneInString(doc)
	return string(unicode.ToUpper(r)) + doc[n:]
}

// ReadDocs reads the doc comments of the types declared in the Go files of dirs, tests excluded.
func ReadDocs(dirs ...string) (Docs, error) {
	docs := Docs{}
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			return nil, err
		}
		fset := token.NewFileSet()
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			file, err := parser.ParseFile(fset, f, src, parser.ParseComments)
			if err != nil {
				return nil, err
			}
			readFileDocs(file, docs)
		}
	}
	return docs, nil
}

func readFileDocs(file *ast.File, docs Docs) {
	pkg := file.Name.Name
	for _, decl := range file.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.TYPE {
			continue
		}
		for _, spec := range gd.Specs {
			ts := spec.(*ast.TypeSpec)
			doc := ts.Doc
			if doc == nil && len(gd.Specs) == 1 {
				doc = gd.Doc
			}
			name := pkg + "." + ts.Name.Name
			if text := paragraph(doc); text != "" {
				docs[name] = text
			}
			st, ok := ts.Type.(*ast.StructType)
			if !ok {
				continue
			}
			for _, f := range st.Fields.List {
				text := paragraph(f.Doc)
				if text == "" {
					text = paragraph(f.Comment)
				}
				for _, id := range f.Names {
					if text != "" {
						docs[name+"."+id.Name] = text
					}
				}
			}
		}
	}
}

// paragraph is a comment as one line, as a schema description is shown.
func paragraph(c *ast.CommentGroup) string {
	return strings.Join(strings.Fields(c.Text()), " ")
}
