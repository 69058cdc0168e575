package store

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/testdb"
)

// woken reports whether ch receives within d.
func woken(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// TestListen has one instance commit while another listens: a change
// wakes the listener, a decision record or its own commit does not, and a listening
// connection killed under it comes back.
func TestListen(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := testdb.Postgres(t)
	a, b := openFresh(t, dsn), openFresh(t, dsn)
	wake := b.Listen(ctx)
	if !woken(wake, 5*time.Second) {
		t.Fatal("no wake-up once listening")
	}
	for _, tc := range []struct {
		by     *Store
		action string
		wakes  bool
	}{
		{a, "check.allow", false},
		{a, "vault.read", false},
		{a, "consent.grant", true},
		{a, "check.deny", false},
		{b, "consent.grant", false}, // its own: seen as it committed
		{a, "key.revoke", true},
	} {
		if err := tc.by.AppendAudit(ctx, entry(tc.action, "subject:s-1")); err != nil {
			t.Fatal(err)
		}
		wait := 5 * time.Second
		if !tc.wakes {
			wait = 300 * time.Millisecond
		}
		if got := woken(wake, wait); got != tc.wakes {
			t.Errorf("%s committed by instance %p: woken %v, want %v", tc.action, tc.by, got, tc.wakes)
		}
	}

	// The listening connection dies: the listener connects again, wakes
	// its subscribers for what it may have missed, and goes on.
	b.listener.mu.Lock()
	pid := b.listener.pid
	b.listener.mu.Unlock()
	admin, err := sql.Open("pgx", testdb.PostgresAdmin(t, dsn))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var killed bool
	if err := admin.QueryRowContext(ctx, `SELECT pg_terminate_backend($1)`, int64(pid)).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate the listening connection %d: %v %v", pid, killed, err)
	}
	if !woken(wake, 5*time.Second) {
		t.Fatal("no wake-up after the listening connection came back")
	}
	b.listener.mu.Lock()
	again := b.listener.pid
	b.listener.mu.Unlock()
	if again == 0 || again == pid {
		t.Errorf("listening on backend %d after %d was terminated", again, pid)
	}
	if err := a.AppendAudit(ctx, entry("consent.withdraw", "subject:s-1")); err != nil {
		t.Fatal(err)
	}
	if !woken(wake, 5*time.Second) {
		t.Error("a change after the reconnection did not wake the listener")
	}
}

// TestListenSQLite: one process is SQLite's only writer, so nothing is
// ever announced.
func TestListenSQLite(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openFresh(t, t.TempDir()+"/custos.db")
	wake := s.Listen(ctx)
	if err := s.AppendAudit(ctx, entry("consent.grant", "subject:s-1")); err != nil {
		t.Fatal(err)
	}
	if woken(wake, 200*time.Millisecond) {
		t.Error("woken on SQLite")
	}
}
