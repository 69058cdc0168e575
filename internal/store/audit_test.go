package store

import (
	"context"
	"testing"
	"time"
)

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
