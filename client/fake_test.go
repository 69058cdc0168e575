package client_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/custos-privacy/custos/client"
)

// fake is an httptest server that answers each hit with answer(n, …),
// n counting from 1, and remembers what it was sent.
type fake struct {
	*httptest.Server
	mu     sync.Mutex
	hits   []hit
	answer func(n int, w http.ResponseWriter, r *http.Request)
}

type hit struct {
	Method, Path, RawPath, Query string
	Header                       http.Header
	Body                         string
}

func newFake(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *fake {
	t.Helper()
	f := &fake{answer: answer}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.hits = append(f.hits, hit{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Header.Clone(), string(b)})
		n := len(f.hits)
		f.mu.Unlock()
		f.answer(n, w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.hits)
}

func (f *fake) hit(i int) hit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[i]
}

// sleeps records the waits a client chose, without waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) waits() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// fastRetry retries four times with short waits, which the tests record
// rather than spend.
var fastRetry = client.RetryPolicy{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 10 * time.Second}

func newFakeClient(t *testing.T, url string, opts ...client.Option) (*client.Client, *sleeps) {
	t.Helper()
	c, err := client.New(url, append([]client.Option{client.WithAPIKey("cus_test_key"), client.WithRetry(fastRetry)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	s := &sleeps{}
	client.SetSleep(c, s.sleep)
	return c, s
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeOK(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(200)
	io.WriteString(w, body)
}

const policyBody = `{"version":"3.0","seq":1,"state":"in_force","in_force":true,"reconsent":[],"accept":[]}`
