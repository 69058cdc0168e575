package server_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// TestAuditRetention: with --audit-retention, the server cuts its trail
// at the last signed checkpoint older than the period, not past what a
// legal hold in force keeps, and what it keeps verifies against the
// checkpoints;
// without a checkpoint file the setting does not load.
func TestAuditRetention(t *testing.T) {
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CUSTOS_DB":              filepath.Join(dir, "custos.db"),
		"CUSTOS_MANIFEST":        filepath.Join("..", "..", "examples", "starter", "custos.yaml"),
		"CUSTOS_SECRETS_DIR":     filepath.Join(dir, "secrets"),
		"CUSTOS_AUDIT_RETENTION": "3 years",
		"CUSTOS_ADDR":            "127.0.0.1:0",
	}
	load := func() (config.Config, error) { return config.Load(nil, func(k string) string { return env[k] }) }
	if _, err := load(); err == nil || !strings.Contains(err.Error(), "CUSTOS_AUDIT_RETENTION") {
		t.Fatalf("audit retention without checkpoints loaded: %v", err)
	}
	env["CUSTOS_CHECKPOINTS"] = filepath.Join(dir, "checkpoints.jsonl")
	cfg, err := load()
	if err != nil {
		t.Fatal(err)
	}
	// A trail with something to cut.
	keys, err := server.LoadKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := server.OpenStore(t.Context(), cfg, keys, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := st.AppendAudit(t.Context(), audit.NewEntry(time.Now(), audit.System("test"), "subject.update", "subject:u-1", "", audit.OutcomeOK, nil)); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	serve := func(years float64) *server.Server {
		t.Helper()
		later := time.Duration(years * 365.25 * 24 * float64(time.Hour))
		srv, err := server.New(t.Context(), cfg, slog.New(slog.DiscardHandler), server.WithClock(func() time.Time { return time.Now().Add(later) }))
		if err != nil {
			t.Fatal(err)
		}
		return srv
	}

	// Today: the policy is published, and the server writes signed
	// checkpoints of the trail's head as it serves and as it stops.
	srv := serve(0)
	if c, err := srv.CutTrail(t.Context()); err != nil || c.Deleted != 0 {
		t.Errorf("cut today = %+v, %v; want nothing", c, err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, func(string) { stop() }) }()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	st, err = store.Open(t.Context(), env["CUSTOS_DB"])
	if err != nil {
		t.Fatal(err)
	}
	head, err := st.AuditHead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.CreateLegalHold(t.Context(), store.LegalHold{ID: "hold-1", SubjectID: "u-1", Reason: "litigation", Authority: "court",
		PlacedBy: "op", PlacedAt: now, Expires: now.AddDate(3, 6, 0)}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Three years and a quarter on, the checkpoint is past the period,
	// but the hold is in force.
	srv = serve(3.25)
	if c, err := srv.CutTrail(t.Context()); err != nil || c.Deleted != 0 || c.Held != 1 {
		t.Errorf("cut under a hold = %+v, %v; want nothing, one hold", c, err)
	}
	srv.Close()

	// Four years on, the hold on the person has expired. A hold on the
	// organisation's databases does not cover the trail, nor does a hold
	// on a period that starts after the cutoff; a hold on a period that
	// starts before the checkpoint keeps everything it vouches for.
	st, err = store.Open(t.Context(), env["CUSTOS_DB"])
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []store.LegalHold{
		{ID: "hold-crm", Datastore: "crm"},
		{ID: "hold-later", From: now.AddDate(2, 0, 0)},
		{ID: "hold-period", From: now.Add(-time.Hour), Expires: now.AddDate(4, 3, 0)},
	} {
		h.Reason, h.Authority, h.PlacedBy, h.PlacedAt = "litigation", "court", "op", now
		if err := st.CreateLegalHold(t.Context(), h); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	srv = serve(4)
	c, err := srv.CutTrail(t.Context())
	if err != nil || c.Deleted != 0 || c.Start != 0 || c.Held != 1 || c.HeldFrom == nil || !c.HeldFrom.Equal(now.Add(-time.Hour).Truncate(time.Microsecond)) || c.Whole() {
		t.Errorf("cut four years on under a period's hold = %+v, %v; want nothing cut, one hold keeping entries from %v", c, err, now.Add(-time.Hour))
	}
	srv.Close()

	// Four and a half years on, the period's hold has expired: the trail
	// is cut up to the checkpoint, and verifies from there against the
	// checkpoints.
	srv = serve(4.5)
	defer srv.Close()
	c, err = srv.CutTrail(t.Context())
	if err != nil || c.Start != head.Seq || c.Deleted != head.Seq-1 || c.Held != 0 {
		t.Fatalf("cut four and a half years on = %+v, %v; want start %d (the checkpoint at shutdown), %d deleted (all but the first), no hold", c, err, head.Seq, head.Seq-1)
	}
	rep, err := srv.Trail().Verify(t.Context(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Since != c.Start || rep.Anchors == 0 {
		t.Errorf("verification after the cut: ok %v since %d anchors %d: %+v", rep.OK, rep.Since, rep.Anchors, rep.Problems)
	}
}
