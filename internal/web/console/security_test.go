package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

// TestSignInRateLimit: a client address gets 20 sign-in attempts per 15
// minutes; past them the sign-in page answers 429 without checking.
func TestSignInRateLimit(t *testing.T) {
	d := webtest.Demo(t)
	c := newClient(t, d)
	for i := range 20 {
		if r := c.signIn("nobody-here", "not-the-password"); r.status != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i+1, r.status)
		}
	}
	r := c.signIn(adminUser, adminPW)
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("attempt 21: status %d, want 429", r.status)
	}
	if !strings.Contains(r.body, `id="signin-form"`) || !strings.Contains(r.body, "Too many sign-in attempts") {
		t.Errorf("the 429 answer is not the sign-in page with its alert")
	}
}

// approvalOf finds the newest approval requested.
func newestApproval(t *testing.T, d *webtest.DemoServer) store.Approval {
	t.Helper()
	list, err := d.Server.Store().Approvals(context.Background(), 1)
	if err != nil || len(list) == 0 {
		t.Fatalf("approvals: %v, %v", list, err)
	}
	return list[0]
}

// TestApproverPasswordSetByRequester: an admin who creates an account
// (or resets its password) cannot use it to approve their own batch;
// once the account's owner changes the password, it is theirs.
func TestApproverPasswordSetByRequester(t *testing.T) {
	d := webtest.Demo(t)
	admin := signedIn(t, d, adminUser, adminPW)
	if r := admin.post("/console/approvals", url.Values{"kind": {"batch_export"}, "scope": {"subjects"}, "subjects": {"demo-1001"}, "reason": {"audit"}}); r.status != http.StatusSeeOther {
		t.Fatalf("request: %d %s", r.status, r.body)
	}
	ap := newestApproval(t, d)
	if r := admin.post("/console/operators", url.Values{"username": {"sock"}, "role": {"operator"}, "password": {"sock-password-1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("create: %d", r.status)
	}
	sock := signedIn(t, d, "sock", "sock-password-1")
	r := sock.post("/console/approvals/"+ap.ID+"/approve", nil)
	if r.status != http.StatusForbidden || !strings.Contains(r.body, "your password was set by the requester") {
		t.Fatalf("approval by an account the requester made: %d %.300s", r.status, r.body)
	}
	// A reset by the admin does the same to an existing account.
	if r := admin.post("/console/operators/"+approverUser+"/password", url.Values{"password": {"reset-by-admin-1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("reset: %d", r.status)
	}
	approver := signedIn(t, d, approverUser, "reset-by-admin-1")
	if r := approver.post("/console/approvals/"+ap.ID+"/approve", nil); r.status != http.StatusForbidden {
		t.Fatalf("approval by an account the requester reset: %d", r.status)
	}
	entries, err := d.Server.Store().AuditEntries(context.Background(), store.AuditFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	denied := 0
	for _, e := range entries {
		if e.Action == "approval.approve" && e.Outcome == "denied" && strings.Contains(e.Detail, "password_set_by_requester") {
			denied++
		}
	}
	if denied != 2 {
		t.Errorf("%d refused decisions audited, want 2", denied)
	}
	// The owner makes the account theirs, then may decide.
	if r := sock.get("/console/account"); r.status != http.StatusOK || !strings.Contains(r.body, "admin") {
		t.Fatalf("account page: %d", r.status)
	}
	if r := sock.post("/console/account/password", url.Values{"current": {"sock-password-1"}, "password": {"only-sock-knows"}, "repeat": {"only-sock-knows"}}); r.status != http.StatusSeeOther {
		t.Fatalf("change password: %d %.300s", r.status, r.body)
	}
	sock = signedIn(t, d, "sock", "only-sock-knows")
	if r := sock.post("/console/approvals/"+ap.ID+"/approve", nil); r.status != http.StatusSeeOther {
		t.Fatalf("approval by the account's owner: %d %.300s", r.status, r.body)
	}
}

// inProcess sends a form straight to the server's handler with the
// client's cookies and the context given.
func inProcess(t *testing.T, d *webtest.DemoServer, c *client, ctx context.Context, path string, form url.Values) *httptest.ResponseRecorder {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", c.csrf())
	req := httptest.NewRequestWithContext(ctx, "POST", d.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	u, _ := url.Parse(d.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	req.RemoteAddr = "127.0.0.1:1234"
	rec := httptest.NewRecorder()
	d.Server.Handler().ServeHTTP(rec, req)
	return rec
}

// TestDestructionSurvivesDroppedConnection: once approved, a destruction
// runs to its end even when the approver's connection is gone.
func TestDestructionSurvivesDroppedConnection(t *testing.T) {
	d := webtest.Demo(t)
	op := signedIn(t, d, operatorUser, operatorPW)
	subjects := []string{"demo-1001", "demo-1002"}
	for i := range 300 {
		subjects = append(subjects, fmt.Sprintf("gone-%d", i))
	}
	if r := op.post("/console/approvals", url.Values{"kind": {"batch_destruction"}, "subjects": {strings.Join(subjects, "\n")}, "reason": {"retention ended"}}); r.status != http.StatusSeeOther {
		t.Fatalf("request: %d %s", r.status, r.body)
	}
	ap := newestApproval(t, d)
	approver := signedIn(t, d, approverUser, approverPW)
	// The browser goes away as soon as the approval is recorded.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if a, err := d.Server.Store().Approval(context.Background(), ap.ID); err == nil && a.State != store.ApprovalPending {
				cancel()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	inProcess(t, d, approver, ctx, "/console/approvals/"+ap.ID+"/approve", nil)
	var got store.Approval
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		var err error
		if got, err = d.Server.Store().Approval(context.Background(), ap.ID); err != nil {
			t.Fatal(err)
		}
		if got.State == store.ApprovalExecuted {
			break
		}
	}
	if got.State != store.ApprovalExecuted {
		t.Fatalf("after the dropped connection the destruction is %s, want executed", got.State)
	}
	var out []struct{ Subject, Request, Error string }
	json.Unmarshal([]byte(got.Result), &out)
	if len(out) != len(subjects) {
		t.Fatalf("result covers %d subjects, want %d", len(out), len(subjects))
	}
	for _, o := range out {
		if o.Error == "internal" {
			t.Fatalf("subject %s failed: the run was cut short", o.Subject)
		}
	}
}

// TestDestructionResume: a destruction approved but stopped half-way is
// resumed from the approvals page, from where it stopped, and is marked
// executed only when every subject is dealt with.
func TestDestructionResume(t *testing.T) {
	d := webtest.Demo(t)
	st := d.Server.Store()
	ctx := context.Background()
	op, _ := st.OperatorByUsername(ctx, operatorUser)
	appr, _ := st.OperatorByUsername(ctx, approverUser)
	now := time.Now()
	a := store.Approval{ID: "ap_halfway", Kind: store.ApprovalBatchDestruction, Params: `{"scope":"subjects","subjects":["demo-1001","demo-1002"]}`,
		Reason: "retention ended", RequestedBy: op.ID, CreatedAt: now}
	if err := st.CreateApproval(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := st.DecideApproval(ctx, a.ID, appr.ID, true, "", now); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordApprovalProgress(ctx, a.ID, `[{"subject":"demo-1001","request":"rq_done_before"}]`); err != nil {
		t.Fatal(err)
	}
	c := signedIn(t, d, operatorUser, operatorPW)
	page := c.get("/console/approvals")
	if !strings.Contains(page.body, `/console/approvals/ap_halfway/resume`) || !strings.Contains(page.body, "1 of 2 subjects done") {
		t.Fatalf("the approvals page offers no resume for the stopped destruction")
	}
	if r := c.post("/console/approvals/ap_halfway/resume", nil); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "done=resumed") {
		t.Fatalf("resume: %d %s", r.status, r.header.Get("Location"))
	}
	got, _ := st.Approval(ctx, a.ID)
	var out []struct{ Subject, Request, Error string }
	json.Unmarshal([]byte(got.Result), &out)
	if got.State != store.ApprovalExecuted || len(out) != 2 || out[0].Request != "rq_done_before" || out[1].Subject != "demo-1002" || out[1].Request == "" {
		t.Fatalf("after resume: %s %s", got.State, got.Result)
	}
	if r := c.post("/console/approvals/ap_halfway/resume", nil); r.status != http.StatusConflict {
		t.Errorf("resume of an executed destruction: %d, want 409", r.status)
	}
}

// TestExportLimits: an export period cannot end in the future; an
// approved export expires after 7 days; the ledger export is streamed
// whole, once.
func TestExportLimits(t *testing.T) {
	d := webtest.Demo(t)
	st := d.Server.Store()
	ctx := context.Background()
	c := signedIn(t, d, operatorUser, operatorPW)
	china := time.FixedZone("CST", 8*3600)
	today := time.Now().In(china)
	if r := c.post("/console/approvals", url.Values{"kind": {"batch_export"}, "scope": {"ledger"}, "from": {today.Format("2006-01-02")},
		"to": {today.AddDate(0, 0, 1).Format("2006-01-02")}, "reason": {"audit"}}); r.status != http.StatusUnprocessableEntity {
		t.Errorf("a period ending tomorrow: %d, want 422", r.status)
	}

	op, _ := st.OperatorByUsername(ctx, operatorUser)
	appr, _ := st.OperatorByUsername(ctx, approverUser)
	old := time.Now().Add(-8 * 24 * time.Hour)
	a := store.Approval{ID: "ap_old", Kind: store.ApprovalBatchExport, Params: `{"scope":"subjects","subjects":["demo-1001"]}`, Reason: "r", RequestedBy: op.ID, CreatedAt: old}
	st.CreateApproval(ctx, a)
	if err := st.DecideApproval(ctx, a.ID, appr.ID, true, "", old); err != nil {
		t.Fatal(err)
	}
	page := c.get("/console/approvals")
	row := page.body[strings.Index(page.body, `data-approval="ap_old"`):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, "expired") || strings.Contains(row, "/download") {
		t.Errorf("the expired export's row: %s", row)
	}
	if r := c.post("/console/approvals/ap_old/download", nil); r.status != http.StatusGone {
		t.Errorf("download of an expired export: %d, want 410", r.status)
	}

	from := today.AddDate(0, 0, -400).Format("2006-01-02")
	if r := c.post("/console/approvals", url.Values{"kind": {"batch_export"}, "scope": {"ledger"}, "from": {from}, "to": {today.Format("2006-01-02")}, "reason": {"audit"}}); r.status != http.StatusSeeOther {
		t.Fatalf("ledger export request: %d %s", r.status, r.body)
	}
	ledger := newestApproval(t, d)
	if r := signedIn(t, d, approverUser, approverPW).post("/console/approvals/"+ledger.ID+"/approve", nil); r.status != http.StatusSeeOther {
		t.Fatalf("approve: %d", r.status)
	}
	r := c.post("/console/approvals/"+ledger.ID+"/download", nil)
	if r.status != http.StatusOK {
		t.Fatalf("download: %d %.300s", r.status, r.body)
	}
	var doc struct {
		Approval string            `json:"approval"`
		Records  int               `json:"records"`
		Events   []json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.body), &doc); err != nil {
		t.Fatalf("the export is not one JSON document: %v: %.300s", err, r.body)
	}
	if doc.Approval != ledger.ID || doc.Records == 0 || len(doc.Events) != doc.Records {
		t.Errorf("export of %s: %d records announced, %d events", doc.Approval, doc.Records, len(doc.Events))
	}
	if r := c.post("/console/approvals/"+ledger.ID+"/download", nil); r.status != http.StatusConflict {
		t.Errorf("second download: %d, want 409", r.status)
	}
}
