package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
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
