package server_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// The decision model, example by example: each example manifest runs as its
// organisation would run it, and a table of people (ages, jurisdictions,
// guardians) and prior events (consents, objections, signals, acceptances)
// gives the expected answer of /v1/check for each purpose and act. Every
// case the model was built for is here, and each step goes through the JSON
// API.

// example is a server running one example manifest on SQLite, on a clock
// the test moves.
type example struct {
	t     *testing.T
	h     http.Handler
	srv   *server.Server
	clock *clocktest.Clock
	keys  map[string]string // role → secret
	log   *lockedBuffer
}

func startExample(t *testing.T, name string) *example {
	t.Helper()
	return startManifest(t, filepath.Join("..", "..", "examples", name, "custos.yaml"))
}

// startManifest is startExample with the manifest at path.
func startManifest(t *testing.T, path string) *example {
	t.Helper()
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CUSTOS_DB":          filepath.Join(dir, "custos.db"),
		"CUSTOS_MANIFEST":    path,
		"CUSTOS_SECRETS_DIR": filepath.Join(dir, "secrets"),
		"CUSTOS_NOTIFY_DIR":  filepath.Join(dir, "outbox"),
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), env["CUSTOS_DB"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	logs := &lockedBuffer{}
	clk := clocktest.New(time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC))
	srv, err := server.New(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), server.WithClock(clk.Now))
	if err != nil {
		t.Fatalf("server for %s: %v", path, err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &example{t: t, h: srv.Handler(), srv: srv, clock: clk, keys: map[string]string{}, log: logs}
	for _, role := range []string{api.RoleAdmin, api.RoleOperator, api.RoleService} {
		k, err := api.CreateKey(t.Context(), srv.Store(), testActor, role, role)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[role] = k.Secret
	}
	return e
}

// call sends a JSON request as role and returns the status and body.
func (e *example) call(role, method, path string, body any, header map[string]string) (int, string) {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = strings.NewReader(string(raw))
	}
	r := httptest.NewRequest(method, path, rd)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+e.keys[role])
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

// step is one call made before the decisions are read, and its expected
// status and error code (empty for success).
type step struct {
	as, method, path string
	body             any
	header           map[string]string
	status           int
	code             string
}

// run makes the steps in order.
func (e *example) run(steps ...step) {
	e.t.Helper()
	for _, s := range steps {
		as := s.as
		if as == "" {
			as = api.RoleService
		}
		status, body := e.call(as, s.method, s.path, s.body, s.header)
		var er struct {
			Error struct{ Code string } `json:"error"`
		}
		json.Unmarshal([]byte(body), &er)
		if status != s.status || er.Error.Code != s.code {
			e.t.Fatalf("%s %s: %d %q, want %d %q\n%s", s.method, s.path, status, er.Error.Code, s.status, s.code, body)
		}
	}
}

// decide asks /v1/check and returns reason per purpose, checking that
// allowed agrees with the reason.
func (e *example) decide(subject string, act map[string]any, purposes ...string) map[string]string {
	e.t.Helper()
	in := map[string]any{"subject_id": subject, "purposes": purposes}
	for k, v := range act {
		in[k] = v
	}
	status, body := e.call(api.RoleService, "POST", "/v1/check", in, nil)
	if status != 200 {
		e.t.Fatalf("check %s %v: %d %s", subject, purposes, status, body)
	}
	var res consent.CheckResult
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range res.Decisions {
		if d.Allowed != allowedReason(d.Reason) {
			e.t.Errorf("%s %s: allowed %v with reason %s", subject, d.Purpose, d.Allowed, d.Reason)
		}
		out[d.Purpose] = d.Reason
	}
	return out
}

func allowedReason(r string) bool {
	return r == check.ReasonConsent || r == check.ReasonSeparateConsent || r == check.ReasonOverridden || strings.HasPrefix(r, "legal_basis:")
}

// expect is the decisions a scenario wants for one subject and act.
type expect struct {
	subject string
	act     map[string]any // recipient, transfer or disclosure
	want    map[string]string
}

type scenario struct {
	name   string
	steps  []step
	expect []expect
}

func (e *example) play(scenarios []scenario) {
	e.t.Helper()
	for _, sc := range scenarios {
		e.t.Run(sc.name, func(t *testing.T) {
			inner := *e
			inner.t = t
			inner.run(sc.steps...)
			for _, x := range sc.expect {
				var purposes []string
				for p := range x.want {
					purposes = append(purposes, p)
				}
				got := inner.decide(x.subject, x.act, purposes...)
				for p, want := range x.want {
					if got[p] != want {
						t.Errorf("%s %s %v: %s, want %s", x.subject, p, x.act, got[p], want)
					}
				}
			}
		})
	}
}

const hash = "0b7d2c0c1d57a7c6e1a1b3b0d09c0bb4c9fbb9c5b1a1a0a8c8f5c5ba4c3d2e1f"

func subject(id string, fields map[string]any) step {
	body := map[string]any{"subject_id": id}
	for k, v := range fields {
		body[k] = v
	}
	return step{method: "POST", path: "/v1/subjects", body: body, status: 201}
}

func consents(id string, body map[string]any, status int, code string, header ...map[string]string) step {
	if _, ok := body["method"]; !ok {
		body["method"] = "app_dialog"
	}
	body["language"], body["notice_hash"] = "zh-CN", hash
	s := step{method: "POST", path: "/v1/subjects/" + id + "/consents", body: body, status: status, code: code}
	if len(header) > 0 {
		s.header = header[0]
	}
	return s
}

func accept(id, version string, body map[string]any, status int, code string) step {
	if body == nil {
		body = map[string]any{}
	}
	if _, ok := body["method"]; !ok {
		body["method"] = "app_dialog"
	}
	body["version"], body["language"], body["notice_hash"] = version, "zh-CN", hash
	return step{method: "POST", path: "/v1/subjects/" + id + "/acceptances", body: body, status: status, code: code}
}

func objection(id string, body map[string]any, status int, code string) step {
	body["method"], body["language"] = "app_dialog", "en"
	return step{method: "POST", path: "/v1/subjects/" + id + "/objections", body: body, status: status, code: code}
}

// years ago, as a birth date under the example clock.
func born(e *example, years int) string {
	return e.clock.Now().AddDate(-years, 0, -1).Format(time.DateOnly)
}

func TestDecisionScenariosDeepin(t *testing.T) {
	e := startExample(t, "deepin")
	guardianOf := map[string]any{"method": "guardian", "guardian_id": "dp-parent"}
	e.play([]scenario{
		{
			// deepin promises not to collect an under-14's information at all without a
			// guardian's consent: every purpose but the law's waits for the guardian.
			name:  "an 11-year-old without a guardian",
			steps: []step{subject("dp-child-alone", map[string]any{"birth_date": born(e, 11)})},
			expect: []expect{{subject: "dp-child-alone", want: map[string]string{
				"account-service":         "guardian_consent_required",
				"system-update":           "guardian_consent_required",
				"profile":                 "guardian_consent_required",
				"registration-compliance": "legal_basis:legal_obligation",
				"legal-compliance":        "legal_basis:legal_obligation",
			}}},
		},
		{
			name: "an 11-year-old whose guardian accepted the policy and consented",
			steps: []step{
				subject("dp-parent", map[string]any{"birth_date": born(e, 40)}),
				subject("dp-child", map[string]any{"birth_date": born(e, 11), "guardian_id": "dp-parent"}),
				accept("dp-child", "2022.03.17", nil, 422, "guardian_consent_required"), // not the child's own
				accept("dp-child", "2022.03.17", guardianOf, 201, ""),
				consents("dp-child", map[string]any{"grant": []string{"profile"}}, 422, "guardian_consent_required"),
				consents("dp-child", map[string]any{"grant": []string{"profile"}, "method": "guardian", "guardian_id": "dp-parent"}, 201, ""),
			},
			expect: []expect{{subject: "dp-child", want: map[string]string{
				"account-service":   "legal_basis:contract",
				"profile":           "consent",
				"big-data-analysis": "guardian_consent_required",
			}}},
		},
		{
			name:  "an adult, and a person of unknown age taken for one",
			steps: []step{subject("dp-adult", map[string]any{"birth_date": born(e, 30)}), subject("dp-unknown", nil)},
			expect: []expect{
				{subject: "dp-adult", want: map[string]string{"account-service": "legal_basis:contract", "profile": "no_consent"}},
				{subject: "dp-unknown", want: map[string]string{"account-service": "legal_basis:contract", "profile": "no_consent"}},
			},
		},
		{
			// Public disclosure asks a separate consent of its own, whatever the purpose rests on.
			name: "public disclosure needs its own separate consent",
			steps: []step{
				subject("dp-public", map[string]any{"birth_date": born(e, 30)}),
				consents("dp-public", map[string]any{"grant": []string{"disclosure"}}, 422, "separate_consent_required"),
			},
			expect: []expect{{subject: "dp-public", act: map[string]any{"disclosure": true}, want: map[string]string{
				"public-information": "separate_consent_required",
				"account-service":    "separate_consent_required",
			}}},
		},
		{
			name: "public disclosure consented on its own",
			steps: []step{
				consents("dp-public", map[string]any{"grant": []string{"disclosure"}, "separate": true}, 201, ""),
			},
			expect: []expect{{subject: "dp-public", act: map[string]any{"disclosure": true}, want: map[string]string{
				"public-information": "separate_consent",
			}}},
		},
		{
			name: "bad input is refused with a stable code and nothing written",
			steps: []step{
				subject("dp-bad", map[string]any{"birth_date": born(e, 30)}),
				objection("dp-bad", map[string]any{"object": []string{"profile"}}, 422, "objection_not_applicable"),
				consents("dp-bad", map[string]any{"grant": []string{"profile", "social-login"}, "separate": true}, 422, "separate_grant_multiple"),
				accept("dp-bad", "1999.01.01", nil, 422, "unknown_version"),
				{method: "POST", path: "/v1/subjects", body: map[string]any{"subject_id": "dp-somewhere", "jurisdiction": "EU"}, status: 422, code: "unknown_jurisdiction"},
				{method: "POST", path: "/v1/check", body: map[string]any{"subject_id": "dp-bad", "purposes": []string{"profile"}, "recipient": "nobody"}, status: 422, code: "unknown_recipient"},
			},
			expect: []expect{{subject: "dp-bad", want: map[string]string{"profile": "no_consent", "social-login": "no_consent"}}},
		},
	})
	status, body := e.call(api.RoleAdmin, "GET", "/v1/subjects/dp-bad/consents", nil, nil)
	if status != 200 || strings.Contains(body, `"action"`) {
		t.Errorf("refused writes reached the ledger: %d %s", status, body)
	}
	if status, _ := e.call(api.RoleService, "GET", "/v1/subjects/dp-somewhere", nil, nil); status != 403 && status != 404 {
		t.Errorf("a refused subject was created: %d", status)
	}
}

func TestDecisionScenariosSmartDeviceApp(t *testing.T) {
	e := startExample(t, "smart-device-app")
	e.play([]scenario{
		{
			// The app is for people of 18 and over: a younger person is not served, for any
			// purpose but the law's, and the API says they are a minor.
			name:  "an age band under 14 on an adults-only service",
			steps: []step{subject("sd-child", map[string]any{"age_band": "under_14"}), subject("sd-teen", map[string]any{"birth_date": born(e, 17)})},
			expect: []expect{
				{subject: "sd-child", want: map[string]string{
					"account_registration":   "minor_not_served",
					"marketing_activity":     "minor_not_served",
					"profile":                "minor_not_served",
					"real_name_verification": "legal_basis:legal_obligation",
				}},
				{subject: "sd-teen", want: map[string]string{"normal_operation": "minor_not_served"}},
			},
		},
		{
			// Marketing data goes to partners "only with your consent" (separate_consent on the
			// recipient) although the purpose rests on the contract.
			name:  "marketing data to partners needs its own consent",
			steps: []step{subject("sd-adult", map[string]any{"birth_date": born(e, 30)})},
			expect: []expect{
				{subject: "sd-adult", want: map[string]string{"marketing_activity": "legal_basis:contract"}},
				{subject: "sd-adult", act: map[string]any{"recipient": "activity_partners"}, want: map[string]string{"marketing_activity": "separate_consent_required"}},
			},
		},
		{
			name: "marketing data to partners, consented on its own",
			steps: []step{
				consents("sd-adult", map[string]any{"grant": []string{"recipient:activity_partners"}}, 422, "separate_consent_required"),
				consents("sd-adult", map[string]any{"grant": []string{"recipient:activity_partners"}, "separate": true}, 201, ""),
			},
			expect: []expect{{subject: "sd-adult", act: map[string]any{"recipient": "activity_partners"}, want: map[string]string{
				"marketing_activity": "separate_consent",
				"normal_operation":   "not_declared", // the partners receive marketing data only
			}}},
		},
	})
	status, body := e.call(api.RoleOperator, "GET", "/v1/subjects/sd-child", nil, nil)
	if status != 200 || !strings.Contains(body, `"minor":true`) {
		t.Errorf("an under-14 band on an adults-only service: %d %s, want minor true", status, body)
	}
}

func TestDecisionScenariosOpenGemini(t *testing.T) {
	e := startExample(t, "opengemini")
	e.play([]scenario{
		{
			name:  "a minor on an adults-only statement",
			steps: []step{subject("og-child", map[string]any{"age_band": "under_14"})},
			expect: []expect{{subject: "og-child", want: map[string]string{
				"service-delivery":    "minor_not_served",
				"service-improvement": "minor_not_served",
				"legal-compliance":    "legal_basis:legal_obligation",
			}}},
		},
		{
			name: "an objection to legitimate interests stops them until compelling grounds are recorded",
			steps: []step{
				subject("og-adult", map[string]any{"birth_date": born(e, 30)}),
				objection("og-adult", map[string]any{"object": []string{"service-improvement"}}, 201, ""),
				objection("og-adult", map[string]any{"object": []string{"service-delivery"}}, 422, "objection_not_applicable"),
			},
			expect: []expect{{subject: "og-adult", want: map[string]string{
				"service-improvement": "objected",
				"service-delivery":    "legal_basis:contract",
			}}},
		},
		{
			name: "compelling grounds recorded by an operator",
			steps: []step{
				{as: api.RoleService, method: "POST", path: "/v1/subjects/og-adult/objections/service-improvement/override", body: map[string]any{"grounds": "security fix"}, status: 403, code: "forbidden"},
				{as: api.RoleOperator, method: "POST", path: "/v1/subjects/og-adult/objections/service-improvement/override", body: map[string]any{"grounds": ""}, status: 422, code: "grounds_required"},
				{as: api.RoleOperator, method: "POST", path: "/v1/subjects/og-adult/objections/service-improvement/override", body: map[string]any{"grounds": "needed to investigate a security vulnerability report"}, status: 201},
			},
			expect: []expect{{subject: "og-adult", want: map[string]string{"service-improvement": "objection_overridden"}}},
		},
		{
			name:   "the objection lifted by the person",
			steps:  []step{objection("og-adult", map[string]any{"lift": []string{"service-improvement"}}, 201, "")},
			expect: []expect{{subject: "og-adult", want: map[string]string{"service-improvement": "legal_basis:legitimate_interests"}}},
		},
	})
}

func TestDecisionScenariosYonyouCloud(t *testing.T) {
	e := startExample(t, "yonyou-cloud")
	e.play([]scenario{
		{
			// Every purpose rests on contract or legitimate interests in the source; a
			// 12-year-old must not be profiled for advertising without a guardian.
			name:  "a 12-year-old in China",
			steps: []step{subject("yy-child", map[string]any{"birth_date": born(e, 12), "jurisdiction": "CN"})},
			expect: []expect{{subject: "yy-child", want: map[string]string{
				"personalization":  "guardian_consent_required",
				"security_risk":    "guardian_consent_required",
				"legal_compliance": "legal_basis:legal_obligation",
			}}},
		},
		{
			// PIPL knows no legitimate interests: for a PRC user profiling rests on consent.
			name: "an adult in China: consent, and no objection to a consent purpose",
			steps: []step{
				subject("yy-cn", map[string]any{"birth_date": born(e, 30), "jurisdiction": "CN"}),
				objection("yy-cn", map[string]any{"object": []string{"personalization"}}, 422, "objection_not_applicable"),
			},
			expect: []expect{{subject: "yy-cn", want: map[string]string{"personalization": "no_consent", "security_risk": "legal_basis:contract"}}},
		},
		{
			name: "an EU resident objects to profiling: direct marketing takes no override",
			steps: []step{
				subject("yy-eu", map[string]any{"birth_date": born(e, 30), "jurisdiction": "EU"}),
				objection("yy-eu", map[string]any{"object": []string{"personalization"}}, 201, ""),
				{as: api.RoleOperator, method: "POST", path: "/v1/subjects/yy-eu/objections/personalization/override", body: map[string]any{"grounds": "we like it"}, status: 409, code: "override_not_allowed"},
			},
			expect: []expect{{subject: "yy-eu", want: map[string]string{
				"personalization": "objected",
				"security_risk":   "legal_basis:legitimate_interests",
			}}},
		},
		{
			// An objection request, completed by an operator, stops the processing too.
			name:   "an EU resident's objection request, completed",
			steps:  []step{subject("yy-eu-2", map[string]any{"birth_date": born(e, 30), "jurisdiction": "EU"})},
			expect: []expect{{subject: "yy-eu-2", want: map[string]string{"product_statistics": "legal_basis:legitimate_interests"}}},
		},
	})
	var req struct{ ID string }
	status, body := e.call(api.RoleOperator, "POST", "/v1/requests", map[string]any{"type": "objection", "subject_id": "yy-eu-2", "jurisdiction": "EU", "language": "en",
		"verification": "operator", "evidence": "identity card checked, ref OB-1", "details": map[string]any{"purposes": []string{"product_statistics", "legal_compliance"}}}, nil)
	if status != 201 || json.Unmarshal([]byte(body), &req) != nil {
		t.Fatalf("objection request: %d %s", status, body)
	}
	for _, action := range []string{"approve", "complete"} {
		var b any
		if action == "complete" {
			b = map[string]any{}
		}
		if status, body := e.call(api.RoleOperator, "POST", "/v1/requests/"+req.ID+"/"+action, b, nil); status != 200 {
			t.Fatalf("%s: %d %s", action, status, body)
		}
	}
	got := e.decide("yy-eu-2", nil, "product_statistics", "legal_compliance")
	if got["product_statistics"] != "objected" || got["legal_compliance"] != "legal_basis:legal_obligation" {
		t.Errorf("after the completed objection request: %v, want product_statistics objected, legal_compliance going on", got)
	}
}

func TestDecisionScenariosStarter(t *testing.T) {
	e := startExample(t, "starter")
	e.play([]scenario{
		{
			// The starter's Do Not Track statement refuses analytics and advertising.
			name: "Do Not Track refuses analytics and advertising",
			steps: []step{
				subject("st-dnt", map[string]any{"birth_date": born(e, 30)}),
				consents("st-dnt", map[string]any{"grant": []string{"analytics", "push_notifications"}}, 201, ""),
				consents("st-dnt", map[string]any{"grant": []string{"marketing"}}, 201, "", map[string]string{"DNT": "1"}),
			},
			expect: []expect{{subject: "st-dnt", want: map[string]string{
				"analytics": "withdrawn", "advertising": "withdrawn", "marketing": "consent", "push_notifications": "consent",
			}}},
		},
		{
			// Global Privacy Control refuses advertising only.
			name: "Global Privacy Control refuses advertising",
			steps: []step{
				subject("st-gpc", map[string]any{"birth_date": born(e, 30)}),
				consents("st-gpc", map[string]any{"grant": []string{"analytics", "advertising"}}, 201, "", map[string]string{"Sec-GPC": "1"}),
			},
			expect: []expect{{subject: "st-gpc", want: map[string]string{"analytics": "consent", "advertising": "withdrawn"}}},
		},
		{
			name: "a transfer abroad and a provision to an advertiser each need their own consent",
			steps: []step{
				subject("st-acts", map[string]any{"birth_date": born(e, 30)}),
				consents("st-acts", map[string]any{"grant": []string{"sync_acceleration"}, "separate": true}, 201, ""),
				consents("st-acts", map[string]any{"grant": []string{"advertising"}}, 201, ""),
			},
			expect: []expect{
				{subject: "st-acts", act: map[string]any{"transfer": "sg-sync-relay"}, want: map[string]string{"sync_acceleration": "separate_consent_required", "note_sync": "not_declared"}},
				{subject: "st-acts", act: map[string]any{"recipient": "ad-measurement"}, want: map[string]string{"advertising": "separate_consent_required"}},
			},
		},
		{
			name: "the acts consented on their own",
			steps: []step{
				consents("st-acts", map[string]any{"grant": []string{"transfer:sg-sync-relay"}, "separate": true}, 201, ""),
				consents("st-acts", map[string]any{"grant": []string{"recipient:ad-measurement"}, "separate": true}, 201, ""),
			},
			expect: []expect{
				{subject: "st-acts", act: map[string]any{"transfer": "sg-sync-relay"}, want: map[string]string{"sync_acceleration": "separate_consent"}},
				{subject: "st-acts", act: map[string]any{"recipient": "ad-measurement"}, want: map[string]string{"advertising": "separate_consent"}},
			},
		},
		{
			// The privacy center and the API read one rule for minors: an age band of 10 to
			// 13 is under the threshold of 14.
			name: "a child by an age band of 10 to 13",
			steps: []step{
				subject("st-parent", map[string]any{"birth_date": born(e, 40)}),
				subject("st-band", map[string]any{"age_band": "10_13", "guardian_id": "st-parent"}),
			},
			expect: []expect{{subject: "st-band", want: map[string]string{"note_sync": "guardian_consent_required", "analytics": "guardian_consent_required"}}},
		},
	})
	if status, body := e.call(api.RoleOperator, "GET", "/v1/subjects/st-band", nil, nil); status != 200 || !strings.Contains(body, `"minor":true`) {
		t.Errorf("st-band: %d %s, want a minor", status, body)
	}
	if wards, err := e.srv.Service().Wards(t.Context(), "st-parent"); err != nil || len(wards) != 1 || wards[0] != "st-band" {
		t.Errorf("the privacy center's wards of st-parent: %v %v, want st-band", wards, err)
	}

	t.Run("a child discovered without a guardian's consent is erased", func(t *testing.T) {
		e.run(subject("st-found", map[string]any{"birth_date": born(e, 30)}))
		if status, body := e.call(api.RoleOperator, "GET", "/v1/requests?subject_id=st-found", nil, nil); status != 200 || strings.Contains(body, `"deletion"`) {
			t.Fatalf("before: %d %s", status, body)
		}
		e.run(step{method: "PATCH", path: "/v1/subjects/st-found", body: map[string]any{"birth_date": born(e, 10)}, status: 200})
		status, body := e.call(api.RoleOperator, "GET", "/v1/requests?subject_id=st-found", nil, nil)
		if status != 200 || !strings.Contains(body, `"type":"deletion"`) || !strings.Contains(body, `"state":"verified"`) {
			t.Errorf("no erasure request opened for the discovered child: %d %s", status, body)
		}
		// Registered with a guardian, a child is not discovered: consent is being sought.
		e.run(subject("st-kid", map[string]any{"birth_date": born(e, 10), "guardian_id": "st-parent"}))
		if _, body := e.call(api.RoleOperator, "GET", "/v1/requests?subject_id=st-kid", nil, nil); strings.Contains(body, `"deletion"`) {
			t.Errorf("an erasure request was opened for a child registered with a guardian: %s", body)
		}
	})

	t.Run("a material change waits for the notice, then for express acceptance", func(t *testing.T) {
		e.run(
			subject("st-old", map[string]any{"birth_date": born(e, 30)}),
			consents("st-old", map[string]any{"grant": []string{"marketing"}}, 201, ""),
		)
		v2, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter", "custos-v2.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		// The starter promises 7 days' notice: 3 is too few.
		soon := e.clock.Now().AddDate(0, 0, 3)
		status, body := e.call(api.RoleAdmin, "POST", "/v1/policy/versions?effective_at="+soon.Format(time.RFC3339), string(v2), map[string]string{"Content-Type": "application/yaml"})
		if status != 422 || !strings.Contains(body, "notice_period_too_short") {
			t.Fatalf("publish v2 for 3 days ahead: %d %s, want 422 notice_period_too_short", status, body)
		}
		// Without an instant, the manifest's own effective date (15 October, China time) is used.
		status, body = e.call(api.RoleAdmin, "POST", "/v1/policy/versions", string(v2), map[string]string{"Content-Type": "application/yaml"})
		if status != 201 || !strings.Contains(body, `"upcoming":true`) || !strings.Contains(body, `"effective_at":"2026-10-14T16:00:00Z"`) {
			t.Fatalf("announce v2: %d %s", status, body)
		}
		at := time.Date(2026, 10, 14, 16, 0, 0, 0, time.UTC)
		before := e.decide("st-old", nil, "note_sync", "marketing")
		if before["note_sync"] != "legal_basis:contract" || before["marketing"] != "consent" {
			t.Errorf("while announced: %v, want 3.0's answers", before)
		}
		e.clock.Set(at)
		after := e.decide("st-old", nil, "note_sync", "marketing", "legal_compliance")
		want := map[string]string{"note_sync": "policy_acceptance_required", "marketing": "reconsent_required", "legal_compliance": "legal_basis:legal_obligation"}
		for p, w := range want {
			if after[p] != w {
				t.Errorf("in force: %s %s, want %s", p, after[p], w)
			}
		}
		e.run(accept("st-old", "3.0", nil, 422, "version_superseded"), accept("st-old", "3.1", nil, 201, ""))
		if got := e.decide("st-old", nil, "note_sync")["note_sync"]; got != "legal_basis:contract" {
			t.Errorf("after accepting 3.1: %s", got)
		}
		// Someone who arrives under 3.1 accepted what they joined under.
		e.run(subject("st-new", map[string]any{"birth_date": born(e, 30)}))
		if got := e.decide("st-new", nil, "note_sync")["note_sync"]; got != "legal_basis:contract" {
			t.Errorf("a newcomer under 3.1: %s", got)
		}
	})

	t.Run("a basis for a jurisdiction the manifest does not declare is refused at publication", func(t *testing.T) {
		src, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter", "custos.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		bad := strings.Replace(strings.Replace(string(src), `version: "3.0"`, `version: "3.9"`, 1),
			"    basis: contract\n", "    basis: contract\n    bases: {XX: consent}\n", 1)
		status, body := e.call(api.RoleAdmin, "POST", "/v1/policy/versions", bad, map[string]string{"Content-Type": "application/yaml"})
		if status != 422 || !strings.Contains(body, `"code":"invalid_manifest"`) || !strings.Contains(body, `jurisdiction \"XX\"`) {
			t.Errorf("publish with a basis for XX: %d %s", status, body)
		}
	})
	if logs := e.log.String(); strings.Contains(logs, "@example") {
		t.Error("an address reached the log")
	}
}
