package api_test

import (
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/audit"
)

// TestVault drives the vault over HTTP on the demo (the starter keeps
// email: a service reads it in clear for account_registration and
// marketing, an operator for customer_support): who reads what, what a
// refusal says, and that the value is in no answer that masks it, in no
// error and in no line of the log; then a deletion request leaves nothing
// readable and nothing writable.
func TestVault(t *testing.T) {
	e := newEnv(t, slog.LevelDebug, nil)
	const given, kept, masked = "Mei.Zhang@Example.NET", "mei.zhang@example.net", "m***@example.net"
	leaks := []string{"mei.zhang", "Mei.Zhang"}
	for _, step := range []struct {
		as, method, path, body string
		status                 int
	}{
		{"service", "POST", "/v1/subjects", `{"subject_id":"v-1","birth_date":"1990-01-02"}`, 201},
		{"service", "POST", "/v1/subjects", `{"subject_id":"v-2","birth_date":"1990-01-02"}`, 201},
		{"service", "POST", "/v1/subjects/v-1/consents", `{"grant":["marketing"],"method":"api","language":"en","notice_hash":"` + noticeHash + `"}`, 201},
		{"service", "POST", "/v1/subjects/v-2/consents", `{"grant":["marketing"],"method":"api","language":"en","notice_hash":"` + noticeHash + `"}`, 201},
		{"service", "POST", "/v1/subjects/v-2/consents", `{"withdraw":["marketing"],"method":"api","language":"en"}`, 201},
	} {
		if w := e.do(t, step.method, step.path, e.keys[step.as], step.body, nil); w.Code != step.status {
			t.Fatalf("%s %s: %d %s", step.method, step.path, w.Code, w.Body)
		}
	}
	allowed := []string{"account_registration", "payments", "customer_support", "marketing"}
	var token string
	for _, sc := range []struct {
		name, as, method, path, body string
		status                       int
		code                         string
		value                        string // the value the answer shows
		allowed                      []string
	}{
		{name: "a service keeps a value and is told its token", as: "service", method: "PUT", path: "/v1/subjects/v-1/vault/email", body: `{"value":"` + given + `"}`, status: 200},
		{name: "the same value for another subject", as: "operator", method: "PUT", path: "/v1/subjects/v-2/vault/email", body: `{"value":"` + kept + `"}`, status: 200},
		{name: "clear for the role the manifest names", as: "service", method: "GET", path: "/v1/subjects/v-1/vault/email?purpose=account_registration", status: 200, value: kept},
		{name: "same purpose, another role: masked", as: "operator", method: "GET", path: "/v1/subjects/v-1/vault/email?purpose=account_registration", status: 200, value: masked},
		{name: "an admin is masked too", as: "admin", method: "GET", path: "/v1/subjects/v-1/vault/email?purpose=account_registration", status: 200, value: masked},
		{name: "the operator's purpose: clear", as: "operator", method: "GET", path: "/v1/subjects/v-1/vault/email?purpose=customer_support", status: 200, value: kept},
		{name: "a purpose the category is not collected for", as: "service", method: "GET", path: "/v1/subjects/v-1/vault/email?purpose=analytics", status: 422, code: "purpose_not_allowed", allowed: allowed},
		{name: "no purpose", as: "service", method: "GET", path: "/v1/subjects/v-1/vault/email", status: 422, code: "purpose_required", allowed: allowed},
		{name: "consent withdrawn", as: "service", method: "GET", path: "/v1/subjects/v-2/vault/email?purpose=marketing", status: 403, code: "not_allowed"},
		{name: "consent standing", as: "service", method: "GET", path: "/v1/subjects/v-1/vault/email?purpose=marketing", status: 200, value: kept},
		{name: "an auditor may not read the vault", as: "auditor", method: "GET", path: "/v1/subjects/v-1/vault/email?purpose=account_registration", status: 403, code: "forbidden"},
		{name: "a field the manifest does not declare", as: "service", method: "PUT", path: "/v1/subjects/v-1/vault/phone", body: `{"value":"13712345678"}`, status: 404, code: "unknown_vault_field", allowed: []string{"email"}},
		{name: "a value that is not an email address", as: "service", method: "PUT", path: "/v1/subjects/v-1/vault/email", body: `{"value":"mei.zhang at example.net"}`, status: 422, code: "invalid_value"},
		{name: "an empty value", as: "service", method: "PUT", path: "/v1/subjects/v-1/vault/email", body: `{"value":""}`, status: 422, code: "value_required"},
		{name: "a misspelt body", as: "service", method: "PUT", path: "/v1/subjects/v-1/vault/email", body: `{"valeu":"` + given + `"}`, status: 400, code: "unknown_field", allowed: []string{"value"}},
		{name: "an unknown subject", as: "service", method: "PUT", path: "/v1/subjects/v-404/vault/email", body: `{"value":"` + given + `"}`, status: 404, code: "subject_not_found"},
		{name: "deleting", as: "operator", method: "DELETE", path: "/v1/subjects/v-2/vault/email", status: 204},
		{name: "deleting again", as: "operator", method: "DELETE", path: "/v1/subjects/v-2/vault/email", status: 204},
		{name: "a deleted value", as: "operator", method: "GET", path: "/v1/subjects/v-2/vault/email?purpose=customer_support", status: 404, code: "vault_value_not_found"},
	} {
		t.Run(sc.name, func(t *testing.T) {
			w := e.do(t, sc.method, sc.path, e.keys[sc.as], sc.body, nil)
			body := w.Body.String()
			if w.Code != sc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, sc.status, body)
			}
			eb := errorOf(w.Body.Bytes())
			if eb.Error.Code != sc.code {
				t.Errorf("code %q, want %q", eb.Error.Code, sc.code)
			}
			if d := cmp.Diff(sc.allowed, eb.Error.Allowed); d != "" {
				t.Errorf("allowed (-want +got):\n%s", d)
			}
			if sc.value != kept {
				for _, l := range leaks {
					if strings.Contains(body, l) {
						t.Errorf("the answer holds the value: %s", body)
					}
				}
			}
			switch {
			case sc.method == "PUT" && sc.status == 200:
				tok, _ := jsonAt(w.Body.Bytes(), "token")
				if token == "" {
					token = tok
				}
				if !strings.HasPrefix(tok, "vt_") || tok != token {
					t.Errorf("token %q, want the first write's %q: one value, one token", tok, token)
				}
			case sc.value != "":
				if v, _ := jsonAt(w.Body.Bytes(), "value"); v != sc.value {
					t.Errorf("value %q, want %q", v, sc.value)
				}
				m, _ := jsonAt(w.Body.Bytes(), "masked")
				if tok, _ := jsonAt(w.Body.Bytes(), "token"); m != map[bool]string{true: "true", false: "false"}[sc.value == masked] || tok != token {
					t.Errorf("masked %s token %s: %s", m, tok, body)
				}
			}
		})
	}

	// Every read that reached a decision is in the trail, with its
	// purpose and where it came from, and no value.
	reads := 0
	for _, en := range auditEntries(t, e) {
		if strings.HasPrefix(en.Action, "vault.") {
			for _, l := range leaks {
				if strings.Contains(en.Detail, l) || strings.Contains(en.Object, l) {
					t.Errorf("an audit entry holds the value: %+v", en)
				}
			}
		}
		if en.Action != "vault.read" {
			continue
		}
		reads++
		if en.Purpose == "" || en.Place == "" || !strings.Contains(en.Detail, `"field":"email"`) {
			t.Errorf("read entry without its purpose, place or field: %+v", en)
		}
	}
	if reads != 7 {
		t.Errorf("%d vault.read entries, want 7 (five reads, two refused on purpose or consent)", reads)
	}

	// A deletion request, carried out: nothing of the vault is readable,
	// and nothing new is kept.
	op := e.keys["operator"]
	w := e.do(t, "POST", "/v1/requests", op, `{"type":"deletion","subject_id":"v-1","language":"en","verification":"operator","evidence":"seen in person"}`, nil)
	id, _ := jsonAt(w.Body.Bytes(), "id")
	if w.Code != 201 || id == "" {
		t.Fatalf("deletion request: %d %s", w.Code, w.Body)
	}
	for _, step := range []string{"approve", "complete"} {
		if w := e.do(t, "POST", "/v1/requests/"+id+"/"+step, op, "{}", nil); w.Code != 200 {
			t.Fatalf("%s: %d %s", step, w.Code, w.Body)
		}
	}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/subjects/v-1/vault/email?purpose=account_registration", ""},
		{"PUT", "/v1/subjects/v-1/vault/email", `{"value":"` + given + `"}`},
	} {
		w := e.do(t, c.method, c.path, e.keys["service"], c.body, nil)
		if w.Code != 410 || errorOf(w.Body.Bytes()).Error.Code != "subject_erased" {
			t.Errorf("%s after erasure: %d %s, want 410 subject_erased", c.method, w.Code, w.Body)
		}
	}

	logs := e.log.String()
	for _, l := range leaks {
		if strings.Contains(logs, l) {
			t.Errorf("the log holds the value %q", l)
		}
	}
	if !strings.Contains(logs, "route=/v1/subjects/{subject_id}/vault/{field}") {
		t.Errorf("the vault's requests are not in the request log")
	}
}

func auditEntries(t *testing.T, e *env) []audit.Entry {
	t.Helper()
	w := e.do(t, "GET", "/v1/audit?limit=1000", e.keys[api.RoleAuditor], "", nil)
	var page api.Page[audit.Entry]
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || w.Code != 200 {
		t.Fatalf("audit: %d %v", w.Code, err)
	}
	return slices.Clip(page.Items)
}
