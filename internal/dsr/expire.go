package dsr

import (
	"context"
	"fmt"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/keep"
	"github.com/custos-privacy/custos/internal/store"
)

// ActionRequestExpire is the audit action of deleting the records of
// requests kept their whole period (keep.Requests): one entry per batch,
// with the count and the cutoff, never which requests.
const ActionRequestExpire = "request.expire"

// expireBatch bounds the requests one transaction deletes.
const expireBatch = 500

// maxHolds bounds the legal holds read to decide what stays; more active
// holds than this stop the sweep rather than risk missing one.
const maxHolds = 10000

// ExpireRequests deletes the records of the requests closed longer than
// period ago (keep.Requests), with their history, one-time code, export
// bundles and recipient notices, batch by batch, and returns how many. A
// request whose person a legal hold names stays, as does one closed in
// the period of a hold that names only a period. Forever deletes
// nothing. The server does it hourly; a run stopped midway leaves whole
// requests, and the next one carries on.
func (s *Service) ExpireRequests(ctx context.Context, a consent.Actor, period keep.Period) (int64, error) {
	now := s.now()
	cutoff, ok := period.Cutoff(now)
	if !ok {
		return 0, nil
	}
	if err := keep.Requests.Check(period); err != nil {
		return 0, fmt.Errorf("expire requests: %w", err)
	}
	hs, err := s.st.LegalHolds(ctx, store.HoldFilter{ActiveAt: now, Limit: maxHolds})
	if err != nil {
		return 0, fmt.Errorf("expire requests: legal holds: %w", err)
	}
	if len(hs) >= maxHolds {
		return 0, fmt.Errorf("expire requests: %d legal holds or more are active; not sweeping", maxHolds)
	}
	f := store.RequestExpiry{States: ClosedStates, Before: cutoff, Limit: expireBatch}
	for _, h := range hs {
		switch {
		case h.SubjectID != "":
			f.KeepSubjects = append(f.KeepSubjects, h.SubjectID)
		case h.Datastore == "" && h.Category == "" && (!h.From.IsZero() || !h.To.IsZero()):
			f.KeepPeriods = append(f.KeepPeriods, store.Span{From: h.From, To: h.To})
		}
	}
	entry := func(n int64) audit.Entry {
		return audit.NewEntry(now, a, ActionRequestExpire, "requests", "retention", audit.OutcomeOK,
			map[string]any{"count": n, "closed_before": cutoff.UTC(), "period": period.String()})
	}
	var total int64
	for {
		n, err := s.st.DeleteExpiredRequests(ctx, f, entry)
		total += n
		if err != nil {
			return total, fmt.Errorf("expire requests: %w", err)
		}
		if n < int64(f.Limit) {
			return total, nil
		}
	}
}
