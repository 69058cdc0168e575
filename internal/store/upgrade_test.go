package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// TestUpgradeToOrganisations: a database written by the build before
// organisations (schema 9) migrates with everything in it belonging to
// the default organisation: its chains still verify and go on from where
// they were, its ids resolve, and an organisation created afterwards
// starts empty.
func TestUpgradeToOrganisations(t *testing.T) {
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
		migrateTo(t, s, 9)

		// What the writer of schema 9 wrote, chains included.
		at := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := s.w.ExecContext(ctx, s.q(q), args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`INSERT INTO subjects (id, restricted, created_at, updated_at, guardian_id) VALUES ('g-1', 0, 1, 1, NULL), ('u-1', 0, 1, 1, 'g-1')`)
		exec(`INSERT INTO identities (hash, kind, subject_id, sealed, created_at) VALUES (?, 'email', 'u-1', ?, 1)`, []byte("h-1"), []byte("sealed"))
		exec(`INSERT INTO policy_versions (seq, version, sha256, manifest, published_at, material, reconsent, diff, effective_at) VALUES (1, '1.0', 'sha', 'm', 1, 0, '[]', '{}', 1)`)
		var prev []byte = ledgerStart(key, 0)
		for i, ev := range []ConsentEvent{
			consent("e1", "u-1", "analytics", ActionGrant, 1),
			consent("e2", "u-1", "analytics", ActionWithdraw, 1),
		} {
			ev.Seq, ev.At, ev.Prev = int64(i+1), at.Add(time.Duration(i)*time.Minute), prev
			ev.Hash = ledgerSum(key, prev, &ev)
			exec(`INSERT INTO consent_events (`+consentCols+`, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				ev.Seq, ev.ID, ev.SubjectID, ev.Purpose, ev.Action, ev.VersionSeq, ev.Method, ev.Language, ev.NoticeHash, 0, nil, ev.Signal, ev.Evidence, ev.Actor, micros(ev.At), ev.Prev, ev.Hash)
			prev = ev.Hash
		}
		exec(`INSERT INTO consent_state (subject_id, purpose, action, granted, by_guardian, version_seq, event_id) VALUES ('u-1', 'analytics', 'withdraw', 0, 0, 1, 'e2')`)
		exec(`UPDATE ledger_head SET seq = 2, hash = ?, key_id = ? WHERE id = 1`, prev, audit.KeyID(key))
		c := audit.Chain{Key: key}
		for i := range 3 {
			e := entry("subject.create", fmt.Sprintf("subject:old-%d", i))
			e.At = at
			c.Link(&e)
			exec(`INSERT INTO audit_log (seq, at, actor, role, place, action, object, purpose, outcome, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				e.Seq, micros(e.At), e.Actor, e.Role, e.Place, e.Action, e.Object, e.Purpose, e.Outcome, e.Detail, e.Prev, e.Hash)
		}
		exec(`UPDATE audit_head SET seq = ?, hash = ?, key_id = ? WHERE id = 1`, c.Seq, c.Hash, audit.KeyID(key))
		r := request("rq_old", "u-1", "verified")
		exec(`INSERT INTO requests (`+requestCols+`) VALUES `+values(1, 25), requestArgs(&r)...)
		exec(`INSERT INTO operators (id, username, display_name, role, password_hash, created_at, updated_at) VALUES ('op_old', 'admin', 'Admin', 'admin', 'x', 1, 1)`)
		exec(`INSERT INTO api_keys (id, name, role, hash, created_at) VALUES ('key_old', 'k', 'admin', ?, 1)`, []byte("keyhash"))
		exec(`INSERT INTO vault_values (subject_id, field, sealed, token, updated_at) VALUES ('u-1', 'phone', ?, 'tok', 1)`, []byte("v"))

		done, err := s.Migrate(ctx)
		if err != nil || len(done) == 0 || done[0].Version != 10 {
			t.Fatalf("Migrate = %v, %v; want 0010 applied", done, err)
		}
		if s.Org() != DefaultOrg {
			t.Fatalf("a store opens on %q", s.Org())
		}
		rep, err := s.VerifyAudit(ctx, nil, nil)
		if err != nil || !rep.OK || rep.Entries != 3 || rep.Ledger.Events != 2 || rep.Ledger.States != 1 {
			t.Fatalf("after migrating: %+v, %v", rep, err)
		}
		if sub, err := s.Subject(ctx, "u-1"); err != nil || sub.GuardianID != "g-1" || len(sub.Identities) != 1 {
			t.Errorf("subject = %+v, %v", sub, err)
		}
		if id, err := s.SubjectByIdentity(ctx, []byte("h-1")); err != nil || id != "u-1" {
			t.Errorf("by identity = %q, %v", id, err)
		}
		if _, err := s.PolicyVersion(ctx, "1.0"); err != nil {
			t.Errorf("policy version: %v", err)
		}
		if _, err := s.Request(ctx, "rq_old"); err != nil {
			t.Errorf("request: %v", err)
		}
		if _, err := s.OperatorByUsername(ctx, "admin"); err != nil {
			t.Errorf("operator: %v", err)
		}
		if _, err := s.KeyByHash(ctx, []byte("keyhash")); err != nil {
			t.Errorf("API key: %v", err)
		}
		if _, err := s.VaultValue(ctx, "u-1", "phone"); err != nil {
			t.Errorf("vault: %v", err)
		}

		// Both chains go on from where they were.
		if err := s.AppendConsents(ctx, []ConsentEvent{consent("e3", "u-1", "analytics", ActionGrant, 1)},
			[]audit.Entry{entry("consent.grant", "subject:u-1")}); err != nil {
			t.Fatal(err)
		}
		trail, ledger, err := s.Heads(ctx)
		if err != nil || trail.Seq != 4 || ledger.Seq != 3 {
			t.Errorf("heads after a write = %d, %d, %v; want 4, 3", trail.Seq, ledger.Seq, err)
		}
		if rep, err := s.VerifyAudit(ctx, nil, nil); err != nil || !rep.OK {
			t.Errorf("after a write: %+v, %v", rep.Problems, err)
		}

		// A new organisation starts empty, and its ids may repeat ours.
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "Acme"}); err != nil {
			t.Fatal(err)
		}
		acme := s.ForOrg("acme")
		if _, err := acme.Subject(ctx, "u-1"); err == nil {
			t.Error("the new organisation sees the default one's subject")
		}
		if err := acme.CreateSubject(ctx, Subject{ID: "u-1", Identities: []Identity{{Kind: "email", Hash: []byte("h-1")}}}); err != nil {
			t.Errorf("the same subject id and identity in another organisation: %v", err)
		}
		if trail, ledger, err := acme.Heads(ctx); err != nil || trail.Seq != 0 || ledger.Seq != 0 {
			t.Errorf("the new organisation's heads = %d, %d, %v; want 0, 0", trail.Seq, ledger.Seq, err)
		}
	})
}
