// Package pgscratch makes throw-away PostgreSQL schemas for tests and
// benchmarks: a schema per run, and a DSN whose search_path points at it.
package pgscratch

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Scratch is a throw-away PostgreSQL schema.
type Scratch struct {
	Name string // the schema
	DSN  string // the server's URL with search_path set to the schema
	role string // the role that owns it, if one was made for it
	db   *sql.DB
}

// New creates a schema named prefix plus random hex on the server
// at postgresURL. Drop removes it.
func New(ctx context.Context, postgresURL, prefix string) (*Scratch, error) {
	u, err := url.Parse(postgresURL)
	if err != nil {
		return nil, fmt.Errorf("scratch schema: the PostgreSQL URL does not parse")
	}
	db, err := sql.Open("pgx", postgresURL)
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		return nil, fmt.Errorf("scratch schema: %w", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	s := &Scratch{Name: prefix + hex.EncodeToString(b), db: db}
	// The schema is owned by a role of its own that is not a superuser,
	// as Custos's role should be in production: row-level security binds
	// it, where a superuser would pass through. A caller that cannot make
	// roles (a scratch's own role, say) gets a schema under its own.
	var canCreateRoles bool
	if err := db.QueryRowContext(ctx, `SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user`).Scan(&canCreateRoles); err != nil {
		db.Close()
		return nil, fmt.Errorf("scratch schema: %w", err)
	}
	stmts := []string{`CREATE SCHEMA ` + s.Name}
	if canCreateRoles {
		s.role = s.Name
		stmts = []string{
			`CREATE ROLE ` + s.role + ` LOGIN NOSUPERUSER NOBYPASSRLS`,
			// Tests make schemas of their own beside this one.
			`GRANT CREATE ON DATABASE "` + dbName(u) + `" TO ` + s.role,
			`CREATE SCHEMA ` + s.Name + ` AUTHORIZATION ` + s.role,
		}
	}
	if err := serialised(ctx, db, stmts...); err != nil {
		s.Drop(ctx)
		return nil, fmt.Errorf("scratch schema: create: %w", err)
	}
	q := u.Query()
	q.Set("search_path", s.Name)
	u.RawQuery = q.Encode()
	if s.role != "" {
		u.User = url.User(s.role)
	}
	s.DSN = u.String()
	return s, nil
}

// Drop removes the schema and everything in it.
func (s *Scratch) Drop(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+s.Name+` CASCADE`)
	if err == nil && s.role != "" {
		// Its connections may linger in pools a test did not close; what
		// it made beside the schema goes with it.
		s.db.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, s.role)
		var exists bool
		s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, s.role).Scan(&exists)
		if exists {
			err = serialised(ctx, s.db, `DROP OWNED BY `+s.role+` CASCADE`, `DROP ROLE `+s.role)
		}
	}
	s.db.Close()
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", s.Name, err)
	}
	return nil
}

// dbName is the database a PostgreSQL URL names (the user's name when it
// names none, as libpq takes it).
func dbName(u *url.URL) string {
	if name := strings.TrimPrefix(u.Path, "/"); name != "" {
		return name
	}
	if u.User != nil {
		return u.User.Username()
	}
	return "postgres"
}

// serialised runs stmts in one transaction under a lock that every
// scratch takes: granting on the database and dropping a role's grants
// both rewrite the database's privileges, which PostgreSQL refuses to do
// from two transactions at once ("tuple concurrently updated").
func serialised(ctx context.Context, db *sql.DB, stmts ...string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	const lockID = 0x70677363726174 // "pgscrat"
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockID); err != nil {
		return err
	}
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}
