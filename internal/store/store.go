// Package store keeps Custos's state in SQLite or PostgreSQL through one
// portable SQL dialect. Queries are written with ? placeholders and rebound
// for PostgreSQL; where the dialects truly differ (types, triggers) the
// migrations have one file per dialect.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/custos-privacy/custos/internal/audit"
)

// Dialects.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// Neutral error kinds; driver errors never leave this package unmapped.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("conflict")
	ErrBusy     = errors.New("database busy")
	// ErrSchema is returned when the database schema is not the one this build expects.
	ErrSchema = errors.New("database schema out of date")
)

// DefaultOrg is the organisation of a deployment that has only one, and of
// everything stored before a deployment could hold several.
const DefaultOrg = "default"

// Store is a handle on one organisation's data in the database. Every
// query and write made through it is scoped to that organisation (Org);
// ForOrg gives a handle on another one. Handles share the connections and
// the writer.
type Store struct {
	*db
	// org is the organisation every query through this handle is scoped to.
	org string

	auditKey []byte
	keyID    string   // audit.KeyID(auditKey)
	prior    [][]byte // chain keys before rotations, oldest first
}

// db is what every handle on one database shares.
type db struct {
	dialect string
	// w carries every write. On SQLite it is a single connection: SQLite has
	// one writer, and queuing in Go is cheaper than busy retries.
	w *sql.DB
	// r serves reads; on SQLite a pool of read-only connections (WAL lets
	// readers run beside the writer), on PostgreSQL the same pool as w.
	r *sql.DB

	rebindMu sync.Mutex
	rebound  map[string]string

	writer *writer
	log    *slog.Logger

	// sessions is which organisation each PostgreSQL connection is set to.
	sessions sessions
	// listener wakes Listen's subscribers on other writers' commits.
	listener listener

	// closers are closed after the store, once its writes have landed.
	closers []io.Closer
}

// Org is the organisation this handle is scoped to.
func (s *Store) Org() string { return s.org }

// ForOrg returns a handle on organisation id's data, sharing this one's
// connections, writer and chain keys. It does not check that the
// organisation exists: Organisation does. Closing any handle closes the
// database for all of them.
func (s *Store) ForOrg(id string) *Store {
	c := *s
	c.org = id
	return &c
}

// WithChainKeys returns the handle with other chain keys: an
// organisation's trail and ledger are chained under its own identity key
// (see Options.AuditKey and PriorAuditKeys).
func (s *Store) WithChainKeys(key []byte, prior [][]byte) *Store {
	c := *s
	c.auditKey, c.keyID, c.prior = key, audit.KeyID(key), prior
	return &c
}

// CloseAfter has Close close c once the store's queued writes have landed:
// the key store the writes may still destroy keys in, say.
func (s *Store) CloseAfter(c io.Closer) { s.closers = append(s.closers, c) }

// Options tune a store.
type Options struct {
	// AuditKey keys the audit chain (see audit.Sum). Every process that
	// writes to or verifies one database must use the same key.
	AuditKey []byte
	// PriorAuditKeys are the chain keys of the identity keys before
	// rotations, oldest first: verification checks what was chained
	// before each rotation with them.
	PriorAuditKeys [][]byte
	// MaxBatch bounds how many writes one commit carries (default 256).
	// 1 commits every write alone, which benchmarks use as the baseline.
	MaxBatch int
	// MaxConns bounds the connections to a PostgreSQL database (default
	// 32): several instances on one database share its max_connections.
	MaxConns int
	// Logger is told what no caller is: a queued write that failed. The
	// default is slog.Default(), so that such a loss is never silent.
	Logger *slog.Logger
}

// Open connects to the database named by dsn: a file path, "sqlite:PATH",
// "file:PATH" or "postgres://…". It does not migrate; call Migrate or
// CheckSchema.
func Open(ctx context.Context, dsn string, opts ...Options) (*Store, error) {
	s := &Store{db: &db{rebound: map[string]string{}}, org: DefaultOrg}
	var opt Options
	for _, o := range opts {
		opt = o
	}
	s.auditKey = opt.AuditKey
	s.keyID = audit.KeyID(opt.AuditKey)
	s.prior = opt.PriorAuditKeys
	s.log = opt.Logger
	if s.log == nil {
		s.log = slog.Default()
	}
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://"):
		s.dialect = Postgres
		s.w, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		conns := opt.MaxConns
		if conns <= 0 {
			conns = 32
		}
		s.w.SetMaxOpenConns(conns)
		s.w.SetMaxIdleConns(conns)
		s.w.SetConnMaxIdleTime(5 * time.Minute)
		s.r = s.w
	default:
		s.dialect = SQLite
		path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
		if path == "" {
			return nil, errors.New("open sqlite: empty path")
		}
		if strings.ContainsRune(path, '?') {
			// Neither the driver nor SQLite's URI parser can keep a '?' in a path.
			return nil, errors.New("open sqlite: the database path must not contain '?'")
		}
		s.w, err = sql.Open("sqlite", sqliteDSN(path, false))
		if err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetMaxIdleConns(1)
		s.w.SetConnMaxIdleTime(0)
		s.w.SetConnMaxLifetime(0)
		s.r, err = sql.Open("sqlite", sqliteDSN(path, true))
		if err != nil {
			s.w.Close()
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
		s.r.SetMaxOpenConns(8)
		s.r.SetMaxIdleConns(8)
		s.r.SetConnMaxIdleTime(0)
	}
	if err := s.w.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to %s: %w", s.dialect, mapErr(err))
	}
	s.writer = newWriter(s, opt.MaxBatch)
	return s, nil
}

// sqliteDSN sets the pragmas every connection needs. synchronous(FULL) makes
// each commit durable once it returns, so an acknowledged write survives a
// crash or power loss; WAL keeps readers off the writer's back.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	// Deleted rows (an erased person's identities) are overwritten in the
	// file, not only unlinked.
	q.Add("_pragma", "secure_delete(1)")
	// Statement journals (a multi-row insert inside a transaction) in
	// memory rather than in a temporary file.
	q.Add("_pragma", "temp_store(memory)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	// The path goes into a URI: escape what would end it early.
	esc := strings.NewReplacer("%", "%25", "#", "%23").Replace(path)
	return "file:" + esc + "?" + q.Encode()
}

// Dialect reports which database the store runs on.
func (s *Store) Dialect() string { return s.dialect }

// Close stops the writer and closes the connections.
func (s *Store) Close() error {
	if s.writer != nil {
		s.writer.close()
	}
	var err error
	if s.r != nil && s.r != s.w {
		err = s.r.Close()
	}
	if s.w != nil {
		err = errors.Join(err, s.w.Close())
	}
	for _, c := range s.closers {
		err = errors.Join(err, c.Close())
	}
	s.closers = nil
	return err
}

// Scrub, on SQLite, moves every committed page into the database file and
// empties the write-ahead log, so that rows deleted with secure_delete are
// gone from both files, not left behind in old log frames. It is a no-op on
// PostgreSQL, whose dead rows go at the next vacuum. Readers in the middle
// of a long query can keep it from finishing; it is best effort.
func (s *Store) Scrub(ctx context.Context) error {
	if s.dialect != "sqlite" {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("scrub: %w", mapErr(err))
	}
	return nil
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("ping: %w", mapErr(err))
	}
	return nil
}

// q returns query rebound for the dialect: ? placeholders become $1, $2, …
// on PostgreSQL. Our SQL never has ? inside literals.
func (s *Store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	s.rebindMu.Lock()
	defer s.rebindMu.Unlock()
	if out, ok := s.rebound[query]; ok {
		return out
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	out := b.String()
	if len(s.rebound) < 4096 { // generated multi-row statements vary; bound the cache
		s.rebound[query] = out
	}
	return out
}

// mapErr turns driver errors into the package's neutral kinds. The driver's
// own message can quote stored values, so callers log it and never show it.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505", "23503", "23514":
			return fmt.Errorf("%w: %s", ErrConflict, pe.ConstraintName)
		case "40001", "40P01", "55P03":
			return fmt.Errorf("%w: %s", ErrBusy, pe.Code)
		}
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_CONSTRAINT:
			return fmt.Errorf("%w: constraint", ErrConflict)
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: locked", ErrBusy)
		}
	}
	return err
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// inTx runs fn in a transaction on the write pool and commits it.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", mapErr(err))
	}
	if err := s.scope(ctx, tx, s.org); err != nil {
		tx.Rollback()
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", mapErr(err))
	}
	return nil
}
