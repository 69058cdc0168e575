package connector

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// sqlConnector serves every kind through database/sql; only the catalogue
// queries and the cast in Sample differ.
type sqlConnector struct {
	kind Kind
	db   *sql.DB
}

func (c *sqlConnector) Kind() Kind { return c.kind }

func (c *sqlConnector) Close() error { return c.db.Close() }

// Health checks that the database answers a query, not only that a
// connection opens.
func (c *sqlConnector) Health(ctx context.Context) error {
	var one int
	if err := c.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("connector: %s health: %w", c.kind, err)
	}
	return nil
}

// Sample reads up to limit non-NULL values of table.column as strings.
func (c *sqlConnector) Sample(ctx context.Context, table, column string, limit int) ([]string, error) {
	if limit < 1 {
		return nil, fmt.Errorf("connector: sample %s.%s: limit must be positive", table, column)
	}
	limit = min(limit, MaxSample)
	textType, param := "text", "$1"
	switch c.kind {
	case MySQL:
		textType, param = "CHAR", "?"
	case SQLite:
		textType, param = "TEXT", "?"
		// SQLite reads an unknown double-quoted identifier as a string
		// literal, which would "sample" the column's name; check it exists.
		var n int
		err := c.db.QueryRowContext(ctx, `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`, table, column).Scan(&n)
		if err != nil {
			return nil, fmt.Errorf("connector: sample %s.%s: %w", table, column, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("connector: sample %s.%s: no such column", table, column)
		}
	}
	col := Quote(c.kind, column)
	q := fmt.Sprintf("SELECT SUBSTR(CAST(%s AS %s), 1, %d) FROM %s WHERE %s IS NOT NULL LIMIT %s",
		col, textType, maxValueLen, Quote(c.kind, table), col, param)
	rows, err := c.db.QueryContext(ctx, q, limit)
	if err != nil {
		return nil, fmt.Errorf("connector: sample %s.%s: %w", table, column, err)
	}
	defer rows.Close()
	out := make([]string, 0, limit)
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("connector: sample %s.%s: %w", table, column, err)
		}
		if v.Valid {
			out = append(out, v.String)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("connector: sample %s.%s: %w", table, column, err)
	}
	return out, nil
}

// Introspect reads the catalogue of the current schema or database.
func (c *sqlConnector) Introspect(ctx context.Context) (Schema, error) {
	var (
		s   Schema
		err error
	)
	switch c.kind {
	case Postgres:
		s, err = c.introspectCatalog(ctx, postgresCatalog)
	case MySQL:
		s, err = c.introspectCatalog(ctx, mysqlCatalog)
	case SQLite:
		s, err = c.introspectSQLite(ctx)
	default:
		err = fmt.Errorf("unknown kind %q", c.kind)
	}
	if err != nil {
		return Schema{}, fmt.Errorf("connector: introspect %s: %w", c.kind, err)
	}
	normalize(&s)
	return s, nil
}

// catalog holds the queries for databases with an SQL catalogue. Each
// query returns rows in the columns named beside it.
type catalog struct {
	tables  string // table
	columns string // table, column, type, nullable (bool), ordered by position
	keys    string // table, constraint, kind ('p' or 'f'), column, ref table, ref column; ordered by position in key
}

var postgresCatalog = catalog{
	tables: `SELECT c.relname FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition`,
	columns: `SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), NOT a.attnotnull
		FROM pg_catalog.pg_attribute a
		JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
			AND a.attnum > 0 AND NOT a.attisdropped
		ORDER BY c.relname, a.attnum`,
	keys: `SELECT c.relname, con.conname, con.contype::text, a.attname,
			COALESCE(CASE WHEN rn.nspname = current_schema() THEN rc.relname ELSE rn.nspname || '.' || rc.relname END, ''),
			COALESCE(ra.attname, '')
		FROM pg_catalog.pg_constraint con
		JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		CROSS JOIN LATERAL unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
		JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
		LEFT JOIN pg_catalog.pg_class rc ON rc.oid = con.confrelid
		LEFT JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
		LEFT JOIN pg_catalog.pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[k.ord]
		WHERE n.nspname = current_schema() AND con.contype IN ('p', 'f')
		ORDER BY c.relname, con.conname, k.ord`,
}

var mysqlCatalog = catalog{
	tables: `SELECT TABLE_NAME FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'`,
	columns: `SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE = 'YES'
		FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE()
		ORDER BY TABLE_NAME, ORDINAL_POSITION`,
	keys: `SELECT TABLE_NAME, CONSTRAINT_NAME,
			CASE WHEN CONSTRAINT_NAME = 'PRIMARY' THEN 'p' ELSE 'f' END,
			COLUMN_NAME,
			COALESCE(CASE WHEN REFERENCED_TABLE_SCHEMA = DATABASE() THEN REFERENCED_TABLE_NAME
				ELSE CONCAT(REFERENCED_TABLE_SCHEMA, '.', REFERENCED_TABLE_NAME) END, ''),
			COALESCE(REFERENCED_COLUMN_NAME, '')
		FROM information_schema.KEY_COLUMN_USAGE
		WHERE TABLE_SCHEMA = DATABASE() AND (CONSTRAINT_NAME = 'PRIMARY' OR REFERENCED_TABLE_NAME IS NOT NULL)
		ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`,
}

func (c *sqlConnector) introspectCatalog(ctx context.Context, q catalog) (Schema, error) {
	var s Schema
	index := map[string]int{}
	err := query(ctx, c.db, q.tables, nil, func(r *sql.Rows) error {
		var name string
		if err := r.Scan(&name); err != nil {
			return err
		}
		index[name] = len(s.Tables)
		s.Tables = append(s.Tables, Table{Name: name})
		return nil
	})
	if err != nil {
		return Schema{}, fmt.Errorf("tables: %w", err)
	}
	err = query(ctx, c.db, q.columns, nil, func(r *sql.Rows) error {
		var table string
		var col Column
		if err := r.Scan(&table, &col.Name, &col.Type, &col.Nullable); err != nil {
			return err
		}
		if i, ok := index[table]; ok { // views have columns too
			s.Tables[i].Columns = append(s.Tables[i].Columns, col)
		}
		return nil
	})
	if err != nil {
		return Schema{}, fmt.Errorf("columns: %w", err)
	}
	type fkKey struct{ table, name string }
	fks := map[fkKey]*ForeignKey{}
	var order []fkKey
	err = query(ctx, c.db, q.keys, nil, func(r *sql.Rows) error {
		var table, name, kind, col, refTable, refCol string
		if err := r.Scan(&table, &name, &kind, &col, &refTable, &refCol); err != nil {
			return err
		}
		i, ok := index[table]
		if !ok {
			return nil
		}
		if kind == "p" {
			s.Tables[i].PrimaryKey = append(s.Tables[i].PrimaryKey, col)
			return nil
		}
		k := fkKey{table, name}
		fk := fks[k]
		if fk == nil {
			fk = &ForeignKey{RefTable: refTable}
			fks[k] = fk
			order = append(order, k)
		}
		fk.Columns = append(fk.Columns, col)
		fk.RefColumns = append(fk.RefColumns, refCol)
		return nil
	})
	if err != nil {
		return Schema{}, fmt.Errorf("keys: %w", err)
	}
	for _, k := range order {
		i := index[k.table]
		s.Tables[i].ForeignKeys = append(s.Tables[i].ForeignKeys, *fks[k])
	}
	return s, nil
}

func (c *sqlConnector) introspectSQLite(ctx context.Context) (Schema, error) {
	var s Schema
	err := query(ctx, c.db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`, nil,
		func(r *sql.Rows) error {
			var name string
			if err := r.Scan(&name); err != nil {
				return err
			}
			s.Tables = append(s.Tables, Table{Name: name})
			return nil
		})
	if err != nil {
		return Schema{}, fmt.Errorf("tables: %w", err)
	}
	for i := range s.Tables {
		t := &s.Tables[i]
		type pkCol struct {
			name string
			pos  int
			typ  string
		}
		var pk []pkCol
		err := query(ctx, c.db, `SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, []any{t.Name},
			func(r *sql.Rows) error {
				var col Column
				var notNull, pos int
				if err := r.Scan(&col.Name, &col.Type, &notNull, &pos); err != nil {
					return err
				}
				col.Nullable = notNull == 0
				if pos > 0 {
					pk = append(pk, pkCol{col.Name, pos, col.Type})
				}
				t.Columns = append(t.Columns, col)
				return nil
			})
		if err != nil {
			return Schema{}, fmt.Errorf("columns of %s: %w", t.Name, err)
		}
		slices.SortFunc(pk, func(a, b pkCol) int { return cmp.Compare(a.pos, b.pos) })
		for _, p := range pk {
			t.PrimaryKey = append(t.PrimaryKey, p.name)
		}
		if len(pk) == 1 && strings.EqualFold(pk[0].typ, "INTEGER") {
			// An INTEGER PRIMARY KEY is the rowid and can never be NULL.
			for j := range t.Columns {
				if t.Columns[j].Name == pk[0].name {
					t.Columns[j].Nullable = false
				}
			}
		}
		fks := map[int]*ForeignKey{}
		var ids []int
		err = query(ctx, c.db, `SELECT id, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq`, []any{t.Name},
			func(r *sql.Rows) error {
				var id int
				var ref, from string
				var to sql.NullString
				if err := r.Scan(&id, &ref, &from, &to); err != nil {
					return err
				}
				fk := fks[id]
				if fk == nil {
					fk = &ForeignKey{RefTable: ref}
					fks[id] = fk
					ids = append(ids, id)
				}
				fk.Columns = append(fk.Columns, from)
				// A NULL "to" means the parent's primary key, resolved below.
				if to.Valid && to.String != "" {
					fk.RefColumns = append(fk.RefColumns, to.String)
				}
				return nil
			})
		if err != nil {
			return Schema{}, fmt.Errorf("foreign keys of %s: %w", t.Name, err)
		}
		for _, id := range ids {
			t.ForeignKeys = append(t.ForeignKeys, *fks[id])
		}
	}
	// Resolve foreign keys that reference the parent's primary key implicitly.
	for i := range s.Tables {
		for j := range s.Tables[i].ForeignKeys {
			fk := &s.Tables[i].ForeignKeys[j]
			if len(fk.RefColumns) != 0 {
				continue
			}
			for _, p := range s.Tables {
				if strings.EqualFold(p.Name, fk.RefTable) {
					fk.RefColumns = slices.Clone(p.PrimaryKey)
				}
			}
		}
	}
	return s, nil
}

// normalize sorts what the catalogues may return in any order.
func normalize(s *Schema) {
	slices.SortFunc(s.Tables, func(a, b Table) int { return strings.Compare(a.Name, b.Name) })
	for i := range s.Tables {
		slices.SortStableFunc(s.Tables[i].ForeignKeys, func(a, b ForeignKey) int {
			if c := slices.Compare(a.Columns, b.Columns); c != 0 {
				return c
			}
			if c := strings.Compare(a.RefTable, b.RefTable); c != 0 {
				return c
			}
			return slices.Compare(a.RefColumns, b.RefColumns)
		})
	}
}

func query(ctx context.Context, db *sql.DB, q string, args []any, each func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return errors.Join(rows.Err(), rows.Close())
}
