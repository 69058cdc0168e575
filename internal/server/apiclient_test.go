package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/manifest"
)

// noticeHash stands for the notice every test grant was shown.
var noticeHash = func() string {
	sum := sha256.Sum256([]byte("custos server test notice"))
	return hex.EncodeToString(sum[:])
}()

// plainConsentPurposes lists, in manifest order, the purposes of the
// manifest at path that rest on consent and need no separate consent: the
// ones an ordinary API grant may record.
func plainConsentPurposes(t *testing.T, path string) []string {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(path, src)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	pol := check.Compile(m, check.History{Seq: 1})
	var out []string
	for _, p := range m.Purposes {
		if r, ok := pol.Rule(p.ID); ok && r.Consent && !r.Separate {
			out = append(out, p.ID)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s has no purpose that rests on consent without a separate consent", path)
	}
	return out
}

// apiClient calls one Custos instance with one key.
type apiClient struct {
	base string // http://host:port
	key  string
	hc   *http.Client
}

func newAPIClient(base, key string) *apiClient {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	return &apiClient{base: base, key: key, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// close drops the client's idle connections.
func (c *apiClient) close() { c.hc.CloseIdleConnections() }

// call sends body as JSON and decodes a 2xx answer into out. It returns the
// status and, on any other status, the body for the failure message.
func (c *apiClient) call(ctx context.Context, method, path string, body, out any) (int, string, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, "", err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		// A reply cut short was never received: the caller cannot count on it.
		return 0, "", fmt.Errorf("read %s %s reply: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 || out == nil {
		return resp.StatusCode, string(raw), nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return resp.StatusCode, string(raw), fmt.Errorf("decode %s %s reply: %w", method, path, err)
	}
	return resp.StatusCode, string(raw), nil
}

// createSubject registers id and fails the test unless the answer is 201.
func (c *apiClient) createSubject(t *testing.T, id string) {
	t.Helper()
	status, body, err := c.call(t.Context(), "POST", "/v1/subjects", map[string]string{"subject_id": id}, nil)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create subject %s: status %d, err %v, body %s", id, status, err, body)
	}
}

// consentWrite is the body of POST /v1/subjects/{subject_id}/consents.
type consentWrite struct {
	Grant      []string `json:"grant,omitempty"`
	Withdraw   []string `json:"withdraw,omitempty"`
	Method     string   `json:"method"`
	Language   string   `json:"language"`
	NoticeHash string   `json:"notice_hash,omitempty"`
	// Evidence is the caller's evidence reference, a small JSON object.
	Evidence json.RawMessage `json:"evidence,omitempty"`
}

func grantOf(purposes ...string) consentWrite {
	return consentWrite{Grant: purposes, Method: "api", Language: "en", NoticeHash: noticeHash}
}

func withdrawalOf(purposes ...string) consentWrite {
	return consentWrite{Withdraw: purposes, Method: "api", Language: "en"}
}

// ackedEvent is a ledger event the server answered 201 for.
type ackedEvent struct {
	ID      string `json:"id"`
	Purpose string `json:"purpose"`
	Action  string `json:"action"`
	Subject string `json:"-"`
}

// recordConsent posts w for subject and returns the events of a 201 answer;
// any other answer comes back as its status and body.
func (c *apiClient) recordConsent(ctx context.Context, subject string, w consentWrite) ([]ackedEvent, int, string, error) {
	var out struct {
		Events []ackedEvent `json:"events"`
	}
	status, body, err := c.call(ctx, "POST", "/v1/subjects/"+subject+"/consents", w, &out)
	if err != nil || status != http.StatusCreated {
		return nil, status, body, err
	}
	for i := range out.Events {
		out.Events[i].Subject = subject
	}
	return out.Events, status, body, nil
}

// decision is one purpose's answer from POST /v1/check.
type decision struct {
	Purpose string `json:"purpose"`
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

// checkResult is the answer of POST /v1/check.
type checkResult struct {
	PolicyVersion string     `json:"policy_version"`
	Decisions     []decision `json:"decisions"`
}

// check asks about one subject and purposes and fails the test unless the
// answer is 200 with one decision per purpose.
func (c *apiClient) check(t *testing.T, subject string, purposes ...string) checkResult {
	t.Helper()
	var out checkResult
	status, body, err := c.call(t.Context(), "POST", "/v1/check", map[string]any{"subject_id": subject, "purposes": purposes}, &out)
	if err != nil || status != http.StatusOK || len(out.Decisions) != len(purposes) {
		t.Fatalf("check %s %v: status %d, err %v, body %s", subject, purposes, status, err, body)
	}
	return out
}

// eventOf returns the consent event id a consent audit entry's detail names.
func eventOf(t *testing.T, detail string) string {
	t.Helper()
	var d struct {
		Event string `json:"event"`
	}
	if err := json.Unmarshal([]byte(detail), &d); err != nil || d.Event == "" {
		t.Fatalf("consent audit entry names no event: %s", detail)
	}
	return d.Event
}

// ackLog collects acknowledged events from many goroutines.
type ackLog struct {
	mu     sync.Mutex
	events []ackedEvent
}

func (l *ackLog) add(evs ...ackedEvent) {
	l.mu.Lock()
	l.events = append(l.events, evs...)
	l.mu.Unlock()
}

func (l *ackLog) all() []ackedEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ackedEvent(nil), l.events...)
}

// lockedBuffer is a log destination shared by goroutines, shown when a test fails.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil // enough to diagnose; keep memory bounded
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
