package dsr

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
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

// Execute implements Executor.
func (x *Datastores) Execute(ctx context.Context, a consent.Actor, r *store.Request, d Details, in CompleteInput) (Outcome, error) {
	erase := r.Kind == "deletion" || r.Kind == "cancel_account"
	read := r.Kind == "access" || r.Kind == "copy" || r.Kind == "portability"
	if !erase && !read || erase && in.Held() {
		return Outcome{}, nil
	}
	seeds, err := x.Seeds(ctx, r.SubjectID)
	if err != nil {
		return Outcome{}, err
	}
	if read {
		// Access follows references across datastores too, so it runs
		// over all of them together.
		stores := make([]execute.Store, len(x.Stores))
		for i, ds := range x.Stores {
			stores[i] = execute.Store{DS: ds.Annotation, DB: ds.DB, Kind: ds.Kind}
		}
		found, err := execute.AccessAll(ctx, stores, seeds, execute.Options{})
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
	stores := make([]execute.Store, len(x.Stores))
	var cats []string
	for i, ds := range x.Stores {
		stores[i] = execute.Store{DS: ds.Annotation, DB: ds.DB, Kind: ds.Kind}
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
