package execute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/testdb"
)

// sweepEngine is a database the sweep scenarios run on.
type sweepEngine struct {
	kind connector.Kind
	open func(*testing.T) *sql.DB
	ts   string // the column type of a time
}

var sweepEngines = []sweepEngine{
	{kind: connector.SQLite, open: testSQLite, ts: "TIMESTAMP"},
	{kind: connector.Postgres, open: testPostgres, ts: "TIMESTAMPTZ"},
	{kind: connector.MySQL, open: testMySQL, ts: "DATETIME(6)"},
}

func testPostgres(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", testdb.Postgres(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sweepNow is the moment of every sweep; rows are written one a day
// before it, row i on day i back, so rows 31 and up are past a 30-day cutoff.
var sweepNow = time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)

const sweepRows = 40

func sweepCutoff() time.Time { return sweepNow.AddDate(0, 0, -30).Add(-time.Hour) }

// sweepCollections are the three actions' collections.
var sweepCollections = map[string]dataset.Collection{
	"events": {Name: "events", DeleteRow: true, Fields: []dataset.Field{
		{Name: "id", PrimaryKey: true}, {Name: "email", Identity: "email", Categories: []string{"basic.email"}}, {Name: "at", DataType: "datetime"},
	}},
	"tickets": {Name: "tickets", Fields: []dataset.Field{
		{Name: "id", PrimaryKey: true}, {Name: "email", Identity: "email", Categories: []string{"basic.email"}},
		{Name: "phone", Categories: []string{"basic.phone"}, Erase: dataset.Erase{Strategy: dataset.EraseFixed, Value: "erased"}},
		{Name: "body"}, {Name: "at", DataType: "datetime"},
	}},
	"visits": {Name: "visits", Fields: []dataset.Field{
		{Name: "id", PrimaryKey: true}, {Name: "email", Identity: "email", Categories: []string{"basic.email"}},
		{Name: "page"}, {Name: "at", DataType: "datetime", Anonymise: dataset.AnonymiseMonth},
	}},
}

var sweepActions = map[string]string{"events": dataset.ActionDelete, "tickets": dataset.ActionErase, "visits": dataset.ActionAnonymise}

func (e sweepEngine) load(t *testing.T) *sql.DB {
	t.Helper()
	db := e.open(t)
	ctx := context.Background()
	for _, stmt := range []string{
		"CREATE TABLE events (id INTEGER PRIMARY KEY, email VARCHAR(100), at " + e.ts + ")",
		"CREATE TABLE tickets (id INTEGER PRIMARY KEY, email VARCHAR(100), phone VARCHAR(40), body VARCHAR(100), at " + e.ts + ")",
		"CREATE TABLE visits (id INTEGER PRIMARY KEY, email VARCHAR(100), page VARCHAR(100), at " + e.ts + ")",
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	ph := func(n int) string { return placeholders(e.kind, 1, n) }
	for i := 1; i <= sweepRows; i++ {
		var at any = sweepNow.AddDate(0, 0, -i)
		if e.kind == connector.SQLite {
			// As applications write times to SQLite: ISO 8601 text.
			at = sweepNow.AddDate(0, 0, -i).Format("2006-01-02 15:04:05")
		}
		email := fmt.Sprintf("p%d@example.com", i)
		for _, s := range []struct {
			stmt string
			args []any
		}{
			{"INSERT INTO events (id, email, at) VALUES (" + ph(3) + ")", []any{i, email, at}},
			{"INSERT INTO tickets (id, email, phone, body, at) VALUES (" + ph(5) + ")", []any{i, email, "+86 138 0000 0000", "help", at}},
			{"INSERT INTO visits (id, email, page, at) VALUES (" + ph(4) + ")", []any{i, email, "/home", at}},
		} {
			if _, err := db.ExecContext(ctx, s.stmt, s.args...); err != nil {
				t.Fatalf("%s: %v", s.stmt, err)
			}
		}
	}
	return db
}

// sweepState reads every table, times as UTC RFC 3339, by table and id.
func sweepState(t *testing.T, db *sql.DB, kind connector.Kind) map[string]map[int64]map[string]any {
	t.Helper()
	out := map[string]map[int64]map[string]any{}
	for name := range sweepCollections {
		rows, err := selectAll(context.Background(), db, kind, name)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = map[int64]map[string]any{}
		for _, r := range rows {
			if tm, ok := asTime(r["at"]); ok {
				r["at"] = tm.UTC().Format(time.RFC3339)
			}
			out[name][r["id"].(int64)] = r
		}
	}
	return out
}

// expectedSweep is what the state must be after every collection is swept
// at sweepCutoff, keeping the rows held reports and those in excluded.
func expectedSweep(before map[string]map[int64]map[string]any, held func(id int64) bool, excluded func(day int) bool) map[string]map[int64]map[string]any {
	out := map[string]map[int64]map[string]any{}
	for name, rows := range before {
		out[name] = map[int64]map[string]any{}
		for id, r := range rows {
			c := map[string]any{}
			for k, v := range r {
				c[k] = v
			}
			due := id > 30 && !held(id) && !excluded(int(id))
			switch {
			case !due:
			case name == "events":
				continue
			case name == "tickets":
				c["email"], c["phone"] = nil, "erased"
			case name == "visits":
				at := sweepNow.AddDate(0, 0, -int(id))
				c["email"] = nil
				c["at"] = time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
			}
			out[name][id] = c
		}
	}
	return out
}

func (e sweepEngine) sweep(name string, held map[int64]bool, excluded []Period) Sweep {
	return Sweep{
		Kind: e.kind, Collection: sweepCollections[name], Clock: "at", Cutoff: sweepCutoff(), Action: sweepActions[name],
		Excluded: excluded, Batch: 3,
		Held: func(key []any) bool { return held[key[0].(int64)] },
	}
}

// TestSweepDialects sweeps a collection per action on each engine: rows
// past the cutoff deleted, erased or anonymised, rows within it, held by
// key or in an excluded period untouched, every other cell unchanged; a
// second sweep finds and changes nothing.
func TestSweepDialects(t *testing.T) {
	for _, e := range sweepEngines {
		t.Run(string(e.kind), func(t *testing.T) {
			db := e.load(t)
			ctx := context.Background()
			before := sweepState(t, db, e.kind)
			held := map[int64]bool{33: true, 40: true}
			// Days 35 to 37 back are held by period: [day 37, day 35).
			excluded := []Period{{From: sweepNow.AddDate(0, 0, -37), To: sweepNow.AddDate(0, 0, -35)}}
			for _, name := range []string{"events", "tickets", "visits"} {
				s := e.sweep(name, held, excluded)
				c, err := s.Count(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				oldest := sweepNow.AddDate(0, 0, -sweepRows)
				if c.Due != 10 || c.Held != 2 || c.Oldest == nil || !c.Oldest.Equal(oldest) {
					t.Errorf("%s: count = %d due, %d held, oldest %v; want 10, 2, %v", name, c.Due, c.Held, c.Oldest, oldest)
				}
				var batches []int64
				res, err := s.Run(ctx, db, func(r SweepResult) { batches = append(batches, r.Rows) })
				if err != nil {
					t.Fatal(err)
				}
				if res.Rows != 6 || res.Held != 2 || len(batches) != res.Batches || res.Batches < 3 {
					t.Errorf("%s: run = %+v (progress %v); want 6 rows, 2 held, batches of 3", name, res, batches)
				}
				again, err := s.Run(ctx, db, nil)
				if err != nil || again.Rows != 0 {
					t.Errorf("%s: second run = %+v, %v; want nothing changed", name, again, err)
				}
			}
			want := expectedSweep(before, func(id int64) bool { return held[id] }, func(day int) bool { return day >= 36 && day <= 37 })
			if e.kind == connector.SQLite {
				// A time SQLite cannot read is never due: the plan says so.
				if _, err := db.ExecContext(ctx, "INSERT INTO events (id, email, at) VALUES (99, 'x@example.com', '14/06/2020')"); err != nil {
					t.Fatal(err)
				}
				c, err := e.sweep("events", nil, nil).Count(ctx, db)
				if err != nil || c.Unreadable != 1 || c.Due != 4 {
					t.Errorf("count with an unreadable clock = %+v, %v; want 1 unreadable, 4 due (those held)", c, err)
				}
				if _, err := db.ExecContext(ctx, "DELETE FROM events WHERE id = 99"); err != nil {
					t.Fatal(err)
				}
			}
			if d := cmp.Diff(want, sweepState(t, db, e.kind)); d != "" {
				t.Errorf("state after the sweep (-want +got):\n%s", d)
			}
		})
	}
}

// TestSweepWithoutHolds sweeps with no hold by key, as most runs do, where
// deletions address each batch by its key range: rows in an excluded
// period inside a range, and rows within their period, stay.
func TestSweepWithoutHolds(t *testing.T) {
	for _, e := range sweepEngines {
		t.Run(string(e.kind), func(t *testing.T) {
			db := e.load(t)
			ctx := context.Background()
			before := sweepState(t, db, e.kind)
			excluded := []Period{{From: sweepNow.AddDate(0, 0, -37), To: sweepNow.AddDate(0, 0, -35)}}
			for _, name := range []string{"events", "tickets", "visits"} {
				s := e.sweep(name, nil, excluded)
				s.Held = nil
				res, err := s.Run(ctx, db, nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.Rows != 8 || res.Held != 0 || res.Batches < 3 {
					t.Errorf("%s: run = %+v; want 8 rows in batches of 3", name, res)
				}
				again, err := s.Run(ctx, db, nil)
				if err != nil || again.Rows != 0 {
					t.Errorf("%s: second run = %+v, %v; want nothing changed", name, again, err)
				}
			}
			want := expectedSweep(before, func(int64) bool { return false }, func(day int) bool { return day >= 36 && day <= 37 })
			if d := cmp.Diff(want, sweepState(t, db, e.kind)); d != "" {
				t.Errorf("state after the sweep (-want +got):\n%s", d)
			}
		})
	}
}

// TestSweepResumes stops a sweep after its second batch, as a crash
// would, and runs it again: the end state is an uninterrupted run's, and
// the two runs together changed each due row once.
func TestSweepResumes(t *testing.T) {
	for _, e := range sweepEngines {
		t.Run(string(e.kind), func(t *testing.T) {
			db := e.load(t)
			before := sweepState(t, db, e.kind)
			for _, name := range []string{"events", "tickets", "visits"} {
				s := e.sweep(name, nil, nil)
				ctx, cancel := context.WithCancel(context.Background())
				first, err := s.Run(ctx, db, func(r SweepResult) {
					if r.Batches == 2 {
						cancel()
					}
				})
				cancel()
				if !errors.Is(err, context.Canceled) || first.Rows != 6 {
					t.Fatalf("%s: interrupted run = %+v, %v; want 6 rows then canceled", name, first, err)
				}
				rest, err := s.Run(context.Background(), db, nil)
				if err != nil || first.Rows+rest.Rows != 10 {
					t.Errorf("%s: resumed run = %+v, %v; want the other 4 of 10", name, rest, err)
				}
			}
			want := expectedSweep(before, func(int64) bool { return false }, func(int) bool { return false })
			if d := cmp.Diff(want, sweepState(t, db, e.kind)); d != "" {
				t.Errorf("state after the resumed sweep (-want +got):\n%s", d)
			}
		})
	}
}

func TestGeneralise(t *testing.T) {
	at := time.Date(2025, 7, 19, 13, 45, 0, 0, time.UTC)
	tests := []struct {
		in   any
		to   string
		want any
	}{
		{at, dataset.AnonymiseYear, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)},
		{at, dataset.AnonymiseMonth, time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)},
		{at, dataset.AnonymiseDay, time.Date(2025, 7, 19, 0, 0, 0, 0, time.UTC)},
		{"2025-07-19", dataset.AnonymiseMonth, "2025-07-01"},
		{"2025-07-19 13:45:00", dataset.AnonymiseYear, "2025-01-01 00:00:00"},
		{"2025-07-19T13:45:00+08:00", dataset.AnonymiseDay, "2025-07-19T00:00:00+08:00"},
		{nil, dataset.AnonymiseDay, nil},
	}
	for _, tt := range tests {
		got, err := generalise(tt.in, tt.to)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("generalise(%v, %s) = %v, %v; want %v", tt.in, tt.to, got, err, tt.want)
		}
	}
	if _, err := generalise(int64(3), dataset.AnonymiseYear); err == nil {
		t.Error("generalise(3): want an error")
	}
}

// TestSweepByKeyRanges: with an integer key and no holds, a sweep deletes
// by ranges of keys without reading rows first; expired rows interleaved
// with live ones, in runs far apart, at the very top of the key space and
// past an excluded period are dealt with exactly, on every engine that
// deletes by range.
func TestSweepByKeyRanges(t *testing.T) {
	for _, e := range sweepEngines {
		t.Run(string(e.kind), func(t *testing.T) {
			db := e.open(t)
			ctx := context.Background()
			if _, err := db.ExecContext(ctx, "CREATE TABLE logs (id BIGINT PRIMARY KEY, at "+e.ts+")"); err != nil {
				t.Fatal(err)
			}
			old, fresh := sweepNow.AddDate(-1, 0, 0), sweepNow.AddDate(0, 0, -1)
			held := sweepNow.AddDate(0, -6, 0) // in the excluded period
			var keys []int64
			for i := int64(1); i <= 60; i++ {
				keys = append(keys, i)
			}
			for i := int64(100000); i < 100020; i++ {
				keys = append(keys, i)
			}
			keys = append(keys, math.MaxInt64-1, math.MaxInt64)
			wantLeft := map[int64]bool{}
			for _, k := range keys {
				at := old
				switch {
				case k%3 == 0:
					at, wantLeft[k] = fresh, true
				case k == 100007:
					at, wantLeft[k] = held, true
				}
				var v any = at.UTC()
				if e.kind == connector.SQLite {
					v = at.UTC().Format("2006-01-02 15:04:05")
				}
				if _, err := db.ExecContext(ctx, "INSERT INTO logs (id, at) VALUES ("+placeholders(e.kind, 1, 2)+")", k, v); err != nil {
					t.Fatal(err)
				}
			}
			s := Sweep{Kind: e.kind, Action: dataset.ActionDelete, Clock: "at", Cutoff: sweepCutoff(), Batch: 4,
				Collection: dataset.Collection{Name: "logs", DeleteRow: true, Fields: []dataset.Field{{Name: "id", PrimaryKey: true}, {Name: "at", DataType: "datetime"}}},
				Excluded:   []Period{{From: held.Add(-time.Hour), To: held.Add(time.Hour)}}}
			res, err := s.Run(ctx, db, nil)
			if err != nil {
				t.Fatal(err)
			}
			if want := int64(len(keys) - len(wantLeft)); res.Rows != want {
				t.Errorf("deleted %d rows, want %d", res.Rows, want)
			}
			rows, err := db.QueryContext(ctx, "SELECT id FROM logs ORDER BY id")
			if err != nil {
				t.Fatal(err)
			}
			left := map[int64]bool{}
			for rows.Next() {
				var k int64
				rows.Scan(&k)
				left[k] = true
			}
			rows.Close()
			if d := cmp.Diff(wantLeft, left); d != "" {
				t.Errorf("rows left (-want +got):\n%s", d)
			}
		})
	}
}
