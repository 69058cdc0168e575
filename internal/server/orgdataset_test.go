package server_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/server"
)

// TestOrgOwnDatabases: an organisation whose directory holds a dataset
// annotation has its own databases swept by its own retention rules, and
// the deployment's databases are not touched by it; the deployment, given
// none, sweeps nothing.
func TestOrgOwnDatabases(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			ours, acme := sampleShop(t, filepath.Join(dir, "ours.db")), sampleShop(t, filepath.Join(dir, "acme.db"))
			t.Setenv("SHOP_DSN", "file:"+filepath.Join(dir, "ours.db"))
			t.Setenv("ACME_SHOP_DSN", "file:"+filepath.Join(dir, "acme.db"))
			starter, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter", "dataset.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			annotation := filepath.Join(dir, "acme-dataset.yaml")
			if err := os.WriteFile(annotation, []byte(strings.ReplaceAll(string(starter), "dsn_env: SHOP_DSN", "dsn_env: ACME_SHOP_DSN")), 0o600); err != nil {
				t.Fatal(err)
			}
			clk := clocktest.New(time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC))
			manifest := filepath.Join("..", "..", "examples", "starter", "custos.yaml")
			d := startOrgs(t, backend, manifest, []orgSpec{{id: "acme", name: "Acme Ltd", host: "acme.test", manifest: manifest, dataset: annotation}}, nil, server.WithClock(clk.Now))

			if rep, err := d.srv.RunRetention(t.Context()); rep != nil || err != nil || d.srv.Retention() != nil {
				t.Errorf("the deployment, with no dataset, swept: %+v, %v", rep, err)
			}
			rep, err := d.srv.Org("acme").RunRetention(t.Context())
			if err != nil || rep == nil {
				t.Fatalf("acme's sweep = %+v, %v", rep, err)
			}
			var rows int64
			for _, r := range rep.Results {
				rows += r.Rows
			}
			if rows != 9 {
				t.Errorf("acme's sweep changed %d rows, want 9 (as the starter's own): %+v", rows, rep.Results)
			}
			if n := count(t, acme, "orders"); n != 1 {
				t.Errorf("orders left in acme's database: %d, want the recent one", n)
			}
			if n := count(t, ours, "orders"); n != 2 {
				t.Errorf("orders left in the deployment's database: %d, want both", n)
			}
		})
	}
}

// sampleShop makes the starter's sample database at path.
func sampleShop(t *testing.T, path string) *sql.DB {
	t.Helper()
	schema, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter", "shop.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(string(schema)); err != nil {
		t.Fatal(err)
	}
	return db
}

func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
