// Package storetest opens migrated stores for the tests of the packages
// built on the store: on a temporary SQLite file, on a fresh PostgreSQL
// schema, or on both in turn.
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/testdb"
)

// Open opens the store at dsn, migrates it and closes it when the test
// ends. Each call is a new handle, so two calls on one dsn stand for two
// instances sharing a database.
func Open(t testing.TB, dsn string, opts ...store.Options) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return st
}

// SQLite opens a migrated store on a new file in the test's temporary
// directory.
func SQLite(t testing.TB, opts ...store.Options) *store.Store {
	t.Helper()
	return Open(t, SQLiteDSN(t), opts...)
}

// SQLiteDSN is a new database file in the test's temporary directory.
func SQLiteDSN(t testing.TB) string { return filepath.Join(t.TempDir(), "custos.db") }

// Backends runs fn as the subtests "sqlite" and "postgres", each with
// the DSN of a database of its own: the rules the database keeps are
// proved on both. The postgres subtest skips, or fails where services
// are required, as testdb.Postgres does.
func Backends(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteDSN(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, testdb.Postgres(t)) })
}
