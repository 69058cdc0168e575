package execute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
)

// DefaultSweepBatch is how many rows one batch of a sweep reads and
// changes in one transaction: small enough that no lock is held long and
// memory stays flat whatever the table's size.
const DefaultSweepBatch = 500

// Period is a stretch of time [From, To); a zero bound leaves that side open.
type Period struct{ From, To time.Time }

// Sweep is one collection swept under one retention rule: every row whose
// Clock field lies before Cutoff gets Action. Rows whose clock lies in an
// Excluded period, or whose key Held reports, are left alone and counted.
//
// A sweep recognises in the database what it has done: deleted rows are
// gone, erased rows have every erased field NULL or at its fixed value,
// anonymised rows have every dropped field NULL. So a sweep stopped
// anywhere (a crash, a cancelled context) and run again carries on where
// it stopped and changes nothing twice, and a second run finds nothing.
type Sweep struct {
	Kind       connector.Kind
	Collection dataset.Collection
	// Clock and Cutoff select the rows due; an empty Clock makes every row
	// of the collection due (a service discontinued).
	Clock  string
	Cutoff time.Time
	// Fields, when not nil, limits erasure to these fields.
	Fields   []string
	Action   string // dataset.ActionDelete, ActionErase or ActionAnonymise
	Excluded []Period
	// Held reports rows that a hold keeps, by their primary key values in
	// key order; nil holds none.
	Held func(key []any) bool
	// Batch bounds the rows of one transaction; 0 is DefaultSweepBatch.
	Batch int
	// Match, when its Field is set, limits the sweep to the rows whose
	// Field holds Value: the rows a processor holds for one customer.
	Match Match
}

// Match selects the rows whose Field holds Value.
type Match struct{ Field, Value string }

// SweepResult counts what a sweep did. It never carries values.
type SweepResult struct {
	Rows    int64    // rows deleted, erased or anonymised
	Held    int64    // rows due that a hold kept
	Fields  []string // fields rewritten (erase, anonymise), sorted
	Batches int
}

// SweepCount is what a sweep would do now.
type SweepCount struct {
	Due    int64      // rows past their period and not yet dealt with, held ones included
	Held   int64      // of those, rows in an excluded period (holds by subject are counted by the caller)
	Oldest *time.Time // the earliest clock among the rows due
	// Unreadable counts rows whose clock SQLite cannot read as a time
	// (not ISO 8601 text or a Julian day number): never due, so kept
	// forever until the value is fixed. Always 0 on other engines, whose
	// columns hold times.
	Unreadable int64
}

// ErrNoPrimaryKeyToSweep is returned for a collection without an annotated
// primary key: a sweep walks and addresses rows by key.
var ErrNoPrimaryKeyToSweep = errors.New("execute: sweep: collection has no primary key")

// change is what a sweep writes into one field of a row.
type change struct {
	field string
	erase dataset.Erase // for ActionErase
	anon  string        // for ActionAnonymise
}

// changes lists the fields the sweep's action rewrites.
func (s Sweep) changes() []change {
	var out []change
	for _, f := range s.Collection.Fields {
		switch s.Action {
		case dataset.ActionErase:
			if s.Fields != nil && !slices.Contains(s.Fields, f.Name) {
				continue
			}
			if e := f.Erasure(); len(f.Categories) > 0 && e.Strategy != dataset.EraseKeep {
				out = append(out, change{field: f.Name, erase: e})
			}
		case dataset.ActionAnonymise:
			if a := f.Anonymisation(); a != dataset.AnonymiseKeep {
				out = append(out, change{field: f.Name, anon: a})
			}
		}
	}
	return out
}

// query builds the parts shared by counting and walking: the clock's
// expression and the conditions every due row meets. args are numbered
// from 1.
type query struct {
	s     Sweep
	where []string
	args  []any
}

func (s Sweep) clockExpr() string {
	c := connector.Quote(s.Kind, s.Clock)
	if s.Kind == connector.SQLite {
		// SQLite keeps times as text in several spellings; julianday reads them all.
		return "julianday(" + c + ")"
	}
	return c
}

// timeArg is t as the engine compares it with the clock.
func (s Sweep) timeArg(t time.Time) any {
	if s.Kind == connector.SQLite {
		return t.UTC().Format("2006-01-02 15:04:05.000")
	}
	return t
}

func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	if q.s.Kind == connector.SQLite {
		return "julianday(?)"
	}
	return placeholders(q.s.Kind, len(q.args), 1)
}

func (q *query) plain(v any) string {
	q.args = append(q.args, v)
	return placeholders(q.s.Kind, len(q.args), 1)
}

// due is the condition for rows past their period and not yet dealt with.
func (s Sweep) due(includeExcluded bool) *query {
	q := &query{s: s}
	q.due(includeExcluded)
	return q
}

// where joins conditions; none selects every row.
func where(conds []string) string {
	if len(conds) == 0 {
		return "1 = 1"
	}
	return strings.Join(conds, " AND ")
}

// due adds the conditions of Sweep.due to q. Arguments are bound in the
// order of the text with ? placeholders, so whatever q's statement says
// before its WHERE clause must be added to q first.
func (q *query) due(includeExcluded bool) {
	s := q.s
	if s.Clock != "" {
		q.where = append(q.where, s.clockExpr()+" < "+q.arg(s.timeArg(s.Cutoff)))
	}
	if s.Match.Field != "" {
		q.where = append(q.where, connector.Quote(s.Kind, s.Match.Field)+" = "+q.plain(s.Match.Value))
	}
	var pending []string
	for _, c := range s.changes() {
		col := connector.Quote(s.Kind, c.field)
		switch {
		case c.anon == dataset.AnonymiseDrop, c.erase.Strategy == dataset.EraseNull:
			pending = append(pending, col+" IS NOT NULL")
		case c.erase.Strategy == dataset.EraseFixed:
			pending = append(pending, "("+col+" IS NULL OR "+col+" <> "+q.plain(c.erase.Value)+")")
		}
	}
	if len(pending) > 0 {
		q.where = append(q.where, "("+strings.Join(pending, " OR ")+")")
	}
	if !includeExcluded {
		for _, p := range s.Excluded {
			q.where = append(q.where, "NOT "+q.period(p))
		}
	}
}

// period is the condition that the clock lies in p.
func (q *query) period(p Period) string {
	var parts []string
	if !p.From.IsZero() {
		parts = append(parts, q.s.clockExpr()+" >= "+q.arg(q.s.timeArg(p.From)))
	}
	if !p.To.IsZero() {
		parts = append(parts, q.s.clockExpr()+" < "+q.arg(q.s.timeArg(p.To)))
	}
	if len(parts) == 0 {
		return "(1 = 1)"
	}
	return "(" + strings.Join(parts, " AND ") + ")"
}

// Count reports how many rows are due now, how many of them an excluded
// period holds, and the oldest clock among them.
func (s Sweep) Count(ctx context.Context, db *sql.DB) (SweepCount, error) {
	var out SweepCount
	table := connector.Quote(s.Kind, s.Collection.Name)
	q := &query{s: s}
	held := "0"
	if len(s.Excluded) > 0 {
		var ors []string
		for _, p := range s.Excluded {
			ors = append(ors, q.period(p))
		}
		held = "CASE WHEN " + strings.Join(ors, " OR ") + " THEN 1 ELSE 0 END"
	}
	q.due(true)
	oldestExpr := "NULL"
	if s.Clock != "" {
		oldestExpr = "MIN(" + connector.Quote(s.Kind, s.Clock) + ")"
	}
	stmt := "SELECT COUNT(*), COALESCE(SUM(" + held + "), 0), " + oldestExpr + " FROM " + table +
		" WHERE " + where(q.where)
	var oldest any
	if err := db.QueryRowContext(ctx, stmt, q.args...).Scan(&out.Due, &out.Held, &oldest); err != nil {
		return out, fmt.Errorf("execute: count due rows of %q: %w", s.Collection.Name, err)
	}
	if t, ok := asTime(oldest); ok {
		out.Oldest = &t
	}
	if s.Kind == connector.SQLite && s.Clock != "" {
		c := connector.Quote(s.Kind, s.Clock)
		stmt := "SELECT COUNT(*) FROM " + table + " WHERE " + c + " IS NOT NULL AND julianday(" + c + ") IS NULL"
		if err := db.QueryRowContext(ctx, stmt).Scan(&out.Unreadable); err != nil {
			return out, fmt.Errorf("execute: count unreadable clocks of %q: %w", s.Collection.Name, err)
		}
	}
	return out, nil
}

// Run sweeps the collection batch by batch, each batch in its own
// transaction, walking the primary key upwards. progress, if not nil, is
// told after each batch how many rows have been changed so far.
func (s Sweep) Run(ctx context.Context, db *sql.DB, progress func(SweepResult)) (SweepResult, error) {
	var res SweepResult
	pk := primaryKey(s.Collection)
	if len(pk) == 0 {
		return res, ErrNoPrimaryKeyToSweep
	}
	batch := s.Batch
	if batch <= 0 {
		batch = DefaultSweepBatch
	}
	changes := s.changes()
	fields := map[string]bool{}
	var cursor []any
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		rows, err := s.page(ctx, db, pk, changes, cursor, batch)
		if err != nil {
			return res, err
		}
		if len(rows) == 0 {
			break
		}
		after := slices.Clone(cursor)
		last := rows[len(rows)-1]
		cursor = cursor[:0]
		for _, k := range pk {
			cursor = append(cursor, last[k])
		}
		if s.deletesByRange(pk) {
			n, err := s.deleteRange(ctx, db, pk[0], after, cursor[0])
			if err != nil {
				return res, err
			}
			res.Rows += n
			res.Batches++
			if progress != nil {
				progress(res)
			}
			if len(rows) < batch {
				break
			}
			// An integer key: carry on by ranges of keys sized from this
			// page, without reading the rows first (see deleteRanges).
			first, ok1 := rows[0][pk[0]].(int64)
			last, ok2 := cursor[0].(int64)
			if ok1 && ok2 && last > first {
				step := max(1, (last-first)*int64(batch)/int64(len(rows)))
				return s.deleteRanges(ctx, db, pk[0], last, step, batch, res, progress)
			}
			continue
		}
		var todo []map[string]any
		for _, r := range rows {
			if s.Held != nil && s.Held(keyOf(pk, r)) {
				res.Held++
				continue
			}
			todo = append(todo, r)
		}
		n, changed, err := s.apply(ctx, db, pk, changes, todo)
		if err != nil {
			return res, err
		}
		res.Rows += n
		for _, f := range changed {
			fields[f] = true
		}
		res.Batches++
		if progress != nil {
			progress(res)
		}
		if len(rows) < batch {
			break
		}
	}
	for f := range fields {
		res.Fields = append(res.Fields, f)
	}
	slices.Sort(res.Fields)
	return res, nil
}

// page reads the next batch of due rows after cursor, in key order: the
// key and the fields the action rewrites.
func (s Sweep) page(ctx context.Context, db *sql.DB, pk []string, changes []change, cursor []any, batch int) ([]map[string]any, error) {
	cols := slices.Clone(pk)
	for _, c := range changes {
		if !slices.Contains(cols, c.field) {
			cols = append(cols, c.field)
		}
	}
	return s.read(ctx, db, pk, cols, cursor, batch)
}

// read reads cols (the key first) of the next batch of due rows after
// cursor, in key order.
func (s Sweep) read(ctx context.Context, db *sql.DB, pk, cols []string, cursor []any, batch int) ([]map[string]any, error) {
	q := s.due(false)
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = connector.Quote(s.Kind, c)
	}
	keyCols := strings.Join(quoted[:len(pk)], ", ")
	if cursor != nil {
		ph := make([]string, len(cursor))
		for i, v := range cursor {
			ph[i] = q.plain(v)
		}
		if len(pk) == 1 {
			q.where = append(q.where, quoted[0]+" > "+ph[0])
		} else {
			q.where = append(q.where, "("+keyCols+") > ("+strings.Join(ph, ", ")+")")
		}
	}
	stmt := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY %s LIMIT %d", strings.Join(quoted, ", "),
		connector.Quote(s.Kind, s.Collection.Name), where(q.where), keyCols, batch)
	rows, err := db.QueryContext(ctx, stmt, q.args...)
	if err != nil {
		return nil, fmt.Errorf("execute: sweep %q: read: %w", s.Collection.Name, err)
	}
	out, err := scanMaps(rows)
	if err != nil {
		return nil, fmt.Errorf("execute: sweep %q: read: %w", s.Collection.Name, err)
	}
	return out, nil
}

// Each gives fn every row the sweep would change, with every annotated
// field, in key order, reading a batch at a time: what a processor hands
// back to a customer before deleting it. Rows Held reports are left out.
// It changes nothing.
func (s Sweep) Each(ctx context.Context, db *sql.DB, fn func(row map[string]any) error) error {
	pk := primaryKey(s.Collection)
	if len(pk) == 0 {
		return ErrNoPrimaryKeyToSweep
	}
	batch := s.Batch
	if batch <= 0 {
		batch = DefaultSweepBatch
	}
	cols := slices.Clone(pk)
	for _, f := range s.Collection.Fields {
		if !slices.Contains(cols, f.Name) {
			cols = append(cols, f.Name)
		}
	}
	var cursor []any
	for {
		rows, err := s.read(ctx, db, pk, cols, cursor, batch)
		if err != nil {
			return err
		}
		for _, r := range rows {
			if s.Held != nil && s.Held(keyOf(pk, r)) {
				continue
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(rows) < batch {
			return nil
		}
		cursor = keyOf(pk, rows[len(rows)-1])
	}
}

// deletesByRange reports whether a batch of deletions may address its rows
// by the key range the batch read rather than key by key. The batch read
// every due row between the cursors, in key order, so "due and in the
// range" is the same rows, and a range is one index scan where a list of
// keys is one index descent per row: on PostgreSQL, at 500 keys, most of a
// batch's time. It needs a single-column key and no holds (a row that
// became due in the range since the read was not shown to Held). On MySQL
// the range is deleted under READ COMMITTED (deleteRange): under InnoDB's
// default REPEATABLE READ a range scan would lock every record it reads
// until commit, the live rows between expired ones too.
func (s Sweep) deletesByRange(pk []string) bool {
	return s.Action == dataset.ActionDelete && s.Held == nil && len(pk) == 1
}

// deleteRange deletes the due rows whose key lies in (after, last], or up
// to last when after is nil, in one statement: its own transaction.
func (s Sweep) deleteRange(ctx context.Context, db *sql.DB, key string, after []any, last any) (int64, error) {
	q := s.due(false)
	col := connector.Quote(s.Kind, key)
	if after != nil {
		q.where = append(q.where, col+" > "+q.plain(after[0]))
	}
	q.where = append(q.where, col+" <= "+q.plain(last))
	stmt := "DELETE FROM " + connector.Quote(s.Kind, s.Collection.Name) + " WHERE " + strings.Join(q.where, " AND ")
	if s.Kind != connector.MySQL {
		r, err := db.ExecContext(ctx, stmt, q.args...)
		if err != nil {
			return 0, fmt.Errorf("execute: sweep %q: write: %w", s.Collection.Name, err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("execute: sweep %q: write: %w", s.Collection.Name, err)
		}
		return n, nil
	}
	// InnoDB under READ COMMITTED locks only the rows the DELETE matches
	// and takes no gap locks: the live rows between expired ones stay free
	// for the application.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return 0, fmt.Errorf("execute: sweep %q: %w", s.Collection.Name, err)
	}
	defer tx.Rollback()
	r, err := tx.ExecContext(ctx, stmt, q.args...)
	if err != nil {
		return 0, fmt.Errorf("execute: sweep %q: write: %w", s.Collection.Name, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("execute: sweep %q: write: %w", s.Collection.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("execute: sweep %q: commit: %w", s.Collection.Name, err)
	}
	return n, nil
}

// deleteRanges deletes the due rows with an integer key above from, a
// range of keys at a time, each range one statement (its own transaction)
// that reads and deletes the rows together: half the work of reading a
// batch and then deleting it. Each range's width is adjusted from how many
// rows the last one deleted, to keep near batch rows a statement; a range
// that deletes nothing is followed by a seek to the next due row, and the
// sweep ends when there is none.
func (s Sweep) deleteRanges(ctx context.Context, db *sql.DB, key string, from, step int64, batch int, res SweepResult, progress func(SweepResult)) (SweepResult, error) {
	for {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		to := int64(math.MaxInt64)
		if from < math.MaxInt64-step {
			to = from + step
		}
		n, err := s.deleteRange(ctx, db, key, []any{from}, to)
		if err != nil {
			return res, err
		}
		res.Rows += n
		res.Batches++
		if progress != nil {
			progress(res)
		}
		if to == math.MaxInt64 {
			return res, nil
		}
		from = to
		if n == 0 {
			next, err := s.page(ctx, db, []string{key}, nil, []any{from}, 1)
			if err != nil {
				return res, err
			}
			k, ok := firstKey(next, key)
			if !ok {
				return res, nil
			}
			from = k - 1
			continue
		}
		// Aim at batch rows, changing the width at most fourfold a step.
		next := float64(step) * float64(batch) / float64(n)
		next = min(max(next, float64(step)/4, 1), float64(step)*4, math.MaxInt64/8)
		step = int64(next)
	}
}

// firstKey is the integer key of the first row read, if any.
func firstKey(rows []map[string]any, key string) (int64, bool) {
	if len(rows) == 0 {
		return 0, false
	}
	k, ok := rows[0][key].(int64)
	return k, ok
}

// apply changes rows in one transaction and returns how many rows changed
// and which fields. Every statement repeats the clock's condition, so a
// row whose clock moved forward since it was read (a login refreshing
// last_login_at) is left alone.
func (s Sweep) apply(ctx context.Context, db *sql.DB, pk []string, changes []change, rows []map[string]any) (int64, []string, error) {
	if len(rows) == 0 {
		return 0, nil, nil
	}
	var stmts []sweepStatement
	var fields []string
	if s.Action == dataset.ActionDelete {
		stmts = append(stmts, s.statement(pk, nil, rows))
	} else {
		groups := map[string][]map[string]any{}
		groupSets := map[string][]setValue{}
		var order []string
		for _, r := range rows {
			var sets []setValue
			for _, c := range changes {
				v, changed, err := s.newValue(c, r[c.field])
				if err != nil {
					return 0, nil, fmt.Errorf("execute: sweep %q: field %q: %w", s.Collection.Name, c.field, err)
				}
				if changed {
					sets = append(sets, setValue{field: c.field, value: v, null: v == nil})
					if !slices.Contains(fields, c.field) {
						fields = append(fields, c.field)
					}
				}
			}
			if len(sets) == 0 {
				continue
			}
			g := fmt.Sprintf("%#v", sets)
			if _, ok := groups[g]; !ok {
				order = append(order, g)
				groupSets[g] = sets
			}
			groups[g] = append(groups[g], r)
		}
		for _, g := range order {
			stmts = append(stmts, s.statement(pk, groupSets[g], groups[g]))
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("execute: sweep %q: %w", s.Collection.Name, err)
	}
	defer tx.Rollback()
	var n int64
	for _, st := range stmts {
		r, err := tx.ExecContext(ctx, st.query, st.args...)
		if err != nil {
			return 0, nil, fmt.Errorf("execute: sweep %q: write: %w", s.Collection.Name, err)
		}
		k, err := r.RowsAffected()
		if err != nil {
			return 0, nil, fmt.Errorf("execute: sweep %q: write: %w", s.Collection.Name, err)
		}
		n += k
	}
	if err := tx.Commit(); err != nil {
		return 0, nil, fmt.Errorf("execute: sweep %q: commit: %w", s.Collection.Name, err)
	}
	return n, fields, nil
}

// newValue is what the sweep writes in place of cur, and whether that changes it.
func (s Sweep) newValue(c change, cur any) (any, bool, error) {
	if s.Action == dataset.ActionErase {
		return erasedValue(c.erase, cur, EraseOptions{})
	}
	if c.anon == dataset.AnonymiseDrop {
		return nil, cur != nil, nil
	}
	g, err := generalise(cur, c.anon)
	if err != nil {
		return nil, false, err
	}
	return g, fmt.Sprint(g) != fmt.Sprint(cur), nil
}

type sweepStatement struct {
	query string
	args  []any
}

// statement deletes (no sets) or updates rows by key, still due.
func (s Sweep) statement(pk []string, sets []setValue, rows []map[string]any) sweepStatement {
	q := &query{s: s}
	var b strings.Builder
	if len(sets) == 0 {
		b.WriteString("DELETE FROM " + connector.Quote(s.Kind, s.Collection.Name))
	} else {
		b.WriteString("UPDATE " + connector.Quote(s.Kind, s.Collection.Name) + " SET ")
		for i, set := range sets {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(connector.Quote(s.Kind, set.field) + " = ")
			if set.null {
				b.WriteString("NULL")
			} else {
				b.WriteString(q.plain(set.value))
			}
		}
	}
	b.WriteString(" WHERE ")
	if s.Clock != "" {
		b.WriteString(s.clockExpr() + " < " + q.arg(s.timeArg(s.Cutoff)) + " AND ")
	}
	quoted := make([]string, len(pk))
	for i, k := range pk {
		quoted[i] = connector.Quote(s.Kind, k)
	}
	if len(pk) == 1 {
		b.WriteString(quoted[0] + " IN (")
	} else {
		b.WriteString("(" + strings.Join(quoted, ", ") + ") IN (")
	}
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		ph := make([]string, len(pk))
		for j, k := range pk {
			ph[j] = q.plain(r[k])
		}
		if len(pk) == 1 {
			b.WriteString(ph[0])
		} else {
			b.WriteString("(" + strings.Join(ph, ", ") + ")")
		}
	}
	b.WriteString(")")
	return sweepStatement{query: b.String(), args: q.args}
}

func keyOf(pk []string, r map[string]any) []any {
	out := make([]any, len(pk))
	for i, k := range pk {
		out[i] = r[k]
	}
	return out
}

// timeLayouts are the spellings of times databases return as text.
var timeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

// asTime reads a time from what a driver returned.
func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case []byte:
		return asTime(string(x))
	case string:
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, x); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// generalise truncates a date or time to the start of its year, month or
// day, keeping the representation it was read in.
func generalise(v any, to string) (any, error) {
	if v == nil {
		return nil, nil
	}
	trunc := func(t time.Time) time.Time {
		y, m, d := t.Date()
		switch to {
		case dataset.AnonymiseYear:
			m, d = 1, 1
		case dataset.AnonymiseMonth:
			d = 1
		}
		return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	}
	switch x := v.(type) {
	case time.Time:
		return trunc(x), nil
	case string:
		for _, l := range timeLayouts {
			if t, err := time.Parse(l, x); err == nil {
				return trunc(t).Format(l), nil
			}
		}
	}
	return nil, fmt.Errorf("cannot generalise a %T to a %s: not a date or time", v, to)
}
