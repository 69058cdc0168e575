package dsr_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/egress"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store/storetest"
	"github.com/custos-privacy/custos/internal/webhooktest"
)

// TestPortabilityManualTransmission: a portability request that names a
// third party without an endpoint ends with the export ready and a task
// for the operator, tracked until acknowledged.
func TestPortabilityManualTransmission(t *testing.T) {
	start := time.Date(2026, 5, 11, 10, 0, 0, 0, time.UTC)
	e := newEnv(t, yonyouManifest, start)
	e.subject("yy-4001", "port@example.com", "", nil)
	v := e.submitOperator(map[string]any{"type": "portability", "jurisdiction": "EU", "subject_id": "yy-4001",
		"details": map[string]any{"transmit_to": map[string]string{"name": "Acme Cloud"}}})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	var done dsr.View
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	if done.State != dsr.StateCompleted || done.Download == "" || len(done.Transmissions) != 0 {
		t.Fatalf("complete = %+v", done)
	}
	found := false
	for _, r := range done.Recipients {
		if r.Recipient == "third_party:Acme Cloud" && r.Action == "portability" && r.Method == "manual" && r.State == "pending" {
			found = true
		}
	}
	if !found {
		t.Errorf("no transmission task to the named third party: %+v", done.Recipients)
	}
	var acked dsr.View
	e.must(200, "POST", "/v1/requests/"+v.ID+"/recipients/third_party:Acme%20Cloud/ack", e.op, "", &acked)
	for _, r := range acked.Recipients {
		if r.Recipient == "third_party:Acme Cloud" && r.State != "acknowledged" {
			t.Errorf("after acknowledgement the task is %s", r.State)
		}
	}
	e.must(404, "POST", "/v1/requests/"+v.ID+"/recipients/nobody/ack", e.op, "", nil)
	e.noPI("port@example.com")
}

// receiver is a third party's https endpoint: it answers each post with
// the next of its replies (0 drops the connection; past the end, 200) and
// keeps what it was sent.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	replies []int
	got     []received
	// during, when set, runs once, inside the first post, before the reply.
	during func()
}

type received struct {
	id, ts, sig, path string
	body              []byte
}

func newReceiver(t *testing.T, replies ...int) *receiver {
	rc := &receiver{replies: replies}
	rc.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := r.Body.Read(buf)
			body.Write(buf[:n])
			if err != nil {
				break
			}
		}
		rc.mu.Lock()
		rc.got = append(rc.got, received{id: r.Header.Get("webhook-id"), ts: r.Header.Get("webhook-timestamp"), sig: r.Header.Get("webhook-signature"),
			path: r.URL.RequestURI(), body: []byte(body.String())})
		code := 200
		if len(rc.replies) > 0 {
			code, rc.replies = rc.replies[0], rc.replies[1:]
		}
		during := rc.during
		rc.during = nil
		rc.mu.Unlock()
		if during != nil {
			during()
		}
		if code == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) posts() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(rc.srv.Certificate())
	return p
}

// verifies checks a post's signature as a receiver would, by the Standard
// Webhooks rules written out here rather than through notify: the key is
// the base64 after whsec_, and one of the space-separated "v1,<base64>"
// signatures is the HMAC-SHA256 of id.timestamp.body.
func verifies(secret string, p received) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(p.id + "." + p.ts + "."))
	mac.Write(p.body)
	want := mac.Sum(nil)
	for _, s := range strings.Fields(p.sig) {
		v, sig, ok := strings.Cut(s, ",")
		got, err := base64.StdEncoding.DecodeString(sig)
		if ok && v == "v1" && err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

func newSecret() string {
	k := make([]byte, 32)
	rand.Read(k)
	return "whsec_" + base64.StdEncoding.EncodeToString(k)
}

// transmitEnv is an env whose transmissions are signed with secret and
// may reach rc on 127.0.0.1.
func transmitEnv(t *testing.T, dsn, secret string, rc *receiver, more ...func(*dsr.Options)) *env {
	start := time.Date(2026, 5, 11, 10, 0, 0, 0, time.UTC)
	opts := append([]func(*dsr.Options){func(o *dsr.Options) {
		o.TransmitSecret = []byte(secret)
		o.Egress = egress.Options{AllowLoopback: true, RootCAs: rc.roots(), Timeout: 5 * time.Second}
		o.TransmitBackoff = func(int) time.Duration { return time.Minute }
	}}, more...)
	return newEnvOn(t, storetest.Open(t, dsn), yonyouManifest, start, opts...)
}

// portability files, approves and completes a portability request for
// subject that names endpoint, and returns the completed view.
func (e *env) portability(subject, lang, endpoint string) dsr.View {
	e.t.Helper()
	v := e.submitOperator(map[string]any{"type": "portability", "jurisdiction": "EU", "subject_id": subject, "language": lang,
		"details": map[string]any{"transmit_to": map[string]string{"name": "Acme Cloud", "endpoint": endpoint}}})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	var done dsr.View
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	return done
}

// transmit runs one pass of the transmission job and returns its counts.
func (e *env) transmit() dsr.TransmitCounts {
	e.t.Helper()
	n, err := e.req.Transmit(e.ctx)
	if err != nil {
		e.t.Fatalf("Transmit: %v", err)
	}
	return n
}

// transmitEntries are the audit entries of transmission attempts.
func (e *env) transmitEntries() []audit.Entry {
	e.t.Helper()
	all, err := e.st.AuditEntries(e.ctx, audit.Filter{Limit: 10000})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []audit.Entry
	for _, en := range all {
		if en.Action == dsr.ActionTransmit {
			out = append(out, en)
		}
	}
	return out
}

// TestPortabilityTransmitted: completing a portability request that names
// an endpoint sends the person's export there, signed, retried on network
// errors, 503 and 429 with the same webhook-id, across a restart, until
// the receiver takes it; the request shows the transmission's state, its history says it was
// delivered, each attempt is audited by host, and neither the person's
// address nor the endpoint's path and token are in the trail, the log or
// an answer.
func TestPortabilityTransmitted(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, dsn string) {
		secret := newSecret()
		rc := newReceiver(t, 503, 0, 429, 200)
		e := transmitEnv(t, dsn, secret, rc)
		e.subject("yy-4001", "port@example.com", "", nil)
		endpoint := rc.srv.URL + "/import/acme-path?token=s3cr3t-t0ken"
		done := e.portability("yy-4001", "en", endpoint)
		if done.State != dsr.StateCompleted || done.Download == "" {
			t.Fatalf("complete = %+v", done)
		}
		want := []dsr.TransmissionState{{Recipient: "Acme Cloud", Host: "127.0.0.1", State: dsr.TransmissionPending}}
		if got := done.Transmissions; len(got) != 1 || got[0].Recipient != want[0].Recipient || got[0].Host != want[0].Host || got[0].State != want[0].State {
			t.Fatalf("transmissions on completion = %+v, want %+v", got, want)
		}
		for _, r := range done.Recipients {
			if strings.HasPrefix(r.Recipient, "third_party:") {
				t.Errorf("a transmission with an endpoint also left a manual task: %+v", r)
			}
		}

		for i, want := range []dsr.TransmitCounts{{Retrying: 1}, {}, {Retrying: 1}, {Retrying: 1}, {Delivered: 1}, {}} {
			if i == 3 {
				// A restart: another service, on another handle of the
				// database, carries on where the first left off.
				again, err := dsr.New(storetest.Open(t, dsn), e.svc, e.opt)
				if err != nil {
					t.Fatal(err)
				}
				e.req = again
			}
			if got := e.transmit(); got != want {
				t.Errorf("pass %d = %+v, want %+v", i+1, got, want)
			}
			if i > 0 {
				e.clock.Advance(time.Minute)
			}
		}
		posts := rc.posts()
		if len(posts) != 4 {
			t.Fatalf("the receiver got %d posts, want 4", len(posts))
		}
		for i, p := range posts {
			if !verifies(secret, p) {
				t.Errorf("post %d: the signature does not verify (id %q, ts %q, sig %q)", i+1, p.id, p.ts, p.sig)
			}
			if p.id != posts[0].id || !strings.HasPrefix(p.id, "tm_") || string(p.body) != string(posts[0].body) {
				t.Errorf("post %d: id %q, body differ from the first post's (%q): retries must be recognisable", i+1, p.id, posts[0].id)
			}
			if p.path != "/import/acme-path?token=s3cr3t-t0ken" {
				t.Errorf("post %d went to %q", i+1, p.path)
			}
		}
		var ex dsr.Export
		if err := json.Unmarshal(posts[0].body, &ex); err != nil {
			t.Fatalf("the body is not the export: %v", err)
		}
		if ex.Subject.ID != "yy-4001" || ex.Subject.Identities["email"] != "port@example.com" {
			t.Errorf("the export sent = %+v, want the person's", ex.Subject)
		}
		if forged := (received{id: posts[0].id, ts: posts[0].ts, sig: posts[0].sig, body: append(posts[0].body, ' ')}); verifies(secret, forged) {
			t.Error("a changed body verifies: the check is not checking")
		}

		got := e.get(done.ID)
		if tr := got.Transmissions; len(tr) != 1 || tr[0].State != dsr.TransmissionDelivered || tr[0].Attempts != 4 || tr[0].Status != 200 {
			t.Errorf("transmission after delivery = %+v", tr)
		}
		if lastNote(got) != dsr.NoteTransmitted {
			t.Errorf("history ends with %q, want %q", lastNote(got), dsr.NoteTransmitted)
		}
		status, err := e.req.Status(e.ctx, done.ID)
		if err != nil || len(status.Transmissions) != 1 || status.Transmissions[0].State != dsr.TransmissionDelivered {
			t.Errorf("the person's view of the transmission = %+v, %v", status.Transmissions, err)
		}

		entries := e.transmitEntries()
		var outcomes []string
		for _, en := range entries {
			outcomes = append(outcomes, en.Outcome)
			var d map[string]any
			json.Unmarshal([]byte(en.Detail), &d)
			if d["host"] != "127.0.0.1" || d["request"] != done.ID {
				t.Errorf("audit detail %s lacks the host or the request", en.Detail)
			}
			for _, secretish := range []string{"acme-path", "s3cr3t", "port@example.com"} {
				if strings.Contains(en.Detail, secretish) || strings.Contains(en.Object, secretish) {
					t.Errorf("audit entry carries %q: %+v", secretish, en)
				}
			}
		}
		if want := []string{"error", "error", "error", "ok"}; strings.Join(outcomes, " ") != strings.Join(want, " ") {
			t.Errorf("audited outcomes = %v, want %v", outcomes, want)
		}
		e.noPI("port@example.com", "s3cr3t-t0ken", "acme-path")
	})
}

// TestPortabilityTransmissionRefused: a receiver that refuses, or cannot
// be reached however often it is tried, ends the transmission; the person
// is told in their language, the history says why and the trail records
// the failure.
func TestPortabilityTransmissionRefused(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, dsn string) {
		for _, c := range []struct {
			name, lang string
			replies    []int
			attempts   int
			reason     string // in the history
			told       string // in the message to the person
		}{
			{"410 in Chinese", "zh-CN", []int{410}, 1, "receiver replied 410", "对方服务拒绝接收（返回 410）"},
			{"redirect in English", "en", []int{302}, 1, "redirects are not followed", "sent us elsewhere (302)"},
			{"never up", "en", []int{500, 502, 503}, 3, "gave up after 3 attempts", "We tried 3 times"},
		} {
			t.Run(c.name, func(t *testing.T) {
				rc := newReceiver(t, c.replies...)
				e := transmitEnv(t, dsn, newSecret(), rc, func(o *dsr.Options) { o.TransmitAttempts = 3 })
				subject := "yy-" + strings.ReplaceAll(c.name, " ", "-")
				e.subject(subject, "refused@example.com", "", nil)
				done := e.portability(subject, c.lang, rc.srv.URL+"/in?key=t0p-s3cr3t-k3y-9f2")
				var total dsr.TransmitCounts
				for i := 0; i < 5; i++ {
					n := e.transmit()
					total.Delivered, total.Retrying, total.Failed = total.Delivered+n.Delivered, total.Retrying+n.Retrying, total.Failed+n.Failed
					e.clock.Advance(time.Minute)
				}
				if want := (dsr.TransmitCounts{Retrying: c.attempts - 1, Failed: 1}); total != want {
					t.Errorf("passes = %+v, want %+v", total, want)
				}
				if n := len(rc.posts()); n != c.attempts {
					t.Errorf("the receiver got %d posts, want %d", n, c.attempts)
				}
				got := e.get(done.ID)
				if tr := got.Transmissions; len(tr) != 1 || tr[0].State != dsr.TransmissionFailed || tr[0].Attempts != c.attempts {
					t.Errorf("transmission = %+v", tr)
				}
				if note := lastNote(got); !strings.HasPrefix(note, dsr.NoteTransmissionFailed) || !strings.Contains(note, c.reason) {
					t.Errorf("history ends with %q, want the failure and %q", note, c.reason)
				}
				if got.State != dsr.StateCompleted {
					t.Errorf("the request is %s after the failure", got.State)
				}
				e.dispatch()
				told := false
				for _, m := range e.sent.all() {
					if strings.Contains(m.Text, c.told) && strings.Contains(m.Text, "Acme Cloud") && strings.Contains(m.Text, "127.0.0.1") && strings.Contains(m.Text, done.ID) {
						told = true
						if strings.Contains(m.Text, "t0p-s3cr3t-k3y-9f2") || strings.Contains(m.Text, "/in") {
							t.Errorf("the message quotes the endpoint: %s", m.Text)
						}
					}
				}
				if !told {
					t.Errorf("the person was not told %q; sent: %+v", c.told, e.sent.all())
				}
				entries := e.transmitEntries()
				last := entries[len(entries)-1]
				if last.Outcome != "error" || !strings.Contains(last.Detail, `"state":"failed"`) || strings.Contains(last.Detail, "t0p-s3cr3t-k3y-9f2") {
					t.Errorf("last audit entry = %+v", last)
				}
				e.noPI("refused@example.com", "t0p-s3cr3t-k3y-9f2")
			})
		}
	})
}

// TestPortabilityTransmissionGuarded: endpoints that are not https are
// refused at intake; those that lead into a private network, or to this
// machine when the test option is off, are refused when dialled, reach
// nothing and end the transmission.
func TestPortabilityTransmissionGuarded(t *testing.T) {
	rc := newReceiver(t)
	for _, c := range []struct {
		name     string
		endpoint string
		loopback bool
	}{
		{"private address", "https://10.0.0.7/import", true},
		{"metadata address", "https://169.254.169.254/latest", true},
		{"unique local IPv6", "https://[fd00::7]/import", true},
		{"loopback without the test option", rc.srv.URL + "/import", false},
		{"loopback by name without the test option", strings.Replace(rc.srv.URL, "127.0.0.1", "localhost", 1) + "/import", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := transmitEnv(t, storetest.SQLiteDSN(t), newSecret(), rc, func(o *dsr.Options) { o.Egress.AllowLoopback = c.loopback })
			e.subject("yy-4101", "guard@example.com", "", nil)
			done := e.portability("yy-4101", "en", c.endpoint)
			if n := e.transmit(); n != (dsr.TransmitCounts{Failed: 1}) {
				t.Errorf("pass = %+v, want one failure", n)
			}
			got := e.get(done.ID)
			if tr := got.Transmissions; len(tr) != 1 || tr[0].State != dsr.TransmissionFailed || !strings.Contains(tr[0].Reason, "address refused") {
				t.Errorf("transmission = %+v", tr)
			}
		})
	}
	if n := len(rc.posts()); n != 0 {
		t.Errorf("the receiver got %d posts", n)
	}

	e := transmitEnv(t, storetest.SQLiteDSN(t), newSecret(), rc)
	e.subject("yy-4102", "guard@example.com", "", nil)
	for _, endpoint := range []string{strings.Replace(rc.srv.URL, "https:", "http:", 1), "ftp://acme.example/in", "https://u:p@acme.example/in", "acme.example/in"} {
		res := e.do("POST", "/v1/requests", e.op, mustJSON(map[string]any{"type": "portability", "jurisdiction": "EU", "subject_id": "yy-4102",
			"verification": "operator", "evidence": "ticket 1", "language": "en",
			"details": map[string]any{"transmit_to": map[string]string{"name": "Acme Cloud", "endpoint": endpoint}}}))
		if res.Code != 422 || errorCode(res.Body) != "invalid_endpoint" {
			t.Errorf("intake of endpoint %q = %d %s, want 422 invalid_endpoint", endpoint, res.Code, res.Body)
		}
	}
}

// TestTransmitNeedsSecret: without the deployment's webhook secret
// nothing is sent, and the job says why.
func TestTransmitNeedsSecret(t *testing.T) {
	rc := newReceiver(t)
	e := transmitEnv(t, storetest.SQLiteDSN(t), "", rc)
	e.subject("yy-4201", "nosecret@example.com", "", nil)
	e.portability("yy-4201", "en", rc.srv.URL)
	if _, err := e.req.Transmit(e.ctx); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("Transmit without a secret = %v", err)
	}
	if n := len(rc.posts()); n != 0 {
		t.Errorf("the receiver got %d posts", n)
	}
}

// TestTransmissionRace: two instances attempting one transmission at once
// both post it, with one webhook-id for the receiver to drop the second
// by; the first to record the delivery settles it, and the other's record
// does not land: one history event, one audit entry, no error.
func TestTransmissionRace(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, dsn string) {
		rc := newReceiver(t)
		e := transmitEnv(t, dsn, newSecret(), rc)
		e.subject("yy-4301", "race@example.com", "", nil)
		done := e.portability("yy-4301", "en", rc.srv.URL+"/in")
		other, err := dsr.New(storetest.Open(t, dsn), e.svc, e.opt)
		if err != nil {
			t.Fatal(err)
		}
		var second dsr.TransmitCounts
		var secondErr error
		rc.mu.Lock()
		rc.during = func() { second, secondErr = other.Transmit(e.ctx) }
		rc.mu.Unlock()
		first, err := e.req.Transmit(e.ctx)
		if err != nil || secondErr != nil {
			t.Fatalf("Transmit = %v; the other instance's = %v", err, secondErr)
		}
		if second != (dsr.TransmitCounts{Delivered: 1}) || first != (dsr.TransmitCounts{}) {
			t.Errorf("passes = %+v (first) and %+v (inside it), want the inner one to deliver alone", first, second)
		}
		posts := rc.posts()
		if len(posts) != 2 || posts[0].id != posts[1].id {
			t.Errorf("posts = %d, ids differ or missing: %+v", len(posts), posts)
		}
		got := e.get(done.ID)
		delivered := 0
		for _, h := range got.History {
			if h.Note == dsr.NoteTransmitted {
				delivered++
			}
		}
		if delivered != 1 || len(e.transmitEntries()) != 1 {
			t.Errorf("%d history events and %d audit entries of the delivery, want 1 each", delivered, len(e.transmitEntries()))
		}
		if tr := got.Transmissions; len(tr) != 1 || tr[0].State != dsr.TransmissionDelivered || tr[0].Attempts != 1 {
			t.Errorf("transmission = %+v", tr)
		}
	})
}

// TestTransmissionVerifiesWithReferenceLibrary: a transmission signed at
// the real time verifies with the reference Standard Webhooks library
// (scripts/webhooks), as a receiver following the specification checks it.
func TestTransmissionVerifiesWithReferenceLibrary(t *testing.T) {
	secret := newSecret()
	rc := newReceiver(t)
	e := newEnvOn(t, storetest.Open(t, filepath.Join(t.TempDir(), "custos.db")), yonyouManifest, time.Now(), func(o *dsr.Options) {
		o.TransmitSecret = []byte(secret)
		o.Egress = egress.Options{AllowLoopback: true, RootCAs: rc.roots(), Timeout: 5 * time.Second}
	})
	e.subject("yy-4101", "ref@example.com", "", nil)
	e.portability("yy-4101", "en", rc.srv.URL+"/import")
	if got := e.transmit(); got.Delivered != 1 {
		t.Fatalf("transmit = %+v, want one delivered", got)
	}
	posts := rc.posts()
	if len(posts) != 1 {
		t.Fatalf("%d posts, want 1", len(posts))
	}
	p := posts[0]
	h := http.Header{}
	h.Set("webhook-id", p.id)
	h.Set("webhook-timestamp", p.ts)
	h.Set("webhook-signature", p.sig)
	webhooktest.Verify(t, secret, h, p.body)
}

// TestTransmissionRetried: staff send again a transmission the receiver
// refused: it is pending and due at once, its attempts counted from zero,
// the history says it was retried, the trail names the host (never the
// endpoint's path or token), and the next pass delivers the export sealed
// at completion under the same webhook-id. Nothing failed, nothing to
// retry: no_failed_transmission, and the request is left as it was.
func TestTransmissionRetried(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, dsn string) {
		rc := newReceiver(t, 410, 200)
		e := transmitEnv(t, dsn, newSecret(), rc)
		staff := consent.Actor{ID: "operator:op-1", Role: "operator", Place: "test"}
		e.subject("yy-retry", "retry@example.com", "", nil)
		done := e.portability("yy-retry", "en", rc.srv.URL+"/in?key=r3try-s3cr3t-k3y")
		noneYet := func(when, id string) {
			t.Helper()
			before := e.get(id)
			_, err := e.req.RetryTransmission(e.ctx, staff, id)
			if fe, ok := fault.As(err); !ok || fe.Code != "no_failed_transmission" || fe.Kind != fault.Conflict {
				t.Errorf("retry %s: %v, want no_failed_transmission", when, err)
			}
			if after := e.get(id); len(after.History) != len(before.History) {
				t.Errorf("a refused retry %s wrote history: %q", when, lastNote(after))
			}
		}
		noneYet("while pending", done.ID)
		if n := e.transmit(); n.Failed != 1 {
			t.Fatalf("first pass = %+v, want the refusal", n)
		}
		if !dsr.HasFailedTransmission(e.get(done.ID)) {
			t.Fatal("a refused transmission is not shown as failed")
		}
		e.clock.Advance(time.Hour)
		v, err := e.req.RetryTransmission(e.ctx, staff, done.ID)
		if err != nil {
			t.Fatalf("RetryTransmission: %v", err)
		}
		if tr := v.Transmissions; len(tr) != 1 || tr[0].State != dsr.TransmissionPending || tr[0].Attempts != 0 || dsr.HasFailedTransmission(v) {
			t.Errorf("after the retry: %+v", tr)
		}
		if got := lastNote(v); got != dsr.NoteTransmissionRetry || v.State != dsr.StateCompleted {
			t.Errorf("history ends with %q in %s, want %q, still completed", got, v.State, dsr.NoteTransmissionRetry)
		}
		noneYet("twice", done.ID)
		all, err := e.st.AuditEntries(e.ctx, audit.Filter{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		audited := 0
		for _, en := range all {
			if en.Action != dsr.ActionTransmitRetry {
				continue
			}
			audited++
			if en.Actor != staff.ID || en.Object != "subject:yy-retry" || !strings.Contains(en.Detail, "127.0.0.1") || !strings.Contains(en.Detail, done.ID) ||
				strings.Contains(en.Detail, "r3try-s3cr3t-k3y") || strings.Contains(en.Detail, "/in") {
				t.Errorf("audit entry = %+v", en)
			}
		}
		if audited != 1 {
			t.Errorf("%d retry entries in the trail, want 1", audited)
		}
		if n := e.transmit(); n.Delivered != 1 {
			t.Fatalf("pass after the retry = %+v, want delivered", n)
		}
		posts := rc.posts()
		if len(posts) != 2 || posts[0].id != posts[1].id || string(posts[0].body) != string(posts[1].body) {
			t.Errorf("posts = %d, want the same export twice under one webhook-id", len(posts))
		}
		if got := e.get(done.ID); got.Transmissions[0].State != dsr.TransmissionDelivered || lastNote(got) != dsr.NoteTransmitted {
			t.Errorf("after delivery: %+v, %q", got.Transmissions, lastNote(got))
		}
		noneYet("once delivered", done.ID)
		access := e.submitOperator(map[string]any{"type": "access", "jurisdiction": "EU", "subject_id": "yy-retry", "language": "en"})
		noneYet("without a transmission", access.ID)
		e.noPI("retry@example.com", "r3try-s3cr3t-k3y")
	})
}
