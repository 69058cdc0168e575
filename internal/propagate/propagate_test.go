package propagate

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/webhooktest"
)

const (
	// testSecret is written as Standard Webhooks writes secrets: whsec_
	// and the base64 of the key ("test-signing-secret-key").
	testSecret  = "whsec_dGVzdC1zaWduaW5nLXNlY3JldC1rZXk="
	rawSubject  = "subj-RAW-4711"
	replySecret = "reply-body-secret"
	urlToken    = "s3cret-token"
)

var testAckKey = []byte("acknowledgement-key-for-tests-32")

// mark is one MarkRecipientTask call.
type mark struct {
	ID        string
	State     string
	Attempts  int
	Next      time.Time
	LastError string
	Entries   []audit.Entry
}

// fakeStore keeps tasks in memory and records every mark.
type fakeStore struct {
	mu    sync.Mutex
	tasks map[string]store.RecipientTask
	marks []mark
}

func newFakeStore(ts ...store.RecipientTask) *fakeStore {
	f := &fakeStore{tasks: map[string]store.RecipientTask{}}
	for _, t := range ts {
		f.tasks[t.ID] = t
	}
	return f
}

func (f *fakeStore) DueRecipientTasks(_ context.Context, now time.Time, limit int) ([]store.RecipientTask, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.RecipientTask
	for _, t := range f.tasks {
		if t.State == "pending" && (t.Method == "webhook" || t.Method == "email") && !t.NextAt.After(now) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b store.RecipientTask) int {
		if c := a.NextAt.Compare(b.NextAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (f *fakeStore) MarkRecipientTask(_ context.Context, id, state string, attempts int, next time.Time, lastError string, entries ...audit.Entry) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tasks[id]
	if !ok {
		return store.ErrNotFound
	}
	t.State, t.Attempts, t.NextAt, t.LastError = state, attempts, next, lastError
	f.tasks[id] = t
	f.marks = append(f.marks, mark{id, state, attempts, next, lastError, entries})
	return nil
}

func (f *fakeStore) task(id string) store.RecipientTask {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tasks[id]
}

// captured is a request a test server received.
type captured struct {
	header http.Header
	body   []byte
}

// hookServer answers the n-th post with replies[n]; 0 means never answer
// (until the client gives up). Its reply bodies quote secrets that must
// never be recorded.
func hookServer(t *testing.T, replies []int) (*httptest.Server, func() []captured) {
	var mu sync.Mutex
	var got []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		n := len(got)
		got = append(got, captured{r.Header.Clone(), body})
		mu.Unlock()
		code := http.StatusOK
		if n < len(replies) {
			code = replies[n]
		}
		if code == 0 {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "%s %s", replySecret, rawSubject)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []captured {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// verifyNotice checks a post the way a receiver would: the signature, the
// idempotency key, and a body that names the subject by pseudonym only.
func verifyNotice(t *testing.T, c captured, task store.RecipientTask, certs []string, ackKey []byte) {
	t.Helper()
	if id := c.header.Get("webhook-id"); id != task.ID {
		t.Errorf("webhook-id = %q, want the task id %q", id, task.ID)
	}
	// As the specification reads a secret: the key is what follows whsec_, base64-decoded.
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(testSecret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(task.ID + "." + c.header.Get("webhook-timestamp") + "."))
	mac.Write(c.body)
	if want, got := "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)), c.header.Get("webhook-signature"); got != want {
		t.Errorf("webhook-signature = %q, want %q", got, want)
	}
	if bytes.Contains(c.body, []byte(rawSubject)) {
		t.Errorf("the notice carries the raw subject id: %s", c.body)
	}
	ref := hmac.New(sha256.New, []byte(testSecret))
	ref.Write([]byte(task.Recipient + "\x00" + rawSubject))
	var n Notice
	if err := json.Unmarshal(c.body, &n); err != nil {
		t.Fatalf("body: %v", err)
	}
	want := Notice{Type: "custos.request." + task.Action, Task: task.ID, Request: task.RequestID, Recipient: task.Recipient,
		Action: task.Action, Categories: task.Categories, SubjectRef: hex.EncodeToString(ref.Sum(nil)), OccurredAt: n.OccurredAt, Certificates: certs}
	if ackKey != nil {
		want.AckToken = AckToken(ackKey, task.ID)
		want.AckPath = "/v1/public/acknowledgements/" + want.AckToken
	}
	if diff := cmp.Diff(want, n); diff != "" {
		t.Errorf("notice (-want +got):\n%s", diff)
	}
	if _, err := time.Parse(time.RFC3339, n.OccurredAt); err != nil {
		t.Errorf("occurred_at %q: %v", n.OccurredAt, err)
	}
}

// wantMark is the expected record of one attempt; Wait is next_at minus
// the attempt's time.
type wantMark struct {
	State    string
	Attempts int
	Wait     time.Duration
	Outcome  string // of the audit entry; "" for a mark without one
}

func TestRunOnce(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	linearBackoff := func(attempt int) time.Duration { return time.Duration(attempt) * time.Minute }
	errPermanent := fmt.Errorf("address refused: %w", notify.ErrPermanent)

	for _, tc := range []struct {
		name        string
		method      string
		replies     []int
		endpoint    func(srv string) string // default srv + "/hook?token=…"
		unknown     bool                    // the recipient is not in the manifest
		noEmail     bool                    // no Email func
		emailErr    error
		timeout     time.Duration // client timeout; default 5s
		maxAttempts int
		passes      int
		wantMarks   []wantMark
		wantCounts  [3]int // sent, failed, dead over all passes
		wantPosts   int
		wantEmails  int
		wantReason  string // in the final last_error
	}{
		{name: "2xx is sent", method: "webhook", replies: []int{204}, passes: 1,
			wantMarks: []wantMark{{"sent", 1, 0, "ok"}}, wantCounts: [3]int{1, 0, 0}, wantPosts: 1},
		{name: "500 twice then 200 is sent after growing waits", method: "webhook", replies: []int{500, 500, 200}, passes: 3,
			wantMarks:  []wantMark{{"pending", 1, time.Minute, "error"}, {"pending", 2, 2 * time.Minute, "error"}, {"sent", 3, 0, "ok"}},
			wantCounts: [3]int{1, 2, 0}, wantPosts: 3},
		{name: "410 is dead at once", method: "webhook", replies: []int{410}, passes: 2,
			wantMarks: []wantMark{{"dead", 1, 0, "error"}}, wantCounts: [3]int{0, 0, 1}, wantPosts: 1, wantReason: "recipient replied 410"},
		{name: "401 (signature refused) is retried until the secret is fixed", method: "webhook", replies: []int{401, 403, 200}, passes: 3,
			wantMarks:  []wantMark{{"pending", 1, time.Minute, "error"}, {"pending", 2, 2 * time.Minute, "error"}, {"sent", 3, 0, "ok"}},
			wantCounts: [3]int{1, 2, 0}, wantPosts: 3},
		{name: "400 is given up only after max attempts", method: "webhook", replies: []int{400, 400, 400}, maxAttempts: 3, passes: 4,
			wantMarks:  []wantMark{{"pending", 1, time.Minute, "error"}, {"pending", 2, 2 * time.Minute, "error"}, {"dead", 3, 0, "error"}},
			wantCounts: [3]int{0, 2, 1}, wantPosts: 3, wantReason: "recipient replied 400 (it may not verify the signature: check the signing secret it was given); gave up after 3 attempts"},
		{name: "404 is retried", method: "webhook", replies: []int{404}, passes: 1,
			wantMarks: []wantMark{{"pending", 1, time.Minute, "error"}}, wantCounts: [3]int{0, 1, 0}, wantPosts: 1, wantReason: "check the endpoint"},
		{name: "413 is dead at once", method: "webhook", replies: []int{413}, passes: 2,
			wantMarks: []wantMark{{"dead", 1, 0, "error"}}, wantCounts: [3]int{0, 0, 1}, wantPosts: 1, wantReason: "recipient replied 413"},
		{name: "429 is retried", method: "webhook", replies: []int{429}, passes: 1,
			wantMarks: []wantMark{{"pending", 1, time.Minute, "error"}}, wantCounts: [3]int{0, 1, 0}, wantPosts: 1, wantReason: "recipient replied 429"},
		{name: "a redirect is not followed", method: "webhook", replies: []int{307}, passes: 1,
			wantMarks: []wantMark{{"pending", 1, time.Minute, "error"}}, wantCounts: [3]int{0, 1, 0}, wantPosts: 1, wantReason: "recipient replied 307"},
		{name: "timeout is retried", method: "webhook", replies: []int{0}, timeout: 200 * time.Millisecond, passes: 1,
			wantMarks: []wantMark{{"pending", 1, time.Minute, "error"}}, wantCounts: [3]int{0, 1, 0}, wantPosts: 1, wantReason: "timed out"},
		{name: "dead after max attempts", method: "webhook", replies: []int{503, 503}, maxAttempts: 2, passes: 3,
			wantMarks:  []wantMark{{"pending", 1, time.Minute, "error"}, {"dead", 2, 0, "error"}},
			wantCounts: [3]int{0, 1, 1}, wantPosts: 2, wantReason: "gave up after 2 attempts"},
		{name: "credentials in the URL are used, never recorded", method: "webhook", replies: []int{500},
			endpoint: func(srv string) string {
				return strings.Replace(srv, "http://", "http://user:"+urlToken+"@", 1) + "/hook"
			}, passes: 1,
			wantMarks: []wantMark{{"pending", 1, time.Minute, "error"}}, wantCounts: [3]int{0, 1, 0}, wantPosts: 1},
		{name: "plain http to another host is refused", method: "webhook",
			endpoint: func(string) string { return "http://recipient.example/hook?token=" + urlToken }, passes: 1,
			wantMarks: []wantMark{{"dead", 1, 0, "error"}}, wantCounts: [3]int{0, 0, 1}, wantReason: "https only"},
		{name: "unknown recipient is dead", method: "webhook", unknown: true, passes: 1,
			wantMarks: []wantMark{{"dead", 1, 0, "error"}}, wantCounts: [3]int{0, 0, 1}, wantReason: "not in the manifest"},
		{name: "email is handed to the email sender", method: "email", passes: 2,
			wantMarks: []wantMark{{"sent", 1, 0, "ok"}}, wantCounts: [3]int{1, 0, 0}, wantEmails: 1},
		{name: "email refused for good is dead", method: "email", emailErr: errPermanent, passes: 1,
			wantMarks: []wantMark{{"dead", 1, 0, "error"}}, wantCounts: [3]int{0, 0, 1}, wantEmails: 1, wantReason: "could not queue"},
		{name: "email failing is retried", method: "email", emailErr: errors.New("outbox busy"), passes: 1,
			wantMarks: []wantMark{{"pending", 1, time.Minute, "error"}}, wantCounts: [3]int{0, 1, 0}, wantEmails: 1},
		{name: "without an email sender email stays pending", method: "email", noEmail: true, passes: 1,
			wantMarks: []wantMark{{"pending", 0, time.Hour, ""}}, wantCounts: [3]int{0, 0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			srv, posts := hookServer(t, tc.replies)
			endpoint := srv.URL + "/hook?token=" + urlToken
			if tc.endpoint != nil {
				endpoint = tc.endpoint(srv.URL)
			}
			task := store.RecipientTask{ID: "rt_1", RequestID: "rq_1", Recipient: "cloud", Action: "deletion", Method: tc.method,
				Categories: []string{"basic.email", "device.id"}, State: "pending", NextAt: t0, UpdatedAt: t0}
			st := newFakeStore(task)
			var logs bytes.Buffer
			now := t0
			var emails []string
			p := &Propagator{
				Store: st,
				Recipients: func(id string) (string, string, bool) {
					if tc.unknown || id != "cloud" {
						return "", "", false
					}
					return endpoint, "privacy@cloud.example", true
				},
				SubjectOf: func(_ context.Context, rid string) (string, error) {
					if rid != "rq_1" {
						return "", store.ErrNotFound
					}
					return rawSubject, nil
				},
				CertificatesOf: func(_ context.Context, rid string) ([]string, error) {
					if rid != "rq_1" {
						return nil, errors.New("no such request")
					}
					return []string{"cert_0rq1"}, nil
				},
				Secret:      []byte(testSecret),
				AckKey:      testAckKey,
				Client:      &http.Client{Timeout: cmpOr(tc.timeout, 5*time.Second)},
				Logger:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
				Now:         func() time.Time { return now },
				MaxAttempts: tc.maxAttempts,
				Backoff:     linearBackoff,
				Email: func(_ context.Context, rc, addr string, got store.RecipientTask) error {
					emails = append(emails, rc+" "+addr+" "+got.ID)
					return tc.emailErr
				},
			}
			if tc.noEmail {
				p.Email = nil
			}

			var counts [3]int
			var attemptTimes []time.Time
			for range tc.passes {
				attemptTimes = append(attemptTimes, now)
				sent, failed, dead, err := p.RunOnce(ctx)
				if err != nil {
					t.Fatalf("RunOnce: %v", err)
				}
				counts[0], counts[1], counts[2] = counts[0]+sent, counts[1]+failed, counts[2]+dead
				// The next pass runs when the task is due again, or a little
				// later when it is settled.
				now = st.task("rt_1").NextAt.Add(time.Second)
			}

			var gotMarks []wantMark
			for i, m := range st.marks {
				w := wantMark{State: m.State, Attempts: m.Attempts, Wait: m.Next.Sub(attemptTimes[i])}
				if len(m.Entries) == 1 {
					e := m.Entries[0]
					w.Outcome = e.Outcome
					if e.Action != "recipient.notice" || e.Object != "request:rq_1" || e.Actor != "system" {
						t.Errorf("audit entry = %+v", e)
					}
					var d map[string]any
					if err := json.Unmarshal([]byte(e.Detail), &d); err != nil || d["task"] != "rt_1" || d["recipient"] != "cloud" {
						t.Errorf("audit detail = %s (%v)", e.Detail, err)
					}
				} else if len(m.Entries) > 1 {
					t.Errorf("mark %d has %d audit entries", i, len(m.Entries))
				}
				gotMarks = append(gotMarks, w)
			}
			if diff := cmp.Diff(tc.wantMarks, gotMarks); diff != "" {
				t.Errorf("attempts recorded (-want +got):\n%s", diff)
			}
			if counts != tc.wantCounts {
				t.Errorf("sent, failed, dead = %v, want %v", counts, tc.wantCounts)
			}
			got := posts()
			if len(got) != tc.wantPosts {
				t.Errorf("posts = %d, want %d", len(got), tc.wantPosts)
			}
			for _, c := range got {
				verifyNotice(t, c, task, []string{"cert_0rq1"}, testAckKey)
			}
			if len(emails) != tc.wantEmails {
				t.Errorf("emails = %v, want %d", emails, tc.wantEmails)
			} else if tc.wantEmails > 0 && emails[0] != "cloud privacy@cloud.example rt_1" {
				t.Errorf("email handed over as %q", emails[0])
			}
			final := st.task("rt_1")
			if tc.wantReason != "" && !strings.Contains(final.LastError, tc.wantReason) {
				t.Errorf("last_error = %q, want it to mention %q", final.LastError, tc.wantReason)
			}
			if final.State == "sent" && final.LastError != "" {
				t.Errorf("a sent task keeps last_error %q", final.LastError)
			}

			// Nothing recorded or logged may carry the subject id, the
			// URL's credentials or the recipient's reply.
			var recorded []string
			for _, m := range st.marks {
				recorded = append(recorded, m.LastError)
				for _, e := range m.Entries {
					recorded = append(recorded, e.Detail, e.Object)
				}
			}
			for where, text := range map[string]string{"logs": logs.String(), "records": strings.Join(recorded, "\n")} {
				for _, secret := range []string{rawSubject, urlToken, replySecret, "privacy@cloud.example"} {
					if strings.Contains(text, secret) {
						t.Errorf("%s carry %q:\n%s", where, secret, text)
					}
				}
			}
			if tc.wantPosts > 0 && !strings.Contains(logs.String(), "task_id=rt_1") {
				t.Errorf("logs do not name the task:\n%s", logs.String())
			}
		})
	}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// TestRunOnceOrder checks that one pass sends every due task, oldest first,
// and leaves tasks not yet due alone.
func TestRunOnceOrder(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	srv, posts := hookServer(t, nil)
	var tasks []store.RecipientTask
	for i, off := range []time.Duration{-time.Minute, -time.Hour, time.Minute} {
		tasks = append(tasks, store.RecipientTask{ID: fmt.Sprintf("rt_%d", i), RequestID: "rq_1", Recipient: "cloud", Action: "correction",
			Method: "webhook", Categories: []string{"basic.name"}, State: "pending", NextAt: t0.Add(off)})
	}
	st := newFakeStore(tasks...)
	p := &Propagator{Store: st, Secret: []byte(testSecret), Now: func() time.Time { return t0 },
		Recipients: func(string) (string, string, bool) { return srv.URL, "", true },
		SubjectOf:  func(context.Context, string) (string, error) { return rawSubject, nil }}
	sent, failed, dead, err := p.RunOnce(context.Background())
	if err != nil || sent != 2 || failed != 0 || dead != 0 {
		t.Fatalf("RunOnce = %d, %d, %d, %v", sent, failed, dead, err)
	}
	var ids []string
	for _, c := range posts() {
		ids = append(ids, c.header.Get("webhook-id"))
	}
	if diff := cmp.Diff([]string{"rt_1", "rt_0"}, ids); diff != "" {
		t.Errorf("posted (-want +got):\n%s", diff)
	}
	if st.task("rt_2").State != "pending" || st.task("rt_2").Attempts != 0 {
		t.Errorf("a task not yet due was touched: %+v", st.task("rt_2"))
	}
}

// TestCertificatesUnknown: a notice is not sent without the certificates
// it should carry; the lookup's failure is retried like a failed post.
func TestCertificatesUnknown(t *testing.T) {
	t0 := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	srv, posts := hookServer(t, nil)
	st := newFakeStore(store.RecipientTask{ID: "rt_1", RequestID: "rq_1", Recipient: "cloud", Action: "deletion",
		Method: "webhook", Categories: []string{"basic.name"}, State: "pending", NextAt: t0})
	p := &Propagator{Store: st, Secret: []byte(testSecret), Now: func() time.Time { return t0 },
		Recipients:     func(string) (string, string, bool) { return srv.URL, "", true },
		SubjectOf:      func(context.Context, string) (string, error) { return rawSubject, nil },
		CertificatesOf: func(context.Context, string) ([]string, error) { return nil, errors.New("database is closed") }}
	sent, failed, dead, err := p.RunOnce(context.Background())
	if err != nil || sent != 0 || failed != 1 || dead != 0 {
		t.Fatalf("RunOnce = %d, %d, %d, %v; want one failure", sent, failed, dead, err)
	}
	if n := len(posts()); n != 0 {
		t.Errorf("%d notices posted without their certificates", n)
	}
	if got := st.task("rt_1"); got.State != "pending" || !strings.Contains(got.LastError, "certificates") {
		t.Errorf("task after the failed lookup: %+v", got)
	}
}

func TestRunOnceNeedsConfiguration(t *testing.T) {
	full := func() *Propagator {
		return &Propagator{Store: newFakeStore(), Secret: []byte("k"),
			Recipients: func(string) (string, string, bool) { return "", "", false },
			SubjectOf:  func(context.Context, string) (string, error) { return "", nil }}
	}
	for _, tc := range []struct {
		name    string
		change  func(p *Propagator)
		wantErr bool
	}{
		{"complete", func(*Propagator) {}, false},
		{"no store", func(p *Propagator) { p.Store = nil }, true},
		{"no recipients", func(p *Propagator) { p.Recipients = nil }, true},
		{"no subject lookup", func(p *Propagator) { p.SubjectOf = nil }, true},
		{"no secret", func(p *Propagator) { p.Secret = nil }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := full()
			tc.change(p)
			if _, _, _, err := p.RunOnce(context.Background()); (err != nil) != tc.wantErr {
				t.Errorf("RunOnce error = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}

func TestSubjectRef(t *testing.T) {
	secret := []byte(testSecret)
	a, b := SubjectRef(secret, "cloud", rawSubject), SubjectRef(secret, "ads", rawSubject)
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"differs between recipients", a != b},
		{"stable", a == SubjectRef(secret, "cloud", rawSubject)},
		{"keyed", a != SubjectRef([]byte("other"), "cloud", rawSubject)},
		{"no ambiguity at the separator", SubjectRef(secret, "cl", "oud"+rawSubject) != SubjectRef(secret, "cloud", rawSubject)},
		{"hex sha-256", len(a) == 64 && !strings.Contains(a, rawSubject)},
	} {
		if !tc.ok {
			t.Errorf("SubjectRef: %s fails (%s, %s)", tc.name, a, b)
		}
	}
}

func TestDefaultBackoff(t *testing.T) {
	for _, tc := range []struct {
		attempt  int
		min, max time.Duration
	}{
		{1, 45 * time.Second, time.Minute},
		{2, 90 * time.Second, 2 * time.Minute},
		{5, 12 * time.Minute, 16 * time.Minute},
		{9, 192 * time.Minute, 256 * time.Minute},
		{10, 4*time.Hour + 30*time.Minute, 6 * time.Hour},
		{30, 4*time.Hour + 30*time.Minute, 6 * time.Hour},
	} {
		for range 50 {
			if d := DefaultBackoff(tc.attempt); d < tc.min || d > tc.max {
				t.Fatalf("DefaultBackoff(%d) = %v, want within [%v, %v]", tc.attempt, d, tc.min, tc.max)
			}
		}
	}
}

func TestRun(t *testing.T) {
	srv, posts := hookServer(t, nil)
	st := newFakeStore(store.RecipientTask{ID: "rt_1", RequestID: "rq_1", Recipient: "cloud", Action: "restriction", Method: "webhook", State: "pending"})
	p := &Propagator{Store: st, Secret: []byte(testSecret),
		Recipients: func(string) (string, string, bool) { return srv.URL, "", true },
		SubjectOf:  func(context.Context, string) (string, error) { return rawSubject, nil }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, time.Hour) }()
	deadline := time.After(10 * time.Second)
	for st.task("rt_1").State != "sent" {
		select {
		case <-deadline:
			t.Fatal("Run did not send the due task on its first pass")
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
	if n := len(posts()); n != 1 {
		t.Errorf("posts = %d, want 1", n)
	}
}

// TestNoticesVerifyWithReferenceLibrary: the notices as posted, bodies and
// headers exactly as a receiver gets them, pass the reference Standard
// Webhooks library's check. The propagator runs on the real clock, since
// the library refuses timestamps five minutes away from now.
func TestNoticesVerifyWithReferenceLibrary(t *testing.T) {
	srv, posts := hookServer(t, nil)
	now := time.Now()
	st := newFakeStore(
		store.RecipientTask{ID: "rt_del", RequestID: "rq_1", Recipient: "cloud", Action: "deletion", Method: "webhook",
			Categories: []string{"basic.email", "device.id"}, State: "pending", NextAt: now.Add(-time.Minute)},
		store.RecipientTask{ID: "rt_cor", RequestID: "rq_1", Recipient: "sdk.推送", Action: "correction", Method: "webhook",
			Categories: []string{"basic.name"}, State: "pending", NextAt: now.Add(-time.Minute)},
	)
	p := &Propagator{Store: st, Secret: []byte(testSecret),
		Recipients:     func(string) (string, string, bool) { return srv.URL + "/hook", "", true },
		SubjectOf:      func(context.Context, string) (string, error) { return rawSubject, nil },
		CertificatesOf: func(context.Context, string) ([]string, error) { return []string{"cert_1"}, nil }}
	if sent, failed, dead, err := p.RunOnce(context.Background()); err != nil || sent != 2 || failed+dead != 0 {
		t.Fatalf("RunOnce = %d, %d, %d, %v; want both sent", sent, failed, dead, err)
	}
	var msgs []webhooktest.Message
	for _, c := range posts() {
		msgs = append(msgs, webhooktest.Message{Secret: testSecret, Header: c.header, Body: c.body})
	}
	if len(msgs) != 2 {
		t.Fatalf("posts = %d, want 2", len(msgs))
	}
	webhooktest.VerifyAll(t, msgs...)
}

// TestReplyOutcome is the whole table of reply statuses: which are sent,
// which retried and which final.
func TestReplyOutcome(t *testing.T) {
	const (
		sent  = "sent"
		retry = "retry"
		final = "final"
	)
	for code, want := range map[int]string{
		200: sent, 202: sent, 204: sent,
		301: retry, 307: retry,
		400: retry, 401: retry, 403: retry, 404: retry, 405: retry, 408: retry, 409: retry, 429: retry,
		410: final, 413: final, 422: final,
		500: retry, 502: retry, 503: retry,
	} {
		o := replyOutcome(code)
		got := sent
		switch {
		case o == nil:
		case o.final:
			got = final
		default:
			got = retry
		}
		if got != want {
			t.Errorf("reply %d: %s, want %s", code, got, want)
		}
		if o != nil && (o.status != code || !strings.HasPrefix(o.reason, fmt.Sprintf("recipient replied %d", code))) {
			t.Errorf("reply %d recorded as status %d, %q", code, o.status, o.reason)
		}
	}
}
