package webtest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

func TestBrowserRuns(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<!doctype html><title>hi</title><p id=x>hello</p>`))
	}))
	defer srv.Close()
	ctx := webtest.Browser(t)
	var txt string
	if err := chromedp.Run(ctx, chromedp.Navigate(srv.URL), chromedp.Text("#x", &txt)); err != nil {
		t.Fatal(err)
	}
	if txt != "hello" {
		t.Fatalf("got %q", txt)
	}
	webtest.Screenshot(t, ctx, "hello")
}
