package console_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custos-privacy/custos/internal/web/webtest"
)

// widths are the screens the request page's forms are tried on: a
// desktop and a phone of 390 px.
var widths = []struct {
	name   string
	width  int64
	height int64
}{
	{"desktop", webtest.Width, webtest.Height},
	{"phone", 390, 844},
}

// sideways says whether the page scrolls sideways.
func sideways(t *testing.T, ctx context.Context) bool {
	t.Helper()
	var overflow bool
	webtest.Step(t, ctx, "measure", chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow))
	return overflow
}

// TestBrowserFeeAskedAndPaid: an operator asks a fee for a repeated
// request from its page, renminbi chosen unless changed; the request
// waits for it, and the operator records it paid, on a desktop and on a
// phone.
func TestBrowserFeeAskedAndPaid(t *testing.T) {
	d := webtest.Demo(t)
	ctx := webtest.Browser(t)
	browserSignIn(t, ctx, d, operatorUser, operatorPW)
	for i, w := range widths {
		id := repeatedRequest(t, d, []string{"demo-1002", "demo-1001"}[i])
		var currency, state, amount, fee string
		webtest.Step(t, ctx, w.name+" open",
			chromedp.EmulateViewport(w.width, w.height),
			chromedp.Navigate(d.URL+"/console/requests/"+id+"?lang=en"),
			chromedp.WaitVisible("#fee-form"),
			chromedp.Value("#fee-currency", &currency),
		)
		if currency != "CNY" {
			t.Errorf("%s: the currency offered first is %q, want CNY", w.name, currency)
		}
		webtest.Screenshot(t, ctx, w.name+"-fee-form")
		webtest.Step(t, ctx, w.name+" ask",
			chromedp.SendKeys("#fee-amount-input", "20.50"),
			chromedp.SendKeys("#fee-reason", "The fifth copy this year costs what it takes to make."),
			chromedp.Click("#ask-fee"),
			chromedp.WaitVisible("#fee-settle-form"),
			chromedp.Text("#state", &state),
			chromedp.Text("#fee-amount", &amount),
			chromedp.Text("#fee-state", &fee),
		)
		if state != "awaiting_fee" || amount != "20.50 CNY" || fee != "asked" {
			t.Errorf("%s: after the fee is asked: state %q, amount %q, fee %q", w.name, state, amount, fee)
		}
		if sideways(t, ctx) {
			t.Errorf("%s: the page with a fee awaited scrolls sideways", w.name)
		}
		webtest.Screenshot(t, ctx, w.name+"-fee-asked")
		webtest.Step(t, ctx, w.name+" paid",
			chromedp.Click("#fee-paid"),
			chromedp.WaitNotPresent("#fee-settle-form"),
			chromedp.Text("#state", &state),
			chromedp.Text("#fee-state", &fee),
		)
		if state != "in_progress" || fee != "paid" {
			t.Errorf("%s: after payment: state %q, fee %q", w.name, state, fee)
		}
		webtest.Screenshot(t, ctx, w.name+"-fee-paid")
	}
}

// TestBrowserTransmissionRetried: an operator sends again a transmission
// the third party's address refused; the page shows it pending and no
// longer offers the retry, on a desktop and on a phone.
func TestBrowserTransmissionRetried(t *testing.T) {
	d := webtest.Demo(t)
	ctx := webtest.Browser(t)
	browserSignIn(t, ctx, d, operatorUser, operatorPW)
	id := failedTransmission(t, d, "alex.chen@example.org")
	for i, w := range widths {
		if i > 0 {
			// The address is refused again: failed once more.
			if n, err := d.Server.Requests().Transmit(context.Background()); err != nil || n.Failed != 1 {
				t.Fatalf("transmit again: %+v, %v", n, err)
			}
		}
		webtest.Step(t, ctx, w.name+" open",
			chromedp.EmulateViewport(w.width, w.height),
			chromedp.Navigate(d.URL+"/console/requests/"+id+"?lang=en"),
			chromedp.WaitVisible(`#transmissions tr[data-transmission="failed"]`),
			chromedp.WaitVisible("#retry-form"),
		)
		if sideways(t, ctx) {
			t.Errorf("%s: the page with a failed transmission scrolls sideways", w.name)
		}
		webtest.Screenshot(t, ctx, w.name+"-failed")
		var history string
		webtest.Step(t, ctx, w.name+" retry",
			chromedp.Click("#retry"),
			chromedp.WaitVisible(`#transmissions tr[data-transmission="pending"]`),
			chromedp.WaitNotPresent("#retry-form"),
			chromedp.Text("#history", &history),
		)
		if !strings.Contains(history, "transmission to the third party retried") {
			t.Errorf("%s: the history does not say the transmission was retried: %q", w.name, history)
		}
		webtest.Screenshot(t, ctx, w.name+"-retried")
	}
}
