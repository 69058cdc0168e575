package audit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

// TestTrailCut: the trail is cut at the last signed checkpoint older than
// the cutoff, only at one that matches the trail, never without
// checkpoints, and a second cut finds nothing more to do; what is kept
// verifies from the start against the checkpoints.
func TestTrailCut(t *testing.T) {
	storetest.Backends(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := storetest.Open(t, dsn, store.Options{AuditKey: trailKey})
		now := time.Now().UTC().Truncate(time.Microsecond)
		old := now.AddDate(-4, 0, 0)
		for i := range 10 {
			at := now
			if i < 6 {
				at = old.Add(time.Duration(i) * time.Second) // entries 1–6
			}
			e := audit.Entry{At: at, Actor: "test", Role: "admin", Place: "test", Action: "test.step", Object: "test:1", Outcome: audit.OutcomeOK, Detail: "{}"}
			if err := st.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		es, err := st.AuditEntries(ctx, audit.Filter{})
		if err != nil || len(es) != 10 {
			t.Fatalf("entries: %d, %v", len(es), err)
		}
		checkpoint := func(seq int64) audit.Anchor {
			return audit.Anchor{Seq: seq, Hash: es[seq-1].Hash, From: "test"}
		}
		with := func(as ...audit.Anchor) *audit.Trail {
			return audit.NewTrail(st).WithAnchors(func(context.Context) (audit.Anchors, []audit.Problem, error) {
				return audit.Anchors{Trail: as}, nil, nil
			})
		}
		cutoff := now.AddDate(-3, 0, 0)
		by := audit.System("test")

		if _, err := audit.NewTrail(st).Cut(ctx, by, cutoff, now); !errors.Is(err, audit.ErrNoCheckpoints) {
			t.Errorf("without checkpoints: %v, want ErrNoCheckpoints", err)
		}
		forged := checkpoint(4)
		forged.Hash = es[2].Hash
		if _, err := with(checkpoint(2), forged, checkpoint(8)).Cut(ctx, by, cutoff, now); !errors.Is(err, audit.ErrCheckpointMismatch) {
			t.Errorf("at a checkpoint the trail does not match: %v, want ErrCheckpointMismatch", err)
		}
		if _, ok, _ := st.AuditStart(ctx); ok {
			t.Fatal("a refused cut recorded a start")
		}

		tr := with(checkpoint(2), checkpoint(4), checkpoint(8))
		got, err := tr.Cut(ctx, by, cutoff, now)
		if err != nil || got != (audit.Cut{Start: 4, Deleted: 3}) {
			t.Fatalf("cut = %+v, %v; want start 4, 3 deleted (2, 3, 4)", got, err)
		}
		if got, err := tr.Cut(ctx, by, cutoff, now); err != nil || got != (audit.Cut{Start: 4}) {
			t.Errorf("again = %+v, %v; want start 4, nothing deleted", got, err)
		}
		rep, err := tr.Verify(ctx, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		// 5–10 and the one audit.cut entry.
		if !rep.OK || rep.Since != 4 || rep.Entries != 7 {
			t.Errorf("verification after the cut: ok %v since %d entries %d: %+v", rep.OK, rep.Since, rep.Entries, rep.Problems)
		}
		kept, _ := st.AuditEntries(ctx, audit.Filter{})
		if kept[0].Seq != 1 || kept[len(kept)-1].Action != audit.ActionCut {
			t.Errorf("kept: first %d, last %s", kept[0].Seq, kept[len(kept)-1].Action)
		}
	})
}
