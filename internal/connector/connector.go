// Package connector reads the structure of a customer's database and samples
// its columns so that Custos can propose a dataset annotation for it.
//
// A Connector follows the Validate/Open/Health lifecycle: Config.Validate
// checks the configuration without touching the network, Open connects and
// checks health, Health can be called again at any time. Connectors only
// read: they never write to the database they inspect.
//
// The DSN is a secret. It never appears in errors or logs; Config's String,
// GoString and LogValue redact the password.
package connector

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/go-sql-driver/mysql" // registers the "mysql" driver
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Kind names a database engine.
type Kind string

// Supported kinds.
const (
	Postgres Kind = "postgres"
	MySQL    Kind = "mysql" // MySQL and MariaDB
	SQLite   Kind = "sqlite"
)

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("invalid connector configuration")

// MaxSample bounds how many values one Sample call reads.
const MaxSample = 1000

// maxValueLen bounds each sampled value; the detectors ignore longer values
// anyway, and a bound keeps a column of documents from filling memory.
const maxValueLen = 1024

// Connector reads one database.
type Connector interface {
	Kind() Kind
	Health(ctx context.Context) error
	// Introspect lists the tables of the current schema (PostgreSQL), the
	// current database (MySQL) or the main database (SQLite).
	Introspect(ctx context.Context) (Schema, error)
	// Sample returns up to limit (at most MaxSample) non-NULL values of one
	// column, cast to strings and cut to 1024 bytes. Which rows it reads is
	// up to the database; it is not a random sample.
	Sample(ctx context.Context, table, column string, limit int) ([]string, error)
	Close() error
}

// Schema is the structure of a database. Tables are sorted by name (byte
// order, independent of the database's collation); columns keep their
// position in the table; primary key and foreign key columns keep their
// position in the key; foreign keys are sorted by their columns.
type Schema struct {
	Tables []Table
}

// Table is one base table (views are not listed).
type Table struct {
	Name        string
	Columns     []Column
	PrimaryKey  []string
	ForeignKeys []ForeignKey
}

// Column is one column of a table.
type Column struct {
	Name     string
	Type     string // as the database spells it, e.g. "character varying(100)" or "varchar(100)"
	Nullable bool
}

// ForeignKey says that Columns hold values of RefColumns in RefTable.
// RefTable is qualified with its schema only when it lives in another one.
type ForeignKey struct {
	Columns    []string
	RefTable   string
	RefColumns []string
}

// Table returns the table with the given name.
func (s Schema) Table(name string) (Table, bool) {
	for _, t := range s.Tables {
		if t.Name == name {
			return t, true
		}
	}
	return Table{}, false
}

// Open validates c, connects and checks health. The returned error never
// contains the DSN's password.
func Open(ctx context.Context, c Config) (Connector, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	kind := c.kind()
	driver, dsn, err := driverDSN(kind, c.DSN)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		// Driver Open errors may echo the DSN.
		return nil, fmt.Errorf("connector: open %s: %w", kind, ErrInvalidConfig)
	}
	if kind == SQLite {
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(4)
	}
	db.SetConnMaxIdleTime(5 * time.Minute)
	conn := &sqlConnector{kind: kind, db: db}
	if err := conn.Health(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connector: open: %w", err)
	}
	return conn, nil
}

// driverDSN turns a validated DSN into the driver's name and connection string.
func driverDSN(k Kind, dsn string) (driver, out string, err error) {
	switch k {
	case Postgres:
		return "pgx", dsn, nil
	case MySQL:
		return "mysql", strings.TrimPrefix(dsn, "mysql://"), nil
	case SQLite:
		path := strings.TrimPrefix(dsn, "sqlite:")
		if strings.HasPrefix(path, "file:") {
			// Already a URI; the caller chose its parameters.
			return "sqlite", path, nil
		}
		if strings.ContainsRune(path, '?') {
			return "", "", fmt.Errorf("connector: sqlite path must not contain '?': %w", ErrInvalidConfig)
		}
		// Read-only: inspecting a database must never create or change it.
		esc := strings.NewReplacer("%", "%25", "#", "%23").Replace(path)
		return "sqlite", "file:" + esc + "?mode=ro&_pragma=busy_timeout(5000)&_pragma=query_only(1)", nil
	}
	return "", "", fmt.Errorf("connector: unknown kind %q: %w", k, ErrInvalidConfig)
}

// Quote quotes an identifier for k: "x" for PostgreSQL and SQLite, `x` for
// MySQL, doubling any embedded quote character. It never fails, so the
// result is safe to splice into SQL even for hostile names.
func Quote(k Kind, ident string) string {
	if k == MySQL {
		return "`" + strings.ReplaceAll(ident, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(ident, `"`, `""`) + `"`
}

// MaxParams is how many bound parameters one statement may carry on k, for
// batching IN (…) lists.
func MaxParams(k Kind) int {
	switch k {
	case Postgres, MySQL:
		return 65535
	case SQLite:
		return 32766
	}
	return 999 // the most conservative engine default
}

// DB returns the database handle behind a connector opened by Open, for
// engines that run their own statements (access and erasure).
func DB(c Connector) (*sql.DB, bool) {
	sc, ok := c.(*sqlConnector)
	if !ok {
		return nil, false
	}
	return sc.db, true
}
