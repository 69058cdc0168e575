package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/client"
)

// TestRetryThenSucceed: a GET answered 503 twice, then 200, is tried three
// times and returns the third answer; each wait is within the policy's
// jittered cap for its attempt.
func TestRetryThenSucceed(t *testing.T) {
	f := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			writeErr(w, 503, "not_ready", "the database does not answer")
			return
		}
		writeOK(w, policyBody)
	})
	c, s := newFakeClient(t, f.URL)
	p, err := c.CurrentPolicy(t.Context())
	if err != nil {
		t.Fatalf("CurrentPolicy: %v", err)
	}
	if p.Version != "3.0" || !p.InForce {
		t.Errorf("policy = %+v", p)
	}
	if f.count() != 3 {
		t.Errorf("the server was hit %d times, want 3", f.count())
	}
	waits := s.waits()
	if len(waits) != 2 {
		t.Fatalf("waits = %v, want 2", waits)
	}
	for i, d := range waits {
		if ceiling := fastRetry.BaseDelay << i; d < 0 || d > ceiling {
			t.Errorf("wait %d = %v, want within [0, %v]", i+1, d, ceiling)
		}
	}
}

// TestRetryByStatusAndMethod: which answers are retried, and that a POST
// never is (the API takes no idempotency key), while a PUT is.
func TestRetryByStatusAndMethod(t *testing.T) {
	type callFn func(*client.Client) error
	get := func(c *client.Client) error { _, err := c.GetSubject(t.Context(), "u-1", "support"); return err }
	put := func(c *client.Client) error {
		_, err := c.SetRestriction(t.Context(), "u-1", true, "disputed")
		return err
	}
	post := func(c *client.Client) error {
		_, err := c.RecordConsent(t.Context(), "u-1", client.ConsentInput{Grant: []string{"analytics"}, Method: client.MethodAPI, Language: "en", NoticeHash: client.NoticeHash("n")})
		return err
	}
	check := func(c *client.Client) error {
		_, err := c.Check(t.Context(), client.CheckInput{SubjectID: "u-1", Purposes: []string{"analytics"}})
		return err
	}
	for _, tc := range []struct {
		name     string
		call     callFn
		status   int
		code     string
		attempts int
		class    error
	}{
		{"GET 400", get, 400, "invalid_json", 1, client.ErrBadRequest},
		{"GET 401", get, 401, "unauthenticated", 1, client.ErrUnauthorized},
		{"GET 404", get, 404, "subject_not_found", 1, client.ErrNotFound},
		{"GET 422", get, 422, "invalid_subject_id", 1, client.ErrInvalid},
		{"GET 500", get, 500, "internal", 1, client.ErrInternal},
		{"GET 429", get, 429, "rate_limited", 4, client.ErrRateLimited},
		{"GET 502", get, 502, "bad_gateway", 4, nil},
		{"GET 503", get, 503, "not_ready", 4, client.ErrUnavailable},
		{"GET 504", get, 504, "timeout", 4, nil},
		{"PUT 503", put, 503, "not_ready", 4, client.ErrUnavailable},
		{"PUT 409", put, 409, "busy", 1, client.ErrConflict},
		{"POST 503", post, 503, "not_ready", 1, client.ErrUnavailable},
		{"POST 429", post, 429, "rate_limited", 1, client.ErrRateLimited},
		{"POST 502", post, 502, "bad_gateway", 1, nil},
		{"check 503", check, 503, "not_ready", 1, client.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) { writeErr(w, tc.status, tc.code, "no") })
			c, _ := newFakeClient(t, f.URL)
			err := tc.call(c)
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *client.Error", err, err)
			}
			if e.Status != tc.status || e.Code != tc.code || e.Message != "no" {
				t.Errorf("error = %+v", e)
			}
			if tc.class != nil && !errors.Is(err, tc.class) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.class)
			}
			if !errors.Is(err, client.ErrorCode(tc.code)) || errors.Is(err, client.ErrorCode("other")) {
				t.Errorf("ErrorCode matching is wrong for %v", err)
			}
			if f.count() != tc.attempts {
				t.Errorf("the server was hit %d times, want %d", f.count(), tc.attempts)
			}
		})
	}
}

// TestRetryAfter: the wait is at least what the server asks for, in
// seconds or as a date; a longer ask than the policy's MaxDelay ends the
// retries at once, with the ask in Error.RetryAfter.
func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		name       string
		header     string
		attempts   int
		wantWait   time.Duration // minimum of the first wait; 0: no wait
		retryAfter time.Duration // of the error, when it is returned
	}{
		{"seconds", "3", 2, 3 * time.Second, 0},
		{"date", time.Now().Add(5 * time.Second).UTC().Format(http.TimeFormat), 2, 3 * time.Second, 0},
		{"beyond MaxDelay", "60", 1, 0, 60 * time.Second},
		{"garbage", "soon", 2, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", tc.header)
					writeErr(w, 429, "rate_limited", "too many requests; try again later")
					return
				}
				writeOK(w, policyBody)
			})
			c, s := newFakeClient(t, f.URL)
			_, err := c.CurrentPolicy(t.Context())
			if f.count() != tc.attempts {
				t.Fatalf("the server was hit %d times, want %d (err %v)", f.count(), tc.attempts, err)
			}
			if tc.attempts == 1 {
				var e *client.Error
				if !errors.As(err, &e) || e.RetryAfter != tc.retryAfter || !errors.Is(err, client.ErrRateLimited) {
					t.Fatalf("err = %#v, want a 429 with RetryAfter %v", err, tc.retryAfter)
				}
				if len(s.waits()) != 0 {
					t.Errorf("waited %v before giving up", s.waits())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w := s.waits(); len(w) != 1 || w[0] < tc.wantWait || w[0] > fastRetry.MaxDelay {
				t.Errorf("waits = %v, want one of at least %v", w, tc.wantWait)
			}
		})
	}
}

// TestRetryStopsBeforeTheDeadline: when the context would end before the
// next try, the last answer comes back at once, not a deadline error
// after a useless wait.
func TestRetryStopsBeforeTheDeadline(t *testing.T) {
	f := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "5")
		writeErr(w, 503, "not_ready", "the database does not answer")
	})
	c, s := newFakeClient(t, f.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err := c.CurrentPolicy(ctx)
	if !errors.Is(err, client.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the 503", err)
	}
	if f.count() != 1 || len(s.waits()) != 0 {
		t.Errorf("hits %d, waits %v: want one try and no wait", f.count(), s.waits())
	}
}

// TestRetryWaitEndsWithTheContext: cancelling the context during a wait
// ends the call with the context's error.
func TestRetryWaitEndsWithTheContext(t *testing.T) {
	f := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "5")
		writeErr(w, 503, "not_ready", "the database does not answer")
	})
	c, err := client.New(f.URL, client.WithRetry(fastRetry)) // the real wait
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() { _, err := c.CurrentPolicy(ctx); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !errors.Is(err, client.ErrUnavailable) {
			t.Errorf("err = %v, want context.Canceled with the last answer, a 503", err)
		}
	case <-time.After(4 * time.Second):
		t.Fatal("the call did not end when its context was cancelled")
	}
	if f.count() != 1 {
		t.Errorf("the server was hit %d times, want 1", f.count())
	}
}

// TestContextCancelledInFlight: a call whose context ends while the
// server has not answered returns the context's error, and a call with a
// context already cancelled sends nothing.
func TestContextCancelledInFlight(t *testing.T) {
	release := make(chan struct{})
	f := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c, s := newFakeClient(t, f.URL)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := c.GetSubject(ctx, "u-1", "")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	if len(s.waits()) != 0 {
		t.Errorf("retried after the context ended: waits %v", s.waits())
	}
	ctx, cancel = context.WithCancel(t.Context())
	cancel()
	before := f.count()
	if _, err := c.Check(ctx, client.CheckInput{SubjectID: "u-1", Purposes: []string{"analytics"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if f.count() != before {
		t.Error("a call with a cancelled context reached the server")
	}
}

// dropFirst answers by closing the connection for the first n hits, so
// the client sees a network error.
func dropFirst(n int) func(int, http.ResponseWriter, *http.Request) {
	return func(i int, w http.ResponseWriter, r *http.Request) {
		if i <= n {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		writeOK(w, `{"subject_id":"u-1","restricted":false,"minor":false,"age_status":"adult","identities":[]}`)
	}
}

// TestNetworkErrors: a GET is retried after a dropped connection; a POST
// is not, and the error names neither the URL nor the ids in it.
func TestNetworkErrors(t *testing.T) {
	f := newFake(t, dropFirst(2))
	c, _ := newFakeClient(t, f.URL)
	s, err := c.GetSubject(t.Context(), "u-1", "")
	if err != nil || s.SubjectID != "u-1" || f.count() != 3 {
		t.Fatalf("GetSubject = %+v, %v after %d hits; want u-1 after 3", s, err, f.count())
	}

	f = newFake(t, dropFirst(1))
	c, _ = newFakeClient(t, f.URL)
	_, err = c.CreateSubject(t.Context(), client.SubjectInput{SubjectID: "u-secret-42", Identities: []client.IdentityInput{{Kind: client.KindEmail, Value: "li.na@example.com"}}})
	if err == nil {
		t.Fatal("CreateSubject succeeded on a dropped connection")
	}
	if f.count() != 1 {
		t.Errorf("a POST was sent %d times, want once", f.count())
	}
	for _, leak := range []string{"u-secret-42", "li.na", f.URL, "/v1/"} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("the error %q names %q", err, leak)
		}
	}
	if !strings.Contains(err.Error(), "CreateSubject") {
		t.Errorf("the error %q does not name the call", err)
	}
}

// TestErrorBodies: the API's body becomes the fields of *Error; a body
// that is not the API's is never quoted; no error carries the URL, the
// ids in it or the key.
func TestErrorBodies(t *testing.T) {
	f := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("purpose") {
		case "html":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			io.WriteString(w, "<html>upstream said: subject u-secret-42 li.na@example.com</html>")
		default:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(422)
			io.WriteString(w, `{"error":{"code":"unknown_purpose","message":"purpose \"nope\" is not in the policy in force","field":"grant"}}`)
		}
	})
	c, _ := newFakeClient(t, f.URL, client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	_, err := c.GetSubject(t.Context(), "u-secret-42", "json")
	want := &client.Error{Op: "GetSubject", Status: 422, Code: "unknown_purpose", Message: `purpose "nope" is not in the policy in force`, Field: "grant"}
	var got *client.Error
	if !errors.As(err, &got) {
		t.Fatalf("err = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	if !errors.Is(err, client.ErrInvalid) || !errors.Is(err, client.CodeUnknownPurpose) || errors.Is(err, client.ErrNotFound) {
		t.Errorf("classes of %v are wrong", err)
	}
	if got, want := err.Error(), `custos GetSubject: unknown_purpose: purpose "nope" is not in the policy in force (HTTP 422)`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}

	_, err = c.GetSubject(t.Context(), "u-secret-42", "html")
	if !errors.As(err, &got) || got.Status != 502 || got.Code != "" || got.Message != "Bad Gateway" {
		t.Fatalf("err = %#v, want a bare 502", err)
	}
	for _, leak := range []string{"u-secret-42", "li.na", "upstream", "cus_test_key", f.URL} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("the error %q quotes %q", err, leak)
		}
	}
}

// TestRequestShape: headers, escaping of ids, the base URL's path, and
// the body of a call with subject_id.
func TestRequestShape(t *testing.T) {
	f := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) {
		writeOK(w, `{"subject_id":"a b/c","restricted":false,"minor":false,"age_status":"unknown","identities":[]}`)
	})
	c, _ := newFakeClient(t, f.URL+"/custos/", client.WithUserAgent("billing/2.3"))
	if _, err := c.GetSubject(t.Context(), "a b/c", "ticket 7"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSubject(t.Context(), client.SubjectInput{SubjectID: "u-7", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	get, post := f.hit(0), f.hit(1)
	if get.Method != "GET" || get.Path != "/custos/v1/subjects/a b/c" || get.RawPath != "/custos/v1/subjects/a%20b%2Fc" || get.Query != "purpose=ticket+7" {
		t.Errorf("GET = %s %q (raw %q) ?%s", get.Method, get.Path, get.RawPath, get.Query)
	}
	for name, want := range map[string]string{"Authorization": "Bearer cus_test_key", "User-Agent": "billing/2.3", "Accept": "application/json"} {
		if got := get.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if get.Header.Get("Content-Type") != "" || get.Body != "" {
		t.Errorf("a GET carried a body: %q %q", get.Header.Get("Content-Type"), get.Body)
	}
	if post.Method != "POST" || post.Path != "/custos/v1/subjects" || post.Header.Get("Content-Type") != "application/json" {
		t.Errorf("POST = %s %s %q", post.Method, post.Path, post.Header.Get("Content-Type"))
	}
	if want := `{"subject_id":"u-7","language":"en"}`; post.Body != want {
		t.Errorf("body = %s, want %s", post.Body, want)
	}
}

// TestSignalsBecomeHeaders: GPC and DNT are relayed as the browser sent
// them, not in the body.
func TestSignalsBecomeHeaders(t *testing.T) {
	f := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) { writeOK(w, `{"events":[]}`) })
	c, _ := newFakeClient(t, f.URL)
	if _, err := c.RecordConsent(t.Context(), "u-1", client.ConsentInput{Grant: []string{"advertising"}, GPC: true, DNT: true}); err != nil {
		t.Fatal(err)
	}
	h := f.hit(0)
	if h.Header.Get("Sec-GPC") != "1" || h.Header.Get("DNT") != "1" || strings.Contains(h.Body, "GPC") {
		t.Errorf("headers %v, body %s", h.Header, h.Body)
	}
}

// TestBackoffBounds: every wait lies within [0, min(MaxDelay,
// BaseDelay·2ⁿ⁻¹)], and they vary.
func TestBackoffBounds(t *testing.T) {
	p := client.RetryPolicy{MaxAttempts: 10, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for attempt, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 40: time.Second, 100: time.Second} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := client.Backoff(p, attempt)
			if d < 0 || d > ceiling {
				t.Fatalf("attempt %d: wait %v outside [0, %v]", attempt, d, ceiling)
			}
			seen[d] = true
		}
		if len(seen) < 50 {
			t.Errorf("attempt %d: %d distinct waits in 200: no jitter", attempt, len(seen))
		}
	}
	if d := client.Backoff(client.RetryPolicy{MaxAttempts: 2}, 1); d != 0 {
		t.Errorf("zero delays: wait %v", d)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-3":                            0,
		"7":                             7 * time.Second,
		" 2 ":                           2 * time.Second,
		"Sun, 01 Mar 2026 12:00:30 GMT": 30 * time.Second,
		"Sun, 01 Mar 2026 11:00:00 GMT": 0,
		"later":                         0,
	} {
		if got := client.ParseRetryAfter(h, now); got != want {
			t.Errorf("Retry-After %q = %v, want %v", h, got, want)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	for _, u := range []string{"", "localhost:8080", "ftp://h", "http://", "http://user:pw@h", "http://h?x=1", "http://h#f", "://"} {
		if _, err := client.New(u); err == nil {
			t.Errorf("New(%q) succeeded", u)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("New(%q): the error quotes the credentials: %v", u, err)
		}
	}
	for _, o := range []client.Option{
		client.WithHTTPClient(nil),
		client.WithAPIKey("two words"),
		client.WithRetry(client.RetryPolicy{}),
		client.WithRetry(client.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Second, MaxDelay: time.Millisecond}),
	} {
		if _, err := client.New("http://h", o); err == nil {
			t.Error("New accepted a bad option")
		}
	}
	c, err := client.New("http://h")
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range map[string]func() error{
		"GetSubject":     func() error { _, err := c.GetSubject(t.Context(), "", ""); return err },
		"ConsentReceipt": func() error { _, err := c.ConsentReceipt(t.Context(), "u-1", ""); return err },
		"GetRequest":     func() error { _, err := c.GetRequest(t.Context(), ""); return err },
		"DownloadBundle": func() error {
			_, err := c.DownloadBundle(t.Context(), "https://evil.example/v1/public/requests/r/bundle?token=t")
			return err
		},
	} {
		if err := call(); err == nil || !strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "evil") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
