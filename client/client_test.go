package client_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/client"
)

// TestClient drives every call of the client against a real server, on
// SQLite and on PostgreSQL, and checks the values that come back, the
// typed errors, and that no error quotes the personal data sent.
func TestClient(t *testing.T) {
	backends(t, func(t *testing.T, s *server) {
		t.Run("subjects", func(t *testing.T) { testSubjects(t, s) })
		t.Run("consents", func(t *testing.T) { testConsents(t, s) })
		t.Run("receipts", func(t *testing.T) { testReceipts(t, s) })
		t.Run("objections and acceptances", func(t *testing.T) { testObjectionsAcceptances(t, s) })
		t.Run("requests", func(t *testing.T) { testRequests(t, s) })
		t.Run("public requests", func(t *testing.T) { testPublicRequests(t, s) })
		t.Run("vault", func(t *testing.T) { testVault(t, s) })
		t.Run("transfers", func(t *testing.T) { testTransfers(t, s) })
		t.Run("auth", func(t *testing.T) { testAuth(t, s) })
		t.Run("rate limit", func(t *testing.T) { testRateLimit(t, s) })
		t.Run("context", func(t *testing.T) { testContext(t, s) })
		// Last: it reads what every subtest before it sent.
		t.Run("routes", func(t *testing.T) { testRoutes(t, s) })
	})
}

// wantErr checks err is an *Error of the class and code given, and that
// its text quotes none of leaks.
func wantErr(t *testing.T, what string, err error, class error, code client.ErrorCode, leaks ...string) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: err = %v (%T), want *client.Error %s", what, err, err, code)
	}
	if !errors.Is(err, class) || !errors.Is(err, code) {
		t.Errorf("%s: err = %v, want %v with code %s", what, err, class, code)
	}
	for _, l := range leaks {
		if l != "" && strings.Contains(err.Error(), l) {
			t.Errorf("%s: the error %q quotes %q", what, err, l)
		}
	}
	return e
}

func testAuth(t *testing.T, s *server) {
	ctx := t.Context()
	check := client.CheckInput{SubjectID: "ct-1", Purposes: []string{"analytics"}}
	_, err := s.public.Check(ctx, check)
	if e := wantErr(t, "Check without a key", err, client.ErrUnauthorized, client.CodeUnauthenticated); e.Status != 401 {
		t.Errorf("status %d", e.Status)
	}
	const wrong = "cus_wrongwrongwrongwrong"
	_, err = s.client(t, client.WithAPIKey(wrong)).Check(ctx, check)
	wantErr(t, "Check with an unknown key", err, client.ErrUnauthorized, client.CodeUnauthenticated, wrong)
	_, err = s.client(t, client.WithAPIKey(s.serviceKey)).PolicyVersions(ctx)
	if err != nil {
		t.Errorf("a service key reading the policy: %v", err)
	}
}

// testRateLimit: the public intake limits a claimed identity to five
// requests an hour. The sixth is a 429, and the client does not send it
// again: a POST is never retried.
func testRateLimit(t *testing.T, s *server) {
	ctx := t.Context()
	in := client.PublicRequestInput{Type: client.RightAccess, Language: "en", Identity: client.IdentityInput{Kind: client.KindEmail, Value: "limit.me@example.com"}}
	for i := range 5 {
		if _, err := s.public.SubmitPublicRequest(ctx, in); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	before := s.rec.count()
	_, err := s.public.SubmitPublicRequest(ctx, in)
	wantErr(t, "the sixth request", err, client.ErrRateLimited, client.CodeRateLimited, "limit.me")
	if n := s.rec.count() - before; n != 1 {
		t.Errorf("the rate-limited POST was sent %d times, want once", n)
	}
}

func testContext(t *testing.T, s *server) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	before := s.rec.count()
	if _, err := s.admin.GetSubject(ctx, "ct-1", ""); !errors.Is(err, context.Canceled) {
		t.Errorf("GetSubject with a cancelled context: %v", err)
	}
	if _, err := s.service.RecordConsent(ctx, "ct-1", client.ConsentInput{Withdraw: []string{"analytics"}, Method: client.MethodAPI, Language: "en"}); !errors.Is(err, context.Canceled) {
		t.Errorf("RecordConsent with a cancelled context: %v", err)
	}
	if n := s.rec.count() - before; n != 0 {
		t.Errorf("%d requests went out with a cancelled context", n)
	}
	if _, err := s.service.CurrentPolicy(t.Context()); err != nil {
		t.Errorf("the client is unusable after a cancelled call: %v", err)
	}
}

// notOffered are the routes the client leaves out: operations,
// administration and audit, which have the CLI and the console.
var notOffered = []string{
	"GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json",
	"POST /v1/policy/versions", "GET /v1/audit", "GET /v1/audit/verify",
	"GET /v1/keys", "POST /v1/keys", "DELETE /v1/keys/{id}", "POST /v1/calendar",
	// Erasure certificates are evidence for auditors: the CLI verifies them.
	"GET /v1/certificates/{certificate_id}",
	// The deployment's registry of organisations.
	"GET /v1/orgs", "POST /v1/orgs", "GET /v1/orgs/{org_id}", "PUT /v1/orgs/{org_id}/hosts", "PUT /v1/orgs/{org_id}/retention",
	"POST /v1/orgs/{org_id}/disable", "POST /v1/orgs/{org_id}/enable",
	// A processor's tasks to assist its controllers, its staff's work.
	"GET /v1/assistance", "POST /v1/assistance/{task_id}/done",
	// Legal holds, placed and lifted by staff: their lift is decided by a
	// second operator on the console or the command line.
	"GET /v1/holds", "POST /v1/holds", "GET /v1/holds/{id}", "POST /v1/holds/{id}/lift",
	// Security incidents, handled by admins on the console or the command line.
	"GET /v1/incidents", "POST /v1/incidents", "GET /v1/incidents/{id}", "POST /v1/incidents/{id}/assess",
	"POST /v1/incidents/{id}/notify", "POST /v1/incidents/{id}/close", "GET /v1/incidents/{id}/report", "GET /v1/incidents/{id}/announcement",
	// Retention sweeps of the organisation's databases: operations, run by the
	// server daily and by the CLI.
	"GET /v1/retention/plan", "GET /v1/retention/runs", "POST /v1/retention/runs",
	// The register and counts of cross-border transfers, read by staff on
	// the console and the command line.
	"GET /v1/transfers/register", "GET /v1/transfers/counts",
	// A correction's dry run, read by the operator before completing it.
	"GET /v1/requests/{id}/correction",
	// The banner's own routes, which its script calls from the browser.
	"GET /v1/public/banner", "OPTIONS /v1/public/banner", "POST /v1/public/banner/consents", "OPTIONS /v1/public/banner/consents",
	// Recipients acknowledge their notices with the link a notice carries,
	// not as the organisation's client.
	"GET /v1/public/acknowledgements/{token}", "POST /v1/public/acknowledgements/{token}",
}

// testRoutes checks that every request the client sent is a route of the
// server's OpenAPI document, and that every route it offers was called.
func testRoutes(t *testing.T, s *server) {
	doc := openAPI(t, s.URL)
	type route struct {
		key string
		re  *regexp.Regexp
	}
	var routes []route
	for path, item := range doc.Paths {
		for method := range item {
			re := regexp.MustCompile(`^` + regexp.MustCompile(`\\\{[^}]+\\\}`).ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + `$`)
			routes = append(routes, route{strings.ToUpper(method) + " " + path, re})
		}
	}
	called := map[string]bool{}
	for _, sent := range s.rec.requests() {
		method, path, _ := strings.Cut(sent, " ")
		var match []string
		for _, r := range routes {
			if strings.HasPrefix(r.key, method+" ") && r.re.MatchString(path) {
				match = append(match, r.key)
			}
		}
		// A literal route beats a template: /v1/keys/receipts, not /v1/keys/{id}.
		slices.SortFunc(match, func(a, b string) int { return strings.Count(a, "{") - strings.Count(b, "{") })
		if len(match) == 0 {
			t.Errorf("%s is not a route of the OpenAPI document", sent)
			continue
		}
		called[match[0]] = true
	}
	for _, r := range routes {
		if !called[r.key] && !slices.Contains(notOffered, r.key) {
			t.Errorf("%s is never called by the client's tests", r.key)
		}
	}
	t.Logf("%d requests over %d routes", len(s.rec.requests()), len(called))
}
