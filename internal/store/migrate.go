package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFS embed.FS

// Migration is one schema step.
type Migration struct {
	Version int
	Name    string
	sql     string
}

func migrations(dialect string) ([]Migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		num, rest, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(name, ".sql") {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", name)
		}
		body, err := fs.ReadFile(migrationFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: strings.TrimSuffix(rest, ".sql"), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// SchemaStatus reports the applied and the latest known schema versions.
func (s *Store) SchemaStatus(ctx context.Context) (applied, latest int, err error) {
	ms, err := migrations(s.dialect)
	if err != nil {
		return 0, 0, err
	}
	latest = ms[len(ms)-1].Version
	if _, err := s.w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return 0, 0, fmt.Errorf("schema status: %w", mapErr(err))
	}
	var v sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, 0, fmt.Errorf("schema status: %w", mapErr(err))
	}
	return int(v.Int64), latest, nil
}

// CheckSchema returns ErrSchema unless the database is at exactly the
// version this build expects; the server refuses to start otherwise.
func (s *Store) CheckSchema(ctx context.Context) error {
	applied, latest, err := s.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	switch {
	case applied < latest:
		return fmt.Errorf("%w: database is at version %d, this build needs %d; run `custos migrate`", ErrSchema, applied, latest)
	case applied > latest:
		return fmt.Errorf("%w: database is at version %d, newer than this build (%d); upgrade custos", ErrSchema, applied, latest)
	}
	return nil
}

// Migrate applies every pending migration, each in its own transaction, and
// returns the ones it applied. On PostgreSQL an advisory lock keeps several
// instances from migrating at once.
func (s *Store) Migrate(ctx context.Context) ([]Migration, error) {
	if s.dialect == Postgres {
		conn, err := s.w.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", mapErr(err))
		}
		defer conn.Close()
		const lockID = 0x637573746f73 // "custos"
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
			return nil, fmt.Errorf("migrate: lock: %w", mapErr(err))
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockID)
	}
	applied, _, err := s.SchemaStatus(ctx)
	if err != nil {
		return nil, err
	}
	ms, err := migrations(s.dialect)
	if err != nil {
		return nil, err
	}
	var done []Migration
	for _, m := range ms {
		if m.Version <= applied {
			continue
		}
		if err := s.apply(ctx, m); err != nil {
			return done, err
		}
		done = append(done, m)
	}
	return done, nil
}

// foreignKeysOff marks a SQLite migration that rebuilds tables: SQLite's
// procedure for that runs with foreign keys off (they cannot be switched
// inside a transaction) and checks them all before committing.
const foreignKeysOff = "-- custos:foreign-keys=off"

// apply runs one migration in its own transaction.
func (s *Store) apply(ctx context.Context, m Migration) error {
	rebuild := s.dialect == SQLite && strings.HasPrefix(m.sql, foreignKeysOff)
	if rebuild {
		// The write pool is one connection, so the pragma holds for the
		// transaction below.
		if _, err := s.w.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, mapErr(err))
		}
		defer s.w.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if rebuild {
			rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
			if err != nil {
				return fmt.Errorf("migration %04d_%s: foreign key check: %w", m.Version, m.Name, mapErr(err))
			}
			broken := rows.Next()
			rows.Close()
			if broken {
				return fmt.Errorf("migration %04d_%s: rows would break a foreign key; the database is left as it was", m.Version, m.Name)
			}
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`), m.Version, m.Name, micros(time.Now()))
		return err
	})
}

// Analyze refreshes the query planner's statistics for the whole database,
// as autovacuum does on PostgreSQL in time: maintenance, like migrating.
// After a bulk load, plans chosen on empty-table statistics read whole
// tables where an index would read a page.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.w.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("analyze: %w", mapErr(err))
	}
	return nil
}
