package banner_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/web/banner"
)

// maxGzip is the budget of what a site downloads for the banner.
const maxGzip = 15 * 1024

func TestScriptSize(t *testing.T) {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(banner.Script())
	zw.Close()
	if buf.Len() > maxGzip {
		t.Errorf("banner.js is %d bytes gzipped, over the budget of %d", buf.Len(), maxGzip)
	}
	if len(banner.Script()) < 1000 {
		t.Fatalf("banner.js is %d bytes: the embed is empty?", len(banner.Script()))
	}
	t.Logf("banner.js: %d bytes, %d gzipped", len(banner.Script()), buf.Len())
}

// The script must not need what a strict host CSP refuses, nor bring a
// dependency or set a cookie.
func TestScriptRules(t *testing.T) {
	src := string(banner.Script())
	for _, bad := range []string{"innerHTML", "document.cookie", "eval(", "new Function", "setAttribute('style'", ".style.", "import ", "require(", "onclick", "setAttribute('on"} {
		if strings.Contains(src, bad) {
			t.Errorf("banner.js contains %q", bad)
		}
	}
	for _, want := range []string{
		`role: 'dialog'`, `'aria-modal': 'true'`, `'aria-labelledby': 'custos-title'`,
		`'data-custos-action'`, `'accept-all'`, `'reject-all'`, `'choose'`, `'save'`,
		`id: 'custos-banner'`, `'data-custos-category'`, "navigator.globalPrivacyControl", "crypto.getRandomValues",
		"new CSSStyleSheet()", "adoptedStyleSheets", "document.currentScript", "localStorage",
		"/v1/public/banner", "/v1/public/banner/consents", "credentials: 'omit'",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("banner.js lacks %q", want)
		}
	}
}

func get(t *testing.T, h http.Handler, method, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandler(t *testing.T) {
	h := banner.Handler()
	plain := get(t, h, "GET", "/banner.js", nil)
	etag := plain.Header().Get("ETag")
	tests := []struct {
		name     string
		method   string
		header   map[string]string
		status   int
		encoding string
		body     []byte // nil: not checked
	}{
		{"plain", "GET", nil, 200, "", banner.Script()},
		{"gzip", "GET", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"}, 200, "gzip", nil},
		{"gzip refused with q=0", "GET", map[string]string{"Accept-Encoding": "gzip;q=0"}, 200, "", banner.Script()},
		{"revalidated", "GET", map[string]string{"If-None-Match": etag}, 304, "", []byte{}},
		{"another version cached", "GET", map[string]string{"If-None-Match": `"0000"`}, 200, "", banner.Script()},
		{"head", "HEAD", nil, 200, "", []byte{}},
		{"post", "POST", nil, 405, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := get(t, h, tc.method, "/banner.js", tc.header)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d", w.Code, tc.status)
			}
			if tc.status == 405 {
				return
			}
			got := map[string]string{
				"Content-Type":                w.Header().Get("Content-Type"),
				"Cache-Control":               w.Header().Get("Cache-Control"),
				"Content-Encoding":            w.Header().Get("Content-Encoding"),
				"Access-Control-Allow-Origin": w.Header().Get("Access-Control-Allow-Origin"),
				"X-Content-Type-Options":      w.Header().Get("X-Content-Type-Options"),
			}
			want := map[string]string{
				"Content-Type":                "text/javascript; charset=utf-8",
				"Cache-Control":               "public, max-age=300",
				"Content-Encoding":            tc.encoding,
				"Access-Control-Allow-Origin": "*",
				"X-Content-Type-Options":      "nosniff",
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("headers (-want +got):\n%s", d)
			}
			if !regexp.MustCompile(`^"[0-9a-f]{24}(-gz)?"$`).MatchString(w.Header().Get("ETag")) {
				t.Errorf("ETag %q is not a strong tag", w.Header().Get("ETag"))
			}
			if !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary %q lacks Accept-Encoding", w.Header().Get("Vary"))
			}
			if tc.body != nil && !bytes.Equal(w.Body.Bytes(), tc.body) {
				t.Errorf("body: %d bytes, want %d", w.Body.Len(), len(tc.body))
			}
			if tc.encoding == "gzip" {
				zr, err := gzip.NewReader(w.Body)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(zr)
				if !bytes.Equal(b, banner.Script()) {
					t.Error("the gzipped body does not unpack to the script")
				}
			}
		})
	}
}

func TestDemoShop(t *testing.T) {
	h := banner.DemoShop()
	page := get(t, h, "GET", "/demo/shop/", nil)
	if page.Code != 200 || page.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("page: %d %s", page.Code, page.Header().Get("Content-Type"))
	}
	html := page.Body.String()
	for _, want := range []string{
		`<script src="/banner.js" defer></script>`,
		`<script type="text/plain" data-custos-category="analytics" src="/demo/shop/analytics.js"></script>`,
		`<script type="text/plain" data-custos-category="advertising" src="/demo/shop/advertising.js"></script>`,
		`id="cookie-settings"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	// The server's CSP has no 'unsafe-inline': every script is a file, no inline style or handler.
	if m := regexp.MustCompile(`<script(?:[^>]*)>[^<]+</script>|<style|style="|\son[a-z]+=`).FindString(html); m != "" {
		t.Errorf("the page has inline code or style: %s", m)
	}
	for path, want := range map[string]string{
		"/demo/shop/analytics.js":   "window.analyticsLoaded = true",
		"/demo/shop/advertising.js": "window.advertisingLoaded = true",
		"/demo/shop/shop.js":        "Custos.consent.show()",
	} {
		w := get(t, h, "GET", path, nil)
		if w.Code != 200 || w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %d %s, want a script with %q", path, w.Code, w.Header().Get("Content-Type"), want)
		}
	}
	for path, status := range map[string]int{"/demo/shop": 301, "/demo/shop/nope.js": 404, "/demo/shop/../banner.go": 404, "/elsewhere": 404} {
		if w := get(t, h, "GET", path, nil); w.Code != status {
			t.Errorf("%s: %d, want %d", path, w.Code, status)
		}
	}
}
