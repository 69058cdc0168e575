package api_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/examples"
	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/receipt"
)

// wantRoles is who may call what. A route added to the table without a
// line here fails TestRoutesRoles, so every new route gets a decision on
// its roles; nil means public.
var wantRoles = map[string][]string{
	"GET /healthz":          nil,
	"GET /readyz":           nil,
	"GET /metrics":          nil,
	"GET /openapi.json":     nil,
	"GET /v1/keys/receipts": nil,

	"POST /v1/subjects":                                            {"admin", "operator", "service"},
	"POST /v1/subjects/{subject_id}/acceptances":                   {"admin", "operator", "service"},
	"POST /v1/subjects/{subject_id}/objections":                    {"admin", "operator", "service"},
	"POST /v1/subjects/{subject_id}/objections/{purpose}/override": {"admin", "operator"},
	"GET /v1/subjects/{subject_id}":                                {"admin", "operator"},
	"PATCH /v1/subjects/{subject_id}":                              {"admin", "operator", "service"},
	"POST /v1/subjects/{subject_id}/identities":                    {"admin", "operator", "service"},
	"PUT /v1/subjects/{subject_id}/restriction":                    {"admin", "operator"},
	"POST /v1/subjects/{subject_id}/consents":                      {"admin", "operator", "service"},
	"GET /v1/subjects/{subject_id}/consents":                       {"admin", "auditor", "operator", "service"},
	"GET /v1/subjects/{subject_id}/consents/{event}/receipt":       {"admin", "operator", "service"},
	"POST /v1/check":                                               {"admin", "operator", "service"},
	"PUT /v1/subjects/{subject_id}/vault/{field}":                  {"admin", "operator", "service"},
	"GET /v1/subjects/{subject_id}/vault/{field}":                  {"admin", "operator", "service"},
	"DELETE /v1/subjects/{subject_id}/vault/{field}":               {"admin", "operator", "service"},

	"GET /v1/policy":           {"admin", "auditor", "operator", "service"},
	"GET /v1/policy/versions":  {"admin", "auditor", "operator", "service"},
	"POST /v1/policy/versions": {"admin"},

	"GET /v1/audit":        {"admin", "auditor"},
	"GET /v1/audit/verify": {"admin", "auditor"},

	"GET /v1/keys":  {"admin"},
	"POST /v1/keys": {"admin"},

	"POST /v1/public/requests":                              nil,
	"POST /v1/public/requests/{id}/verify":                  nil,
	"GET /v1/public/requests/{id}":                          nil,
	"POST /v1/public/requests/{id}/withdraw":                nil,
	"GET /v1/public/requests/{id}/bundle":                   nil,
	"GET /v1/public/acknowledgements/{token}":               nil,
	"POST /v1/public/acknowledgements/{token}":              nil,
	"POST /v1/requests":                                     {"admin", "operator"},
	"GET /v1/requests":                                      {"admin", "auditor", "operator"},
	"GET /v1/requests/{id}":                                 {"admin", "auditor", "operator"},
	"GET /v1/retention/plan":                                {"admin", "auditor", "operator"},
	"GET /v1/retention/runs":                                {"admin", "auditor", "operator"},
	"GET /v1/certificates/{certificate_id}":                 {"admin", "auditor", "operator"},
	"POST /v1/requests/{id}/verify":                         {"admin", "operator"},
	"POST /v1/requests/{id}/approve":                        {"admin", "operator"},
	"POST /v1/requests/{id}/await":                          {"admin", "operator"},
	"POST /v1/requests/{id}/resume":                         {"admin", "operator"},
	"POST /v1/requests/{id}/extend":                         {"admin", "operator"},
	"POST /v1/requests/{id}/fee":                            {"admin", "operator"},
	"POST /v1/requests/{id}/fee/paid":                       {"admin", "operator"},
	"POST /v1/requests/{id}/fee/waive":                      {"admin", "operator"},
	"POST /v1/requests/{id}/transmission/retry":             {"admin", "operator"},
	"POST /v1/requests/{id}/refuse":                         {"admin", "operator"},
	"POST /v1/requests/{id}/complete":                       {"admin", "operator"},
	"GET /v1/requests/{id}/correction":                      {"admin", "operator"},
	"GET /v1/assistance":                                    {"admin", "auditor", "operator"},
	"POST /v1/assistance/{task_id}/done":                    {"admin", "operator"},
	"POST /v1/requests/{id}/withdraw":                       {"admin", "operator"},
	"POST /v1/retention/runs":                               {"admin"},
	"POST /v1/requests/{id}/recipients/{recipient}/ack":     {"admin", "operator"},
	"GET /v1/requests/{id}/recipients/{recipient}/ack-link": {"admin", "operator"},
	"POST /v1/calendar":                                     {"admin"},
	"DELETE /v1/keys/{id}":                                  {"admin"},
	// The deployment's registry: its operator's admin keys alone.
	"GET /v1/orgs":                    {"admin"},
	"POST /v1/orgs":                   {"admin"},
	"GET /v1/orgs/{org_id}":           {"admin"},
	"PUT /v1/orgs/{org_id}/hosts":     {"admin"},
	"PUT /v1/orgs/{org_id}/retention": {"admin"},
	"POST /v1/orgs/{org_id}/disable":  {"admin"},
	"POST /v1/orgs/{org_id}/enable":   {"admin"},

	// Legal holds: staff place them and ask to lift them (a second
	// operator decides on the console or the command line); auditors read.
	"GET /v1/holds":            {"admin", "auditor", "operator"},
	"POST /v1/holds":           {"admin", "operator"},
	"GET /v1/holds/{id}":       {"admin", "auditor", "operator"},
	"POST /v1/holds/{id}/lift": {"admin", "operator"},
	// Security incidents: admins act on them, staff and auditors read them.
	"GET /v1/incidents":                   {"admin", "auditor", "operator"},
	"POST /v1/incidents":                  {"admin"},
	"GET /v1/incidents/{id}":              {"admin", "auditor", "operator"},
	"POST /v1/incidents/{id}/assess":      {"admin"},
	"POST /v1/incidents/{id}/notify":      {"admin"},
	"POST /v1/incidents/{id}/close":       {"admin"},
	"GET /v1/incidents/{id}/report":       {"admin", "auditor", "operator"},
	"GET /v1/incidents/{id}/announcement": {"admin", "auditor", "operator"},

	// Cross-border transfers: the application (or an admin) reports the
	// transfers it makes; staff and auditors read the register and counts.
	"GET /v1/transfers/register": {"admin", "auditor", "operator"},
	"GET /v1/transfers/counts":   {"admin", "auditor", "operator"},
	"POST /v1/transfers":         {"admin", "service"},

	"GET /v1/public/banner":              nil,
	"OPTIONS /v1/public/banner":          nil,
	"POST /v1/public/banner/consents":    nil,
	"OPTIONS /v1/public/banner/consents": nil,
}

func sortedRoles(roles []string) []string {
	if roles == nil {
		return nil
	}
	s := slices.Clone(roles)
	slices.Sort(s)
	return s
}

// principal is one way of calling: with a role's key, or with something
// that must not authenticate (role "").
type principal struct {
	name   string
	role   string
	header map[string]string
	// malformed: an Authorization header that is not "Bearer TOKEN"
	malformed bool
}

func TestRoutesRoles(t *testing.T) {
	e := newEnv(t, slog.LevelDebug, withShop(t))
	routes := api.RouteTable()

	got := map[string][]string{}
	for _, rt := range routes {
		got[rt.Method+" "+rt.Path] = sortedRoles(rt.Roles)
	}
	if d := cmp.Diff(wantRoles, got); d != "" {
		t.Fatalf("route table roles differ from the reviewed matrix (-want +got):\n%s", d)
	}

	// A key that was valid, then revoked before it was ever used.
	revoked, err := api.CreateKey(context.Background(), e.srv.Store(), consent.Actor{ID: "cli:test", Role: "system"}, "to revoke", api.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Store().RevokeKey(context.Background(), revoked.ID, audit.Entry{At: time.Now(), Actor: "cli:test", Role: "system", Action: "key.revoke", Object: "key:" + revoked.ID, Outcome: audit.OutcomeOK, Detail: "{}"}); err != nil {
		t.Fatal(err)
	}

	principals := []principal{{name: "no key"}}
	for _, role := range api.Roles {
		principals = append(principals, principal{name: role, role: role, header: map[string]string{"Authorization": "Bearer " + e.keys[role]}})
	}
	principals = append(principals,
		principal{name: "operator via X-API-Key", role: api.RoleOperator, header: map[string]string{"X-API-Key": e.keys[api.RoleOperator]}},
		principal{name: "revoked admin key", header: map[string]string{"Authorization": "Bearer " + revoked.Secret}},
		principal{name: "malformed key", header: map[string]string{"Authorization": "Bearer not-a-custos-key"}},
		principal{name: "unknown key", header: map[string]string{"Authorization": "Bearer cus_" + strings.Repeat("A", 43)}},
		principal{name: "oversized key", header: map[string]string{"Authorization": "Bearer " + e.keys[api.RoleAdmin] + strings.Repeat("A", 100)}},
		principal{name: "bearer without token", header: map[string]string{"Authorization": "Bearer"}, malformed: true},
		principal{name: "admin key under another scheme", header: map[string]string{"Authorization": "Token " + e.keys[api.RoleAdmin]}, malformed: true},
	)

	for _, rt := range routes {
		for _, p := range principals {
			t.Run(rt.Method+" "+rt.Path+"/"+p.name, func(t *testing.T) {
				w := e.do(t, rt.Method, fillPath(rt.Path), "", bodyFor(rt.Method), p.header)
				eb := errorOf(w.Body.Bytes())
				challenge := w.Header().Get("WWW-Authenticate")
				switch {
				case rt.Roles == nil && strings.HasPrefix(rt.Path, "/v1/public/"):
					// Public request routes judge their input, never the caller's credentials.
					if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden || w.Code >= 500 || eb.Error.Code == "not_found" {
						t.Fatalf("public route: status %d code %q; body %s", w.Code, eb.Error.Code, w.Body)
					}
				case rt.Roles == nil:
					if w.Code != rt.Status {
						t.Fatalf("public route: status %d, want %d; body %s", w.Code, rt.Status, w.Body)
					}
				case p.role == "":
					if w.Code != http.StatusUnauthorized || eb.Error.Code != "unauthenticated" {
						t.Fatalf("status %d code %q, want 401 unauthenticated; body %s", w.Code, eb.Error.Code, w.Body)
					}
					if challenge != `Bearer realm="custos"` {
						t.Errorf("WWW-Authenticate = %q, want a bearer challenge", challenge)
					}
				case !slices.Contains(rt.Roles, p.role):
					if w.Code != http.StatusForbidden || eb.Error.Code != "forbidden" {
						t.Fatalf("role %s not allowed: status %d code %q, want 403 forbidden; body %s", p.role, w.Code, eb.Error.Code, w.Body)
					}
					if challenge != "" {
						t.Errorf("403 carries WWW-Authenticate %q: the key was valid", challenge)
					}
				default:
					if w.Code == http.StatusUnauthorized || w.Code == http.StatusForbidden || w.Code == http.StatusMethodNotAllowed || w.Code >= 500 {
						t.Fatalf("role %s allowed: status %d; body %s", p.role, w.Code, w.Body)
					}
					if eb.Error.Code == "not_found" {
						t.Fatalf("role %s allowed: the route did not answer (not_found)", p.role)
					}
				}
				if got := w.Header().Get("X-Content-Type-Options"); got != "nosniff" {
					t.Errorf("X-Content-Type-Options = %q, want nosniff on every answer", got)
				}
			})
		}
	}
	if strings.Contains(e.log.String(), "cus_") {
		t.Errorf("the log holds an API key secret:\n%s", e.log)
	}
}

// A public route needs no key, so an Authorization header it cannot use
// (a proxy's Basic credentials, say) must not turn it away.
func TestPublicRoutesIgnoreAuthorization(t *testing.T) {
	e := newEnv(t, slog.LevelDebug, nil)
	headers := []struct {
		name, value string
	}{
		{"bearer with a bad token", "Bearer not-a-custos-key"},
		{"bearer with a revoked-looking key", "Bearer cus_" + strings.Repeat("C", 43)},
		{"basic credentials", "Basic dXNlcjpwYXNz"},
		{"key under another scheme", "Token " + e.keys[api.RoleAdmin]},
		{"bare bearer", "Bearer"},
	}
	for _, rt := range api.RouteTable() {
		// Request routes under /v1/public judge their input; TestRoutesRoles covers them.
		if rt.Roles != nil || strings.HasPrefix(rt.Path, "/v1/public/") {
			continue
		}
		for _, h := range headers {
			t.Run(rt.Path+"/"+h.name, func(t *testing.T) {
				w := e.do(t, rt.Method, rt.Path, "", "", map[string]string{"Authorization": h.value})
				if w.Code != rt.Status {
					t.Errorf("status %d, want %d; body %s", w.Code, rt.Status, w.Body)
				}
			})
		}
	}
}

// Identities used in the scenarios. Neither their raw nor their
// normalised forms may appear in any response or in the log; the masked
// forms ("m***@example.net") may, in subject disclosures.
var rawIdentities = []string{
	"mei.zhang", "13712345678", "137 1234 5678", // s-2001 (email kept, phone not)
	"wang.fang", "13912345678", // refused as subject ids
	"nobody@example",                                     // an identity nobody registered
	"lin.wei", "13800138000", "alex.chen", "13900139000", // the demo subjects
}

// noticeHash has the shape of a notice hash: 64 lowercase hex digits.
const noticeHash = "0b7d2c0c1d57a7c6e1a1b3b0d09c0bb4c9fbb9c5b1a1a0a8c8f5c5ba4c3d2e1f"

// scenario is one HTTP exchange. Paths, bodies, header values and
// expectations may hold {name} placeholders for values saved earlier.
type scenario struct {
	name   string
	small  bool   // on the server whose body limit is 1 KiB
	as     string // a role, a saved key ("ci_secret") or "" for no key
	method string
	path   string
	body   string
	header map[string]string
	status int
	code   string            // error code, when an error is wanted
	has    []string          // the body must contain
	hasNot []string          // the body must not contain
	save   map[string]string // name → dotted JSON path in the response
	check  func(t *testing.T, e *env, vars map[string]string, body []byte)
}

func events(t *testing.T, body []byte) []consent.ConsentEvent {
	t.Helper()
	var got api.ConsentEvents
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	return got.Events
}

// ev is the part of a consent event a scenario decides.
type ev struct{ Purpose, Action, Signal string }

func wantEvents(want ...ev) func(*testing.T, *env, map[string]string, []byte) {
	return func(t *testing.T, _ *env, _ map[string]string, body []byte) {
		var got []ev
		for _, e := range events(t, body) {
			got = append(got, ev{e.Purpose, e.Action, e.Signal})
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("events (-want +got):\n%s", d)
		}
	}
}

// dec is the part of a decision a scenario decides.
type dec struct {
	Purpose string
	Allowed bool
	Reason  string
}

func wantDecisions(subject string, known bool, want ...dec) func(*testing.T, *env, map[string]string, []byte) {
	return func(t *testing.T, _ *env, _ map[string]string, body []byte) {
		var res consent.CheckResult
		if err := json.Unmarshal(body, &res); err != nil {
			t.Fatal(err)
		}
		if res.SubjectID != subject || res.KnownSubject != known {
			t.Errorf("subject %q known %v, want %q known %v", res.SubjectID, res.KnownSubject, subject, known)
		}
		var got []dec
		for _, d := range res.Decisions {
			got = append(got, dec{d.Purpose, d.Allowed, d.Reason})
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("decisions (-want +got):\n%s", d)
		}
	}
}

// subjectFieldList are the fields of POST /v1/subjects, in order.
var subjectFieldList = []string{"subject_id", "identities", "birth_date", "age_band", "guardian_id", "jurisdiction", "language"}

var subjectFields = strings.Join(subjectFieldList, ", ")

// wantError checks a whole error body but its code: message, field and
// the allowed values.
func wantError(message, field string, allowed ...string) func(*testing.T, *env, map[string]string, []byte) {
	return func(t *testing.T, _ *env, _ map[string]string, body []byte) {
		t.Helper()
		var want api.ErrorBody
		want.Error.Code = errorOf(body).Error.Code
		want.Error.Message, want.Error.Field, want.Error.Allowed = message, field, allowed
		if d := cmp.Diff(want, errorOf(body)); d != "" {
			t.Errorf("error (-want +got):\n%s", d)
		}
	}
}

func wantIdentities(want ...consent.IdentityView) func(*testing.T, *env, map[string]string, []byte) {
	return func(t *testing.T, _ *env, _ map[string]string, body []byte) {
		var v consent.SubjectView
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		got := slices.Clone(v.Identities)
		slices.SortFunc(got, func(a, b consent.IdentityView) int { return strings.Compare(a.Kind, b.Kind) })
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("identities (-want +got):\n%s", d)
		}
	}
}

// onlySubjectID checks an answer that holds the subject's id and no other
// field: what a service key, which may not read subjects, is told of one
// it wrote.
func onlySubjectID(id string) func(*testing.T, *env, map[string]string, []byte) {
	return func(t *testing.T, _ *env, _ map[string]string, body []byte) {
		t.Helper()
		var got map[string]any
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(map[string]any{"subject_id": id}, got); d != "" {
			t.Errorf("answer (-want +got):\n%s", d)
		}
	}
}

func seqs(t *testing.T, body []byte) []int64 {
	t.Helper()
	var p struct {
		Items []struct {
			Seq int64 `json:"seq"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	out := make([]int64, len(p.Items))
	for i, it := range p.Items {
		out[i] = it.Seq
	}
	return out
}

// nextPage checks a page of two that continues the one before, whose last
// sequence number was saved as prev.
func nextPage(prev string) func(*testing.T, *env, map[string]string, []byte) {
	return func(t *testing.T, _ *env, vars map[string]string, body []byte) {
		var last int64
		fmt.Sscan(vars[prev], &last)
		got := seqs(t, body)
		if len(got) != 2 || got[0] <= last || got[1] <= got[0] {
			t.Errorf("page after seq %d has seqs %v, want two ascending after it", last, got)
		}
	}
}

// wantPage checks a page of n items with a cursor to the next.
func wantPage(n int) func(*testing.T, *env, map[string]string, []byte) {
	return func(t *testing.T, _ *env, _ map[string]string, body []byte) {
		if got := seqs(t, body); len(got) != n {
			t.Errorf("page has %d items, want %d", len(got), n)
		}
	}
}

// verifyReceipt checks a receipt answer against the published keys, and
// that a token altered in transit is refused.
func verifyReceipt(subject string) func(*testing.T, *env, map[string]string, []byte) {
	return func(t *testing.T, e *env, _ map[string]string, body []byte) {
		var rc api.Receipt
		if err := json.Unmarshal(body, &rc); err != nil {
			t.Fatal(err)
		}
		w := e.do(t, "GET", rc.KeysURL, "", "", nil)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/jwk-set+json" {
			t.Fatalf("GET %s: %d %q", rc.KeysURL, w.Code, w.Header().Get("Content-Type"))
		}
		jwks := w.Body.Bytes()
		r, err := receipt.Verify(jwks, rc.Receipt)
		if err != nil {
			t.Fatalf("the receipt does not verify against %s: %v", rc.KeysURL, err)
		}
		if r.PIIPrincipalID != subject || r.CollectionMethod != "banner" || r.Language != "en" || r.ConsentReceiptID == "" {
			t.Errorf("receipt principal %q method %q language %q id %q, want %s, banner, en and an id",
				r.PIIPrincipalID, r.CollectionMethod, r.Language, r.ConsentReceiptID, subject)
		}
		payload, _ := json.Marshal(r)
		for _, raw := range rawIdentities {
			if strings.Contains(strings.ToLower(string(payload)), raw) {
				t.Errorf("the receipt carries %q", raw)
			}
		}
		parts := strings.Split(rc.Receipt, ".")
		if len(parts) != 3 {
			t.Fatalf("receipt is not a compact JWS: %d parts", len(parts))
		}
		claims, _ := json.Marshal(map[string]string{"piiPrincipalId": "someone-else"})
		forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString(claims) + "." + parts[2]
		if _, err := receipt.Verify(jwks, forged); !errors.Is(err, receipt.ErrSignature) {
			t.Errorf("Verify(altered token) = %v, want ErrSignature", err)
		}
	}
}

func TestScenarios(t *testing.T) {
	e := newEnv(t, slog.LevelDebug, nil)
	small := newEnv(t, slog.LevelDebug, func(c *config.Config) { c.MaxBodyBytes = 1024 })
	newSubject := `{"subject_id":"s-2001","identities":[{"kind":"email","value":"mei.zhang@example.net","keep":true},{"kind":"phone","value":"137 1234 5678"}],"age_band":"adult"}`
	grant := func(purposes string, separate bool) string {
		return `{"grant":[` + purposes + `],"method":"banner","language":"en","notice_hash":"` + noticeHash + `","separate":` + fmt.Sprint(separate) + `}`
	}
	checkBody := func(subject string) string {
		return `{"subject_id":"` + subject + `","purposes":["analytics","advertising","push_notifications","note_sync","telepathy"]}`
	}
	big := `{"subject_id":"s-2009","identities":[` + strings.Repeat(`{"kind":"device_id","value":"abcdef0123456789"},`, 40) + `{"kind":"device_id","value":"x"}]}`

	scenarios := []scenario{
		// Subjects.
		// A service key may register and change subjects but not read them:
		// what it writes is answered with the subject's id alone.
		{name: "create subject with email and phone", as: "service", method: "POST", path: "/v1/subjects", body: newSubject,
			status: 201, check: onlySubjectID("s-2001")},
		{name: "an operator registering a subject is shown it", as: "operator", method: "POST", path: "/v1/subjects",
			body:   `{"subject_id":"s-2011","identities":[{"kind":"device_id","value":"dev-2011"}],"age_band":"adult","language":"en"}`,
			status: 201, has: []string{`"subject_id":"s-2011"`, `"age_band":"adult"`, `"language":"en"`, `"minor":false`}, hasNot: []string{`"masked"`, "dev-2011"},
			check: wantIdentities(consent.IdentityView{Kind: "device_id"})},
		{name: "same identity under another id", as: "service", method: "POST", path: "/v1/subjects",
			body:   `{"subject_id":"s-2002","identities":[{"kind":"email","value":" Mei.Zhang@Example.NET "}]}`,
			status: 409, code: "subject_conflict", hasNot: []string{"email", "s-2002"}, save: map[string]string{"conflict_msg": "error.message"}},
		{name: "same id again", as: "operator", method: "POST", path: "/v1/subjects", body: `{"subject_id":"s-2001"}`,
			status: 409, code: "subject_conflict",
			check: func(t *testing.T, _ *env, vars map[string]string, body []byte) {
				if got := errorOf(body).Error.Message; got != vars["conflict_msg"] {
					t.Errorf("message %q differs from the identity conflict's %q: it tells which collided", got, vars["conflict_msg"])
				}
			}},
		{name: "subject id that is an email", as: "service", method: "POST", path: "/v1/subjects", body: `{"subject_id":"wang.fang@example.com"}`,
			status: 422, code: "subject_id_is_pi", has: []string{`"field":"subject_id"`}},
		{name: "subject id that is a mobile number", as: "service", method: "POST", path: "/v1/subjects", body: `{"subject_id":"13912345678"}`,
			status: 422, code: "subject_id_is_pi"},
		{name: "email as a subject id in the path", as: "operator", method: "GET", path: "/v1/subjects/wang.fang@example.com?purpose=support",
			status: 422, code: "subject_id_is_pi"},
		{name: "unknown jurisdiction", as: "service", method: "POST", path: "/v1/subjects", body: `{"subject_id":"s-2003","jurisdiction":"US"}`,
			status: 422, code: "unknown_jurisdiction",
			check: wantError(`jurisdiction "US" is not in the policy in force: want one of CN, EU`, "jurisdiction", "CN", "EU")},
		{name: "unsupported language", as: "service", method: "POST", path: "/v1/subjects", body: `{"subject_id":"s-2003","language":"fr"}`,
			status: 422, code: "invalid_language",
			check: wantError(`language is unsupported: want one of zh-CN, en`, "language", "zh-CN", "en")},
		{name: "invalid identity is not quoted", as: "service", method: "POST", path: "/v1/subjects",
			body: `{"subject_id":"s-2003","identities":[{"kind":"email","value":"mei.zhang at example.net"}]}`, status: 422, code: "invalid_identity"},
		{name: "identity of another subject", as: "service", method: "POST", path: "/v1/subjects/s-2001/identities",
			body: `{"identities":[{"kind":"email","value":"alex.chen@example.org"}]}`, status: 409, code: "identity_conflict"},
		{name: "unknown subject", as: "operator", method: "GET", path: "/v1/subjects/nobody-9?purpose=support", status: 404, code: "subject_not_found"},
		{name: "disclosure shows kept identities masked", as: "operator", method: "GET", path: "/v1/subjects/s-2001?purpose=support_ticket",
			status: 200, has: []string{`"masked":"m***@example.net"`},
			check: wantIdentities(consent.IdentityView{Kind: "email", Masked: "m***@example.net"}, consent.IdentityView{Kind: "phone"})},
		{name: "disclosure of a demo subject", as: "admin", method: "GET", path: "/v1/subjects/demo-1001?purpose=access_request",
			status: 200, check: wantIdentities(consent.IdentityView{Kind: "email", Masked: "l***@example.com"}, consent.IdentityView{Kind: "phone", Masked: "+86138****8000"})},
		{name: "patch age band", as: "service", method: "PATCH", path: "/v1/subjects/s-2001", body: `{"age_band":"18_24"}`,
			status: 200, check: onlySubjectID("s-2001")},
		{name: "an empty patch tells a service key nothing of the subject", as: "service", method: "PATCH", path: "/v1/subjects/s-2001", body: `{}`,
			status: 200, hasNot: []string{"18_24", `"identities"`, `"minor"`}, check: onlySubjectID("s-2001")},
		{name: "adding identities tells a service key nothing of the subject", as: "service", method: "POST", path: "/v1/subjects/s-2001/identities",
			body: `{"identities":[{"kind":"device_id","value":"dev-2001"}]}`, status: 200, hasNot: []string{`"kind"`, "dev-2001"}, check: onlySubjectID("s-2001")},
		{name: "an operator's patch shows the subject", as: "operator", method: "PATCH", path: "/v1/subjects/s-2001", body: `{}`,
			status: 200, has: []string{`"age_band":"18_24"`}, hasNot: []string{`"masked"`},
			check: wantIdentities(consent.IdentityView{Kind: "device_id"}, consent.IdentityView{Kind: "email"}, consent.IdentityView{Kind: "phone"})},
		{name: "an admin adding identities is shown the subject", as: "admin", method: "POST", path: "/v1/subjects/s-2011/identities",
			body: `{"identities":[{"kind":"user_id","value":"u-2011"}]}`, status: 200, has: []string{`"subject_id":"s-2011"`, `"age_band":"adult"`},
			check: wantIdentities(consent.IdentityView{Kind: "device_id"}, consent.IdentityView{Kind: "user_id"})},

		// Consent.
		{name: "grant", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents", body: grant(`"analytics"`, false),
			status: 201, has: []string{`"policy_version":"3.0"`, `"notice_hash":"` + noticeHash + `"`, `"separate":false`}, hasNot: []string{`"signal"`},
			save:  map[string]string{"grant_event": "events.0.id"},
			check: wantEvents(ev{"analytics", "grant", ""})},
		{name: "providing data to a partner needs its own separate consent", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents", body: grant(`"recipient:ad-measurement"`, false),
			status: 422, code: "separate_consent_required", has: []string{`"field":"separate"`}},
		{name: "one separate grant cannot cover a purpose and a recipient", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents", body: grant(`"advertising","recipient:ad-measurement"`, true),
			status: 422, code: "separate_grant_multiple"},
		{name: "the purpose's own consent", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents", body: grant(`"advertising"`, false),
			status: 201, check: wantEvents(ev{"advertising", "grant", ""})},
		{name: "separate grant", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents", body: grant(`"recipient:ad-measurement"`, true),
			status: 201, has: []string{`"separate":true`, `"recipient":"ad-measurement"`}},
		{name: "withdraw", as: "operator", method: "POST", path: "/v1/subjects/s-2001/consents",
			body:   `{"withdraw":["analytics"],"method":"app_dialog","language":"zh-CN"}`,
			status: 201, check: wantEvents(ev{"analytics", "withdraw", ""})},
		{name: "consent for a contract purpose", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents", body: grant(`"note_sync"`, false),
			status: 422, code: "consent_not_applicable", has: []string{`"field":"grant"`}},
		{name: "unknown purpose", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents", body: grant(`"telepathy"`, false),
			status: 422, code: "unknown_purpose",
			// What the subject may grant: purposes on consent and acts with a separate consent, not a contract's purposes.
			has:    []string{`"field":"grant"`, `purpose \"telepathy\" is not in policy version 3.0: want one of `, `"allowed":["`, `"analytics"`, `"recipient:ad-measurement"`},
			hasNot: []string{`"note_sync"`}},
		{name: "grant without notice hash", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents",
			body: `{"grant":["analytics"],"method":"banner","language":"en"}`, status: 422, code: "notice_hash_required", has: []string{`"field":"notice_hash"`}},
		{name: "separate consent asked together", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents", body: grant(`"location_tagging"`, false),
			status: 422, code: "separate_consent_required"},
		{name: "consent for an unknown subject", as: "service", method: "POST", path: "/v1/subjects/nobody-9/consents", body: grant(`"analytics"`, false),
			status: 404, code: "subject_not_found"},
		// The starter manifest marks only advertising (targeted_advertising,
		// sharing) for browser signals, and honours both GPC and DNT.
		{name: "Sec-GPC withdraws the signal purposes whatever was asked", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents",
			body: grant(`"advertising","push_notifications"`, true), header: map[string]string{"Sec-GPC": "1"},
			status: 201, has: []string{`"signal":"gpc"`},
			check: wantEvents(ev{"push_notifications", "grant", ""}, ev{"advertising", "withdraw", "gpc"})},
		{name: "check by subject id", as: "service", method: "POST", path: "/v1/check", body: checkBody("s-2001"),
			status: 200, check: wantDecisions("s-2001", true,
				dec{"analytics", false, "withdrawn"}, dec{"advertising", false, "withdrawn"}, dec{"push_notifications", true, "consent"},
				dec{"note_sync", true, "legal_basis:contract"}, dec{"telepathy", false, "unknown_purpose"})},
		{name: "check by email identity", as: "service", method: "POST", path: "/v1/check",
			body:   `{"identity":{"kind":"email","value":"MEI.ZHANG@example.net"},"purposes":["advertising","push_notifications"]}`,
			status: 200, check: wantDecisions("s-2001", true, dec{"advertising", false, "withdrawn"}, dec{"push_notifications", true, "consent"})},
		{name: "check by phone identity", as: "operator", method: "POST", path: "/v1/check",
			body:   `{"identity":{"kind":"phone","value":"+86 137-1234-5678"},"purposes":["push_notifications"]}`,
			status: 200, check: wantDecisions("s-2001", true, dec{"push_notifications", true, "consent"})},
		{name: "check an identity nobody registered", as: "service", method: "POST", path: "/v1/check",
			body:   `{"identity":{"kind":"email","value":"nobody@example.net"},"purposes":["push_notifications","note_sync"]}`,
			status: 200, hasNot: []string{`"subject_id"`},
			check: wantDecisions("", false, dec{"push_notifications", false, "no_consent"}, dec{"note_sync", true, "legal_basis:contract"})},
		{name: "check names the subject twice", as: "service", method: "POST", path: "/v1/check",
			body: `{"subject_id":"s-2001","identity":{"kind":"email","value":"mei.zhang@example.net"},"purposes":["analytics"]}`, status: 422, code: "invalid_subject"},
		{name: "Sec-GPC alone records the withdrawal", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents",
			body: `{"method":"banner","language":"en"}`, header: map[string]string{"Sec-GPC": "1"},
			status: 201, check: wantEvents(ev{"advertising", "withdraw", "gpc"})},
		{name: "Sec-GPC 0 is no signal", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents",
			body: grant(`"advertising"`, true), header: map[string]string{"Sec-GPC": "0"},
			status: 201, hasNot: []string{`"signal"`}, check: wantEvents(ev{"advertising", "grant", ""})},
		{name: "DNT withdraws too", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents",
			body: `{"method":"banner","language":"en"}`, header: map[string]string{"DNT": "1"},
			status: 201, check: wantEvents(ev{"advertising", "withdraw", "dnt"}, ev{"analytics", "withdraw", "dnt"})},
		{name: "GPC and DNT together record GPC", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents",
			body: `{"withdraw":["marketing"],"method":"banner","language":"en"}`, header: map[string]string{"DNT": "1", "Sec-GPC": "1"},
			status: 201, check: wantEvents(ev{"advertising", "withdraw", "gpc"}, ev{"marketing", "withdraw", ""})},
		{name: "no purposes and no signal", as: "service", method: "POST", path: "/v1/subjects/s-2001/consents",
			body: `{"method":"banner","language":"en"}`, status: 422, code: "nothing_to_record"},
		{name: "restrict processing", as: "operator", method: "PUT", path: "/v1/subjects/s-2001/restriction",
			body: `{"restricted":true,"reason":"accuracy disputed"}`, status: 200, has: []string{`"restricted":true`}},
		{name: "an empty restriction body lifts nothing", as: "admin", method: "PUT", path: "/v1/subjects/s-2001/restriction",
			body: `{}`, status: 422, code: "restricted_required", has: []string{`"field":"restricted"`}},
		{name: "a restriction body without its reason", as: "admin", method: "PUT", path: "/v1/subjects/s-2001/restriction",
			body: `{"restricted":false}`, status: 422, code: "reason_required", has: []string{`"field":"reason"`}},
		{name: "a restriction body with an empty reason", as: "admin", method: "PUT", path: "/v1/subjects/s-2001/restriction",
			body: `{"restricted":false,"reason":" "}`, status: 422, code: "reason_required", has: []string{`"field":"reason"`}},
		{name: "a restriction body naming neither", as: "admin", method: "PUT", path: "/v1/subjects/s-2001/restriction",
			body: `{"reason":"resolved"}`, status: 422, code: "restricted_required", has: []string{`"field":"restricted"`}},
		{name: "a restricted subject is denied", as: "service", method: "POST", path: "/v1/check",
			body:   `{"subject_id":"s-2001","purposes":["advertising","push_notifications"]}`,
			status: 200, check: wantDecisions("s-2001", true, dec{"advertising", false, "restricted"}, dec{"push_notifications", false, "restricted"})},
		{name: "lift the restriction", as: "admin", method: "PUT", path: "/v1/subjects/s-2001/restriction",
			body: `{"restricted":false,"reason":"accuracy confirmed"}`, status: 200, has: []string{`"restricted":false`}},
		{name: "history page 1", as: "auditor", method: "GET", path: "/v1/subjects/s-2001/consents?limit=2",
			status: 200, has: []string{`"next_cursor":`}, save: map[string]string{"consent_cursor": "next_cursor", "consent_last": "items.1.seq"},
			check: wantPage(2)},
		{name: "history page 2", as: "auditor", method: "GET", path: "/v1/subjects/s-2001/consents?limit=2&cursor={consent_cursor}",
			status: 200, check: nextPage("consent_last")},
		{name: "receipt", as: "service", method: "GET", path: "/v1/subjects/s-2001/consents/{grant_event}/receipt",
			status: 200, has: []string{`"keys_url":"/v1/keys/receipts"`}, check: verifyReceipt("s-2001")},
		{name: "receipt of another subject's event", as: "service", method: "GET", path: "/v1/subjects/demo-1001/consents/{grant_event}/receipt",
			status: 404, code: "event_not_found"},

		// Policy.
		{name: "policy in force", as: "auditor", method: "GET", path: "/v1/policy",
			status: 200, has: []string{`"version":"3.0"`, `"in_force":true`, `"reconsent":[]`}},
		{name: "policy versions", as: "service", method: "GET", path: "/v1/policy/versions",
			status: 200, has: []string{`"version":"3.0"`, `"in_force":true`},
			check: func(t *testing.T, _ *env, _ map[string]string, body []byte) {
				var got struct{ Versions []api.PolicyVersion }
				json.Unmarshal(body, &got)
				if len(got.Versions) != 1 || got.Versions[0].Version != "3.0" || !got.Versions[0].InForce {
					t.Errorf("versions %+v, want only 3.0, in force", got.Versions)
				}
			}},
		{name: "publish the manifest in force again", as: "admin", method: "POST", path: "/v1/policy/versions", body: string(examples.Starter),
			status: 200, has: []string{`"version":"3.0"`, `"created":false`}},
		{name: "publish a broken manifest", as: "admin", method: "POST", path: "/v1/policy/versions", body: "custos: 1\npolicy: [\n", status: 422, code: "invalid_manifest"},

		// Audit.
		{name: "audit page 1", as: "auditor", method: "GET", path: "/v1/audit?limit=2",
			status: 200, has: []string{`"next_cursor":`}, save: map[string]string{"audit_cursor": "next_cursor", "audit_last": "items.1.seq"},
			check: wantPage(2)},
		{name: "audit page 2", as: "auditor", method: "GET", path: "/v1/audit?limit=2&cursor={audit_cursor}", status: 200, check: nextPage("audit_last")},
		{name: "audit records disclosures with their purpose", as: "admin", method: "GET", path: "/v1/audit?limit=1000",
			status: 200, has: []string{`"action":"subject.read"`, `"purpose":"support_ticket"`, `"action":"consent.rejected"`, `"action":"consent.withdraw"`}},
		{name: "audit cursor not ours", as: "auditor", method: "GET", path: "/v1/audit?cursor=bm90LWEtY3Vyc29y", status: 400, code: "invalid_cursor"},
		{name: "audit limit out of range", as: "auditor", method: "GET", path: "/v1/audit?limit=0", status: 400, code: "invalid_limit"},
		{name: "audit since not a time", as: "auditor", method: "GET", path: "/v1/audit?since=yesterday", status: 400, code: "invalid_since"},
		{name: "audit chain verifies", as: "auditor", method: "GET", path: "/v1/audit/verify", status: 200, has: []string{`"ok":true`},
			check: func(t *testing.T, _ *env, _ map[string]string, body []byte) {
				var rep audit.Report
				json.Unmarshal(body, &rep)
				if !rep.OK || rep.Entries < 10 || len(rep.Problems) != 0 {
					t.Errorf("report %+v, want ok over every entry so far", rep)
				}
			}},

		// Keys.
		{name: "create a key", as: "admin", method: "POST", path: "/v1/keys", body: `{"name":"ci deploy","role":"service"}`,
			status: 201, has: []string{`"secret":"cus_`, `"role":"service"`, `"name":"ci deploy"`}, hasNot: []string{`"revoked_at"`},
			save: map[string]string{"ci_secret": "secret", "ci_id": "id"}},
		{name: "list keys never shows a secret", as: "admin", method: "GET", path: "/v1/keys",
			status: 200, has: []string{`"id":"{ci_id}"`, `"name":"ci deploy"`}, hasNot: []string{"{ci_secret}", `"secret"`, "cus_", `"hash"`}},
		{name: "the new key works", as: "ci_secret", method: "POST", path: "/v1/check", body: `{"subject_id":"demo-1001","purposes":["analytics"]}`, status: 200},
		{name: "revoke it", as: "admin", method: "DELETE", path: "/v1/keys/{ci_id}", status: 200, has: []string{`"id":"{ci_id}"`, `"revoked_at":`}, hasNot: []string{"cus_"}},
		{name: "a revoked key is refused at once", as: "ci_secret", method: "POST", path: "/v1/check", body: `{"subject_id":"demo-1001","purposes":["analytics"]}`,
			status: 401, code: "unauthenticated"},
		{name: "revoke an unknown key", as: "admin", method: "DELETE", path: "/v1/keys/k_000000000000", status: 404, code: "key_not_found"},
		{name: "key with an unknown role", as: "admin", method: "POST", path: "/v1/keys", body: `{"name":"x","role":"root"}`, status: 422, code: "invalid_role",
			check: wantError("role is missing or unknown: want one of admin, operator, auditor, service", "role", "admin", "operator", "auditor", "service")},
		{name: "lower-case bearer scheme", as: "", method: "GET", path: "/v1/policy", header: map[string]string{"Authorization": "bearer {auditor}"}, status: 200},

		// Rights requests name what the manifest offers.
		{name: "a request type the policy does not offer", as: "operator", method: "POST", path: "/v1/requests",
			body:   `{"type":"telepathy","language":"en","jurisdiction":"CN","subject_id":"demo-1001","verification":"operator","evidence":"ticket 7"}`,
			status: 422, code: "right_not_offered", has: []string{`"field":"type"`, `in this jurisdiction: want one of access, `, `"allowed":["access",`}},
		{name: "a request in an unknown jurisdiction", as: "operator", method: "POST", path: "/v1/requests",
			body:   `{"type":"access","language":"en","jurisdiction":"US","subject_id":"demo-1001","verification":"operator","evidence":"ticket 7"}`,
			status: 422, code: "unknown_jurisdiction", check: wantError(`jurisdiction "US" is not in the policy in force: want one of CN, EU`, "jurisdiction", "CN", "EU")},

		// Legal holds.
		{name: "place a hold on a subject", as: "operator", method: "POST", path: "/v1/holds",
			body:   `{"scope":{"subject_id":"demo-1001","category":"basic"},"reason":"labour arbitration","authority":"(2026) arb 77","expires":"2099-01-01T00:00:00Z"}`,
			status: 201, has: []string{`"subject_id":"demo-1001"`, `"category":"basic"`, `"reason":"labour arbitration"`, `"authority":"(2026) arb 77"`},
			hasNot: []string{`"lifted_at"`}, save: map[string]string{"hold_id": "id"}},
		{name: "a hold without a scope", as: "admin", method: "POST", path: "/v1/holds", body: `{"scope":{},"reason":"r","authority":"a"}`,
			status: 422, code: "scope_required", has: []string{`"field":"scope"`}},
		{name: "a hold on an email address", as: "admin", method: "POST", path: "/v1/holds", body: `{"scope":{"subject_id":"li.na@example.com"},"reason":"r","authority":"a"}`,
			status: 422, code: "subject_id_is_pi", hasNot: []string{"li.na"}},
		{name: "a hold whose basis the policy lacks", as: "admin", method: "POST", path: "/v1/holds", body: `{"scope":{"datastore":"crm"},"reason":"r","authority":"a","basis":"whim"}`,
			status: 422, code: "invalid_legal_hold", has: []string{`"field":"basis"`}, hasNot: []string{"whim"}},
		{name: "an auditor cannot place a hold", as: "auditor", method: "POST", path: "/v1/holds", body: `{"scope":{"datastore":"crm"},"reason":"r","authority":"a"}`,
			status: 403, code: "forbidden"},
		{name: "an auditor reads the hold", as: "auditor", method: "GET", path: "/v1/holds/{hold_id}", status: 200, has: []string{`"id":"{hold_id}"`, `"placed_by":"`}},
		{name: "active holds", as: "auditor", method: "GET", path: "/v1/holds", status: 200, has: []string{`"holds":[`, `"id":"{hold_id}"`}},
		{name: "holds listed with a bad flag", as: "auditor", method: "GET", path: "/v1/holds?all=yes", status: 400, code: "invalid_query"},
		{name: "an unknown hold", as: "operator", method: "GET", path: "/v1/holds/hl_none", status: 404, code: "hold_not_found"},
		{name: "ask to lift without a reason", as: "operator", method: "POST", path: "/v1/holds/{hold_id}/lift", body: `{}`, status: 422, code: "reason_required"},
		{name: "ask to lift the hold", as: "operator", method: "POST", path: "/v1/holds/{hold_id}/lift", body: `{"reason":"award made"}`,
			status: 202, has: []string{`"hold":"{hold_id}"`, `"approval":"ap_`, `"state":"pending"`}},
		{name: "ask to lift it twice", as: "admin", method: "POST", path: "/v1/holds/{hold_id}/lift", body: `{"reason":"award made"}`,
			status: 409, code: "hold_lift_pending"},
		{name: "the hold holds until a second operator decides", as: "operator", method: "GET", path: "/v1/holds/{hold_id}", status: 200, hasNot: []string{`"lifted_at"`}},

		// Malformed requests.
		{name: "bad JSON", as: "service", method: "POST", path: "/v1/subjects", body: `{"subject_id":`, status: 400, code: "invalid_json"},
		{name: "bad JSON around an identity", as: "service", method: "POST", path: "/v1/subjects",
			body: `{"subject_id":"s-2004","identities":[{"kind":"email","value":"mei.zhang@example.net"]}`, status: 400, code: "invalid_json"},
		{name: "wrong type", as: "service", method: "POST", path: "/v1/subjects", body: `{"subject_id":2004}`, status: 400, code: "invalid_json", has: []string{`"field":"subject_id"`}},
		{name: "trailing data", as: "service", method: "POST", path: "/v1/subjects", body: `{"subject_id":"s-2005"} {"subject_id":"s-2006"}`, status: 400, code: "invalid_json"},
		{name: "unknown field", as: "service", method: "POST", path: "/v1/subjects", body: `{"subject_id":"s-2004","mail":"mei.zhang@example.net"}`,
			status: 400, code: "unknown_field", hasNot: []string{"mei.zhang"},
			check: wantError(`unknown field "mail" in the request body: want one of `+subjectFields, "mail", subjectFieldList...)},
		{name: "the old name of the subject id", as: "service", method: "POST", path: "/v1/subjects", body: `{"id":"s-2004"}`,
			status: 400, code: "unknown_field",
			check: wantError(`unknown field "id" in the request body (did you mean "subject_id"?): want one of `+subjectFields, "id", subjectFieldList...)},
		{name: "a misspelt field", as: "service", method: "POST", path: "/v1/check", body: `{"subject_idd":"demo-1001","purposes":["analytics"]}`,
			status: 400, code: "unknown_field",
			check: wantError(`unknown field "subject_idd" in the request body (did you mean "subject_id"?): want one of subject_id, identity, purposes, recipient, transfer, disclosure`,
				"subject_idd", "subject_id", "identity", "purposes", "recipient", "transfer", "disclosure")},
		{name: "a misspelt field inside an identity", as: "service", method: "POST", path: "/v1/subjects",
			body: `{"subject_id":"s-2004","identities":[{"kind":"email","valeu":"mei.zhang@example.net"}]}`, status: 400, code: "unknown_field", hasNot: []string{"mei.zhang"},
			check: wantError(`unknown field "valeu" in the request body (did you mean "value"?)`, "valeu")},
		{name: "a field name that is personal information is not echoed", as: "service", method: "POST", path: "/v1/subjects",
			body: `{"subject_id":"s-2004","mei.zhang@example.net":true}`, status: 400, code: "unknown_field", hasNot: []string{"mei.zhang", `"field"`},
			check: wantError("the request body has a field this route does not take", "")},
		{name: "body over the limit", small: true, as: "service", method: "POST", path: "/v1/subjects", body: big,
			status: 413, code: "body_too_large", has: []string{"1024"}},
		{name: "manifest over the limit", small: true, as: "admin", method: "POST", path: "/v1/policy/versions", body: string(examples.Starter),
			status: 413, code: "body_too_large"},
		{name: "body under the limit", small: true, as: "service", method: "POST", path: "/v1/subjects", body: `{"subject_id":"s-2010"}`, status: 201},
		{name: "unknown route", method: "GET", path: "/v1/nope", status: 404, code: "not_found"},
		{name: "unknown route with a key", as: "admin", method: "GET", path: "/v2/subjects", status: 404, code: "not_found"},
		{name: "known path, other method", as: "admin", method: "DELETE", path: "/v1/policy", status: 404, code: "not_found"},
	}

	vars := map[string]string{}
	for role, k := range e.keys {
		vars[role] = k
	}
	fill := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			on := e
			if sc.small {
				on = small
			}
			key := on.keys[sc.as]
			if key == "" && sc.as != "" {
				key = vars[sc.as]
			}
			header := map[string]string{}
			for k, v := range sc.header {
				header[k] = fill(v)
			}
			w := on.do(t, sc.method, fill(sc.path), key, fill(sc.body), header)
			body := w.Body.Bytes()
			if w.Code != sc.status {
				t.Fatalf("status %d, want %d; body %s", w.Code, sc.status, body)
			}
			if got := errorOf(body).Error.Code; got != sc.code {
				t.Errorf("error code %q, want %q; body %s", got, sc.code, body)
			}
			if w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") == "" {
				t.Errorf("a 429 without Retry-After")
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			for _, s := range sc.has {
				if s = fill(s); !strings.Contains(string(body), s) {
					t.Errorf("body lacks %q:\n%s", s, body)
				}
			}
			for _, s := range append(slices.Clone(sc.hasNot), rawIdentities...) {
				if s = fill(s); strings.Contains(strings.ToLower(string(body)), strings.ToLower(s)) {
					t.Errorf("body contains %q:\n%s", s, body)
				}
			}
			for name, path := range sc.save {
				v, ok := jsonAt(body, path)
				if !ok || v == "" {
					t.Fatalf("no %s at %q in %s", name, path, body)
				}
				vars[name] = v
			}
			if sc.check != nil {
				sc.check(t, on, vars, body)
			}
		})
	}

	t.Run("no identity in any response or log", func(t *testing.T) {
		logs := e.log.String() + small.log.String()
		bodies := append(slices.Clone(e.bodies), small.bodies...)
		for _, raw := range rawIdentities {
			if strings.Contains(strings.ToLower(logs), raw) {
				t.Errorf("the log contains %q", raw)
			}
			for _, b := range bodies {
				if strings.Contains(strings.ToLower(b), raw) {
					t.Errorf("a response contains %q: %s", raw, b)
				}
			}
		}
		if strings.Contains(logs, "cus_") {
			t.Errorf("the log contains an API key secret")
		}
		if strings.Contains(logs, "level=ERROR") {
			t.Errorf("the scenarios logged errors:\n%s", logs)
		}
		// The new key's secret was shown once, in the answer that created it.
		shown := 0
		for _, b := range bodies {
			shown += strings.Count(b, vars["ci_secret"])
		}
		if vars["ci_secret"] == "" || shown != 1 {
			t.Errorf("the created key's secret appears %d times in responses, want once", shown)
		}
		// Requests are logged by route pattern, status and key id.
		for _, want := range []string{"route=/v1/subjects/{subject_id}/consents", "status=201", "key=" + e.keyIDs[api.RoleService]} {
			if !strings.Contains(logs, want) {
				t.Errorf("the request log lacks %q", want)
			}
		}
	})
}

// With the database gone, an answer says "internal error" and nothing
// else: driver messages can quote stored values. The cause goes to the log.
func TestInternalErrorsHidden(t *testing.T) {
	e := newEnv(t, slog.LevelDebug, nil)
	calls := []struct {
		name, as, method, path, body string
	}{
		{"read through the store", "admin", "GET", "/v1/keys", ""},
		{"audit trail", "auditor", "GET", "/v1/audit", ""},
		{"audit verify", "auditor", "GET", "/v1/audit/verify", ""},
		{"write through the queue", "service", "POST", "/v1/subjects", `{"subject_id":"s-3001","identities":[{"kind":"email","value":"mei.zhang@example.net"}]}`},
		{"consent write", "operator", "POST", "/v1/subjects/demo-1002/consents", `{"withdraw":["analytics"],"method":"api","language":"en"}`},
		{"check an uncached subject", "service", "POST", "/v1/check", `{"subject_id":"demo-1003","purposes":["analytics"]}`},
		{"check an uncached identity", "service", "POST", "/v1/check", `{"identity":{"kind":"phone","value":"13712345678"},"purposes":["analytics"]}`},
	}
	// Use every key once, so that authentication is answered from the key
	// cache and the calls reach their handlers.
	for _, role := range api.Roles {
		if w := e.do(t, "GET", "/v1/policy", e.keys[role], "", nil); w.Code != http.StatusOK {
			t.Fatalf("warm-up as %s: %d %s", role, w.Code, w.Body)
		}
	}
	if err := e.srv.Store().Close(); err != nil {
		t.Fatal(err)
	}
	want := "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}\n"
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			// Bounded: a write queued after Close is never answered (see
			// the next subtest); the deadline ends it as a client would.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			w := e.doContext(t, ctx, c.method, c.path, e.keys[c.as], c.body, nil)
			if w.Code != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500; body %s", w.Code, w.Body)
			}
			if d := cmp.Diff(want, w.Body.String()); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
		})
	}
	t.Run("a write after close fails at once", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for i := range 20 {
			w := e.doContext(t, ctx, "POST", "/v1/subjects", e.keys[api.RoleService], fmt.Sprintf(`{"subject_id":"s-31%02d"}`, i), nil)
			if ctx.Err() != nil {
				t.Fatalf("write %d after close waited for its deadline (status %d)", i, w.Code)
			}
		}
	})
	t.Run("an uncached key cannot be checked", func(t *testing.T) {
		k := "cus_" + strings.Repeat("B", 43)
		w := e.do(t, "GET", "/v1/policy", k, "", nil)
		if w.Code != http.StatusInternalServerError || w.Body.String() != want {
			t.Errorf("status %d body %s, want 500 internal", w.Code, w.Body)
		}
	})
	t.Run("readiness says the database is down", func(t *testing.T) {
		w := e.do(t, "GET", "/readyz", "", "", nil)
		if w.Code != http.StatusServiceUnavailable || errorOf(w.Body.Bytes()).Error.Code != "not_ready" {
			t.Errorf("status %d body %s, want 503 not_ready", w.Code, w.Body)
		}
	})
	logs := e.log.String()
	for _, want := range []string{`level=ERROR msg="internal error" route=/v1/keys op=listKeys err=`, "op=createSubject", "op=check", "status=500"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
	for _, raw := range rawIdentities {
		if strings.Contains(strings.ToLower(logs), raw) {
			t.Errorf("the log contains %q", raw)
		}
	}
}

func BenchmarkCheckHTTP(b *testing.B) {
	e := newEnv(b, slog.LevelError, nil)
	auth := "Bearer " + e.keys[api.RoleService]
	body := `{"subject_id":"demo-1001","purposes":["analytics","advertising","note_sync"]}`
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", "/v1/check", strings.NewReader(body))
			r.Header.Set("Authorization", auth)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Errorf("status %d: %s", w.Code, w.Body)
				return
			}
		}
	})
}
