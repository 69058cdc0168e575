package center_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

var isoDate = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// chromium starts Chromium and, when the test ends, closes it and waits for
// it to exit before its profile directory is removed.
func chromium(t *testing.T) context.Context {
	ctx := webtest.Browser(t)
	t.Cleanup(func() { chromedp.Cancel(ctx) })
	return ctx
}

// run runs one step with its own time limit; when it fails, what the page
// shows is logged and saved, while the browser can still tell.
func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(sctx, actions...); err != nil {
		var loc, text string
		chromedp.Run(ctx, chromedp.Location(&loc), chromedp.Text("main", &text, chromedp.ByQuery))
		webtest.Screenshot(t, ctx, "failed-"+step)
		t.Fatalf("%s: %v\nat %s the page says:\n%s", step, err, loc, text)
	}
}

// A privacy-center request from form to verified status, in a real browser.
func TestBrowserRequestFromFormToVerifiedStatus(t *testing.T) {
	d := webtest.Demo(t)
	ctx := chromium(t)
	const email = "lin.wei@example.com"

	run(t, ctx, "open home",
		chromedp.Navigate(d.URL+"/privacy/?lang=en"),
		chromedp.WaitVisible("#go-requests"),
	)
	webtest.Screenshot(t, ctx, "1-home")

	run(t, ctx, "request types",
		chromedp.Click("#go-requests"),
		chromedp.WaitVisible(`a[data-right="access"]`),
	)
	webtest.Screenshot(t, ctx, "2-request-types")

	run(t, ctx, "fill form",
		chromedp.Click(`a[data-right="access"]`),
		chromedp.WaitVisible("#request-form"),
		chromedp.SendKeys("#identity", email),
	)
	webtest.Screenshot(t, ctx, "3-form")

	var notice string
	run(t, ctx, "submit",
		chromedp.Click("#submit-request"),
		chromedp.WaitVisible("#verify-form"),
		chromedp.Text(".notice", &notice),
	)
	if !strings.Contains(notice, "If this identity is on file") {
		t.Errorf("verify page says %q", notice)
	}
	webtest.Screenshot(t, ctx, "4-verify")

	var state, due, body string
	run(t, ctx, "verify",
		chromedp.SendKeys("#code", d.Code(t, email)),
		chromedp.Click("#verify-submit"),
		chromedp.WaitVisible("#due-date"),
		chromedp.Text("#request-state", &state),
		chromedp.Text("#due-date", &due),
		chromedp.Text("main", &body),
	)
	if state != "Verified" {
		t.Errorf("state %q, want Verified", state)
	}
	if !isoDate.MatchString(due) {
		t.Errorf("due date %q", due)
	}
	if strings.Contains(body, email) {
		t.Error("the status page shows the email address")
	}
	webtest.Screenshot(t, ctx, "5-verified-status")

	var overflow bool
	run(t, ctx, "phone width",
		chromedp.EmulateViewport(390, 844),
		chromedp.Reload(),
		chromedp.WaitVisible("#due-date"),
		chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow),
	)
	if overflow {
		t.Error("the status page scrolls sideways at 390 px")
	}
	webtest.Screenshot(t, ctx, "6-verified-status-phone")
}

// The consent page in a real browser: sign in, withdraw, reload, withdrawn.
func TestBrowserConsentWithdrawal(t *testing.T) {
	d := webtest.Demo(t)
	ordinary, _, _ := consentPurposes(t, d.Server.Service())
	ctx := chromium(t)
	const email = "lin.wei@example.com"
	card := "#p-demo-1001-" + ordinary

	var before, after string
	var ok bool
	run(t, ctx, "sign in",
		chromedp.Navigate(d.URL+"/privacy/consents?lang=en"),
		chromedp.WaitVisible("#signin-form"),
		chromedp.SendKeys("#identity", email),
		chromedp.Click(`#signin-form button[type="submit"]`),
		chromedp.WaitVisible("#code-form"),
	)
	run(t, ctx, "enter code",
		chromedp.SendKeys("#code", d.Code(t, email)),
		chromedp.Click(`#code-form button[type="submit"]`),
		chromedp.WaitVisible(card),
		chromedp.AttributeValue(card+" [data-state]", "data-state", &before, &ok),
	)
	if before != "granted" {
		t.Fatalf("%s starts %q, want granted", ordinary, before)
	}
	webtest.Screenshot(t, ctx, "1-consents")
	run(t, ctx, "withdraw and reload",
		chromedp.Click(card+` button[data-action="withdraw"]`),
		chromedp.WaitVisible(`.notice[role="status"]`),
		chromedp.Reload(),
		chromedp.WaitVisible(card),
		chromedp.AttributeValue(card+" [data-state]", "data-state", &after, &ok),
	)
	if after != "withdrawn" {
		t.Errorf("after withdrawal and reload %s is %q, want withdrawn", ordinary, after)
	}
	webtest.Screenshot(t, ctx, "2-withdrawn")
}
