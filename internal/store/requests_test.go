package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/notify"
)

func request(id, subject, state string) Request {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return Request{ID: id, SubjectID: subject, Kind: "access", Jurisdiction: "CN", State: state, Channel: "operator", Language: "en",
		ReceivedAt: now, ReceivedDate: "2026-09-28", DueDate: "2026-10-23", CalendarVersion: "v", Deadline: "15 working_days",
		Flags: "{}", UpdatedAt: now, Version: 1}
}

// TestRequestsContract covers the request tables on every backend: the
// optimistic update, history, codes with durable attempt counting, the
// outbox, bundles, recipient tasks and erasure.
func TestRequestsContract(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if err := s.CreateSubject(ctx, Subject{ID: "u-1", BirthDate: "1990-01-01", Identities: []Identity{{Kind: "email", Hash: []byte("h1"), Sealed: []byte("x")}}}); err != nil {
			t.Fatal(err)
		}
		r := request("rq_1", "u-1", "awaiting_verification")
		otp := OTP{RequestID: r.ID, IdentityHash: []byte("h1"), CodeHash: []byte("c"), ExpiresAt: time.Now().Add(time.Minute), CreatedAt: time.Now()}
		d := notify.Delivery{ID: "dl_1", Channel: "email", Sealed: []byte("sealed"), Template: "otp", Lang: "en",
			NextAt: time.Now().Add(-time.Second), Status: "pending", Subject: "u-1", Request: r.ID}
		if err := s.CreateRequest(ctx, r, RequestEvent{RequestID: r.ID, At: time.Now(), Actor: "t", To: r.State}, []TxFn{s.PutOTPFn(otp), s.OutboxFn(d)}); err != nil {
			t.Fatal(err)
		}
		for want := 1; want <= 3; want++ {
			if n, err := s.CountOTPAttempt(ctx, r.ID); err != nil || n != want {
				t.Fatalf("attempt %d counted as %d, %v", want, n, err)
			}
		}
		if _, err := s.CountOTPAttempt(ctx, "rq_none"); !errors.Is(err, ErrNotFound) {
			t.Errorf("attempt on a request without a code: %v", err)
		}
		due, err := s.Outbox().Due(ctx, time.Now(), 10)
		if err != nil || len(due) != 1 || string(due[0].Sealed) != "sealed" {
			t.Fatalf("Due = %+v, %v", due, err)
		}
		if err := s.Outbox().MarkFailed(ctx, "dl_1", 1, time.Now().Add(time.Hour), false, "timeout"); err != nil {
			t.Fatal(err)
		}
		if due, _ := s.Outbox().Due(ctx, time.Now(), 10); len(due) != 0 {
			t.Errorf("a delivery that failed is due again before its next attempt: %+v", due)
		}
		got, err := s.Request(ctx, r.ID)
		if err != nil || got.DueDate != r.DueDate || got.SubjectID != "u-1" || got.Version != 1 {
			t.Fatalf("Request = %+v, %v", got, err)
		}
		stale := got
		got.State = "verified"
		if err := s.UpdateRequest(ctx, &got, RequestEvent{RequestID: r.ID, At: time.Now(), Actor: "t", From: "awaiting_verification", To: "verified"}, []TxFn{s.DeleteOTPFn(r.ID)}); err != nil || got.Version != 2 {
			t.Fatalf("update: %v (version %d)", err, got.Version)
		}
		stale.State = "cancelled"
		if err := s.UpdateRequest(ctx, &stale, RequestEvent{}, nil); !errors.Is(err, ErrStale) {
			t.Errorf("update from a stale read: %v, want ErrStale", err)
		}
		if _, err := s.OTP(ctx, r.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("the code outlived verification: %v", err)
		}
		evs, err := s.RequestEvents(ctx, r.ID)
		if err != nil || len(evs) != 2 || evs[1].To != "verified" {
			t.Errorf("history = %+v, %v", evs, err)
		}
		open, err := s.Requests(ctx, RequestFilter{States: []string{"verified"}, SubjectID: "u-1", DueBy: "2026-12-31"})
		if err != nil || len(open) != 1 {
			t.Errorf("Requests = %d, %v", len(open), err)
		}
		b := Bundle{ID: "bd_1", RequestID: r.ID, SubjectID: "u-1", Sealed: []byte("zip"), TokenHash: []byte("th"), ExpiresAt: time.Now().Add(time.Hour), CreatedAt: time.Now()}
		task := RecipientTask{ID: "rt_1", RequestID: r.ID, Recipient: "cloud", Action: "deletion", Method: "webhook", Categories: []string{"basic.email"}, State: "pending", NextAt: time.Now(), UpdatedAt: time.Now()}
		if err := s.UpdateRequest(ctx, &got, RequestEvent{}, []TxFn{s.PutBundleFn(b), s.RecipientTaskFn(task)}); err != nil {
			t.Fatal(err)
		}
		if bb, err := s.BundleByToken(ctx, []byte("th")); err != nil || string(bb.Sealed) != "zip" {
			t.Errorf("BundleByToken = %+v, %v", bb, err)
		}
		if err := s.CountDownload(ctx, "bd_1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LatestBundle(ctx, "rq_none"); !errors.Is(err, ErrNotFound) {
			t.Errorf("LatestBundle of a request without one: %v, want ErrNotFound", err)
		}
		newer := Bundle{ID: "bd_2", RequestID: r.ID, SubjectID: "u-1", Sealed: []byte("zip2"), TokenHash: []byte("th2"), ExpiresAt: time.Now().Add(2 * time.Hour), CreatedAt: time.Now().Add(time.Second)}
		if err := s.Submit(ctx, &Write{Fn: s.PutBundleFn(newer)}); err != nil {
			t.Fatal(err)
		}
		if bb, err := s.LatestBundle(ctx, r.ID); err != nil || bb.ID != "bd_2" || string(bb.Sealed) != "zip2" {
			t.Errorf("LatestBundle = %+v, %v; want bd_2", bb, err)
		}
		if ts, err := s.RecipientTasks(ctx, r.ID); err != nil || len(ts) != 1 || ts[0].Categories[0] != "basic.email" {
			t.Errorf("RecipientTasks = %+v, %v", ts, err)
		}
		var shredded []string
		shred := func(_ context.Context, owners ...string) (int, error) {
			shredded = append(shredded, owners...)
			return len(owners), nil
		}
		if err := s.Submit(ctx, &Write{Fn: s.EraseSubjectFn("u-1", shred)}); err != nil {
			t.Fatal(err)
		}
		// The keys of the subject, its request and its message go first.
		if d := cmp.Diff([]string{keystore.Subject("u-1"), keystore.Request(r.ID), keystore.Delivery("dl_1")}, shredded); d != "" {
			t.Errorf("keys destroyed on erasure (-want +got):\n%s", d)
		}
		if dl, err := s.Deliveries(ctx, r.ID); err != nil || len(dl) != 1 || dl[0].Status != notify.StatusDead || dl[0].LastError != "erased" {
			t.Errorf("the pending message after erasure: %+v, %v; want given up as erased", dl, err)
		}
		if due, _ := s.Outbox().Due(ctx, timeFarAhead, 10); len(due) != 0 {
			t.Errorf("a message to the erased subject is still due: %+v", due)
		}
		sub, err := s.Subject(ctx, "u-1")
		if err != nil || len(sub.Identities) != 0 || sub.BirthDate != "" {
			t.Errorf("after erasure: %+v, %v", sub, err)
		}
		if _, err := s.BundleByToken(ctx, []byte("th")); !errors.Is(err, ErrNotFound) {
			t.Errorf("a bundle outlived erasure: %v", err)
		}
		if _, err := s.LatestBundle(ctx, r.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("a bundle outlived erasure: %v", err)
		}
	})
}

// timeFarAhead is later than any message in these tests is due.
var timeFarAhead = time.Now().Add(100 * 365 * 24 * time.Hour)

// noShred stands in for the key store where a test looks only at the rows.
func noShred(_ context.Context, owners ...string) (int, error) { return len(owners), nil }
