package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestLegalHoldsContract: holds are stored as placed, listed active or
// all, by subject, and lifted once, only through an approved lift, on
// every backend.
func TestLegalHoldsContract(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
		from, to := now.AddDate(-1, 0, 0), now.AddDate(0, -1, 0)
		holds := []LegalHold{
			{ID: "hl_subject", SubjectID: "u-1", Reason: "litigation", Authority: "case 1", Basis: "court_order", PlacedBy: "op_a", PlacedAt: now},
			{ID: "hl_store", Datastore: "crm", Collection: "orders", Category: "basic", From: from, To: to, Reason: "audit", Authority: "tax office",
				PlacedBy: "op_a", PlacedAt: now.Add(time.Minute), Expires: now.Add(24 * time.Hour)},
			{ID: "hl_other", SubjectID: "u-2", Reason: "dispute", Authority: "case 2", PlacedBy: "op_a", PlacedAt: now.Add(2 * time.Minute)},
			{ID: "hl_expired", SubjectID: "u-1", Reason: "old", Authority: "case 0", PlacedBy: "op_a", PlacedAt: now.Add(-time.Hour), Expires: now.Add(-time.Minute)},
		}
		for _, h := range holds {
			if err := s.CreateLegalHold(ctx, h, entry("hold.place", "hold:"+h.ID)); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CreateLegalHold(ctx, holds[0]); !errors.Is(err, ErrConflict) {
			t.Errorf("a taken id: %v, want ErrConflict", err)
		}
		got, err := s.LegalHold(ctx, "hl_store")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(holds[1], got); diff != "" {
			t.Errorf("hold read back (-want +got):\n%s", diff)
		}
		if _, err := s.LegalHold(ctx, "hl_none"); !errors.Is(err, ErrNotFound) {
			t.Errorf("an unknown hold: %v, want ErrNotFound", err)
		}
		ids := func(f HoldFilter) []string {
			t.Helper()
			hs, err := s.LegalHolds(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, h := range hs {
				out = append(out, h.ID)
			}
			return out
		}
		for _, c := range []struct {
			name string
			f    HoldFilter
			want []string
		}{
			{"all", HoldFilter{}, []string{"hl_other", "hl_store", "hl_subject", "hl_expired"}},
			{"active", HoldFilter{ActiveAt: now}, []string{"hl_other", "hl_store", "hl_subject"}},
			{"active later", HoldFilter{ActiveAt: now.Add(48 * time.Hour)}, []string{"hl_other", "hl_subject"}},
			{"subject", HoldFilter{ActiveAt: now, Subject: "u-1"}, []string{"hl_store", "hl_subject"}},
			{"limit", HoldFilter{Limit: 1}, []string{"hl_other"}},
		} {
			if diff := cmp.Diff(c.want, ids(c.f)); diff != "" {
				t.Errorf("%s (-want +got):\n%s", c.name, diff)
			}
		}

		// Lifting goes with an approved lift, in its decision.
		if err := s.CreateApproval(ctx, Approval{ID: "ap_lift", Kind: ApprovalHoldLift, Params: `{"hold":"hl_subject"}`, Reason: "case closed", RequestedBy: "op_a", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		lift := []TxFn{s.LiftLegalHoldFn("hl_subject", "ap_lift", "op_b", now.Add(time.Hour))}
		if err := s.DecideApprovalThen(ctx, "ap_lift", "op_a", true, "", now, lift); !errors.Is(err, ErrSelfApproval) {
			t.Errorf("lift decided by its requester: %v, want ErrSelfApproval", err)
		}
		if err := s.DecideApprovalThen(ctx, "ap_lift", "op_b", true, "", now.Add(time.Hour), lift); err != nil {
			t.Fatal(err)
		}
		got, err = s.LegalHold(ctx, "hl_subject")
		if err != nil {
			t.Fatal(err)
		}
		if !got.LiftedAt.Equal(now.Add(time.Hour)) || got.LiftedBy != "op_b" {
			t.Errorf("lifted hold = %+v", got)
		}
		ap, err := s.Approval(ctx, "ap_lift")
		if err != nil {
			t.Fatal(err)
		}
		if ap.State != ApprovalExecuted || ap.DecidedBy != "op_b" || ap.Result != `{"hold":"hl_subject"}` {
			t.Errorf("lift approval = %+v", ap)
		}
		if diff := cmp.Diff([]string{"hl_store"}, ids(HoldFilter{ActiveAt: now.Add(2 * time.Hour), Subject: "u-1"})); diff != "" {
			t.Errorf("active for u-1 after the lift (-want +got):\n%s", diff)
		}

		// A second lift of the same hold fails whole: the approval stays pending.
		if err := s.CreateApproval(ctx, Approval{ID: "ap_again", Kind: ApprovalHoldLift, Params: `{"hold":"hl_subject"}`, Reason: "again", RequestedBy: "op_a", CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		err = s.DecideApprovalThen(ctx, "ap_again", "op_b", true, "", now, []TxFn{s.LiftLegalHoldFn("hl_subject", "ap_again", "op_b", now)})
		if !errors.Is(err, ErrApprovalState) {
			t.Errorf("lifting a lifted hold: %v, want ErrApprovalState", err)
		}
		if ap, err := s.Approval(ctx, "ap_again"); err != nil || ap.State != ApprovalPending {
			t.Errorf("approval after a failed lift = %+v, %v; want pending", ap, err)
		}
	})
}
