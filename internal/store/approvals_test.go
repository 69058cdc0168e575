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
		_, err = s.w.ExecContext(ctx, s.q(`UPDATE approvals SET decided_by = requested_by WHERE id = ?`), "ap_2")
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
	})
}
