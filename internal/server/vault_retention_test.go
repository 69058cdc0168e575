package server_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/examples"
)

// TestVaultRetention: with a 30-day retention rule on the starter's vault
// field's category, an address kept on 1 June (China time) is read through
// 1 July and not found once the sweep has run on 2 July; the metric counts
// it, and no log carries it.
func TestVaultRetention(t *testing.T) {
	rule := "\nretention:\n  - {id: vault-email, categories: [basic.email], period: {count: 30, unit: days}, from: collection, after: delete}\n"
	src := bytes.Replace(examples.Starter, []byte("\nretention:\n"), []byte(rule), 1)
	path := filepath.Join(t.TempDir(), "custos.yaml")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	e := startManifest(t, path) // 1 June 2026, 10:00 in China
	const address = "li.na@example.com"
	const read = "/v1/subjects/u-1/vault/email?purpose=account_registration"
	e.run(
		subject("u-1", map[string]any{"birth_date": "1990-01-02"}),
		step{as: "service", method: "PUT", path: "/v1/subjects/u-1/vault/email", body: map[string]string{"value": address}, status: 200},
	)
	sweep := func(want int) {
		t.Helper()
		n, err := e.srv.ExpireVault(t.Context(), e.clock.Now())
		if err != nil || n != want {
			t.Fatalf("ExpireVault on %s = %d, %v; want %d", e.clock.Now().UTC(), n, err, want)
		}
	}
	e.clock.Advance(30 * 24 * time.Hour) // 1 July: the last day
	sweep(0)
	if status, body := e.call("service", "GET", read, nil, nil); status != 200 || !strings.Contains(body, address) {
		t.Fatalf("GET on the last day = %d %s, want 200 with the address", status, body)
	}
	e.clock.Advance(24 * time.Hour)
	sweep(1)
	if status, body := e.call("service", "GET", read, nil, nil); status != 404 || !strings.Contains(body, `"vault_value_not_found"`) {
		t.Errorf("GET after the period = %d %s, want 404 vault_value_not_found", status, body)
	}
	sweep(0)
	if _, metrics := e.call("admin", "GET", "/metrics", nil, nil); !strings.Contains(metrics, "\ncustos_vault_expired_total 1\n") {
		t.Errorf("/metrics lacks custos_vault_expired_total 1:\n%s", grepLines(metrics, "custos_vault"))
	}
	if strings.Contains(e.log.String(), address) {
		t.Error("the log carries the address")
	}
}

// TestVaultRetentionHonoursHolds: the sweep keeps past its period a value
// an active legal hold covers, deletes the others', and deletes the held
// one once the hold has expired.
func TestVaultRetentionHonoursHolds(t *testing.T) {
	rule := "\nretention:\n  - {id: vault-email, categories: [basic.email], period: {count: 30, unit: days}, from: collection, after: delete}\n"
	src := bytes.Replace(examples.Starter, []byte("\nretention:\n"), []byte(rule), 1)
	path := filepath.Join(t.TempDir(), "custos.yaml")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	e := startManifest(t, path) // 1 June 2026, 10:00 in China
	expires := e.clock.Now().Add(40 * 24 * time.Hour).UTC().Format(time.RFC3339)
	e.run(
		subject("u-1", map[string]any{"birth_date": "1990-01-02"}),
		subject("u-2", map[string]any{"birth_date": "1990-01-02"}),
		step{as: "service", method: "PUT", path: "/v1/subjects/u-1/vault/email", body: map[string]string{"value": "li.na@example.com"}, status: 200},
		step{as: "service", method: "PUT", path: "/v1/subjects/u-2/vault/email", body: map[string]string{"value": "wang.wu@example.com"}, status: 200},
		step{as: "operator", method: "POST", path: "/v1/holds", status: 201,
			body: map[string]any{"scope": map[string]string{"subject_id": "u-1", "category": "basic"}, "reason": "dispute", "authority": "case 1", "expires": expires}},
	)
	sweep := func(want int) {
		t.Helper()
		n, err := e.srv.ExpireVault(t.Context(), e.clock.Now())
		if err != nil || n != want {
			t.Fatalf("ExpireVault on %s = %d, %v; want %d", e.clock.Now().UTC(), n, err, want)
		}
	}
	e.clock.Advance(31 * 24 * time.Hour) // 2 July: both past their period
	sweep(1)
	if status, _ := e.call("service", "GET", "/v1/subjects/u-1/vault/email?purpose=account_registration", nil, nil); status != 200 {
		t.Errorf("the held value after the sweep: %d, want 200", status)
	}
	if status, _ := e.call("service", "GET", "/v1/subjects/u-2/vault/email?purpose=account_registration", nil, nil); status != 404 {
		t.Errorf("the other value after the sweep: %d, want 404", status)
	}
	e.clock.Advance(10 * 24 * time.Hour) // the hold has expired
	sweep(1)
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
