package dsr

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/ids"
	"github.com/custos-privacy/custos/internal/store"
)

// Restrictor is an executor that restricts processing outside Custos, and
// lifts the restriction.
type Restrictor interface {
	Executor
	// Restrict sets (or with lift clears) the subject's restriction there.
	Restrict(ctx context.Context, subjectID string, lift bool) ([]execute.Restriction, error)
}

// ManualRestriction is a datastore where the subject's rows were found in
// collections that declare no restriction flag: someone restricts them by
// hand, and the request tracks it until acknowledged.
type ManualRestriction struct {
	Datastore  string
	Categories []string
}

// SetRestricted restricts processing of the subject's data to storage, or
// lifts the restriction, in Custos and in every system that can flag it.
func (s *Service) SetRestricted(ctx context.Context, a consent.Actor, subjectID string, restricted bool, reason string) (consent.SubjectView, error) {
	v, err := s.consent.SetRestricted(ctx, a, subjectID, restricted, reason)
	if err != nil {
		return v, err
	}
	for _, ex := range s.opt.Executors {
		rx, ok := ex.(Restrictor)
		if !ok {
			continue
		}
		rs, err := rx.Restrict(ctx, subjectID, !restricted)
		if err != nil {
			return v, fmt.Errorf("%s: %w", ex.Name(), err)
		}
		if err := s.auditRestriction(ctx, a, subjectID, restricted, rs); err != nil {
			return v, err
		}
	}
	return v, nil
}

// auditRestriction records what a restriction flagged: datastores,
// collections and row counts.
func (s *Service) auditRestriction(ctx context.Context, a consent.Actor, subjectID string, restricted bool, rs []execute.Restriction) error {
	action := "datastores.restrict"
	if !restricted {
		action = "datastores.unrestrict"
	}
	detail, _ := json.Marshal(map[string]any{"datastores": rs})
	return s.st.AppendAudit(ctx, audit.NewEntry(s.now(), a, action, "subject:"+subjectID, "rights_request", audit.OutcomeOK, string(detail)))
}

// Restrict implements Restrictor.
func (x *Datastores) Restrict(ctx context.Context, subjectID string, lift bool) ([]execute.Restriction, error) {
	seeds, err := x.Seeds(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	return execute.RestrictAll(ctx, x.stores(), seeds, execute.RestrictOptions{Lift: lift})
}

// restrict carries a restriction (or an erasure a legal hold stops) into
// the datastores: every flag reachable is set, and each datastore where
// rows were found without one becomes a tracked task for the operator.
func (x *Datastores) restrict(ctx context.Context, r *store.Request) (Outcome, error) {
	rs, err := x.Restrict(ctx, r.SubjectID, false)
	if err != nil {
		return Outcome{}, err
	}
	var parts []string
	out := Outcome{Restricted: rs}
	for _, res := range rs {
		n := 0
		var fields []string
		for _, f := range res.Flagged {
			n += f.Rows
			fields = append(fields, f.Collection+"."+f.Field)
		}
		p := fmt.Sprintf("%s: %d rows flagged restricted", res.Datastore, n)
		if len(fields) > 0 {
			p += " (" + strings.Join(fields, ", ") + ")"
		}
		if len(res.Unflagged) > 0 {
			p += "; no restriction flag on " + strings.Join(res.Unflagged, ", ") + ": restricting them is left to the operator"
			out.Manual = append(out.Manual, ManualRestriction{Datastore: res.Datastore, Categories: x.categoriesIn(res.Datastore, res.Unflagged)})
		}
		parts = append(parts, p)
	}
	out.Summary = strings.Join(parts, "; ")
	return out, nil
}

// categoriesIn lists the categories the named collections of a datastore hold.
func (x *Datastores) categoriesIn(store string, colls []string) []string {
	var out []string
	for _, ds := range x.Stores {
		if ds.Annotation.ID != store {
			continue
		}
		for _, c := range ds.Annotation.Collections {
			if !slices.Contains(colls, c.Name) {
				continue
			}
			for _, f := range c.Fields {
				out = append(out, f.Categories...)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// manualRestrictionTasks are the tracked tasks for datastores that
// cannot flag a restriction themselves.
func (s *Service) manualRestrictionTasks(r *store.Request, ms []ManualRestriction) []store.TxFn {
	var out []store.TxFn
	for _, m := range ms {
		out = append(out, s.st.RecipientTaskFn(store.RecipientTask{ID: ids.New("rt_"), RequestID: r.ID, Recipient: "datastore:" + m.Datastore,
			Action: "restriction", Method: "manual", Categories: m.Categories, State: "pending", NextAt: s.now(), UpdatedAt: s.now()}))
	}
	return out
}
