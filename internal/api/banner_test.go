package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
)

func bannerConfig(t *testing.T, e *env, query string) consent.BannerConfig {
	t.Helper()
	w := e.do(t, "GET", "/v1/public/banner"+query, "", "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /v1/public/banner%s: %d %s", query, w.Code, w.Body)
	}
	var cfg consent.BannerConfig
	if err := json.Unmarshal(w.Body.Bytes(), &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// bannerSummary is the part of a category a test decides.
type bannerSummary struct {
	ID                 string
	Required, Separate bool
	Signals            []string
	Purposes           []string
	Vendors            []string
}

func summarise(cfg consent.BannerConfig) []bannerSummary {
	var out []bannerSummary
	for _, c := range cfg.Notice.Categories {
		s := bannerSummary{ID: c.ID, Required: c.Required, Separate: c.Separate, Signals: c.Signals, Vendors: c.Vendors}
		for _, p := range c.Purposes {
			s.Purposes = append(s.Purposes, p.ID)
		}
		out = append(out, s)
	}
	return out
}

func TestBannerConfig(t *testing.T) {
	e := newEnv(t, slog.LevelDebug, nil)
	w := e.do(t, "GET", "/v1/public/banner?lang=en", "", "", map[string]string{"Origin": "https://shop.example.com"})
	if w.Code != 200 {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	for k, want := range map[string]string{
		"Access-Control-Allow-Origin":      "*",
		"Access-Control-Allow-Credentials": "",
		"Cache-Control":                    "public, max-age=60",
		"Content-Type":                     "application/json; charset=utf-8",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	var cfg consent.BannerConfig
	if err := json.Unmarshal(w.Body.Bytes(), &cfg); err != nil {
		t.Fatal(err)
	}
	// The starter manifest: the sign-in session is necessary, the CSRF
	// token security, the offline cache functional but on contract (so
	// always on), analytics and marketing on consent (Do Not Track refuses
	// analytics), advertising on consent with a cookie of a recipient that
	// needs a separate consent, refused by both signals. The payments SDK
	// runs on the web for a contract.
	want := []bannerSummary{
		{ID: "necessary", Required: true, Signals: []string{}, Purposes: []string{"account_registration", "payments"}, Vendors: []string{"Example Payment Services Co., Ltd."}},
		{ID: "security", Required: true, Signals: []string{}, Purposes: []string{"security"}, Vendors: []string{}},
		{ID: "functional", Required: true, Signals: []string{}, Purposes: []string{"note_sync"}, Vendors: []string{}},
		{ID: "analytics", Signals: []string{"dnt"}, Purposes: []string{"analytics", "marketing"}, Vendors: []string{}},
		{ID: "advertising", Separate: true, Signals: []string{"dnt", "gpc"}, Purposes: []string{"advertising"}, Vendors: []string{"Example Ad Measurement Co., Ltd."}},
	}
	if d := cmp.Diff(want, summarise(cfg)); d != "" {
		t.Errorf("categories (-want +got):\n%s", d)
	}
	raw, _ := json.Marshal(cfg.Notice)
	sum := sha256.Sum256(raw)
	if cfg.NoticeHash != hex.EncodeToString(sum[:]) {
		t.Errorf("notice_hash %s is not the SHA-256 of the notice as served", cfg.NoticeHash)
	}
	if cfg.PolicyVersion != "3.0" || !slices.Equal(cfg.ConsentVersions, []string{"3.0"}) || cfg.Language != "en" {
		t.Errorf("version %q consent versions %v language %q", cfg.PolicyVersion, cfg.ConsentVersions, cfg.Language)
	}
	if cfg.Notice.Text.Separate == "" || !strings.Contains(cfg.Notice.Text.Separate, "Advertising") {
		t.Errorf("the notice does not say accept all leaves out advertising: %q", cfg.Notice.Text.Separate)
	}

	t.Run("languages", func(t *testing.T) {
		for query, lang := range map[string]string{"": "zh-CN", "?lang=zh-CN": "zh-CN", "?lang=en": "en", "?lang=fr": "zh-CN"} {
			got := bannerConfig(t, e, query)
			if got.Language != lang || got.Notice.Language != lang {
				t.Errorf("%q: language %q, want %q", query, got.Language, lang)
			}
		}
		zh := bannerConfig(t, e, "?lang=zh-CN")
		if zh.NoticeHash == cfg.NoticeHash {
			t.Error("the zh-CN and en notices have the same hash")
		}
		if name := zh.Notice.Categories[3].Purposes[0].Name; !strings.ContainsFunc(name, func(r rune) bool { return r > 0x3000 }) {
			t.Errorf("zh-CN purpose name %q is not Chinese", name)
		}
	})
	t.Run("revalidation", func(t *testing.T) {
		etag := w.Header().Get("ETag")
		again := e.do(t, "GET", "/v1/public/banner?lang=en", "", "", map[string]string{"If-None-Match": etag})
		if etag == "" || again.Code != http.StatusNotModified || again.Body.Len() != 0 {
			t.Errorf("If-None-Match %s: %d %q, want 304 without a body", etag, again.Code, again.Body)
		}
		other := e.do(t, "GET", "/v1/public/banner?lang=zh-CN", "", "", map[string]string{"If-None-Match": etag})
		if other.Code != http.StatusOK {
			t.Errorf("another language with the en ETag: %d, want 200", other.Code)
		}
	})
}

func TestBannerCORSPreflight(t *testing.T) {
	e := newEnv(t, slog.LevelWarn, nil)
	for _, path := range []string{"/v1/public/banner", "/v1/public/banner/consents"} {
		t.Run(path, func(t *testing.T) {
			w := e.do(t, "OPTIONS", path, "", "", map[string]string{
				"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
			if w.Code != http.StatusNoContent {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			got := map[string]string{}
			for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Allow-Credentials", "Access-Control-Max-Age"} {
				got[k] = w.Header().Get(k)
			}
			want := map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST", "Access-Control-Allow-Headers": "Content-Type",
				"Access-Control-Allow-Credentials": "", "Access-Control-Max-Age": "86400"}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("headers (-want +got):\n%s", d)
			}
		})
	}
	// Only the banner's routes answer CORS.
	for _, path := range []string{"/v1/policy", "/v1/public/requests"} {
		w := e.do(t, "OPTIONS", path, "", "", map[string]string{"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"})
		if w.Header().Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("OPTIONS %s answers CORS", path)
		}
	}
}

func visitor(n int) string { return fmt.Sprintf("v_%032x", n) }

func TestBannerConsent(t *testing.T) {
	// Behind a proxy, so that each case comes from its own address and
	// stays under the rate limit.
	e := newEnv(t, slog.LevelDebug, func(c *config.Config) { c.TrustProxy = true })
	addr := 0
	from := func(h map[string]string) map[string]string {
		addr++
		out := map[string]string{"X-Forwarded-For": fmt.Sprintf("198.51.100.%d", addr)}
		for k, v := range h {
			out[k] = v
		}
		return out
	}
	cfg := bannerConfig(t, e, "?lang=en")
	zh := bannerConfig(t, e, "?lang=zh-CN")
	body := func(vid, action, choices, hash, lang string) string {
		return `{"visitor_id":"` + vid + `","action":"` + action + `","choices":` + choices + `,"notice_hash":"` + hash + `","language":"` + lang + `"}`
	}
	en := func(vid, action, choices string) string { return body(vid, action, choices, cfg.NoticeHash, "en") }
	// A registered subject whose id has a visitor id's shape.
	registered := visitor(99)
	if w := e.do(t, "POST", "/v1/subjects", e.keys[api.RoleService], `{"subject_id":"`+registered+`","identities":[{"kind":"email","value":"mei.zhang@example.net"}]}`, nil); w.Code != 201 {
		t.Fatalf("create subject: %d %s", w.Code, w.Body)
	}

	type choice = map[string]bool
	tests := []struct {
		name    string
		body    string
		header  map[string]string
		status  int
		code    string
		choices choice
		events  []ev
	}{
		{name: "accept all leaves out the separate category", body: en(visitor(1), "accept_all", `{"analytics":true,"advertising":true}`), status: 201,
			choices: choice{"analytics": true, "advertising": false}, events: []ev{{"analytics", "grant", ""}, {"marketing", "grant", ""}}},
		{name: "reject all", body: en(visitor(2), "reject_all", `{"analytics":false,"advertising":false}`), status: 201,
			choices: choice{"analytics": false, "advertising": false}, events: []ev{{"advertising", "withdraw", ""}, {"analytics", "withdraw", ""}, {"marketing", "withdraw", ""}, {"recipient:ad-measurement", "withdraw", ""}}},
		{name: "save grants a separate category on its own", body: en(visitor(3), "save", `{"analytics":false,"advertising":true}`), status: 201,
			choices: choice{"analytics": false, "advertising": true}, events: []ev{{"analytics", "withdraw", ""}, {"marketing", "withdraw", ""}, {"advertising", "grant", ""}, {"recipient:ad-measurement", "grant", ""}}},
		{name: "always-on categories may be confirmed", body: en(visitor(4), "save", `{"necessary":true,"analytics":true,"advertising":false}`), status: 201,
			choices: choice{"analytics": true, "advertising": false}, events: []ev{{"analytics", "grant", ""}, {"marketing", "grant", ""}, {"advertising", "withdraw", ""}, {"recipient:ad-measurement", "withdraw", ""}}},
		{name: "in Chinese", body: body(visitor(5), "save", `{"analytics":true,"advertising":false}`, zh.NoticeHash, "zh-CN"), status: 201,
			choices: choice{"analytics": true, "advertising": false}, events: []ev{{"analytics", "grant", ""}, {"marketing", "grant", ""}, {"advertising", "withdraw", ""}, {"recipient:ad-measurement", "withdraw", ""}}},
		{name: "GPC refuses advertising whatever the choice", body: en(visitor(6), "save", `{"analytics":true,"advertising":true}`), header: map[string]string{"Sec-GPC": "1"}, status: 201,
			choices: choice{"analytics": true, "advertising": false}, events: []ev{{"analytics", "grant", ""}, {"marketing", "grant", ""}, {"advertising", "withdraw", "gpc"}, {"recipient:ad-measurement", "withdraw", "gpc"}}},
		{name: "GPC: accept all may refuse the signalled category", body: en(visitor(7), "accept_all", `{"analytics":true,"advertising":false}`), header: map[string]string{"Sec-GPC": "1"}, status: 201,
			choices: choice{"analytics": true, "advertising": false}, events: []ev{{"analytics", "grant", ""}, {"marketing", "grant", ""}, {"advertising", "withdraw", "gpc"}, {"recipient:ad-measurement", "withdraw", "gpc"}}},
		{name: "choosing again", body: en(visitor(1), "reject_all", `{"analytics":false,"advertising":false}`), status: 201,
			choices: choice{"analytics": false, "advertising": false}, events: []ev{{"advertising", "withdraw", ""}, {"analytics", "withdraw", ""}, {"marketing", "withdraw", ""}, {"recipient:ad-measurement", "withdraw", ""}}},

		{name: "visitor id in upper case", body: en("v_"+strings.Repeat("AB", 16), "reject_all", `{"analytics":false,"advertising":false}`), status: 422, code: "invalid_visitor_id"},
		{name: "visitor id too short", body: en(visitor(1)[:33], "reject_all", `{"analytics":false,"advertising":false}`), status: 422, code: "invalid_visitor_id"},
		{name: "visitor id too long", body: en(visitor(1)+"0", "reject_all", `{"analytics":false,"advertising":false}`), status: 422, code: "invalid_visitor_id"},
		{name: "a registered subject's id", body: en("demo-1001", "accept_all", `{"analytics":true,"advertising":true}`), status: 422, code: "invalid_visitor_id"},
		{name: "a registered subject with a visitor id", body: en(registered, "accept_all", `{"analytics":true,"advertising":true}`), status: 409, code: "visitor_not_anonymous"},
		{name: "purpose not reachable from the banner", body: en(visitor(8), "save", `{"analytics":true,"advertising":false,"location_tagging":true}`), status: 422, code: "not_in_banner"},
		{name: "purpose id instead of a category", body: en(visitor(8), "save", `{"analytics":true,"advertising":false,"marketing":true}`), status: 422, code: "not_in_banner"},
		{name: "refusing a necessary category", body: en(visitor(8), "save", `{"necessary":false,"analytics":true,"advertising":false}`), status: 422, code: "not_in_banner"},
		{name: "a category left out", body: en(visitor(8), "save", `{"analytics":true}`), status: 422, code: "choices_incomplete"},
		{name: "accept all with a refusal", body: en(visitor(8), "accept_all", `{"analytics":false,"advertising":true}`), status: 422, code: "choices_mismatch"},
		{name: "reject all with a grant", body: en(visitor(8), "reject_all", `{"analytics":true,"advertising":false}`), status: 422, code: "choices_mismatch"},
		{name: "unknown action", body: en(visitor(8), "accept", `{"analytics":true,"advertising":true}`), status: 422, code: "invalid_action"},
		{name: "unknown language", body: body(visitor(8), "save", `{"analytics":true,"advertising":false}`, cfg.NoticeHash, "fr"), status: 422, code: "invalid_language"},
		{name: "the other language's notice", body: body(visitor(8), "save", `{"analytics":true,"advertising":false}`, cfg.NoticeHash, "zh-CN"), status: 409, code: "notice_changed"},
		{name: "made-up notice hash", body: body(visitor(8), "save", `{"analytics":true,"advertising":false}`, noticeHash, "en"), status: 409, code: "notice_changed"},
		{name: "unknown field", body: `{"visitor_id":"` + visitor(8) + `","purposes":["location_tagging"]}`, status: 400, code: "unknown_field"},
		{name: "not JSON", body: `visitor_id=` + visitor(8), status: 400, code: "invalid_json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.do(t, "POST", "/v1/public/banner/consents", "", tc.body, from(tc.header))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if got := errorOf(w.Body.Bytes()).Error.Code; got != tc.code {
				t.Errorf("code %q, want %q", got, tc.code)
			}
			if w.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Error("the answer lacks CORS: the page could not read it")
			}
			if tc.status != 201 {
				return
			}
			var st consent.BannerState
			if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.choices, st.Choices); d != "" {
				t.Errorf("choices (-want +got):\n%s", d)
			}
			var got []ev
			for _, e := range st.Events {
				key := e.Purpose
				if e.Recipient != "" {
					key = "recipient:" + e.Recipient
				}
				got = append(got, ev{key, e.Action, e.Signal})
			}
			if d := cmp.Diff(tc.events, got); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
			// The ledger holds the same events, with the notice and language shown.
			lw := e.do(t, "GET", "/v1/subjects/"+st.VisitorID+"/consents?limit=1000", e.keys[api.RoleAuditor], "", nil)
			var page api.Page[json.RawMessage]
			json.Unmarshal(lw.Body.Bytes(), &page)
			if lw.Code != 200 || len(page.Items) < len(tc.events) {
				t.Fatalf("ledger: %d %s", lw.Code, lw.Body)
			}
			for _, item := range page.Items[len(page.Items)-len(tc.events):] {
				var ce struct{ Method, Language, NoticeHash, PolicyVersion string }
				json.Unmarshal(item, &struct {
					Method        *string `json:"method"`
					Language      *string `json:"language"`
					NoticeHash    *string `json:"notice_hash"`
					PolicyVersion *string `json:"policy_version"`
				}{&ce.Method, &ce.Language, &ce.NoticeHash, &ce.PolicyVersion})
				if ce.Method != "banner" || ce.Language != st.Language || ce.NoticeHash != st.NoticeHash || ce.PolicyVersion != "3.0" {
					t.Errorf("ledger event %s: want method banner, language %s, notice %s, version 3.0", item, st.Language, st.NoticeHash)
				}
			}
		})
	}

	t.Run("a registered subject's ledger is untouched", func(t *testing.T) {
		lw := e.do(t, "GET", "/v1/subjects/"+registered+"/consents", e.keys[api.RoleAuditor], "", nil)
		if n := strings.Count(lw.Body.String(), `"purpose"`); lw.Code != 200 || n != 0 {
			t.Errorf("%d, %d events: %s", lw.Code, n, lw.Body)
		}
	})
	t.Run("a refused write creates no subject", func(t *testing.T) {
		lw := e.do(t, "GET", "/v1/subjects/"+visitor(8)+"/consents", e.keys[api.RoleAuditor], "", nil)
		if lw.Code != http.StatusNotFound {
			t.Errorf("%d %s, want 404", lw.Code, lw.Body)
		}
	})
	t.Run("checks see the banner's consent", func(t *testing.T) {
		w := e.do(t, "POST", "/v1/check", e.keys[api.RoleService], `{"subject_id":"`+visitor(4)+`","purposes":["analytics","advertising"]}`, nil)
		wantDecisions(visitor(4), true, dec{"analytics", true, "consent"}, dec{"advertising", false, "withdrawn"})(t, e, nil, w.Body.Bytes())
	})
	t.Run("a material change makes banner choices stale", func(t *testing.T) {
		v2src, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter", "custos-v2.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		w := e.publishAfterNotice(t, v2src)
		if w.Code != http.StatusCreated {
			t.Fatalf("publish v2: %d %s", w.Code, w.Body)
		}
		v2 := bannerConfig(t, e, "?lang=en")
		if v2.PolicyVersion != "3.1" || !slices.Equal(v2.ConsentVersions, []string{"3.1"}) {
			t.Errorf("after v2: version %q consent versions %v, want 3.1 and [3.1]", v2.PolicyVersion, v2.ConsentVersions)
		}
		old := e.do(t, "POST", "/v1/public/banner/consents", "", en(visitor(1), "accept_all", `{"analytics":true,"advertising":true}`), from(nil))
		if code := errorOf(old.Body.Bytes()).Error.Code; old.Code != http.StatusConflict || code != "notice_changed" {
			t.Errorf("the old notice: %d %q, want 409 notice_changed", old.Code, code)
		}
		fresh := e.do(t, "POST", "/v1/public/banner/consents", "", body(visitor(1), "accept_all", `{"analytics":true,"advertising":true}`, v2.NoticeHash, "en"), from(nil))
		if fresh.Code != http.StatusCreated || !strings.Contains(fresh.Body.String(), `"policy_version":"3.1"`) {
			t.Errorf("the new notice: %d %s", fresh.Code, fresh.Body)
		}
	})

	t.Run("no identity in any response or log", func(t *testing.T) {
		logs := strings.ToLower(e.log.String())
		for _, raw := range rawIdentities {
			if strings.Contains(logs, raw) {
				t.Errorf("the log contains %q", raw)
			}
			for _, b := range e.bodies {
				if strings.Contains(strings.ToLower(b), raw) {
					t.Errorf("a response contains %q: %s", raw, b)
				}
			}
		}
		if strings.Contains(logs, "198.51.100.") {
			t.Error("the request log holds the visitor's address")
		}
	})
}

func TestBannerRateLimit(t *testing.T) {
	e := newEnv(t, slog.LevelWarn, nil)
	bad := `{"visitor_id":"nope"}`
	limited := 0
	for i := range 30 {
		w := e.do(t, "POST", "/v1/public/banner/consents", "", bad, nil)
		if w.Code == http.StatusTooManyRequests {
			limited++
			if code := errorOf(w.Body.Bytes()).Error.Code; code != "rate_limited" || w.Header().Get("Retry-After") == "" {
				t.Errorf("write %d: code %q Retry-After %q", i, code, w.Header().Get("Retry-After"))
			}
		}
	}
	if limited < 5 {
		t.Errorf("%d of 30 writes at once were limited, want at least 5", limited)
	}
	// The limit counts writes; reading the configuration is not limited.
	if w := e.do(t, "GET", "/v1/public/banner", "", "", nil); w.Code != 200 {
		t.Errorf("GET after the limit: %d", w.Code)
	}
}

// BenchmarkBannerConfig is the banner's configuration as every page view
// of every site using the banner fetches it.
func BenchmarkBannerConfig(b *testing.B) {
	e := newEnv(b, slog.LevelWarn, nil)
	for b.Loop() {
		if rec := e.do(b, "GET", "/v1/public/banner?lang=zh-CN", "", "", nil); rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// TestBannerAllowedOrigins: with origins configured, only pages of those
// sites may read the configuration or record a choice.
func TestBannerAllowedOrigins(t *testing.T) {
	e := newEnv(t, slog.LevelWarn, func(c *config.Config) { c.BannerOrigins = []string{"https://shop.example.com"} })
	cfg := bannerConfig(t, e, "?lang=en")
	write := `{"visitor_id":"` + visitor(7) + `","action":"reject_all","choices":{"analytics":false,"advertising":false},"notice_hash":"` + cfg.NoticeHash + `","language":"en"}`
	for _, tt := range []struct {
		name, method, path, origin, body string
		status                           int
		allow                            string
	}{
		{"preflight from a listed site", "OPTIONS", "/v1/public/banner/consents", "https://shop.example.com", "", 204, "https://shop.example.com"},
		{"preflight from another site", "OPTIONS", "/v1/public/banner/consents", "https://evil.example", "", 403, ""},
		{"configuration read by another site", "GET", "/v1/public/banner?lang=en", "https://evil.example", "", 200, ""},
		{"configuration read by a listed site", "GET", "/v1/public/banner?lang=en", "https://shop.example.com", "", 200, "https://shop.example.com"},
		{"write from another site", "POST", "/v1/public/banner/consents", "https://evil.example", write, 403, ""},
		{"write from a listed site", "POST", "/v1/public/banner/consents", "https://shop.example.com", write, 201, "https://shop.example.com"},
		{"write without an Origin (not a browser)", "POST", "/v1/public/banner/consents", "", write, 201, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Access-Control-Request-Method": "POST"}
			if tt.origin != "" {
				h["Origin"] = tt.origin
			}
			w := e.do(t, tt.method, tt.path, "", tt.body, h)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.allow {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tt.allow)
			}
			if tt.status == 403 && !strings.Contains(w.Body.String(), "origin_not_allowed") {
				t.Errorf("body %s", w.Body)
			}
		})
	}
}
