package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
)

// schemaTypes names the Go types behind request and response bodies, so
// the document is derived from the code it describes.
var schemaTypes = map[string]any{
	"Status":           map[string]string{},
	"JWKS":             map[string]any{},
	"SubjectInput":     consent.SubjectInput{},
	"SubjectPatch":     consent.SubjectPatch{},
	"Subject":          consent.SubjectView{},
	"IdentitiesInput":  IdentitiesInput{},
	"RestrictionInput": RestrictionInput{},
	"ConsentInput":     consent.ConsentInput{},
	"ConsentEvents":    ConsentEvents{},
	"ObjectionInput":   consent.ObjectionInput{},
	"OverrideInput":    consent.OverrideInput{},
	"AcceptanceInput":  consent.AcceptanceInput{},
	"ConsentPage":      Page[consent.ConsentEvent]{},
	"Receipt":          Receipt{},
	"CheckInput":       consent.CheckInput{},
	"CheckResult":      consent.CheckResult{},
	"PolicyVersion":    PolicyVersion{},
	"PolicyVersions": struct {
		Versions []PolicyVersion `json:"versions"`
	}{},
	"Published":   consent.Published{},
	"AuditPage":   Page[audit.Entry]{},
	"AuditReport": audit.Report{},
	"Keys": struct {
		Keys []Key `json:"keys"`
	}{},
	"KeyInput":   KeyInput{},
	"CreatedKey": CreatedKey{},
	"Key":        Key{},
	"Error":      ErrorBody{},
	"Decision":   check.Decision{},

	"RequestInput":   dsr.Input{},
	"Accepted":       dsr.Accepted{},
	"RequestView":    dsr.View{},
	"RequestList":    RequestList{},
	"CodeInput":      CodeInput{},
	"EvidenceInput":  EvidenceInput{},
	"ReasonInput":    ReasonInput{},
	"RefuseInput":    RefuseInput{},
	"CompleteInput":  dsr.CompleteInput{},
	"CalendarFile":   map[string]any{},
	"CalendarLoaded": CalendarLoaded{},
}

// OpenAPI builds the OpenAPI 3.1 document from the route table.
func (a *API) OpenAPI() map[string]any {
	paths := map[string]any{}
	for _, rt := range a.routes {
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		op := map[string]any{"operationId": rt.Op, "summary": rt.Summary}
		var params []any
		for _, seg := range strings.Split(rt.Path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		switch rt.Op {
		case "listConsents", "listAudit":
			params = append(params,
				map[string]any{"name": "cursor", "in": "query", "schema": map[string]any{"type": "string"}},
				map[string]any{"name": "limit", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 1000}})
		}
		if rt.Op == "listAudit" {
			params = append(params, map[string]any{"name": "since", "in": "query", "schema": map[string]any{"type": "string", "format": "date-time"}})
		}
		if rt.Op == "listRequests" {
			for _, q := range []struct{ name, desc string }{
				{"state", "Only requests in this state."},
				{"due_by", "Only requests due on or before this date (YYYY-MM-DD)."},
				{"subject_id", "Only the requests of this subject."},
				{"type", "Only requests of this type (a right the manifest offers)."},
			} {
				params = append(params, map[string]any{"name": q.name, "in": "query", "description": q.desc, "schema": map[string]any{"type": "string"}})
			}
		}
		if rt.Op == "getSubject" {
			params = append(params, map[string]any{"name": "purpose", "in": "query", "description": "Why the subject is disclosed; recorded in the audit trail.", "schema": map[string]any{"type": "string"}})
		}
		if rt.Op == "recordConsent" {
			params = append(params,
				map[string]any{"name": "Sec-GPC", "in": "header", "description": "Global Privacy Control: 1 withdraws the purposes marked for sale, sharing or targeted advertising.", "schema": map[string]any{"type": "string"}},
				map[string]any{"name": "DNT", "in": "header", "description": "Do Not Track, acted on when the manifest says it is honoured.", "schema": map[string]any{"type": "string"}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if rt.Op == "downloadBundle" {
			params = append(params, map[string]any{"name": "token", "in": "query", "required": true, "schema": map[string]any{"type": "string"}})
		}
		if rt.Body == "Manifest" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/yaml": map[string]any{"schema": map[string]any{"type": "string"}}}}
		} else if rt.Body != "" {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(rt.Body)}}}
		}
		resp := map[string]any{"description": "OK"}
		switch {
		case rt.Op == "downloadBundle":
			resp["content"] = map[string]any{"application/zip": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}
		case rt.Op == "metrics":
			resp["content"] = map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}
		case rt.Op == "openapi":
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		case rt.Resp != "":
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": ref(rt.Resp)}}
		}
		responses := map[string]any{itoa(rt.Status): resp, "default": map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}}
		if rt.Op == "publishPolicy" {
			responses["200"] = map[string]any{"description": "The manifest is already published; nothing changed.", "content": map[string]any{"application/json": map[string]any{"schema": ref(rt.Resp)}}}
		}
		op["responses"] = responses
		if rt.Roles != nil {
			op["security"] = []any{map[string]any{"apiKey": []any{}}}
			op["x-roles"] = rt.Roles
		} else {
			op["security"] = []any{}
		}
		item[strings.ToLower(rt.Method)] = op
	}
	schemas := map[string]any{}
	for name, v := range schemaTypes {
		schemas[name] = schemaOf(reflect.TypeOf(v))
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Custos API", "version": "1",
			"description": "Consent ledger, purpose checks and audit trail. Errors are {\"error\":{\"code\",\"message\",\"field\",\"allowed\"}} with stable codes: " +
				"field names the request field at fault, allowed lists the values it takes (at most " + strconv.Itoa(fault.MaxAllowed) + "). A subject is named by subject_id everywhere."},
		"paths": paths,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"apiKey": map[string]any{"type": "http", "scheme": "bearer", "description": "API key cus_…, created with `custos keys create`."}},
		},
	}
}

func itoa(n int) string { return jsonNumber(n) }

func jsonNumber(n int) string { b, _ := json.Marshal(n); return string(b) }

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

var timeType = reflect.TypeOf(time.Time{})

// schemaOf derives a JSON Schema from a Go type and its json tags.
func schemaOf(t reflect.Type) map[string]any {
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem())
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			if t.Name() == "RawMessage" {
				return map[string]any{"type": "object"}
			}
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": schemaOf(t.Elem())}
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		var walk func(t reflect.Type)
		walk = func(t reflect.Type) {
			for i := 0; i < t.NumField(); i++ {
				f := t.Field(i)
				tag := f.Tag.Get("json")
				if tag == "-" || !f.IsExported() {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if f.Anonymous && name == "" {
					walk(f.Type)
					continue
				}
				if name == "" {
					name = f.Name
				}
				props[name] = schemaOf(f.Type)
				if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
					required = append(required, name)
				}
			}
		}
		walk(t)
		sort.Strings(required)
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		return s
	}
	return map[string]any{}
}

func (a *API) openapi(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	return writeJSON(w, 200, a.OpenAPI())
}
