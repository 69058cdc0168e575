package store

import (
	"context"
	"testing"

	"github.com/custos-privacy/custos/internal/testdb"
)

// TestMaxConns: an instance opens no more PostgreSQL connections than it
// is given, so that several fit the server's max_connections.
func TestMaxConns(t *testing.T) {
	dsn := testdb.Postgres(t)
	for _, tc := range []struct{ give, want int }{{0, 32}, {8, 8}} {
		s, err := Open(context.Background(), dsn, Options{MaxConns: tc.give})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.w.Stats().MaxOpenConnections; got != tc.want {
			t.Errorf("MaxConns %d: %d connections at most, want %d", tc.give, got, tc.want)
		}
		s.Close()
	}
}
