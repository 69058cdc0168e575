package scan

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-privacy/custos/internal/connector"

	_ "modernc.org/sqlite"
)

// shopDB loads examples/starter/shop.sql into a temporary SQLite file and
// returns its DSN.
func shopDB(t *testing.T) string {
	t.Helper()
	schema, err := os.ReadFile("../../examples/starter/shop.sql")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "shop.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(string(schema)); err != nil {
		t.Fatalf("load shop.sql: %v", err)
	}
	return "file:" + path
}

func TestDatabase(t *testing.T) {
	dsn := shopDB(t)
	ctx := context.Background()
	c, err := connector.Open(ctx, connector.Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name string
		opt  Options
		want []at
	}{
		{"one row a table", Options{Sample: 1}, []at{
			{"marketing_subscriptions", 1, 0, "email", "basic.email"},
			{"rights_requests", 1, 0, "email", "basic.email"},
			{"security_logs", 1, 0, "ip", "account.ip_address"},
			{"support_tickets", 1, 0, "email", "basic.email"},
			{"users", 1, 0, "email", "basic.email"},
			{"users", 1, 0, "phone", "basic.phone"},
		}},
		{"every row", Options{Full: true}, []at{
			{"marketing_subscriptions", 1, 0, "email", "basic.email"},
			{"rights_requests", 1, 0, "email", "basic.email"},
			{"security_logs", 1, 0, "ip", "account.ip_address"},
			{"support_tickets", 1, 0, "email", "basic.email"},
			{"support_tickets", 2, 0, "email", "basic.email"},
			{"users", 1, 0, "email", "basic.email"},
			{"users", 2, 0, "email", "basic.email"},
			{"users", 2, 0, "phone", "basic.phone"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, all, _ := collect(t, tt.opt, func(s *Scanner) error { return s.Database(ctx, c) })
			missing(t, tt.want, got)
			for _, f := range got {
				if tt.opt.Sample == 1 && f.Line > 1 {
					t.Errorf("sampling one row a table read row %d of %s", f.Line, f.Path)
				}
			}
			for _, f := range all {
				if f.Excerpt == "li.lei@example.com" || f.Excerpt == "han.meimei@example.com" {
					t.Errorf("excerpt shows a value: %+v", f)
				}
			}
		})
	}
}
