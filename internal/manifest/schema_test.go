package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

const schemaGolden = "testdata/schema.golden.json"

func TestJSONSchemaGolden(t *testing.T) {
	got, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(got) {
		t.Fatalf("JSONSchema() is not valid JSON")
	}
	if *update {
		if err := os.WriteFile(schemaGolden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaGolden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/manifest -update to create it)", err)
	}
	if d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); d != "" {
		t.Errorf("JSONSchema() differs from %s (-want +got; rerun with -update if intended):\n%s", schemaGolden, d)
	}
	again, err := JSONSchema()
	if err != nil || !bytes.Equal(got, again) {
		t.Errorf("JSONSchema() is not deterministic")
	}
}

func TestJSONSchemaHeader(t *testing.T) {
	s := loadSchema(t)
	want := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  "https://custos.dev/schema/manifest-1.json",
		"title":                "Custos privacy manifest",
		"type":                 "object",
		"additionalProperties": false,
	}
	got := map[string]any{}
	for k := range want {
		got[k] = s[k]
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("schema header (-want +got):\n%s", d)
	}
	if desc, _ := s["description"].(string); desc == "" {
		t.Errorf("schema has no description")
	}
}

// TestJSONSchemaCoversEveryKey walks every struct reachable from Manifest and
// checks that its schema has exactly its yaml keys, its required keys, its enums
// and its docs.
func TestJSONSchemaCoversEveryKey(t *testing.T) {
	s := loadSchema(t)
	defs, _ := s["$defs"].(map[string]any)
	structSchema := func(t reflect.Type) map[string]any {
		switch t {
		case reflect.TypeFor[Manifest]():
			return s
		case reflect.TypeFor[Ref]():
			ref, _ := defs["Ref"].(map[string]any)
			one, _ := ref["oneOf"].([]any)
			if len(one) != 2 {
				return nil
			}
			m, _ := one[1].(map[string]any)
			return m
		}
		m, _ := defs[t.Name()].(map[string]any)
		return m
	}
	visited := map[string]bool{"Text": true, "Date": true}
	var visit func(rt reflect.Type)
	visit = func(rt reflect.Type) {
		for rt.Kind() == reflect.Pointer || rt.Kind() == reflect.Slice || rt.Kind() == reflect.Map {
			rt = rt.Elem()
		}
		if rt.Kind() != reflect.Struct || visited[rt.Name()] {
			return
		}
		visited[rt.Name()] = true
		obj := structSchema(rt)
		if obj == nil {
			t.Errorf("no schema for struct %s", rt.Name())
			return
		}
		props, _ := obj["properties"].(map[string]any)
		var keys, required []string
		for i := 0; i < rt.NumField(); i++ {
			sf := rt.Field(i)
			key := strings.Split(sf.Tag.Get("yaml"), ",")[0]
			if key == "" || key == "-" {
				continue
			}
			keys = append(keys, key)
			if sf.Tag.Get("req") == "true" {
				required = append(required, key)
			}
			p, ok := props[key].(map[string]any)
			if !ok {
				t.Errorf("%s: key %q missing from the schema", rt.Name(), key)
				continue
			}
			if doc := sf.Tag.Get("doc"); p["description"] != nil || doc != "" {
				if d := cmp.Diff(doc, p["description"]); d != "" {
					t.Errorf("%s.%s description (-doc +schema):\n%s", rt.Name(), key, d)
				}
			}
			if enum := sf.Tag.Get("enum"); enum != "" {
				e := p["enum"]
				switch sf.Type.Kind() {
				case reflect.Slice:
					items, _ := p["items"].(map[string]any)
					e = items["enum"]
				case reflect.Map:
					values, _ := p["additionalProperties"].(map[string]any)
					e = values["enum"]
				}
				if d := cmp.Diff(strings.Split(enum, ","), strs(e)); d != "" {
					t.Errorf("%s.%s enum (-tag +schema):\n%s", rt.Name(), key, d)
				}
			}
			visit(sf.Type)
		}
		if len(props) != len(keys) {
			t.Errorf("%s: schema has %d properties, struct has %d yaml keys", rt.Name(), len(props), len(keys))
		}
		if d := cmp.Diff(required, strs(obj["required"])); d != "" {
			t.Errorf("%s required (-tags +schema):\n%s", rt.Name(), d)
		}
		if obj["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties = %v, want false", rt.Name(), obj["additionalProperties"])
		}
	}
	visit(reflect.TypeFor[Manifest]())
	delete(visited, "Manifest")
	var unused []string
	for name := range defs {
		if !visited[name] {
			unused = append(unused, name)
		}
	}
	if len(unused) > 0 {
		t.Errorf("$defs not reachable from Manifest: %v", unused)
	}
	if len(visited) < 40 {
		t.Errorf("visited %d named types; the walk is not reaching the model", len(visited))
	}
}

// TestJSONSchemaAgreesWithDecoder pins the hand-written parts of the schema to the decoder's rules.
func TestJSONSchemaAgreesWithDecoder(t *testing.T) {
	s := loadSchema(t)
	defs := s["$defs"].(map[string]any)
	langs := make([]string, 0, len(textLangs))
	for l := range textLangs {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	props := defs["Text"].(map[string]any)["properties"].(map[string]any)
	var inSchema []string
	for l := range props {
		inSchema = append(inSchema, l)
	}
	sort.Strings(inSchema)
	if d := cmp.Diff(langs, inSchema); d != "" {
		t.Errorf("Text languages (-decoder +schema):\n%s", d)
	}
	if got := defs["Date"].(map[string]any)["pattern"]; got != dateRE.String() {
		t.Errorf("Date pattern = %v, decoder uses %s", got, dateRE)
	}
}

// TestMinimalSatisfiesSchema checks testdata/minimal.yaml against the schema,
// and that the checker rejects what the schema forbids.
func TestMinimalSatisfiesSchema(t *testing.T) {
	schema := loadSchema(t)
	tests := []struct {
		name    string
		replace []string
		add     string
		want    []string
	}{
		{name: "minimal.yaml", want: nil},
		{
			name:    "missing required key",
			replace: []string{"minors:\n  stance: adults_only\n  unknown_age: adult\n", ""},
			want:    []string{`/: missing required property "minors"`},
		},
		{
			name: "unknown key",
			add:  "frobnicate: true",
			want: []string{`/: unknown property "frobnicate"`},
		},
		{
			name:    "unknown Text language",
			replace: []string{"scope: {zh: 示例应用, en: the Example app}", "scope: {zh: 示例应用, en: the Example app, fr: l'appli}"},
			want:    []string{`/policy/scope: unknown property "fr"`},
		},
		{
			name:    "enum",
			replace: []string{"necessity: required", "necessity: mandatory"},
			want:    []string{`/services/0/collects/0/necessity: "mandatory" is not one of required, optional`},
		},
		{
			name:    "enum in a list",
			replace: []string{"sources: [user]", "sources: [user, app]"},
			want:    []string{`/services/0/collects/0/sources/1: "app" is not one of user, device, automatic, third_party, social_login, other_users, public, credit_agency, partner`},
		},
		{
			name:    "date pattern",
			replace: []string{"updated: 2026-01-01", "updated: 2026-1-1"},
			want:    []string{`/policy/updated: "2026-1-1" does not match ^\d{4}-\d{2}-\d{2}$`},
		},
		{
			name:    "integer",
			replace: []string{"custos: 1", "custos: 1.5"},
			want:    []string{`/custos: want integer, got 1.5`},
		},
		{
			name:    "list for a mapping",
			replace: []string{"fees: {policy: free}", "fees: [free]"},
			want:    []string{`/rights/fees: want object, got [free]`},
		},
		{
			name:    "Ref: bare id and custom entry",
			replace: []string{"  fees: {policy: free}\n", "  fees: {policy: free}\n  refusal_grounds: [bad_faith, {id: custom, text: {zh: 甲, en: a}}]\n"},
			want:    nil,
		},
		{
			name:    "Ref: neither",
			replace: []string{"  fees: {policy: free}\n", "  fees: {policy: free}\n  refusal_grounds: [{id: custom, txt: {zh: 甲, en: a}}]\n"},
			want:    []string{`/rights/refusal_grounds/0: matches 0 of 2 oneOf schemas`},
		},
		{
			name: "statements map",
			add:  "statements:\n  collection: [{zh: 一, en: one}]\n  rights: {zh: 二, en: two}",
			want: []string{`/statements/rights: want array, got map[en:two zh:二]`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := yamlToJSON(t, edited(t, tc.replace, tc.add))
			got := checkSchema(schema, schema, doc, "")
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("schema violations (-want +got):\n%s", d)
			}
		})
	}
}

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	data, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// yamlToJSON converts YAML to the value a JSON parser would give for the same
// document, resolving scalars as YAML 1.2's core schema does: editors validate
// `updated: 2026-01-01` as the string it is, not as a timestamp.
func yamlToJSON(t *testing.T, src string) any {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	var convert func(n *yaml.Node) any
	convert = func(n *yaml.Node) any {
		switch n.Kind {
		case yaml.DocumentNode:
			return convert(n.Content[0])
		case yaml.AliasNode:
			return convert(n.Alias)
		case yaml.MappingNode:
			m := map[string]any{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				m[n.Content[i].Value] = convert(n.Content[i+1])
			}
			return m
		case yaml.SequenceNode:
			l := []any{}
			for _, c := range n.Content {
				l = append(l, convert(c))
			}
			return l
		}
		switch n.ShortTag() {
		case "!!int", "!!float":
			f, err := strconv.ParseFloat(n.Value, 64)
			if err != nil {
				t.Fatalf("line %d: %v", n.Line, err)
			}
			return f
		case "!!bool":
			b, _ := strconv.ParseBool(strings.ToLower(n.Value))
			return b
		case "!!null":
			return nil
		}
		return n.Value
	}
	return convert(&n)
}

// checkSchema validates v against the subset of JSON Schema that JSONSchema
// emits, returning one message per violation, prefixed with v's JSON pointer.
// A keyword it does not know is itself reported, so the schema cannot grow
// beyond what this test checks without the test noticing.
func checkSchema(root, schema map[string]any, v any, path string) []string {
	at := path
	if at == "" {
		at = "/"
	}
	var out []string
	fail := func(format string, args ...any) {
		out = append(out, at+": "+fmt.Sprintf(format, args...))
	}
	keywords := make([]string, 0, len(schema))
	for k := range schema {
		keywords = append(keywords, k)
	}
	sort.Strings(keywords)
	for _, kw := range keywords {
		arg := schema[kw]
		switch kw {
		case "$schema", "$id", "$defs", "title", "description", "format", "properties":
			// format is an annotation in 2020-12; properties is handled with additionalProperties.
		case "$ref":
			name := strings.TrimPrefix(arg.(string), "#/$defs/")
			def, ok := root["$defs"].(map[string]any)[name].(map[string]any)
			if !ok {
				fail("dangling $ref %v", arg)
				continue
			}
			out = append(out, checkSchema(root, def, v, path)...)
		case "type":
			if !hasType(arg.(string), v) {
				fail("want %s, got %v", arg, v)
				return out // the other keywords would only repeat the point
			}
		case "enum":
			var allowed []string
			found := false
			for _, e := range arg.([]any) {
				allowed = append(allowed, e.(string))
				found = found || e == v
			}
			if !found {
				fail("%q is not one of %s", v, strings.Join(allowed, ", "))
			}
		case "pattern":
			if s, ok := v.(string); ok && !regexp.MustCompile(arg.(string)).MatchString(s) {
				fail("%q does not match %s", s, arg)
			}
		case "required":
			m, _ := v.(map[string]any)
			for _, k := range arg.([]any) {
				if _, ok := m[k.(string)]; !ok && m != nil {
					fail("missing required property %q", k)
				}
			}
		case "additionalProperties":
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			props, _ := schema["properties"].(map[string]any)
			for _, k := range sortedKeys(m) {
				sub := path + "/" + k
				if p, ok := props[k].(map[string]any); ok {
					out = append(out, checkSchema(root, p, m[k], sub)...)
					continue
				}
				switch a := arg.(type) {
				case bool:
					if !a {
						fail("unknown property %q", k)
					}
				case map[string]any:
					out = append(out, checkSchema(root, a, m[k], sub)...)
				}
			}
		case "items":
			l, _ := v.([]any)
			for i, x := range l {
				out = append(out, checkSchema(root, arg.(map[string]any), x, fmt.Sprintf("%s/%d", path, i))...)
			}
		case "oneOf":
			n := 0
			for _, s := range arg.([]any) {
				if len(checkSchema(root, s.(map[string]any), v, path)) == 0 {
					n++
				}
			}
			if n != 1 {
				fail("matches %d of %d oneOf schemas", n, len(arg.([]any)))
			}
		default:
			fail("checker does not support keyword %q", kw)
		}
	}
	if _, ok := schema["properties"]; ok {
		if _, ok := schema["additionalProperties"]; !ok {
			fail("checker needs additionalProperties beside properties")
		}
	}
	return out
}

func hasType(typ string, v any) bool {
	switch typ {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// strs turns a decoded JSON array of strings back into []string; nil stays nil.
func strs(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}
