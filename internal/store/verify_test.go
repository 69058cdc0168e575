package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/audit"
)

// checkpointFixture writes a trail and a ledger with a key rotation and
// many entries before a checkpoint, takes the checkpoint (the heads, as
// the server signs them), and writes 100 entries and two consent events
// after it: e7 (u-1 ads grant) and e8 (u-2 analytics withdraw). It returns
// the handle under the current key and the checkpoint's anchors.
func checkpointFixture(t *testing.T, s *Store, before int) (*Store, *audit.Anchors) {
	t.Helper()
	ctx := context.Background()
	old := []byte("audit-key-one-0123456789abcdef01")
	next := []byte("audit-key-two-0123456789abcdef01")
	s1 := s.WithChainKeys(old, nil)
	tamperFixture(t, s1)
	if _, err := s1.RotateKey(ctx, KeyRotation{AuditKey: next, Rehash: func(h []byte) []byte { return h }, Entry: entry("", "")}); err != nil {
		t.Fatal(err)
	}
	s2 := s.WithChainKeys(next, [][]byte{old})
	appendEntries(t, s2, before)
	trail, ledger, err := s2.Heads(ctx)
	if err != nil {
		t.Fatal(err)
	}
	anchors := &audit.Anchors{
		Trail:  []audit.Anchor{{Seq: trail.Seq, Hash: trail.Hash, From: "the checkpoint"}},
		Ledger: []audit.Anchor{{Seq: ledger.Seq, Hash: ledger.Hash, From: "the checkpoint"}},
	}
	appendEntries(t, s2, 100)
	if err := s2.Submit(ctx, &Write{Events: []ConsentEvent{
		consent("e7", "u-1", "ads", ActionGrant, 1), consent("e8", "u-2", "analytics", ActionWithdraw, 1),
	}}); err != nil {
		t.Fatal(err)
	}
	return s2, anchors
}

// appendEntries appends n entries in big batches, as a busy server does.
func appendEntries(t testing.TB, s *Store, n int) {
	t.Helper()
	for i := 0; i < n; i += 5000 {
		es := make([]audit.Entry, min(5000, n-i))
		for j := range es {
			es[j] = entry("subject.read", fmt.Sprintf("subject:u-%d", (i+j)%3+1))
		}
		if err := s.Submit(context.Background(), &Write{Audit: es}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVerifyAuditFrom: verification from a checkpoint reads only what was
// written after it (100 entries and 2 events of more than 10,000), through
// a key rotation before it, and finds every change after it; a change
// before it is, by design, not read there, and the full verification
// still finds it. Under the race detector, which is run for what runs
// concurrently rather than for sizes, the trail before the checkpoint is
// 1,000 entries: the 20 fixtures of 10,000 took 90 s there.
func TestVerifyAuditFrom(t *testing.T) {
	before := 10_000
	if raceEnabled {
		before = 1_000
	}
	tests := []struct {
		name string
		sql  func(anchor int64) []string
		// kinds are the problems verification from the checkpoint must
		// report, sorted; full those of the full verification.
		kinds, full []string
		names       []string // what the problems' texts must name
	}{
		{name: "untouched"},
		{name: "entry edited after", sql: func(a int64) []string {
			return []string{fmt.Sprintf(`UPDATE audit_log SET outcome = 'denied' WHERE seq = %d`, a+50)}
		}, kinds: []string{"edited"}, full: []string{"edited"}, names: []string{"does not match its hash"}},
		{name: "first entry after relinked", sql: func(a int64) []string {
			return []string{fmt.Sprintf(`UPDATE audit_log SET prev_hash = hash WHERE seq = %d`, a+1)}
		}, kinds: []string{"broken_link", "edited"}, full: []string{"broken_link", "edited"}, names: []string{"does not link"}},
		{name: "tail cut after, head kept", sql: func(a int64) []string {
			return []string{fmt.Sprintf(`DELETE FROM audit_log WHERE seq > %d`, a+90)}
		}, kinds: []string{"head_mismatch"}, full: []string{"head_mismatch"}, names: []string{"the recorded head of the trail"}},
		{name: "event edited after", sql: func(int64) []string {
			return []string{`UPDATE consent_events SET action = 'grant' WHERE id = 'e8'`}
		}, kinds: []string{"ledger_edited", "state_differs"}, full: []string{"ledger_edited", "state_differs"}, names: []string{"(e8) does not match its hash"}},
		{name: "state of a key touched after changed", sql: func(int64) []string {
			return []string{`UPDATE consent_state SET action = 'withdraw', granted = 0 WHERE subject_id = 'u-1' AND purpose = 'ads'`}
		}, kinds: []string{"state_differs"}, full: []string{"state_differs"}, names: []string{"subject u-1's current state for ads"}},
		{name: "state row of a key touched after deleted", sql: func(int64) []string {
			return []string{`DELETE FROM consent_state WHERE subject_id = 'u-2' AND purpose = 'analytics'`}
		}, kinds: []string{"state_missing"}, full: []string{"state_missing"}, names: []string{"subject u-2 has no current state for analytics"}},

		// Before the checkpoint: not read from it, by design.
		{name: "entry edited before", sql: func(int64) []string {
			return []string{`UPDATE audit_log SET outcome = 'denied' WHERE seq = 3`}
		}, full: []string{"edited"}},
		{name: "event edited before", sql: func(int64) []string {
			return []string{`UPDATE consent_events SET action = 'grant' WHERE id = 'e2'`}
		}, full: []string{"ledger_edited", "state_differs"}},
		{name: "state of a key untouched after changed", sql: func(int64) []string {
			return []string{`UPDATE consent_state SET action = 'grant', granted = 1 WHERE subject_id = 'u-3' AND purpose = 'analytics'`}
		}, full: []string{"state_differs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			backends(t, func(t *testing.T, s *Store) {
				ctx := context.Background()
				s, anchors := checkpointFixture(t, s, before)
				from := anchors.Trail[0].Seq
				if tt.sql != nil {
					tamper(t, s, tt.sql(from))
				}
				var read int64
				rep, err := s.VerifyAuditFrom(ctx, anchors, func(n int64) { read += n })
				if err != nil {
					t.Fatal(err)
				}
				if got := kindsOf(rep.Problems); !slices.Equal(got, tt.kinds) {
					t.Errorf("from the checkpoint: problems %v, want %v: %+v", got, tt.kinds, rep.Problems)
				}
				for _, name := range tt.names {
					if !slices.ContainsFunc(rep.Problems, func(p audit.Problem) bool { return strings.Contains(p.Text, name) }) {
						t.Errorf("no problem names %q: %+v", name, rep.Problems)
					}
				}
				if tt.sql == nil {
					// The cost: only what follows the checkpoint is read.
					if rep.Since != from || rep.Entries != 100 || rep.Ledger.Since != 6 || rep.Ledger.Events != 2 || rep.Ledger.States != 2 || read != 102 {
						t.Errorf("read since %d: %d entries, since %d: %d events, %d states, progress %d; want since %d: 100, since 6: 2, 2, 102",
							rep.Since, rep.Entries, rep.Ledger.Since, rep.Ledger.Events, rep.Ledger.States, read, from)
					}
					if !rep.OK || rep.HeadSeq != from+100 || rep.Ledger.HeadSeq != 8 || rep.Anchors != 2 {
						t.Errorf("report %+v", rep)
					}
				}
				full, err := s.VerifyAudit(ctx, anchors, nil)
				if err != nil {
					t.Fatal(err)
				}
				if got := kindsOf(full.Problems); !slices.Equal(got, tt.full) {
					t.Errorf("full: problems %v, want %v: %+v", got, tt.full, full.Problems)
				}
			})
		})
	}
}

// TestVerifyAuditFromKeys: the chain key at the checkpoint is the one its
// rotations lead to; a verification without the key the trail began under
// cannot vouch for them and says so, and without anchors it is the full
// verification.
func TestVerifyAuditFromKeys(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		s2, anchors := checkpointFixture(t, s, 10)
		if rep, err := s2.VerifyAuditFrom(ctx, nil, nil); err != nil || !rep.OK || rep.Since != 0 || rep.Entries != rep.HeadSeq {
			t.Errorf("without anchors: %+v, %v", rep, err)
		}
		rep, err := s.WithChainKeys(s2.auditKey, nil).VerifyAuditFrom(ctx, anchors, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := kindsOf(rep.Problems); !slices.Contains(got, "edited") || rep.OK {
			t.Errorf("without the first key: %+v", rep)
		}
	})
}

func kindsOf(ps []audit.Problem) []string {
	var out []string
	for _, p := range ps {
		if !slices.Contains(out, p.Kind) {
			out = append(out, p.Kind)
		}
	}
	slices.Sort(out)
	return out
}

// BenchmarkVerifyFrom verifies 100 entries written after a checkpoint on
// trails of growing length: the cost must not grow with them.
func BenchmarkVerifyFrom(b *testing.B) {
	for _, n := range []int{10_000, benchEntries()} {
		benchBackends(b, func(b *testing.B, open func(b *testing.B) *Store) {
			b.Run(fmt.Sprint(n), func(b *testing.B) {
				s := open(b)
				ctx := context.Background()
				seedTrail(b, s, n)
				trail, ledger, err := s.Heads(ctx)
				if err != nil {
					b.Fatal(err)
				}
				seedTrail(b, s, 100)
				anchors := &audit.Anchors{Trail: []audit.Anchor{{Seq: trail.Seq, Hash: trail.Hash}}, Ledger: []audit.Anchor{{Seq: ledger.Seq, Hash: ledger.Hash}}}
				b.ResetTimer()
				for b.Loop() {
					rep, err := s.VerifyAuditFrom(ctx, anchors, nil)
					if err != nil || !rep.OK || rep.Entries != 100 {
						b.Fatalf("verify = %+v, %v", rep, err)
					}
				}
			})
		})
	}
}
