package testdb

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
)

// DefaultMySQL is the local server used when CUSTOS_TEST_MYSQL is unset.
const DefaultMySQL = "root@tcp(127.0.0.1:3306)/test"

// MySQL creates a fresh database on the MySQL/MariaDB test server and
// returns a DSN for the "mysql" driver that reads DATETIME columns as
// time.Time in UTC. The database is dropped when the test ends.
func MySQL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("CUSTOS_TEST_MYSQL")
	if base == "" {
		base = DefaultMySQL
	}
	cfg, err := mysql.ParseDSN(strings.TrimPrefix(base, "mysql://"))
	if err != nil {
		t.Fatalf("CUSTOS_TEST_MYSQL does not parse")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := sql.Open("mysql", cfg.FormatDSN())
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		unavailable(t, "MySQL/MariaDB", err)
		return ""
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "custos_t_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE `"+name+"`"); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE `"+name+"`"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
		admin.Close()
	})
	cfg.DBName, cfg.ParseTime = name, true
	return cfg.FormatDSN()
}
