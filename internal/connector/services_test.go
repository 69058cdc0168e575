package connector

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/custos-privacy/custos/internal/testdb"
)

// testMySQL creates a fresh database on the MariaDB/MySQL test server
// (testdb.MySQL) and returns a DSN for it that runs scripts of several
// statements and reads times as the driver's raw text. The database is
// dropped when the test ends.
func testMySQL(t testing.TB) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(testdb.MySQL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ParseTime, cfg.MultiStatements = false, true
	return cfg.FormatDSN()
}

// testPostgres returns a DSN whose search_path is a fresh schema.
func testPostgres(t testing.TB) string {
	t.Helper()
	return testdb.Postgres(t)
}

// execScript runs a multi-statement script on a fresh connection.
func execScript(t testing.TB, driver, dsn, script string) {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", driver, err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if driver == "sqlite" {
		// One statement at a time, so an error names the statement that
		// failed; the test scripts have no ';' inside literals.
		for _, stmt := range strings.Split(script, ";") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("load script: %v", err)
			}
		}
		return
	}
	if _, err := db.ExecContext(ctx, script); err != nil {
		t.Fatalf("load script: %v", err)
	}
}

func openT(t testing.TB, c Config) Connector {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := Open(ctx, c)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}
