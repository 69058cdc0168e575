package execute

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/testdb"
)

// fidesDir holds Fides' sample database and dataset, in the shared data
// beside the project (CUSTOS_SHARED_DATA names another place).
var fidesDir = filepath.Join(sharedData(), "dsr-eval", "fides-postgres-example")

func sharedData() string {
	if d := os.Getenv("CUSTOS_SHARED_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "data")
}

// readFides reads a file of the Fides example, skipping the test when the
// shared data is absent (and failing when CUSTOS_SHARED_DATA says where it is).
func readFides(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fidesDir, name))
	if err != nil {
		if os.Getenv("CUSTOS_SHARED_DATA") != "" {
			t.Fatalf("Fides example not available: %v", err)
		}
		t.Skipf("Fides example not available: %v", err)
	}
	return data
}

// fidesDatastore parses Fides' example dataset.
func fidesDatastore(t *testing.T) *dataset.Datastore {
	t.Helper()
	d, err := dataset.ParseFides("postgres_example_test_dataset.yml", readFides(t, "postgres_example_test_dataset.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Datastores) != 1 {
		t.Fatalf("%d datastores, want 1", len(d.Datastores))
	}
	return &d.Datastores[0]
}

// loadFides loads Fides' Postgres sample into a fresh schema and returns a
// connection to it. The file names its schemas (public, backup_schema); both
// are renamed to fresh ones so the test owns everything it creates.
func loadFides(t *testing.T) *sql.DB {
	t.Helper()
	script := readFides(t, "postgres_sample.sql")
	dsn := testdb.Postgres(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(schema, "custos_t_") {
		t.Fatalf("current schema %q is not a test schema", schema)
	}
	backup := schema + "_backup"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+connector.Quote(connector.Postgres, backup)+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", backup, err)
		}
	})
	s := strings.NewReplacer("public.", connector.Quote(connector.Postgres, schema)+".",
		"backup_schema", connector.Quote(connector.Postgres, backup)).Replace(string(script))
	// No arguments: pgx sends the script with the simple protocol, which
	// runs every statement.
	if _, err := db.ExecContext(ctx, s); err != nil {
		t.Fatalf("load postgres_sample.sql: %v", err)
	}
	return db
}

// ids renders the given fields of each row as "a" or "(a,b)", sorted.
func ids(rows []Row, fields ...string) []string {
	out := []string{}
	for _, r := range rows {
		var parts []string
		for _, f := range fields {
			parts = append(parts, fmt.Sprint(r[f]))
		}
		s := strings.Join(parts, ",")
		if len(parts) > 1 {
			s = "(" + s + ")"
		}
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// TestFidesAccess checks the access request of EXPECTED.md.
func TestFidesAccess(t *testing.T) {
	checkFidesAccess(t, loadFides(t), connector.Postgres, true)
}

// TestFidesAccessCategories checks that Options.Categories narrows the fields.
func TestFidesAccessCategories(t *testing.T) {
	ds := fidesDatastore(t)
	db := loadFides(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tests := []struct {
		name       string
		categories []string
		want       map[string][]Row // collections not listed must have rows without fields
	}{
		{
			name:       "financial and below",
			categories: []string{"financial"},
			want:       map[string][]Row{"payment_card": {{"ccn": int64(123456789), "code": int64(321), "name": "Example Card 1"}}},
		},
		{
			name:       "name",
			categories: []string{"basic.name"},
			want:       map[string][]Row{"customer": {{"name": "John Customer"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Access(ctx, db, connector.Postgres, ds, Seeds{"email": {"customer-1@example.com"}}, Options{Categories: tc.categories})
			if err != nil {
				t.Fatal(err)
			}
			for coll, rows := range res {
				if want, ok := tc.want[coll]; ok {
					if diff := cmp.Diff(want, rows); diff != "" {
						t.Errorf("%s (-want +got):\n%s", coll, diff)
					}
					continue
				}
				for _, r := range rows {
					if len(r) != 0 {
						t.Errorf("%s: row carries fields %v outside the categories", coll, r)
					}
				}
			}
			// The traversal still reaches every collection it did without the filter.
			if n := len(res["login"]); n != 6 {
				t.Errorf("login: %d rows, want 6", n)
			}
		})
	}
}
