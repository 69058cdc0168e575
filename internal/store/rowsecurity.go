package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/stdlib"
)

// On PostgreSQL, row-level security (migration 0011) is a second line
// behind the store's own scoping: a table of an organisation's data shows
// and takes only the rows whose org_id is the session's custos.org, and
// nothing while it is unset. The store sets it on every connection before
// using it for an organisation: once per connection and organisation for
// reads (sessions remembers which is set), and for the length of the
// transaction for writes.

// sessions remembers which organisation each PostgreSQL connection's
// session is set to, so that a read on a connection already set costs no
// extra round trip.
type sessions struct {
	mu sync.Mutex
	m  map[*stdlib.Conn]string
}

// maxSessions bounds the memory of connections that have since closed:
// past it, the memory is cleared, and each connection is set again once.
const maxSessions = 256

func (ss *sessions) get(c *stdlib.Conn) string {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.m[c]
}

func (ss *sessions) set(c *stdlib.Conn, org string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.m == nil || len(ss.m) >= maxSessions {
		ss.m = map[*stdlib.Conn]string{}
	}
	ss.m[c] = org
}

// reader runs a handle's reads: on SQLite on the read pool, on PostgreSQL
// on a connection set to the handle's organisation.
type reader struct{ s *Store }

// rd is what every read of an organisation's data goes through.
func (s *Store) rd() reader { return reader{s} }

// Rows are a query's rows; Close (or the last Next) gives the connection
// back.
type Rows struct {
	*sql.Rows
	release func()
}

// Next advances to the next row; after the last it closes the rows.
func (r *Rows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

// Close closes the rows and gives the connection back.
func (r *Rows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

// Row is a query's single row; Scan gives the connection back.
type Row struct {
	row     *sql.Row
	err     error
	release func()
}

// Scan copies the row's columns into dest.
func (r *Row) Scan(dest ...any) error {
	if r.release != nil {
		defer r.release()
	}
	if r.err != nil {
		return r.err
	}
	return r.row.Scan(dest...)
}

func (rd reader) QueryContext(ctx context.Context, query string, args ...any) (*Rows, error) {
	if rd.s.dialect != Postgres {
		rows, err := rd.s.r.QueryContext(ctx, query, args...)
		if err != nil {
			return nil, err
		}
		return &Rows{Rows: rows}, nil
	}
	c, err := rd.s.conn(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := c.QueryContext(ctx, query, args...)
	if err != nil {
		c.Close()
		return nil, err
	}
	return &Rows{Rows: rows, release: func() { c.Close() }}, nil
}

func (rd reader) QueryRowContext(ctx context.Context, query string, args ...any) *Row {
	if rd.s.dialect != Postgres {
		return &Row{row: rd.s.r.QueryRowContext(ctx, query, args...)}
	}
	c, err := rd.s.conn(ctx)
	if err != nil {
		return &Row{err: err}
	}
	return &Row{row: c.QueryRowContext(ctx, query, args...), release: func() { c.Close() }}
}

// conn takes a connection from the PostgreSQL pool with its session set
// to the handle's organisation.
func (s *Store) conn(ctx context.Context) (*sql.Conn, error) {
	c, err := s.r.Conn(ctx)
	if err != nil {
		return nil, err
	}
	var dc *stdlib.Conn
	if err := c.Raw(func(x any) error {
		var ok bool
		if dc, ok = x.(*stdlib.Conn); !ok {
			return fmt.Errorf("unexpected driver connection %T", x)
		}
		return nil
	}); err != nil {
		c.Close()
		return nil, err
	}
	if s.sessions.get(dc) != s.org {
		if _, err := c.ExecContext(ctx, `SELECT set_config('custos.org', $1, false)`, s.org); err != nil {
			c.Close()
			return nil, err
		}
		s.sessions.set(dc, s.org)
	}
	return c, nil
}

// scope sets, on PostgreSQL, the organisation a transaction's statements
// see and write, until it ends or is scoped again.
func (s *Store) scope(ctx context.Context, tx *sql.Tx, org string) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT set_config('custos.org', $1, true)`, org); err != nil {
		return fmt.Errorf("scope to the organisation: %w", mapErr(err))
	}
	return nil
}

// RowSecurity reports whether PostgreSQL enforces the row-level security
// policies on this connection's role: not for a superuser or a role with
// BYPASSRLS, for which only the store's own scoping separates
// organisations. SQLite has none; it reports false.
func (s *Store) RowSecurity(ctx context.Context) (bool, error) {
	if s.dialect != Postgres {
		return false, nil
	}
	var bypass bool
	if err := s.r.QueryRowContext(ctx, `SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user`).Scan(&bypass); err != nil {
		return false, fmt.Errorf("row security: %w", mapErr(err))
	}
	return !bypass, nil
}
