package server_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// TestRecipientEmailNotice: after a deletion, a recipient the manifest
// reaches by email only gets a notice through the outbox, carrying a
// pseudonym of the subject, never the subject's id or address.
func TestRecipientEmailNotice(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.DB = filepath.Join(t.TempDir(), "c.db")
	cfg.Demo = true
	cfg.WebhookSecret = config.NewSecret([]byte("whsec-test-0123456789abcdef"), "test")
	cfg.PublicURL = "https://privacy.example.com"
	srv, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	op := consent.Actor{ID: "test", Role: "operator", Place: "test"}
	v, err := srv.Requests().SubmitOperator(ctx, op, dsr.Input{Type: "deletion", Language: "en", SubjectID: "demo-1002", Verification: "operator", Evidence: "seen in person"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Requests().Approve(ctx, op, v.ID); err != nil {
		t.Fatal(err)
	}
	done, err := srv.Requests().Complete(ctx, op, v.ID, dsr.CompleteInput{})
	if err != nil {
		t.Fatal(err)
	}
	emailTasks := 0
	for _, r := range done.Recipients {
		if r.Method == "email" {
			emailTasks++
		}
	}
	if emailTasks == 0 {
		t.Fatalf("no recipient is reached by email: %+v", done.Recipients)
	}
	sent, failed, _, err := srv.Propagator().RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sent < emailTasks {
		t.Errorf("sent %d notices (failed %d), want at least the %d email ones", sent, failed, emailTasks)
	}
	due, err := srv.Store().Outbox().Due(ctx, timeFar(), 100)
	if err != nil {
		t.Fatal(err)
	}
	notices := 0
	for _, d := range due {
		if d.Template != "recipient_notice" {
			continue
		}
		notices++
		p, err := notify.OpenPayload(ctx, srv.Keystore(), d)
		if err != nil {
			t.Fatal(err)
		}
		if d.Request != v.ID || p.Data["subject_ref"] == "" || strings.Contains(p.Data["subject_ref"], "demo-1002") {
			t.Errorf("notice %+v", p.Data)
		}
		for _, val := range p.Data {
			if strings.Contains(val, "demo-1002") || strings.Contains(val, "alex.chen") {
				t.Errorf("notice data carries the subject: %v", p.Data)
			}
		}
	}
	if notices != emailTasks {
		t.Errorf("%d email notices queued, want %d", notices, emailTasks)
	}
	if t.Failed() {
		return
	}

	// The recipient acknowledges the notice itself, with the link the
	// notice carries and no key.
	p, err := notify.OpenPayload(ctx, srv.Keystore(), firstNotice(t, due))
	if err != nil {
		t.Fatal(err)
	}
	path := p.Data["ack_path"]
	if !strings.HasPrefix(path, "/v1/public/acknowledgements/") || p.Data["ack_token"] == "" || !strings.HasSuffix(path, p.Data["ack_token"]) {
		t.Fatalf("the notice carries no acknowledgement link: %v", p.Data)
	}
	// The full link, where the server is reached from outside (--public-url).
	if p.Data["ack_url"] != "https://privacy.example.com"+path {
		t.Errorf("ack_url = %q, want the public URL and the path", p.Data["ack_url"])
	}
	call := func(method, path string) (int, string) {
		req := httptest.NewRequest(method, path, nil)
		req.RemoteAddr = "203.0.113.9:4711"
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	tok := p.Data["ack_token"]
	// Staff get the same link to hand a recipient they tell by hand, and
	// its reading is audited.
	first := firstNotice(t, due)
	tasks, err := srv.Store().RecipientTasks(ctx, first.Request)
	if err != nil {
		t.Fatal(err)
	}
	var rcpt string
	for _, rt := range tasks {
		if strings.HasPrefix(tok, rt.ID+".") {
			rcpt = rt.Recipient
		}
	}
	link, err := srv.Requests().AckLinkFor(ctx, op, first.Request, rcpt)
	if err != nil || link.Token != tok || link.URL != p.Data["ack_url"] {
		t.Errorf("AckLinkFor = %+v, %v; want the notice's token and link", link, err)
	}
	entries, err := srv.Store().AuditEntries(ctx, audit.Filter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(entries, func(e audit.Entry) bool { return e.Action == dsr.ActionAckLinkRead && e.Actor == op.ID }) {
		t.Error("showing staff the link was not audited")
	}
	forged := tok[:len(tok)-4] + "AAAA"
	if forged == tok {
		forged = tok[:len(tok)-4] + "BBBB"
	}
	for _, step := range []struct {
		method, path string
		status       int
		want         string // in the body
	}{
		{"GET", path, 200, `"acknowledged":false`},
		{"POST", "/v1/public/acknowledgements/" + forged, 404, "acknowledgement_not_found"},
		{"POST", path, 200, `"acknowledged":true`},
		{"POST", path, 200, `"by_recipient":true`}, // again: the same answer, recorded once
		{"GET", path, 200, `"acknowledged":true`},
	} {
		code, body := call(step.method, step.path)
		if code != step.status || !strings.Contains(body, step.want) {
			t.Errorf("%s %s = %d %s; want %d with %s", step.method, step.path, code, body, step.status, step.want)
		}
		for _, pi := range []string{"demo-1002", "alex.chen"} {
			if strings.Contains(body, pi) {
				t.Errorf("%s %s answers with %q: %s", step.method, step.path, pi, body)
			}
		}
	}
	view, err := srv.Requests().Get(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	acked := 0
	for _, r := range view.Recipients {
		if r.State == "acknowledged" {
			acked++
			if r.AcknowledgedBy != "recipient" || r.AcknowledgedAt == nil {
				t.Errorf("acknowledged notice shown as %+v", r)
			}
		}
	}
	if acked != 1 {
		t.Errorf("%d notices acknowledged, want the one: %+v", acked, view.Recipients)
	}
	entries, err = srv.Store().AuditEntries(ctx, store.AuditFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	var acks []audit.Entry
	for _, e := range entries {
		if e.Action == dsr.ActionRecipientAck {
			acks = append(acks, e)
		}
	}
	if len(acks) != 1 || !strings.HasPrefix(acks[0].Actor, "recipient:") || acks[0].Object != "request:"+v.ID {
		t.Fatalf("acknowledgements audited: %+v; want one, by the recipient, on the request", acks)
	}
	if a := acks[0]; strings.Contains(a.Detail+a.Object, "demo-1002") || strings.Contains(a.Detail, "alex.chen") {
		t.Errorf("the audit entry carries the subject: %+v", a)
	}
	// Staff acknowledgement of another recipient still works.
	for _, r := range view.Recipients {
		if r.State != "acknowledged" {
			after, err := srv.Requests().Acknowledge(ctx, op, v.ID, r.Recipient)
			if err != nil {
				t.Fatalf("staff acknowledgement: %v", err)
			}
			for _, a := range after.Recipients {
				if a.Recipient == r.Recipient && (a.State != "acknowledged" || a.AcknowledgedBy != "staff") {
					t.Errorf("after staff acknowledgement: %+v", a)
				}
			}
			break
		}
	}
}

func firstNotice(t *testing.T, due []notify.Delivery) notify.Delivery {
	for _, d := range due {
		if d.Template == "recipient_notice" {
			return d
		}
	}
	t.Fatal("no recipient notice queued")
	return notify.Delivery{}
}

func timeFar() time.Time { return time.Now().Add(24 * time.Hour) }
