package connector

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// MaxRowValueLen bounds each value Rows reads, so that a column of
// documents cannot fill memory.
const MaxRowValueLen = 64 << 10

// Rows reads table's columns row by row through one streaming cursor, in
// primary-key order when the table has one, each value cast to text and
// cut to MaxRowValueLen bytes (NULL is Valid false), and calls each with
// them. limit > 0 stops after that many rows. Memory stays bounded
// whatever the table's size: rows are never collected.
func Rows(ctx context.Context, c Connector, t Table, limit int, each func(row []sql.NullString) error) error {
	sc, ok := c.(*sqlConnector)
	if !ok {
		return errors.New("connector: rows: not a SQL connector")
	}
	if len(t.Columns) == 0 {
		return nil
	}
	textType := "text"
	switch sc.kind {
	case MySQL:
		textType = "CHAR"
	case SQLite:
		textType = "TEXT"
	}
	cols := make([]string, len(t.Columns))
	for i, col := range t.Columns {
		cols[i] = fmt.Sprintf("SUBSTR(CAST(%s AS %s), 1, %d)", Quote(sc.kind, col.Name), textType, MaxRowValueLen)
	}
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + Quote(sc.kind, t.Name)
	if len(t.PrimaryKey) > 0 {
		keys := make([]string, len(t.PrimaryKey))
		for i, k := range t.PrimaryKey {
			keys[i] = Quote(sc.kind, k)
		}
		q += " ORDER BY " + strings.Join(keys, ", ")
	}
	var args []any
	if limit > 0 {
		q += " LIMIT " + map[bool]string{true: "?", false: "$1"}[sc.kind != Postgres]
		args = append(args, limit)
	}
	rows, err := sc.db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("connector: rows of %s: %w", t.Name, err)
	}
	defer rows.Close()
	vals := make([]sql.NullString, len(t.Columns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("connector: rows of %s: %w", t.Name, err)
		}
		if err := each(vals); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("connector: rows of %s: %w", t.Name, err)
	}
	return nil
}
