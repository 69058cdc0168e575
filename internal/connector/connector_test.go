package connector

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestQuote(t *testing.T) {
	tests := []struct {
		kind  Kind
		ident string
		want  string
	}{
		{Postgres, "customer", `"customer"`},
		{Postgres, `we"ird`, `"we""ird"`},
		{Postgres, "a`b", "\"a`b\""},
		{Postgres, `"; DROP TABLE x; --`, `"""; DROP TABLE x; --"`},
		{SQLite, `x"y"`, `"x""y"""`},
		{SQLite, "", `""`},
		{MySQL, "customer", "`customer`"},
		{MySQL, "a`b", "`a``b`"},
		{MySQL, `we"ird`, "`we\"ird`"},
		{MySQL, "`; DROP TABLE x; --", "```; DROP TABLE x; --`"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.ident, func(t *testing.T) {
			if got := Quote(tt.kind, tt.ident); got != tt.want {
				t.Errorf("Quote(%s, %q) = %s, want %s", tt.kind, tt.ident, got, tt.want)
			}
		})
	}
}

func TestMaxParams(t *testing.T) {
	for k, want := range map[Kind]int{Postgres: 65535, MySQL: 65535, SQLite: 32766} {
		if got := MaxParams(k); got != want {
			t.Errorf("MaxParams(%s) = %d, want %d", k, got, want)
		}
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		dsn  string
		want Kind
	}{
		{"postgres://u:p@localhost:5432/db?sslmode=disable", Postgres},
		{"postgresql://localhost/db", Postgres},
		{"host=localhost dbname=app user=custos", Postgres},
		{"mysql://root@tcp(127.0.0.1:3306)/shop", MySQL},
		{"root:secret@tcp(127.0.0.1:3306)/shop", MySQL},
		{"root@unix(/run/mysqld/mysqld.sock)/shop", MySQL},
		{"tcp(localhost:3306)/shop", MySQL},
		{"root@/shop", MySQL},
		{"sqlite:/var/lib/app.db", SQLite},
		{"file:app.db?mode=ro", SQLite},
		{"/var/lib/app.db", SQLite},
		{"data/app.sqlite3", SQLite},
		{"app.db", SQLite},
		{"postgress://typo/db", ""},
		{"https://example.com/db", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			if got := KindOf(tt.dsn); got != tt.want {
				t.Errorf("KindOf(%q) = %q, want %q", tt.dsn, got, tt.want)
			}
		})
	}
}

const secret = "s3cr3t-Pa55"

func TestConfigRedaction(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string // RedactedDSN
	}{
		{Config{DSN: "postgres://custos:" + secret + "@db.internal:5432/app?sslmode=disable"},
			"postgres://custos:xxxxx@db.internal:5432/app?sslmode=disable"},
		{Config{DSN: "postgres://custos@db.internal/app?password=" + secret},
			"postgres://custos@db.internal/app?password=xxxxx"},
		{Config{DSN: "host=db.internal user=custos password=" + secret + " dbname=app"},
			"host=db.internal user=custos password=xxxxx dbname=app"},
		{Config{DSN: "host=db.internal password='" + secret + " x' dbname=app"},
			"host=db.internal password=xxxxx dbname=app"},
		{Config{Kind: MySQL, DSN: "custos:" + secret + "@tcp(db.internal:3306)/app?parseTime=true"},
			"custos:xxxxx@tcp(db.internal:3306)/app?parseTime=true"},
		{Config{DSN: "mysql://custos:" + secret + "@with@at@tcp(db:3306)/app"},
			"mysql://custos:xxxxx@tcp(db:3306)/app"},
		{Config{DSN: "/var/lib/app.db"}, "/var/lib/app.db"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.cfg.RedactedDSN(); got != tt.want {
				t.Errorf("RedactedDSN() = %q, want %q", got, tt.want)
			}
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("connect", "config", tt.cfg)
			for name, s := range map[string]string{
				"String": tt.cfg.String(),
				"%v":     fmt.Sprintf("%v", tt.cfg),
				"%+v":    fmt.Sprintf("%+v", tt.cfg),
				"%#v":    fmt.Sprintf("%#v", tt.cfg),
				"%s ptr": fmt.Sprintf("%s", &tt.cfg),
				"slog":   logged.String(),
			} {
				if strings.Contains(s, secret) {
					t.Errorf("%s shows the password: %s", name, s)
				}
				if !strings.Contains(s, "db.internal") && !strings.Contains(s, "db:3306") && !strings.Contains(s, "app.db") {
					t.Errorf("%s hides too much to be useful: %s", name, s)
				}
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"postgres url", Config{DSN: "postgres://u:" + secret + "@localhost/db"}, true},
		{"mysql", Config{DSN: "u:" + secret + "@tcp(localhost:3306)/db"}, true},
		{"sqlite path", Config{DSN: "app.db"}, true},
		{"explicit kind", Config{Kind: MySQL, DSN: "mysql://u:" + secret + "@tcp(localhost)/db"}, true},
		{"empty", Config{}, false},
		{"unknown kind", Config{Kind: "oracle", DSN: "u:" + secret + "@tcp(localhost)/db"}, false},
		{"kind mismatch", Config{Kind: Postgres, DSN: "u:" + secret + "@tcp(localhost)/db"}, false},
		{"unknown scheme", Config{DSN: "postgress://u:" + secret + "@localhost/db"}, false},
		{"bad postgres", Config{DSN: "postgres://u:" + secret + "@localhost:notaport/db"}, false},
		{"bad mysql", Config{Kind: MySQL, DSN: "u:" + secret + "@tcp(localhost)/db?timeout=" + secret}, false},
		{"sqlite path with ?", Config{DSN: "sqlite:/tmp/a?b.db"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err == nil {
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// Connection failures must not carry the password either.
func TestOpenErrorHidesPassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://custos:" + secret + "@127.0.0.1:1/app?sslmode=disable&connect_timeout=2",
		"custos:" + secret + "@tcp(127.0.0.1:1)/app?timeout=2s",
		filepath.Join(t.TempDir(), secret+".db"),
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := Open(ctx, Config{DSN: dsn})
		cancel()
		if err == nil {
			conn.Close()
			t.Errorf("Open(%s) succeeded against nothing", KindOf(dsn))
			continue
		}
		if KindOf(dsn) != SQLite && strings.Contains(err.Error(), secret) {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}

// TestDiscoverSQLiteGolden pins the rendered draft for the shop schema.
// Run with -update to rewrite testdata/shop_draft.yaml.
func TestDiscoverSQLiteGolden(t *testing.T) {
	conn := shopConnector(t, SQLite)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := Discover(ctx, conn, DiscoverOptions{Datastore: "shop", SampleRows: 5000})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "shop_draft.yaml")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("draft (-want +got):\n%s", diff)
	}
	assertNoSamples(t, got, []string{"ada.lovelace", "Ada Lovelace", "Example Street", "Exampletown", "ord-1", "x'y"})
}
