package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/checkpoint"
)

// tamper runs stmts as someone with direct access to the database would:
// on SQLite with the append-only triggers dropped, on PostgreSQL as a
// superuser with every trigger off for the session.
func tamper(t *testing.T, s *Store, stmts []string) {
	t.Helper()
	ctx := context.Background()
	if s.dialect == Postgres {
		// The attacker holds the application's role, which owns the
		// tables: it can set its organisation and switch the append-only
		// triggers off for the length of its transaction.
		tables := []string{"audit_log", "consent_events", "consent_state"}
		var off, on []string
		for _, t := range tables {
			off = append(off, `ALTER TABLE `+t+` DISABLE TRIGGER USER`)
			on = append(on, `ALTER TABLE `+t+` ENABLE TRIGGER USER`)
		}
		stmts = append(append(append([]string{`SELECT set_config('custos.org', '` + s.org + `', true)`}, off...), stmts...), on...)
	} else {
		for _, trg := range []string{"audit_log_no_update", "audit_log_no_delete", "consent_events_no_update", "consent_events_no_delete", "consent_state_no_delete"} {
			stmts = append([]string{`DROP TRIGGER IF EXISTS ` + trg}, stmts...)
		}
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// tamperFixture writes what the tamper cases start from: three subjects'
// consents (each with the audit entry that records it, as the consent
// service writes them) and reads, in several commits. Ledger: e1 u-1
// analytics grant, e2 u-1 analytics withdraw, e3 u-2 analytics grant, e4
// u-2 ads grant, e5 u-3 analytics grant, e6 u-3 analytics withdraw. Trail:
// ten entries, the sixth and tenth reads.
func tamperFixture(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	for _, id := range []string{"u-1", "u-2", "u-3"} {
		if err := s.CreateSubject(ctx, Subject{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	recorded := func(evs ...ConsentEvent) {
		t.Helper()
		entries := make([]audit.Entry, len(evs))
		for i, e := range evs {
			entries[i] = entry("consent."+e.Action, "subject:"+e.SubjectID)
			entries[i].Detail = fmt.Sprintf(`{"event":%q}`, e.ID)
		}
		if err := s.AppendConsents(ctx, evs, entries); err != nil {
			t.Fatal(err)
		}
	}
	read := func(subject string) {
		t.Helper()
		if err := s.AppendAudit(ctx, entry("subject.read", "subject:"+subject)); err != nil {
			t.Fatal(err)
		}
	}
	recorded(consent("e1", "u-1", "analytics", ActionGrant, 1), consent("e2", "u-1", "analytics", ActionWithdraw, 1))
	recorded(consent("e3", "u-2", "analytics", ActionGrant, 1), consent("e4", "u-2", "ads", ActionGrant, 1))
	read("u-1")
	recorded(consent("e5", "u-3", "analytics", ActionGrant, 1))
	read("u-2")
	read("u-3")
	recorded(consent("e6", "u-3", "analytics", ActionWithdraw, 1))
	read("u-3")
}

// TestTamper changes the trail, the ledger and the current state behind
// the server's back, every way someone with the database in hand might,
// and requires verification (with the checkpoint taken before) to report
// each change, naming what was changed.
func TestTamper(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	signer, err := checkpoint.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{5}, 32)), "kid-test")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		sql   []string
		file  func(line []byte) []byte // changes the checkpoint file
		kinds []string                 // problem kinds verification must report, sorted
		names []string                 // what the problems' texts must name
		event string                   // a problem must carry this event id
	}{
		{name: "untouched"},

		// The audit trail.
		{name: "entry edited", sql: []string{`UPDATE audit_log SET outcome = 'denied' WHERE seq = 3`},
			kinds: []string{"edited"}, names: []string{"entry 3 does not match its hash"}},
		{name: "entry deleted", sql: []string{`DELETE FROM audit_log WHERE seq = 5`},
			kinds: []string{"broken_link", "gap"}, names: []string{"entry 5 is missing"}},
		{name: "entries swapped", sql: []string{
			`UPDATE audit_log SET seq = 100 WHERE seq = 4`,
			`UPDATE audit_log SET seq = 4 WHERE seq = 5`,
			`UPDATE audit_log SET seq = 5 WHERE seq = 100`,
		}, kinds: []string{"broken_link", "edited"}, names: []string{"entry 4 does not match its hash", "entry 5 does not link"}},
		{name: "entry inserted", sql: []string{
			`INSERT INTO audit_log (org_id, seq, at, actor, role, place, action, object, purpose, outcome, detail, prev_hash, hash)
			 SELECT org_id, 11, at, actor, role, place, 'subject.read', object, purpose, outcome, detail, hash, hash FROM audit_log WHERE seq = 10`,
			`UPDATE audit_head SET seq = 11, hash = (SELECT hash FROM audit_log WHERE seq = 11)`,
		}, kinds: []string{"edited"}, names: []string{"entry 11"}},
		{name: "tail cut, head kept", sql: []string{`DELETE FROM audit_log WHERE seq >= 9`},
			kinds: []string{"anchor_mismatch", "head_mismatch"}, names: []string{"the trail ends at entry 8"}},
		{name: "tail cut and head rewound", sql: []string{
			`DELETE FROM audit_log WHERE seq >= 9`,
			`UPDATE audit_head SET seq = 8, hash = (SELECT hash FROM audit_log WHERE seq = 8)`,
		}, kinds: []string{"anchor_mismatch"}, names: []string{"entry 10, recorded in the checkpoint on line 1", "is missing: the trail ends at entry 8"}},

		// The ledger and the state decisions read: the four changes that
		// turn a withdrawal into a grant, and more.
		{name: "withdrawal turned grant in the ledger", sql: []string{`UPDATE consent_events SET action = 'grant' WHERE id = 'e2'`},
			kinds: []string{"ledger_edited", "state_differs"}, event: "e2",
			names: []string{"ledger event 2 (e2) does not match its hash", "subject u-1's current state for analytics differs from the ledger's last event e2 (seq 2): action is withdraw, the ledger says grant"}},
		{name: "withdrawal turned grant in the state", sql: []string{`UPDATE consent_state SET action = 'grant', granted = 1 WHERE subject_id = 'u-1' AND purpose = 'analytics'`},
			kinds: []string{"state_differs"}, event: "e2",
			names: []string{"action is grant, the ledger says withdraw; granted is true, the ledger says false"}},
		{name: "withdrawal turned grant in both", sql: []string{
			`UPDATE consent_events SET action = 'grant' WHERE id = 'e2'`,
			`UPDATE consent_state SET action = 'grant', granted = 1 WHERE subject_id = 'u-1' AND purpose = 'analytics'`,
		}, kinds: []string{"ledger_edited"}, event: "e2", names: []string{"ledger event 2 (e2) does not match its hash"}},
		{name: "withdrawal deleted", sql: []string{`DELETE FROM consent_events WHERE id = 'e2'`},
			kinds: []string{"ledger_broken_link", "ledger_gap", "state_differs"}, event: "e1",
			names: []string{"ledger event 2 is missing", "event is e2, the ledger says e1"}},
		{name: "last withdrawal deleted, head rewound, state made to match", sql: []string{
			`DELETE FROM consent_events WHERE id = 'e6'`,
			`UPDATE ledger_head SET seq = 5, hash = (SELECT hash FROM consent_events WHERE id = 'e5')`,
			`UPDATE consent_state SET action = 'grant', granted = 1, event_id = 'e5' WHERE subject_id = 'u-3' AND purpose = 'analytics'`,
		}, kinds: []string{"ledger_anchor_mismatch"}, names: []string{"ledger event 6, recorded in the checkpoint on line 1", "the ledger ends at ledger event 5"}},
		{name: "events swapped", sql: []string{
			`UPDATE consent_events SET seq = 100 WHERE id = 'e3'`,
			`UPDATE consent_events SET seq = 3 WHERE id = 'e4'`,
			`UPDATE consent_events SET seq = 4 WHERE id = 'e3'`,
		}, kinds: []string{"ledger_broken_link", "ledger_edited"}, names: []string{"ledger event 3 (e4) does not match its hash"}},
		{name: "event forged at the end", sql: []string{
			`INSERT INTO consent_events (org_id, ` + consentCols + `, prev_hash, hash)
			 SELECT org_id, 7, 'e7', subject_id, 'ads', 'grant', version_seq, method, language, notice_hash, separate, guardian_id, signal, evidence, actor, at, hash, hash FROM consent_events WHERE id = 'e6'`,
			`UPDATE ledger_head SET seq = 7, hash = (SELECT hash FROM consent_events WHERE id = 'e7')`,
		}, kinds: []string{"ledger_edited", "state_missing"}, event: "e7", names: []string{"ledger event 7 (e7)", "subject u-3 has no current state for ads"}},
		{name: "chain start moved", sql: []string{`UPDATE ledger_head SET start_seq = 3`},
			kinds: []string{"ledger_broken_link"}, names: []string{"ledger event 4 (e4) does not link"}},
		{name: "state row deleted", sql: []string{`DELETE FROM consent_state WHERE subject_id = 'u-2' AND purpose = 'ads'`},
			kinds: []string{"state_missing"}, event: "e4", names: []string{"subject u-2 has no current state for ads, though the ledger's last event for it is e4 (seq 4, grant)"}},
		{name: "state row added", sql: []string{
			`INSERT INTO consent_state (org_id, subject_id, purpose, action, granted, by_guardian, version_seq, event_id) VALUES ('default', 'u-2', 'marketing', 'grant', 1, 0, 1, 'e9')`,
		}, kinds: []string{"state_extra"}, event: "e9", names: []string{"subject u-2 has a current state for marketing (grant, event e9) that no ledger event gave it"}},

		// The checkpoints.
		{name: "checkpoint altered", file: func(line []byte) []byte {
			c, err := checkpoint.Parse(line)
			if err != nil {
				t.Fatal(err)
			}
			c.Trail.Seq = 3
			return c.Marshal()
		}, kinds: []string{"checkpoint_signature"}, names: []string{"the checkpoint on line 1"}},
	}
	backends(t, func(t *testing.T, _ *Store) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				s := reopenKeyed(t, key)
				ctx := context.Background()
				tamperFixture(t, s)
				path := filepath.Join(t.TempDir(), "checkpoints.jsonl")
				w := &checkpoint.Writer{Heads: s, Signer: signer, Sink: &checkpoint.File{Path: path}, Instance: "test"}
				if _, err := w.Write(ctx); err != nil {
					t.Fatal(err)
				}
				if tt.file != nil {
					line, _ := os.ReadFile(path)
					os.WriteFile(path, append(tt.file(bytes.TrimSpace(line)), '\n'), 0o600)
				}
				if tt.sql != nil {
					tamper(t, s, tt.sql)
				}
				rep, err := audit.NewTrail(s).WithAnchors(checkpoint.FileAnchors(path, signer.Keys())).Verify(ctx, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				var kinds, texts []string
				events := map[string]bool{}
				for _, p := range rep.Problems {
					if !slices.Contains(kinds, p.Kind) {
						kinds = append(kinds, p.Kind)
					}
					texts = append(texts, p.Text)
					events[p.Event] = true
				}
				slices.Sort(kinds)
				if diff := cmp.Diff(tt.kinds, kinds); diff != "" {
					t.Errorf("problem kinds (-want +got):\n%s\n%s", diff, strings.Join(texts, "\n"))
				}
				for _, name := range tt.names {
					if !strings.Contains(strings.Join(texts, "\n"), name) {
						t.Errorf("no problem says %q:\n%s", name, strings.Join(texts, "\n"))
					}
				}
				if tt.event != "" && !events[tt.event] {
					t.Errorf("no problem names event %s: %+v", tt.event, rep.Problems)
				}
				if rep.OK != (len(tt.kinds) == 0) {
					t.Errorf("OK = %v with problems %v", rep.OK, kinds)
				}
				if tt.name == "untouched" {
					want := audit.LedgerReport{Events: 6, HeadSeq: 6, HeadHash: rep.Ledger.HeadHash, States: 4}
					if diff := cmp.Diff(want, rep.Ledger); diff != "" || rep.Entries != 10 || rep.Anchors != 2 {
						t.Errorf("untouched: %d entries, %d anchors, ledger (-want +got):\n%s", rep.Entries, rep.Anchors, diff)
					}
				}
			})
		}
	})
}
