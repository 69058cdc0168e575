package retention

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// ByWithdrawal: the sweep erases, for each person who withdrew the
// consent the rule's purposes rest on, their rows of the collection.
const ByWithdrawal = "consent_withdrawal_sweep"

// purposesOf lists the purposes whose consent the rule's data goes with:
// the rule's own, or else those that collect its categories.
func purposesOf(m *manifest.Manifest, rule string) []string {
	i := slices.IndexFunc(m.Retention, func(r manifest.Retention) bool { return r.ID == rule })
	if i < 0 {
		return nil
	}
	r := m.Retention[i]
	if len(r.Purposes) > 0 {
		return r.Purposes
	}
	var out []string
	for _, c := range r.Categories {
		for _, p := range m.CollectedFor(c) {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// since is when the last run that finished began: withdrawals from then
// on have not been swept yet. Zero when no run has finished.
func (s *Service) since(ctx context.Context) (time.Time, error) {
	runs, err := s.st.RetentionRuns(ctx, 100)
	if err != nil {
		return time.Time{}, err
	}
	for _, r := range runs {
		if r.State == store.RetentionDone {
			return r.StartedAt, nil
		}
	}
	return time.Time{}, nil
}

// withdrawn lists, for a target ended by consent withdrawal, the people
// whose withdrawal is not swept yet, in [since, now), and whether a hold
// keeps the whole target. Holds on people drop them from the list; a hold
// by period keeps the whole target, as an event-bound row has no clock to
// tell whether it falls in the period.
func (s *Service) withdrawn(ctx context.Context, m *manifest.Manifest, t Target, hs []hold.Hold, since, now time.Time) (people []string, held []string, h held, err error) {
	h = holdsFor(t, s.opt.Datastores, hs)
	if len(h.periods) > 0 {
		h.whole = true
	}
	// A hold that would have kept people of this target and has ended
	// since: the withdrawals it kept are older than since, so look again
	// from the start. It happens once per hold.
	from := since
	if ended, err := s.endedHolds(ctx, since, now); err != nil {
		return nil, nil, h, err
	} else if len(holdsFor(t, s.opt.Datastores, ended).ids) > 0 {
		from = time.Time{}
	}
	ws, err := s.st.Withdrawals(ctx, purposesOf(m, t.Rule), from, now)
	if err != nil {
		return nil, nil, h, fmt.Errorf("retention: withdrawals for %s: %w", t.Rule, err)
	}
	for _, w := range ws {
		switch {
		case slices.Contains(people, w.SubjectID) || slices.Contains(held, w.SubjectID):
		case h.whole || slices.Contains(h.subjects, w.SubjectID):
			held = append(held, w.SubjectID)
		default:
			people = append(people, w.SubjectID)
		}
	}
	return people, held, h, nil
}

// sweepWithdrawals erases, for each person not held, their rows of the
// target's collection, found as an access request finds them within the
// datastore. A person whose identities can no longer be opened (erased)
// is followed by their id alone.
func (s *Service) sweepWithdrawals(ctx context.Context, t Target, people []string) (int64, []string, error) {
	st := s.opt.Datastores[t.store]
	ds := *st.DS
	ds.Collections = slices.Clone(ds.Collections)
	c := &ds.Collections[t.coll]
	c.DeleteRow = t.Action == dataset.ActionDelete
	var cats []string
	for _, f := range c.Fields {
		cats = append(cats, f.Categories...)
	}
	opt := execute.EraseOptions{Categories: cats, Collections: []string{c.Name}, HMACKey: s.opt.HMACKey, Salt: s.opt.Salt}
	var rows int64
	var fields []string
	for _, id := range people {
		seeds := execute.Seeds{"user_id": {id}}
		if s.opt.Seeds != nil {
			if sd, err := s.opt.Seeds(ctx, id); err == nil {
				seeds = sd
			}
		}
		plan, err := execute.Erase(ctx, st.DB, st.Kind, &ds, seeds, opt)
		if err != nil {
			return rows, fields, fmt.Errorf("retention: %s/%s under %s: %w", t.Datastore, t.Collection, t.Rule, err)
		}
		for _, ch := range plan.Changes {
			rows++
			for _, f := range ch.Fields {
				if !slices.Contains(fields, f.Field) {
					fields = append(fields, f.Field)
				}
			}
		}
	}
	slices.Sort(fields)
	return rows, fields, nil
}

// runWithdrawals sweeps every target ended by consent withdrawal.
func (s *Service) runWithdrawals(ctx context.Context, a audit.Actor, m *manifest.Manifest, ts []Target, hs []hold.Hold, since time.Time, plan Plan, rep *Report) error {
	for _, t := range ts {
		if t.Event != dataset.EventConsentWithdrawn {
			continue
		}
		people, held, h, err := s.withdrawn(ctx, m, t, hs, since, plan.At)
		if err != nil {
			return err
		}
		res := Result{Target: t, Holds: h.ids, Started: s.opt.Now().UTC(), Whole: h.whole, People: int64(len(people)), Held: int64(len(held))}
		res.Rows, res.Fields, err = s.sweepWithdrawals(ctx, t, people)
		res.Finished = s.opt.Now().UTC()
		rep.Results = append(rep.Results, res)
		if err != nil {
			s.audit(context.WithoutCancel(ctx), a, rep.Run, res, err)
			return err
		}
		if err := s.audit(ctx, a, rep.Run, res, nil); err != nil {
			return err
		}
	}
	return nil
}

// endedHolds lists the holds lifted or expired in [since, now).
func (s *Service) endedHolds(ctx context.Context, since, now time.Time) ([]hold.Hold, error) {
	if s.opt.Holds == nil {
		return nil, nil
	}
	all, err := s.opt.Holds.List(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("retention: legal holds: %w", err)
	}
	var out []hold.Hold
	for _, h := range all {
		end := h.LiftedAt
		if end == nil {
			end = h.Expires
		}
		if end != nil && !end.Before(since) && end.Before(now) {
			out = append(out, h)
		}
	}
	return out, nil
}
