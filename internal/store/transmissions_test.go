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
// delivered and is never moved again; a failed one keeps its export and
// is put back in the queue once by a retry; an erasure gives up a pending
// one, empties every export (a retry then finds nothing to send) and the
// request's expiry takes it with the request.
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
		// A refused transmission keeps its export; a retry makes it due
		// now, attempts counted again, and only once.
		if err := s.Submit(ctx, &Write{Fn: s.PutTransmissionFn(tx("tm_3"))}); err != nil {
			t.Fatal(err)
		}
		refused := TransmissionMark{ID: "tm_3", State: "failed", Attempts: 1, NextAt: now, LastStatus: 410, LastError: "receiver replied 410", At: now}
		if err := s.Submit(ctx, &Write{Fn: s.MarkTransmissionFn(refused)}); err != nil {
			t.Fatal(err)
		}
		later := now.Add(time.Hour)
		if err := s.Submit(ctx, &Write{Fn: s.RetryTransmissionFn("tm_3", later)}); err != nil {
			t.Fatalf("retrying a failed transmission: %v", err)
		}
		for _, id := range []string{"tm_3", "tm_1", "no_such"} {
			if err := s.Submit(ctx, &Write{Fn: s.RetryTransmissionFn(id, later)}); !errors.Is(err, ErrSettled) {
				t.Errorf("retrying %s, not failed: %v, want ErrSettled", id, err)
			}
		}
		due, _ = s.DueTransmissions(ctx, later, 10)
		if len(due) != 2 || due[1].ID != "tm_3" {
			t.Fatalf("due after the retry = %+v, want tm_2 and tm_3", due)
		}
		want := tx("tm_3")
		want.NextAt, want.UpdatedAt, want.LastStatus, want.LastError = later, later, 410, "receiver replied 410"
		if d := cmp.Diff(want, due[1]); d != "" {
			t.Errorf("retried (-want +got):\n%s", d)
		}
		if err := s.Submit(ctx, &Write{Fn: s.MarkTransmissionFn(refused)}); err != nil {
			t.Fatal(err)
		}
		all, err := s.Transmissions(ctx, r.ID)
		if err != nil || len(all) != 3 {
			t.Fatalf("transmissions = %+v, %v", all, err)
		}
		if got := all[0]; got.State != "delivered" || got.Attempts != 2 || got.LastStatus != 200 || got.Sealed != nil {
			t.Errorf("delivered = %+v, want delivered after 2 attempts, its export gone", got)
		}
		if got := all[2]; got.State != "failed" || string(got.Sealed) != "sealed tm_3" {
			t.Errorf("failed = %+v, want failed with its export kept", got)
		}
		if err := s.Submit(ctx, &Write{Fn: s.EraseSubjectFn("u-1", noShred)}); err != nil {
			t.Fatal(err)
		}
		all, _ = s.Transmissions(ctx, r.ID)
		if got := all[1]; got.State != "failed" || got.Sealed != nil {
			t.Errorf("pending transmission after an erasure = %+v, want failed without its export", got)
		}
		if got := all[2]; got.State != "failed" || got.Sealed != nil {
			t.Errorf("failed transmission after an erasure = %+v, want its export gone", got)
		}
		if err := s.Submit(ctx, &Write{Fn: s.RetryTransmissionFn("tm_3", later)}); !errors.Is(err, ErrSettled) {
			t.Errorf("retrying a transmission whose export went with an erasure: %v, want ErrSettled", err)
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
