package execute

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // registers the "mysql" driver
	"github.com/google/go-cmp/cmp"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/testdb"
)

// testMySQL creates a fresh database on the MariaDB/MySQL test server and
// returns a connection to it (testdb.MySQL). The database is dropped when
// the test ends.
func testMySQL(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", testdb.MySQL(t))
	if err != nil {
		t.Fatal(err)
	}
	// Registered after the DROP DATABASE cleanup, so it runs before it.
	t.Cleanup(func() { db.Close() })
	return db
}

// testSQLite opens a fresh SQLite database in the test's temporary directory.
func testSQLite(t *testing.T) *sql.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fides.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	// One writer connection, as the connector uses.
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// fidesStatements translates postgres_sample.sql into kind's dialect: the
// public schema's tables only (not the backup schema), without schema
// names or sequences, with types the engine has.
func fidesStatements(t *testing.T, kind connector.Kind) []string {
	t.Helper()
	script := string(readFides(t, "postgres_sample.sql"))
	script, _, _ = strings.Cut(script, "CREATE SCHEMA backup_schema")
	var lines []string
	for _, l := range strings.Split(script, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	types := strings.NewReplacer(
		"public.", "",
		"SERIAL PRIMARY KEY", "INTEGER PRIMARY KEY",
		"CHARACTER VARYING", "VARCHAR",
		"MONEY", "VARCHAR(20)",
	)
	var out []string
	// The sample has no ';' inside its literals.
	for _, s := range strings.Split(strings.Join(lines, "\n"), ";") {
		s = strings.TrimSpace(s)
		if s == "" || strings.HasPrefix(s, "ALTER SEQUENCE") {
			continue
		}
		s = types.Replace(s)
		if kind == connector.MySQL && strings.HasPrefix(s, "CREATE TABLE") {
			// A MySQL TIMESTAMP may take the current time on UPDATE;
			// DATETIME keeps what is written, as PostgreSQL's TIMESTAMP does.
			s = strings.ReplaceAll(s, "TIMESTAMP", "DATETIME")
		}
		out = append(out, s)
	}
	if len(out) < 20 {
		t.Fatalf("postgres_sample.sql: %d statements, expected the tables and their rows", len(out))
	}
	return out
}

// loadFidesInto loads the translated sample into db.
func loadFidesInto(t *testing.T, db *sql.DB, kind connector.Kind) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range fidesStatements(t, kind) {
		if _, err := db.ExecContext(ctx, s); err != nil {
			first, _, _ := strings.Cut(s, "\n")
			t.Fatalf("load %q: %v", first, err)
		}
	}
}

// fidesEngine is a database other than PostgreSQL that the Fides sample is loaded into.
type fidesEngine struct {
	kind connector.Kind
	open func(*testing.T) *sql.DB
	// preferred is how the engine reads back payment_card.preferred = true.
	preferred any
}

var fidesEngines = []fidesEngine{
	{kind: connector.MySQL, open: testMySQL, preferred: int64(1)}, // BOOLEAN is TINYINT(1)
	{kind: connector.SQLite, open: testSQLite, preferred: int64(1)},
}

func (e fidesEngine) load(t *testing.T) *sql.DB {
	t.Helper()
	db := e.open(t)
	loadFidesInto(t, db, e.kind)
	return db
}

// fidesIDFields are the columns that name each collection's rows in fidesAccessWant.
var fidesIDFields = map[string][]string{
	"address":         {"id"},
	"customer":        {"id"},
	"employee":        {"id"},
	"login":           {"id"},
	"order_item":      {"order_id", "product_id"},
	"orders":          {"id"},
	"payment_card":    {"id"},
	"product":         {"id"},
	"report":          {"id"},
	"service_request": {"id"},
	"visit":           {"email"},
}

// fidesAccessWant is EXPECTED.md's access result for customer-1@example.com.
var fidesAccessWant = map[string][]string{
	"address":         {"1", "2"},
	"customer":        {"1"},
	"employee":        {},
	"login":           {"1", "2", "3", "4", "5", "6"},
	"order_item":      {"(ord_aaa-aaa,1)", "(ord_ccc-ccc,1)", "(ord_ccc-ccc,2)", "(ord_ddd-ddd,1)"},
	"orders":          {"ord_aaa-aaa", "ord_ccc-ccc", "ord_ddd-ddd"},
	"payment_card":    {"pay_aaa-aaa"},
	"product":         {"1", "2"},
	"report":          {},
	"service_request": {"ser_aaa-aaa"},
	"visit":           {"customer-1@example.com"},
}

// checkFidesAccess runs EXPECTED.md's access request on db and compares
// the rows found, and the fields of two of them, with what it expects.
func checkFidesAccess(t *testing.T, db *sql.DB, kind connector.Kind, preferred any) {
	t.Helper()
	ds := fidesDatastore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Access(ctx, db, kind, ds, Seeds{"email": {"customer-1@example.com"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for coll, rows := range res {
		fields, ok := fidesIDFields[coll]
		if !ok {
			t.Errorf("unexpected collection %q in the result", coll)
			continue
		}
		got[coll] = ids(rows, fields...)
	}
	if diff := cmp.Diff(fidesAccessWant, got); diff != "" {
		t.Errorf("access result (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		coll string
		want Row
	}{
		{"customer", Row{"address_id": int64(1), "created": time.Date(2020, 4, 1, 11, 47, 42, 0, time.UTC),
			"email": "customer-1@example.com", "id": int64(1), "name": "John Customer"}},
		{"payment_card", Row{"billing_address_id": int64(1), "ccn": int64(123456789), "code": int64(321),
			"customer_id": int64(1), "id": "pay_aaa-aaa", "name": "Example Card 1", "preferred": preferred}},
	} {
		if len(res[tc.coll]) != 1 {
			t.Errorf("%s: %d rows, want 1", tc.coll, len(res[tc.coll]))
			continue
		}
		if diff := cmp.Diff(tc.want, res[tc.coll][0]); diff != "" {
			t.Errorf("%s row (-want +got):\n%s", tc.coll, diff)
		}
	}
	for _, r := range res["orders"] {
		if _, ok := r["payment_card_id"]; ok {
			t.Errorf("orders row carries payment_card_id, which the dataset does not list")
		}
	}
}

// TestFidesAccessDialects runs EXPECTED.md's access request on the sample
// loaded into MariaDB and SQLite: the result must be the one PostgreSQL gives.
func TestFidesAccessDialects(t *testing.T) {
	for _, e := range fidesEngines {
		t.Run(string(e.kind), func(t *testing.T) {
			checkFidesAccess(t, e.load(t), e.kind, e.preferred)
		})
	}
}

// snapshotOf is takeSnapshot for any engine, with values as Access reads them.
func snapshotOf(t *testing.T, db *sql.DB, kind connector.Kind) snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := snapshot{}
	for table, pk := range fidesTables {
		rows, err := selectAll(ctx, db, kind, table)
		if err != nil {
			t.Fatal(err)
		}
		s[table] = map[string]map[string]any{}
		for _, r := range rows {
			var key []string
			for _, k := range pk {
				key = append(key, fmt.Sprint(r[k]))
			}
			s[table][strings.Join(key, ",")] = r
		}
	}
	return s
}

// selectAll reads every row of table, normalised as selectIn does.
func selectAll(ctx context.Context, db *sql.DB, kind connector.Kind, table string) ([]map[string]any, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+connector.Quote(kind, table))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		r := map[string]any{}
		for i, c := range cols {
			r[c] = normalize(vals[i])
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// TestFidesEraseDialects runs the erasures of EXPECTED.md on MariaDB and
// SQLite: the plan, the cells nulled, every other cell untouched, and a
// second run that changes nothing.
func TestFidesEraseDialects(t *testing.T) {
	seeds := Seeds{"email": {"customer-1@example.com"}}
	tests := []struct {
		name       string
		categories []string
		wantPlan   []Change
		nulled     [][3]string // (table, key, column) set to NULL
	}{
		{
			name:       "name",
			categories: []string{"basic.name"},
			wantPlan: []Change{{Collection: "customer", Key: map[string]any{"id": int64(1)},
				Fields: []FieldChange{{Field: "name", Strategy: "null"}}}},
			nulled: [][3]string{{"customer", "1", "name"}},
		},
		{
			name:       "financial",
			categories: []string{"financial"},
			wantPlan: []Change{{Collection: "payment_card", Key: map[string]any{"id": "pay_aaa-aaa"},
				Fields: []FieldChange{{Field: "ccn", Strategy: "null"}, {Field: "code", Strategy: "null"}, {Field: "name", Strategy: "null"}}}},
			nulled: [][3]string{{"payment_card", "pay_aaa-aaa", "ccn"}, {"payment_card", "pay_aaa-aaa", "code"}, {"payment_card", "pay_aaa-aaa", "name"}},
		},
	}
	for _, e := range fidesEngines {
		for _, tc := range tests {
			t.Run(string(e.kind)+"/"+tc.name, func(t *testing.T) {
				ds := fidesDatastore(t)
				db := e.load(t)
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				before := snapshotOf(t, db, e.kind)

				dry, err := Erase(ctx, db, e.kind, ds, seeds, EraseOptions{Categories: tc.categories, DryRun: true})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(Plan{Datastore: ds.ID, Changes: tc.wantPlan}, dry); diff != "" {
					t.Errorf("dry-run plan (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(before, snapshotOf(t, db, e.kind)); diff != "" {
					t.Errorf("dry run changed the database (-before +after):\n%s", diff)
				}

				plan, err := Erase(ctx, db, e.kind, ds, seeds, EraseOptions{Categories: tc.categories})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(Plan{Datastore: ds.ID, Changes: tc.wantPlan, Applied: true}, plan); diff != "" {
					t.Errorf("plan (-want +got):\n%s", diff)
				}
				want := before.clone()
				for _, n := range tc.nulled {
					row, ok := want[n[0]][n[1]]
					if !ok {
						t.Fatalf("no row %s %s in the sample", n[0], n[1])
					}
					if row[n[2]] == nil {
						t.Fatalf("%s %s %s is already NULL: the test would prove nothing", n[0], n[1], n[2])
					}
					row[n[2]] = nil
				}
				after := snapshotOf(t, db, e.kind)
				if diff := cmp.Diff(want, after); diff != "" {
					t.Errorf("database after erasure (-want +got):\n%s", diff)
				}
				// Customer 1's order ord_ddd-ddd is paid with customer 2's
				// card, and customer 2 lives at the address customer 1 ships
				// to: their rows must come through as they were.
				if diff := cmp.Diff(before["customer"]["2"], after["customer"]["2"]); diff != "" {
					t.Errorf("customer 2 changed (-before +after):\n%s", diff)
				}
				if diff := cmp.Diff(before["payment_card"]["pay_bbb-bbb"], after["payment_card"]["pay_bbb-bbb"]); diff != "" {
					t.Errorf("customer 2's card changed (-before +after):\n%s", diff)
				}

				again, err := Erase(ctx, db, e.kind, ds, seeds, EraseOptions{Categories: tc.categories})
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(Plan{Datastore: ds.ID, Changes: []Change{}, Applied: true}, again); diff != "" {
					t.Errorf("second run (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, snapshotOf(t, db, e.kind)); diff != "" {
					t.Errorf("second run changed the database (-want +got):\n%s", diff)
				}
			})
		}
	}
}
