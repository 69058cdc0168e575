package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/testdb"
)

// syncBuffer is a log sink the writer goroutine and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestDroppedWritesAreLoggedAndCounted: a queued write that fails to
// commit (nobody waits on it) is logged, without what it held, and
// counted; the writes queued beside it still commit.
func TestDroppedWritesAreLoggedAndCounted(t *testing.T) {
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "x.db") },
		"postgres": func(t *testing.T) string { return testdb.Postgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			logs := &syncBuffer{}
			db := dsn(t)
			s, err := Open(ctx, db, Options{Logger: slog.New(slog.NewTextHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			fail := func(context.Context, *sql.Tx) error { return errors.New("boom: mei.zhang@example.net") }
			want := int64(1)
			if err := s.Enqueue(ctx, &Write{Fn: fail, Audit: []audit.Entry{entry("check.deny", "subject:s-1")}}); err != nil {
				t.Fatal(err)
			}
			if err := s.EnqueueAudit(ctx, entry("check.allow", "subject:s-2")); err != nil {
				t.Fatal(err)
			}
			if name == "postgres" {
				// PostgreSQL refuses a NUL in text: the denial of a purpose
				// that held one was lost without a word before.
				nul := entry("check.deny", "subject:s-3")
				nul.Purpose = "ads\x00mei.zhang"
				if err := s.EnqueueAudit(ctx, nul); err != nil {
					t.Fatal(err)
				}
				want++
			}
			s.Close() // drains the queue
			if got := s.DroppedWrites(); got != want {
				t.Errorf("DroppedWrites = %d, want %d", got, want)
			}
			l := logs.String()
			if n := int64(strings.Count(l, "queued write failed and was lost")); n != want || !strings.Contains(l, "actions=[check.deny]") {
				t.Errorf("log lacks the %d losses and their actions:\n%s", want, l)
			}
			if name == "postgres" && !strings.Contains(l, "cause=\"postgres 22021\"") {
				t.Errorf("log lacks the kind of failure:\n%s", l)
			}
			if strings.Contains(l, "mei.zhang") || strings.Contains(l, "boom") {
				t.Errorf("log quotes what the write held or its error:\n%s", l)
			}
			s2, err := Open(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			es, err := s2.AuditEntries(ctx, AuditFilter{})
			if err != nil || len(es) != 1 || es[0].Object != "subject:s-2" {
				t.Errorf("entries = %+v, %v; want only the good one", es, err)
			}
		})
	}
}
