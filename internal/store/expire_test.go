package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
)

// TestDeleteExpiredRequests: closed requests last changed before the
// cutoff go with their history, code, bundles and recipient tasks, in
// batches of the limit, one audit entry per batch; open ones, recent
// ones, those taking effect later, and those of kept people or periods
// stay; another organisation's are untouched.
func TestDeleteExpiredRequests(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		old := now.AddDate(-4, 0, 0)
		cutoff := now.AddDate(-3, 0, 0)
		for _, id := range []string{"u-1", "u-2", "u-held"} {
			if err := s.CreateSubject(ctx, Subject{ID: id}); err != nil {
				t.Fatal(err)
			}
		}
		type row struct {
			id, subject, state string
			updated, effective time.Time
			gone               bool
		}
		rows := []row{
			{id: "rq-old-1", subject: "u-1", state: "completed", updated: old, gone: true},
			{id: "rq-old-2", subject: "u-1", state: "refused", updated: old.Add(time.Hour), gone: true},
			{id: "rq-old-3", subject: "u-2", state: "withdrawn", updated: old.Add(2 * time.Hour), gone: true},
			{id: "rq-old-4", subject: "u-2", state: "cancelled", updated: old.Add(3 * time.Hour), gone: true},
			{id: "rq-old-5", subject: "u-2", state: "forwarded", updated: old.Add(4 * time.Hour), gone: true},
			{id: "rq-open", subject: "u-1", state: "in_progress", updated: old},
			{id: "rq-recent", subject: "u-1", state: "completed", updated: now.AddDate(-1, 0, 0)},
			{id: "rq-effective", subject: "u-2", state: "completed", updated: old, effective: now.AddDate(-2, 0, 0)},
			{id: "rq-held", subject: "u-held", state: "completed", updated: old},
			{id: "rq-held-period", subject: "u-2", state: "completed", updated: old.AddDate(0, 1, 0)},
		}
		for _, r := range rows {
			q := request(r.id, r.subject, r.state)
			q.UpdatedAt, q.EffectiveAt = r.updated, r.effective
			fns := []TxFn{s.RecipientTaskFn(RecipientTask{ID: "rt-" + r.id, RequestID: r.id, Recipient: "cloud", Action: "deletion", Method: "webhook",
				Categories: []string{"basic.email"}, State: "acknowledged", NextAt: r.updated, UpdatedAt: r.updated}),
				s.PutBundleFn(Bundle{ID: "bd-" + r.id, RequestID: r.id, SubjectID: r.subject, Sealed: []byte("zip"), TokenHash: []byte("t-" + r.id), ExpiresAt: r.updated, CreatedAt: r.updated}),
				s.PutOTPFn(OTP{RequestID: r.id, CodeHash: []byte("c"), ExpiresAt: r.updated, CreatedAt: r.updated})}
			if err := s.CreateRequest(ctx, q, RequestEvent{RequestID: r.id, At: r.updated, Actor: "t", To: r.state}, fns); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "acme"}); err != nil {
			t.Fatal(err)
		}
		other := s.ForOrg("acme")
		if err := other.CreateSubject(ctx, Subject{ID: "u-b"}); err != nil {
			t.Fatal(err)
		}
		ob := request("rq-b", "u-b", "completed")
		ob.UpdatedAt = old
		if err := other.CreateRequest(ctx, ob, RequestEvent{RequestID: ob.ID, At: old, Actor: "t", To: ob.State}, nil); err != nil {
			t.Fatal(err)
		}

		f := RequestExpiry{States: []string{"completed", "refused", "cancelled", "withdrawn", "forwarded"}, Before: cutoff,
			KeepSubjects: []string{"u-held"}, KeepPeriods: []Span{{From: old.AddDate(0, 1, 0).Add(-time.Minute), To: old.AddDate(0, 1, 0).Add(time.Minute)}}, Limit: 2}
		var batches []int64
		for {
			n, err := s.DeleteExpiredRequests(ctx, f, func(n int64) audit.Entry { return entry("request.expire", "requests") })
			if err != nil {
				t.Fatal(err)
			}
			batches = append(batches, n)
			if n < int64(f.Limit) {
				break
			}
		}
		if want := []int64{2, 2, 1}; !slices.Equal(batches, want) {
			t.Errorf("batches = %v, want %v", batches, want)
		}
		for _, r := range rows {
			_, err := s.Request(ctx, r.id)
			switch {
			case r.gone && !errors.Is(err, ErrNotFound):
				t.Errorf("%s: still there (%v)", r.id, err)
			case !r.gone && err != nil:
				t.Errorf("%s: %v", r.id, err)
			}
			evs, err := s.RequestEvents(ctx, r.id)
			if err != nil || (len(evs) == 0) != r.gone {
				t.Errorf("%s: %d events, %v; gone %v", r.id, len(evs), err, r.gone)
			}
			tasks, err := s.RecipientTasks(ctx, r.id)
			if err != nil || (len(tasks) == 0) != r.gone {
				t.Errorf("%s: %d recipient tasks, %v; gone %v", r.id, len(tasks), err, r.gone)
			}
			if _, err := s.LatestBundle(ctx, r.id); errors.Is(err, ErrNotFound) != r.gone {
				t.Errorf("%s: bundle: %v; gone %v", r.id, err, r.gone)
			}
		}
		if _, err := other.Request(ctx, "rq-b"); err != nil {
			t.Errorf("another organisation's request: %v", err)
		}
		entries, err := s.AuditEntries(ctx, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for _, e := range entries {
			if e.Action == "request.expire" {
				got++
			}
		}
		if got != 3 {
			t.Errorf("%d request.expire entries, want 3 (one per batch that deleted)", got)
		}
		if _, err := s.DeleteExpiredRequests(ctx, RequestExpiry{Before: cutoff}, nil); err == nil {
			t.Error("no states: no error")
		}
	})
}
