package center_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/signin"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/web"
	"github.com/custos-privacy/custos/internal/web/center"
	"github.com/custos-privacy/custos/internal/web/webtest"
)

// Personal information of the demo subjects that no page and no log line
// may echo.
var pii = []string{"lin.wei@example.com", "13800138000", "+8613800138000", "alex.chen@example.org", "13900139000", "nobody@example.net"}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is the privacy center built on a running demo server's services,
// with its log captured, served by httptest.
type harness struct {
	d   *webtest.DemoServer
	url string
	// url2 is a second privacy-center instance on the same database, as
	// behind a load balancer.
	url2  string
	logs  *syncBuffer
	read  map[string]int // codes read per address
	codes []string       // every code read
}

func newHarness(t *testing.T, edit ...func(*config.Config)) *harness {
	t.Helper()
	return newHarnessDelivering(t, nil, edit...)
}

// newHarnessDelivering is newHarness whose rights service, and so its
// sign-in, has messages carried only on the channels (email, sms) that
// delivers allows, as a deployment without them. The demo server itself
// always writes messages to its development file; nil keeps its service.
func newHarnessDelivering(t *testing.T, delivers func(channel string) bool, edit ...func(*config.Config)) *harness {
	t.Helper()
	d := webtest.Demo(t, edit...)
	dir := d.SecretsDir
	cfg := config.Default()
	for _, f := range []struct {
		name string
		to   *config.Secret
	}{{secrets.IdentityKeyFile, &cfg.IdentityKey}, {secrets.DataKeysetFile, &cfg.DataKeyset}} {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatalf("demo secrets: %v", err)
		}
		*f.to = config.NewSecret(b, "test")
	}
	keys, err := server.LoadKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	instance := func() string {
		// Each instance has its own sign-in service, as separate processes
		// would: pending sign-ins are shared through the database only.
		st := d.Server.Store()
		requests := d.Server.Requests()
		if delivers != nil {
			var err error
			requests, err = dsr.New(st, d.Server.Service(), dsr.Options{Hasher: keys.Hasher, Keys: d.Server.Keystore(), Logger: log, Now: d.Clock.Now, Delivers: delivers})
			if err != nil {
				t.Fatal(err)
			}
		}
		signins, err := signin.New(st, keys.CenterKey, signin.Options{Hasher: keys.Hasher, Codes: requests})
		if err != nil {
			t.Fatal(err)
		}
		h, err := center.New(center.Options{Consent: d.Server.Service(), Requests: requests, Signins: signins,
			Key: keys.CenterKey, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/static/", web.Static())
		mux.Handle("/privacy/", h)
		srv := httptest.NewServer(web.Secure(mux))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	return &harness{d: d, url: instance(), url2: instance(), logs: logs, read: map[string]int{}}
}

// codesTo lists the one-time codes the outbox file holds for addr, oldest first.
func (h *harness) codesTo(addr string) []string {
	raw, _ := os.ReadFile(filepath.Join(h.d.OutboxDir, notify.FileName))
	var out []string
	for _, line := range bytes.Split(raw, []byte("\n")) {
		var l notify.FileLine
		if json.Unmarshal(line, &l) != nil || l.To != addr {
			continue
		}
		if m := sixDigits.FindStringSubmatch(l.Text); m != nil {
			out = append(out, m[1])
		}
	}
	return out
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// code waits for the next code sent to addr (each code is read once, so a
// code sent earlier is never mistaken for the one just asked for).
func (h *harness) code(t *testing.T, addr string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cs := h.codesTo(addr); len(cs) > h.read[addr] {
			h.read[addr] = len(cs)
			c := cs[len(cs)-1]
			h.codes = append(h.codes, c)
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("no new one-time code was sent within 15 s")
	return ""
}

// browser is an HTTP client with its own cookies that does not follow
// redirects, so tests see them.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func (h *harness) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: h.url, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type reply struct {
	status int
	body   string
	header http.Header
}

func (r reply) location() string { return r.header.Get("Location") }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(method, path string, form url.Values, hdr map[string]string) reply {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(raw); m != nil {
		b.csrf = string(m[1])
	}
	return reply{status: resp.StatusCode, body: string(raw), header: resp.Header}
}

func (b *browser) get(path string, hdr ...map[string]string) reply {
	var h map[string]string
	if len(hdr) > 0 {
		h = hdr[0]
	}
	return b.do("GET", path, nil, h)
}

// post sends a form with the CSRF token of the last page seen.
func (b *browser) post(path string, form url.Values, hdr ...map[string]string) reply {
	if form.Get("csrf") == "" && b.csrf != "" {
		form.Set("csrf", b.csrf)
	}
	var h map[string]string
	if len(hdr) > 0 {
		h = hdr[0]
	}
	return b.do("POST", path, form, h)
}

// follow posts, then follows the See Other.
func (b *browser) follow(r reply) reply {
	b.t.Helper()
	if r.status != http.StatusSeeOther {
		b.t.Fatalf("status %d, want 303; body:\n%s", r.status, excerpt(r.body))
	}
	return b.get(r.location())
}

func excerpt(s string) string {
	if i := strings.Index(s, `<main`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 3000 {
		s = s[:3000]
	}
	return s
}

// signIn signs b in with addr and returns the consent page.
// TestSignInAcrossInstances: a sign-in started on one instance is
// finished on another, as behind a load balancer without sticky sessions;
// and its attempts count across instances.
func TestSignInAcrossInstances(t *testing.T) {
	h := newHarness(t)
	a := h.browser(t)
	a.get("/privacy/signin?lang=en")
	a.follow(a.post("/privacy/signin?lang=en", url.Values{"kind": {"email"}, "identity": {"lin.wei@example.com"}, "next": {"/privacy/consents"}}))
	code := h.code(t, "lin.wei@example.com")
	// The same browser (cookies are per host, not per port), the other instance.
	b := &browser{t: t, base: h.url2, c: a.c}
	b.get("/privacy/signin/code?lang=en")
	wrong := fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1_000_000)
	for range 4 {
		if r := b.post("/privacy/signin/code?lang=en", url.Values{"code": {wrong}, "next": {"/privacy/consents"}}); r.status != 400 {
			t.Fatalf("wrong code: status %d", r.status)
		}
	}
	// Four wrong on instance B and the fifth try on instance A is the last.
	if r := a.follow(a.post("/privacy/signin/code?lang=en", url.Values{"code": {code}, "next": {"/privacy/consents"}})); r.status != 200 || !strings.Contains(r.body, `data-subject="demo-1001"`) {
		t.Fatalf("the right code on the other instance: status %d\n%s", r.status, excerpt(r.body))
	}

	// A fresh sign-in: five wrong codes spread over both instances end it.
	a.follow(a.post("/privacy/signout?lang=en", url.Values{}))
	a.get("/privacy/signin?lang=en")
	a.follow(a.post("/privacy/signin?lang=en", url.Values{"kind": {"email"}, "identity": {"lin.wei@example.com"}, "next": {"/privacy/consents"}}))
	code = h.code(t, "lin.wei@example.com")
	wrong = fmt.Sprintf("%06d", (mustAtoi(t, code)+1)%1_000_000)
	for i := range 5 {
		c := a
		if i%2 == 1 {
			c = b
		}
		c.post("/privacy/signin/code?lang=en", url.Values{"code": {wrong}, "next": {"/privacy/consents"}})
	}
	if r := b.post("/privacy/signin/code?lang=en", url.Values{"code": {code}, "next": {"/privacy/consents"}}); r.status == 303 {
		t.Error("the right code still worked after five wrong ones across two instances")
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (h *harness) signIn(t *testing.T, b *browser, kind, addr string) reply {
	t.Helper()
	b.get("/privacy/signin?lang=en")
	b.follow(b.post("/privacy/signin?lang=en", url.Values{"kind": {kind}, "identity": {addr}, "next": {"/privacy/consents"}}))
	return b.follow(b.post("/privacy/signin/code?lang=en", url.Values{"code": {h.code(t, addr)}, "next": {"/privacy/consents"}}))
}

var (
	inlineHandler = regexp.MustCompile(`(?i)<[^>]+\son[a-z]+\s*=`)
	inlineScript  = regexp.MustCompile(`(?i)<script(\s[^>]*)?>[^<]`)
)

// checkPage asserts what every HTML page must be, under a manifest that
// names a prevailing language (the starter's).
func checkPage(t *testing.T, r reply, lang string) {
	t.Helper()
	checkPageWith(t, r, lang, true)
}

// checkPageWith asserts what every HTML page must be; the page states the
// prevailing language exactly when the manifest names one.
func checkPageWith(t *testing.T, r reply, lang string, prevails bool) {
	t.Helper()
	for k, want := range map[string]string{
		"Content-Security-Policy": web.CSP, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.Contains(r.body, `<html lang="`+lang+`">`) {
		t.Errorf("page is not in %s", lang)
	}
	prevail := map[string]string{"en": "The Chinese version of the policy prevails.", "zh-CN": "本政策以中文版本为准。"}[lang]
	if got := strings.Contains(r.body, prevail); got != prevails {
		t.Errorf("page states the prevailing language (%q): %v, want %v", prevail, got, prevails)
	}
	if inlineHandler.MatchString(r.body) || inlineScript.MatchString(r.body) || strings.Contains(r.body, "style=") || strings.Contains(r.body, "<style") {
		t.Error("page carries inline script, style or an event handler")
	}
	if n := strings.Count(r.body, "<h1"); n != 1 {
		t.Errorf("page has %d h1, want 1", n)
	}
	for _, v := range pii {
		if strings.Contains(r.body, v) {
			t.Errorf("page echoes personal information %q", v)
		}
	}
}

func TestPagesRenderInBothLanguages(t *testing.T) {
	h := newHarness(t)
	b := h.browser(t)
	tests := []struct {
		path string
		want map[string]string // language → text that must appear
	}{
		{"/privacy/", map[string]string{"zh-CN": "阅读我们的隐私政策", "en": "Read our privacy policy"}},
		{"/privacy/policy", map[string]string{"zh-CN": "文本摘要", "en": "Text digest"}},
		{"/privacy/policy/versions", map[string]string{"zh-CN": "隐私政策版本", "en": "Policy versions"}},
		{"/privacy/policy/diff", map[string]string{"zh-CN": "只发布过一个版本", "en": "Only one version has been published"}},
		{"/privacy/requests", map[string]string{"zh-CN": "提出“查阅”请求", "en": "Make a request: Access"}},
		{"/privacy/requests/new?type=access", map[string]string{"zh-CN": "电子邮箱或手机号码", "en": "Email address or phone number"}},
		{"/privacy/signin", map[string]string{"zh-CN": "登录隐私中心", "en": "Sign in to the privacy center"}},
	}
	for _, tc := range tests {
		for lang, want := range tc.want {
			t.Run(lang+tc.path, func(t *testing.T) {
				sep := "?"
				if strings.Contains(tc.path, "?") {
					sep = "&"
				}
				r := b.get(tc.path + sep + "lang=" + lang)
				if r.status != http.StatusOK {
					t.Fatalf("status %d", r.status)
				}
				checkPage(t, r, lang)
				if !strings.Contains(r.body, want) {
					t.Errorf("page lacks %q:\n%s", want, excerpt(r.body))
				}
			})
		}
	}
	t.Run("Accept-Language picks the language", func(t *testing.T) {
		r := b.get("/privacy/", map[string]string{"Accept-Language": "en-GB,en;q=0.8"})
		checkPage(t, r, "en")
		r = b.get("/privacy/")
		checkPage(t, r, "zh-CN") // the prevailing language by default
	})
	t.Run("unknown pages and versions are 404", func(t *testing.T) {
		for _, p := range []string{"/privacy/nope", "/privacy/policy/versions/0.0.0-none"} {
			if r := b.get(p + "?lang=en"); r.status != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", p, r.status)
			}
		}
	})
}

func TestFormsNeedCSRF(t *testing.T) {
	h := newHarness(t)
	b := h.browser(t)
	b.get("/privacy/?lang=en") // gets the csrf cookie
	for _, path := range []string{"/privacy/signin", "/privacy/signin/code", "/privacy/consents", "/privacy/requests", "/privacy/requests/rq_x/withdraw", "/privacy/signout"} {
		t.Run(path, func(t *testing.T) {
			form := url.Values{"csrf": {"forged-forged-forged-forged-forged-forged-f"}, "kind": {"email"}, "identity": {"lin.wei@example.com"}, "type": {"access"}}
			r := b.do("POST", path+"?lang=en", form, nil)
			if r.status != http.StatusForbidden || !strings.Contains(r.body, "The form has expired") {
				t.Errorf("status %d, want 403 with the CSRF message", r.status)
			}
			r = b.do("POST", path+"?lang=en", url.Values{"kind": {"email"}, "identity": {"lin.wei@example.com"}}, nil)
			if r.status != http.StatusForbidden {
				t.Errorf("without a token: status %d, want 403", r.status)
			}
			// A good token from another site is refused too.
			r = b.post(path+"?lang=en", url.Values{"kind": {"email"}, "identity": {"lin.wei@example.com"}}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
			if r.status != http.StatusForbidden {
				t.Errorf("cross-site: status %d, want 403", r.status)
			}
		})
	}
	if strings.Contains(h.logs.String(), "lin.wei") {
		t.Error("the log holds the email address")
	}
}

func TestSignInRevealsNothing(t *testing.T) {
	h := newHarness(t)
	tests := []struct {
		name, kind, value string
		status            int
		must              []string
		sentTo            string // where a code must go, if anywhere
	}{
		{"known email", "email", "lin.wei@example.com", 303, nil, "lin.wei@example.com"},
		{"known phone", "phone", "13800138000", 303, nil, "+8613800138000"},
		{"unknown email", "email", "nobody@example.net", 303, nil, ""},
		{"invalid email", "email", "not an address", 400, []string{"Enter a valid email address or phone number.", `role="alert"`}, ""},
	}
	pages := map[string]string{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := h.browser(t)
			b.get("/privacy/signin?lang=en")
			r := b.post("/privacy/signin?lang=en", url.Values{"kind": {tc.kind}, "identity": {tc.value}})
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if r.status == 303 {
				if r.location() != "/privacy/signin/code?lang=en&next=%2Fprivacy%2Fconsents" {
					t.Errorf("redirect to %q", r.location())
				}
				r = b.get(r.location())
				pages[tc.name] = csrfRE.ReplaceAllString(r.body, "")
			}
			if strings.Contains(r.body, tc.value) {
				t.Errorf("the page echoes the identity typed")
			}
			for _, m := range tc.must {
				if !strings.Contains(r.body, m) {
					t.Errorf("page lacks %q", m)
				}
			}
			if tc.sentTo != "" {
				h.code(t, tc.sentTo)
			}
		})
	}
	if pages["known email"] != pages["unknown email"] {
		t.Error("the answer for a known identity differs from the answer for an unknown one")
	}
	t.Run("a wrong code does not sign in, a good one does", func(t *testing.T) {
		b := h.browser(t)
		b.get("/privacy/signin?lang=en")
		b.follow(b.post("/privacy/signin?lang=en", url.Values{"kind": {"email"}, "identity": {"lin.wei@example.com"}}))
		code := h.code(t, "lin.wei@example.com")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		r := b.post("/privacy/signin/code?lang=en", url.Values{"code": {wrong}})
		if r.status != 400 || !strings.Contains(r.body, "The code is wrong or has expired.") || !strings.Contains(r.body, `role="alert"`) {
			t.Fatalf("wrong code: status %d", r.status)
		}
		if r := b.get("/privacy/consents?lang=en"); r.status != 303 || !strings.HasPrefix(r.location(), "/privacy/signin") {
			t.Fatalf("consents before sign-in: status %d to %q", r.status, r.location())
		}
		r = b.follow(b.post("/privacy/signin/code?lang=en", url.Values{"code": {code}, "next": {"https://evil.example/"}}))
		if r.status != 200 || !strings.Contains(r.body, "Your consents") {
			t.Fatalf("after sign-in: status %d\n%s", r.status, excerpt(r.body))
		}
		checkPage(t, r, "en")
		// The code is spent.
		b.get("/privacy/signin/code?lang=en")
	})
	t.Run("an unknown identity's code never works", func(t *testing.T) {
		b := h.browser(t)
		b.get("/privacy/signin?lang=en")
		b.follow(b.post("/privacy/signin?lang=en", url.Values{"kind": {"email"}, "identity": {"nobody@example.net"}}))
		for i := 0; i < 5; i++ {
			if r := b.post("/privacy/signin/code?lang=en", url.Values{"code": {"123456"}}); r.status != 400 {
				t.Fatalf("attempt %d: status %d", i, r.status)
			}
		}
		// The sixth attempt ends the sign-in.
		r := b.post("/privacy/signin/code?lang=en", url.Values{"code": {"123456"}})
		if !strings.Contains(r.body, "Please ask for a new code.") {
			t.Errorf("after too many attempts: status %d", r.status)
		}
	})
	t.Run("sign-ins per identity are limited", func(t *testing.T) {
		b := h.browser(t)
		b.get("/privacy/signin?lang=en")
		var last reply
		for i := 0; i < 6; i++ {
			last = b.post("/privacy/signin?lang=en", url.Values{"kind": {"email"}, "identity": {"Nobody@Example.net"}})
		}
		if last.status != http.StatusTooManyRequests || !strings.Contains(last.body, "Too many attempts") {
			t.Errorf("sixth sign-in: status %d, want 429", last.status)
		}
	})
	assertLogsClean(t, h)
}

func assertLogsClean(t *testing.T, h *harness) {
	t.Helper()
	logs := h.logs.String()
	if logs == "" {
		t.Error("nothing was logged")
	}
	for _, v := range append(pii, "Nobody@Example.net") {
		if strings.Contains(logs, v) {
			t.Errorf("the log holds personal information %q", v)
		}
	}
	if n := len(h.codesTo("nobody@example.net")); n != 0 {
		t.Errorf("%d codes were sent to an identity not on file", n)
	}
	for _, c := range h.codes {
		if strings.Contains(logs, "="+c) || strings.Contains(logs, " "+c) {
			t.Errorf("the log holds a one-time code")
		}
	}
}

// consentPurposes picks, from the policy in force, a consent purpose that
// is asked for ordinarily, one that needs a separate consent, and one a
// browser signal withdraws.
func consentPurposes(t *testing.T, svc *consent.Service) (ordinary, separate, signal string) {
	t.Helper()
	_, m, pol, err := svc.Policy()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Purposes {
		r, _ := pol.Rule(p.ID)
		gpc := r.RefusedBy&check.SignalGPC != 0
		switch {
		case !r.Consent:
		case gpc && signal == "":
			signal = p.ID
		case r.Separate && r.RefusedBy == 0 && separate == "":
			separate = p.ID
		case !r.Separate && r.RefusedBy == 0 && ordinary == "":
			ordinary = p.ID
		}
	}
	if ordinary == "" || separate == "" || signal == "" {
		t.Fatalf("the demo policy lacks a kind of purpose: %q %q %q", ordinary, separate, signal)
	}
	return
}

func events(t *testing.T, st *store.Store, subject string) []store.ConsentEvent {
	t.Helper()
	evs, err := st.ConsentEvents(context.Background(), subject, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func state(t *testing.T, st *store.Store, subject, purpose string) (granted, known bool) {
	t.Helper()
	_, states, err := st.SubjectState(context.Background(), subject)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		if s.Purpose == purpose {
			return s.Granted, true
		}
	}
	return false, false
}

var noticeRE = regexp.MustCompile(`name="notice_hash" value="([0-9a-f]{64})"`)

func TestConsents(t *testing.T) {
	h := newHarness(t)
	st := h.d.Server.Store()
	ordinary, separate, signal := consentPurposes(t, h.d.Server.Service())
	// A ward who has come of age: no longer in the guardian's care.
	if _, err := h.d.Server.Service().CreateSubject(context.Background(), consent.Actor{ID: "test", Role: "admin", Place: "test"},
		consent.SubjectInput{ID: "demo-grown", BirthDate: "1995-05-05", GuardianID: "demo-1001"}); err != nil {
		t.Fatal(err)
	}
	b := h.browser(t)
	page := h.signIn(t, b, "email", "lin.wei@example.com")
	if strings.Contains(page.body, `data-ward="demo-grown"`) {
		t.Error("an adult former ward is offered to the guardian")
	}
	if page.status != 200 {
		t.Fatalf("consent page: status %d", page.status)
	}
	checkPage(t, page, "en")
	m := noticeRE.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("the consent forms carry no notice hash")
	}
	notice := m[1]
	for _, want := range []string{`data-purpose="` + ordinary + `" data-subject="demo-1001"`, "Separate consents", "Minors in your care", `data-ward="demo-1003"`, notice[:12]} {
		if !strings.Contains(page.body, want) {
			t.Errorf("consent page lacks %q", want)
		}
	}
	if g, _ := state(t, st, "demo-1001", ordinary); !g {
		t.Fatalf("demo-1001 should start with %s granted", ordinary)
	}

	tests := []struct {
		name    string
		form    url.Values
		hdr     map[string]string
		status  int
		subject string
		// the one event expected, or none
		want *store.ConsentEvent
	}{
		{name: "withdraw", form: url.Values{"purpose": {ordinary}, "action": {"withdraw"}}, status: 303, subject: "demo-1001",
			want: &store.ConsentEvent{Purpose: ordinary, Action: "withdraw", Method: center.Method, Language: "en"}},
		{name: "grant again", form: url.Values{"purpose": {ordinary}, "action": {"grant"}}, status: 303, subject: "demo-1001",
			want: &store.ConsentEvent{Purpose: ordinary, Action: "grant", Method: center.Method, Language: "en"}},
		{name: "separate consent without its box", form: url.Values{"purpose": {separate}, "action": {"grant"}}, status: 400, subject: "demo-1001"},
		{name: "separate consent", form: url.Values{"purpose": {separate}, "action": {"grant"}, "separate": {"yes"}}, status: 303, subject: "demo-1001",
			want: &store.ConsentEvent{Purpose: separate, Action: "grant", Method: center.Method, Language: "en", Separate: true}},
		{name: "guardian for the minor", form: url.Values{"purpose": {ordinary}, "action": {"grant"}, "for": {"demo-1003"}}, status: 303, subject: "demo-1003",
			want: &store.ConsentEvent{Purpose: ordinary, Action: "grant", Method: "guardian", Language: "en", GuardianID: "demo-1001"}},
		{name: "not the guardian of a ward come of age", form: url.Values{"purpose": {ordinary}, "action": {"grant"}, "for": {"demo-grown"}}, status: 403, subject: "demo-grown"},
		{name: "not the guardian of another adult", form: url.Values{"purpose": {ordinary}, "action": {"withdraw"}, "for": {"demo-1002"}}, status: 403, subject: "demo-1002"},
		{name: "GPC turns a grant into a withdrawal", form: url.Values{"purpose": {signal}, "action": {"grant"}, "separate": {"yes"}}, hdr: map[string]string{"Sec-GPC": "1"}, status: 303, subject: "demo-1001",
			want: &store.ConsentEvent{Purpose: signal, Action: "withdraw", Method: center.Method, Language: "en", Signal: "gpc"}},
		{name: "a stale notice is refused", form: url.Values{"purpose": {ordinary}, "action": {"withdraw"}, "notice_hash": {strings.Repeat("0", 64)}}, status: 409, subject: "demo-1001"},
		{name: "not a consent purpose", form: url.Values{"purpose": {"account_registration"}, "action": {"withdraw"}}, status: 422, subject: "demo-1001"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(events(t, st, tc.subject))
			if tc.form.Get("notice_hash") == "" {
				tc.form.Set("notice_hash", notice)
			}
			r := b.post("/privacy/consents?lang=en", tc.form, tc.hdr)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d\n%s", r.status, tc.status, excerpt(r.body))
			}
			evs := events(t, st, tc.subject)
			if tc.want == nil {
				if len(evs) != before {
					t.Fatalf("%d events recorded, want none", len(evs)-before)
				}
				if tc.status != 303 && !strings.Contains(r.body, `role="alert"`) {
					t.Error("the refusal is not announced (role=alert)")
				}
				return
			}
			if len(evs) != before+1 {
				t.Fatalf("%d events recorded, want 1", len(evs)-before)
			}
			got := evs[len(evs)-1]
			w := *tc.want
			if got.Purpose != w.Purpose || got.Action != w.Action || got.Method != w.Method || got.Language != w.Language ||
				got.Separate != w.Separate || got.GuardianID != w.GuardianID || got.Signal != w.Signal || got.NoticeHash != notice {
				t.Errorf("event %+v, want %+v with the page's notice hash", got, w)
			}
			page := b.get(r.location())
			checkPage(t, page, "en")
		})
	}
	t.Run("the page shows the ledger's state and the GPC signal", func(t *testing.T) {
		r := b.get("/privacy/consents?lang=en", map[string]string{"Sec-GPC": "1"})
		if !strings.Contains(r.body, "Global Privacy Control") {
			t.Error("the page does not say the GPC signal was seen")
		}
		if g, _ := state(t, st, "demo-1001", signal); g {
			t.Fatal("the signal purpose is still granted")
		}
		card := regexp.MustCompile(`(?s)data-purpose="` + signal + `" data-subject="demo-1001">.*?</article>`).FindString(r.body)
		if !strings.Contains(card, `data-state="withdrawn"`) {
			t.Errorf("the page does not show %s withdrawn:\n%s", signal, card)
		}
		if r := b.get("/privacy/consents?lang=en"); strings.Contains(r.body, "Global Privacy Control") {
			t.Error("the GPC note shows without the signal")
		}
	})
	t.Run("a session cookie from another key is not accepted", func(t *testing.T) {
		other := h.browser(t)
		u, _ := url.Parse(h.url)
		other.c.Jar.SetCookies(u, []*http.Cookie{{Name: "custos_center", Value: "eyJzIjoiZGVtby0xMDAyIiwiZSI6OTk5OTk5OTk5OX0.AAAA", Path: "/"}})
		if r := other.get("/privacy/consents?lang=en"); r.status != 303 {
			t.Errorf("forged session: status %d, want a redirect to sign in", r.status)
		}
	})
	t.Run("the session cookie is HttpOnly and SameSite=Lax", func(t *testing.T) {
		b2 := h.browser(t)
		b2.get("/privacy/signin?lang=en")
		r := b2.post("/privacy/signin?lang=en", url.Values{"kind": {"email"}, "identity": {"alex.chen@example.org"}})
		ck := ""
		for _, c := range r.header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "custos_center=") {
				ck = c
			}
		}
		if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") || !strings.Contains(ck, "Max-Age=1800") {
			t.Errorf("session cookie %q", ck)
		}
	})
	t.Run("sign out", func(t *testing.T) {
		b.get("/privacy/consents?lang=en")
		b.follow(b.post("/privacy/signout?lang=en", url.Values{}))
		if r := b.get("/privacy/consents?lang=en"); r.status != 303 {
			t.Errorf("after sign-out: status %d", r.status)
		}
	})
	assertLogsClean(t, h)
}

var dueRE = regexp.MustCompile(`id="due-date">(\d{4}-\d{2}-\d{2})<`)

// makeRequest submits a request of type right for addr, verifies it, and
// returns its id and status page.
func (h *harness) makeRequest(t *testing.T, b *browser, right, kind, addr string) (string, reply) {
	t.Helper()
	return h.makeRequestIn(t, b, "en", right, kind, addr)
}

// makeRequestIn is makeRequest with the pages, and so the request, in lang.
func (h *harness) makeRequestIn(t *testing.T, b *browser, lang, right, kind, addr string) (string, reply) {
	t.Helper()
	to := addr
	if kind == "phone" {
		to = "+86" + addr // the outbox holds numbers in E.164
	}
	form := b.get("/privacy/requests/new?type=" + right + "&lang=" + lang)
	if form.status != 200 {
		t.Fatalf("request form: status %d", form.status)
	}
	r := b.post("/privacy/requests?lang="+lang, url.Values{"type": {right}, "jurisdiction": {"CN"}, "kind": {kind}, "identity": {addr}})
	if r.status != 303 || !strings.HasSuffix(strings.TrimSuffix(r.location(), "?lang="+lang), "/verify") {
		t.Fatalf("submit: status %d to %q\n%s", r.status, r.location(), excerpt(r.body))
	}
	id := strings.Split(r.location(), "/")[3]
	v := b.get(r.location())
	checkPage(t, v, lang)
	if !strings.Contains(v.body, map[string]string{"en": "If this identity is on file", "zh-CN": "如果该身份信息与我们的记录相符"}[lang]) {
		t.Error("the verify page does not give the neutral answer")
	}
	s := b.follow(b.post("/privacy/requests/"+id+"/verify?lang="+lang, url.Values{"code": {h.code(t, to)}}))
	return id, s
}

func TestRights(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	b := h.browser(t)
	id, page := h.makeRequest(t, b, "access", "email", "lin.wei@example.com")
	checkPage(t, page, "en")
	for _, want := range []string{"Your identity is verified", `data-type="access"`, `data-state="verified"`, "History"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	// The history speaks the page's language.
	zh := b.get("/privacy/requests/" + id + "?lang=zh-CN")
	if !strings.Contains(zh.body, "已通过一次性验证码核验身份") || strings.Contains(zh.body, "identity verified by one-time code") {
		t.Errorf("the Chinese status page's history is not in Chinese:\n%s", excerpt(zh.body))
	}
	due := dueRE.FindStringSubmatch(page.body)
	v, err := h.d.Server.Requests().Status(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if due == nil || due[1] != v.DueDate {
		t.Errorf("due date shown %v, want %s", due, v.DueDate)
	}
	if strings.Contains(page.header.Get("Location"), "token") || strings.Contains(page.body, "token=") {
		t.Error("the access token is in a URL")
	}

	t.Run("the status is only for the requester", func(t *testing.T) {
		other := h.browser(t)
		if r := other.get("/privacy/requests/" + id + "?lang=en"); r.status != 404 {
			t.Errorf("status without the token: %d, want 404", r.status)
		}
		other.get("/privacy/?lang=en")
		if r := other.post("/privacy/requests/follow?lang=en", url.Values{"request": {id}, "token": {"wrong"}}); r.status != 404 {
			t.Errorf("follow with a wrong token: %d, want 404", r.status)
		}
	})
	t.Run("in Chinese", func(t *testing.T) {
		r := b.get("/privacy/requests/" + id + "?lang=zh-CN")
		checkPage(t, r, "zh-CN")
		if !strings.Contains(r.body, "答复期限") || !strings.Contains(r.body, "已核验") {
			t.Error("the Chinese status page lacks its words")
		}
	})
	t.Run("withdraw", func(t *testing.T) {
		r := b.follow(b.post("/privacy/requests/"+id+"/withdraw?lang=en", url.Values{}))
		if !strings.Contains(r.body, `data-state="withdrawn"`) || !strings.Contains(r.body, "The request is withdrawn.") {
			t.Errorf("after withdrawal:\n%s", excerpt(r.body))
		}
	})
	t.Run("refusal shows the operator's explanation", func(t *testing.T) {
		b := h.browser(t)
		id, _ := h.makeRequest(t, b, "deletion", "phone", "13800138000")
		op := consent.Actor{ID: "operator-test", Role: "operator", Place: "test"}
		if _, err := h.d.Server.Requests().Refuse(ctx, op, id, "legal_obligation", "We must keep invoices for 30 years."); err != nil {
			t.Fatal(err)
		}
		r := b.get("/privacy/requests/" + id + "?lang=en")
		if !strings.Contains(r.body, "We must keep invoices for 30 years.") || !strings.Contains(r.body, `data-state="refused"`) {
			t.Errorf("refusal page:\n%s", excerpt(r.body))
		}
	})
	t.Run("a scheduled account cancellation can be stopped", func(t *testing.T) {
		b := h.browser(t)
		id, _ := h.makeRequest(t, b, "cancel_account", "email", "alex.chen@example.org")
		op := consent.Actor{ID: "operator-test", Role: "operator", Place: "test"}
		svc := h.d.Server.Requests()
		if _, err := svc.Approve(ctx, op, id); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Complete(ctx, op, id, dsr.CompleteInput{}); err != nil {
			t.Fatal(err)
		}
		r := b.get("/privacy/requests/" + id + "?lang=en")
		if !strings.Contains(r.body, "Stop the account cancellation") {
			t.Fatalf("no way to stop the cancellation:\n%s", excerpt(r.body))
		}
		r = b.follow(b.post("/privacy/requests/"+id+"/withdraw?lang=en", url.Values{}))
		if !strings.Contains(r.body, `data-state="withdrawn"`) {
			t.Errorf("after stopping:\n%s", excerpt(r.body))
		}
	})
	t.Run("an export can be downloaded with the link from the message", func(t *testing.T) {
		b := h.browser(t)
		id, _ := h.makeRequest(t, b, "copy", "email", "lin.wei@example.com")
		op := consent.Actor{ID: "operator-test", Role: "operator", Place: "test"}
		svc := h.d.Server.Requests()
		if _, err := svc.Approve(ctx, op, id); err != nil {
			t.Fatal(err)
		}
		v, err := svc.Complete(ctx, op, id, dsr.CompleteInput{})
		if err != nil {
			t.Fatal(err)
		}
		r := b.get("/privacy/requests/" + id + "?lang=en")
		if !strings.Contains(r.body, "Download your information") {
			t.Fatalf("no download form:\n%s", excerpt(r.body))
		}
		r = b.post("/privacy/requests/"+id+"/download?lang=en", url.Values{"link": {"https://example.com" + v.Download}})
		if r.status != 200 || r.header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(r.body, "PK") {
			t.Errorf("download: status %d, type %q", r.status, r.header.Get("Content-Type"))
		}
		if r := b.post("/privacy/requests/"+id+"/download?lang=en", url.Values{"link": {"nope"}}); r.status != 404 {
			t.Errorf("a wrong link: status %d, want 404", r.status)
		}
		// The status page's own button: the session holds the access token.
		r = b.post("/privacy/requests/"+id+"/download?lang=en", url.Values{})
		if r.status != 200 || r.header.Get("Content-Type") != "application/zip" || !strings.HasPrefix(r.body, "PK") {
			t.Errorf("download from the status page: status %d, type %q", r.status, r.header.Get("Content-Type"))
		}
		// Another browser, without the request's token, gets nothing.
		other := h.browser(t)
		other.get("/privacy/?lang=en")
		if r := other.post("/privacy/requests/"+id+"/download?lang=en", url.Values{}); r.status == 200 {
			t.Errorf("download without the access token: status %d", r.status)
		}
	})
	t.Run("a deceased person's relative is sent to a person, not a form", func(t *testing.T) {
		b := h.browser(t)
		r := b.get("/privacy/requests?lang=en")
		if !strings.Contains(r.body, "which our staff check") || !strings.Contains(r.body, `<ul data-right="deceased">`) {
			t.Errorf("the rights page does not say how a relative asks:\n%s", excerpt(r.body))
		}
		if strings.Contains(r.body, "type=deceased") {
			t.Error("the rights page offers a form a one-time code cannot verify")
		}
		if r := b.get("/privacy/requests/new?type=deceased&lang=en"); r.status != 404 {
			t.Errorf("form for a deceased person's relative: status %d, want 404", r.status)
		}
	})
	t.Run("a fee asked is shown with its amount and reason", func(t *testing.T) {
		// The starter charges only for the fifth request of a kind within
		// twelve months: four are made and withdrawn first.
		// (by an operator: the center limits how often one person asks).
		op := consent.Actor{ID: "operator-test", Role: "operator", Place: "test"}
		svc := h.d.Server.Requests()
		for range 4 {
			v, err := svc.SubmitOperator(ctx, op, dsr.Input{Type: "access", Jurisdiction: "CN", Language: "en", SubjectID: "demo-1002",
				Verification: "operator", Evidence: "seen in person"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Withdraw(ctx, op, v.ID); err != nil {
				t.Fatal(err)
			}
		}
		b := h.browser(t)
		id, page := h.makeRequest(t, b, "access", "email", "alex.chen@example.org")
		if strings.Contains(page.body, `id="fee"`) {
			t.Fatal("a fee section before any fee is asked")
		}
		if _, err := svc.Approve(ctx, op, id); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AskFee(ctx, op, id, dsr.FeeInput{Amount: "20", Currency: "CNY", Reason: "fifth copy this year"}); err != nil {
			t.Fatal(err)
		}
		r := b.get("/privacy/requests/" + id + "?lang=en")
		for _, want := range []string{`data-state="awaiting_fee"`, `data-fee="asked"`, "20 CNY", "fifth copy this year", "To be paid", "once the fee is paid or waived"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("status page lacks %q:\n%s", want, excerpt(r.body))
			}
		}
		zh := b.get("/privacy/requests/" + id + "?lang=zh-CN")
		checkPage(t, zh, "zh-CN")
		if !strings.Contains(zh.body, "待支付") || !strings.Contains(zh.body, "等待支付费用") {
			t.Errorf("the Chinese status page lacks the fee's words:\n%s", excerpt(zh.body))
		}
		if _, err := svc.WaiveFee(ctx, op, id); err != nil {
			t.Fatal(err)
		}
		r = b.get("/privacy/requests/" + id + "?lang=en")
		if !strings.Contains(r.body, `data-fee="waived"`) || strings.Contains(r.body, "once the fee is paid or waived") || strings.Contains(r.body, `data-state="awaiting_fee"`) {
			t.Errorf("after the fee is waived:\n%s", excerpt(r.body))
		}
	})
	t.Run("an invalid identity is not echoed", func(t *testing.T) {
		b := h.browser(t)
		b.get("/privacy/requests/new?type=access&lang=en")
		r := b.post("/privacy/requests?lang=en", url.Values{"type": {"access"}, "kind": {"phone"}, "identity": {"12-not-a-phone-13900139000x"}})
		if r.status != 422 || strings.Contains(r.body, "not-a-phone") || !strings.Contains(r.body, `role="alert"`) {
			t.Errorf("status %d", r.status)
		}
	})
	assertLogsClean(t, h)
}

func TestPolicyVersionsAndDiff(t *testing.T) {
	h := newHarness(t)
	src, err := os.ReadFile("../../../examples/starter/custos-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	old, _, _, _ := h.d.Server.Service().Policy()
	// The starter promises 7 days' notice of a material change: 3.1 is
	// announced first, and the pages say so until it comes into force.
	at := h.d.Clock.Now().AddDate(0, 0, 7).Add(time.Minute)
	pub, err := h.d.Server.Service().PublishWith(context.Background(), consent.Actor{ID: "test", Role: "admin", Place: "test"}, "custos-v2.yaml", src,
		consent.PublishOptions{EffectiveAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Upcoming {
		t.Fatalf("3.1 published for %v is not announced: %+v", at, pub)
	}
	{
		b := h.browser(t)
		r := b.get("/privacy/policy/versions?lang=en")
		if !regexp.MustCompile(`versions/` + regexp.QuoteMeta(pub.Version) + `\?lang=en"[^>]*>[^<]*</a> <span class="badge info" data-state="upcoming">`).MatchString(r.body) {
			t.Errorf("the versions page does not mark %s upcoming:\n%s", pub.Version, excerpt(r.body))
		}
		r = b.get("/privacy/policy?lang=en")
		if !strings.Contains(r.body, `data-upcoming="`+pub.Version+`"`) {
			t.Errorf("the policy in force does not announce %s", pub.Version)
		}
		r = b.get("/privacy/policy/versions/" + pub.Version + "?lang=zh-CN")
		checkPage(t, r, "zh-CN")
		if !strings.Contains(r.body, "尚未生效的版本 "+pub.Version) {
			t.Errorf("the upcoming version's page does not say it is not yet in force:\n%s", excerpt(r.body))
		}
		if cur, _, _, _ := h.d.Server.Service().Policy(); cur.Version != old.Version {
			t.Errorf("in force before the instant: %s, want %s", cur.Version, old.Version)
		}
	}
	h.d.Clock.Set(at)
	if cur, _, _, _ := h.d.Server.Service().Policy(); cur.Version != pub.Version {
		t.Fatalf("in force at the instant: %s, want %s", cur.Version, pub.Version)
	}
	b := h.browser(t)
	for _, lang := range []string{"en", "zh-CN"} {
		t.Run(lang, func(t *testing.T) {
			r := b.get("/privacy/policy/versions?lang=" + lang)
			checkPage(t, r, lang)
			for _, v := range []string{old.Version, pub.Version} {
				if !strings.Contains(r.body, "/privacy/policy/versions/"+v) {
					t.Errorf("versions page lacks %s", v)
				}
			}
			r = b.get("/privacy/policy/versions/" + old.Version + "?lang=" + lang)
			checkPage(t, r, lang)
			if !strings.Contains(r.body, map[string]string{"en": "This is the earlier version", "zh-CN": "这是历史版本"}[lang]) {
				t.Error("an archived version is not marked as such")
			}
			r = b.get("/privacy/policy/diff?from=" + old.Version + "&to=" + pub.Version + "&lang=" + lang)
			checkPage(t, r, lang)
			for _, want := range []string{"<ins>", `<label for="diff-from">`, `data-material="yes"`, `data-kind="`} {
				if !strings.Contains(r.body, want) {
					t.Errorf("diff lacks %q", want)
				}
			}
			if pub.Material != strings.Contains(r.body, `data-material="yes"`) {
				t.Errorf("material shown differs from the publication (%v)", pub.Material)
			}
		})
	}
}

// TestGuardianAcceptsForWard: under the starter's rule a child's processing
// on every basis but the law's waits for their guardian. The guardian sees
// what waits on the consents page, accepts the policy for the ward, and the
// decision point then allows it.
func TestGuardianAcceptsForWard(t *testing.T) {
	h := newHarness(t)
	svc := h.d.Server.Service()
	check := func() string {
		res, err := svc.Check(context.Background(), consent.Actor{ID: "test", Role: "service", Place: "test"}, consent.CheckInput{SubjectID: "demo-1003", Purposes: []string{"note_sync"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Decisions[0].Reason
	}
	if got := check(); got != "guardian_consent_required" {
		t.Fatalf("the ward's note_sync before: %s, want guardian_consent_required", got)
	}
	b := h.browser(t)
	page := h.signIn(t, b, "email", "lin.wei@example.com")
	card := regexp.MustCompile(`(?s)<section class="card notice" id="a-demo-1003" data-accept="([^"]+)".*?</section>`).FindStringSubmatch(page.body)
	if card == nil {
		t.Fatalf("the guardian is not asked to accept the policy for the ward:\n%s", excerpt(page.body))
	}
	if !strings.Contains(card[0], "note sync") && !strings.Contains(strings.ToLower(card[0]), "sync") {
		t.Errorf("the card does not name what waits:\n%s", card[0])
	}
	m := noticeRE.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no notice hash on the page")
	}
	r := b.post("/privacy/acceptances?lang=en", url.Values{"version": {card[1]}, "notice_hash": {m[1]}, "for": {"demo-1003"}}, nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("accept for the ward: status %d\n%s", r.status, excerpt(r.body))
	}
	if got := check(); got != "legal_basis:contract" {
		t.Errorf("the ward's note_sync after the guardian accepted: %s", got)
	}
	if page := b.get("/privacy/consents?lang=en"); strings.Contains(page.body, `id="a-demo-1003"`) {
		t.Error("the guardian is still asked to accept")
	}
	// Someone else's ward: refused, nothing recorded.
	other := h.browser(t)
	h.signIn(t, other, "email", "alex.chen@example.org")
	if r := other.post("/privacy/acceptances?lang=en", url.Values{"version": {card[1]}, "notice_hash": {m[1]}, "for": {"demo-1003"}}, nil); r.status != http.StatusForbidden {
		t.Errorf("accepting for someone else's ward: status %d, want 403", r.status)
	}
}

// TestObjections: on Yonyou Cloud's manifest an EU resident's profiling rests
// on legitimate interests. The consents page lists it as processing they may
// object to; an objection stops it (the decision point answers objected),
// and lifting it lets it go on. A PRC resident sees the same purpose among
// their consents instead.
func TestObjections(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.Manifest = "../../../examples/yonyou-cloud/custos.yaml" })
	svc := h.d.Server.Service()
	admin := consent.Actor{ID: "test", Role: "admin", Place: "test"}
	for _, in := range []consent.SubjectInput{
		{ID: "eu-1", Jurisdiction: "EU", BirthDate: "1990-01-01", Identities: []consent.IdentityInput{{Kind: "email", Value: "eu.resident@example.eu", Keep: true}}},
		{ID: "cn-1", Jurisdiction: "CN", BirthDate: "1990-01-01", Identities: []consent.IdentityInput{{Kind: "email", Value: "cn.resident@example.cn", Keep: true}}},
	} {
		if _, err := svc.CreateSubject(context.Background(), admin, in); err != nil {
			t.Fatal(err)
		}
	}
	decide := func(subject string) string {
		res, err := svc.Check(context.Background(), admin, consent.CheckInput{SubjectID: subject, Purposes: []string{"personalization"}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Decisions[0].Reason
	}
	b := h.browser(t)
	page := h.signIn(t, b, "email", "eu.resident@example.eu")
	checkPageWith(t, page, "en", false) // the Yonyou Cloud policy names no prevailing language
	card := regexp.MustCompile(`(?s)<article class="card" id="o-eu-1-personalization" data-objectable="personalization".*?</article>`).FindString(page.body)
	if card == "" || !strings.Contains(card, `data-action="object"`) || !strings.Contains(card, "Direct marketing") {
		t.Fatalf("profiling is not offered for objection (with its direct-marketing mark):\n%s", excerpt(page.body))
	}
	notice := noticeRE.FindStringSubmatch(page.body)[1]
	if r := b.post("/privacy/objections?lang=en", url.Values{"purpose": {"personalization"}, "action": {"object"}, "notice_hash": {notice}}, nil); r.status != http.StatusSeeOther {
		t.Fatalf("object: status %d\n%s", r.status, excerpt(r.body))
	}
	if got := decide("eu-1"); got != "objected" {
		t.Errorf("after the objection: %s, want objected", got)
	}
	page = b.get("/privacy/consents?lang=en")
	if card := regexp.MustCompile(`(?s)id="o-eu-1-personalization".*?</article>`).FindString(page.body); !strings.Contains(card, `data-state="objected"`) || !strings.Contains(card, `data-action="lift"`) {
		t.Errorf("the page does not show the objection:\n%s", card)
	}
	if r := b.post("/privacy/objections?lang=en", url.Values{"purpose": {"personalization"}, "action": {"lift"}, "notice_hash": {notice}}, nil); r.status != http.StatusSeeOther {
		t.Fatalf("lift: status %d", r.status)
	}
	if got := decide("eu-1"); got != "legal_basis:legitimate_interests" {
		t.Errorf("after lifting: %s", got)
	}
	// Objecting to a purpose that carries no right to object is refused.
	if r := b.post("/privacy/objections?lang=en", url.Values{"purpose": {"service_provision"}, "action": {"object"}, "notice_hash": {notice}}, nil); r.status != http.StatusUnprocessableEntity {
		t.Errorf("objecting to a contract purpose: status %d, want 422", r.status)
	}

	cn := h.browser(t)
	page = h.signIn(t, cn, "email", "cn.resident@example.cn")
	if strings.Contains(page.body, `data-objectable="personalization"`) || !strings.Contains(page.body, `data-purpose="personalization"`) {
		t.Errorf("a PRC resident should see profiling among consents, not objections")
	}
}
