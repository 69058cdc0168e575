package execute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
)

// Store is one datastore of a dataset with the database it describes.
type Store struct {
	DS   *dataset.Datastore
	DB   *sql.DB
	Kind connector.Kind
}

// FieldRef names a field of a collection.
type FieldRef struct {
	Collection string
	Field      string
}

// crossEdge carries values between datastores: the values of field in the
// rows found in collection coll of store from start a lookup of collection
// toColl by toField in store to.
type crossEdge struct {
	from, to     int
	coll, toColl int
	field        string
	toField      string
}

// AccessAll returns the rows that belong to the person identified by seeds in
// every store, by datastore id. It follows references between datastores as
// well as within them: values found in one datastore seed the lookups in the
// other, until no datastore yields a value not looked up before.
func AccessAll(ctx context.Context, stores []Store, seeds Seeds, opt Options) (map[string]Result, error) {
	r, err := reach(ctx, stores, seeds)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Result, len(stores))
	for i, s := range stores {
		out[s.DS.ID] = project(s.DS, r.found[i], opt)
	}
	return out, nil
}

// reached is what reach found: per store, the values other stores gave
// it to look up and the rows found, and the order in which the stores
// first yielded rows.
type reached struct {
	fieldSeeds []map[FieldRef][]any
	found      [][]collectionRows
	order      []int
}

// reach traverses every store from seeds and from the values the other
// stores' rows carry along references between them, until no store yields
// a value not looked up before.
func reach(ctx context.Context, stores []Store, seeds Seeds) (reached, error) {
	byID := map[string]int{}
	for i, s := range stores {
		if s.DS == nil || s.DB == nil {
			return reached{}, errors.New("execute: store without datastore or database")
		}
		if _, dup := byID[s.DS.ID]; dup {
			return reached{}, fmt.Errorf("execute: datastore %q given twice", s.DS.ID)
		}
		byID[s.DS.ID] = i
	}
	edges := crossEdges(stores, byID)

	r := reached{fieldSeeds: make([]map[FieldRef][]any, len(stores)), found: make([][]collectionRows, len(stores))}
	inOrder := make([]bool, len(stores))
	visited := map[string]bool{}
	dirty := make([]bool, len(stores))
	for i := range dirty {
		dirty[i] = true
	}
	for {
		var run []int
		for i := range stores {
			if dirty[i] {
				dirty[i] = false
				run = append(run, i)
			}
		}
		if len(run) == 0 {
			break
		}
		// The datastores of a round are walked at the same time, each on
		// its own connection pool. Each walk starts over from every seed
		// known so far, so its rows replace the previous round's and
		// nothing is counted twice.
		errs := make([]error, len(run))
		var wg sync.WaitGroup
		for k, i := range run {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := stores[i]
				r.found[i], errs[k] = traverseFrom(ctx, s.DB, s.Kind, s.DS, seeds, r.fieldSeeds[i])
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return reached{}, err
		}
		for _, i := range run {
			if !inOrder[i] && hasRows(r.found[i]) {
				inOrder[i] = true
				r.order = append(r.order, i)
			}
		}
		for _, e := range edges {
			ref := FieldRef{Collection: stores[e.to].DS.Collections[e.toColl].Name, Field: e.toField}
			for _, row := range r.found[e.from][e.coll].rows {
				v := normalize(row.values[e.field])
				if v == nil {
					continue
				}
				k := fmt.Sprintf("%d\x00%d\x00%s\x00%s", e.to, e.toColl, e.toField, valueKey(v))
				if visited[k] {
					continue
				}
				visited[k] = true
				if r.fieldSeeds[e.to] == nil {
					r.fieldSeeds[e.to] = map[FieldRef][]any{}
				}
				r.fieldSeeds[e.to][ref] = append(r.fieldSeeds[e.to][ref], v)
				dirty[e.to] = true
			}
		}
	}
	for i := range stores {
		if !inOrder[i] {
			r.order = append(r.order, i)
		}
	}
	return r, nil
}

func hasRows(found []collectionRows) bool {
	for _, c := range found {
		if len(c.rows) > 0 {
			return true
		}
	}
	return false
}

// EraseAll erases the person's data in every store, following references
// between datastores as AccessAll does. Every lookup runs before anything
// is rewritten, so erasing a value in one datastore cannot hide the rows
// it leads to in another. Each datastore is then erased in its own
// transaction, the datastores reached last first: the values that lead to
// a datastore's rows stay in place until those rows are erased, so a run
// cut short between two datastores and started again still finds and
// finishes what is left. The plans come back in the order of stores.
func EraseAll(ctx context.Context, stores []Store, seeds Seeds, opt EraseOptions) ([]Plan, error) {
	r, err := reach(ctx, stores, seeds)
	if err != nil {
		return nil, err
	}
	plans := make([]Plan, len(stores))
	for i := range plans {
		plans[i] = Plan{Datastore: stores[i].DS.ID, Changes: []Change{}}
	}
	for k := len(r.order) - 1; k >= 0; k-- {
		i := r.order[k]
		s := stores[i]
		p, err := eraseFrom(ctx, s.DB, s.Kind, s.DS, seeds, r.fieldSeeds[i], opt)
		if err != nil {
			return plans, err
		}
		plans[i] = p
	}
	return plans, nil
}

// crossEdges lists the references between the stores, in both directions
// the references allow. References to a datastore not among the stores are
// left out: its database is not at hand.
func crossEdges(stores []Store, byID map[string]int) []crossEdge {
	var edges []crossEdge
	for a, s := range stores {
		for ci, c := range s.DS.Collections {
			for _, f := range c.Fields {
				for _, r := range f.References {
					if r.Datastore == "" || r.Datastore == s.DS.ID {
						continue // within the datastore: traverse follows it
					}
					b, ok := byID[r.Datastore]
					if !ok {
						continue
					}
					ri := -1
					for i, rc := range stores[b].DS.Collections {
						if rc.Name == r.Collection {
							ri = i
							break
						}
					}
					if ri < 0 {
						continue
					}
					if r.Direction == dataset.DirectionTo || r.Direction == dataset.DirectionBoth || r.Direction == "" {
						edges = append(edges, crossEdge{from: a, coll: ci, field: f.Name, to: b, toColl: ri, toField: r.Field})
					}
					if r.Direction == dataset.DirectionFrom || r.Direction == dataset.DirectionBoth || r.Direction == "" {
						edges = append(edges, crossEdge{from: b, coll: ri, field: r.Field, to: a, toColl: ci, toField: f.Name})
					}
				}
			}
		}
	}
	return edges
}
