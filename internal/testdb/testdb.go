// Package testdb gives tests their own database on the machine's real
// servers. Tests skip with a message when a server is unreachable, and fail
// instead when CUSTOS_REQUIRE_SERVICES=1 (as in CI).
package testdb

import (
	"context"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/pgscratch"
)

// DefaultPostgres is the local server used when CUSTOS_TEST_POSTGRES is unset.
const DefaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

func required() bool { return os.Getenv("CUSTOS_REQUIRE_SERVICES") == "1" }

func unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if required() {
		t.Fatalf("%s is required (CUSTOS_REQUIRE_SERVICES=1) but unreachable: %v", what, err)
	}
	t.Skipf("%s unreachable, skipping (set CUSTOS_REQUIRE_SERVICES=1 to fail instead): %v", what, err)
}

// postgresBase is the test server's URL: CUSTOS_TEST_POSTGRES or the
// local default.
func postgresBase() string {
	if base := os.Getenv("CUSTOS_TEST_POSTGRES"); base != "" {
		return base
	}
	return DefaultPostgres
}

// Postgres creates a fresh schema on the test server and returns a DSN whose
// search_path points at it. The schema is dropped when the test ends.
func Postgres(t testing.TB) string {
	t.Helper()
	base := postgresBase()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sc, err := pgscratch.New(ctx, base, "custos_t_")
	if err != nil {
		unavailable(t, "PostgreSQL", err)
		return ""
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := sc.Drop(ctx); err != nil {
			t.Error(err)
		}
	})
	return sc.DSN
}

// PostgresAdmin returns dsn (from Postgres) as the server's administrator
// rather than the test schema's own role: for tests that look at the
// database as a backup or an attacker with the keys to the server would,
// past row-level security.
func PostgresAdmin(t testing.TB, dsn string) string {
	t.Helper()
	base := postgresBase()
	b, err := url.Parse(base)
	if err != nil {
		t.Fatalf("CUSTOS_TEST_POSTGRES does not parse")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("the test database's URL does not parse")
	}
	u.User = b.User
	return u.String()
}
