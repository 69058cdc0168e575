package store

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// TestCutAudit: a trail cut at one of its entries keeps its first entry
// and everything after the cut, verifies from there (against the signed
// checkpoints when given, which must include the start), goes batch by
// batch, refuses a start it does not pass through, and still refuses to
// lose any other entry.
func TestCutAudit(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "Acme"}); err != nil {
			t.Fatal(err)
		}
		acme := s.ForOrg("acme")
		for i := 0; i < 10; i++ {
			for _, st := range []*Store{s, acme} {
				if err := st.AppendAudit(ctx, entry("subject.update", "subject:s1")); err != nil {
					t.Fatal(err)
				}
			}
		}
		entries, err := s.AuditEntries(ctx, audit.Filter{Limit: 100})
		if err != nil || len(entries) != 10 {
			t.Fatalf("entries = %d, %v", len(entries), err)
		}
		at := func(seq int64) audit.Chain { return audit.Chain{Seq: seq, Hash: entries[seq-1].Hash} }
		if _, ok, err := s.AuditStart(ctx); ok || err != nil {
			t.Fatalf("start before any cut: %v, %v", ok, err)
		}

		// A start the trail does not pass through cuts nothing.
		wrong := audit.Chain{Seq: 5, Hash: entries[3].Hash}
		if _, err := s.CutAudit(ctx, wrong, 2, time.Now(), nil); !errors.Is(err, ErrNotOnTrail) {
			t.Fatalf("cut at a hash not on the trail: %v", err)
		}

		cutEntry := func(n int64) audit.Entry { return entry("audit.cut", "audit") }
		var got []int64
		for {
			n, err := s.CutAudit(ctx, at(5), 2, time.Now(), cutEntry)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, n)
			if n < 2 {
				break
			}
		}
		if !slices.Equal(got, []int64{2, 2, 0}) {
			t.Errorf("batches = %v, want [2 2 0]", got)
		}
		if start, ok, err := s.AuditStart(ctx); !ok || err != nil || start.Seq != 5 {
			t.Errorf("start = %+v, %v, %v", start, ok, err)
		}
		kept, err := s.AuditEntries(ctx, audit.Filter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, e := range kept {
			seqs = append(seqs, e.Seq)
		}
		// 1 and 6..10 stay; 11 and 12 record the two batches.
		if want := []int64{1, 6, 7, 8, 9, 10, 11, 12}; !slices.Equal(seqs, want) {
			t.Errorf("kept = %v, want %v", seqs, want)
		}

		// An earlier start moves nothing back.
		if n, err := s.CutAudit(ctx, at(3), 2, time.Now(), cutEntry); err != nil || n != 0 {
			t.Errorf("cut at an earlier entry: %d, %v", n, err)
		}

		for _, tc := range []struct {
			name    string
			anchors *audit.Anchors
			ok      bool
			kind    string
		}{
			{"without checkpoints", nil, true, ""},
			{"the start is a checkpoint", &audit.Anchors{Trail: []audit.Anchor{{Seq: 5, Hash: entries[4].Hash}}}, true, ""},
			{"the start is no checkpoint", &audit.Anchors{Trail: []audit.Anchor{{Seq: 8, Hash: entries[7].Hash}}}, false, "start_unanchored"},
		} {
			rep, err := s.VerifyAudit(ctx, tc.anchors, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK != tc.ok || rep.Since != 5 || rep.Entries != 7 {
				t.Errorf("%s: ok %v since %d entries %d, want ok %v since 5 entries 7: %+v", tc.name, rep.OK, rep.Since, rep.Entries, tc.ok, rep.Problems)
			}
			if tc.kind != "" && (len(rep.Problems) != 1 || rep.Problems[0].Kind != tc.kind) {
				t.Errorf("%s: problems = %+v, want one %s", tc.name, rep.Problems, tc.kind)
			}
		}
		if rep, err := acme.VerifyAudit(ctx, nil, nil); err != nil || !rep.OK || rep.Entries != 10 || rep.Since != 0 {
			t.Errorf("acme's trail = %+v, %v", rep, err)
		}

		// Nothing else may go: the first entry, an entry after the start,
		// another organisation's entry before its (unset) start.
		for _, tc := range []struct {
			st  *Store
			seq int64
		}{{s, 1}, {s, 7}, {acme, 2}} {
			err := tc.st.Submit(ctx, &Write{Fn: func(ctx context.Context, tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, tc.st.q(`DELETE FROM audit_log WHERE org_id = ? AND seq = ?`), tc.st.org, tc.seq)
				return err
			}})
			if err == nil {
				t.Errorf("%s: deleting entry %d was allowed", tc.st.org, tc.seq)
			}
		}
	})
}
