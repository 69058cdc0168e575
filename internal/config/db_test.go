package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDB(t *testing.T) {
	type result struct{ Kind, SQLitePath, Redacted string }
	tests := []struct {
		db   string
		want result
	}{
		{"custos.db", result{"sqlite", "custos.db", "custos.db"}},
		{"/var/lib/custos/custos.db", result{"sqlite", "/var/lib/custos/custos.db", "/var/lib/custos/custos.db"}},
		{"data?.db", result{"sqlite", "data?.db", "data?.db"}},
		{"sqlite:custos.db", result{"sqlite", "custos.db", "sqlite:custos.db"}},
		{"SQLite:/tmp/c.db", result{"sqlite", "/tmp/c.db", "SQLite:/tmp/c.db"}},
		{"sqlite:///var/c.db", result{"sqlite", "/var/c.db", "sqlite:///var/c.db"}},
		{"file:custos.db?mode=ro&_pragma=busy_timeout(5000)", result{"sqlite", "custos.db", "file:custos.db?mode=ro&_pragma=busy_timeout(5000)"}},
		{"file:///srv/my%20data/c.db", result{"sqlite", "/srv/my data/c.db", "file:///srv/my%20data/c.db"}},
		{":memory:", result{"sqlite", ":memory:", ":memory:"}},
		{"postgres://custos@db.example/custos", result{"postgres", "", "postgres://custos@db.example/custos"}},
		{"postgres://custos:s3cret@db.example:5432/custos?sslmode=require", result{"postgres", "", "postgres://custos:xxxxx@db.example:5432/custos?sslmode=require"}},
		{"PostgreSQL://u:p@h/db", result{"postgres", "", "postgresql://u:xxxxx@h/db"}},
		{"postgres://u@h/db?password=s3cret&sslmode=disable", result{"postgres", "", "postgres://u@h/db?password=xxxxx&sslmode=disable"}},
		{"postgres://u@h/db?sslpassword=s3cret", result{"postgres", "", "postgres://u@h/db?sslpassword=xxxxx"}},
		{"postgres://u:p%40ss%23word@h/db", result{"postgres", "", "postgres://u:xxxxx@h/db"}},
		{"postgres://u:p@ss#word@h/db", result{"postgres", "", "[redacted: malformed URL]"}},
		{"postgres://u:1234?ss@h/db", result{"postgres", "", "[redacted: malformed URL]"}},
		{"postgres://u:12/ss@h/db", result{"postgres", "", "[redacted: malformed URL]"}},
		{"postgres://u@h/db#s3cret", result{"postgres", "", "[redacted: malformed URL]"}},
		{"postgres://u:p@h:port/db", result{"postgres", "", "[redacted: malformed URL]"}},
		{"mysql://u:s3cret@h/db", result{"", "", "mysql://u:xxxxx@h/db"}},
		{"", result{"", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.db, func(t *testing.T) {
			c := Config{DB: tt.db}
			got := result{c.DBKind(), c.SQLitePath(), c.RedactedDB()}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DB %q (-want +got):\n%s", tt.db, diff)
			}
		})
	}
}

func TestKeystoreDSN(t *testing.T) {
	tests := []struct {
		db, keystore, want string
	}{
		{"custos.db", "", "custos-keys.db"},
		{"/var/lib/custos/custos.db", "", "/var/lib/custos/custos-keys.db"},
		{"sqlite:/data/c.sqlite", "", "/data/c-keys.db"},
		{"file:/data/custos", "", "/data/custos-keys.db"},
		{"custos.db", "/keys/k.db", "/keys/k.db"},
		{"custos.db", "sqlite:/keys/k.db", "/keys/k.db"},
		{"postgres://h/db", "", ""},
		{"postgres://h/db", "postgres://h/keys", "postgres://h/keys"},
		{"postgres://h/db", "mysql://h/keys", ""},
	}
	for _, tt := range tests {
		c := Config{DB: tt.db, Keystore: tt.keystore}
		if got := c.KeystoreDSN(); got != tt.want {
			t.Errorf("KeystoreDSN(db %q, keystore %q) = %q, want %q", tt.db, tt.keystore, got, tt.want)
		}
	}
	c := Config{DB: "postgres://h/db", Keystore: "postgres://custos:hunter2@h/keys"}
	if got := c.RedactedKeystore(); strings.Contains(got, "hunter2") {
		t.Errorf("RedactedKeystore shows the password: %s", got)
	}
}
