package banner_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/custos-privacy/custos/internal/web/webtest"
)

// bannerConfig is the part of GET /v1/public/banner the tests need.
type bannerConfig struct {
	Notice struct {
		Categories []struct {
			ID       string `json:"id"`
			Required bool   `json:"required"`
			Purposes []struct {
				ID string `json:"id"`
			} `json:"purposes"`
		} `json:"categories"`
	} `json:"notice"`
}

// purposesOf returns the purposes of a banner category of the demo manifest.
func purposesOf(t *testing.T, d *webtest.DemoServer, category string) []string {
	t.Helper()
	var cfg bannerConfig
	getJSON(t, d.URL+"/v1/public/banner?lang=en", "", &cfg)
	for _, c := range cfg.Notice.Categories {
		if c.ID == category {
			var out []string
			for _, p := range c.Purposes {
				out = append(out, p.ID)
			}
			return out
		}
	}
	t.Fatalf("the demo banner has no %s category", category)
	return nil
}

func getJSON(t *testing.T, url, key string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// ledger returns the latest action per purpose recorded for the visitor,
// and the events' signals, read through the operator API.
func ledger(t *testing.T, d *webtest.DemoServer, visitor string) (map[string]string, map[string]string) {
	t.Helper()
	var page struct {
		Items []struct {
			Purpose, Action, Method, Language, Signal string
			NoticeHash                                string `json:"notice_hash"`
		} `json:"items"`
	}
	getJSON(t, d.URL+"/v1/subjects/"+visitor+"/consents?limit=500", d.AdminKey, &page)
	last, signal := map[string]string{}, map[string]string{}
	for _, e := range page.Items {
		if len(e.NoticeHash) != 64 || e.Language == "" {
			t.Errorf("event for %s lacks notice hash or language: %+v", e.Purpose, e)
		}
		last[e.Purpose] = e.Action
		signal[e.Purpose] = e.Signal
	}
	return last, signal
}

// visitor reads the banner's stored choice.
func visitor(t *testing.T, ctx context.Context) string {
	t.Helper()
	var id string
	if err := chromedp.Run(ctx, chromedp.Poll(`(window.Custos && Custos.consent.get()) ? Custos.consent.get().visitor : null`, &id, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("no stored consent: %v", err)
	}
	return id
}

func loaded(t *testing.T, ctx context.Context, global string) bool {
	t.Helper()
	var v bool
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.`+global+` === true`, &v)); err != nil {
		t.Fatal(err)
	}
	return v
}

// bannerClosed waits until the banner has left the page (it removes itself).
func bannerClosed() chromedp.Action {
	return chromedp.Poll(`!document.querySelector('#custos-banner')`, nil, chromedp.WithPollingTimeout(10*time.Second))
}

func openShop(t *testing.T, ctx context.Context, d *webtest.DemoServer) {
	t.Helper()
	if err := chromedp.Run(ctx,
		chromedp.Navigate(d.URL+"/demo/shop/"),
		chromedp.WaitVisible(`#custos-banner`),
	); err != nil {
		t.Fatalf("banner not shown: %v", err)
	}
}

func TestBannerRejectAllKeepsScriptsInert(t *testing.T) {
	d := webtest.Demo(t)
	ctx := webtest.Browser(t)
	openShop(t, ctx, d)
	webtest.Screenshot(t, ctx, "banner-first-layer")

	if err := chromedp.Run(ctx,
		chromedp.Click(`[data-custos-action="reject-all"]`),
		bannerClosed(),
	); err != nil {
		t.Fatal(err)
	}
	id := visitor(t, ctx)
	// Give a wrongly activated script every chance to run.
	time.Sleep(300 * time.Millisecond)
	if loaded(t, ctx, "analyticsLoaded") || loaded(t, ctx, "advertisingLoaded") {
		t.Error("a tagged script ran after reject all")
	}
	webtest.Screenshot(t, ctx, "after-reject-all")

	last, _ := ledger(t, d, id)
	for _, cat := range []string{"analytics", "advertising"} {
		for _, p := range purposesOf(t, d, cat) {
			if last[p] != "withdraw" {
				t.Errorf("%s purpose %s: ledger says %q, want the refusal recorded", cat, p, last[p])
			}
		}
	}
	// The choice holds on the next page load: no banner, still inert.
	if err := chromedp.Run(ctx, chromedp.Navigate(d.URL+"/demo/shop/"), chromedp.WaitReady(`#analytics-status`)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	var shown bool
	chromedp.Run(ctx, chromedp.Evaluate(`!!document.querySelector('#custos-banner') && document.querySelector('#custos-banner').offsetParent !== null`, &shown))
	if shown || loaded(t, ctx, "analyticsLoaded") {
		t.Errorf("after reload: banner shown %v, analytics ran %v", shown, loaded(t, ctx, "analyticsLoaded"))
	}
}

func TestBannerAcceptAllActivatesScripts(t *testing.T) {
	d := webtest.Demo(t)
	ctx := webtest.Browser(t)
	openShop(t, ctx, d)
	if err := chromedp.Run(ctx,
		chromedp.Click(`[data-custos-action="accept-all"]`),
		bannerClosed(),
		chromedp.Poll(`window.analyticsLoaded === true`, nil, chromedp.WithPollingTimeout(10*time.Second)),
	); err != nil {
		t.Fatalf("analytics script not activated by accept all: %v", err)
	}
	webtest.Screenshot(t, ctx, "after-accept-all")
	id := visitor(t, ctx)
	last, _ := ledger(t, d, id)
	for _, p := range purposesOf(t, d, "analytics") {
		if last[p] != "grant" {
			t.Errorf("analytics purpose %s: ledger says %q, want grant", p, last[p])
		}
	}
	// Advertising needs a separate consent in the demo manifest, which a
	// single "accept all" must not bundle.
	if loaded(t, ctx, "advertisingLoaded") {
		t.Error("accept all ran the advertising script, which needs its own consent")
	}

	// Granting advertising on its own toggle activates it.
	if err := chromedp.Run(ctx,
		chromedp.Click(`#cookie-settings`),
		chromedp.WaitVisible(`#custos-banner`),
		chromedp.Click(`[data-custos-action="choose"]`),
		chromedp.WaitVisible(`input[data-custos-category="advertising"]`),
	); err != nil {
		t.Fatal(err)
	}
	webtest.Screenshot(t, ctx, "choose-layer")
	if err := chromedp.Run(ctx,
		chromedp.Click(`input[data-custos-category="advertising"]`),
		chromedp.Click(`[data-custos-action="save"]`),
		chromedp.Poll(`window.advertisingLoaded === true`, nil, chromedp.WithPollingTimeout(10*time.Second)),
	); err != nil {
		t.Fatalf("advertising not activated by its own consent: %v", err)
	}
	last, _ = ledger(t, d, id)
	for _, p := range purposesOf(t, d, "advertising") {
		if last[p] != "grant" {
			t.Errorf("advertising purpose %s: ledger says %q, want grant", p, last[p])
		}
	}
}

func TestBannerHonoursGPC(t *testing.T) {
	d := webtest.Demo(t)
	ctx := webtest.Browser(t)
	// A browser with Global Privacy Control on: the property and the header.
	if err := chromedp.Run(ctx,
		chromedp.ActionFunc(func(ctx context.Context) error {
			_, err := page.AddScriptToEvaluateOnNewDocument(`Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})`).Do(ctx)
			return err
		}),
		network.Enable(),
		network.SetExtraHTTPHeaders(network.Headers{"Sec-GPC": "1"}),
	); err != nil {
		t.Fatal(err)
	}
	openShop(t, ctx, d)
	var disabled bool
	if err := chromedp.Run(ctx,
		chromedp.Click(`[data-custos-action="choose"]`),
		chromedp.WaitVisible(`input[data-custos-category="advertising"]`),
		chromedp.Evaluate(`document.querySelector('input[data-custos-category="advertising"]').disabled && !document.querySelector('input[data-custos-category="advertising"]').checked`, &disabled),
	); err != nil {
		t.Fatal(err)
	}
	if !disabled {
		t.Error("under GPC the advertising toggle is not pre-refused (off and disabled)")
	}
	webtest.Screenshot(t, ctx, "gpc-choose-layer")
	if err := chromedp.Run(ctx,
		chromedp.Click(`[data-custos-action="accept-all"]`),
		bannerClosed(),
	); err != nil {
		t.Fatal(err)
	}
	id := visitor(t, ctx)
	time.Sleep(300 * time.Millisecond)
	if loaded(t, ctx, "advertisingLoaded") {
		t.Error("advertising ran under GPC")
	}
	last, signal := ledger(t, d, id)
	for _, p := range purposesOf(t, d, "advertising") {
		if last[p] != "withdraw" || signal[p] != "gpc" {
			t.Errorf("advertising purpose %s under GPC: %q (signal %q), want a withdrawal carrying gpc", p, last[p], signal[p])
		}
	}
}

// TestBannerAsksAgainAfterMaterialChange: a choice made under one policy
// version stops counting when a version materially changing the banner's
// purposes is published; the banner asks again and the old choice runs
// nothing.
func TestBannerAsksAgainAfterMaterialChange(t *testing.T) {
	d := webtest.Demo(t)
	ctx := webtest.Browser(t)
	openShop(t, ctx, d)
	if err := chromedp.Run(ctx,
		chromedp.Click(`[data-custos-action="accept-all"]`),
		bannerClosed(),
		chromedp.Poll(`window.analyticsLoaded === true`, nil, chromedp.WithPollingTimeout(10*time.Second)),
	); err != nil {
		t.Fatal(err)
	}
	v2, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "starter", "custos-v2.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d.PublishAfterNotice(t, v2)
	// The banner's configuration is cached for a minute; a fresh page load
	// that revalidates sees the new version.
	if err := chromedp.Run(ctx,
		network.Enable(),
		network.SetCacheDisabled(true),
		chromedp.Navigate(d.URL+"/demo/shop/"),
		chromedp.WaitVisible(`#custos-banner`),
	); err != nil {
		t.Fatalf("the banner did not ask again after a material change: %v", err)
	}
	webtest.Screenshot(t, ctx, "asked-again")
	time.Sleep(300 * time.Millisecond)
	if loaded(t, ctx, "analyticsLoaded") {
		t.Error("a choice made under the old version still ran the analytics script")
	}
}

// TestBannerKeyboardAndAccessibility: the banner is operable from the
// keyboard alone, keeps focus inside while open, Escape decides nothing,
// and the page with the banner open passes the accessibility audit.
func TestBannerKeyboardAndAccessibility(t *testing.T) {
	d := webtest.Demo(t)
	ctx := webtest.Browser(t)
	openShop(t, ctx, d)
	webtest.Audit(t, ctx, "shop with the banner open")

	inside := func() bool {
		var ok bool
		if err := chromedp.Run(ctx, chromedp.Evaluate(`!!document.activeElement && !!document.activeElement.closest('#custos-banner')`, &ok)); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !inside() {
		t.Error("the banner does not take focus when it opens")
	}
	for i := range 12 {
		if err := chromedp.Run(ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		if !inside() {
			t.Fatalf("Tab %d moved focus out of the open banner", i+1)
		}
	}
	if err := chromedp.Run(ctx, chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	var stored, open bool
	if err := chromedp.Run(ctx,
		chromedp.Evaluate(`localStorage.getItem('custos-consent') !== null`, &stored),
		chromedp.Evaluate(`!!document.querySelector('#custos-banner')`, &open),
	); err != nil {
		t.Fatal(err)
	}
	if stored || !open {
		t.Errorf("Escape on the first layer: stored a choice %v, banner still open %v; want nothing decided", stored, open)
	}
	// Reject all from the keyboard: focus the button and press Enter.
	if err := chromedp.Run(ctx,
		chromedp.Focus(`[data-custos-action="reject-all"]`),
		chromedp.KeyEvent(kb.Enter),
		bannerClosed(),
	); err != nil {
		t.Fatalf("reject all from the keyboard: %v", err)
	}
	if loaded(t, ctx, "analyticsLoaded") {
		t.Error("a tagged script ran after a keyboard reject all")
	}
}
