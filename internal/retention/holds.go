package retention

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/hold"
)

// held is what the active holds keep of one target.
type held struct {
	ids      []string         // the holds that apply, by id
	whole    bool             // every row of the target
	periods  []execute.Period // rows whose clock lies in one of these
	subjects []string         // every row of these people
}

// holdsFor works out what holds keep of t. A hold applies when every
// part of its scope that names a place matches the target: its
// datastore, its collection, and a category the collection holds (or one
// below it). What it then keeps is narrowed by its subject, else by its
// period, else it keeps the whole target. A hold naming a subject keeps
// all of that person's rows in its scope, whatever its period: the
// broader reading is the side a hold errs on.
func holdsFor(t Target, stores []execute.Store, hs []hold.Hold) held {
	var h held
	cats := t.categories(stores)
	for _, x := range hs {
		sc := x.Scope
		if sc.Datastore != "" && sc.Datastore != t.Datastore || sc.Collection != "" && sc.Collection != t.Collection {
			continue
		}
		if sc.Category != "" && !slices.ContainsFunc(cats, sc.CoversCategory) {
			continue
		}
		h.ids = append(h.ids, x.ID)
		switch {
		case sc.SubjectID != "":
			h.subjects = append(h.subjects, sc.SubjectID)
		case sc.From != nil || sc.To != nil:
			var p execute.Period
			if sc.From != nil {
				p.From = *sc.From
			}
			if sc.To != nil {
				p.To = *sc.To
			}
			h.periods = append(h.periods, p)
		default:
			h.whole = true
		}
	}
	return h
}

// Seeds returns the identity values a person is found by in the
// organisation's databases (dsr.Service.Seeds).
type Seeds func(ctx context.Context, subjectID string) (execute.Seeds, error)

// heldKeys finds the rows of the held subjects in every datastore, keyed
// by datastore and collection, then by the row's primary key. Without
// seeds (no keys to open identities) it fails: a hold on a person that
// cannot be located must stop the sweep, not be ignored.
func heldKeys(ctx context.Context, stores []execute.Store, seeds Seeds, subjects []string) (map[string]map[string]bool, error) {
	out := map[string]map[string]bool{}
	if len(subjects) == 0 {
		return out, nil
	}
	if seeds == nil {
		return nil, fmt.Errorf("retention: a legal hold names a person, and this process cannot find people's rows (no data keyset)")
	}
	for _, id := range subjects {
		sd, err := seeds(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("retention: find the rows a hold keeps: %w", err)
		}
		found, err := execute.AccessAll(ctx, stores, sd, execute.Options{})
		if err != nil {
			return nil, fmt.Errorf("retention: find the rows a hold keeps: %w", err)
		}
		for _, s := range stores {
			for _, c := range s.DS.Collections {
				pk := primaryKey(c.Fields)
				k := s.DS.ID + "\x00" + c.Name
				for _, r := range found[s.DS.ID][c.Name] {
					key := make([]any, len(pk))
					for i, f := range pk {
						key[i] = r[f]
					}
					if out[k] == nil {
						out[k] = map[string]bool{}
					}
					out[k][keyString(key)] = true
				}
			}
		}
	}
	return out, nil
}

// keyString identifies a row by its key values, types included, as
// execute reads them (normalised), so that a key found by access and the
// same key read by a sweep are equal.
func keyString(key []any) string {
	var b strings.Builder
	for _, v := range key {
		fmt.Fprintf(&b, "%T:%v\x00", v, v)
	}
	return b.String()
}
