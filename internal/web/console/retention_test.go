package console_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/approval"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/retention"
	"github.com/custos-privacy/custos/internal/web"
	"github.com/custos-privacy/custos/internal/web/console"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

// fakeSweep is a retention sweep with a fixed plan and runs, counting
// the runs asked for and who asked.
type fakeSweep struct {
	plan   retention.Plan
	runs   []console.RetentionRun
	runErr error
	// block, when set, holds Run until it is closed.
	block chan struct{}

	mu     sync.Mutex
	actors []audit.Actor
}

func (f *fakeSweep) Plan(context.Context) (retention.Plan, error) { return f.plan, nil }

func (f *fakeSweep) Runs(context.Context, int) ([]console.RetentionRun, error) { return f.runs, nil }

func (f *fakeSweep) Run(_ context.Context, a audit.Actor) (retention.Report, error) {
	if f.block != nil {
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.actors = append(f.actors, a)
	if f.runErr != nil {
		return retention.Report{Run: "rr_refused"}, f.runErr
	}
	return retention.Report{Run: "rr_now", Results: []retention.Result{{Rows: 40}, {Rows: 2}}, Certificates: []string{"ct_now"}}, nil
}

func (f *fakeSweep) ran() []audit.Actor {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]audit.Actor(nil), f.actors...)
}

// sweepConsole is, beside the demo server, a console on the demo's store
// whose retention sweep is a fake; the demo accounts sign in to it.
type sweepConsole struct {
	t   *testing.T
	URL string
}

func withSweep(t *testing.T, d *webtest.DemoServer, sweep console.Retention) *sweepConsole {
	t.Helper()
	st := d.Server.Store()
	ops, err := operator.New(st, operator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := console.New(console.Options{Consent: d.Server.Service(), Requests: d.Server.Requests(), Stats: consent.NewStats(st), Operators: ops,
		Approvals: approval.New(st, approval.Options{Subjects: d.Server.Service(), Requests: d.Server.Requests()}),
		Trail:     audit.NewTrail(st), Retention: sweep})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/console/", web.Secure(h))
	mux.Handle("/static/", web.Secure(web.Static()))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &sweepConsole{t: t, URL: srv.URL}
}

// as is a client signed in as user.
func (s *sweepConsole) as(user, pw string) *client {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: s.t, base: s.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if r := c.signIn(user, pw); r.status != http.StatusSeeOther {
		s.t.Fatalf("sign in as %s: status %d", user, r.status)
	}
	return c
}

func sweepFixture() *fakeSweep {
	at := time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC) // 00:00 on the 7th, China time
	cutoff := time.Date(2026, 6, 9, 16, 0, 0, 0, time.UTC)
	oldest := time.Date(2025, 1, 2, 1, 30, 0, 0, time.UTC)
	return &fakeSweep{
		plan: retention.Plan{At: at, Lines: []retention.Line{
			{Target: retention.Target{Rule: "orders_3y", Datastore: "shop", Collection: "orders", Action: "delete", Clock: "created_at"},
				Cutoff: &cutoff, Due: 1234, Held: 34, Oldest: &oldest, Holds: []string{"hl_court"}},
			{Target: retention.Target{Rule: "account_life", Datastore: "shop", Collection: "profiles", Action: "erase", Event: "account_deletion"},
				Keeper: retention.ByRequest},
			{Target: retention.Target{Rule: "marketing", Datastore: "crm", Collection: "segments", Action: "delete", Event: "consent_withdrawn"},
				Keeper: retention.ByWithdrawal, People: 7, Held: 1},
			{Target: retention.Target{Rule: "contract_end", Datastore: "crm", Collection: "contracts", Action: "anonymise", Event: "contract_ended"},
				Keeper: retention.NotObserved},
		}},
		runs: []console.RetentionRun{
			{ID: "rr_second", Instance: "custos-b", State: "failed", Started: at.Add(-time.Hour), Finished: at.Add(-50 * time.Minute),
				Report: retention.Report{Results: []retention.Result{{Rows: 3}}, Error: "pq: duplicate key value (email)=(lin.wei@example.com)"}},
			{ID: "rr_first", Instance: "custos-a", State: "done", Started: at.Add(-25 * time.Hour), Finished: at.Add(-24 * time.Hour),
				Report: retention.Report{Results: []retention.Result{{Rows: 100}, {Rows: 20}, {Rows: 0}}, Certificates: []string{"ct_one", "ct_two"}}},
		},
	}
}

// TestRetentionPage: every role reads the plan and the last runs, in
// counts and names only; only admins see and use Run now, which runs the
// sweep once, as them.
func TestRetentionPage(t *testing.T) {
	d := webtest.Demo(t)
	admin := signedIn(t, d, adminUser, adminPW)
	if r := admin.post("/console/operators", url.Values{"username": {"demo-auditor"}, "role": {"auditor"}, "password": {"auditor-password-1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("create auditor: %d %s", r.status, r.body)
	}
	sweep := sweepFixture()
	sc := withSweep(t, d, sweep)
	plan := []string{
		`data-rule="orders_3y"`, "<code>shop</code>", "<code>orders</code>", "<code>delete</code>",
		"2026-06-10 00:00", ">1234<", "34 <code>hl_court</code>", "2025-01-02 09:30",
		`data-keeper="account_cancellation_request"`, "Ends with the person&#39;s account cancellation request",
		`data-keeper="consent_withdrawal_sweep"`, "Ends with consent withdrawal: the next sweep covers 7 people", ">people: 7<", ">people: 1<",
		`data-keeper="not_observed"`, "Ends with an event Custos does not observe",
		"Worked out at 2026-12-07 00:00 (China time).",
	}
	runs := []string{
		`data-run="rr_second"`, "custos-b", ">failed<", `data-run="rr_first"`, "custos-a", ">done<",
		`<td data-label="Rows changed" class="rows">120</td>`, `<td data-label="Rows changed" class="rows">3</td>`,
		"<code>ct_one</code>", "<code>ct_two</code>",
	}
	for _, tc := range []struct {
		role, user, pw string
		runButton      bool
	}{
		{"auditor", "demo-auditor", "auditor-password-1", false},
		{"operator", operatorUser, operatorPW, false},
		{"admin", adminUser, adminPW, true},
	} {
		t.Run(tc.role, func(t *testing.T) {
			c := sc.as(tc.user, tc.pw)
			r := c.get("/console/retention")
			if r.status != http.StatusOK {
				t.Fatalf("GET /console/retention: %d", r.status)
			}
			for _, want := range append(append([]string{`href="/console/retention"`}, plan...), runs...) {
				if !strings.Contains(r.body, want) {
					t.Errorf("the page lacks %q", want)
				}
			}
			// A failed run's cause may quote a database's values: never shown.
			for _, absent := range []string{"lin.wei", "duplicate key", "No dataset annotation"} {
				if strings.Contains(r.body, absent) {
					t.Errorf("the page shows %q", absent)
				}
			}
			if got := strings.Contains(r.body, `action="/console/retention/run"`); got != tc.runButton {
				t.Errorf("Run now button shown: %v, want %v", got, tc.runButton)
			}
			if !tc.runButton {
				if r := c.post("/console/retention/run", nil); r.status != http.StatusForbidden {
					t.Errorf("POST run as %s: %d, want 403", tc.role, r.status)
				}
			}
		})
	}
	if n := len(sweep.ran()); n != 0 {
		t.Fatalf("the sweep ran %d times before an admin asked", n)
	}
	c := sc.as(adminUser, adminPW)
	r := c.post("/console/retention/run", nil)
	if r.status != http.StatusOK {
		t.Fatalf("run now: %d %s", r.status, r.body)
	}
	for _, want := range []string{"The sweep ran: 42 rows changed, 1 certificates issued.", "<code>rr_now</code>", "<code>ct_now</code>", `data-run="rr_first"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the answer to run now lacks %q", want)
		}
	}
	got := sweep.ran()
	if len(got) != 1 {
		t.Fatalf("the sweep ran %d times, want once", len(got))
	}
	adm, err := d.Server.Store().OperatorByUsername(context.Background(), adminUser)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].ID != "operator:"+adm.ID || got[0].Role != operator.RoleAdmin {
		t.Errorf("the sweep ran as %+v, want the admin operator:%s", got[0], adm.ID)
	}
	// Without the CSRF token the run is refused before it starts.
	if r := c.do("POST", "/console/retention/run", url.Values{}); r.status != http.StatusForbidden || len(sweep.ran()) != 1 {
		t.Errorf("run without a token: %d, sweep runs %d", r.status, len(sweep.ran()))
	}
}

// TestRetentionRunHeld: when another run holds the sweep, Run now says so
// and changes nothing.
func TestRetentionRunHeld(t *testing.T) {
	d := webtest.Demo(t)
	sweep := sweepFixture()
	sweep.runErr = retention.ErrRunning
	r := withSweep(t, d, sweep).as(adminUser, adminPW).post("/console/retention/run", nil)
	if r.status != http.StatusConflict || !strings.Contains(r.body, "Another run holds the sweep") {
		t.Errorf("run while held: %d, want 409 saying another run holds the sweep", r.status)
	}
	if strings.Contains(r.body, "rr_refused") {
		t.Error("the refused run is shown as if it ran")
	}
}

// TestRetentionRunLong: a sweep longer than Run now waits is answered
// as carrying on, and it does carry on to its end.
func TestRetentionRunLong(t *testing.T) {
	console.SetRunWait(t, 50*time.Millisecond)
	d := webtest.Demo(t)
	sweep := sweepFixture()
	sweep.block = make(chan struct{})
	r := withSweep(t, d, sweep).as(adminUser, adminPW).post("/console/retention/run", nil)
	if r.status != http.StatusAccepted || !strings.Contains(r.body, "The sweep is still running") || strings.Contains(r.body, "The sweep ran") {
		t.Errorf("run longer than the wait: %d, want 202 saying it carries on", r.status)
	}
	close(sweep.block)
	for end := time.Now().Add(5 * time.Second); len(sweep.ran()) == 0 && time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
	}
	if n := len(sweep.ran()); n != 1 {
		t.Errorf("the sweep ran %d times after the answer, want once", n)
	}
}

// TestRetentionOff: without a dataset the page says so in the reader's
// language and how to configure one; Run now has nothing to run.
func TestRetentionOff(t *testing.T) {
	d := webtest.Demo(t)
	c := signedIn(t, d, adminUser, adminPW)
	r := c.get("/console/retention")
	if r.status != http.StatusOK || !strings.Contains(r.body, "No dataset annotation is configured") || !strings.Contains(r.body, "--dataset") {
		t.Fatalf("GET /console/retention without a dataset: %d\n%s", r.status, r.body)
	}
	if strings.Contains(r.body, `action="/console/retention/run"`) {
		t.Error("Run now offered without a sweep")
	}
	zh := c.get("/console/retention?lang=zh-CN")
	if !strings.Contains(zh.body, "未配置数据集标注") || !strings.Contains(zh.body, "--dataset") {
		t.Errorf("the Chinese page does not say the dataset is missing:\n%s", zh.body)
	}
	if r := c.post("/console/retention/run", nil); r.status != http.StatusNotFound {
		t.Errorf("run without a sweep: %d, want 404", r.status)
	}
}
