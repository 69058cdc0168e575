// Package retentionbench measures a retention sweep (execute.Sweep) on a
// large table against a set-based DELETE and a row-at-a-time deletion,
// while a steady OLTP load reads and updates the rows that stay.
package retentionbench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/pgscratch"
)

// Table names: the source is generated once per run, and every variant
// gets a fresh copy of it as the swept table.
const (
	sourceTable = "ret_source"
	sweptTable  = "ret"
)

// Period is how far the clocks spread on each side of the cutoff: a year.
const spreadSeconds = 365 * 24 * 3600

// Engine is one database a run measures on: a scratch schema (PostgreSQL),
// database (MariaDB) or file (SQLite) made for the run and removed by Close.
type Engine struct {
	Kind connector.Kind
	// DB loads the table and runs the deletions; OLTP is a pool of its own
	// for the concurrent load, as another application's would be.
	DB, OLTP *sql.DB
	// admin, if not nil, may run CHECKPOINT between variants.
	admin *sql.DB
	close func(context.Context) error
}

// Name is the engine as the report names it.
func (e *Engine) Name() string {
	if e.Kind == connector.MySQL {
		return "mariadb"
	}
	return string(e.Kind)
}

// oltpConns bounds the OLTP pool: enough that 200 ops/s never wait for a
// connection while the database answers in a few milliseconds.
const oltpConns = 8

// OpenPostgres makes a scratch schema on the server at url.
func OpenPostgres(ctx context.Context, url string) (*Engine, error) {
	sc, err := pgscratch.New(ctx, url, "custos_b_")
	if err != nil {
		return nil, err
	}
	e := &Engine{Kind: connector.Postgres, close: sc.Drop}
	if e.DB, err = sql.Open("pgx", sc.DSN); err == nil {
		e.OLTP, err = sql.Open("pgx", sc.DSN)
	}
	if err == nil {
		e.admin, err = sql.Open("pgx", url)
	}
	if err != nil {
		e.Close(ctx)
		return nil, err
	}
	return e, nil
}

// OpenMySQL makes a scratch database on the MariaDB or MySQL server at dsn
// (go-sql-driver form, as CUSTOS_TEST_MYSQL).
func OpenMySQL(ctx context.Context, dsn string) (*Engine, error) {
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
	if err != nil {
		return nil, fmt.Errorf("retentionbench: the MySQL DSN does not parse")
	}
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("retentionbench: %w", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "custos_b_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("retentionbench: create database: %w", err)
	}
	cfg.DBName = name
	e := &Engine{Kind: connector.MySQL, close: func(ctx context.Context) error {
		_, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name)
		admin.Close()
		return err
	}}
	e.DB, _ = sql.Open("mysql", cfg.FormatDSN())
	e.OLTP, _ = sql.Open("mysql", cfg.FormatDSN())
	return e, nil
}

// OpenSQLite makes a database file in a temporary directory, in WAL mode
// as Custos runs SQLite, so that the OLTP load reads while the sweep writes.
func OpenSQLite(ctx context.Context) (*Engine, error) {
	dir, err := os.MkdirTemp("", "custos-bench-retention-")
	if err != nil {
		return nil, err
	}
	dsn := "file:" + filepath.Join(dir, "bench.db") + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	e := &Engine{Kind: connector.SQLite, close: func(context.Context) error { return os.RemoveAll(dir) }}
	e.DB, _ = sql.Open("sqlite", dsn)
	e.OLTP, _ = sql.Open("sqlite", dsn)
	// One writer connection, as the connector and Custos's store use.
	e.DB.SetMaxOpenConns(1)
	return e, nil
}

// Close closes the pools and removes what the engine made.
func (e *Engine) Close(ctx context.Context) error {
	for _, db := range []*sql.DB{e.DB, e.OLTP, e.admin} {
		if db != nil {
			db.Close()
		}
	}
	if e.close == nil {
		return nil
	}
	return e.close(ctx)
}

// ph is the i-th placeholder (from 1) in the engine's dialect.
func (e *Engine) ph(i int) string {
	if e.Kind == connector.Postgres {
		return fmt.Sprintf("$%d", i)
	}
	return "?"
}

// timeArg is t as the engine's clock column holds it: SQLite keeps ISO
// 8601 text, as applications write it.
func (e *Engine) timeArg(t time.Time) any {
	if e.Kind == connector.SQLite {
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	return t.UTC()
}

// columns is the swept table: an integer key, a few payload columns and
// the clock.
func (e *Engine) columns() string {
	switch e.Kind {
	case connector.Postgres:
		return "id bigint NOT NULL, account bigint NOT NULL, status text NOT NULL, payload text NOT NULL, created_at timestamptz NOT NULL"
	case connector.MySQL:
		return "id BIGINT NOT NULL, account BIGINT NOT NULL, status VARCHAR(16) NOT NULL, payload VARCHAR(64) NOT NULL, created_at DATETIME(6) NOT NULL"
	}
	return "id INTEGER NOT NULL, account INTEGER NOT NULL, status TEXT NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL"
}

// Generate writes the source table of rows rows in the database, in one
// statement: every even key expired (its clock up to a year before cutoff),
// every odd key live (up to a year after). Expired rows interleave with
// live ones on every page, as in a table whose rows are written in one
// order and expire in another (an account's last activity, say): a sweep
// cannot skip ranges, and the OLTP load touches the pages it empties.
func (e *Engine) Generate(ctx context.Context, rows int64, cutoff time.Time) error {
	var stmts []string
	var args [][]any
	cut := e.timeArg(cutoff)
	switch e.Kind {
	case connector.Postgres:
		stmts = []string{
			// Unlogged: the source is only copied from; the swept copies are logged.
			"CREATE UNLOGGED TABLE " + sourceTable + " (" + e.columns() + ")",
			"INSERT INTO " + sourceTable + ` SELECT g, g % 100000, CASE WHEN g % 2 = 0 THEN 'closed' ELSE 'open' END,
				md5(g::text) || md5((g + 1)::text),
				CASE WHEN g % 2 = 0 THEN $2::timestamptz - (1 + g % ` + fmt.Sprint(spreadSeconds) + `) * interval '1 second'
				ELSE $2::timestamptz + (1 + g % ` + fmt.Sprint(spreadSeconds) + `) * interval '1 second' END
				FROM generate_series(1, $1::bigint) g`,
		}
		args = [][]any{nil, {rows, cut}}
	case connector.MySQL:
		// Ten digits crossed with themselves, as many times as rows has digits.
		var from, num []string
		for i, p := 0, int64(1); p < rows; i, p = i+1, p*10 {
			from = append(from, fmt.Sprintf("digits d%d", i))
			num = append(num, fmt.Sprintf("d%d.d * %d", i, p))
		}
		if len(from) == 0 {
			from, num = []string{"digits d0"}, []string{"d0.d"}
		}
		stmts = []string{
			"CREATE TABLE digits (d BIGINT NOT NULL)",
			"INSERT INTO digits VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9)",
			"CREATE TABLE " + sourceTable + " (" + e.columns() + ", PRIMARY KEY (id))",
			"INSERT INTO " + sourceTable + ` SELECT n, n % 100000, IF(n % 2 = 0, 'closed', 'open'), CONCAT(MD5(n), MD5(n + 1)),
				IF(n % 2 = 0, ? - INTERVAL (1 + n % ` + fmt.Sprint(spreadSeconds) + `) SECOND, ? + INTERVAL (1 + n % ` + fmt.Sprint(spreadSeconds) + `) SECOND)
				FROM (SELECT 1 + ` + strings.Join(num, " + ") + ` AS n FROM ` + strings.Join(from, " CROSS JOIN ") + `) s WHERE n <= ?`,
		}
		args = [][]any{nil, nil, nil, {cut, cut, rows}}
	case connector.SQLite:
		stmts = []string{
			"CREATE TABLE " + sourceTable + " (" + e.columns() + ", PRIMARY KEY (id))",
			"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?) INSERT INTO " + sourceTable + ` SELECT n, n % 100000,
				CASE WHEN n % 2 = 0 THEN 'closed' ELSE 'open' END, hex(randomblob(32)),
				CASE WHEN n % 2 = 0 THEN strftime('%Y-%m-%d %H:%M:%S', ?, '-' || (1 + n % ` + fmt.Sprint(spreadSeconds) + `) || ' seconds')
				ELSE strftime('%Y-%m-%d %H:%M:%S', ?, '+' || (1 + n % ` + fmt.Sprint(spreadSeconds) + `) || ' seconds') END FROM s`,
		}
		args = [][]any{nil, {rows, cut, cut}}
	}
	for i, s := range stmts {
		if _, err := e.DB.ExecContext(ctx, s, args[i]...); err != nil {
			return fmt.Errorf("retentionbench: generate: %w", err)
		}
	}
	return nil
}

// Fresh replaces the swept table with a copy of the first rows rows of the
// source, with its primary key and an index on the clock, vacuumed and
// analysed as a table in service would be, and checkpoints where it can so
// that one variant's writes are not flushed during the next.
func (e *Engine) Fresh(ctx context.Context, rows int64) error {
	t := sweptTable
	var stmts []string
	switch e.Kind {
	case connector.Postgres:
		stmts = []string{
			"DROP TABLE IF EXISTS " + t,
			"CREATE TABLE " + t + " (" + e.columns() + ")",
			fmt.Sprintf("INSERT INTO %s SELECT * FROM %s WHERE id <= %d ORDER BY id", t, sourceTable, rows),
			"ALTER TABLE " + t + " ADD PRIMARY KEY (id)",
			"CREATE INDEX " + t + "_created_at ON " + t + " (created_at)",
			"VACUUM ANALYZE " + t,
		}
	case connector.MySQL:
		stmts = []string{
			"DROP TABLE IF EXISTS " + t,
			"CREATE TABLE " + t + " LIKE " + sourceTable,
			fmt.Sprintf("INSERT INTO %s SELECT * FROM %s WHERE id <= %d ORDER BY id", t, sourceTable, rows),
			"CREATE INDEX " + t + "_created_at ON " + t + " (created_at)",
			"ANALYZE TABLE " + t,
		}
	case connector.SQLite:
		stmts = []string{
			"DROP TABLE IF EXISTS " + t,
			"CREATE TABLE " + t + " (" + e.columns() + ", PRIMARY KEY (id))",
			fmt.Sprintf("INSERT INTO %s SELECT * FROM %s WHERE id <= %d ORDER BY id", t, sourceTable, rows),
			"CREATE INDEX " + t + "_created_at ON " + t + " (created_at)",
			"ANALYZE",
			"PRAGMA wal_checkpoint(TRUNCATE)",
		}
	}
	for _, s := range stmts {
		if _, err := e.DB.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("retentionbench: copy the table: %s: %w", strings.Fields(s)[0], err)
		}
	}
	if e.admin != nil {
		// Needs a superuser or pg_checkpoint; without it the run goes on.
		e.admin.ExecContext(ctx, "CHECKPOINT")
	}
	return nil
}

// Counts is what the swept table holds: rows past the cutoff, and all.
func (e *Engine) Counts(ctx context.Context, cutoff time.Time) (expired, total int64, err error) {
	err = e.DB.QueryRowContext(ctx, "SELECT COALESCE(SUM(CASE WHEN created_at < "+e.ph(1)+" THEN 1 ELSE 0 END), 0), COUNT(*) FROM "+sweptTable,
		e.timeArg(cutoff)).Scan(&expired, &total)
	if err != nil {
		err = fmt.Errorf("retentionbench: count rows: %w", err)
	}
	return expired, total, err
}

var errNoRows = errors.New("retentionbench: need at least 2 rows")
