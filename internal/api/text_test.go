package api_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/testdb"
)

// onBothDatabases runs fn on a demo server over SQLite and over PostgreSQL.
func onBothDatabases(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newEnv(t, slog.LevelDebug, nil)) })
	t.Run("postgres", func(t *testing.T) {
		// Demo mode keeps its directory beside a SQLite database, and in
		// the working directory otherwise: not the package's.
		t.Chdir(t.TempDir())
		dsn, keys := testdb.Postgres(t), testdb.Postgres(t)
		fn(t, newEnv(t, slog.LevelDebug, func(c *config.Config) { c.DB, c.Keystore = dsn, keys }))
	})
}

// TestTextRule: a NUL, invalid UTF-8 or a control character in any free
// text of any body is refused at decode with invalid_text naming the
// field, on both databases alike. Before, PostgreSQL failed the write
// (500) and SQLite kept the bytes and later answered invalid JSON.
func TestTextRule(t *testing.T) {
	grant := func(evidence string) string {
		return `{"grant":["analytics"],"method":"banner","language":"en","notice_hash":"` + noticeHash + `","evidence":` + evidence + `}`
	}
	refused := []struct {
		name, as, method, path, body, field string
	}{
		{"NUL in consent evidence", "service", "POST", "/v1/subjects/demo-1001/consents", grant(`{"user_agent":"Mozilla\u0000"}`), "evidence.user_agent"},
		{"invalid UTF-8 in consent evidence", "service", "POST", "/v1/subjects/demo-1001/consents", grant("{\"user_agent\":\"Mozilla\xff\xfe\"}"), "evidence.user_agent"},
		{"a C1 control in consent evidence", "service", "POST", "/v1/subjects/demo-1001/consents", grant("{\"user_agent\":\"Mozilla\u009b\"}"), "evidence.user_agent"},
		{"NUL in a key name", "admin", "POST", "/v1/keys", `{"name":"ci\u0000deploy","role":"service"}`, "name"},
		{"a line break in a key name", "admin", "POST", "/v1/keys", `{"name":"ci\ndeploy","role":"service"}`, "name"},
		{"an escape in a refusal explanation", "operator", "POST", "/v1/requests/r_000000000000/refuse", `{"ground":"manifestly_unfounded","explanation":"no\u001b[31m"}`, "explanation"},
		{"NUL in an identity value", "service", "POST", "/v1/subjects", `{"subject_id":"t-1","identities":[{"kind":"device_id","value":"dev\u0000"}]}`, "identities.0.value"},
		{"NUL in a purpose to check", "service", "POST", "/v1/check", `{"subject_id":"demo-1001","purposes":["analytics","ads\u0000"]}`, "purposes.1"},
		{"a bell in a restriction reason", "admin", "PUT", "/v1/subjects/demo-1002/restriction", `{"restricted":true,"reason":"disputed\u0007"}`, "reason"},
		{"NUL in objection grounds", "operator", "POST", "/v1/subjects/demo-1001/objections/analytics/override", `{"grounds":"legal claim\u0000"}`, "grounds"},
		{"NUL in a banner visitor id", "", "POST", "/v1/public/banner/consents", `{"visitor_id":"v_\u0000","action":"reject_all","choices":{},"notice_hash":"` + noticeHash + `","language":"en"}`, "visitor_id"},
		{"NUL in a public request's details", "", "POST", "/v1/public/requests", `{"type":"access","language":"en","identity":{"kind":"email","value":"lin.wei@example.com"},"details":{"note":"x\u0000"}}`, "details.note"},
		{"NUL in a member name of evidence", "service", "POST", "/v1/subjects/demo-1001/consents", grant(`{"user\u0000agent":"Mozilla"}`), "evidence"},
	}
	onBothDatabases(t, func(t *testing.T, e *env) {
		for _, tc := range refused {
			t.Run(tc.name, func(t *testing.T) {
				w := e.do(t, tc.method, tc.path, e.keys[tc.as], tc.body, nil)
				if !json.Valid(w.Body.Bytes()) {
					t.Fatalf("the answer is not JSON: %q", w.Body)
				}
				eb := errorOf(w.Body.Bytes())
				if w.Code != 422 || eb.Error.Code != "invalid_text" || eb.Error.Field != tc.field {
					t.Errorf("%d %s, want 422 invalid_text at %q", w.Code, w.Body, tc.field)
				}
				for _, s := range []string{"Mozilla", "deploy", "disputed", "legal claim"} {
					if strings.Contains(eb.Error.Message, s) {
						t.Errorf("the message quotes the value: %s", eb.Error.Message)
					}
				}
			})
		}
		// Tab and line breaks are text where it may run over lines.
		for _, tc := range []struct{ name, as, method, path, body string }{
			{"a reason over two lines", "admin", "PUT", "/v1/subjects/demo-1002/restriction", `{"restricted":true,"reason":"accuracy disputed:\r\n\tsee ticket 7"}`},
			{"evidence over two lines", "service", "POST", "/v1/subjects/demo-1001/consents", grant(`{"dialog":"line 1\nline 2","ua":"Mozilla 用户"}`)},
		} {
			if w := e.do(t, tc.method, tc.path, e.keys[tc.as], tc.body, nil); w.Code/100 != 2 {
				t.Errorf("%s: %d %s", tc.name, w.Code, w.Body)
			}
		}
		w := e.do(t, "GET", "/v1/subjects/demo-1001/consents?limit=1000", e.keys["auditor"], "", nil)
		if w.Code != 200 || !json.Valid(w.Body.Bytes()) || !strings.Contains(w.Body.String(), `line 1\nline 2`) {
			t.Errorf("history: %d %.300s", w.Code, w.Body)
		}
		if l := e.log.String(); strings.Contains(l, "level=ERROR") {
			t.Errorf("the server logged an error:\n%s", grepLines(l, "level=ERROR"))
		}
	})
}

// TestPublicBodiesTooLarge: the public routes that take a body (the
// banner's consent write, the rights-request intake and its code) answer
// an oversized one with 413, as every other route does.
func TestPublicBodiesTooLarge(t *testing.T) {
	e := newEnv(t, slog.LevelDebug, func(c *config.Config) { c.MaxBodyBytes = 1024 })
	big := `{"visitor_id":"v_` + strings.Repeat("0", 2048) + `"}`
	for _, path := range []string{"/v1/public/banner/consents", "/v1/public/requests", "/v1/public/requests/rq_x/verify"} {
		w := e.do(t, "POST", path, "", big, nil)
		if w.Code != 413 || errorOf(w.Body.Bytes()).Error.Code != "body_too_large" {
			t.Errorf("%s: %d %s, want 413 body_too_large", path, w.Code, w.Body)
		}
	}
}
