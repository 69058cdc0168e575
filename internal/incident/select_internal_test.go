package incident

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/connector"
)

// TestWindowClause: the window narrows by the time field the way each
// engine compares times, and a collection without one is read whole.
func TestWindowClause(t *testing.T) {
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		kind  connector.Kind
		clock string
		w     Window
		where string
		args  []any
	}{
		{"no time field", connector.SQLite, "", Window{From: &from}, "", nil},
		{"no window", connector.Postgres, "created_at", Window{}, "", nil},
		{"sqlite", connector.SQLite, "created_at", Window{From: &from, To: &to},
			` WHERE julianday("created_at") >= julianday(?) AND julianday("created_at") < julianday(?)`, []any{"2024-01-01 00:00:00.000", "2026-01-01 00:00:00.000"}},
		{"postgres", connector.Postgres, "created_at", Window{From: &from, To: &to},
			` WHERE "created_at" >= $1 AND "created_at" < $2`, []any{from, to}},
		{"mysql, open start", connector.MySQL, "created_at", Window{To: &to}, " WHERE `created_at` < ?", []any{to}},
	}
	for _, tt := range tests {
		where, args := windowClause(tt.kind, tt.clock, tt.w)
		if where != tt.where {
			t.Errorf("%s: where = %q, want %q", tt.name, where, tt.where)
		}
		if diff := cmp.Diff(tt.args, args); diff != "" {
			t.Errorf("%s: args (-want +got):\n%s", tt.name, diff)
		}
	}
}
