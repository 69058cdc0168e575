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

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Scratch is a throw-away PostgreSQL schema.
type Scratch struct {
	Name string // the schema
	DSN  string // the server's URL with search_path set to the schema
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
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+s.Name); err != nil {
		db.Close()
		return nil, fmt.Errorf("scratch schema: create: %w", err)
	}
	q := u.Query()
	q.Set("search_path", s.Name)
	u.RawQuery = q.Encode()
	s.DSN = u.String()
	return s, nil
}

// Drop removes the schema and everything in it.
func (s *Scratch) Drop(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+s.Name+` CASCADE`)
	s.db.Close()
	if err != nil {
		return fmt.Errorf("drop schema %s: %w", s.Name, err)
	}
	return nil
}
