package web

import (
	"bytes"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLang(t *testing.T) {
	tests := []struct {
		name, query, accept, def, want string
	}{
		{"query wins", "lang=en", "zh-CN", "zh-CN", "en"},
		{"query zh", "lang=zh", "en", "en", "zh-CN"},
		{"unknown query falls through", "lang=fr", "en-GB,en;q=0.8", "zh-CN", "en"},
		{"accept with weights", "", "fr;q=1, zh-TW;q=0.5", "en", "zh-CN"},
		{"default", "", "fr", "en", "en"},
		{"nothing", "", "", "", "zh-CN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/privacy/?"+tt.query, nil)
			r.Header.Set("Accept-Language", tt.accept)
			if got := Lang(r, tt.def); got != tt.want {
				t.Errorf("Lang = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCatalog(t *testing.T) {
	c := NewCatalog(Messages{"x": {"en": "hello %s", "zh-CN": "你好 %s"}, "only.en": {"en": "plain"}})
	for _, tt := range []struct{ lang, key, want string }{
		{"zh-CN", "x", "你好 a"}, {"en", "x", "hello a"}, {"zh-CN", "only.en", "plain"}, {"en", "missing", "missing"},
	} {
		var args []any
		if tt.key == "x" {
			args = []any{"a"}
		}
		if got := c.T(tt.lang, tt.key, args...); got != tt.want {
			t.Errorf("T(%s, %s) = %q, want %q", tt.lang, tt.key, got, tt.want)
		}
	}
}

func TestSecureHeaders(t *testing.T) {
	h := Secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	for k, want := range map[string]string{
		"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
	} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if strings.Contains(CSP, "unsafe-inline") || strings.Contains(CSP, "unsafe-eval") {
		t.Errorf("CSP allows inline code: %s", CSP)
	}
	if rec.Header().Get("Strict-Transport-Security") != "" {
		t.Error("HSTS sent over plain HTTP")
	}
	// A spoofed X-Forwarded-Proto counts only behind a trusted proxy.
	for _, trust := range []bool{false, true} {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Forwarded-Proto", "https")
		TrustProxy(h, trust).ServeHTTP(rec, r)
		if got := rec.Header().Get("Strict-Transport-Security") != ""; got != trust {
			t.Errorf("trust proxy %v: HSTS sent = %v", trust, got)
		}
	}
}

func TestCSRF(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok " + CSRFToken(r))) })
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "denied", http.StatusForbidden) })
	h := CSRF(ok, deny)

	// A GET hands out the cookie and the same token to the page.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/form", nil))
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != "custos_csrf" || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie = %+v", cookies)
	}
	token := cookies[0].Value
	if rec.Body.String() != "ok "+token {
		t.Fatalf("page token %q, cookie %q", rec.Body.String(), token)
	}

	post := func(form url.Values, cookie bool, site string) int {
		r := httptest.NewRequest("POST", "/form", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if cookie {
			r.AddCookie(&http.Cookie{Name: "custos_csrf", Value: token})
		}
		if site != "" {
			r.Header.Set("Sec-Fetch-Site", site)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code
	}
	other := strings.Repeat("A", 43)
	tests := []struct {
		name   string
		form   url.Values
		cookie bool
		site   string
		want   int
	}{
		{"token and cookie", url.Values{"csrf": {token}}, true, "same-origin", 200},
		{"no token", url.Values{}, true, "same-origin", 403},
		{"wrong token", url.Values{"csrf": {other}}, true, "same-origin", 403},
		{"no cookie", url.Values{"csrf": {token}}, false, "same-origin", 403},
		{"cross site with token", url.Values{"csrf": {token}}, true, "cross-site", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := post(tt.form, tt.cookie, tt.site); got != tt.want {
				t.Errorf("status %d, want %d", got, tt.want)
			}
		})
	}
}

func TestRenderer(t *testing.T) {
	pages := fstest.MapFS{
		"pages/hello.html": {Data: []byte(`{{define "content"}}<p id="p">{{.T "greet" .Data}}</p>{{end}}`)},
	}
	r, err := NewRenderer(fs.FS(pages), NewCatalog(Messages{"greet": {"en": "Hello %s", "zh-CN": "你好 %s"}}), nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/privacy/?x=1", nil)
	p := r.Page(req, "zh-CN", "标题")
	p.Data = "<script>alert(1)</script>"
	p.Prevailing = "zh-CN"
	rec := httptest.NewRecorder()
	r.Render(rec, 200, "hello", p)
	body := rec.Body.String()
	for _, want := range []string{`<html lang="zh-CN">`, `你好 &lt;script&gt;`, `href="/privacy/?lang=en&amp;x=1"`, "本政策以中文版本为准"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("page data was not escaped")
	}
	rec = httptest.NewRecorder()
	r.Error(rec, req, nil, http.StatusNotFound, "error.notfound")
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), "There is no such page.") && !strings.Contains(rec.Body.String(), "找不到该页面") {
		t.Errorf("error page: %d %s", rec.Code, rec.Body.String())
	}
}

// TestNoInlineCode: the CSP forbids inline script and style, so no
// template may carry any: a page that did would break silently in the
// browser rather than in a test.
func TestNoInlineCode(t *testing.T) {
	files, err := filepath.Glob("*/pages/*.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, pat := range []string{"*/partials/*.html", "templates/*.html", "banner/demo/*.html"} {
		more, _ := filepath.Glob(pat)
		files = append(files, more...)
	}
	if len(files) < 10 {
		t.Fatalf("found only %d templates: %v", len(files), files)
	}
	bad := []*regexp.Regexp{
		regexp.MustCompile(`<script(\s[^>]*)?>[^<\s]`),        // inline script body
		regexp.MustCompile(`\sstyle\s*=`),                     // style attribute
		regexp.MustCompile(`<style[\s>]`),                     // style element
		regexp.MustCompile(`\son[a-z]+\s*=`),                  // event handler attribute
		regexp.MustCompile(`(?i)href\s*=\s*["']?javascript:`), // javascript: URL
	}
	scriptTag := regexp.MustCompile(`<script[^>]*>`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tag := range scriptTag.FindAll(b, -1) {
			if !strings.Contains(string(tag), "src=") {
				t.Errorf("%s: script without src: %s", f, tag)
			}
		}
		for _, re := range bad {
			if loc := re.FindIndex(b); loc != nil {
				line := 1 + strings.Count(string(b[:loc[0]]), "\n")
				t.Errorf("%s:%d: inline code the CSP would block: %q", f, line, b[loc[0]:min(loc[1]+20, len(b))])
			}
		}
	}
}

func TestClientAddr(t *testing.T) {
	for _, tt := range []struct {
		name  string
		xff   string
		trust bool
		want  string
	}{
		{"peer", "", false, "192.0.2.1"},
		{"proxy header ignored when not trusted", "203.0.113.9", false, "192.0.2.1"},
		{"trusted proxy", "203.0.113.9", true, "203.0.113.9"},
		{"the proxy's hop, not the client's claim", "10.9.9.9, 203.0.113.9", true, "203.0.113.9"},
		{"garbage", "not-an-ip", true, "192.0.2.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			h := TrustProxy(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = ClientAddr(r) }), tt.trust)
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "192.0.2.1:5555"
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tt.want {
				t.Errorf("ClientAddr = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStatic: files are served, directories are not listed.
func TestStatic(t *testing.T) {
	h := Static()
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/static/custos.css", 200},
		{"/static/custos.js", 200},
		{"/static/", 404},
		{"/static", 404},
		{"/static/./", 404},
		{"/static/custos.css/", 404},
		{"/static/missing.css", 404},
		{"/templates/layout.html", 404},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", tc.path, nil))
		if rec.Code != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.path, rec.Code, tc.status)
		}
		if body := rec.Body.String(); strings.Contains(body, `href="custos.js"`) {
			t.Errorf("GET %s lists the directory:\n%s", tc.path, body)
		}
	}
}

// TestFormsReadOnce: CSRF reads every unsafe form itself, so what no page
// may take is refused before any handler, with the status that says why.
func TestFormsReadOnce(t *testing.T) {
	var reached bool
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached = true; w.Write([]byte("ok")) })
	deny := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := Refused(r)
		w.WriteHeader(f.Status)
		w.Write([]byte(f.Key + " " + f.Field))
	})
	h := CSRF(ok, deny)
	token := strings.Repeat("T", 43)
	send := func(ctype string, body io.Reader) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/form", body)
		r.Header.Set("Content-Type", ctype)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		r.AddCookie(&http.Cookie{Name: "custos_csrf", Value: token})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	form := func(extra string) (string, io.Reader) {
		return "application/x-www-form-urlencoded", strings.NewReader("csrf=" + token + extra)
	}
	multipartForm := func(field, filename string, size int) (string, io.Reader) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("csrf", token)
		mw.WriteField(field, "x")
		fw, _ := mw.CreateFormFile("file", filename)
		fw.Write(bytes.Repeat([]byte("a"), size))
		mw.Close()
		return mw.FormDataContentType(), &buf
	}
	over := func(extra string) func() (string, io.Reader) {
		return func() (string, io.Reader) { return form(extra) }
	}
	for _, tc := range []struct {
		name   string
		body   func() (ctype string, body io.Reader)
		status int
		want   string
	}{
		{"plain", over("&username=admin&reason=" + url.QueryEscape("用户要求")), 200, "ok"},
		{"over the limit", over("&x=" + strings.Repeat("a", MaxFormBytes)), 413, "error.too_large "},
		{"over the limit before the token", func() (string, io.Reader) {
			return "application/x-www-form-urlencoded", strings.NewReader("x=" + strings.Repeat("a", MaxFormBytes) + "&csrf=" + token)
		}, 413, "error.too_large "},
		{"upload over the limit", func() (string, io.Reader) { return multipartForm("manifest", "custos.yaml", MaxFormBytes) }, 413, "error.too_large "},
		{"not a form", over("&x=%zz"), 400, "error.bad_form "},
		{"NUL", over("&username=ad%00min"), 422, "error.invalid_text username"},
		{"invalid UTF-8", over("&identity=lin%FF%FE"), 422, "error.invalid_text identity"},
		{"line break in a one-line field", over("&code=12%0A3456"), 422, "error.invalid_text code"},
		{"line breaks in an explanation", over("&explanation=" + url.QueryEscape("line 1\r\n\tline 2")), 200, "ok"},
		{"a C1 control in a file name", func() (string, io.Reader) { return multipartForm("manifest", "custos\u0085.yaml", 10) }, 422, "error.invalid_text file"},
		{"a name not fit to repeat", over("&li.na%40example.com=%00"), 422, "error.invalid_text "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctype, body := tc.body()
			reached = false
			rec := send(ctype, body)
			if rec.Code != tc.status || rec.Body.String() != tc.want {
				t.Errorf("%d %q, want %d %q", rec.Code, rec.Body, tc.status, tc.want)
			}
			if reached != (tc.status == 200) {
				t.Errorf("the handler ran: %v", reached)
			}
		})
	}
}
