package center_test

import (
	"context"
	"net/url"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
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

// A privacy-center request from form to verified status, in a real browser.
func TestBrowserRequestFromFormToVerifiedStatus(t *testing.T) {
	d := webtest.Demo(t)
	ctx := chromium(t)
	const email = "lin.wei@example.com"

	webtest.Step(t, ctx, "open home",
		chromedp.Navigate(d.URL+"/privacy/?lang=en"),
		chromedp.WaitVisible("#go-requests"),
	)
	webtest.Screenshot(t, ctx, "1-home")

	webtest.Step(t, ctx, "request types",
		chromedp.Click("#go-requests"),
		chromedp.WaitVisible(`a[data-right="access"]`),
	)
	webtest.Screenshot(t, ctx, "2-request-types")

	webtest.Step(t, ctx, "fill form",
		chromedp.Click(`a[data-right="access"]`),
		chromedp.WaitVisible("#request-form"),
		chromedp.SendKeys("#identity", email),
	)
	webtest.Screenshot(t, ctx, "3-form")

	var notice string
	webtest.Step(t, ctx, "submit",
		chromedp.Click("#submit-request"),
		chromedp.WaitVisible("#verify-form"),
		chromedp.Text(".notice", &notice),
	)
	if !strings.Contains(notice, "If this identity is on file") {
		t.Errorf("verify page says %q", notice)
	}
	webtest.Screenshot(t, ctx, "4-verify")

	var state, due, body string
	webtest.Step(t, ctx, "verify",
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
	webtest.Step(t, ctx, "phone width",
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
	webtest.Step(t, ctx, "sign in",
		chromedp.Navigate(d.URL+"/privacy/consents?lang=en"),
		chromedp.WaitVisible("#signin-form"),
		chromedp.SendKeys("#identity", email),
		chromedp.Click(`#signin-form button[type="submit"]`),
		chromedp.WaitVisible("#code-form"),
	)
	webtest.Step(t, ctx, "enter code",
		chromedp.SendKeys("#code", d.Code(t, email)),
		chromedp.Click(`#code-form button[type="submit"]`),
		chromedp.WaitVisible(card),
		chromedp.AttributeValue(card+" [data-state]", "data-state", &before, &ok),
	)
	if before != "granted" {
		t.Fatalf("%s starts %q, want granted", ordinary, before)
	}
	webtest.Screenshot(t, ctx, "1-consents")
	webtest.Step(t, ctx, "withdraw and reload",
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

// A visitor whose browser asks for Chinese walks the public pages — home,
// the policy, the difference between the starter's two versions, a rights
// request from its form to its outcome — and reads only Chinese, with
// the policy's names for things: no manifest identifier, path, comment or
// unit id, and no English sentence. Each page is saved as a screenshot.
func TestBrowserPublicPagesInChinese(t *testing.T) {
	d := webtest.Demo(t)
	src, err := os.ReadFile(starterV2)
	if err != nil {
		t.Fatal(err)
	}
	d.PublishAfterNotice(t, src)
	ctx := chromium(t)
	webtest.Step(t, ctx, "ask for Chinese",
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": "zh-CN,zh;q=0.9"}),
	)
	w := newWording(t, "zh-CN", starterV1, starterV2)
	const email = "lin.wei@example.com"

	// read checks what the page in the window shows and saves it.
	read := func(t *testing.T, name string, want ...string) {
		t.Helper()
		var text, lang string
		webtest.Step(t, ctx, "read "+name,
			chromedp.WaitVisible("main"),
			chromedp.Evaluate(`document.documentElement.lang`, &lang),
			chromedp.Text("body", &text, chromedp.ByQuery),
		)
		webtest.Screenshot(t, ctx, name)
		if lang != "zh-CN" {
			t.Errorf("%s: the page is in %q, not the Chinese the browser asked for", name, lang)
		}
		for _, p := range w.problems(text) {
			t.Errorf("%s shows %s", name, p)
		}
		for _, s := range want {
			if !strings.Contains(text, s) {
				t.Errorf("%s does not say %q", name, s)
			}
		}
	}

	webtest.Step(t, ctx, "home", chromedp.Navigate(d.URL+"/privacy/"))
	read(t, "1-home", "隐私中心")
	webtest.Step(t, ctx, "policy", chromedp.Navigate(d.URL+"/privacy/policy"))
	read(t, "2-policy", "隐私政策")
	webtest.Step(t, ctx, "diff", chromedp.Navigate(d.URL+"/privacy/policy/diff?from=3.0&to=3.1"), chromedp.WaitVisible("#diff-summary"))
	read(t, "3-diff", "处理目的：“发现”页面个性化推荐", "接收方：示例洞察数据有限公司", "联系渠道：个人信息保护办公室 › 地址或号码",
		"需要重新征得您同意的处理：", "向示例洞察数据有限公司提供个人信息")

	webtest.Step(t, ctx, "request types",
		chromedp.Navigate(d.URL+"/privacy/requests"),
		chromedp.WaitVisible(`a[data-right="withdraw_consent"]`),
	)
	read(t, "4-request-types")
	webtest.Step(t, ctx, "request form",
		chromedp.Click(`a[data-right="withdraw_consent"]`),
		chromedp.WaitVisible("#request-form"),
		chromedp.Click("#purpose-analytics"),
		chromedp.SendKeys("#identity", email),
	)
	read(t, "5-request-form", "产品使用统计分析")
	webtest.Step(t, ctx, "submit",
		chromedp.Click("#submit-request"),
		chromedp.WaitVisible("#verify-form"),
	)
	read(t, "6-verify")
	// An operator carries the request out; the person reads the outcome.
	op := consent.Actor{ID: "operator-test", Role: "operator", Place: "test"}
	id := verifyAndApprove(t, ctx, d, email, op)
	read(t, "7-verified", "3个工作日")
	if _, err := d.Server.Requests().Complete(context.Background(), op, id, dsr.CompleteInput{}); err != nil {
		t.Fatal(err)
	}
	var state string
	webtest.Step(t, ctx, "outcome",
		chromedp.Navigate(d.URL+"/privacy/requests/"+id),
		chromedp.WaitVisible("#request-state"),
		chromedp.Text("#request-state", &state),
	)
	if state != "已完成" {
		t.Errorf("state %q, want 已完成", state)
	}
	read(t, "8-outcome", "我们已撤回您对以下处理的同意：产品使用统计分析。", "3个工作日")
}

// A fee asked for a repeated request, as the person sees it in a real
// browser: the amount, why, and that the request waits for it; on a phone
// too.
func TestBrowserFeeOnStatusPage(t *testing.T) {
	d := webtest.Demo(t)
	ctx := chromium(t)
	const email = "alex.chen@example.org"
	op := consent.Actor{ID: "operator-test", Role: "operator", Place: "test"}
	svc := d.Server.Requests()
	bg := context.Background()
	// The starter charges only for the fifth request of a kind within a year.
	for range 4 {
		v, err := svc.SubmitOperator(bg, op, dsr.Input{Type: "access", Jurisdiction: "CN", Language: "en", SubjectID: "demo-1002",
			Verification: "operator", Evidence: "seen in person"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Withdraw(bg, op, v.ID); err != nil {
			t.Fatal(err)
		}
	}
	webtest.Step(t, ctx, "request",
		chromedp.Navigate(d.URL+"/privacy/requests/new?type=access&lang=en"),
		chromedp.WaitVisible("#request-form"),
		chromedp.SendKeys("#identity", email),
		chromedp.Click("#submit-request"),
		chromedp.WaitVisible("#verify-form"),
	)
	id := verifyAndApprove(t, ctx, d, email, op)
	if _, err := svc.AskFee(bg, op, id, dsr.FeeInput{Amount: "20", Currency: "CNY", Reason: "The fifth copy this year costs what it takes to make."}); err != nil {
		t.Fatal(err)
	}
	var state, amount, fee string
	webtest.Step(t, ctx, "reload",
		chromedp.Reload(),
		chromedp.WaitVisible("#fee"),
		chromedp.Text("#request-state", &state),
		chromedp.Text("#fee-amount", &amount),
		chromedp.Text("#fee-state", &fee),
	)
	if state != "Waiting for the fee" || amount != "20 CNY" || fee != "To be paid" {
		t.Errorf("state %q, amount %q, fee %q", state, amount, fee)
	}
	webtest.Screenshot(t, ctx, "fee-asked")
	var overflow bool
	webtest.Step(t, ctx, "phone width",
		chromedp.EmulateViewport(390, 844),
		chromedp.Reload(),
		chromedp.WaitVisible("#fee"),
		chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow),
	)
	if overflow {
		t.Error("the status page with a fee scrolls sideways at 390 px")
	}
	webtest.Screenshot(t, ctx, "fee-asked-phone")
}

// TestBrowserPortabilityTransmission: a person asks in the portability
// form for their export to go to another service's endpoint; their
// request's page shows it being sent, then not delivered when the address
// is refused, and being sent again once staff retry it, with the history
// in their words, never the endpoint beyond its host, on a desktop and
// on a phone.
func TestBrowserPortabilityTransmission(t *testing.T) {
	d := webtest.Demo(t)
	ctx := chromium(t)
	const email = "lin.wei@example.com"
	op := consent.Actor{ID: "operator-test", Role: "operator", Place: "test"}
	svc := d.Server.Requests()
	bg := context.Background()
	webtest.Step(t, ctx, "form",
		chromedp.Navigate(d.URL+"/privacy/requests/new?type=portability&lang=en"),
		chromedp.WaitVisible("#transmit"),
		chromedp.SendKeys("#identity", email),
		chromedp.SendKeys("#transmit-name", "Acme Cloud"),
		chromedp.SendKeys("#transmit-endpoint", "https://10.0.0.7/import?token=s3cr3t"),
	)
	webtest.Screenshot(t, ctx, "form")
	webtest.Step(t, ctx, "submit",
		chromedp.Click("#submit-request"),
		chromedp.WaitVisible("#verify-form"),
	)
	id := verifyAndApprove(t, ctx, d, email, op)
	if _, err := svc.Complete(bg, op, id, dsr.CompleteInput{}); err != nil {
		t.Fatal(err)
	}
	shown := func(step, state, badge string) {
		t.Helper()
		var got, page string
		webtest.Step(t, ctx, step,
			chromedp.Reload(),
			chromedp.WaitVisible(`#transmissions tr[data-transmission="`+state+`"]`),
			chromedp.Text(`#transmissions tr[data-transmission="`+state+`"] .badge`, &got),
			chromedp.Text("main", &page, chromedp.ByQuery),
		)
		if got != badge {
			t.Errorf("%s: the transmission is shown %q, want %q", step, got, badge)
		}
		for _, not := range []string{"s3cr3t", "/import", "address refused"} {
			if strings.Contains(page, not) {
				t.Errorf("%s: the page shows %q", step, not)
			}
		}
		if !strings.Contains(page, "Acme Cloud") || !strings.Contains(page, "10.0.0.7") {
			t.Errorf("%s: the page does not name the service and its host", step)
		}
	}
	shown("being sent", "pending", "Being sent")
	webtest.Screenshot(t, ctx, "being-sent")
	if n, err := svc.Transmit(bg); err != nil || n.Failed != 1 {
		t.Fatalf("Transmit = %+v, %v", n, err)
	}
	shown("not delivered", "failed", "Not delivered")
	webtest.Screenshot(t, ctx, "not-delivered")
	if _, err := svc.RetryTransmission(bg, op, id); err != nil {
		t.Fatal(err)
	}
	shown("sent again", "pending", "Being sent")
	var history string
	webtest.Step(t, ctx, "history", chromedp.Text("main", &history, chromedp.ByQuery))
	if !strings.Contains(history, "sending the export to the service you named again") {
		t.Errorf("the history does not say the export is sent again:\n%s", history)
	}
	webtest.Screenshot(t, ctx, "sent-again")
	var overflow bool
	webtest.Step(t, ctx, "phone width",
		chromedp.EmulateViewport(390, 844),
		chromedp.Reload(),
		chromedp.WaitVisible("#transmissions"),
		chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow),
	)
	if overflow {
		t.Error("the status page with a transmission scrolls sideways at 390 px")
	}
	webtest.Screenshot(t, ctx, "sent-again-phone")
}

// verifyAndApprove proves email's one-time code on the verify page the
// browser shows, reads the request's id from the status page's address,
// and has staff (op) approve the request.
func verifyAndApprove(t *testing.T, ctx context.Context, d *webtest.DemoServer, email string, op consent.Actor) string {
	t.Helper()
	var loc string
	webtest.Step(t, ctx, "verify",
		chromedp.SendKeys("#code", d.Code(t, email)),
		chromedp.Click("#verify-submit"),
		chromedp.WaitVisible("#due-date"),
		chromedp.Location(&loc),
	)
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	id := path.Base(u.Path)
	if _, err := d.Server.Requests().Approve(context.Background(), op, id); err != nil {
		t.Fatal(err)
	}
	return id
}
