package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestApprovalsContract: a batch action needs a second operator, is
// decided once, and is executed once, only after approval, on every backend.
func TestApprovalsContract(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
		mk := func(id string) Approval {
			a := Approval{ID: id, Kind: ApprovalBatchExport, Params: `{"subjects":["u-1"]}`, Reason: "audit", RequestedBy: "op_a", CreatedAt: now}
			if err := s.CreateApproval(ctx, a, entry("approval.request", "approval:"+id)); err != nil {
				t.Fatal(err)
			}
			return a
		}
		mk("ap_1")
		if err := s.ExecuteApproval(ctx, "ap_1", "op_a", "{}", now); !errors.Is(err, ErrApprovalState) {
			t.Errorf("execute before approval: %v, want ErrApprovalState", err)
		}
		if err := s.DecideApproval(ctx, "ap_1", "op_a", true, "", now); !errors.Is(err, ErrSelfApproval) {
			t.Errorf("self approval: %v, want ErrSelfApproval", err)
		}
		if err := s.DecideApproval(ctx, "ap_1", "op_b", true, "ok", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.DecideApproval(ctx, "ap_1", "op_c", false, "", now); !errors.Is(err, ErrApprovalState) {
			t.Errorf("second decision: %v, want ErrApprovalState", err)
		}
		if err := s.ExecuteApproval(ctx, "ap_1", "op_b", "{}", now); !errors.Is(err, ErrApprovalState) {
			t.Errorf("download by the approver: %v, want ErrApprovalState", err)
		}
		if err := s.ExecuteApproval(ctx, "ap_1", "op_a", `{"rows":1}`, now.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.ExecuteApproval(ctx, "ap_1", "op_a", "{}", now); !errors.Is(err, ErrApprovalState) {
			t.Errorf("second download: %v, want ErrApprovalState", err)
		}
		got, err := s.Approval(ctx, "ap_1")
		if err != nil {
			t.Fatal(err)
		}
		if got.State != ApprovalExecuted || got.DecidedBy != "op_b" || got.Result != `{"rows":1}` || !got.DecidedAt.Equal(now.Add(time.Minute)) || !got.ExecutedAt.Equal(now.Add(2*time.Minute)) {
			t.Errorf("approval after execution = %+v", got)
		}

		mk("ap_2")
		if err := s.DecideApproval(ctx, "ap_2", "op_b", false, "not needed", now); err != nil {
			t.Fatal(err)
		}
		if err := s.ExecuteApproval(ctx, "ap_2", "", "{}", now); !errors.Is(err, ErrApprovalState) {
			t.Errorf("execute a rejected approval: %v, want ErrApprovalState", err)
		}
		// The database itself refuses a self-decision, whatever the code does.
		err = execScoped(s, `UPDATE approvals SET decided_by = requested_by WHERE id = ?`, "ap_2")
		if !errors.Is(mapErr(err), ErrConflict) {
			t.Errorf("direct self-decision: %v, want a constraint violation", err)
		}
		if err := s.DecideApproval(ctx, "ap_x", "op_b", true, "", now); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown approval: %v, want ErrNotFound", err)
		}
		list, err := s.Approvals(ctx, 10)
		if err != nil || len(list) != 2 || list[0].ID != "ap_2" {
			t.Errorf("approvals = %+v, %v", list, err)
		}
		counts := map[string]int64{}
		for _, a := range list {
			counts[a.State]++
		}
		for _, state := range []string{"pending", "approved", "rejected", "executed"} {
			if n, err := s.CountApprovals(ctx, state); err != nil || n != counts[state] {
				t.Errorf("CountApprovals(%s) = %d, %v; want %d", state, n, err, counts[state])
			}
		}
	})
}

// TestApprovalPasswordSetBy: an operator whose password the requester set
// (directly or through accounts whose passwords each set the next), or
// who set the requester's, cannot decide on the request; one who changed
// their password themselves can.
func TestApprovalPasswordSetBy(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
		for _, o := range []Operator{
			{ID: "op_admin", Username: "admin", PasswordSetBy: "cli"},
			{ID: "op_puppet", Username: "puppet", PasswordSetBy: "admin"},
			{ID: "op_chain", Username: "chain", PasswordSetBy: "puppet"},
			{ID: "op_own", Username: "own", PasswordSetBy: "own"},
			{ID: "op_made", Username: "made", PasswordSetBy: "admin"},
		} {
			o.DisplayName, o.Role, o.PasswordHash, o.CreatedAt, o.UpdatedAt = o.Username, "admin", "$argon2id$x", now, now
			if err := s.CreateOperator(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		mk := func(id, by string) {
			if err := s.CreateApproval(ctx, Approval{ID: id, Kind: ApprovalBatchDestruction, Params: `{}`, Reason: "r", RequestedBy: by, CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		mk("ap_1", "op_admin")
		for _, decider := range []string{"op_puppet", "op_chain"} {
			if err := s.DecideApproval(ctx, "ap_1", decider, true, "", now); !errors.Is(err, ErrPasswordSetByRequester) {
				t.Errorf("decision by %s, whose password the requester set: %v, want ErrPasswordSetByRequester", decider, err)
			}
		}
		mk("ap_2", "op_made")
		if err := s.DecideApproval(ctx, "ap_2", "op_admin", true, "", now); !errors.Is(err, ErrPasswordSetByRequester) {
			t.Errorf("decision by the admin who set the requester's password: %v, want ErrPasswordSetByRequester", err)
		}
		if err := s.DecideApproval(ctx, "ap_1", "op_own", true, "", now); err != nil {
			t.Errorf("decision by an operator who set their own password: %v", err)
		}
		if err := s.SetOperatorPassword(ctx, "op_puppet", "$argon2id$y", "puppet", now); err != nil {
			t.Fatal(err)
		}
		mk("ap_3", "op_admin")
		if err := s.DecideApproval(ctx, "ap_3", "op_puppet", false, "", now); err != nil {
			t.Errorf("decision once the password is the decider's own: %v", err)
		}
	})
}

// TestApprovalRun: exports expire; a destruction's run is claimed by one
// run at a time, records progress, and is resumable once released.
func TestApprovalRun(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)
		s.CreateApproval(ctx, Approval{ID: "ap_x", Kind: ApprovalBatchExport, Params: `{}`, Reason: "r", RequestedBy: "op_a", CreatedAt: now})
		if err := s.DecideApproval(ctx, "ap_x", "op_b", true, "", now); err != nil {
			t.Fatal(err)
		}
		if err := s.ExecuteApproval(ctx, "ap_x", "op_a", "{}", now.Add(ExportValidity)); !errors.Is(err, ErrApprovalExpired) {
			t.Errorf("download after %v: %v, want ErrApprovalExpired", ExportValidity, err)
		}
		if a, _ := s.Approval(ctx, "ap_x"); !a.Expired(now.Add(ExportValidity)) || a.Expired(now.Add(ExportValidity-time.Second)) {
			t.Errorf("Expired wrong around the limit")
		}
		if err := s.ExecuteApproval(ctx, "ap_x", "op_a", "{}", now.Add(ExportValidity-time.Second)); err != nil {
			t.Errorf("download within the window: %v", err)
		}

		s.CreateApproval(ctx, Approval{ID: "ap_d", Kind: ApprovalBatchDestruction, Params: `{}`, Reason: "r", RequestedBy: "op_a", CreatedAt: now})
		if err := s.ClaimApproval(ctx, "ap_d", now, now.Add(time.Hour)); !errors.Is(err, ErrApprovalState) {
			t.Errorf("claim before approval: %v", err)
		}
		s.DecideApproval(ctx, "ap_d", "op_b", true, "", now)
		if err := s.ClaimApproval(ctx, "ap_d", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.ClaimApproval(ctx, "ap_d", now.Add(time.Minute), now.Add(time.Hour)); !errors.Is(err, ErrApprovalState) {
			t.Errorf("second claim while the first runs: %v", err)
		}
		if err := s.RecordApprovalProgress(ctx, "ap_d", `[{"subject":"u-1"}]`); err != nil {
			t.Fatal(err)
		}
		if err := s.ReleaseApproval(ctx, "ap_d"); err != nil {
			t.Fatal(err)
		}
		a, _ := s.Approval(ctx, "ap_d")
		if a.State != ApprovalApproved || a.Result != `[{"subject":"u-1"}]` || !a.LeaseUntil.IsZero() {
			t.Errorf("after progress and release: %+v", a)
		}
		if err := s.ClaimApproval(ctx, "ap_d", now.Add(time.Minute), now.Add(time.Hour)); err != nil {
			t.Errorf("resume after release: %v", err)
		}
		if err := s.ExecuteApproval(ctx, "ap_d", "", `[]`, now); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordApprovalProgress(ctx, "ap_d", `[]`); !errors.Is(err, ErrApprovalState) {
			t.Errorf("progress after execution: %v", err)
		}
	})
}

// TestStreamLedgerEvents: a period's ledger is counted, then streamed up
// to the counted sequence number, so events recorded meanwhile are left
// out and the count matches what is written.
func TestStreamLedgerEvents(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.CreateSubject(ctx, Subject{ID: "u-1"}); err != nil {
			t.Fatal(err)
		}
		from := time.Now().Add(-time.Hour)
		to := time.Now().Add(time.Hour)
		if err := s.AppendConsents(ctx, []ConsentEvent{consent("e1", "u-1", "ads", ActionGrant, 1), consent("e2", "u-1", "ads", ActionWithdraw, 1)}, nil); err != nil {
			t.Fatal(err)
		}
		n, last, err := s.LedgerCount(ctx, from, to)
		if err != nil || n != 2 {
			t.Fatalf("count = %d, %v; want 2", n, err)
		}
		if err := s.AppendConsents(ctx, []ConsentEvent{consent("e3", "u-1", "ads", ActionGrant, 1)}, nil); err != nil {
			t.Fatal(err)
		}
		var ids []string
		err = s.StreamLedgerEvents(ctx, from, to, last, func(e ConsentEvent) error { ids = append(ids, e.ID); return nil })
		if err != nil || len(ids) != 2 || ids[0] != "e1" || ids[1] != "e2" {
			t.Errorf("streamed %v, %v; want [e1 e2]", ids, err)
		}
		stop := errors.New("stop")
		if err := s.StreamLedgerEvents(ctx, from, to, last+10, func(ConsentEvent) error { return stop }); !errors.Is(err, stop) {
			t.Errorf("a callback's error: %v", err)
		}
	})
}
