package dsr_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/store"
)

// TestQueueCode: a code queued for an identity on file with its value kept
// reaches it, tied to its request; for an identity on file without its
// value, or not on file, nothing is sent. Holder names the subject holding
// an identity, kept or not.
func TestQueueCode(t *testing.T) {
	const (
		email  = "kept@example.com"
		phone  = "+8613912345678"
		hashed = "hashed@example.com"
	)
	e := newEnv(t, starterManifest, chinaTime("2026-06-01 10:00"))
	e.subject("st-q-1", email, phone, nil)
	e.must(201, "POST", "/v1/subjects", e.op, mustJSON(map[string]any{"subject_id": "st-q-2",
		"identities": []map[string]any{{"kind": "email", "value": hashed}}}), nil)
	tests := []struct {
		name, kind, value string
		holder            string   // "" for store.ErrNotFound
		sent              []string // "channel to", with the code in the text
	}{
		{name: "email kept", kind: "email", value: email, holder: "st-q-1", sent: []string{"email " + email}},
		{name: "phone kept", kind: "phone", value: phone, holder: "st-q-1", sent: []string{"sms " + phone}},
		{name: "on file, value not kept", kind: "email", value: hashed, holder: "st-q-2"},
		{name: "not on file", kind: "email", value: "nobody@example.com"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			norm, err := identity.Normalize(tt.kind, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			hash := e.hasher.Hash(tt.kind, norm)
			holder, err := e.req.Holder(e.ctx, tt.kind, hash)
			if tt.holder == "" && !errors.Is(err, store.ErrNotFound) || tt.holder != "" && (err != nil || holder != tt.holder) {
				t.Errorf("Holder = %q, %v; want %q", holder, err, tt.holder)
			}
			request, code := fmt.Sprintf("rq_queued%d", i), dsr.NewCode()
			e.codes = append(e.codes, code)
			e.req.QueueCode(tt.kind, hash, code, "en", 15*time.Minute, map[string]string{"request": request})
			e.dispatch()
			ds, err := e.st.Deliveries(e.ctx, request)
			if err != nil {
				t.Fatal(err)
			}
			var sent []string
			for _, d := range ds {
				m, ok := e.sent.byDelivery(d.ID)
				if !ok || d.Template != "otp" || !strings.Contains(m.Text, code) {
					t.Errorf("delivery %s (%s): sent %v, code in the text %v", d.ID, d.Template, ok, strings.Contains(m.Text, code))
				}
				sent = append(sent, m.Channel+" "+m.To)
			}
			if diff := cmp.Diff(tt.sent, sent); diff != "" {
				t.Errorf("sent (-want +got):\n%s", diff)
			}
		})
	}
	if logs := e.log.String(); !strings.Contains(logs, "one-time code queued") || !strings.Contains(logs, "subject=st-q-1") {
		t.Errorf("the log does not name the subject a code was queued for:\n%s", logs)
	}
	e.noPI(email, phone, "13912345678", hashed, "nobody@example.com")

	t.Run("no channel for the kind", func(t *testing.T) {
		e := newEnv(t, starterManifest, chinaTime("2026-06-01 10:00"), func(o *dsr.Options) {
			o.Delivers = func(ch string) bool { return ch == "email" }
		})
		_, err := e.req.Holder(e.ctx, "phone", e.hasher.Hash("phone", phone))
		if fe, ok := fault.As(err); !ok || fe.Code != "no_message_channel" {
			t.Errorf("Holder for a phone with no SMS = %v, want no_message_channel", err)
		}
	})
}

// heldStore holds the first identity lookup until released, as a slow
// database would hold the code worker.
type heldStore struct {
	*store.Store
	once    sync.Once
	held    chan struct{}
	release chan struct{}
}

func (h *heldStore) SubjectByIdentity(ctx context.Context, hash []byte) (string, error) {
	first := false
	h.once.Do(func() { first = true })
	if first {
		close(h.held)
		<-h.release
	}
	return h.Store.SubjectByIdentity(ctx, hash)
}

// TestQueueCodeFull: when the worker has fallen behind and the queue is
// full, the next code is sent while the caller waits, not dropped, and
// the log says so without naming the identity or the code.
func TestQueueCodeFull(t *testing.T) {
	const email = "waiting@example.com"
	e := newEnv(t, starterManifest, chinaTime("2026-06-01 10:00"))
	e.subject("st-full-1", email, "", nil)
	logs := &lockedBuffer{}
	held := &heldStore{Store: e.st, held: make(chan struct{}), release: make(chan struct{})}
	req, err := dsr.New(held, e.svc, dsr.Options{Hasher: e.hasher, Keys: e.keys, Now: e.clock.Now,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	unknown := func(i int) []byte { return e.hasher.Hash("email", fmt.Sprintf("nobody%d@example.com", i)) }
	req.QueueCode("email", unknown(0), dsr.NewCode(), "en", time.Minute, nil)
	<-held.held
	for i := range dsr.CodeQueueSize {
		req.QueueCode("email", unknown(i+1), dsr.NewCode(), "en", time.Minute, nil)
	}
	code := dsr.NewCode()
	req.QueueCode("email", e.hasher.Hash("email", email), code, "en", time.Minute, map[string]string{"request": "rq_inline"})
	// Queued before QueueCode returned, while the worker is still held.
	ds, err := e.st.Deliveries(e.ctx, "rq_inline")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 1 || ds[0].Template != "otp" {
		t.Errorf("deliveries of the code sent with the queue full: %+v, want one otp", ds)
	}
	close(held.release)
	req.Drain()
	got := logs.String()
	if !strings.Contains(got, "one-time code queue full") {
		t.Errorf("the log does not say the queue was full:\n%s", got)
	}
	for _, pi := range []string{email, code, "nobody"} {
		if strings.Contains(got, pi) {
			t.Errorf("the log carries %q", pi)
		}
	}
}

// TestCloseCodes: Close waits for the codes queued before it, then ends
// the worker; a code queued after it is sent before QueueCode returns.
// A retired organisation's service leaves no goroutine behind.
func TestCloseCodes(t *testing.T) {
	const email = "closing@example.com"
	e := newEnv(t, starterManifest, chinaTime("2026-06-01 10:00"))
	e.subject("st-close-1", email, "", nil)
	held := &heldStore{Store: e.st, held: make(chan struct{}), release: make(chan struct{})}
	req, err := dsr.New(held, e.svc, dsr.Options{Hasher: e.hasher, Keys: e.keys, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	hash := e.hasher.Hash("email", email)
	req.QueueCode("email", hash, dsr.NewCode(), "en", time.Minute, map[string]string{"request": "rq_before"})
	<-held.held
	closed := make(chan struct{})
	go func() { req.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned with a code still being sent")
	case <-time.After(50 * time.Millisecond):
	}
	close(held.release)
	<-closed
	select {
	case <-dsr.CodeWorkerDone(req):
	case <-time.After(10 * time.Second):
		t.Fatal("the code worker still runs after Close")
	}
	for _, request := range []string{"rq_before", "rq_after"} {
		if request == "rq_after" {
			req.QueueCode("email", hash, dsr.NewCode(), "en", time.Minute, map[string]string{"request": request})
		}
		ds, err := e.st.Deliveries(e.ctx, request)
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) != 1 || ds[0].Template != "otp" {
			t.Errorf("deliveries of %s: %+v, want one otp", request, ds)
		}
	}
	req.Close() // twice is harmless
}
