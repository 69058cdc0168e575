package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/examples"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/store"
)

// TestScheduledJobsRunFromTheCommandLine: custos vault expire deletes a
// value past its category's retention once, and custos outbox purge runs
// the server's purge.
func TestScheduledJobsRunFromTheCommandLine(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "custos.db")
	t.Setenv("CUSTOS_SECRETS_DIR", filepath.Join(dir, "secrets"))
	t.Setenv("CUSTOS_DB", db)
	rule := "\nretention:\n  - {id: vault-email, categories: [basic.email], period: {count: 30, unit: days}, from: collection, after: delete}\n"
	manifest := filepath.Join(dir, "custos.yaml")
	if err := os.WriteFile(manifest, bytes.Replace(examples.Starter, []byte("\nretention:\n"), []byte(rule), 1), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"migrate"}, {"policy", "publish", manifest}} {
		if out, errOut, code := run(t, args...); code != 0 {
			t.Fatalf("%v = %d\n%s%s", args, code, out, errOut)
		}
	}
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for i, written := range []time.Time{time.Now().AddDate(0, 0, -40), time.Now().AddDate(0, 0, -2)} {
		id := "u-" + string(rune('1'+i))
		if err := st.CreateSubject(ctx, store.Subject{ID: id, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if err := st.PutVault(ctx, store.VaultValue{SubjectID: id, Field: "email", Sealed: []byte("sealed"), Token: "vt_" + strings.Repeat("a", 32), UpdatedAt: written}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"vault", "expire"}, "1 vault values past their retention deleted"},
		{[]string{"vault", "expire"}, "0 vault values past their retention deleted"},
		{[]string{"outbox", "purge", "--outbox-retention", "1h"}, "0 messages purged"},
	} {
		out, errOut, code := run(t, tt.args...)
		if code != 0 || !strings.Contains(out, tt.want) {
			t.Errorf("custos %s = %d\n%s%s\nwant %q", strings.Join(tt.args, " "), code, out, errOut, tt.want)
		}
	}
	st, err = store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.VaultValue(ctx, "u-1", "email"); err == nil {
		t.Error("the value written 40 days ago is still kept")
	}
	if _, err := st.VaultValue(ctx, "u-2", "email"); err != nil {
		t.Errorf("the value written 2 days ago: %v", err)
	}
}
