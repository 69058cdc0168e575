package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/incident"
	"github.com/custos-privacy/custos/internal/retention"
	"github.com/custos-privacy/custos/internal/transfer"
	"github.com/custos-privacy/custos/internal/vault"
)

// schemaTypes names the Go types behind request and response bodies, so
// the document is derived from the code it describes.
var schemaTypes = map[string]any{
	"Status":           map[string]string{},
	"JWKS":             map[string]any{},
	"SubjectInput":     consent.SubjectInput{},
	"SubjectPatch":     consent.SubjectPatch{},
	"Subject":          consent.SubjectView{},
	"SubjectRef":       SubjectRef{},
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

	"RequestInput":       dsr.Input{},
	"PublicRequestInput": PublicRequestInput{},
	"Accepted":           dsr.Accepted{},
	"RequestView":        dsr.View{},
	"CorrectionPreview":  dsr.CorrectionPreview{},
	"Certificate":        certificate.Certificate{},
	"RequestList":        RequestList{},
	"AssistanceList":     AssistanceList{},
	"AssistanceInput":    AssistanceInput{},
	"Assistance":         dsr.Assistance{},
	"CodeInput":          CodeInput{},
	"EvidenceInput":      EvidenceInput{},
	"ReasonInput":        ReasonInput{},
	"FeeInput":           dsr.FeeInput{},
	"RefuseInput":        RefuseInput{},
	"CompleteInput":      dsr.CompleteInput{},
	"CalendarFile":       map[string]any{},
	"CalendarLoaded":     CalendarLoaded{},

	"Orgs": struct {
		Orgs []Org `json:"orgs"`
	}{},
	"Org":           Org{},
	"OrgInput":      OrgInput{},
	"OrgHostsInput": OrgHostsInput{},
	"OrgRetention":  OrgRetention{},

	"Holds": struct {
		Holds []hold.Hold `json:"holds"`
	}{},
	"Hold":      hold.Hold{},
	"HoldInput": hold.Input{},
	"HoldLift":  HoldLift{},

	"RetentionPlan":        retention.Plan{},
	"TransferRegister":     TransferRegister{},
	"TransferCounts":       transfer.Counts{},
	"TransferReport":       transfer.ReportInput{},
	"TransferReportResult": transfer.ReportResult{},
	"Incidents": struct {
		Incidents []IncidentView `json:"incidents"`
	}{},
	"IncidentView":       IncidentView{},
	"IncidentInput":      incident.OpenInput{},
	"IncidentAssessment": incident.AssessInput{},
	"IncidentNotice":     incident.NotifyInput{},

	"RetentionRuns": struct {
		Runs []retention.RunRecord `json:"runs"`
	}{},
	"RetentionReport": retention.Report{},

	"VaultInput":   VaultInput{},
	"VaultValue":   vault.Value{},
	"VaultWritten": vault.Written{},
}

// subjectWritten is the answer of the routes that register or change a
// subject, which depends on the caller's role (see writeSubject).
const subjectWritten = "Subject|SubjectRef"

// opParams are the query and header parameters each operation reads,
// besides its path's. TestOpenAPIParameters finds what the handlers read
// and fails when one of them is missing here.
var opParams = map[string][]any{
	"getSubject": {queryParam("purpose", "Why the subject is disclosed; recorded in the audit trail.", false)},
	"getVault":   {queryParam("purpose", "What the value is read for: a purpose the manifest collects the field's category for, which the decision point allows for the subject now; recorded in the audit trail.", true)},
	"recordConsent": {
		headerParam("Sec-GPC", "Global Privacy Control: 1 withdraws the purposes marked for sale, sharing or targeted advertising."),
		headerParam("DNT", "Do Not Track, acted on when the manifest says it is honoured."),
	},
	"listConsents":  pageParamDocs,
	"listAudit":     append(slices.Clip(pageParamDocs), map[string]any{"name": "since", "in": "query", "schema": map[string]any{"type": "string", "format": "date-time"}}),
	"publishPolicy": {map[string]any{"name": "effective_at", "in": "query", "description": "When the version comes into force (RFC 3339); left out, at once.", "schema": map[string]any{"type": "string", "format": "date-time"}}},
	"listRequests": {
		queryParam("state", "Only requests in this state.", false),
		queryParam("due_by", "Only requests due on or before this date (YYYY-MM-DD).", false),
		queryParam("subject_id", "Only the requests of this subject.", false),
		queryParam("type", "Only requests of this type (a right the manifest offers).", false),
		map[string]any{"name": "limit", "in": "query", "description": "How many requests a page holds, 1 to 1000 (500 when absent).", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 1000}},
		queryParam("cursor", "The next_cursor of the page before: lists the page that follows it, with the same filters.", false),
	},
	"listHolds":      {queryParam("all", "true lists lifted and expired holds too.", false)},
	"disableOrg":     {queryParam("force", "true disables the organisation although rights requests are open; the audit entry records how many.", false)},
	"transferCounts": {map[string]any{"name": "year", "in": "query", "description": "The calendar year (China time); this one when absent.", "schema": map[string]any{"type": "integer", "minimum": 2000}}},
	"listIncidents":  {queryParam("all", "true lists closed incidents too.", false)},
	"incidentReport": {
		queryParam("lang", "zh-CN (the default) or en.", false),
		queryParam("format", "md (the default) or html.", false),
	},
	"incidentAnnouncement": {
		queryParam("lang", "zh-CN (the default) or en.", false),
		queryParam("format", "md, the default and the only one.", false),
	},
	"retentionRuns":         {map[string]any{"name": "limit", "in": "query", "description": "How many runs, 1 to 200 (20 when absent).", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 200}}},
	"listAssistance":        {queryParam("state", "Only tasks in this state: open or done.", false)},
	"verifyPublicRequest":   requestTokenDocs,
	"publicRequestStatus":   requestTokenDocs,
	"withdrawPublicRequest": requestTokenDocs,
	"downloadBundle":        {queryParam("token", "The download token, from the link in the completion message.", true)},
	"bannerConfig":          {queryParam("lang", "A language of the policy (zh-CN, en); otherwise the manifest's default language.", false)},
	"recordBannerConsent": {
		headerParam("Sec-GPC", "Global Privacy Control: 1 records a withdrawal of the purposes the manifest marks for it."),
		headerParam("DNT", "Do Not Track, acted on when the manifest says it is honoured."),
	},
}

var pageParamDocs = []any{
	map[string]any{"name": "cursor", "in": "query", "schema": map[string]any{"type": "string"}},
	map[string]any{"name": "limit", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 1000}},
}

// requestTokenDocs: the requester's access token goes in X-Request-Token,
// or in ?token= for a link (see requestToken).
var requestTokenDocs = []any{
	headerParam("X-Request-Token", "The access token the intake returned."),
	queryParam("token", "The access token, when X-Request-Token cannot be sent.", false),
}

func queryParam(name, desc string, required bool) map[string]any {
	p := map[string]any{"name": name, "in": "query", "description": desc, "schema": map[string]any{"type": "string"}}
	if required {
		p["required"] = true
	}
	return p
}

func headerParam(name, desc string) map[string]any {
	return map[string]any{"name": name, "in": "header", "description": desc, "schema": map[string]any{"type": "string"}}
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
		params = append(params, opParams[rt.Op]...)
		if len(params) > 0 {
			op["parameters"] = params
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
		case rt.Op == "incidentReport":
			resp["content"] = map[string]any{"text/markdown": map[string]any{"schema": map[string]any{"type": "string"}}, "text/html": map[string]any{"schema": map[string]any{"type": "string"}}}
		case rt.Op == "incidentAnnouncement":
			resp["content"] = map[string]any{"text/markdown": map[string]any{"schema": map[string]any{"type": "string"}}}
		case rt.Op == "metrics":
			resp["content"] = map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}
		case rt.Op == "openapi":
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		case rt.Resp == subjectWritten:
			resp["description"] = "The subject as it now stands for an admin or operator key; for a service key, which may not read subjects, only its subject_id (SubjectRef)."
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": map[string]any{"oneOf": []any{ref("Subject"), ref("SubjectRef")}}}}
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
	// Nothing but the id: a full subject must not pass for a SubjectRef,
	// so that exactly one of the subject writes' answers matches.
	schemas["SubjectRef"].(map[string]any)["additionalProperties"] = false
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
