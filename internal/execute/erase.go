package execute

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
)

// EraseOptions say which fields Erase rewrites.
type EraseOptions struct {
	// Categories selects the fields to erase: those with one of these
	// categories, or a category below one. Empty erases nothing.
	Categories []string
	// Collections, when not empty, limits erasure to these collections of
	// the datastore; the others are still followed to find the person's rows.
	Collections []string
	// DryRun computes the plan without writing.
	DryRun bool
	// HMACKey keys the hmac strategy; Erase fails if a field needs it and it is empty.
	HMACKey []byte
	// Salt is prefixed to values before the hash strategy digests them, so
	// a digest cannot be reversed by hashing every phone number; Erase
	// fails if a field needs it and it is empty.
	Salt []byte
}

// Plan is what an erasure changes. It names rows by primary key and fields
// by name; it never carries the values.
type Plan struct {
	Datastore string   `json:"datastore"`
	Changes   []Change `json:"changes"`
	// Applied is false for a dry run.
	Applied bool `json:"applied"`
}

// Change is one row an erasure rewrites or deletes.
type Change struct {
	Collection string         `json:"collection"`
	Key        map[string]any `json:"key"`
	// Fields are the fields rewritten, sorted; empty when the row is deleted.
	Fields  []FieldChange `json:"fields,omitempty"`
	Deleted bool          `json:"deleted,omitempty"`
}

// FieldChange is one field an erasure rewrites, with the strategy used.
type FieldChange struct {
	Field    string `json:"field"`
	Strategy string `json:"strategy"`
}

// ErrNoPrimaryKey is returned when a row to erase is in a collection whose
// dataset names no primary key: the row could not be addressed alone.
var ErrNoPrimaryKey = errors.New("collection has no primary key")

// ErrNoHMACKey is returned when a field is erased with hmac and no key is given.
var ErrNoHMACKey = errors.New("hmac erasure needs a key")

// ErrNoSalt is returned when a field is erased with hash and no salt is given.
var ErrNoSalt = errors.New("hash erasure needs a salt")

// ErrNotText is returned when a strategy that writes text (mask, hash,
// hmac, random) meets a value that is not text, such as a number: the
// column could not hold what it would write.
var ErrNotText = errors.New("strategy writes text but the field holds another type")

// Erase finds the person's rows as Access does and rewrites the fields whose
// categories EraseOptions.Categories selects, each by its erase strategy, in
// one transaction. Fields already erased are left alone, so running it twice
// changes nothing the second time (except with the random strategy, which
// has no erased form to recognise).
func Erase(ctx context.Context, db *sql.DB, kind connector.Kind, ds *dataset.Datastore, seeds Seeds, opt EraseOptions) (Plan, error) {
	return eraseFrom(ctx, db, kind, ds, seeds, nil, opt)
}

// eraseFrom is Erase that also starts from fieldSeeds, the values other
// datastores lead to.
func eraseFrom(ctx context.Context, db *sql.DB, kind connector.Kind, ds *dataset.Datastore, seeds Seeds, fieldSeeds map[FieldRef][]any, opt EraseOptions) (Plan, error) {
	plan := Plan{Datastore: ds.ID, Changes: []Change{}}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return plan, fmt.Errorf("execute: erase: %w", err)
	}
	defer tx.Rollback()
	// Reading in the transaction that writes means the plan describes the
	// rows as they were changed.
	found, err := traverseFrom(ctx, tx, kind, ds, seeds, fieldSeeds)
	if err != nil {
		return plan, fmt.Errorf("execute: erase: %w", err)
	}
	perColl := make([][]statement, len(ds.Collections))
	for ci, c := range ds.Collections {
		if len(opt.Collections) > 0 && !slices.Contains(opt.Collections, c.Name) {
			continue
		}
		changes, s, err := eraseCollection(kind, c, found[ci].rows, opt)
		if err != nil {
			return plan, fmt.Errorf("execute: erase %q: %w", c.Name, err)
		}
		plan.Changes = append(plan.Changes, changes...)
		perColl[ci] = s
	}
	// Rewrites first, then deletes, rows that refer to others before the
	// rows they refer to, so no statement leaves a reference dangling on
	// the way (a foreign key would refuse it even inside the transaction).
	var stmts []statement
	for ci, c := range ds.Collections {
		if !c.DeleteRow {
			stmts = append(stmts, perColl[ci]...)
		}
	}
	for _, ci := range deleteOrder(ds) {
		if ds.Collections[ci].DeleteRow {
			stmts = append(stmts, perColl[ci]...)
		}
	}
	if opt.DryRun {
		return plan, nil
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.query, s.args...); err != nil {
			return plan, fmt.Errorf("execute: erase %q: %w", s.table, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return plan, fmt.Errorf("execute: erase: commit: %w", err)
	}
	plan.Applied = true
	return plan, nil
}

// deleteOrder lists the collections so that one holding a reference to
// another (within the datastore) comes before it: a row is deleted before
// the row it refers to. Collections in a cycle keep their declared order
// among themselves.
func deleteOrder(ds *dataset.Datastore) []int {
	index := map[string]int{}
	for i, c := range ds.Collections {
		index[c.Name] = i
	}
	// refersTo[i] are the collections i's fields refer to.
	refersTo := make([][]int, len(ds.Collections))
	for i, c := range ds.Collections {
		for _, f := range c.Fields {
			for _, r := range f.References {
				if r.Datastore != "" && r.Datastore != ds.ID {
					continue
				}
				if j, ok := index[r.Collection]; ok && j != i {
					refersTo[i] = append(refersTo[i], j)
				}
			}
		}
	}
	// referredBy counts, per collection, the collections referring to it
	// that are not yet placed; a collection is placed when none remain.
	referredBy := make([]int, len(ds.Collections))
	for _, js := range refersTo {
		for _, j := range js {
			referredBy[j]++
		}
	}
	placed := make([]bool, len(ds.Collections))
	order := make([]int, 0, len(ds.Collections))
	for len(order) < len(ds.Collections) {
		progress := false
		for i := range ds.Collections {
			if placed[i] || referredBy[i] > 0 {
				continue
			}
			placed[i], progress = true, true
			order = append(order, i)
			for _, j := range refersTo[i] {
				referredBy[j]--
			}
		}
		if !progress { // a cycle: take the first left, in declared order
			for i := range ds.Collections {
				if !placed[i] {
					placed[i] = true
					order = append(order, i)
					for _, j := range refersTo[i] {
						referredBy[j]--
					}
					break
				}
			}
		}
	}
	return order
}

// statement is one write of an erasure.
type statement struct {
	table string
	query string
	args  []any
}

// setValue is one assignment: a value, or NULL when null is set.
type setValue struct {
	field string
	value any
	null  bool
}

// eraseCollection plans the changes to the rows of c and the statements that
// make them. Rows that get the same assignments (null and fixed do not depend
// on the row) share one UPDATE … WHERE pk IN (…).
func eraseCollection(kind connector.Kind, c dataset.Collection, rows []foundRow, opt EraseOptions) ([]Change, []statement, error) {
	var selected []dataset.Field
	for _, f := range c.Fields {
		if matchCategories(f.Categories, opt.Categories) {
			selected = append(selected, f)
		}
	}
	if len(selected) == 0 || len(rows) == 0 {
		return nil, nil, nil
	}
	pk := primaryKey(c)
	var changes []Change
	groups := map[string][]foundRow{} // by assignments, for rows that share them
	groupSets := map[string][]setValue{}
	var order []string
	var stmts []statement
	for _, r := range rows {
		ch := Change{Collection: c.Name, Key: map[string]any{}}
		for _, k := range pk {
			ch.Key[k] = r.values[k]
		}
		var sets []setValue
		perRow := false
		if c.DeleteRow {
			ch.Deleted = true
		} else {
			for _, f := range selected {
				e := f.Erasure()
				cur := r.values[f.Name]
				v, changed, err := erasedValue(e, cur, opt)
				if err != nil {
					return nil, nil, fmt.Errorf("field %q: %w", f.Name, err)
				}
				if !changed {
					continue
				}
				ch.Fields = append(ch.Fields, FieldChange{Field: f.Name, Strategy: e.Strategy})
				sets = append(sets, setValue{field: f.Name, value: v, null: v == nil})
				if e.Strategy != dataset.EraseNull && e.Strategy != dataset.EraseFixed {
					perRow = true
				}
			}
			if len(sets) == 0 {
				continue
			}
		}
		if len(pk) == 0 {
			return nil, nil, ErrNoPrimaryKey
		}
		sort.Slice(ch.Fields, func(i, j int) bool { return ch.Fields[i].Field < ch.Fields[j].Field })
		changes = append(changes, ch)
		if perRow {
			stmts = append(stmts, writeStatement(kind, c.Name, pk, sets, []foundRow{r}))
			continue
		}
		g := fmt.Sprintf("%v", sets)
		if _, ok := groups[g]; !ok {
			order = append(order, g)
			groupSets[g] = sets
		}
		groups[g] = append(groups[g], r)
	}
	// Each row's key takes len(pk) parameters besides the assignments.
	for _, g := range order {
		sets, rs := groupSets[g], groups[g]
		per := max(1, (min(maxBatch, connector.MaxParams(kind))-len(sets))/len(pk))
		for start := 0; start < len(rs); start += per {
			stmts = append(stmts, writeStatement(kind, c.Name, pk, sets, rs[start:min(start+per, len(rs))]))
		}
	}
	return changes, stmts, nil
}

// writeStatement updates (or, with no assignments, deletes) the given rows by primary key.
func writeStatement(kind connector.Kind, table string, pk []string, sets []setValue, rows []foundRow) statement {
	var b strings.Builder
	var args []any
	if len(sets) == 0 {
		b.WriteString("DELETE FROM " + connector.Quote(kind, table))
	} else {
		b.WriteString("UPDATE " + connector.Quote(kind, table) + " SET ")
		for i, s := range sets {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(connector.Quote(kind, s.field) + " = ")
			if s.null {
				b.WriteString("NULL")
				continue
			}
			args = append(args, s.value)
			b.WriteString(placeholders(kind, len(args), 1))
		}
	}
	b.WriteString(" WHERE ")
	quoted := make([]string, len(pk))
	for i, k := range pk {
		quoted[i] = connector.Quote(kind, k)
	}
	if len(pk) == 1 {
		b.WriteString(quoted[0])
	} else {
		b.WriteString("(" + strings.Join(quoted, ", ") + ")")
	}
	b.WriteString(" IN (")
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		if len(pk) > 1 {
			b.WriteString("(")
		}
		for j, k := range pk {
			if j > 0 {
				b.WriteString(", ")
			}
			args = append(args, r.values[k])
			b.WriteString(placeholders(kind, len(args), 1))
		}
		if len(pk) > 1 {
			b.WriteString(")")
		}
	}
	b.WriteString(")")
	return statement{table: table, query: b.String(), args: args}
}

// hexDigest matches what the hash and hmac strategies write.
var hexDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// erasedValue returns the value e writes in place of cur (nil for NULL) and
// whether that changes the field.
func erasedValue(e dataset.Erase, cur any, opt EraseOptions) (any, bool, error) {
	switch e.Strategy {
	case dataset.EraseKeep, "":
		return cur, false, nil
	case dataset.EraseNull:
		return nil, cur != nil, nil
	case dataset.EraseFixed:
		return e.Value, cur == nil || fmt.Sprint(cur) != e.Value, nil
	}
	if cur == nil {
		return nil, false, nil // nothing to hide
	}
	var s string
	switch v := normalize(cur).(type) {
	case string:
		s = v
	default:
		return nil, false, fmt.Errorf("%w (%s on %T)", ErrNotText, e.Strategy, cur)
	}
	switch e.Strategy {
	case dataset.EraseMask:
		m := Mask(s)
		return m, m != s, nil
	case dataset.EraseHash:
		if len(opt.Salt) == 0 {
			return nil, false, ErrNoSalt
		}
		if hexDigest.MatchString(s) {
			return s, false, nil
		}
		h := sha256.New()
		h.Write(opt.Salt)
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil)), true, nil
	case dataset.EraseHMAC:
		if len(opt.HMACKey) == 0 {
			return nil, false, ErrNoHMACKey
		}
		if hexDigest.MatchString(s) {
			return s, false, nil
		}
		h := hmac.New(sha256.New, opt.HMACKey)
		h.Write([]byte(s))
		return hex.EncodeToString(h.Sum(nil)), true, nil
	case dataset.EraseRandom:
		b := make([]byte, 16)
		rand.Read(b)
		return hex.EncodeToString(b), true, nil
	}
	return nil, false, fmt.Errorf("unknown erase strategy %q", e.Strategy)
}

// Mask keeps the first 3 and last 4 characters of s with **** between them;
// shorter values are masked whole. Masking a masked value changes nothing.
func Mask(s string) string {
	r := []rune(s)
	if len(r) <= 7 {
		return strings.Repeat("*", len(r))
	}
	return string(r[:3]) + "****" + string(r[len(r)-4:])
}
