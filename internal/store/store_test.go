package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/testdb"
)

// backends runs fn on every database: the contract every backend must pass.
func backends(t *testing.T, fn func(t *testing.T, s *Store)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, openFresh(t, filepath.Join(t.TempDir(), "custos.db")))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, openFresh(t, testdb.Postgres(t)))
	})
}

// backendOf tells which backend a subtest of backends runs on.
func backendOf(t *testing.T) string {
	if strings.Contains(t.Name(), "/postgres") {
		return Postgres
	}
	return SQLite
}

func postgresDSN(t *testing.T) string { return testdb.Postgres(t) }

func openFresh(t testing.TB, dsn string) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

func entry(action, object string) audit.Entry {
	return audit.Entry{At: time.Now(), Actor: "test", Role: "admin", Place: "127.0.0.1", Action: action, Object: object, Outcome: audit.OutcomeOK, Detail: "{}"}
}

func TestSchema(t *testing.T) {
	ctx := context.Background()
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "x.db") },
		"postgres": func(t *testing.T) string { return testdb.Postgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Open(ctx, dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.CheckSchema(ctx); !errors.Is(err, ErrSchema) {
				t.Fatalf("CheckSchema on an empty database = %v, want ErrSchema", err)
			}
			done, err := s.Migrate(ctx)
			if err != nil || len(done) == 0 {
				t.Fatalf("Migrate = %v, %v", done, err)
			}
			if err := s.CheckSchema(ctx); err != nil {
				t.Fatalf("CheckSchema after migrate: %v", err)
			}
			again, err := s.Migrate(ctx)
			if err != nil || len(again) != 0 {
				t.Fatalf("second Migrate = %v, %v; want nothing to do", again, err)
			}
			if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
				t.Fatal(err)
			}
			if err := s.CheckSchema(ctx); !errors.Is(err, ErrSchema) {
				t.Fatalf("CheckSchema on a newer database = %v, want ErrSchema", err)
			}
		})
	}
}

func TestSubjects(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		alice := Subject{ID: "u-1", BirthDate: "2012-05-01", Identities: []Identity{
			{Kind: "email", Hash: []byte("h-email-1"), Sealed: []byte("sealed-1")},
			{Kind: "phone", Hash: []byte("h-phone-1")},
		}}
		if err := s.CreateSubject(ctx, alice, entry("subject.create", "subject:u-1")); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSubject(ctx, Subject{ID: "u-1"}); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate id: %v, want ErrConflict", err)
		}
		if err := s.CreateSubject(ctx, Subject{ID: "u-2", Identities: []Identity{{Kind: "email", Hash: []byte("h-email-1")}}}); !errors.Is(err, ErrConflict) {
			t.Errorf("taken identity: %v, want ErrConflict", err)
		}
		if _, err := s.Subject(ctx, "u-2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("failed create left a subject behind: %v", err)
		}
		got, err := s.Subject(ctx, "u-1")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(alice.Identities, got.Identities); diff != "" || got.BirthDate != "2012-05-01" {
			t.Errorf("Subject: birth %q, identities (-want +got):\n%s", got.BirthDate, diff)
		}
		id, err := s.SubjectByIdentity(ctx, []byte("h-phone-1"))
		if err != nil || id != "u-1" {
			t.Errorf("SubjectByIdentity = %q, %v", id, err)
		}
		// A miss reads the next row on file; it must not be taken for a hit.
		for _, miss := range []string{"nope", "a", "h-email-", "h-email-10", "h-f", "zz"} {
			if id, err := s.SubjectByIdentity(ctx, []byte(miss)); !errors.Is(err, ErrNotFound) {
				t.Errorf("SubjectByIdentity(%q) = %q, %v; want ErrNotFound", miss, id, err)
			}
		}
		yes, guardian := true, "u-g"
		if err := s.UpdateSubject(ctx, "u-1", SubjectPatch{Restricted: &yes, GuardianID: &guardian}); !errors.Is(err, ErrConflict) {
			t.Errorf("guardian that does not exist: %v, want ErrConflict", err)
		}
		if err := s.CreateSubject(ctx, Subject{ID: "u-g"}); err != nil {
			t.Fatal(err)
		}
		if err := s.UpdateSubject(ctx, "u-1", SubjectPatch{Restricted: &yes, GuardianID: &guardian}); err != nil {
			t.Fatal(err)
		}
		sub, states, err := s.SubjectState(ctx, "u-1")
		if err != nil || !sub.Restricted || sub.GuardianID != "u-g" || len(states) != 0 {
			t.Errorf("SubjectState = %+v, %v, %v", sub, states, err)
		}
		if sub, states, err := s.SubjectState(ctx, "nobody"); !errors.Is(err, ErrNotFound) || sub.ID != "" || states != nil {
			t.Errorf("SubjectState of nobody = %+v, %v, %v; want ErrNotFound", sub, states, err)
		}
		if err := s.UpdateSubject(ctx, "nobody", SubjectPatch{Restricted: &yes}); !errors.Is(err, ErrNotFound) {
			t.Errorf("update unknown: %v", err)
		}
		if err := s.AddIdentities(ctx, "u-g", []Identity{{Kind: "device_id", Hash: []byte("h-dev")}}); err != nil {
			t.Fatal(err)
		}
		if id, _ := s.SubjectByIdentity(ctx, []byte("h-dev")); id != "u-g" {
			t.Errorf("added identity resolves to %q", id)
		}
	})
}

func consent(id, subject, purpose, action string, version int64) ConsentEvent {
	return ConsentEvent{ID: id, SubjectID: subject, Purpose: purpose, Action: action, VersionSeq: version,
		Method: "api", Language: "en", NoticeHash: "abc", Evidence: "{}", Actor: "test", At: time.Now()}
}

func TestConsentLedger(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.CreateSubject(ctx, Subject{ID: "u-1"}); err != nil {
			t.Fatal(err)
		}
		evs := []ConsentEvent{
			consent("e1", "u-1", "ads", ActionGrant, 1),
			consent("e2", "u-1", "ads", ActionWithdraw, 1),
			consent("e3", "u-1", "analytics", ActionGrant, 1),
		}
		evs[2].GuardianID, evs[2].Separate = "u-1", true
		if err := s.AppendConsents(ctx, evs, []audit.Entry{entry("consent.grant", "subject:u-1")}); err != nil {
			t.Fatal(err)
		}
		if err := s.AppendConsents(ctx, []ConsentEvent{consent("e4", "u-1", "ads", ActionGrant, 2)}, nil); err != nil {
			t.Fatal(err)
		}
		// Objections, acceptances and separate consents to acts share the ledger under their own keys.
		if err := s.AppendConsents(ctx, []ConsentEvent{
			consent("e5", "u-1", "objection:profiling", ActionObject, 2),
			consent("e6", "u-1", "objection:profiling", ActionOverride, 2),
			consent("e7", "u-1", "policy", ActionAccept, 3),
			consent("e8", "u-1", "recipient:partner", ActionGrant, 2),
		}, nil); err != nil {
			t.Fatal(err)
		}
		_, states, err := s.SubjectState(ctx, "u-1")
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]ConsentState{
			"ads":                 {Purpose: "ads", Action: ActionGrant, Granted: true, VersionSeq: 2, EventID: "e4"},
			"analytics":           {Purpose: "analytics", Action: ActionGrant, Granted: true, ByGuardian: true, VersionSeq: 1, EventID: "e3"},
			"objection:profiling": {Purpose: "objection:profiling", Action: ActionOverride, VersionSeq: 2, EventID: "e6"},
			"policy":              {Purpose: "policy", Action: ActionAccept, VersionSeq: 3, EventID: "e7"},
			"recipient:partner":   {Purpose: "recipient:partner", Action: ActionGrant, Granted: true, VersionSeq: 2, EventID: "e8"},
		}
		got := map[string]ConsentState{}
		for _, c := range states {
			got[c.Purpose] = c
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("state (-want +got):\n%s", diff)
		}
		page1, err := s.ConsentEvents(ctx, "u-1", 0, 2)
		if err != nil || len(page1) != 2 || page1[0].ID != "e1" || page1[1].ID != "e2" {
			t.Fatalf("page 1 = %+v, %v", page1, err)
		}
		page2, err := s.ConsentEvents(ctx, "u-1", page1[1].Seq, 2)
		if err != nil || len(page2) != 2 || page2[0].ID != "e3" || !page2[0].Separate || page2[0].GuardianID != "u-1" {
			t.Fatalf("page 2 = %+v, %v", page2, err)
		}
		if e, err := s.ConsentEvent(ctx, "u-1", "e2"); err != nil || e.Action != ActionWithdraw {
			t.Errorf("ConsentEvent = %+v, %v", e, err)
		}
		if _, err := s.ConsentEvent(ctx, "u-2", "e2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("event of another subject: %v", err)
		}
		if err := s.AppendConsents(ctx, []ConsentEvent{consent("e1", "u-1", "ads", ActionGrant, 2)}, nil); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate event id: %v", err)
		}
		for _, q := range []string{`UPDATE consent_events SET action = 'grant'`, `DELETE FROM consent_events`} {
			if err := execScoped(s, q); err == nil {
				t.Errorf("%s succeeded on the append-only ledger", q)
			}
		}
		if n := countRows(t, s, "consent_events"); n != 8 {
			t.Errorf("ledger has %d events, want 8", n)
		}
	})
}

// execScoped runs q as the store would: in a transaction scoped to the
// handle's organisation.
func execScoped(s *Store, q string, args ...any) error {
	return s.inTx(context.Background(), func(tx *sql.Tx) error {
		_, err := tx.ExecContext(context.Background(), s.q(q), args...)
		return err
	})
}

func countRows(t *testing.T, s *Store, table string) int {
	t.Helper()
	var n int
	if err := s.rd().QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGroupCommit drives many concurrent writers, with a bad write among
// them, and checks every good write landed, the bad one alone failed and
// the chain verifies.
func TestGroupCommit(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.CreateSubject(ctx, Subject{ID: "u-1"}); err != nil {
			t.Fatal(err)
		}
		const writers, each = 32, 20
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < each; i++ {
					subject := "u-1"
					if w == 7 && i == 3 {
						subject = "nobody" // foreign key violation
					}
					id := fmt.Sprintf("e-%d-%d", w, i)
					err := s.AppendConsents(ctx, []ConsentEvent{consent(id, subject, "ads", ActionGrant, 1)},
						[]audit.Entry{entry("consent.grant", "subject:"+subject)})
					if (subject == "nobody") != (err != nil) {
						errs <- fmt.Errorf("write %s: %v", id, err)
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n := countRows(t, s, "consent_events"); n != writers*each-1 {
			t.Errorf("ledger has %d events, want %d", n, writers*each-1)
		}
		rep, err := s.VerifyAudit(ctx, nil, nil)
		if err != nil || !rep.OK || rep.Entries != writers*each-1 {
			t.Errorf("verify = %+v, %v; want OK with %d entries", rep, err, writers*each-1)
		}
	})
}

func TestKeys(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		k := APIKey{ID: "k1", Name: "ci", Role: "service", Hash: []byte("hash-1"), CreatedAt: time.Now()}
		if err := s.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateKey(ctx, APIKey{ID: "k2", Name: "x", Role: "admin", Hash: []byte("hash-1"), CreatedAt: time.Now()}); !errors.Is(err, ErrConflict) {
			t.Errorf("duplicate hash: %v", err)
		}
		got, err := s.KeyByHash(ctx, []byte("hash-1"))
		if err != nil || got.ID != "k1" || got.Role != "service" || got.Revoked() {
			t.Fatalf("KeyByHash = %+v, %v", got, err)
		}
		if err := s.RevokeKey(ctx, "k1"); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.KeyByHash(ctx, []byte("hash-1")); !got.Revoked() {
			t.Error("key not revoked")
		}
		if err := s.RevokeKey(ctx, "k9"); !errors.Is(err, ErrNotFound) {
			t.Errorf("revoke unknown: %v", err)
		}
		keys, err := s.Keys(ctx)
		if err != nil || len(keys) != 1 {
			t.Errorf("Keys = %v, %v", keys, err)
		}
	})
}

func TestPublishPolicy(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.CurrentPolicy(ctx); !errors.Is(err, ErrNotFound) {
			t.Fatalf("CurrentPolicy on empty store: %v", err)
		}
		v1 := PolicyVersion{Version: "1.0", SHA256: "aa", Manifest: "m1", Diff: "{}"}
		got, created, err := s.PublishPolicy(ctx, v1, 0)
		if err != nil || !created || got.Seq != 1 {
			t.Fatalf("publish v1 = %+v, %v, %v", got, created, err)
		}
		if _, created, err := s.PublishPolicy(ctx, v1, 1); err != nil || created {
			t.Errorf("republish same = %v, %v; want existing", created, err)
		}
		if _, _, err := s.PublishPolicy(ctx, PolicyVersion{Version: "1.0", SHA256: "bb", Diff: "{}"}, 1); !errors.Is(err, ErrConflict) {
			t.Errorf("same label, other content: %v", err)
		}
		v2 := PolicyVersion{Version: "2.0", SHA256: "cc", Manifest: "m2", Material: true, Reconsent: []string{"ads"}, Diff: "{}"}
		if _, _, err := s.PublishPolicy(ctx, v2, 0); !errors.Is(err, ErrStalePublish) {
			t.Errorf("publish on a stale base: %v", err)
		}
		if _, _, err := s.PublishPolicy(ctx, v2, 1); err != nil {
			t.Fatal(err)
		}
		cur, err := s.CurrentPolicy(ctx)
		if err != nil || cur.Version != "2.0" || cur.Seq != 2 || !cur.Material || !cmp.Equal(cur.Reconsent, []string{"ads"}) {
			t.Errorf("CurrentPolicy = %+v, %v", cur, err)
		}
		all, err := s.PolicyVersions(ctx)
		if err != nil || len(all) != 2 {
			t.Errorf("PolicyVersions = %d, %v", len(all), err)
		}
	})
}

// TestSQLitePathWithURIDelimiters guards a real bug: a '#' or '?' in a
// database path must not cut the path short.
func TestSQLitePathWithURIDelimiters(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(context.Background(), filepath.Join(dir, "a?b.db")); err == nil {
		t.Error("a path with '?' was accepted")
	}
	path := filepath.Join(dir, "a#b%c.db")
	s := openFresh(t, path)
	if err := s.CheckSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
}

// BenchmarkSubjectState reads what a decision that misses the cache
// needs: a subject with five consents in force.
func BenchmarkSubjectState(b *testing.B) {
	benchBackends(b, func(b *testing.B, open func(b *testing.B) *Store) {
		s := open(b)
		ctx := context.Background()
		if err := s.CreateSubject(ctx, Subject{ID: "u-1"}); err != nil {
			b.Fatal(err)
		}
		var evs []ConsentEvent
		for i, p := range []string{"ads", "analytics", "push", "profiling", "policy"} {
			evs = append(evs, consent(fmt.Sprintf("e%d", i), "u-1", p, ActionGrant, 1))
		}
		if err := s.AppendConsents(ctx, evs, nil); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, states, err := s.SubjectState(ctx, "u-1"); err != nil || len(states) != 5 {
				b.Fatalf("SubjectState = %d states, %v", len(states), err)
			}
		}
	})
}
