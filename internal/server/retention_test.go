package server_test

import (
	"database/sql"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// TestRetentionSweepInServer: a server given the starter's sample
// database and its annotation sweeps it as scheduled: the rows past their
// period go, the metrics count them per table, the console's promise map
// knows the sweep keeps the rules, and nothing swept reaches the log.
func TestRetentionSweepInServer(t *testing.T) {
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	shopPath := filepath.Join(dir, "shop.db")
	schema, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter", "shop.sql"))
	if err != nil {
		t.Fatal(err)
	}
	shop, err := sql.Open("sqlite", "file:"+shopPath)
	if err != nil {
		t.Fatal(err)
	}
	defer shop.Close()
	if _, err := shop.Exec(string(schema)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SHOP_DSN", "file:"+shopPath)
	env := map[string]string{
		"CUSTOS_DB":          filepath.Join(dir, "custos.db"),
		"CUSTOS_MANIFEST":    filepath.Join("..", "..", "examples", "starter", "custos.yaml"),
		"CUSTOS_DATASET":     filepath.Join("..", "..", "examples", "starter", "dataset.yaml"),
		"CUSTOS_SECRETS_DIR": filepath.Join(dir, "secrets"),
		"CUSTOS_NOTIFY_DIR":  filepath.Join(dir, "outbox"),
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), env["CUSTOS_DB"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	logs := &lockedBuffer{}
	clk := clocktest.New(time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC))
	srv, err := server.New(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), server.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	rep, err := srv.RunRetention(t.Context())
	if err != nil || rep == nil {
		t.Fatalf("RunRetention = %v, %v", rep, err)
	}
	var rows int64
	for _, r := range rep.Results {
		rows += r.Rows
	}
	if rows != 9 || len(rep.Results) != 14 { // 11 by clock, 3 by consent withdrawal
		t.Errorf("swept %d rows in %d targets, want 9 in 14: %+v", rows, len(rep.Results), rep.Results)
	}
	var n int
	if err := shop.QueryRow("SELECT COUNT(*) FROM orders").Scan(&n); err != nil || n != 1 {
		t.Errorf("orders left: %d, %v; want the recent one", n, err)
	}
	key, err := api.CreateKey(t.Context(), srv.Store(), testActor, "admin", api.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	e := &example{t: t, h: srv.Handler(), srv: srv, clock: clk, keys: map[string]string{api.RoleAdmin: key.Secret}, log: logs}
	_, metrics := e.call(api.RoleAdmin, "GET", "/metrics", nil, nil)
	for _, want := range []string{
		`custos_retention_rows_total{action="delete",collection="orders",datastore="shop"} 1`,
		`custos_retention_rows_total{action="anonymise",collection="analytics_events",datastore="shop"} 1`,
		`custos_retention_runs_total{outcome="done"} 1`,
		`custos_retention_overdue_rows{collection="orders",datastore="shop"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(metrics, "custos_retention"))
		}
	}
	for _, value := range []string{"li.lei", "203.0.113.7", "Li Lei"} {
		if strings.Contains(logs.String(), value) {
			t.Errorf("the log carries %q", value)
		}
	}
}
