package dsr

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

// Datastore is one of the organisation's databases, as annotated.
type Datastore struct {
	Annotation *dataset.Datastore
	DB         *sql.DB
	Kind       connector.Kind
}

// Datastores carries requests into the organisation's own databases: an
// access request reports what is held there, a deletion or account
// cancellation erases it field by field as the annotation says.
type Datastores struct {
	Stores []Datastore
	// Seeds returns the identity values to start from for a subject.
	Seeds   func(ctx context.Context, subjectID string) (execute.Seeds, error)
	HMACKey []byte
	// Salt salts the hash erasure strategy.
	Salt []byte
}

// Name implements Executor.
func (x *Datastores) Name() string { return "datastores" }

// stores is the datastores as the execute package takes them.
func (x *Datastores) stores() []execute.Store {
	out := make([]execute.Store, len(x.Stores))
	for i, ds := range x.Stores {
		out[i] = execute.Store{DS: ds.Annotation, DB: ds.DB, Kind: ds.Kind}
	}
	return out
}

// Execute implements Executor.
func (x *Datastores) Execute(ctx context.Context, a consent.Actor, r *store.Request, d Details, in CompleteInput) (Outcome, error) {
	if r.Kind == "correction" {
		return x.correct(ctx, r, d)
	}
	erase := r.Kind == "deletion" || r.Kind == "cancel_account"
	read := r.Kind == "access" || r.Kind == "copy" || r.Kind == "portability"
	if r.Kind == "restriction" || erase && in.Held() {
		// A legal hold turns an erasure into a restriction, here as in Custos.
		return x.restrict(ctx, r)
	}
	if !erase && !read {
		return Outcome{}, nil
	}
	seeds, err := x.Seeds(ctx, r.SubjectID)
	if err != nil {
		return Outcome{}, err
	}
	if read {
		// Access follows references across datastores too, so it runs
		// over all of them together.
		found, err := execute.AccessAll(ctx, x.stores(), seeds, execute.Options{})
		if err != nil {
			return Outcome{}, err
		}
		var parts []string
		data := map[string]any{}
		for _, ds := range x.Stores {
			rows := 0
			for _, rs := range found[ds.Annotation.ID] {
				rows += len(rs)
			}
			parts = append(parts, fmt.Sprintf("%s: %d rows found", ds.Annotation.ID, rows))
			data[ds.Annotation.ID] = found[ds.Annotation.ID]
		}
		return Outcome{Summary: strings.Join(parts, "; "), Data: data}, nil
	}
	// Erasure finds everything first, across datastores, then erases one
	// datastore at a time in one transaction each (see execute.EraseAll).
	stores := x.stores()
	var cats []string
	for _, ds := range x.Stores {
		// A deletion reaches every category the annotations record.
		cats = append(cats, categoriesOf(ds.Annotation)...)
	}
	started := time.Now()
	plans, err := execute.EraseAll(ctx, stores, seeds, execute.EraseOptions{Categories: cats, HMACKey: x.HMACKey, Salt: x.Salt})
	if err != nil {
		return Outcome{}, err
	}
	cert, err := erasureCertificate(r.ID, plans, started, time.Now())
	if err != nil {
		return Outcome{}, err
	}
	summaries := make([]string, len(plans))
	for i, plan := range plans {
		fields := 0
		for _, c := range plan.Changes {
			fields += len(c.Fields)
		}
		summaries[i] = fmt.Sprintf("%s: %d rows, %d fields erased", plan.Datastore, len(plan.Changes), fields)
	}
	return Outcome{Summary: strings.Join(summaries, "; "), Certificate: &cert}, nil
}

// Seeds returns the identity values Custos can use for a subject in other
// databases: its own id (the application's user id) and every kept
// identity value, by kind.
func (s *Service) Seeds(ctx context.Context, subjectID string) (execute.Seeds, error) {
	sub, err := s.st.Subject(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	seeds := execute.Seeds{"user_id": {subjectID}}
	for _, idn := range sub.Identities {
		if len(idn.Sealed) == 0 {
			continue
		}
		raw, err := s.consent.OpenIdentity(ctx, subjectID, idn.Kind, idn.Sealed)
		if err != nil {
			return nil, err
		}
		seeds[idn.Kind] = append(seeds[idn.Kind], string(raw))
	}
	return seeds, nil
}

// categoriesOf lists every category an annotation records.
func categoriesOf(ds *dataset.Datastore) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range ds.Collections {
		for _, f := range c.Fields {
			for _, cat := range f.Categories {
				if !seen[cat] {
					seen[cat] = true
					out = append(out, cat)
				}
			}
		}
	}
	return out
}

// CheckCorrection implements Corrector: key is a category some datastore
// records; it must be marked correctable somewhere, and value must fit
// the format of every field it would be written into.
func (x *Datastores) CheckCorrection(key, value string) (bool, error) {
	recorded := false
	var fields []dataset.CorrectableField
	for _, ds := range x.Stores {
		fields = append(fields, ds.Annotation.Correctable()[key]...)
		recorded = recorded || slices.Contains(categoriesOf(ds.Annotation), key)
	}
	if !recorded {
		return false, nil
	}
	if len(fields) == 0 {
		return true, fault.New(fault.Invalid, "field_not_correctable", "%q is held in the organisation's databases but no field of it is marked correctable", key).
			At("details.correction").Allowing(x.CorrectionKeys())
	}
	for _, f := range fields {
		if _, err := dataset.CorrectedValue(f.Format, value); err != nil {
			return true, correctionFault(key, err)
		}
	}
	return true, nil
}

// CorrectionKeys implements Corrector: the categories of correctable fields.
func (x *Datastores) CorrectionKeys() []string {
	var keys []string
	for _, ds := range x.Stores {
		for k := range ds.Annotation.Correctable() {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// PreviewCorrection implements Corrector.
func (x *Datastores) PreviewCorrection(ctx context.Context, subjectID string, values map[string]string) ([]execute.Correction, error) {
	return x.runCorrection(ctx, subjectID, values, true)
}

// correctionValues keeps the values meant for the datastores. A value that
// does not fit (the dataset changed since intake) stops the correction
// before anything is written, without being quoted.
func (x *Datastores) correctionValues(values map[string]string) (map[string]string, error) {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := map[string]string{}
	for _, k := range keys {
		ok, err := x.CheckCorrection(k, values[k])
		if ok && err != nil {
			return nil, err
		}
		if ok {
			out[k] = values[k]
		}
	}
	return out, nil
}

func (x *Datastores) runCorrection(ctx context.Context, subjectID string, values map[string]string, dry bool) ([]execute.Correction, error) {
	values, err := x.correctionValues(values)
	if err != nil || len(values) == 0 {
		return nil, err
	}
	seeds, err := x.Seeds(ctx, subjectID)
	if err != nil {
		return nil, err
	}
	cs, err := execute.CorrectAll(ctx, x.stores(), seeds, execute.CorrectOptions{Values: values, DryRun: dry})
	if errors.Is(err, execute.ErrCorrectionConflict) {
		return nil, correctionFault("", err)
	}
	return cs, err
}

// correct carries a correction request into the datastores: every
// correctable field holding a named category, in every row the traversal
// reaches, one transaction per datastore.
func (x *Datastores) correct(ctx context.Context, r *store.Request, d Details) (Outcome, error) {
	cs, err := x.runCorrection(ctx, r.SubjectID, d.Correction, false)
	if err != nil || cs == nil {
		return Outcome{}, err
	}
	parts := make([]string, len(cs))
	var identities map[string]string
	for i, c := range cs {
		var fields []string
		for _, cc := range c.Collections {
			for _, f := range cc.Fields {
				fields = append(fields, cc.Collection+"."+f.Field)
				if kind := x.identityKind(c.Datastore, cc.Collection, f.Field); kind == dataset.IdentityEmail || kind == dataset.IdentityPhone {
					// Written in the normal form identities are kept in.
					if v, err := dataset.CorrectedValue(kind, d.Correction[f.Category]); err == nil {
						if identities == nil {
							identities = map[string]string{}
						}
						identities[kind] = v
					}
				}
			}
		}
		parts[i] = fmt.Sprintf("%s: %d rows corrected", c.Datastore, c.Rows())
		if len(fields) > 0 {
			parts[i] += " (" + strings.Join(fields, ", ") + ")"
		}
	}
	return Outcome{Summary: strings.Join(parts, "; "), Corrected: cs, Identities: identities}, nil
}

// identityKind is the kind of identity requests start from that the field
// holds (dataset.IdentityEmail…), "" for none.
func (x *Datastores) identityKind(store, coll, field string) string {
	for _, ds := range x.Stores {
		if ds.Annotation.ID != store {
			continue
		}
		for _, c := range ds.Annotation.Collections {
			for _, f := range c.Fields {
				if c.Name == coll && f.Name == field {
					return f.Identity
				}
			}
		}
	}
	return ""
}
