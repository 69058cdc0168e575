package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestTransmissionsContract: a transmission is recorded with its request,
// found when due, rescheduled while pending, loses its sealed export once
// settled and is never moved again; an erasure gives up a pending one and
// the request's expiry takes it with the request.
func TestTransmissionsContract(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		if err := s.CreateSubject(ctx, Subject{ID: "u-1"}); err != nil {
			t.Fatal(err)
		}
		r := request("rq_1", "u-1", "completed")
		tx := func(id string) Transmission {
			return Transmission{ID: id, RequestID: r.ID, SubjectID: "u-1", Recipient: "Acme", Host: "acme.example", Sealed: []byte("sealed " + id),
				State: "pending", NextAt: now, CreatedAt: now, UpdatedAt: now}
		}
		if err := s.CreateRequest(ctx, r, RequestEvent{RequestID: r.ID, At: now, Actor: "t", To: r.State},
			[]TxFn{s.PutTransmissionFn(tx("tm_1")), s.PutTransmissionFn(tx("tm_2"))}); err != nil {
			t.Fatal(err)
		}
		due, err := s.DueTransmissions(ctx, now, 10)
		if err != nil || len(due) != 2 {
			t.Fatalf("due = %+v, %v", due, err)
		}
		if d := cmp.Diff(tx("tm_1"), due[0]); d != "" {
			t.Errorf("read back (-want +got):\n%s", d)
		}
		retry := TransmissionMark{ID: "tm_1", State: "pending", Attempts: 1, NextAt: now.Add(time.Hour), LastStatus: 503, LastError: "receiver replied 503", At: now}
		if err := s.MarkTransmission(ctx, retry); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.DueTransmissions(ctx, now, 10); len(due) != 1 || due[0].ID != "tm_2" {
			t.Errorf("after a retry was scheduled, due = %+v", due)
		}
		done := TransmissionMark{ID: "tm_1", State: "delivered", Attempts: 2, NextAt: now, LastStatus: 200, At: now}
		if err := s.Submit(ctx, &Write{Fn: s.MarkTransmissionFn(done)}); err != nil {
			t.Fatal(err)
		}
		if err := s.Submit(ctx, &Write{Fn: s.MarkTransmissionFn(TransmissionMark{ID: "tm_1", State: "failed", At: now})}); !errors.Is(err, ErrSettled) {
			t.Errorf("moving a settled transmission: %v, want ErrSettled", err)
		}
		all, err := s.Transmissions(ctx, r.ID)
		if err != nil || len(all) != 2 {
			t.Fatalf("transmissions = %+v, %v", all, err)
		}
		if got := all[0]; got.State != "delivered" || got.Attempts != 2 || got.LastStatus != 200 || got.Sealed != nil {
			t.Errorf("delivered = %+v, want delivered after 2 attempts, its export gone", got)
		}
		if err := s.Submit(ctx, &Write{Fn: s.EraseSubjectFn("u-1", noShred)}); err != nil {
			t.Fatal(err)
		}
		all, _ = s.Transmissions(ctx, r.ID)
		if got := all[1]; got.State != "failed" || got.Sealed != nil {
			t.Errorf("pending transmission after an erasure = %+v, want failed without its export", got)
		}
		n, err := s.DeleteExpiredRequests(ctx, RequestExpiry{States: []string{"completed"}, Before: now.Add(time.Hour)}, nil)
		if err != nil || n != 1 {
			t.Fatalf("expired requests = %d, %v", n, err)
		}
		if all, _ := s.Transmissions(ctx, r.ID); len(all) != 0 {
			t.Errorf("transmissions outlived their request: %+v", all)
		}
	})
}
