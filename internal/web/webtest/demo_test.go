package webtest_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custos-privacy/custos/internal/web/webtest"
)

// TestDemoTour walks the demo as a newcomer sees it after `custos serve
// --demo`: the console's dashboard has charts, not placeholders; the
// privacy center compares the two versions; and Lin Wei, who consented
// under the first, is asked to accept the second and consent again.
func TestDemoTour(t *testing.T) {
	d := webtest.DemoHistory(t)
	ctx := webtest.Browser(t)

	var slots int
	var dashboard string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(d.URL+"/console/signin?lang=en"),
		chromedp.WaitVisible("#signin-form"),
		chromedp.SendKeys("#username", "demo-admin"),
		chromedp.SendKeys("#password", "custos-demo-admin"),
		chromedp.Click("#signin"),
		chromedp.WaitVisible("#signout"),
		chromedp.Navigate(d.URL+"/console/?lang=en"),
		chromedp.WaitReady("main"),
		chromedp.Evaluate(`document.querySelectorAll("[data-slot]").length`, &slots),
		chromedp.Text("main", &dashboard),
	); err != nil {
		t.Fatalf("console dashboard: %v", err)
	}
	webtest.Screenshot(t, ctx, "1-console-dashboard")
	if slots != 0 {
		t.Errorf("the dashboard shows %d empty chart slots, want every chart drawn", slots)
	}
	if !strings.Contains(dashboard, "3.1") {
		t.Error("the dashboard does not name version 3.1 as in force")
	}

	var versions int
	var diff string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(d.URL+"/console/requests?lang=en"),
		chromedp.WaitReady("main"),
	); err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, ctx, "2-console-requests")
	if err := chromedp.Run(ctx,
		chromedp.Navigate(d.URL+"/privacy/policy/versions?lang=en"),
		chromedp.WaitReady("main"),
		chromedp.Evaluate(`document.querySelectorAll("main li, main tr").length`, &versions),
		chromedp.Navigate(d.URL+"/privacy/policy/diff?lang=en"),
		chromedp.WaitReady("main"),
		chromedp.Text("main", &diff),
	); err != nil {
		t.Fatalf("privacy center versions: %v", err)
	}
	webtest.Screenshot(t, ctx, "3-privacy-diff")
	if !strings.Contains(diff, "privacy-office@qingyun.example.cn") {
		t.Errorf("the comparison of 3.0 and 3.1 does not show the changed contact address:\n%.600s", diff)
	}

	const email = "lin.wei@example.com"
	var accept int
	if err := chromedp.Run(ctx,
		chromedp.Navigate(d.URL+"/privacy/consents?lang=en"),
		chromedp.WaitVisible("#signin-form"),
		chromedp.SendKeys("#identity", email),
		chromedp.Click(`#signin-form button[type="submit"]`),
		chromedp.WaitVisible("#code-form"),
	); err != nil {
		t.Fatalf("privacy center sign-in: %v", err)
	}
	if err := chromedp.Run(ctx,
		chromedp.SendKeys("#code", d.Code(t, email)),
		chromedp.Click(`#code-form button[type="submit"]`),
		chromedp.WaitVisible("#self-h"),
		chromedp.Evaluate(`document.querySelectorAll("form[action^='/privacy/acceptances']").length`, &accept),
	); err != nil {
		t.Fatalf("privacy center consents: %v", err)
	}
	webtest.Screenshot(t, ctx, "4-lin-wei-consents")
	if accept == 0 {
		t.Error("Lin Wei is not asked to accept version 3.1")
	}
}
