package dsrbench

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
)

// The naive traversal is the peer: what a straightforward implementation of
// the same annotation does. It follows references depth first, one query
// per value (no IN lists), and remembers only the rows it has found, which
// is what it needs to end on cycles; a value reached along several paths
// (a customer's address from the customer, each order and the card) is
// queried each time. Erasure updates one row per statement.

// queryer is a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

type naiveEdge struct {
	from    string
	to      int
	toField string
}

// naiveRow is a row as read, every column.
type naiveRow map[string]any

// naiveFound is the rows found per collection, by primary key.
type naiveFound []map[string]naiveRow

// naiveStats counts the statements the naive traversal sends, for the report.
type naiveStats struct{ queries int }

func naiveTraverse(ctx context.Context, q queryer, ds *dataset.Datastore, seeds execute.Seeds, st *naiveStats) (naiveFound, error) {
	index := map[string]int{}
	for i, c := range ds.Collections {
		index[c.Name] = i
	}
	edges := make([][]naiveEdge, len(ds.Collections))
	for ci, c := range ds.Collections {
		for _, f := range c.Fields {
			for _, r := range f.References {
				ri, ok := index[r.Collection]
				if !ok || (r.Datastore != "" && r.Datastore != ds.ID) {
					continue
				}
				if r.Direction == dataset.DirectionTo || r.Direction == dataset.DirectionBoth || r.Direction == "" {
					edges[ci] = append(edges[ci], naiveEdge{from: f.Name, to: ri, toField: r.Field})
				}
				if r.Direction == dataset.DirectionFrom || r.Direction == dataset.DirectionBoth || r.Direction == "" {
					edges[ri] = append(edges[ri], naiveEdge{from: r.Field, to: ci, toField: f.Name})
				}
			}
		}
	}
	found := make(naiveFound, len(ds.Collections))
	for i := range found {
		found[i] = map[string]naiveRow{}
	}
	var visit func(coll int, field string, value any) error
	visit = func(coll int, field string, value any) error {
		if value == nil {
			return nil
		}
		c := ds.Collections[coll]
		rows, err := selectOne(ctx, q, c.Name, field, value)
		st.queries++
		if err != nil {
			return err
		}
		for _, r := range rows {
			k := pkKey(c, r)
			if _, seen := found[coll][k]; seen {
				continue
			}
			found[coll][k] = r
			for _, e := range edges[coll] {
				if err := visit(e.to, e.toField, r[e.from]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	for name, values := range seeds {
		for ci, c := range ds.Collections {
			for _, f := range c.Fields {
				if f.Identity != name {
					continue
				}
				for _, v := range values {
					if err := visit(ci, f.Name, v); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return found, nil
}

// selectOne reads every column of the rows of table whose column equals value.
func selectOne(ctx context.Context, q queryer, table, column string, value any) ([]naiveRow, error) {
	rows, err := q.QueryContext(ctx, "SELECT * FROM "+connector.Quote(connector.Postgres, table)+
		" WHERE "+connector.Quote(connector.Postgres, column)+" = $1", value)
	if err != nil {
		return nil, fmt.Errorf("naive: read %q by %q: %w", table, column, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("naive: read %q: %w", table, err)
	}
	var out []naiveRow
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("naive: read %q: %w", table, err)
		}
		r := make(naiveRow, len(cols))
		for i, c := range cols {
			r[c] = normalize(vals[i])
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("naive: read %q: %w", table, err)
	}
	return out, nil
}

// normalize gives integers and text the representation execute uses.
func normalize(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	}
	return v
}

func pkFields(c dataset.Collection) []string {
	var pk []string
	for _, f := range c.Fields {
		if f.PrimaryKey {
			pk = append(pk, f.Name)
		}
	}
	return pk
}

func pkKey(c dataset.Collection, r naiveRow) string {
	var b strings.Builder
	for _, k := range pkFields(c) {
		fmt.Fprintf(&b, "%T:%v\x00", r[k], r[k])
	}
	return b.String()
}

// comparePK orders rows by primary key, integers numerically, as execute does.
func comparePK(pk []string, a, b naiveRow) int {
	for _, k := range pk {
		x, xok := a[k].(int64)
		y, yok := b[k].(int64)
		if xok && yok {
			if x != y {
				if x < y {
					return -1
				}
				return 1
			}
			continue
		}
		if c := strings.Compare(fmt.Sprint(a[k]), fmt.Sprint(b[k])); c != 0 {
			return c
		}
	}
	return 0
}

// NaiveAccess returns the person's rows as execute.Access does (annotated
// fields, every collection present, rows in primary key order), found row
// at a time.
func NaiveAccess(ctx context.Context, db *sql.DB, ds *dataset.Datastore, seeds execute.Seeds) (execute.Result, int, error) {
	var st naiveStats
	found, err := naiveTraverse(ctx, db, ds, seeds, &st)
	if err != nil {
		return nil, st.queries, err
	}
	res := execute.Result{}
	for ci, c := range ds.Collections {
		pk := pkFields(c)
		rows := make([]naiveRow, 0, len(found[ci]))
		for _, r := range found[ci] {
			rows = append(rows, r)
		}
		slices.SortFunc(rows, func(a, b naiveRow) int { return comparePK(pk, a, b) })
		out := []execute.Row{}
		for _, r := range rows {
			o := execute.Row{}
			for _, f := range c.Fields {
				o[f.Name] = r[f.Name]
			}
			out = append(out, o)
		}
		res[c.Name] = out
	}
	return res, st.queries, nil
}

// NaiveErase finds the person's rows row at a time and sets to NULL every
// field whose category is selected, one UPDATE per row, in one
// transaction. It knows only the null strategy, which is all the shop's
// annotation uses. It returns the number of rows changed.
func NaiveErase(ctx context.Context, db *sql.DB, ds *dataset.Datastore, seeds execute.Seeds, categories []string) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("naive: erase: %w", err)
	}
	defer tx.Rollback()
	var st naiveStats
	found, err := naiveTraverse(ctx, tx, ds, seeds, &st)
	if err != nil {
		return 0, err
	}
	changed := 0
	for ci, c := range ds.Collections {
		pk := pkFields(c)
		for _, r := range found[ci] {
			var sets []string
			for _, f := range c.Fields {
				if !selected(f.Categories, categories) || r[f.Name] == nil {
					continue
				}
				if s := f.Erasure().Strategy; s != dataset.EraseNull {
					return 0, fmt.Errorf("naive: erase %q.%q: strategy %q not supported", c.Name, f.Name, s)
				}
				sets = append(sets, connector.Quote(connector.Postgres, f.Name)+" = NULL")
			}
			if len(sets) == 0 {
				continue
			}
			var where []string
			var args []any
			for i, k := range pk {
				where = append(where, fmt.Sprintf("%s = $%d", connector.Quote(connector.Postgres, k), i+1))
				args = append(args, r[k])
			}
			q := "UPDATE " + connector.Quote(connector.Postgres, c.Name) + " SET " + strings.Join(sets, ", ") + " WHERE " + strings.Join(where, " AND ")
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return 0, fmt.Errorf("naive: erase %q: %w", c.Name, err)
			}
			changed++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("naive: erase: commit: %w", err)
	}
	return changed, nil
}

// selected reports whether one of have is, or lies below, one of want.
func selected(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w || strings.HasPrefix(h, w+".") {
				return true
			}
		}
	}
	return false
}

// NaiveCorrect finds the person's rows row at a time and sets every
// correctable field holding a category of values to its value, where it
// differs, one UPDATE per row, in one transaction. Values are written as
// given (the benchmark's need no normal form). It returns the number of
// rows changed.
func NaiveCorrect(ctx context.Context, db *sql.DB, ds *dataset.Datastore, seeds execute.Seeds, values map[string]string) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("naive: correct: %w", err)
	}
	defer tx.Rollback()
	var st naiveStats
	found, err := naiveTraverse(ctx, tx, ds, seeds, &st)
	if err != nil {
		return 0, err
	}
	changed := 0
	for ci, c := range ds.Collections {
		pk := pkFields(c)
		for _, r := range found[ci] {
			var sets []string
			var args []any
			for _, f := range c.Fields {
				if f.Correct == "" {
					continue
				}
				for _, cat := range f.Categories {
					v, ok := values[cat]
					if !ok || r[f.Name] == v {
						continue
					}
					args = append(args, v)
					sets = append(sets, fmt.Sprintf("%s = $%d", connector.Quote(connector.Postgres, f.Name), len(args)))
					break
				}
			}
			if len(sets) == 0 {
				continue
			}
			var where []string
			for _, k := range pk {
				args = append(args, r[k])
				where = append(where, fmt.Sprintf("%s = $%d", connector.Quote(connector.Postgres, k), len(args)))
			}
			q := "UPDATE " + connector.Quote(connector.Postgres, c.Name) + " SET " + strings.Join(sets, ", ") + " WHERE " + strings.Join(where, " AND ")
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return 0, fmt.Errorf("naive: correct %q: %w", c.Name, err)
			}
			changed++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("naive: correct: commit: %w", err)
	}
	return changed, nil
}
