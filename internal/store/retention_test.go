package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// TestRetentionRunLease: one run at a time holds an organisation's sweep,
// whichever instance asks, even at once; a run past its lease is
// abandoned and another may start; a holder whose run was abandoned
// learns it when it renews or finishes.
func TestRetentionRunLease(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		// Instances racing: exactly one wins.
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.StartRetentionRun(ctx, RetentionRun{ID: "rr-" + string(rune('a'+i)), Instance: "i", StartedAt: now, LeaseUntil: now.Add(time.Minute)})
			}()
		}
		wg.Wait()
		won := ""
		for i, err := range errs {
			switch {
			case err == nil && won == "":
				won = "rr-" + string(rune('a'+i))
			case err == nil:
				t.Fatalf("two runs started at once: %s and rr-%c", won, 'a'+i)
			case !errors.Is(err, ErrRetentionRunning):
				t.Fatalf("start: %v", err)
			}
		}
		if won == "" {
			t.Fatal("no run started")
		}
		if err := s.RenewRetentionRun(ctx, won, now.Add(2*time.Minute)); err != nil {
			t.Fatalf("renew: %v", err)
		}
		// Still within the lease: refused.
		if err := s.StartRetentionRun(ctx, RetentionRun{ID: "rr-x", Instance: "j", StartedAt: now.Add(time.Minute), LeaseUntil: now.Add(3 * time.Minute)}); !errors.Is(err, ErrRetentionRunning) {
			t.Fatalf("start within the lease: %v, want ErrRetentionRunning", err)
		}
		// Past it: the stopped run is abandoned and the new one starts.
		later := now.Add(5 * time.Minute)
		if err := s.StartRetentionRun(ctx, RetentionRun{ID: "rr-y", Instance: "j", StartedAt: later, LeaseUntil: later.Add(time.Minute)}); err != nil {
			t.Fatalf("start after the lease: %v", err)
		}
		if err := s.RenewRetentionRun(ctx, won, later.Add(time.Minute)); !errors.Is(err, ErrConflict) {
			t.Errorf("renew of an abandoned run: %v, want ErrConflict", err)
		}
		if err := s.FinishRetentionRun(ctx, "rr-y", RetentionDone, later.Add(time.Second), `{"rows":3}`); err != nil {
			t.Fatal(err)
		}
		runs, err := s.RetentionRuns(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		states := map[string]string{}
		for _, r := range runs {
			states[r.ID] = r.State
		}
		if states[won] != RetentionAbandoned || states["rr-y"] != RetentionDone || runs[0].ID != "rr-y" || runs[0].Report != `{"rows":3}` {
			t.Errorf("runs = %+v", runs)
		}
	})
}

// TestWithdrawals: the consents whose latest event is a withdrawal in the
// window, for the purposes asked; a consent given again is not one.
func TestWithdrawals(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		base := time.Now().UTC().Truncate(time.Microsecond).Add(-time.Hour)
		for _, id := range []string{"u-1", "u-2", "u-3"} {
			if err := s.CreateSubject(ctx, Subject{ID: id}); err != nil {
				t.Fatal(err)
			}
		}
		ev := func(id, subject, purpose, action string, minute int) ConsentEvent {
			e := consent(id, subject, purpose, action, 1)
			e.At = base.Add(time.Duration(minute) * time.Minute)
			return e
		}
		events := []ConsentEvent{
			ev("e1", "u-1", "push", ActionGrant, 0), ev("e2", "u-1", "push", ActionWithdraw, 10),
			ev("e3", "u-2", "push", ActionGrant, 0), ev("e4", "u-2", "push", ActionWithdraw, 11), ev("e5", "u-2", "push", ActionGrant, 12),
			ev("e6", "u-3", "location", ActionGrant, 0), ev("e7", "u-3", "location", ActionWithdraw, 30),
			ev("e8", "u-3", "ads", ActionGrant, 0), ev("e9", "u-3", "ads", ActionWithdraw, 5),
		}
		for _, e := range events {
			if err := s.AppendConsents(ctx, []ConsentEvent{e}, nil); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Withdrawals(ctx, []string{"push", "location"}, base, base.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		want := []Withdrawal{{SubjectID: "u-1", Purpose: "push", At: base.Add(10 * time.Minute)}, {SubjectID: "u-3", Purpose: "location", At: base.Add(30 * time.Minute)}}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("Withdrawals = %+v, want %+v", got, want)
		}
		if got, _ := s.Withdrawals(ctx, []string{"push", "location"}, base.Add(20*time.Minute), base.Add(time.Hour)); len(got) != 1 || got[0].SubjectID != "u-3" {
			t.Errorf("Withdrawals from minute 20 = %+v, want u-3's only", got)
		}
	})
}

// TestDeleteExpiredBundles: bundles past their download window go, with
// one audit entry counting them; those still downloadable stay.
func TestDeleteExpiredBundles(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		if err := s.CreateSubject(ctx, Subject{ID: "u-1"}); err != nil {
			t.Fatal(err)
		}
		for i, exp := range []time.Time{now.Add(-time.Hour), now.Add(-time.Minute), now.Add(time.Hour)} {
			r := request("rq-"+string(rune('a'+i)), "u-1", "completed")
			b := Bundle{ID: "bd-" + string(rune('a'+i)), RequestID: r.ID, SubjectID: "u-1", Sealed: []byte("zip"), TokenHash: []byte("t" + string(rune('a'+i))), ExpiresAt: exp, CreatedAt: now.Add(-2 * time.Hour)}
			if err := s.CreateRequest(ctx, r, RequestEvent{RequestID: r.ID, At: now, Actor: "t", To: r.State}, []TxFn{s.PutBundleFn(b)}); err != nil {
				t.Fatal(err)
			}
		}
		n, err := s.DeleteExpiredBundles(ctx, now, func(n int64) audit.Entry { return entry("bundle.expire", "bundles") })
		if err != nil || n != 2 {
			t.Fatalf("DeleteExpiredBundles = %d, %v; want 2", n, err)
		}
		if _, err := s.LatestBundle(ctx, "rq-c"); err != nil {
			t.Errorf("the bundle still downloadable is gone: %v", err)
		}
		if _, err := s.LatestBundle(ctx, "rq-a"); !errors.Is(err, ErrNotFound) {
			t.Errorf("an expired bundle is still there: %v", err)
		}
		if n, err := s.DeleteExpiredBundles(ctx, now, nil); err != nil || n != 0 {
			t.Errorf("second sweep = %d, %v; want 0", n, err)
		}
		entries, err := s.AuditEntries(ctx, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for _, e := range entries {
			if e.Action == "bundle.expire" {
				got++
			}
		}
		if got != 1 {
			t.Errorf("%d bundle.expire entries, want 1", got)
		}
	})
}
