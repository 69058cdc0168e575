package store

import (
	"bytes"
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestLedgerSum: every column of an event is covered by its hash, and so
// are the key and the event before it.
func TestLedgerSum(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	prev := bytes.Repeat([]byte{7}, 32)
	base := ConsentEvent{Seq: 7, ID: "e7", SubjectID: "u-1", Purpose: "analytics", Action: ActionWithdraw, VersionSeq: 2, Method: "api",
		Language: "en", NoticeHash: "abc", Separate: true, GuardianID: "g-1", Signal: "gpc", Evidence: `{"a":1}`, Actor: "key_1",
		At: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)}
	want := ledgerSum(key, prev, &base)
	changes := []struct {
		name   string
		key    []byte
		prev   []byte
		change func(e *ConsentEvent)
	}{
		{name: "seq", change: func(e *ConsentEvent) { e.Seq++ }},
		{name: "id", change: func(e *ConsentEvent) { e.ID = "e8" }},
		{name: "subject", change: func(e *ConsentEvent) { e.SubjectID = "u-2" }},
		{name: "purpose", change: func(e *ConsentEvent) { e.Purpose = "ads" }},
		{name: "action", change: func(e *ConsentEvent) { e.Action = ActionGrant }},
		{name: "version", change: func(e *ConsentEvent) { e.VersionSeq = 3 }},
		{name: "method", change: func(e *ConsentEvent) { e.Method = "banner" }},
		{name: "language", change: func(e *ConsentEvent) { e.Language = "zh-CN" }},
		{name: "notice hash", change: func(e *ConsentEvent) { e.NoticeHash = "abd" }},
		{name: "separate", change: func(e *ConsentEvent) { e.Separate = false }},
		{name: "guardian", change: func(e *ConsentEvent) { e.GuardianID = "" }},
		{name: "signal", change: func(e *ConsentEvent) { e.Signal = "dnt" }},
		{name: "evidence", change: func(e *ConsentEvent) { e.Evidence = `{"a":2}` }},
		{name: "actor", change: func(e *ConsentEvent) { e.Actor = "key_2" }},
		{name: "time", change: func(e *ConsentEvent) { e.At = e.At.Add(time.Microsecond) }},
		{name: "text moved between fields", change: func(e *ConsentEvent) { e.SubjectID, e.Purpose = "u-1a", "nalytics" }},
		{name: "previous hash", prev: bytes.Repeat([]byte{8}, 32), change: func(*ConsentEvent) {}},
		{name: "key", key: []byte("another key, another key, another"), change: func(*ConsentEvent) {}},
		{name: "no key", key: []byte{}, change: func(*ConsentEvent) {}},
	}
	for _, tt := range changes {
		t.Run(tt.name, func(t *testing.T) {
			e := base
			tt.change(&e)
			k, p := key, prev
			if tt.key != nil {
				k = tt.key
			}
			if tt.prev != nil {
				p = tt.prev
			}
			if bytes.Equal(ledgerSum(k, p, &e), want) {
				t.Errorf("the hash does not change with the %s", tt.name)
			}
		})
	}
	// What the database keeps of the time is the microsecond, and not its zone.
	e := base
	e.At = e.At.Add(999).In(time.FixedZone("CST", 8*3600))
	if !bytes.Equal(ledgerSum(key, prev, &e), want) {
		t.Error("the hash changes with what is not stored of the time")
	}
	if bytes.Equal(ledgerStart(key, 3), ledgerStart(key, 4)) {
		t.Error("the chain start does not depend on where the chain starts")
	}
}

// migrateTo applies the migrations up to version, as an older build would have.
func migrateTo(t *testing.T, s *Store, version int) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := s.SchemaStatus(ctx); err != nil {
		t.Fatal(err)
	}
	ms, err := migrations(s.dialect)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Version > version {
			break
		}
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), m.Version, m.Name, micros(time.Now()))
			return err
		})
		if err != nil {
			t.Fatalf("migration %d: %v", m.Version, err)
		}
	}
}

// TestLedgerChainFromSchema5: a ledger written before the chain existed
// keeps its events, unhashed, before the chain's start; they verify
// against the current state, events written afterwards are chained from
// the start, and the state of an old event is still checked.
func TestLedgerChainFromSchema5(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	backends(t, func(t *testing.T, _ *Store) {
		ctx := context.Background()
		dsn := t.TempDir() + "/custos.db"
		if backendOf(t) == Postgres {
			dsn = postgresDSN(t)
		}
		s, err := Open(ctx, dsn, Options{AuditKey: key})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		migrateTo(t, s, 5)
		// What the writer of schema 5 wrote: events without hashes, and the state.
		for _, q := range []string{
			`INSERT INTO subjects (id, restricted, created_at, updated_at) VALUES ('u-1', 0, 1, 1)`,
			`INSERT INTO consent_events (` + consentCols + `) VALUES
				(1, 'old1', 'u-1', 'analytics', 'grant', 1, 'api', 'en', 'abc', 0, NULL, '', '{}', 'test', 1),
				(2, 'old2', 'u-1', 'analytics', 'withdraw', 1, 'api', 'en', 'abc', 0, NULL, '', '{}', 'test', 2),
				(3, 'old3', 'u-1', 'ads', 'grant', 1, 'api', 'en', 'abc', 0, NULL, '', '{}', 'test', 3)`,
			`INSERT INTO consent_state (subject_id, purpose, action, granted, by_guardian, version_seq, event_id) VALUES
				('u-1', 'analytics', 'withdraw', 0, 0, 1, 'old2'), ('u-1', 'ads', 'grant', 1, 0, 1, 'old3')`,
		} {
			if _, err := s.w.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		done, err := s.Migrate(ctx)
		if err != nil || len(done) == 0 || done[0].Version != 6 {
			t.Fatalf("Migrate = %v, %v; want 0006 applied", done, err)
		}
		rep, err := s.VerifyAudit(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := rep.Ledger
		want.Unchained, want.Events, want.HeadSeq, want.States = 3, 0, 3, 2
		if diff := cmp.Diff(want, rep.Ledger); diff != "" || !rep.OK {
			t.Fatalf("after migrating: ok %v %+v, ledger (-want +got):\n%s", rep.OK, rep.Problems, diff)
		}
		_, head, err := s.Heads(ctx)
		if err != nil || head.Seq != 3 || !bytes.Equal(head.Hash, ledgerStart(key, 3)) {
			t.Fatalf("ledger head = %d %x, %v; want 3 and the chain start", head.Seq, head.Hash, err)
		}

		if err := s.AppendConsents(ctx, []ConsentEvent{consent("new4", "u-1", "analytics", ActionGrant, 1)}, nil); err != nil {
			t.Fatal(err)
		}
		evs, err := s.ConsentEvents(ctx, "u-1", 3, 10)
		if err != nil || len(evs) != 1 || evs[0].Seq != 4 {
			t.Fatalf("new event = %+v, %v; want seq 4", evs, err)
		}
		var prev []byte
		if err := s.rd().QueryRowContext(ctx, `SELECT prev_hash FROM consent_events WHERE seq = 4`).Scan(&prev); err != nil || !bytes.Equal(prev, ledgerStart(key, 3)) {
			t.Errorf("the first chained event links to %x, %v; want the chain start", prev, err)
		}
		if rep, err := s.VerifyAudit(ctx, nil, nil); err != nil || !rep.OK || rep.Ledger.Events != 1 || rep.Ledger.Unchained != 3 {
			t.Fatalf("after a new event: %+v, %v", rep, err)
		}

		// An old event's state is still checked.
		tamper(t, s, []string{`UPDATE consent_state SET action = 'withdraw', granted = 0 WHERE subject_id = 'u-1' AND purpose = 'ads'`})
		rep, err = s.VerifyAudit(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Problems) != 1 || rep.Problems[0].Kind != "state_differs" || rep.Problems[0].Event != "old3" {
			t.Errorf("problems = %+v, want the state of old3 differing", rep.Problems)
		}
	})
}
