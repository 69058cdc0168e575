package store

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"
)

// unlockAudit removes the append-only guard, as someone with direct
// database access could.
func unlockAudit(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	stmts := []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`}
	if s.dialect == Postgres {
		stmts = []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`}
	}
	for _, q := range stmts {
		if _, err := s.w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestAuditTamper edits the trail directly in the database, every way an
// attacker might, and requires verification to notice each.
func TestAuditTamper(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	tampers := []struct {
		name  string
		sql   []string
		kinds []string // problem kinds verification must report
	}{
		{"untouched", nil, nil},
		{"edited outcome", []string{`UPDATE audit_log SET outcome = 'denied' WHERE seq = 5`}, []string{"edited"}},
		{"edited purpose", []string{`UPDATE audit_log SET purpose = 'marketing' WHERE seq = 2`}, []string{"edited"}},
		{"deleted middle", []string{`DELETE FROM audit_log WHERE seq = 5`}, []string{"broken_link", "gap"}},
		{"deleted tail", []string{`DELETE FROM audit_log WHERE seq = 10`}, []string{"anchor_mismatch", "head_mismatch"}},
		{"deleted tail and head moved back", []string{
			`DELETE FROM audit_log WHERE seq = 10`,
			`UPDATE audit_head SET seq = 9, hash = (SELECT hash FROM audit_log WHERE seq = 9)`,
		}, []string{"anchor_mismatch"}}, // only an anchor recorded outside the database catches this
		{"inserted", []string{
			`INSERT INTO audit_log (seq, at, actor, role, place, action, object, purpose, outcome, detail, prev_hash, hash)
			 SELECT 11, at, actor, role, place, 'subject.read', object, purpose, outcome, detail, hash, hash FROM audit_log WHERE seq = 10`,
			`UPDATE audit_head SET seq = 11, hash = (SELECT hash FROM audit_log WHERE seq = 11)`,
		}, []string{"edited"}},
		{"reordered", []string{
			`UPDATE audit_log SET seq = 100 WHERE seq = 4`,
			`UPDATE audit_log SET seq = 4 WHERE seq = 5`,
			`UPDATE audit_log SET seq = 5 WHERE seq = 100`,
		}, []string{"broken_link", "edited"}},
		{"hash recomputed without the key", []string{
			`UPDATE audit_log SET outcome = 'denied', hash = prev_hash WHERE seq = 3`,
		}, []string{"broken_link", "edited"}},
	}
	backends(t, func(t *testing.T, _ *Store) {
		for _, tc := range tampers {
			t.Run(tc.name, func(t *testing.T) {
				s := reopenKeyed(t, key)
				ctx := context.Background()
				for i := 1; i <= 10; i++ {
					e := entry("subject.read", fmt.Sprintf("subject:u-%d", i))
					e.Purpose = "support"
					if err := s.AppendAudit(ctx, e); err != nil {
						t.Fatal(err)
					}
				}
				anchor, err := s.AuditHead(ctx) // as an operator would record it
				if err != nil {
					t.Fatal(err)
				}
				unlockAudit(t, s)
				for _, q := range tc.sql {
					if _, err := s.w.ExecContext(ctx, q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				rep, err := s.VerifyAudit(ctx, &anchor, nil)
				if err != nil {
					t.Fatal(err)
				}
				kinds := map[string]bool{}
				for _, p := range rep.Problems {
					kinds[p.Kind] = true
				}
				var got []string
				for k := range kinds {
					got = append(got, k)
				}
				sort.Strings(got)
				if fmt.Sprint(got) != fmt.Sprint(tc.kinds) && !(len(got) == 0 && len(tc.kinds) == 0) {
					t.Errorf("problem kinds = %v, want %v (%+v)", got, tc.kinds, rep.Problems)
				}
				if rep.OK != (len(tc.kinds) == 0) {
					t.Errorf("OK = %v", rep.OK)
				}
			})
		}
	})
}

// reopenKeyed opens a fresh store of the same backend as the running
// subtest, with an audit key.
func reopenKeyed(t *testing.T, key []byte) *Store {
	t.Helper()
	var dsn string
	if backendOf(t) == Postgres {
		dsn = postgresDSN(t)
	} else {
		dsn = t.TempDir() + "/custos.db"
	}
	ctx := context.Background()
	s, err := Open(ctx, dsn, Options{AuditKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAuditKey shows a chain only verifies under the key it was written with.
func TestAuditKey(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.AppendAudit(ctx, entry("a", "b"), entry("c", "d")); err != nil {
			t.Fatal(err)
		}
		if rep, _ := s.VerifyAudit(ctx, nil, nil); !rep.OK || rep.Entries != 2 {
			t.Fatalf("unkeyed verify = %+v", rep)
		}
		s.auditKey = []byte("another key, another chain......")
		if rep, _ := s.VerifyAudit(ctx, nil, nil); rep.OK {
			t.Error("a chain verified under a different key")
		}
	})
}

// TestAuditExport pages through entries and filters by time.
func TestAuditExport(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		old := entry("old", "x")
		old.At = time.Now().Add(-48 * time.Hour)
		if err := s.AppendAudit(ctx, old, entry("new1", "x"), entry("new2", "x")); err != nil {
			t.Fatal(err)
		}
		got, err := s.AuditEntries(ctx, AuditFilter{Since: time.Now().Add(-time.Hour)})
		if err != nil || len(got) != 2 || got[0].Action != "new1" {
			t.Fatalf("since filter = %+v, %v", got, err)
		}
		page, err := s.AuditEntries(ctx, AuditFilter{After: 1, Limit: 1})
		if err != nil || len(page) != 1 || page[0].Seq != 2 {
			t.Fatalf("page = %+v, %v", page, err)
		}
		changes, last, err := s.ChangesSince(ctx, 0, 10)
		if err != nil || last != 3 || len(changes) != 3 {
			t.Errorf("ChangesSince = %v, %d, %v", changes, last, err)
		}
	})
}
