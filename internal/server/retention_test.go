package server_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/retention"
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
	shop := sampleShop(t, shopPath)
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
	checkConsoleRetention(t, e)
	for _, value := range []string{"li.lei", "203.0.113.7", "Li Lei"} {
		if strings.Contains(logs.String(), value) {
			t.Errorf("the log carries %q", value)
		}
	}
}

// checkConsoleRetention: the console's Retention page shows the server's plan
// and the scheduled run; an admin's Run now runs the same sweep, as the
// admin, and the metrics count it.
func checkConsoleRetention(t *testing.T, e *example) {
	t.Helper()
	srv := e.srv
	ops, err := operator.New(srv.Store(), operator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	op, err := ops.Create(t.Context(), consent.Actor{ID: "test", Role: "admin"}, operator.SetByCLI, "admin", "Admin", "admin", "admin-long-password-1")
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{d: &deployment{h: srv.Handler()}, host: "custos.test", cookies: map[string]string{}}
	if code := b.signIn(t, "admin", "admin-long-password-1"); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	code, page := b.do("GET", "/console/retention", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /console/retention: %d", code)
	}
	for _, want := range []string{`data-rule="orders"`, `<code>orders</code>`, `data-rule="sync-relay-cache"`, `data-keeper="account_cancellation_request"`,
		`data-keeper="consent_withdrawal_sweep"`, `<td data-label="Rows changed" class="rows">9</td>`, `action="/console/retention/run"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the Retention page lacks %q", want)
		}
	}
	if strings.Contains(page, "No dataset annotation") {
		t.Error("the Retention page says no dataset is configured")
	}
	code, page = b.do("POST", "/console/retention/run", url.Values{})
	if code != http.StatusOK || !strings.Contains(page, "The sweep ran: 0 rows changed") {
		t.Fatalf("Run now: %d\n%s", code, page)
	}
	runs, err := srv.Retention().Runs(t.Context(), 10)
	if err != nil || len(runs) != 2 || runs[0].State != store.RetentionDone {
		t.Fatalf("runs after Run now: %+v, %v", runs, err)
	}
	entries, err := srv.Store().AuditEntries(t.Context(), store.AuditFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	var byAdmin int
	for _, en := range entries {
		if en.Action == retention.ActionSweep && en.Actor == "operator:"+op.ID {
			byAdmin++
		}
	}
	if byAdmin == 0 {
		t.Error("the sweep run from the console is not audited as the admin")
	}
	if _, metrics := e.call(api.RoleAdmin, "GET", "/metrics", nil, nil); !strings.Contains(metrics, `custos_retention_runs_total{outcome="done"} 2`) {
		t.Errorf("the console's run is not counted:\n%s", grepLines(metrics, "custos_retention_runs"))
	}
}

// TestRequestRetentionSetting: the server reads the request retention
// from the configuration, refuses one below the legal minimum when it
// loads, and sweeps with the one in force.
func TestRequestRetentionSetting(t *testing.T) {
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CUSTOS_DB":                filepath.Join(dir, "custos.db"),
		"CUSTOS_MANIFEST":          filepath.Join("..", "..", "examples", "starter", "custos.yaml"),
		"CUSTOS_SECRETS_DIR":       filepath.Join(dir, "secrets"),
		"CUSTOS_REQUEST_RETENTION": "2 years",
	}
	if _, err := config.Load(nil, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "CUSTOS_REQUEST_RETENTION") {
		t.Fatalf("2 years loaded: %v", err)
	}
	env["CUSTOS_REQUEST_RETENTION"] = "5 years"
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
	srv, err := server.New(t.Context(), cfg, slog.New(slog.NewTextHandler(&lockedBuffer{}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if n, err := srv.ExpireRequests(t.Context()); err != nil || n != 0 {
		t.Errorf("ExpireRequests = %d, %v", n, err)
	}
}
