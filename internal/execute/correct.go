package execute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
)

// CorrectOptions say what a correction writes.
type CorrectOptions struct {
	// Values are the corrected values by category: every correctable field
	// holding the category, in every row found for the person, is set to
	// it, in the form the field's format gives (dataset.CorrectedValue).
	Values map[string]string
	// DryRun computes the plan without writing.
	DryRun bool
}

// Correction is what a correction changes in one datastore: counts and
// field names, never the values.
type Correction struct {
	Datastore   string                 `json:"datastore"`
	Collections []CollectionCorrection `json:"collections"`
	// Statements is how many writes the correction sent (0 for a dry run).
	Statements int `json:"statements"`
	// Applied is false for a dry run.
	Applied bool `json:"applied"`
}

// CollectionCorrection is what a correction changes in one collection.
type CollectionCorrection struct {
	Collection string `json:"collection"`
	// Rows is how many rows get at least one field rewritten.
	Rows   int               `json:"rows"`
	Fields []FieldCorrection `json:"fields"`
}

// FieldCorrection is one field a correction rewrites.
type FieldCorrection struct {
	Field    string `json:"field"`
	Category string `json:"category"`
	// Rows is how many rows hold another value now.
	Rows int `json:"rows"`
	// Masked is the value written, masked as Mask does: enough for an
	// operator to recognise it, not to read it.
	Masked string `json:"masked"`
}

// Rows counts the rows a correction rewrites in the datastore.
func (c Correction) Rows() int {
	n := 0
	for _, cc := range c.Collections {
		n += cc.Rows
	}
	return n
}

// ErrCorrectionConflict is returned when one field would take two
// different values because it holds two categories a correction names.
var ErrCorrectionConflict = errors.New("two corrections name the same field with different values")

// Correct finds the person's rows as Access does and rewrites the
// correctable fields whose categories opt.Values names, in one
// transaction. Fields that already hold the corrected value are left alone,
// so running it twice changes nothing the second time.
func Correct(ctx context.Context, db *sql.DB, kind connector.Kind, ds *dataset.Datastore, seeds Seeds, opt CorrectOptions) (Correction, error) {
	return correctFrom(ctx, db, kind, ds, seeds, nil, opt)
}

// CorrectAll corrects the person's data in every store, following
// references between datastores as AccessAll does. As with EraseAll, every
// lookup runs before anything is written, and the datastores reached last
// are corrected first, so that a corrected identity or link cannot hide the
// rows it led to. One transaction per datastore. The results come back in
// the order of stores.
func CorrectAll(ctx context.Context, stores []Store, seeds Seeds, opt CorrectOptions) ([]Correction, error) {
	r, err := reach(ctx, stores, seeds)
	if err != nil {
		return nil, err
	}
	out := make([]Correction, len(stores))
	for i := range out {
		out[i] = Correction{Datastore: stores[i].DS.ID, Collections: []CollectionCorrection{}}
	}
	for k := len(r.order) - 1; k >= 0; k-- {
		i := r.order[k]
		s := stores[i]
		c, err := correctFrom(ctx, s.DB, s.Kind, s.DS, seeds, r.fieldSeeds[i], opt)
		if err != nil {
			return out, err
		}
		out[i] = c
	}
	return out, nil
}

// correctFrom is Correct that also starts from fieldSeeds, the values other
// datastores lead to.
func correctFrom(ctx context.Context, db *sql.DB, kind connector.Kind, ds *dataset.Datastore, seeds Seeds, fieldSeeds map[FieldRef][]any, opt CorrectOptions) (Correction, error) {
	out := Correction{Datastore: ds.ID, Collections: []CollectionCorrection{}}
	targets, err := correctionTargets(ds, opt.Values)
	if err != nil {
		return out, err
	}
	if len(targets) == 0 {
		out.Applied = !opt.DryRun
		return out, nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return out, fmt.Errorf("execute: correct: %w", err)
	}
	defer tx.Rollback()
	found, err := traverseFrom(ctx, tx, kind, ds, seeds, fieldSeeds)
	if err != nil {
		return out, fmt.Errorf("execute: correct: %w", err)
	}
	var stmts []statement
	for ci, c := range ds.Collections {
		if len(targets[ci]) == 0 || len(found[ci].rows) == 0 {
			continue
		}
		cc, s, err := correctCollection(kind, c, found[ci].rows, targets[ci])
		if err != nil {
			return out, fmt.Errorf("execute: correct %q: %w", c.Name, err)
		}
		if cc.Rows > 0 {
			out.Collections = append(out.Collections, cc)
		}
		stmts = append(stmts, s...)
	}
	if opt.DryRun {
		return out, nil
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.query, s.args...); err != nil {
			return out, &RefusedWrite{Table: s.table, err: err}
		}
	}
	if err := tx.Commit(); err != nil {
		return out, fmt.Errorf("execute: correct: commit: %w", err)
	}
	out.Statements = len(stmts)
	out.Applied = true
	return out, nil
}

// correctTarget is one correctable field and the value it takes.
type correctTarget struct {
	field    string
	category string
	value    string
}

// correctionTargets lists, per collection, the fields values reaches and
// what each is set to, in field order.
func correctionTargets(ds *dataset.Datastore, values map[string]string) ([][]correctTarget, error) {
	out := make([][]correctTarget, len(ds.Collections))
	for ci, c := range ds.Collections {
		for _, f := range c.Fields {
			if f.Correct == "" {
				continue
			}
			var t *correctTarget
			for _, cat := range f.Categories {
				raw, ok := values[cat]
				if !ok {
					continue
				}
				v, err := dataset.CorrectedValue(f.Correct, raw)
				if err != nil {
					return nil, fmt.Errorf("execute: correct %s.%s (%s): %w", c.Name, f.Name, cat, err)
				}
				if t != nil && t.value != v {
					return nil, fmt.Errorf("execute: correct %s.%s: %w", c.Name, f.Name, ErrCorrectionConflict)
				}
				if t == nil {
					t = &correctTarget{field: f.Name, category: cat, value: v}
				}
			}
			if t != nil {
				out[ci] = append(out[ci], *t)
			}
		}
	}
	return out, nil
}

// correctCollection plans the rewrites of c's rows. Rows that need the
// same fields rewritten share one UPDATE … WHERE pk IN (…).
func correctCollection(kind connector.Kind, c dataset.Collection, rows []foundRow, targets []correctTarget) (CollectionCorrection, []statement, error) {
	cc := CollectionCorrection{Collection: c.Name, Fields: []FieldCorrection{}}
	perField := make([]int, len(targets))
	groups := map[string][]foundRow{}
	groupSets := map[string][]setValue{}
	var order []string
	for _, r := range rows {
		var sets []setValue
		sig := ""
		for i, t := range targets {
			if sameValue(r.values[t.field], t.value) {
				continue
			}
			perField[i]++
			sets = append(sets, setValue{field: t.field, value: t.value})
			sig += fmt.Sprintf("%d,", i)
		}
		if len(sets) == 0 {
			continue
		}
		cc.Rows++
		if _, ok := groups[sig]; !ok {
			order = append(order, sig)
			groupSets[sig] = sets
		}
		groups[sig] = append(groups[sig], r)
	}
	if cc.Rows == 0 {
		return cc, nil, nil
	}
	pk := primaryKey(c)
	if len(pk) == 0 {
		return cc, nil, ErrNoPrimaryKey
	}
	for i, t := range targets {
		if perField[i] > 0 {
			cc.Fields = append(cc.Fields, FieldCorrection{Field: t.field, Category: t.category, Rows: perField[i], Masked: Mask(t.value)})
		}
	}
	sort.Slice(cc.Fields, func(i, j int) bool { return cc.Fields[i].Field < cc.Fields[j].Field })
	var stmts []statement
	for _, g := range order {
		sets, rs := groupSets[g], groups[g]
		per := max(1, (min(maxBatch, connector.MaxParams(kind))-len(sets))/len(pk))
		for start := 0; start < len(rs); start += per {
			stmts = append(stmts, writeStatement(kind, c.Name, pk, sets, rs[start:min(start+per, len(rs))]))
		}
	}
	return cc, stmts, nil
}

// sameValue reports whether the value read already is the corrected one;
// a date column reads back as a time.
func sameValue(cur any, v string) bool {
	switch x := normalize(cur).(type) {
	case nil:
		return false
	case string:
		return x == v
	case time.Time:
		return x.Format(time.DateOnly) == v || x.Format(time.RFC3339Nano) == v
	default:
		return fmt.Sprint(x) == v
	}
}

// RefusedWrite is a correction the database would not write. Its message
// leaves out the database's own, which may quote the value (MySQL's
// "Duplicate entry '…'"), and gives the error code instead; the cause is
// still there for errors.As.
type RefusedWrite struct {
	Table string
	err   error
}

func (e *RefusedWrite) Error() string {
	return fmt.Sprintf("execute: correct %q: the database refused the corrected value (%s)", e.Table, errorCode(e.err))
}

func (e *RefusedWrite) Unwrap() error { return e.err }

// errorCode names a driver error by its code alone.
func errorCode(err error) string {
	var pg *pgconn.PgError
	var my *mysql.MySQLError
	switch {
	case errors.As(err, &pg):
		return "SQLSTATE " + pg.Code
	case errors.As(err, &my):
		return fmt.Sprintf("MySQL error %d", my.Number)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err.Error()
	}
	return fmt.Sprintf("%T", err)
}
