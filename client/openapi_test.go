package client_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/client"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

// apiDoc is the part of the OpenAPI document the tests read.
type apiDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]*schema `json:"schemas"`
	} `json:"components"`
}

type schema struct {
	Type       string             `json:"type"`
	Properties map[string]*schema `json:"properties"`
	Items      *schema            `json:"items"`
}

func openAPI(t *testing.T, base string) apiDoc {
	t.Helper()
	res, err := http.Get(base + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc apiDoc
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil || res.StatusCode != 200 {
		t.Fatalf("openapi.json: %d %v", res.StatusCode, err)
	}
	return doc
}

// TestTypesMatchOpenAPI holds every body the client sends and every answer
// it reads against the server's OpenAPI document, field by field and
// type by type, nested objects included. A field the client sends that
// the server does not take is refused (unknown_field); one the server
// sends that the client lacks is lost to its users; a renamed one is
// both.
func TestTypesMatchOpenAPI(t *testing.T) {
	doc := openAPI(t, webtest.Demo(t).URL)
	for _, tc := range []struct {
		schema string // component name, then a path into it: "ConsentEvents.events[]"
		value  any
		// absent lists server fields the client leaves out on purpose.
		absent []string
	}{
		{"SubjectInput", client.SubjectInput{}, nil},
		{"Subject", client.Subject{}, nil},
		{"SubjectRef", client.SubjectWritten{}, nil},
		{"SubjectPatch", client.SubjectPatch{}, nil},
		{"IdentitiesInput", client.IdentitiesInput{}, nil},
		{"RestrictionInput", client.RestrictionInput{}, nil},
		{"ConsentInput", client.ConsentInput{}, nil},
		{"ConsentEvents.events[]", client.ConsentEvent{}, nil},
		{"ConsentPage", client.ConsentPage{}, nil},
		{"ObjectionInput", client.ObjectionInput{}, nil},
		{"OverrideInput", client.OverrideInput{}, nil},
		{"AcceptanceInput", client.AcceptanceInput{}, nil},
		{"Receipt", client.SignedReceipt{}, nil},
		{"CheckInput", client.CheckInput{}, nil},
		{"CheckResult", client.CheckResult{}, nil},
		{"PolicyVersion", client.PolicyVersion{}, nil},
		{"PolicyVersions.versions[]", client.PolicyVersion{}, nil},
		// The operator's request names the subject; the public one an identity.
		{"RequestInput", client.RequestInput{}, []string{"identity"}},
		{"PublicRequestInput", client.PublicRequestInput{}, nil},
		{"Accepted", client.AcceptedRequest{}, nil},
		{"RequestView", client.Request{}, nil},
		{"RequestList.requests[]", client.Request{}, nil},
		{"RequestList", client.RequestPage{}, nil},
		{"CompleteInput", client.CompleteInput{}, nil},
		{"CodeInput", client.CodeInput{}, nil},
		{"EvidenceInput", client.EvidenceInput{}, nil},
		{"ReasonInput", client.ReasonInput{}, nil},
		{"RefuseInput", client.RefuseInput{}, nil},
		{"VaultInput", client.VaultInput{}, nil},
		{"VaultWritten", client.VaultWritten{}, nil},
		{"VaultValue", client.VaultValue{}, nil},
	} {
		t.Run(tc.schema+"/"+reflect.TypeOf(tc.value).Name(), func(t *testing.T) {
			s := lookup(t, doc, tc.schema)
			compareType(t, tc.schema, reflect.TypeOf(tc.value), s, tc.absent)
		})
	}
}

// TestSubjectAnswersMatchOpenAPI: the subject calls read the answers the
// document gives their routes. A write is answered with the whole Subject
// or, for a service key, a SubjectRef, which SubjectWritten both reads; a
// read (and a restriction, which only staff may set) with the Subject.
func TestSubjectAnswersMatchOpenAPI(t *testing.T) {
	doc := openAPI(t, webtest.Demo(t).URL)
	for _, tc := range []struct {
		call, method, path, status string
		want                       []string // the schemas the answer may be
	}{
		{"CreateSubject", "post", "/v1/subjects", "201", []string{"Subject", "SubjectRef"}},
		{"UpdateSubject", "patch", "/v1/subjects/{subject_id}", "200", []string{"Subject", "SubjectRef"}},
		{"AddIdentities", "post", "/v1/subjects/{subject_id}/identities", "200", []string{"Subject", "SubjectRef"}},
		{"GetSubject", "get", "/v1/subjects/{subject_id}", "200", []string{"Subject"}},
		{"SetRestriction", "put", "/v1/subjects/{subject_id}/restriction", "200", []string{"Subject"}},
	} {
		t.Run(tc.call, func(t *testing.T) {
			var op struct {
				Responses map[string]struct {
					Content map[string]struct {
						Schema struct {
							Ref   string `json:"$ref"`
							OneOf []struct {
								Ref string `json:"$ref"`
							} `json:"oneOf"`
						} `json:"schema"`
					} `json:"content"`
				} `json:"responses"`
			}
			if err := json.Unmarshal(doc.Paths[tc.path][tc.method], &op); err != nil {
				t.Fatalf("%s %s: %v", tc.method, tc.path, err)
			}
			s := op.Responses[tc.status].Content["application/json"].Schema
			var got []string
			for _, r := range append([]struct {
				Ref string `json:"$ref"`
			}{{s.Ref}}, s.OneOf...) {
				if name, ok := strings.CutPrefix(r.Ref, "#/components/schemas/"); ok {
					got = append(got, name)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s %s answers %v; %s reads %v", strings.ToUpper(tc.method), tc.path, got, tc.call, tc.want)
			}
		})
	}
}

// lookup finds "Name.field.field[]" in the document's schemas.
func lookup(t *testing.T, doc apiDoc, path string) *schema {
	t.Helper()
	parts := strings.Split(path, ".")
	s := doc.Components.Schemas[parts[0]]
	for _, p := range parts[1:] {
		if s == nil {
			break
		}
		name, items := strings.CutSuffix(p, "[]")
		s = s.Properties[name]
		if items && s != nil {
			s = s.Items
		}
	}
	if s == nil {
		t.Fatalf("the OpenAPI document has no schema %s", path)
	}
	return s
}

var timeType = reflect.TypeFor[time.Time]()
var rawType = reflect.TypeFor[json.RawMessage]()

// jsonType is the JSON Schema type a Go type is encoded as.
func jsonType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return "string"
	case t == rawType:
		return "object"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "integer"
	case reflect.Slice:
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return t.Kind().String()
}

func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func compareType(t *testing.T, at string, typ reflect.Type, s *schema, absent []string) {
	t.Helper()
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if got := jsonType(typ); got != s.Type && s.Type != "" {
		t.Errorf("%s: the client has %s (%v), the server %s", at, got, typ, s.Type)
		return
	}
	switch {
	case typ.Kind() == reflect.Slice && s.Items != nil:
		compareType(t, at+"[]", typ.Elem(), s.Items, nil)
	case typ.Kind() == reflect.Struct && typ != timeType && s.Properties != nil:
		fields := jsonFields(typ)
		var names []string
		for n := range fields {
			names = append(names, n)
		}
		for n := range s.Properties {
			if _, ok := fields[n]; !ok {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			f, inClient := fields[n]
			p, inServer := s.Properties[n]
			switch {
			case !inServer:
				t.Errorf("%s.%s: the client has it, the server does not", at, n)
			case !inClient && !slices.Contains(absent, n):
				t.Errorf("%s.%s: the server has it, the client does not", at, n)
			case inClient:
				compareType(t, at+"."+n, f, p, nil)
			}
		}
	}
}
