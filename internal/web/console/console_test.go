package console_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

// TestRoles checks the role on every route: auditors read, operators work
// requests and batches, admins also publish, manage accounts and run the
// retention sweep (the demo has no dataset: nothing to run); without
// a session pages send the browser to sign in and forms are refused.
func TestRoles(t *testing.T) {
	d := webtest.Demo(t)
	admin := signedIn(t, d, adminUser, adminPW)
	if r := admin.post("/console/operators", url.Values{"username": {"demo-auditor"}, "role": {"auditor"}, "password": {"auditor-password-1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("create auditor: %d %s", r.status, r.body)
	}
	clients := map[string]*client{
		"none":     newClient(t, d),
		"auditor":  signedIn(t, d, "demo-auditor", "auditor-password-1"),
		"operator": signedIn(t, d, operatorUser, operatorPW),
		"admin":    admin,
	}
	id, _ := publicRequest(t, d, "access", "alex.chen@example.org")
	rq := "/console/requests/" + id
	const (
		ok, see, bad, forbidden, unauth, notFound, conflict = 200, 303, 422, 403, 401, 404, 409
	)
	for _, tc := range []struct {
		method, path string
		form         url.Values
		want         map[string]int // role → status
	}{
		{"GET", "/console/", nil, map[string]int{"none": see, "auditor": ok, "operator": ok, "admin": ok}},
		{"HEAD", "/console/", nil, map[string]int{"none": see, "auditor": ok, "operator": ok, "admin": ok}},
		{"GET", "/console/requests", nil, map[string]int{"none": see, "auditor": ok, "operator": ok, "admin": ok}},
		{"GET", rq, nil, map[string]int{"none": see, "auditor": ok, "operator": ok, "admin": ok}},
		{"GET", "/console/requests/rq_nope", nil, map[string]int{"none": see, "auditor": notFound, "operator": notFound, "admin": notFound}},
		{"GET", "/console/approvals", nil, map[string]int{"none": see, "auditor": ok, "operator": ok, "admin": ok}},
		{"GET", "/console/dataflow", nil, map[string]int{"none": see, "auditor": ok, "operator": ok, "admin": ok}},
		{"GET", "/console/policies", nil, map[string]int{"none": see, "auditor": ok, "operator": ok, "admin": ok}},
		{"GET", "/console/promises", nil, map[string]int{"none": see, "auditor": ok, "operator": ok, "admin": ok}},
		{"GET", "/console/audit", nil, map[string]int{"none": see, "auditor": ok, "operator": ok, "admin": ok}},
		{"POST", "/console/audit/verify", nil, map[string]int{"none": unauth, "auditor": ok, "operator": ok, "admin": ok}},
		{"GET", "/console/operators", nil, map[string]int{"none": see, "auditor": forbidden, "operator": forbidden, "admin": ok}},
		{"GET", "/console/orgs", nil, map[string]int{"none": see, "auditor": forbidden, "operator": forbidden, "admin": ok}},
		{"POST", "/console/operators", url.Values{"username": {"x"}}, map[string]int{"none": unauth, "auditor": forbidden, "operator": forbidden, "admin": bad}},
		{"POST", "/console/operators/demo-approver/disable", nil, map[string]int{"none": unauth, "auditor": forbidden, "operator": forbidden}},
		{"POST", "/console/operators/demo-approver/enable", nil, map[string]int{"none": unauth, "auditor": forbidden, "operator": forbidden, "admin": see}},
		{"POST", "/console/operators/demo-approver/password", url.Values{"password": {"short"}}, map[string]int{"none": unauth, "auditor": forbidden, "operator": forbidden, "admin": bad}},
		{"POST", "/console/policies", url.Values{"manifest": {""}}, map[string]int{"none": unauth, "auditor": forbidden, "operator": forbidden, "admin": bad}},
		{"POST", rq + "/extend", url.Values{"reason": {""}}, map[string]int{"none": unauth, "auditor": forbidden, "operator": bad, "admin": bad}},
		{"POST", rq + "/refuse", url.Values{"ground": {"moon_phase"}, "explanation": {"x"}}, map[string]int{"none": unauth, "auditor": forbidden, "operator": bad, "admin": bad}},
		{"POST", rq + "/verify", url.Values{"evidence": {"id card seen"}}, map[string]int{"none": unauth, "auditor": forbidden, "operator": conflict}},
		{"POST", rq + "/complete", nil, map[string]int{"none": unauth, "auditor": forbidden}},
		{"POST", rq + "/approve", nil, map[string]int{"none": unauth, "auditor": forbidden}},
		{"POST", rq + "/recipients/ads/ack", nil, map[string]int{"none": unauth, "auditor": forbidden}},
		{"POST", rq + "/fee", url.Values{"amount": {"20"}, "currency": {"CNY"}, "reason": {"x"}}, map[string]int{"none": unauth, "auditor": forbidden, "operator": conflict, "admin": conflict}},
		{"POST", rq + "/fee/paid", nil, map[string]int{"none": unauth, "auditor": forbidden, "operator": conflict, "admin": conflict}},
		{"POST", rq + "/fee/waive", nil, map[string]int{"none": unauth, "auditor": forbidden, "operator": conflict, "admin": conflict}},
		{"POST", rq + "/transmission/retry", nil, map[string]int{"none": unauth, "auditor": forbidden, "operator": conflict, "admin": conflict}},
		{"POST", "/console/assistance/as_nope/done", url.Values{"note": {"sent the records"}}, map[string]int{"none": unauth, "auditor": forbidden, "operator": notFound, "admin": notFound}},
		{"POST", "/console/assistance/as_nope/done", url.Values{"note": {""}}, map[string]int{"operator": bad}},
		{"POST", "/console/approvals", url.Values{"kind": {"batch_export"}}, map[string]int{"none": unauth, "auditor": forbidden, "operator": bad, "admin": bad}},
		{"POST", "/console/approvals/ap_nope/approve", nil, map[string]int{"none": unauth, "auditor": forbidden, "operator": notFound, "admin": notFound}},
		{"POST", "/console/approvals/ap_nope/reject", nil, map[string]int{"none": unauth, "auditor": forbidden, "operator": notFound}},
		{"POST", "/console/approvals/ap_nope/download", nil, map[string]int{"none": unauth, "auditor": forbidden, "operator": notFound}},
		{"GET", "/console/holds", nil, map[string]int{"none": see, "auditor": ok, "operator": ok, "admin": ok}},
		{"GET", "/console/holds?all=1", nil, map[string]int{"none": see, "auditor": ok, "operator": ok, "admin": ok}},
		{"POST", "/console/holds", url.Values{"reason": {"r"}, "authority": {"a"}}, map[string]int{"none": unauth, "auditor": forbidden, "operator": bad, "admin": bad}},
		{"POST", "/console/holds", url.Values{"subject_id": {"u-1"}, "reason": {"r"}, "authority": {"a"}, "expires": {"soon"}}, map[string]int{"operator": bad}},
		{"POST", "/console/holds/hl_nope/lift", url.Values{"reason": {"settled"}}, map[string]int{"none": unauth, "auditor": forbidden, "operator": notFound, "admin": notFound}},
		{"GET", "/console/retention", nil, map[string]int{"none": see, "auditor": ok, "operator": ok, "admin": ok}},
		{"POST", "/console/retention/run", nil, map[string]int{"none": unauth, "auditor": forbidden, "operator": forbidden, "admin": notFound}},
		{"POST", "/console/signout", nil, map[string]int{"none": unauth}},
		{"GET", "/console/nowhere", nil, map[string]int{"none": notFound, "admin": notFound}},
	} {
		for _, role := range []string{"none", "auditor", "operator", "admin"} {
			want, ok := tc.want[role]
			if !ok {
				continue
			}
			c := clients[role]
			var r resp
			switch tc.method {
			case "GET", "HEAD":
				r = c.do(tc.method, tc.path, nil)
			default:
				form := url.Values{}
				for k, v := range tc.form {
					form[k] = v
				}
				r = c.post(tc.path, form)
			}
			if r.status != want {
				t.Errorf("%s %s as %s: status %d, want %d", tc.method, tc.path, role, r.status, want)
			}
			if role == "none" && want == see && r.header.Get("Location") != "/console/signin" {
				t.Errorf("%s %s as %s: redirected to %q, want the sign-in page", tc.method, tc.path, role, r.header.Get("Location"))
			}
		}
	}
}

// TestCSRF: a form without the token, with a wrong one, or from another
// site is refused, even for a signed-in admin.
func TestCSRF(t *testing.T) {
	d := webtest.Demo(t)
	c := signedIn(t, d, adminUser, adminPW)
	form := url.Values{"username": {"csrf-victim"}, "role": {"admin"}, "password": {"a-long-password-1"}}
	if r := c.do("POST", "/console/operators", form); r.status != http.StatusForbidden || !strings.Contains(r.body, "The form has expired") {
		t.Errorf("no token: status %d", r.status)
	}
	form.Set("csrf", strings.Repeat("A", 43))
	if r := c.do("POST", "/console/operators", form); r.status != http.StatusForbidden {
		t.Errorf("wrong token: status %d", r.status)
	}
	form.Set("csrf", c.csrf())
	req, _ := http.NewRequest("POST", d.URL+"/console/operators", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site: status %d", res.StatusCode)
	}
	if _, err := d.Server.Store().OperatorByUsername(context.Background(), "csrf-victim"); err == nil {
		t.Error("a refused form created the account")
	}
	if r := c.post("/console/operators", form); r.status != http.StatusSeeOther {
		t.Errorf("with the token: status %d", r.status)
	}
}

// TestSignIn covers lockout after five failures, answers that do not tell
// whether a user exists, the session cookie, sign-out, security headers,
// and an audit trail with sign-ins but no passwords.
func TestSignIn(t *testing.T) {
	d := webtest.Demo(t)
	c := newClient(t, d)
	page := c.get("/console/signin")
	for _, h := range []string{"Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"} {
		if page.header.Get(h) == "" {
			t.Errorf("sign-in page lacks %s", h)
		}
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}

	wrong := c.signIn(approverUser, "not-the-password")
	unknown := c.signIn("nobody-here", "not-the-password")
	if wrong.status != http.StatusUnauthorized || unknown.status != http.StatusUnauthorized || wrong.body != unknown.body {
		t.Errorf("wrong password (%d) and unknown user (%d) answer differently", wrong.status, unknown.status)
	}
	for range 4 {
		c.signIn(approverUser, "still-not-it")
	}
	if r := c.signIn(approverUser, approverPW); r.status != http.StatusUnauthorized {
		t.Errorf("the right password after 5 failures: status %d, want 401 (locked)", r.status)
	}
	if r := c.get("/console/requests"); r.status != http.StatusSeeOther {
		t.Errorf("locked out, yet the queue answers %d", r.status)
	}

	r := c.signIn(adminUser, adminPW)
	if r.status != http.StatusSeeOther {
		t.Fatalf("admin sign-in: %d", r.status)
	}
	var cookie string
	for _, sc := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "custos_console=") {
			cookie = sc
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("session cookie %q lacks %s", cookie, want)
		}
	}
	token := strings.TrimPrefix(strings.SplitN(cookie, ";", 2)[0], "custos_console=")
	if len(token) != 43 {
		t.Errorf("session token has %d characters, want 43 (256 bits)", len(token))
	}
	if r := c.get("/console/requests"); r.status != http.StatusOK {
		t.Fatalf("queue after sign-in: %d", r.status)
	}
	if r := c.post("/console/signout", nil); r.status != http.StatusSeeOther {
		t.Fatalf("sign out: %d", r.status)
	}
	// The old token no longer opens anything, even if replayed.
	replay := newClient(t, d)
	u, _ := url.Parse(d.URL)
	replay.http.Jar.SetCookies(u, []*http.Cookie{{Name: "custos_console", Value: token, Path: "/"}})
	if r := replay.get("/console/requests"); r.status != http.StatusSeeOther {
		t.Errorf("replayed token after sign-out: %d", r.status)
	}

	entries, err := d.Server.Store().AuditEntries(context.Background(), store.AuditFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.Action+"/"+e.Outcome]++
		for _, secret := range []string{approverPW, adminPW, "not-the-password", "still-not-it", "nobody-here", token} {
			if strings.Contains(e.Detail+e.Object+e.Actor, secret) {
				t.Errorf("audit entry %d (%s) holds a secret", e.Seq, e.Action)
			}
		}
	}
	for _, want := range []string{"console.sign_in/ok", "console.sign_in/denied", "console.lockout/ok", "console.sign_out/ok"} {
		if seen[want] == 0 {
			t.Errorf("no %s in the audit trail", want)
		}
	}
}

// TestNoPersonalData: the queue and a request show the opaque subject id,
// never the email or phone the subject registered.
func TestNoPersonalData(t *testing.T) {
	d := webtest.Demo(t)
	id, _ := publicRequest(t, d, "access", "lin.wei@example.com")
	c := signedIn(t, d, operatorUser, operatorPW)
	for _, path := range []string{"/console/requests", "/console/requests/" + id, "/console/", "/console/dataflow"} {
		r := c.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.status)
		}
		for _, pi := range []string{"lin.wei@example.com", "13800138000", "lin.wei"} {
			if strings.Contains(r.body, pi) {
				t.Errorf("%s shows %q", path, pi)
			}
		}
		if path == "/console/" && strings.Count(r.body, "<svg") < 3 {
			t.Errorf("the dashboard has %d pictures, want 3", strings.Count(r.body, "<svg"))
		}
		if path == "/console/requests" && !strings.Contains(r.body, id) {
			t.Errorf("the queue does not list %s", id)
		}
		// The right and the deadline rule in words, each beside its id.
		if path == "/console/requests/"+id && (!strings.Contains(r.body, "Access your personal information <code>access</code>") ||
			!strings.Contains(r.body, "15 working days <code>15 working_days</code>")) {
			t.Errorf("the request page does not name the right and deadline:\n%s", r.body)
		}
	}
}

// TestPublishAnnounced: an admin publishes the starter's next version from
// the console; its material change cannot take effect before the 7 days'
// notice the starter promises, so it is announced for a later time, shown
// as upcoming with the purposes that wait for acceptance.
func TestPublishAnnounced(t *testing.T) {
	d := webtest.Demo(t)
	c := signedIn(t, d, adminUser, adminPW)
	v2, err := os.ReadFile("../../../examples/starter/custos-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	soon := d.Clock.Now().In(calendar.China).AddDate(0, 0, 1).Format("2006-01-02T15:04")
	r := c.post("/console/policies", url.Values{"manifest": {string(v2)}, "effective_at": {soon}, "csrf": {c.csrf()}})
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("publish for tomorrow: status %d, want 422\n%s", r.status, r.body)
	}
	later := d.Clock.Now().In(calendar.China).AddDate(0, 0, 8).Format("2006-01-02T15:04")
	r = c.post("/console/policies", url.Values{"manifest": {string(v2)}, "effective_at": {later}, "csrf": {c.csrf()}})
	if r.status != http.StatusOK {
		t.Fatalf("publish for next week: status %d\n%s", r.status, r.body)
	}
	// Operators read each change and purpose by its name, with its path or id beside it.
	for _, want := range []string{"Published version 3.1.", "Announced: it takes effect at", `data-state="upcoming"`, "note_sync",
		"personalised recommendations in Discover (personalised_recommendations)", "providing personal information to Example Insights Data Co., Ltd. (recipient:insights-partner)",
		"Added Purpose: personalised recommendations in Discover <code>purposes[personalised_recommendations]</code>"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if cur, _, _, _ := d.Server.Service().Policy(); cur.Version != "3.0" {
		t.Errorf("in force after the announcement: %s, want 3.0", cur.Version)
	}
}

// TestPromisesPage: the console shows the promise map of the policy in
// force with the deployment's live status — change notices wait for an
// SMTP relay, and are enforced once one is configured.
func TestPromisesPage(t *testing.T) {
	for _, tt := range []struct {
		name     string
		smtp     string
		keeper   string
		mustShow []string
	}{
		{"no relay", "", "configured", []string{"CUSTOS_SMTP_ADDR"}},
		{"relay", "127.0.0.1:1", "enforced", []string{"TestPublishAnnouncesAndNotifies"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := webtest.Demo(t, func(c *config.Config) { c.SMTPAddr = tt.smtp })
			r := signedIn(t, d, operatorUser, operatorPW).get("/console/promises")
			if r.status != http.StatusOK {
				t.Fatalf("GET /console/promises: %d", r.status)
			}
			row := regexp.MustCompile(`<tr data-keeper="([a-z_]+)" id="promise-update_notice">[\s\S]*?</tr>`).FindStringSubmatch(r.body)
			if row == nil || row[1] != tt.keeper {
				t.Fatalf("update notice row %q, want keeper %s", row, tt.keeper)
			}
			for _, s := range tt.mustShow {
				if !strings.Contains(row[0], s) {
					t.Errorf("update notice row lacks %q: %s", s, row[0])
				}
			}
			// Retention is printed but nothing keeps it yet: said plainly.
			if !regexp.MustCompile(`<tr data-keeper="not_kept" id="promise-retention:`).MatchString(r.body) {
				t.Error("the starter's retention rules are not listed as not kept")
			}
			if !strings.Contains(r.body, `id="promise-counts"`) {
				t.Error("no counts by keeper")
			}
		})
	}
}
