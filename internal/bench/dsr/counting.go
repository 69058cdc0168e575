package dsrbench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5/stdlib"
)

// The report counts the statements each engine sends without touching the
// engines: the shop's pool is opened through a connector that wraps pgx's
// and counts every query and exec on its connections. The wrapper forwards
// each optional database/sql interface pgx implements (context-aware query
// and exec, transactions with options, session reset, value checking,
// ping), so database/sql takes the same paths as with pgx alone: no
// statement is prepared on the side, no argument is converted differently.
// The connector is handed to sql.OpenDB rather than registered under a
// driver name, so each pool has its own count and nothing global is kept.

// Counter counts the statements sent through a pool opened by openCounted.
// BEGIN, COMMIT and ROLLBACK are not counted: both engines run an erasure
// in one transaction, so they would add the same to each.
type Counter struct{ n atomic.Int64 }

// Statements is the number of queries and execs sent so far.
func (c *Counter) Statements() int64 { return c.n.Load() }

// openCounted opens a pool on the PostgreSQL server at dsn whose statements
// c counts.
func openCounted(dsn string, c *Counter) (*sql.DB, error) {
	dc, ok := stdlib.GetDefaultDriver().(driver.DriverContext)
	if !ok {
		return nil, errors.New("pgx driver has no connector")
	}
	base, err := dc.OpenConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("open connector: %w", err)
	}
	return sql.OpenDB(countingConnector{base: base, n: c}), nil
}

type countingConnector struct {
	base driver.Connector
	n    *Counter
}

func (c countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{base: conn, n: c.n}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.base.Driver() }

// countingConn is a pgx connection that counts its statements.
type countingConn struct {
	base driver.Conn
	n    *Counter
}

var (
	_ driver.Conn               = (*countingConn)(nil)
	_ driver.ConnPrepareContext = (*countingConn)(nil)
	_ driver.ConnBeginTx        = (*countingConn)(nil)
	_ driver.QueryerContext     = (*countingConn)(nil)
	_ driver.ExecerContext      = (*countingConn)(nil)
	_ driver.Pinger             = (*countingConn)(nil)
	_ driver.SessionResetter    = (*countingConn)(nil)
	_ driver.Validator          = (*countingConn)(nil)
	_ driver.NamedValueChecker  = (*countingConn)(nil)
)

func (c *countingConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	var (
		s   driver.Stmt
		err error
	)
	if p, ok := c.base.(driver.ConnPrepareContext); ok {
		s, err = p.PrepareContext(ctx, query)
	} else {
		s, err = c.base.Prepare(query)
	}
	if err != nil {
		return nil, err
	}
	return &countingStmt{base: s, n: c.n}, nil
}

func (c *countingConn) Close() error { return c.base.Close() }

func (c *countingConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.base.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.base.Begin()
}

func (c *countingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.base.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.n.n.Add(1)
	return q.QueryContext(ctx, query, args)
}

func (c *countingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.base.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	c.n.n.Add(1)
	return e.ExecContext(ctx, query, args)
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.base.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.base.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.base.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.base.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// countingStmt is a prepared statement that counts its executions.
type countingStmt struct {
	base driver.Stmt
	n    *Counter
}

var (
	_ driver.StmtQueryContext  = (*countingStmt)(nil)
	_ driver.StmtExecContext   = (*countingStmt)(nil)
	_ driver.NamedValueChecker = (*countingStmt)(nil)
)

func (s *countingStmt) Close() error  { return s.base.Close() }
func (s *countingStmt) NumInput() int { return s.base.NumInput() }

func (s *countingStmt) Exec(args []driver.Value) (driver.Result, error) {
	s.n.n.Add(1)
	return s.base.Exec(args)
}

func (s *countingStmt) Query(args []driver.Value) (driver.Rows, error) {
	s.n.n.Add(1)
	return s.base.Query(args)
}

func (s *countingStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	e, ok := s.base.(driver.StmtExecContext)
	if !ok {
		return nil, errors.New("prepared statement without ExecContext")
	}
	s.n.n.Add(1)
	return e.ExecContext(ctx, args)
}

func (s *countingStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := s.base.(driver.StmtQueryContext)
	if !ok {
		return nil, errors.New("prepared statement without QueryContext")
	}
	s.n.n.Add(1)
	return q.QueryContext(ctx, args)
}

func (s *countingStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := s.base.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}
