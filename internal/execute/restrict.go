package execute

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
)

// RestrictOptions say whether a restriction is set or lifted.
type RestrictOptions struct {
	// Lift clears the flags instead of setting them.
	Lift bool
	// DryRun computes the result without writing.
	DryRun bool
	// Now is the time a datetime flag records; zero means time.Now.
	Now time.Time
}

// Restriction is what restricting (or lifting) did in one datastore.
type Restriction struct {
	Datastore string `json:"datastore"`
	// Flagged are the collections with a restriction flag whose rows
	// found for the person changed state.
	Flagged []FlaggedCollection `json:"flagged"`
	// Unflagged are the collections holding personal data where rows were
	// found for the person but no restriction flag is declared: someone
	// has to restrict those by hand.
	Unflagged []string `json:"unflagged"`
	Applied   bool     `json:"applied"`
}

// FlaggedCollection is one collection whose restriction flag was set or cleared.
type FlaggedCollection struct {
	Collection string `json:"collection"`
	Field      string `json:"field"`
	Rows       int    `json:"rows"`
}

// RestrictAll sets (or with opt.Lift clears) the restriction flag of every
// row found for the person in every store, as AccessAll finds them, one
// transaction per datastore. Rows already in the state asked for are left
// alone, so running it twice writes once. The results come back in the
// order of stores.
func RestrictAll(ctx context.Context, stores []Store, seeds Seeds, opt RestrictOptions) ([]Restriction, error) {
	r, err := reach(ctx, stores, seeds)
	if err != nil {
		return nil, err
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	out := make([]Restriction, len(stores))
	for i, s := range stores {
		res, err := restrictFrom(ctx, s.DB, s.Kind, s.DS, seeds, r.fieldSeeds[i], opt)
		if err != nil {
			return out, err
		}
		out[i] = res
	}
	return out, nil
}

func restrictFrom(ctx context.Context, db *sql.DB, kind connector.Kind, ds *dataset.Datastore, seeds Seeds, fieldSeeds map[FieldRef][]any, opt RestrictOptions) (Restriction, error) {
	out := Restriction{Datastore: ds.ID, Flagged: []FlaggedCollection{}, Unflagged: []string{}}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return out, fmt.Errorf("execute: restrict: %w", err)
	}
	defer tx.Rollback()
	found, err := traverseFrom(ctx, tx, kind, ds, seeds, fieldSeeds)
	if err != nil {
		return out, fmt.Errorf("execute: restrict: %w", err)
	}
	var stmts []statement
	for ci, c := range ds.Collections {
		rows := found[ci].rows
		if len(rows) == 0 {
			continue
		}
		if c.RestrictFlag == "" {
			if c.Personal() {
				out.Unflagged = append(out.Unflagged, c.Name)
			}
			continue
		}
		var flag dataset.Field
		for _, f := range c.Fields {
			if f.Name == c.RestrictFlag {
				flag = f
			}
		}
		var change []foundRow
		for _, r := range rows {
			if flag.IsRestricted(normalize(r.values[flag.Name])) == opt.Lift {
				change = append(change, r)
			}
		}
		if len(change) == 0 {
			continue
		}
		pk := primaryKey(c)
		if len(pk) == 0 {
			return out, fmt.Errorf("execute: restrict %q: %w", c.Name, ErrNoPrimaryKey)
		}
		v := flag.RestrictValue(!opt.Lift, opt.Now)
		sets := []setValue{{field: flag.Name, value: v, null: v == nil}}
		per := max(1, (min(maxBatch, connector.MaxParams(kind))-1)/len(pk))
		for start := 0; start < len(change); start += per {
			stmts = append(stmts, writeStatement(kind, c.Name, pk, sets, change[start:min(start+per, len(change))]))
		}
		out.Flagged = append(out.Flagged, FlaggedCollection{Collection: c.Name, Field: flag.Name, Rows: len(change)})
	}
	if opt.DryRun {
		return out, nil
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.query, s.args...); err != nil {
			return out, fmt.Errorf("execute: restrict %q: %w", s.table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return out, fmt.Errorf("execute: restrict: commit: %w", err)
	}
	out.Applied = true
	return out, nil
}
