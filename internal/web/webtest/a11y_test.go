package webtest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custos-privacy/custos/internal/web/webtest"
)

// TestPagesAccessible audits the privacy center's and the console's pages,
// in both languages, on a laptop and on a phone-width screen.
func TestPagesAccessible(t *testing.T) {
	d := webtest.Demo(t)
	ctx := webtest.Browser(t)
	public := []string{
		"/privacy/", "/privacy/policy", "/privacy/policy/versions", "/privacy/policy/diff", "/privacy/requests",
		"/privacy/requests/new?type=access", "/privacy/signin", "/console/signin",
	}
	console := []string{
		"/console/", "/console/requests", "/console/approvals", "/console/dataflow",
		"/console/policies", "/console/audit", "/console/operators", "/console/retention",
	}
	if err := chromedp.Run(ctx,
		chromedp.Navigate(d.URL+"/console/signin?lang=en"),
		chromedp.WaitVisible("#signin-form"),
		chromedp.SendKeys("#username", "demo-admin"),
		chromedp.SendKeys("#password", "custos-demo-admin"),
		chromedp.Click("#signin"),
		chromedp.WaitVisible("#signout"),
	); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	for _, size := range []struct {
		name string
		w, h int64
	}{{"laptop", webtest.Width, webtest.Height}, {"phone", 390, 844}} {
		if err := chromedp.Run(ctx, chromedp.EmulateViewport(size.w, size.h)); err != nil {
			t.Fatal(err)
		}
		for _, lang := range []string{"zh-CN", "en"} {
			for _, path := range append(public, console...) {
				sep := "?"
				if len(path) > 0 && contains(path, '?') {
					sep = "&"
				}
				u := d.URL + path + sep + "lang=" + lang
				if err := chromedp.Run(ctx, chromedp.Navigate(u), chromedp.WaitReady("main")); err != nil {
					t.Fatalf("%s: %v", u, err)
				}
				var h1 string
				if err := chromedp.Run(ctx, chromedp.Text("h1", &h1)); err != nil {
					t.Fatal(err)
				}
				if h1 == "Something went wrong" || h1 == "出错了" {
					t.Errorf("%s: an error page, not the page to audit", u)
					continue
				}
				webtest.Audit(t, ctx, fmt.Sprintf("%s %s %s", size.name, lang, path))
			}
		}
	}
}

func contains(s string, c byte) bool {
	for i := range len(s) {
		if s[i] == c {
			return true
		}
	}
	return false
}

// TestAuditFindsProblems: the audit is only worth running if it catches
// what it claims to.
func TestAuditFindsProblems(t *testing.T) {
	const bad = `<!doctype html><html><head><title>x</title></head><body>
<h1>One</h1><h1>Two</h1><h4>Jump</h4>
<p style="color:#999;background:#fff">faint text</p>
<input type="text" name="who"><img src="data:,">
<button></button><div id="a"></div><div id="a"></div>
<svg width="10" height="10"><rect width="10" height="10"/></svg>
<div style="width:3000px">wide</div>
</body></html>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(bad)) }))
	defer srv.Close()
	ctx := webtest.Browser(t)
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	got, err := webtest.Problems(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{"html has no lang", "2 h1 elements", "heading jumps from h1 to h4", "contrast", "unlabelled input[name=who]",
		"img without alt", "nameless button", "duplicate id a", "svg without role=img", "page scrolls sideways"} {
		if !strings.Contains(all, want) {
			t.Errorf("audit missed %q; it found:\n%s", want, all)
		}
	}
}
