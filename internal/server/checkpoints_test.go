package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/apikey"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/checkpoint"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// TestCheckpointsAtStartAndShutdown: a server with checkpoints configured
// writes one when it starts and one when it stops, the last after every
// accepted write has landed; both verify against the database, and the
// API's verification checks the chains against them.
func TestCheckpointsAtStartAndShutdown(t *testing.T) {
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "checkpoints.jsonl")
	env := map[string]string{
		"CUSTOS_DB":               filepath.Join(dir, "custos.db"),
		"CUSTOS_MANIFEST":         starterManifest,
		"CUSTOS_SECRETS_DIR":      filepath.Join(dir, "secrets"),
		"CUSTOS_ADDR":             "127.0.0.1:0",
		"CUSTOS_CHECKPOINTS":      file,
		"CUSTOS_CHECKPOINT_EVERY": "1h",
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()

	srv, err := server.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- srv.Serve(sctx, func(string) { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Serve: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for countLines(file) < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := countLines(file); n != 1 {
		t.Fatalf("%d checkpoints after start, want 1", n)
	}

	admin := consent.Actor{ID: "test", Role: "admin", Place: "server test"}
	svc := srv.Service()
	if _, err := svc.CreateSubject(ctx, admin, consent.SubjectInput{ID: "u-1"}); err != nil {
		t.Fatal(err)
	}
	purpose := plainConsentPurposes(t, starterManifest)[0]
	if _, err := svc.Record(ctx, admin, "u-1", consent.ConsentInput{Grant: []string{purpose}, Method: "api", Language: "en", NoticeHash: noticeHash}); err != nil {
		t.Fatal(err)
	}
	key, err := apikey.New(srv.Store(), apikey.Options{}).Create(ctx, admin, "auditor", "auditor")
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/v1/audit/verify", nil)
	req.Header.Set("Authorization", "Bearer "+key.Secret)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	var rep audit.Report
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("GET /v1/audit/verify: %d %s", rec.Code, rec.Body)
	}
	if !rep.OK || rep.Anchors != 2 || rep.Ledger.Events != 1 || rep.Ledger.States != 1 {
		t.Errorf("the API's report: %+v; want it intact, checked against the start checkpoint's 2 heads, 1 event and 1 state", rep)
	}

	stop()
	if err := <-done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d checkpoints after shutdown, want 2:\n%s", len(lines), b)
	}
	last, err := checkpoint.Parse([]byte(lines[1]))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := server.LoadKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.Checkpoints.Keys().Verify(last); err != nil {
		t.Errorf("the shutdown checkpoint does not verify: %v", err)
	}
	if !strings.HasSuffix(last.Instance, " 127.0.0.1:0") {
		t.Errorf("instance = %q, want the host and the listening address", last.Instance)
	}

	st, err = store.Open(ctx, cfg.DB, store.Options{AuditKey: keys.AuditKey})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	trail, ledger, err := st.Heads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if last.Trail.Seq != trail.Seq || !bytes.Equal(last.Trail.Hash, trail.Hash) || last.Ledger.Seq != 1 || !bytes.Equal(last.Ledger.Hash, ledger.Hash) {
		t.Errorf("the shutdown checkpoint holds %d and %d, want the heads as the server left them: %d and %d", last.Trail.Seq, last.Ledger.Seq, trail.Seq, ledger.Seq)
	}
	rep, err = audit.NewTrail(st).WithAnchors(checkpoint.FileAnchors(file, keys.Checkpoints.Keys())).Verify(ctx, nil, nil)
	if err != nil || !rep.OK || rep.Anchors != 4 {
		t.Errorf("verify against both checkpoints: %+v, %v", rep, err)
	}
}

// TestCheckpointsNeedTheReceiptKey: checkpoints are signed with the
// receipt key; a server told to write them without it refuses to start.
func TestCheckpointsNeedTheReceiptKey(t *testing.T) {
	dir := t.TempDir()
	files, err := secrets.Init(filepath.Join(dir, "secrets"), false)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(files.ReceiptKey)
	env := map[string]string{
		"CUSTOS_DB":          filepath.Join(dir, "custos.db"),
		"CUSTOS_MANIFEST":    starterManifest,
		"CUSTOS_SECRETS_DIR": filepath.Join(dir, "secrets"),
		"CUSTOS_CHECKPOINTS": filepath.Join(dir, "checkpoints.jsonl"),
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	_, err = server.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "receipt key") {
		t.Fatalf("server.New = %v, want a refusal naming the receipt key", err)
	}
}

func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}
