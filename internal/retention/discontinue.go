package retention

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/manifest"
)

// ActionDiscontinue is the audit action of erasing, collection by
// collection, what a discontinued service alone collected.
const ActionDiscontinue = "retention.discontinue"

// ErrUnknownService: the policy in force has no such service.
var ErrUnknownService = fault.New(fault.NotFound, "service_not_found", "the policy in force has no such service")

// Discontinuation is what ending a service erases: every category the
// service collects and no other service does, wherever the dataset holds
// it. A collection all of whose personal fields hold such categories is
// deleted; in the others, those fields are erased.
type Discontinuation struct {
	Service    string              `json:"service"`
	Categories []string            `json:"categories"`
	Targets    []DiscontinueTarget `json:"targets"`
	At         time.Time           `json:"at"`
}

// DiscontinueTarget is one collection a discontinuation changes.
type DiscontinueTarget struct {
	Datastore  string   `json:"datastore"`
	Collection string   `json:"collection"`
	Action     string   `json:"action"`           // dataset.ActionDelete or ActionErase
	Fields     []string `json:"fields,omitempty"` // erased, for ActionErase
	Rows       int64    `json:"rows"`             // rows to change now
	Held       int64    `json:"held"`             // of those, rows holds keep

	store, coll int
}

// Hash identifies what the discontinuation erases, counts left out: the
// service, its categories, and each collection with its action and
// fields. An approval names it, and the run refuses a plan whose hash
// differs from the one approved (the policy or the dataset changed).
func (d Discontinuation) Hash() string {
	h := sha256.New()
	fmt.Fprintf(h, "custos discontinuation v1\n%s\n%s\n", d.Service, strings.Join(d.Categories, ","))
	for _, t := range d.Targets {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\n", t.Datastore, t.Collection, t.Action, strings.Join(t.Fields, ","))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// onlyFor lists the categories service collects and no other service
// does; a category counts when collected under it or one of its parents.
func onlyFor(m *manifest.Manifest, service string) ([]string, error) {
	i := slices.IndexFunc(m.Services, func(s manifest.Service) bool { return s.ID == service })
	if i < 0 {
		return nil, ErrUnknownService
	}
	collectedBy := func(s manifest.Service) []string {
		var out []string
		for _, c := range s.Collects {
			out = append(out, c.Categories...)
		}
		return out
	}
	var out []string
	for _, c := range collectedBy(m.Services[i]) {
		shared := false
		for j, other := range m.Services {
			if j != i && slices.Contains(collectedBy(other), c) {
				shared = true
				break
			}
		}
		if !shared && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out, nil
}

// covered reports whether cat is one of cats or lies below one.
func covered(cat string, cats []string) bool {
	return slices.ContainsFunc(cats, func(c string) bool { return cat == c || strings.HasPrefix(cat, c+".") })
}

// PlanDiscontinue works out what ending service erases, and how many rows
// each collection has now. Nothing is changed.
func (s *Service) PlanDiscontinue(ctx context.Context, service string) (Discontinuation, error) {
	now := s.opt.Now()
	d := Discontinuation{Service: service, At: now.UTC(), Targets: []DiscontinueTarget{}}
	m, err := s.opt.Policy(ctx)
	if err != nil {
		return d, fmt.Errorf("retention: the policy in force: %w", err)
	}
	if d.Categories, err = onlyFor(m, service); err != nil {
		return d, err
	}
	hs, err := s.activeHolds(ctx, now)
	if err != nil {
		return d, err
	}
	for si, st := range s.opt.Datastores {
		for ci, c := range st.DS.Collections {
			var only, personal []string
			for _, f := range c.Fields {
				if len(f.Categories) == 0 {
					continue
				}
				personal = append(personal, f.Name)
				if slices.ContainsFunc(f.Categories, func(cat string) bool { return covered(cat, d.Categories) }) {
					only = append(only, f.Name)
				}
			}
			if len(only) == 0 {
				continue
			}
			t := DiscontinueTarget{Datastore: st.DS.ID, Collection: c.Name, Action: dataset.ActionErase, Fields: only, store: si, coll: ci}
			if len(only) == len(personal) {
				t.Action, t.Fields = dataset.ActionDelete, nil
			}
			sw := t.sweep(s.opt.Datastores, s.opt.Batch)
			n, err := sw.Count(ctx, st.DB)
			if err != nil {
				return d, fmt.Errorf("retention: plan discontinuation of %s: %w", service, err)
			}
			t.Rows = n.Due
			if h := holdsFor(t.target(), s.opt.Datastores, hs); len(h.ids) > 0 {
				t.Held = n.Due // a hold on a place or a person keeps the collection whole here
			}
			d.Targets = append(d.Targets, t)
		}
	}
	return d, nil
}

func (t DiscontinueTarget) target() Target {
	return Target{Rule: "service_end", Datastore: t.Datastore, Collection: t.Collection, Action: t.Action, store: t.store, coll: t.coll}
}

func (t DiscontinueTarget) sweep(stores []execute.Store, batch int) execute.Sweep {
	st := stores[t.store]
	sw := execute.Sweep{Kind: st.Kind, Collection: st.DS.Collections[t.coll], Action: t.Action, Batch: batch}
	if t.Action == dataset.ActionErase {
		sw.Fields = t.Fields
	}
	return sw
}

func (s *Service) activeHolds(ctx context.Context, now time.Time) ([]hold.Hold, error) {
	if s.opt.Holds == nil {
		return nil, nil
	}
	hs, err := s.opt.Holds.Active(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("retention: legal holds: %w", err)
	}
	return hs, nil
}

// ErrPlanChanged: the discontinuation differs from the one approved.
var ErrPlanChanged = fault.New(fault.Conflict, "plan_changed", "what ending the service erases has changed since it was approved (the policy or the dataset changed): ask for a new approval")

// RunDiscontinue erases what d plans, once a second operator has approved
// the plan whose hash is approved: it holds the organisation's sweep like
// Run, skips every collection a hold covers (a hold on a person keeps the
// whole collection: the rows are not per person here), audits each
// collection, records the run and certifies what it erased.
func (s *Service) RunDiscontinue(ctx context.Context, a audit.Actor, service, approved string) (Report, error) {
	d, err := s.PlanDiscontinue(ctx, service)
	if err != nil {
		return Report{}, err
	}
	if d.Hash() != approved {
		return Report{}, ErrPlanChanged
	}
	rep := Report{Run: newRunID(), Instance: s.opt.Instance, Started: s.opt.Now().UTC(), PlanHash: d.Hash(), Results: []Result{}}
	if err := s.start(ctx, rep); err != nil {
		return rep, err
	}
	for _, t := range d.Targets {
		tg := t.target()
		tg.Rule = "discontinue:" + service
		res := Result{Target: tg, Started: s.opt.Now().UTC(), Held: t.Held, Whole: t.Held > 0}
		if t.Held == 0 {
			var r execute.SweepResult
			r, err = t.sweep(s.opt.Datastores, s.opt.Batch).Run(ctx, s.opt.Datastores[t.store].DB, nil)
			res.Rows, res.Fields = r.Rows, r.Fields
		}
		res.Finished = s.opt.Now().UTC()
		rep.Results = append(rep.Results, res)
		e := audit.NewEntry(s.opt.Now(), a, ActionDiscontinue, "service:"+service, "retention", outcomeOf(err),
			map[string]any{"run": rep.Run, "datastore": t.Datastore, "collection": t.Collection, "action": t.Action, "rows": res.Rows, "held": res.Held})
		if rerr := s.st.RenewRetentionRun(context.WithoutCancel(ctx), rep.Run, s.opt.Now().Add(LeaseTTL), e); rerr != nil && err == nil {
			err = rerr
		}
		if err != nil {
			break
		}
	}
	return rep, s.finish(ctx, a, &rep, err)
}

func outcomeOf(err error) string {
	if err != nil {
		return audit.OutcomeError
	}
	return audit.OutcomeOK
}
