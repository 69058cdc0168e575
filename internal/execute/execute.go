// Package execute runs data-subject requests against an organisation's own
// databases, as a dataset describes them: Access finds every row that belongs
// to a person by following identity fields and references, and Erase rewrites
// the personal fields of those rows in one transaction.
//
// Values read from the databases are personal data: they never appear in the
// errors this package returns.
package execute

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
)

// Seeds are the identities a request starts from: identity name (email,
// phone, user_id or a custom one) → values.
type Seeds map[string][]any

// Row is one row found for the person, with the annotated fields only.
type Row map[string]any

// Result is every row found, by collection. Every collection of the datastore
// has an entry, empty when nothing was found in it.
type Result map[string][]Row

// Options narrow what Access returns.
type Options struct {
	// Categories keeps only fields with one of these categories (or a
	// category below one, e.g. "financial" keeps "financial.bank_account").
	// Empty keeps every annotated field.
	Categories []string
}

// maxBatch bounds one IN (…) list even where the engine allows more.
const maxBatch = 1000

// queryer is what the traversal needs: a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Access returns the rows of ds that belong to the person identified by seeds.
func Access(ctx context.Context, db *sql.DB, kind connector.Kind, ds *dataset.Datastore, seeds Seeds, opt Options) (Result, error) {
	found, err := traverse(ctx, db, kind, ds, seeds)
	if err != nil {
		return nil, err
	}
	return project(ds, found, opt), nil
}

// project keeps the annotated fields of the rows found, narrowed by opt.
func project(ds *dataset.Datastore, found []collectionRows, opt Options) Result {
	res := Result{}
	for ci, c := range ds.Collections {
		rows := []Row{}
		for _, r := range found[ci].rows {
			out := Row{}
			for _, f := range c.Fields {
				if len(opt.Categories) > 0 && !matchCategories(f.Categories, opt.Categories) {
					continue
				}
				out[f.Name] = r.values[f.Name]
			}
			rows = append(rows, out)
		}
		res[c.Name] = rows
	}
	return res
}

// matchCategories reports whether one of have is, or lies below, one of want.
func matchCategories(have, want []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w || strings.HasPrefix(h, w+".") {
				return true
			}
		}
	}
	return false
}

// foundRow is a row as read: every column of the table, so that rows of a
// collection without an annotated primary key can still be told apart.
type foundRow struct {
	key    string
	values map[string]any
}

// collectionRows are the rows found in one collection, in key order.
type collectionRows struct {
	rows  []foundRow
	byKey map[string]int
}

// lookup is one query to run: rows of a collection whose field holds one of values.
type lookup struct {
	coll   int
	field  string
	values []any
}

// traverse finds the person's rows breadth first, from the identity fields
// along the references. Each (collection, field, value) is looked up once,
// which ends cycles and avoids reading shared rows twice.
func traverse(ctx context.Context, q queryer, kind connector.Kind, ds *dataset.Datastore, seeds Seeds) ([]collectionRows, error) {
	return traverseFrom(ctx, q, kind, ds, seeds, nil)
}

// traverseFrom is traverse that also starts from fieldSeeds: rows of a
// collection whose field holds one of the values.
func traverseFrom(ctx context.Context, q queryer, kind connector.Kind, ds *dataset.Datastore, seeds Seeds, fieldSeeds map[FieldRef][]any) ([]collectionRows, error) {
	index := map[string]int{}
	for i, c := range ds.Collections {
		index[c.Name] = i
	}
	found := make([]collectionRows, len(ds.Collections))
	for i := range found {
		found[i].byKey = map[string]int{}
	}
	// edges[c] are the lookups to make from a row newly found in collection c:
	// take field from, look up collection to where field is.
	type edge struct {
		from    string
		to      int
		toField string
	}
	edges := make([][]edge, len(ds.Collections))
	for ci, c := range ds.Collections {
		for _, f := range c.Fields {
			for _, r := range f.References {
				if r.Datastore != "" && r.Datastore != ds.ID {
					continue // another database: not reachable from this one
				}
				ri, ok := index[r.Collection]
				if !ok {
					continue
				}
				if r.Direction == dataset.DirectionTo || r.Direction == dataset.DirectionBoth || r.Direction == "" {
					edges[ci] = append(edges[ci], edge{from: f.Name, to: ri, toField: r.Field})
				}
				if r.Direction == dataset.DirectionFrom || r.Direction == dataset.DirectionBoth || r.Direction == "" {
					edges[ri] = append(edges[ri], edge{from: r.Field, to: ci, toField: f.Name})
				}
			}
		}
	}

	// The walk goes in waves: every value found in one wave for the same
	// collection and field is looked up together in the next, so a
	// person's three orders cost one IN (…) on their items, not three.
	visited := map[string]bool{}
	type target struct {
		coll  int
		field string
	}
	var next []lookup
	at := map[target]int{} // index in next
	enqueue := func(coll int, field string, values []any) {
		for _, v := range values {
			v = normalize(v)
			if v == nil {
				continue
			}
			k := fmt.Sprintf("%d\x00%s\x00%s", coll, field, valueKey(v))
			if visited[k] {
				continue
			}
			visited[k] = true
			t := target{coll, field}
			i, ok := at[t]
			if !ok {
				i = len(next)
				at[t] = i
				next = append(next, lookup{coll: coll, field: field})
			}
			next[i].values = append(next[i].values, v)
		}
	}
	names := make([]string, 0, len(seeds))
	for name := range seeds {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for ci, c := range ds.Collections {
			for _, f := range c.Fields {
				if f.Identity == name {
					enqueue(ci, f.Name, seeds[name])
				}
			}
		}
	}

	refs := make([]FieldRef, 0, len(fieldSeeds))
	for ref := range fieldSeeds {
		refs = append(refs, ref)
	}
	sort.Slice(refs, func(a, b int) bool {
		if refs[a].Collection != refs[b].Collection {
			return refs[a].Collection < refs[b].Collection
		}
		return refs[a].Field < refs[b].Field
	})
	for _, ref := range refs {
		ci, ok := index[ref.Collection]
		if !ok {
			return nil, fmt.Errorf("execute: datastore %q has no collection %q", ds.ID, ref.Collection)
		}
		enqueue(ci, ref.Field, fieldSeeds[ref])
	}

	batch := min(maxBatch, connector.MaxParams(kind))
	for len(next) > 0 {
		wave := next
		next, at = nil, map[target]int{}
		for _, l := range wave {
			c := ds.Collections[l.coll]
			for start := 0; start < len(l.values); start += batch {
				part := l.values[start:min(start+batch, len(l.values))]
				rows, err := selectIn(ctx, q, kind, c.Name, l.field, part)
				if err != nil {
					return nil, err
				}
				for _, r := range rows {
					fr := foundRow{key: rowKey(c, r), values: r}
					if _, seen := found[l.coll].byKey[fr.key]; seen {
						continue
					}
					found[l.coll].byKey[fr.key] = len(found[l.coll].rows)
					found[l.coll].rows = append(found[l.coll].rows, fr)
					for _, e := range edges[l.coll] {
						enqueue(e.to, e.toField, []any{r[e.from]})
					}
				}
			}
		}
	}
	for i := range found {
		rows := found[i].rows
		sort.Slice(rows, func(a, b int) bool { return rows[a].key < rows[b].key })
	}
	return found, nil
}

// selectIn reads every column of the rows of table whose column holds one of values.
func selectIn(ctx context.Context, q queryer, kind connector.Kind, table, column string, values []any) ([]map[string]any, error) {
	query := "SELECT * FROM " + connector.Quote(kind, table) + " WHERE " + connector.Quote(kind, column) +
		" IN (" + placeholders(kind, 1, len(values)) + ")"
	rows, err := q.QueryContext(ctx, query, values...)
	if err != nil {
		return nil, fmt.Errorf("execute: read %q by %q: %w", table, column, err)
	}
	out, err := scanMaps(rows)
	if err != nil {
		return nil, fmt.Errorf("execute: read %q: %w", table, err)
	}
	return out, nil
}

// scanMaps reads every row as column → value, values normalised, and
// closes rows.
func scanMaps(rows *sql.Rows) ([]map[string]any, error) {
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			m[c] = normalize(vals[i])
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// placeholders returns n bound parameters numbered from first: $1, $2 on
// PostgreSQL, ? elsewhere.
func placeholders(kind connector.Kind, first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		if kind == connector.Postgres {
			fmt.Fprintf(&b, "$%d", first+i)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

// normalize gives the drivers' values one representation: text as string
// (MySQL returns []byte), integers as int64.
func normalize(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case int:
		return int64(x)
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	case int8:
		return int64(x)
	case uint32:
		return int64(x)
	case uint16:
		return int64(x)
	case uint8:
		return int64(x)
	}
	return v
}

// valueKey identifies a value for deduplication; types are part of it so
// that 1 and "1" stay apart.
func valueKey(v any) string {
	return fmt.Sprintf("%T:%v", v, v)
}

// primaryKey returns the collection's annotated primary key fields.
func primaryKey(c dataset.Collection) []string {
	var pk []string
	for _, f := range c.Fields {
		if f.PrimaryKey {
			pk = append(pk, f.Name)
		}
	}
	return pk
}

// rowKey identifies a row: by its annotated primary key, or else by every column.
func rowKey(c dataset.Collection, r map[string]any) string {
	cols := primaryKey(c)
	if len(cols) == 0 {
		for k := range r {
			cols = append(cols, k)
		}
		sort.Strings(cols)
	}
	var b strings.Builder
	for _, k := range cols {
		fmt.Fprintf(&b, "%s=%s\x00", k, sortableKey(r[k]))
	}
	return b.String()
}

// sortableKey orders integers numerically within a key ("2" before "10").
func sortableKey(v any) string {
	if n, ok := v.(int64); ok {
		// Flipping the sign bit makes unsigned order match signed order.
		return fmt.Sprintf("int64:%020d", uint64(n)^(1<<63))
	}
	return valueKey(v)
}
