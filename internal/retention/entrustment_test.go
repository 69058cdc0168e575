package retention

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

// hr is a processor's database of its enterprise customers' staff
// records: each row names the customer (tenant) it is held for.
var hr = &dataset.Datastore{ID: "hr", Kind: dataset.KindSQLite, DSN: "hr.db", Collections: []dataset.Collection{
	{Name: "staff", HeldFor: "tenant", Fields: []dataset.Field{
		{Name: "id", PrimaryKey: true}, {Name: "tenant"},
		{Name: "email", Identity: dataset.IdentityEmail, Categories: []string{"basic.email"}},
	}},
	{Name: "absences", HeldFor: "tenant", Fields: []dataset.Field{
		{Name: "id", PrimaryKey: true}, {Name: "tenant"}, {Name: "days"},
	}},
	{Name: "own_staff", Fields: []dataset.Field{
		{Name: "id", PrimaryKey: true}, {Name: "tenant"},
	}},
}}

// openHR creates hr on e: 7 staff and 7 absences rows, ids 1..7, of tenants
// acme (odd ids) and globex (even ids); own_staff rows 1..3 of acme.
func openHR(t *testing.T, e engine) *sql.DB {
	t.Helper()
	db := e.open(t)
	t.Cleanup(func() { db.Close() })
	p := func(i int) string {
		if e.kind == connector.Postgres {
			return fmt.Sprintf("$%d", i)
		}
		return "?"
	}
	for _, stmt := range []string{
		"CREATE TABLE staff (id INTEGER PRIMARY KEY, tenant VARCHAR(40), email VARCHAR(100))",
		"CREATE TABLE absences (id INTEGER PRIMARY KEY, tenant VARCHAR(40), days INTEGER)",
		"CREATE TABLE own_staff (id INTEGER PRIMARY KEY, tenant VARCHAR(40))",
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	for i := 1; i <= 7; i++ {
		tenant := map[bool]string{true: "acme", false: "globex"}[i%2 == 1]
		for _, q := range []struct {
			stmt string
			args []any
		}{
			{"INSERT INTO staff VALUES (" + p(1) + ", " + p(2) + ", " + p(3) + ")", []any{i, tenant, fmt.Sprintf("s%d@example.com", i)}},
			{"INSERT INTO absences VALUES (" + p(1) + ", " + p(2) + ", " + p(3) + ")", []any{i, tenant, i * 2}},
		} {
			if _, err := db.Exec(q.stmt, q.args...); err != nil {
				t.Fatalf("%s: %v", q.stmt, err)
			}
		}
		if i <= 3 {
			if _, err := db.Exec("INSERT INTO own_staff VALUES ("+p(1)+", "+p(2)+")", i, "acme"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return db
}

func hrService(t *testing.T, st Store, db *sql.DB, kind connector.Kind, holds Holds) *Service {
	m := starter(t)
	return New(st, Options{
		Datastores: []execute.Store{{DS: hr, DB: db, Kind: kind}},
		Policy:     func(context.Context) (*manifest.Manifest, error) { return m, nil },
		Holds:      holds,
		Instance:   "test", Batch: 2, Now: func() time.Time { return testNow }, Logger: slog.New(slog.DiscardHandler),
	})
}

// ids lists the ids of table's rows held for tenant.
func ids(t *testing.T, db *sql.DB, table, tenant string) string {
	t.Helper()
	rows, err := db.Query("SELECT id FROM " + table + " WHERE tenant = '" + tenant + "' ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		out = append(out, fmt.Sprint(id))
	}
	return strings.Join(out, ",")
}

type memReturns map[string]*bytes.Buffer

func (m memReturns) open(datastore, collection string) (io.WriteCloser, error) {
	b := &bytes.Buffer{}
	m[datastore+"."+collection] = b
	return nopCloser{b}, nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// TestEndEntrustment: at the end of an entrustment the processor deletes
// exactly the rows its held_for collections hold for that customer, in
// batches, on every engine; a return writes them out first; a hold keeps
// a collection whole; a failed return deletes nothing; a second run finds
// nothing; the run is audited and certified.
func TestEndEntrustment(t *testing.T) {
	for _, e := range engines {
		t.Run(string(e.kind), func(t *testing.T) {
			ctx := context.Background()
			st := storetest.SQLite(t)
			db := openHR(t, e)
			svc := hrService(t, st, db, e.kind, nil)
			_, priv, err := ed25519.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if svc.opt.Signer, err = certificate.NewSigner(priv, "test-kid"); err != nil {
				t.Fatal(err)
			}

			plan, err := svc.HeldForCustomer(ctx, "acme")
			if err != nil {
				t.Fatal(err)
			}
			want := []CustomerRows{{Datastore: "hr", Collection: "staff", Field: "tenant", Rows: 4}, {Datastore: "hr", Collection: "absences", Field: "tenant", Rows: 4}}
			if d := cmp.Diff(want, plan, cmp.AllowUnexported(CustomerRows{}), cmp.FilterPath(func(p cmp.Path) bool {
				return p.Last().String() == ".store" || p.Last().String() == ".coll"
			}, cmp.Ignore())); d != "" {
				t.Errorf("plan (-want +got):\n%s", d)
			}

			// A return that cannot be written deletes nothing.
			failing := func(string, string) (io.WriteCloser, error) { return nil, errors.New("disk full") }
			if _, err := svc.EndEntrustment(ctx, audit.System("test"), "en_1", "acme", failing); err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Errorf("failed return: %v", err)
			}
			if got := ids(t, db, "staff", "acme"); got != "1,3,5,7" {
				t.Errorf("a failed return deleted rows: staff of acme %s", got)
			}

			// A hold on the absences collection keeps it whole.
			held := hrService(t, st, db, e.kind, fixedHolds{{ID: "hd_leave", Scope: hold.Scope{Datastore: "hr", Collection: "absences"}}})
			back := memReturns{}
			rep, err := held.EndEntrustment(ctx, audit.System("test"), "en_1", "acme", back.open)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Results) != 2 || rep.Results[0].Rows != 4 || rep.Results[1].Rows != 0 || rep.Results[1].Held != 4 || !rep.Results[1].Whole {
				t.Errorf("results = %+v", rep.Results)
			}
			if rep.Results[0].Rule != "entrustment:en_1" || rep.Results[0].Action != dataset.ActionDelete {
				t.Errorf("target = %+v", rep.Results[0].Target)
			}
			var lines []map[string]any
			for _, l := range strings.Split(strings.TrimSpace(back["hr.staff"].String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("returned line %q: %v", l, err)
				}
				lines = append(lines, m)
			}
			if len(lines) != 4 || lines[0]["tenant"] != "acme" || lines[0]["email"] != "s1@example.com" || fmt.Sprint(lines[3]["id"]) != "7" {
				t.Errorf("returned rows = %v", lines)
			}
			if _, ok := back["hr.absences"]; ok {
				t.Error("a held collection was returned")
			}
			for table, want := range map[string]string{"staff": "", "absences": "1,3,5,7"} {
				if got := ids(t, db, table, "acme"); got != want {
					t.Errorf("%s of acme after the run: %q, want %q", table, got, want)
				}
			}
			for _, table := range []string{"staff", "absences"} {
				if got := ids(t, db, table, "globex"); got != "2,4,6" {
					t.Errorf("%s of another customer touched: %q", table, got)
				}
			}
			if got := ids(t, db, "own_staff", "acme"); got != "1,2,3" {
				t.Errorf("a collection not held for customers was touched: %q", got)
			}

			// Without the hold: the rest goes; a second run finds nothing.
			rep, err = svc.EndEntrustment(ctx, audit.System("test"), "en_1", "acme", nil)
			if err != nil || rep.Results[0].Rows != 0 || rep.Results[1].Rows != 4 {
				t.Errorf("second run = %+v, %v", rep.Results, err)
			}
			if len(rep.Certificates) != 1 {
				t.Fatalf("certificates = %v, want one for the absences rows", rep.Certificates)
			}
			if c, err := st.Certificate(ctx, rep.Certificates[0]); err != nil || c.Rule != "entrustment:en_1" || c.Rows() != 4 || c.Targets[0].Collection != "absences" {
				t.Errorf("certificate = %+v, %v", c, err)
			}
			rep, err = svc.EndEntrustment(ctx, audit.System("test"), "en_1", "acme", nil)
			if err != nil || rep.Results[0].Rows+rep.Results[1].Rows != 0 {
				t.Errorf("third run = %+v, %v", rep.Results, err)
			}
			if n := countAudit(t, st, ActionEntrustmentEnd); n != 7 {
				t.Errorf("%d %s entries; want 7 (one for the failed return, two for each of three runs)", n, ActionEntrustmentEnd)
			}
			if _, err := svc.EndEntrustment(ctx, audit.System("test"), "en_1", "", nil); err == nil {
				t.Error("an entrustment without a customer key swept")
			}
		})
	}
}
