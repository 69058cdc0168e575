package server_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/server"
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
}

func timeFar() time.Time { return time.Now().Add(24 * time.Hour) }
