package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

// testStaff acts for the tests that set requests up through the service.
var testStaff = consent.Actor{ID: "operator-test", Role: "operator", Place: "test"}

// repeatedRequest files, for a demo subject, a request of access the
// starter counts as repeated (its fifth within a year, the four before
// withdrawn), so that its fee rule allows a fee, and starts work on it.
func repeatedRequest(t *testing.T, d *webtest.DemoServer, subject string) string {
	t.Helper()
	svc, ctx := d.Server.Requests(), context.Background()
	var id string
	for i := range 5 {
		v, err := svc.SubmitOperator(ctx, testStaff, dsr.Input{Type: "access", Jurisdiction: "CN", Language: "en", SubjectID: subject,
			Verification: "operator", Evidence: "seen in person"})
		if err != nil {
			t.Fatal(err)
		}
		if i < 4 {
			if _, err := svc.Withdraw(ctx, testStaff, v.ID); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := svc.Approve(ctx, testStaff, v.ID); err != nil {
			t.Fatal(err)
		}
		id = v.ID
	}
	return id
}

// failedTransmission files and completes a portability request whose
// third party's endpoint is on a private network, which egress refuses:
// its transmission fails at the first attempt. It returns the request's id.
func failedTransmission(t *testing.T, d *webtest.DemoServer, email string) string {
	t.Helper()
	var acc struct {
		ID          string `json:"id"`
		AccessToken string `json:"access_token"`
	}
	in := map[string]any{"type": "portability", "language": "en", "identity": map[string]string{"kind": "email", "value": email},
		"details": map[string]any{"transmit_to": map[string]string{"name": "Acme Cloud", "endpoint": "https://10.0.0.7/import?token=s3cr3t"}}}
	if st := api(t, d, "POST", "/v1/public/requests", nil, in, &acc); st != http.StatusAccepted || acc.ID == "" {
		t.Fatalf("public request: status %d, %+v", st, acc)
	}
	if st := api(t, d, "POST", "/v1/public/requests/"+acc.ID+"/verify", map[string]string{"X-Request-Token": acc.AccessToken},
		map[string]string{"code": d.Code(t, email)}, nil); st != http.StatusOK {
		t.Fatalf("verify: status %d", st)
	}
	svc, ctx := d.Server.Requests(), context.Background()
	if _, err := svc.Approve(ctx, testStaff, acc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Complete(ctx, testStaff, acc.ID, dsr.CompleteInput{}); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.Transmit(ctx); err != nil || n.Failed != 1 {
		t.Fatalf("transmit: %+v, %v", n, err)
	}
	return acc.ID
}

// auditorClient makes an auditor account and signs it in.
func auditorClient(t *testing.T, d *webtest.DemoServer, admin *client) *client {
	t.Helper()
	if r := admin.post("/console/operators", url.Values{"username": {"fee-auditor"}, "role": {"auditor"}, "password": {"auditor-password-1"}}); r.status != http.StatusSeeOther {
		t.Fatalf("create auditor: %d", r.status)
	}
	return signedIn(t, d, "fee-auditor", "auditor-password-1")
}

// TestFeeAndRetryForms: staff ask a fee where the policy's fee rule
// allows one, record it paid or waive it, and send a failed transmission
// again, from the request page. Each form is offered only where it
// applies and to those who may use it; a form posted in the wrong state
// is refused with the service's reason, one without its CSRF token or by
// an auditor changes nothing.
func TestFeeAndRetryForms(t *testing.T) {
	d := webtest.Demo(t)
	admin := signedIn(t, d, adminUser, adminPW)
	staff := signedIn(t, d, operatorUser, operatorPW)
	auditor := auditorClient(t, d, admin)
	svc := d.Server.Requests()
	repeated := repeatedRequest(t, d, "demo-1002")
	ordinary, _ := publicRequest(t, d, "access", "lin.wei@example.com")
	if _, err := svc.Approve(context.Background(), testStaff, ordinary); err != nil {
		t.Fatal(err)
	}
	failed := failedTransmission(t, d, "alex.chen@example.org")
	rq := func(id string) string { return "/console/requests/" + id }
	state := func(id string) dsr.View {
		t.Helper()
		v, err := svc.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	noCSRF := func(c *client, path string, form url.Values) resp { return c.do("POST", path, form) }
	fee := url.Values{"amount": {"20"}, "currency": {"CNY"}, "reason": {"The fifth copy this year costs what it takes to make."}}

	// What each page offers, to whom.
	for _, tc := range []struct {
		name     string
		c        *client
		id       string
		has, not []string
	}{
		{"repeated, operator", staff, repeated, []string{`id="fee-form"`, `<option value="CNY">CNY</option><option value="HKD">`, "Ask a fee"}, []string{`id="fee-settle-form"`, `id="retry-form"`}},
		{"repeated, auditor", auditor, repeated, nil, []string{`id="fee-form"`, `id="fee-settle-form"`}},
		{"not repeated: the starter charges nothing", staff, ordinary, nil, []string{`id="fee-form"`}},
		{"failed transmission, operator", staff, failed, []string{`id="retry-form"`, "Retry the transmission"}, []string{`id="fee-form"`, "s3cr3t", "/import"}},
		{"failed transmission, auditor", auditor, failed, nil, []string{`id="retry-form"`}},
	} {
		r := tc.c.get(rq(tc.id))
		if r.status != http.StatusOK {
			t.Fatalf("%s: status %d", tc.name, r.status)
		}
		for _, s := range tc.has {
			if !strings.Contains(r.body, s) {
				t.Errorf("%s: the page lacks %q", tc.name, s)
			}
		}
		for _, s := range tc.not {
			if strings.Contains(r.body, s) {
				t.Errorf("%s: the page shows %q", tc.name, s)
			}
		}
	}

	// The forms, in order: each step's outcome, and the request after it.
	for _, tc := range []struct {
		name       string
		post       func() resp
		status     int
		done, body string // the redirect's done=, or what the refusal says
		id, after  string // the request and its state after the step
	}{
		{"fee without a CSRF token", func() resp { return noCSRF(staff, rq(repeated)+"/fee", fee) }, http.StatusForbidden, "", "", repeated, dsr.StateInProgress},
		{"fee by an auditor", func() resp { return auditor.post(rq(repeated)+"/fee", fee) }, http.StatusForbidden, "", "", repeated, dsr.StateInProgress},
		{"fee the policy does not allow", func() resp { return staff.post(rq(ordinary)+"/fee", fee) }, http.StatusConflict, "", "only for repeated requests", ordinary, dsr.StateInProgress},
		{"fee with a bad amount", func() resp {
			return staff.post(rq(repeated)+"/fee", url.Values{"amount": {"20.005"}, "currency": {"CNY"}, "reason": {"x"}})
		}, http.StatusUnprocessableEntity, "", "at most two places", repeated, dsr.StateInProgress},
		{"paid before a fee is asked", func() resp { return staff.post(rq(repeated)+"/fee/paid", nil) }, http.StatusConflict, "", "no fee is awaited", repeated, dsr.StateInProgress},
		{"fee asked", func() resp { return staff.post(rq(repeated)+"/fee", fee) }, http.StatusSeeOther, "fee_asked", "", repeated, dsr.StateAwaitingFee},
		{"fee asked twice", func() resp { return staff.post(rq(repeated)+"/fee", fee) }, http.StatusConflict, "", "already asked", repeated, dsr.StateAwaitingFee},
		{"paid without a CSRF token", func() resp { return noCSRF(staff, rq(repeated)+"/fee/paid", url.Values{}) }, http.StatusForbidden, "", "", repeated, dsr.StateAwaitingFee},
		{"paid by an auditor", func() resp { return auditor.post(rq(repeated)+"/fee/paid", nil) }, http.StatusForbidden, "", "", repeated, dsr.StateAwaitingFee},
		{"waived by an auditor", func() resp { return auditor.post(rq(repeated)+"/fee/waive", nil) }, http.StatusForbidden, "", "", repeated, dsr.StateAwaitingFee},
		{"fee paid", func() resp { return staff.post(rq(repeated)+"/fee/paid", nil) }, http.StatusSeeOther, "fee_paid", "", repeated, dsr.StateInProgress},
		{"paid twice", func() resp { return staff.post(rq(repeated)+"/fee/paid", nil) }, http.StatusConflict, "", "no fee is awaited", repeated, dsr.StateInProgress},
		{"a second fee asked", func() resp { return staff.post(rq(repeated)+"/fee", fee) }, http.StatusSeeOther, "fee_asked", "", repeated, dsr.StateAwaitingFee},
		{"waived without a CSRF token", func() resp { return noCSRF(staff, rq(repeated)+"/fee/waive", url.Values{}) }, http.StatusForbidden, "", "", repeated, dsr.StateAwaitingFee},
		{"fee waived", func() resp { return staff.post(rq(repeated)+"/fee/waive", nil) }, http.StatusSeeOther, "fee_waived", "", repeated, dsr.StateInProgress},
		{"waived twice", func() resp { return staff.post(rq(repeated)+"/fee/waive", nil) }, http.StatusConflict, "", "no fee is awaited", repeated, dsr.StateInProgress},
		{"retry with nothing failed", func() resp { return staff.post(rq(ordinary)+"/transmission/retry", nil) }, http.StatusConflict, "", "no failed transmission", ordinary, dsr.StateInProgress},
		{"retry without a CSRF token", func() resp { return noCSRF(staff, rq(failed)+"/transmission/retry", url.Values{}) }, http.StatusForbidden, "", "", failed, dsr.StateCompleted},
		{"retry by an auditor", func() resp { return auditor.post(rq(failed)+"/transmission/retry", nil) }, http.StatusForbidden, "", "", failed, dsr.StateCompleted},
		{"retried", func() resp { return staff.post(rq(failed)+"/transmission/retry", nil) }, http.StatusSeeOther, "transmission_retried", "", failed, dsr.StateCompleted},
		{"retried twice", func() resp { return staff.post(rq(failed)+"/transmission/retry", nil) }, http.StatusConflict, "", "no failed transmission", failed, dsr.StateCompleted},
	} {
		r := tc.post()
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.status)
		}
		if tc.done != "" {
			if want := rq(tc.id) + "?done=" + tc.done; r.header.Get("Location") != want {
				t.Errorf("%s: sent to %q, want %q", tc.name, r.header.Get("Location"), want)
			}
		}
		if tc.body != "" && !strings.Contains(r.body, tc.body) {
			t.Errorf("%s: the answer does not say %q: %.400s", tc.name, tc.body, r.body)
		}
		if got := state(tc.id).State; got != tc.after {
			t.Errorf("%s: the request is %s, want %s", tc.name, got, tc.after)
		}
	}

	v := state(repeated)
	if v.Flags.Fee == nil || v.Flags.Fee.State != dsr.FeeWaived {
		t.Errorf("fee after the forms = %+v, want waived", v.Flags.Fee)
	}
	v = state(failed)
	if tr := v.Transmissions; len(tr) != 1 || tr[0].State != dsr.TransmissionPending || tr[0].Attempts != 0 {
		t.Errorf("transmission after the retry = %+v", tr)
	}
	r := staff.get(rq(failed))
	for _, want := range []string{`data-transmission="pending"`, dsr.NoteTransmissionRetry} {
		if !strings.Contains(r.body, want) {
			t.Errorf("after the retry the page lacks %q", want)
		}
	}
	for _, not := range []string{`id="retry-form"`, "s3cr3t", "alex.chen@example.org"} {
		if strings.Contains(r.body, not) {
			t.Errorf("after the retry the page shows %q", not)
		}
	}
}
