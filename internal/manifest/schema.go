package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// SchemaID is the published address of the manifest's JSON Schema.
const SchemaID = "https://custos.dev/schema/manifest-1.json"

// schemaLangs are the keys of a Text, in the order editors should offer them.
var schemaLangs = []string{KeyZH, KeyZHHant, KeyEN}

// JSONSchema describes the manifest as a JSON Schema (draft 2020-12) for
// editors that complete and check custos.yaml. It is derived by reflection from
// the same struct tags the decoder reads, so the two cannot drift apart; the
// output is deterministic so that it can be committed and diffed.
func JSONSchema() ([]byte, error) {
	g := &schemaGen{defs: map[string]object{}}
	root, err := g.structSchema(reflect.TypeFor[Manifest]())
	if err != nil {
		return nil, fmt.Errorf("json schema: %w", err)
	}
	doc := object{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"$id", SchemaID},
		{"title", "Custos privacy manifest"},
		{"description", "The machine-readable form of everything a privacy policy promises (custos.yaml), format 1."},
	}
	doc = append(doc, root...)
	names := make([]string, 0, len(g.defs))
	for name := range g.defs {
		names = append(names, name)
	}
	sort.Strings(names)
	defs := make(object, 0, len(names))
	for _, name := range names {
		defs = append(defs, member{name, g.defs[name]})
	}
	doc = append(doc, member{"$defs", defs})

	var compact, out bytes.Buffer
	if err := writeJSON(&compact, doc); err != nil {
		return nil, fmt.Errorf("json schema: %w", err)
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("json schema: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// member is one key of a JSON object; object keeps keys in the order written,
// which encoding/json's maps would not.
type member struct {
	key   string
	value any
}

type object []member

// schemaGen collects a $defs entry for every named type it meets.
type schemaGen struct {
	defs map[string]object
}

func ref(name string) object { return object{{"$ref", "#/$defs/" + name}} }

// define adds a $defs entry once; build runs only the first time.
func (g *schemaGen) define(name string, build func() (object, error)) (object, error) {
	if _, done := g.defs[name]; !done {
		g.defs[name] = nil // placeholder, so that a recursive type terminates
		s, err := build()
		if err != nil {
			return nil, err
		}
		g.defs[name] = s
	}
	return ref(name), nil
}

// typeSchema is the schema of a value of type t; enum is the field's enum tag.
func (g *schemaGen) typeSchema(t reflect.Type, enum string) (object, error) {
	if enum != "" && !(t.Kind() == reflect.String || (t.Kind() == reflect.Slice || t.Kind() == reflect.Map) && t.Elem().Kind() == reflect.String) {
		return nil, fmt.Errorf("enum tag on %s: only strings and lists or maps of strings take one", t)
	}
	switch t {
	case reflect.TypeFor[Text]():
		return g.define("Text", func() (object, error) {
			props := make(object, 0, len(schemaLangs))
			for _, l := range schemaLangs {
				props = append(props, member{l, object{{"type", "string"}}})
			}
			return object{
				{"description", "Text in each of the policy's languages."},
				{"type", "object"},
				{"properties", props},
				{"additionalProperties", false},
			}, nil
		})
	case reflect.TypeFor[Date]():
		return g.define("Date", func() (object, error) {
			return object{
				{"description", "A civil date, YYYY-MM-DD."},
				{"type", "string"},
				{"pattern", `^\d{4}-\d{2}-\d{2}$`},
				{"format", "date"},
			}, nil
		})
	case reflect.TypeFor[Ref]():
		return g.define("Ref", func() (object, error) {
			custom, err := g.structSchema(t)
			if err != nil {
				return nil, err
			}
			return object{
				{"description", "A built-in id, or {id, text} for a custom entry."},
				{"oneOf", []any{object{{"type", "string"}}, custom}},
			}, nil
		})
	}
	switch t.Kind() {
	case reflect.Pointer:
		return g.typeSchema(t.Elem(), enum)
	case reflect.Struct:
		return g.define(t.Name(), func() (object, error) { return g.structSchema(t) })
	case reflect.Slice:
		items, err := g.typeSchema(t.Elem(), enum)
		if err != nil {
			return nil, err
		}
		return object{{"type", "array"}, {"items", items}}, nil
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return nil, fmt.Errorf("no schema for %s: map keys must be strings", t)
		}
		values, err := g.typeSchema(t.Elem(), enum)
		if err != nil {
			return nil, err
		}
		return object{{"type", "object"}, {"additionalProperties", values}}, nil
	case reflect.String:
		s := object{{"type", "string"}}
		if enum != "" {
			s = append(s, member{"enum", strings.Split(enum, ",")})
		}
		return s, nil
	case reflect.Int:
		return object{{"type", "integer"}}, nil
	case reflect.Bool:
		return object{{"type", "boolean"}}, nil
	}
	return nil, fmt.Errorf("no schema for %s", t)
}

// structSchema is the object schema of struct type t, properties in declaration order.
func (g *schemaGen) structSchema(t reflect.Type) (object, error) {
	var props object
	var required []string
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		key := FieldKey(sf)
		if key == "" {
			continue
		}
		s, err := g.typeSchema(sf.Type, sf.Tag.Get("enum"))
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", t.Name(), sf.Name, err)
		}
		if doc := sf.Tag.Get("doc"); doc != "" {
			s = append(object{{"description", doc}}, s...)
		}
		props = append(props, member{key, s})
		if sf.Tag.Get("req") == "true" {
			required = append(required, key)
		}
	}
	s := object{{"type", "object"}, {"properties", props}}
	if len(required) > 0 {
		s = append(s, member{"required", required})
	}
	return append(s, member{"additionalProperties", false}), nil
}

// writeJSON writes v compactly. Unlike json.Marshal it keeps object keys in
// order and leaves '<', '>' and '&' in descriptions readable.
func writeJSON(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case object:
		b.WriteByte('{')
		for i, m := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, m.key); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeJSON(b, m.value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, x); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []string:
		xs := make([]any, len(v))
		for i, s := range v {
			xs[i] = s
		}
		return writeJSON(b, xs)
	case string, bool:
		enc := json.NewEncoder(b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		b.Truncate(b.Len() - 1) // Encode ends with a newline
	default:
		return fmt.Errorf("cannot write %T", v)
	}
	return nil
}
