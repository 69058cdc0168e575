package console_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/custos-privacy/custos/internal/web/webtest"
)

func browserSignIn(t *testing.T, ctx context.Context, d *webtest.DemoServer, user, pw string) {
	t.Helper()
	err := chromedp.Run(ctx,
		chromedp.Navigate(d.URL+"/console/signin?lang=en"),
		chromedp.WaitVisible("#signin-form"),
		chromedp.SendKeys("#username", user),
		chromedp.SendKeys("#password", pw),
		chromedp.Click("#signin"),
		chromedp.WaitVisible("#signout"),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", user, err)
	}
}

// TestBrowserRefusal: an operator refuses a verified request with a
// statutory ground and an explanation; the requester then sees both.
func TestBrowserRefusal(t *testing.T) {
	d := webtest.Demo(t)
	ctx := webtest.Browser(t)
	id, token := publicRequest(t, d, "access", "lin.wei@example.com")

	if err := chromedp.Run(ctx, chromedp.Navigate(d.URL+"/console/signin?lang=en"), chromedp.WaitVisible("#signin-form")); err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, ctx, "signin")
	browserSignIn(t, ctx, d, operatorUser, operatorPW)
	var listed string
	if err := chromedp.Run(ctx, chromedp.WaitVisible("#queue"), chromedp.Text("#queue", &listed)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(listed, id) {
		t.Errorf("queue does not list %s: %q", id, listed)
	}
	webtest.Screenshot(t, ctx, "queue")
	for _, page := range []string{"dashboard", "dataflow"} {
		path := map[string]string{"dashboard": "/console/?lang=en", "dataflow": "/console/dataflow?lang=en"}[page]
		if err := chromedp.Run(ctx, chromedp.Navigate(d.URL+path), chromedp.WaitVisible(".picture svg")); err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		webtest.Screenshot(t, ctx, page)
	}
	if err := chromedp.Run(ctx, chromedp.Navigate(d.URL+"/console/requests?lang=en"), chromedp.WaitVisible("#queue")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(390, 844), chromedp.Reload(), chromedp.WaitVisible("#queue")); err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, ctx, "queue-phone")
	if err := chromedp.Run(ctx, chromedp.EmulateViewport(webtest.Width, webtest.Height)); err != nil {
		t.Fatal(err)
	}

	const why = "We could not match the request to records we hold; please contact privacy@example.com."
	var state, explanation string
	err := chromedp.Run(ctx,
		chromedp.Navigate(d.URL+"/console/requests/"+id+"?lang=en"),
		chromedp.WaitVisible("#refuse-form"),
	)
	if err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, ctx, "request")
	err = chromedp.Run(ctx,
		chromedp.SetValue("#ground", "bad_faith"),
		chromedp.SendKeys("#refuse-explanation", why),
		chromedp.Click("#refuse"),
		chromedp.WaitVisible("#explanation"),
		chromedp.Text("#state", &state),
		chromedp.Text("#explanation", &explanation),
	)
	if err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, ctx, "refused")
	if state != "refused" || explanation != why {
		t.Errorf("after refusal: state %q, explanation %q", state, explanation)
	}

	var status struct {
		State         string `json:"state"`
		RefusalGround string `json:"refusal_ground"`
		Explanation   string `json:"explanation"`
	}
	if st := api(t, d, "GET", "/v1/public/requests/"+id, map[string]string{"X-Request-Token": token}, nil, &status); st != http.StatusOK {
		t.Fatalf("public status: %d", st)
	}
	if status.State != "refused" || status.RefusalGround != "bad_faith" || status.Explanation != why {
		t.Errorf("the requester sees %+v", status)
	}

	// The subject, in a browser of their own, follows the request in the
	// privacy center with its number and access code and reads the reason.
	subject := webtest.Browser(t)
	var shown string
	if err := chromedp.Run(subject,
		chromedp.Navigate(d.URL+"/privacy/?lang=en"),
		chromedp.WaitVisible("#follow-request"),
		chromedp.SendKeys("#follow-request", id),
		chromedp.SendKeys("#follow-token", token),
		chromedp.Submit("#follow-token"),
		chromedp.WaitVisible("#refusal-explanation"),
		chromedp.Text("#refusal-explanation", &shown),
	); err != nil {
		t.Fatalf("the subject cannot see the refusal in the privacy center: %v", err)
	}
	if strings.TrimSpace(shown) != why {
		t.Errorf("the privacy center shows %q, want the operator's explanation %q", shown, why)
	}
	webtest.Screenshot(t, subject, "subject-sees-refusal")
}

// TestBrowserBatchExport: an operator asks for a batch export, cannot
// approve it himself, a second operator approves it, and the requester
// downloads it once.
func TestBrowserBatchExport(t *testing.T) {
	d := webtest.Demo(t)
	req := webtest.Browser(t)
	browserSignIn(t, req, d, operatorUser, operatorPW)
	var apID string
	var ok bool
	var own string
	err := chromedp.Run(req,
		chromedp.Navigate(d.URL+"/console/approvals?lang=en"),
		chromedp.WaitVisible("#approval-form"),
		chromedp.SendKeys("#subjects", "demo-1001\ndemo-1002"),
		chromedp.SendKeys("#approval-reason", "Quarterly regulator audit sample"),
		chromedp.Click("#submit-approval"),
		chromedp.WaitVisible("#approvals"),
		chromedp.AttributeValue("#approvals tr[data-approval]", "data-approval", &apID, &ok),
		chromedp.Text("#approvals .own", &own),
	)
	if err != nil || !ok {
		t.Fatalf("request export: %v", err)
	}
	webtest.Screenshot(t, req, "requested")
	if own == "" {
		t.Error("the requester is offered to approve his own export")
	}
	// Nor can he approve it by posting the form himself.
	self := signedIn(t, d, operatorUser, operatorPW)
	if r := self.post("/console/approvals/"+apID+"/approve", nil); r.status != http.StatusForbidden {
		t.Errorf("self-approval by form: status %d, want 403", r.status)
	}

	approver := webtest.Browser(t)
	browserSignIn(t, approver, d, approverUser, approverPW)
	var state string
	err = chromedp.Run(approver,
		chromedp.Navigate(d.URL+"/console/approvals?lang=en"),
		chromedp.WaitVisible("#approvals"),
	)
	if err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, approver, "to-approve")
	err = chromedp.Run(approver,
		chromedp.Click(`tr[data-approval="`+apID+`"] button.approve`),
		chromedp.WaitVisible(".notice"),
		chromedp.Text(`tr[data-approval="`+apID+`"] .state`, &state),
	)
	if err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, approver, "approved")
	if state != "approved" {
		t.Errorf("after approval the state is %q", state)
	}

	dir := t.TempDir()
	err = chromedp.Run(req,
		browser.SetDownloadBehavior(browser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(dir),
		chromedp.Navigate(d.URL+"/console/approvals?lang=en"),
		chromedp.WaitVisible(`tr[data-approval="`+apID+`"] button.download`),
	)
	if err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, req, "download")
	if err := chromedp.Run(req, chromedp.Click(`tr[data-approval="`+apID+`"] button.download`)); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "custos-export-"+apID+".json")
	var body []byte
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if body, err = os.ReadFile(file); err == nil && len(body) > 0 {
			break
		}
	}
	if !strings.Contains(string(body), `"demo-1001"`) || !strings.Contains(string(body), `"demo-1002"`) {
		t.Fatalf("downloaded export %s: %.200q", file, body)
	}
	err = chromedp.Run(req,
		chromedp.Navigate(d.URL+"/console/approvals?lang=en"),
		chromedp.WaitVisible("#approvals"),
		chromedp.Text(`tr[data-approval="`+apID+`"] .state`, &state),
	)
	if err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, req, "downloaded")
	if state != "executed" {
		t.Errorf("after the download the state is %q", state)
	}
	if r := self.post("/console/approvals/"+apID+"/download", nil); r.status != http.StatusConflict {
		t.Errorf("second download: status %d, want 409", r.status)
	}
}

// TestBrowserRetention: an admin reads the retention plan and runs the
// sweep now, confirming first; the page passes the accessibility audit.
func TestBrowserRetention(t *testing.T) {
	d := webtest.Demo(t)
	sweep := sweepFixture()
	sc := withSweep(t, d, sweep)
	ctx := webtest.Browser(t)
	chromedp.ListenTarget(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go chromedp.Run(ctx, page.HandleJavaScriptDialog(true))
		}
	})
	var notice string
	err := chromedp.Run(ctx,
		chromedp.Navigate(sc.URL+"/console/signin?lang=en"),
		chromedp.WaitVisible("#signin-form"),
		chromedp.SendKeys("#username", adminUser),
		chromedp.SendKeys("#password", adminPW),
		chromedp.Click("#signin"),
		chromedp.WaitVisible("#signout"),
		chromedp.Navigate(sc.URL+"/console/retention?lang=en"),
		chromedp.WaitVisible("#retention-plan"),
	)
	if err != nil {
		t.Fatal(err)
	}
	webtest.Audit(t, ctx, "retention")
	webtest.Screenshot(t, ctx, "retention")
	err = chromedp.Run(ctx,
		chromedp.Click("#retention-run"),
		chromedp.WaitVisible("#retention-ran"),
		chromedp.Text(".notice", &notice),
	)
	if err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, ctx, "retention-ran")
	if !strings.Contains(notice, "42 rows changed") || len(sweep.ran()) != 1 {
		t.Errorf("after Run now: notice %q, sweep runs %d", notice, len(sweep.ran()))
	}
}
