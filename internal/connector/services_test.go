package connector

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/custos-privacy/custos/internal/testdb"
)

// defaultMySQL is the local server used when CUSTOS_TEST_MYSQL is unset.
const defaultMySQL = "root@tcp(127.0.0.1:3306)/test"

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CUSTOS_REQUIRE_SERVICES") == "1" {
		t.Fatalf("%s is required (CUSTOS_REQUIRE_SERVICES=1) but unreachable: %v", what, err)
	}
	t.Skipf("%s unreachable, skipping (set CUSTOS_REQUIRE_SERVICES=1 to fail instead): %v", what, err)
}

// testMySQL creates a fresh database on the MariaDB/MySQL test server and
// returns a DSN for it. The database is dropped when the test ends.
func testMySQL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("CUSTOS_TEST_MYSQL")
	if base == "" {
		base = defaultMySQL
	}
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(base, "mysql://"))
	if err != nil {
		t.Fatalf("CUSTOS_TEST_MYSQL does not parse")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err == nil {
		err = db.PingContext(ctx)
	}
	if err != nil {
		unavailable(t, "MySQL/MariaDB", err)
		return ""
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "custos_t_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+Quote(MySQL, name)); err != nil {
		db.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE "+Quote(MySQL, name)); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		db.Close()
	})
	cfg.DBName = name
	cfg.MultiStatements = true
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
