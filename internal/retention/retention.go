// Package retention keeps the manifest's retention rules in the
// organisation's own databases. A dataset annotation binds each rule to
// the collections it governs (dataset.RetentionTarget); this package
// turns those bindings into targets, plans what is due (Plan), and
// sweeps it (Run): rows whose period has passed are deleted, erased or
// anonymised in bounded batches, except what a legal hold keeps. Each
// run holds the organisation's sweep alone, whatever the number of
// instances, and is recorded with its counts and audited per rule.
//
// The server runs Run on a schedule and `custos retention run` runs the
// same function now; `custos retention plan` shows Plan.
package retention

import (
	"fmt"
	"slices"
	"time"

	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/manifest"
)

// How an event target's data goes, when no sweep by clock reaches it.
const (
	// ByRequest: the person's account cancellation (a rights request)
	// erases every category the annotation records, across datastores.
	ByRequest = "account_cancellation_request"
	// NotObserved: Custos does not learn of the event yet; the
	// organisation must act on it.
	NotObserved = "not_observed"
)

// Target is one collection governed by one retention rule.
type Target struct {
	Rule       string `json:"rule"`
	Datastore  string `json:"datastore"`
	Collection string `json:"collection"`
	Action     string `json:"action"`
	// Clock is the field that starts the period; Event what ends
	// retention for a person instead.
	Clock string `json:"clock,omitempty"`
	Event string `json:"event,omitempty"`
	// Period is the rule's period, nil for an event without one.
	Period *manifest.Period `json:"period,omitempty"`

	store int // index in the datastores
	coll  int // index in the datastore's collections
}

// Swept reports whether a sweep by clock enforces the target.
func (t Target) Swept() bool { return t.Clock != "" }

// Keeper says what ends an event target's data: ByRequest, ByWithdrawal
// or NotObserved.
// Empty for targets swept by clock.
func (t Target) Keeper() string {
	switch {
	case t.Swept():
		return ""
	case t.Event == dataset.EventAccountDeletion:
		return ByRequest
	case t.Event == dataset.EventConsentWithdrawn:
		return ByWithdrawal
	default:
		return NotObserved
	}
}

// Targets lists every binding of the dataset's collections to a rule of
// m, in dataset order. Bindings to rules m does not have (a policy
// published since the annotation was written) are left out; validation
// reports them.
func Targets(m *manifest.Manifest, stores []execute.Store) []Target {
	var out []Target
	for si, s := range stores {
		for ci, c := range s.DS.Collections {
			for _, b := range c.Retention {
				i := slices.IndexFunc(m.Retention, func(r manifest.Retention) bool { return r.ID == b.Rule })
				if i < 0 {
					continue
				}
				r := m.Retention[i]
				out = append(out, Target{
					Rule: r.ID, Datastore: s.DS.ID, Collection: c.Name, Action: c.RetentionAction(b, r.After),
					Clock: b.Clock, Event: b.Event, Period: r.Period, store: si, coll: ci,
				})
			}
		}
	}
	return out
}

// Cutoff is the instant before which the target's rows have been kept
// their whole period at now (manifest.Period.KeptFrom). ok is false for
// targets not swept by clock.
func (t Target) Cutoff(now time.Time) (time.Time, bool) {
	if !t.Swept() || t.Period == nil {
		return time.Time{}, false
	}
	return t.Period.KeptFrom(now)
}

// sweep is the execute.Sweep that carries the target out at now.
func (t Target) sweep(stores []execute.Store, now time.Time, batch int) (execute.Sweep, *execute.Store, error) {
	cutoff, ok := t.Cutoff(now)
	if !ok {
		return execute.Sweep{}, nil, fmt.Errorf("retention: %s/%s under %s is not swept by clock", t.Datastore, t.Collection, t.Rule)
	}
	s := &stores[t.store]
	return execute.Sweep{Kind: s.Kind, Collection: s.DS.Collections[t.coll], Clock: t.Clock, Cutoff: cutoff, Action: t.Action, Batch: batch}, s, nil
}

// categories lists the categories the target's collection holds.
func (t Target) categories(stores []execute.Store) []string {
	var out []string
	for _, f := range stores[t.store].DS.Collections[t.coll].Fields {
		out = append(out, f.Categories...)
	}
	return out
}

func primaryKey(fields []dataset.Field) []string {
	var pk []string
	for _, f := range fields {
		if f.PrimaryKey {
			pk = append(pk, f.Name)
		}
	}
	return pk
}
