package store

import (
	"context"
	"database/sql"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// notTenant are the tables that hold no organisation's data.
var notTenant = []string{"organisations", "org_hosts", "entrustments", "change_heads", "schema_migrations"}

// TestEveryTableCarriesItsOrganisation: a table added without the column
// fails here, on both databases.
func TestEveryTableCarriesItsOrganisation(t *testing.T) {
	backends(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		tables := tenantTables(t, s)
		if len(tables) < 20 {
			t.Fatalf("found %d tables: %v", len(tables), tables)
		}
		for _, table := range tables {
			var n int
			q := `SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = 'org_id' AND "notnull" = 1`
			if s.dialect == Postgres {
				q = `SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'org_id' AND is_nullable = 'NO'`
			}
			if err := s.r.QueryRowContext(ctx, q, table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("table %s has no NOT NULL org_id column", table)
			}
		}
	})
}

func tenantTables(t *testing.T, s *Store) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if s.dialect == Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	rows, err := s.r.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(notTenant, name) {
			out = append(out, name)
		}
	}
	return out
}

// TestEveryStatementIsScoped reads the package's SQL: every statement
// that names a table of an organisation's data must say org_id once for
// each time it names one, so that a query added without scoping fails
// here before any data can cross. Statements whose table is chosen at run
// time (reseal, rotate) are covered by their own tests.
func TestEveryStatementIsScoped(t *testing.T) {
	s := openFresh(t, filepath.Join(t.TempDir(), "custos.db"))
	tables := tenantTables(t, s)
	ref := regexp.MustCompile(`(?i)\b(?:FROM|JOIN|INTO|UPDATE)\s+(` + strings.Join(tables, "|") + `)\b`)
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			expr, ok := n.(ast.Expr)
			if !ok {
				return true
			}
			text, ok := literalText(expr)
			if !ok {
				return true
			}
			refs := len(ref.FindAllString(text, -1))
			if refs == 0 {
				return false
			}
			checked++
			if scoped := strings.Count(text, "org_id"); scoped < refs {
				t.Errorf("%s: statement names %d tables of an organisation's data but scopes %d:\n%s", fset.Position(expr.Pos()), refs, scoped, text)
			}
			return false
		})
	}
	if checked < 100 {
		t.Errorf("checked %d statements; the reader has lost them", checked)
	}
}

// literalText joins the string literals of a concatenation (other operands
// count as nothing); ok is false for anything else.
func literalText(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		l, lok := literalText(e.X)
		r, rok := literalText(e.Y)
		if !lok && !rok {
			return "", false
		}
		return l + " " + r, true
	case *ast.ParenExpr:
		return literalText(e.X)
	}
	return "", false
}

// TestReadsGoThroughTheirOrganisation: reads of an organisation's data go
// through rd, which sets the organisation for row-level security on
// PostgreSQL; only the files whose tables are no organisation's (the
// registry, the migrations, the role check) use the pools directly.
func TestReadsGoThroughTheirOrganisation(t *testing.T) {
	direct := regexp.MustCompile(`s\.(r|w)\.(QueryContext|QueryRowContext|ExecContext)\(`)
	allowed := map[string]bool{"orgs.go": true, "entrustments.go": true, "migrate.go": true, "rowsecurity.go": true, "store.go": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || allowed[name] {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(src), "\n") {
			if direct.MatchString(line) {
				t.Errorf("%s:%d: uses a pool directly; read through s.rd() or write through the writer:\n%s", name, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// TestRowSecurity: on PostgreSQL, with the store's own scoping taken
// away (statements without org_id, run on a connection or in a
// transaction set to one organisation), the database still shows and
// takes only that organisation's rows, in every table; and a connection
// set to none sees nothing.
func TestRowSecurity(t *testing.T) {
	ctx := context.Background()
	dsn := postgresDSN(t)
	s := openFresh(t, dsn)
	if on, err := s.RowSecurity(ctx); err != nil || !on {
		t.Fatalf("RowSecurity = %v, %v; the test role must be bound by it", on, err)
	}
	if _, err := s.CreateOrganisation(ctx, Organisation{ID: "acme", Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	a, b := s, s.ForOrg("acme")
	populate(t, a, world{subject: "u-1", identity: "h-1", version: "1.0", username: "admin", tag: DefaultOrg})
	populate(t, b, world{subject: "u-1", identity: "h-1", version: "1.0", username: "admin", tag: "acme"})
	for _, table := range tenantTables(t, s) {
		t.Run(table, func(t *testing.T) {
			var own, other int
			if err := b.rd().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&own); err != nil {
				t.Fatal(err)
			}
			if err := b.rd().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table+` WHERE org_id <> 'acme'`).Scan(&other); err != nil {
				t.Fatal(err)
			}
			if other != 0 {
				t.Errorf("acme's connection sees %d rows of another organisation", other)
			}
			if own == 0 {
				t.Errorf("acme's connection sees none of its own rows: the table was not populated")
			}
			// Writes: another organisation's rows cannot be changed or
			// removed, and rows cannot be given to another organisation.
			err := b.inTx(ctx, func(tx *sql.Tx) error {
				res, err := tx.ExecContext(ctx, `UPDATE `+table+` SET org_id = org_id WHERE org_id = 'default'`)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n != 0 {
					t.Errorf("acme's transaction updated %d rows of another organisation", n)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			err = b.inTx(ctx, func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `UPDATE `+table+` SET org_id = 'default' WHERE org_id = 'acme'`)
				return err
			})
			if err == nil || !strings.Contains(err.Error(), "row-level security") && !strings.Contains(err.Error(), "append-only") {
				t.Errorf("acme's transaction moved its rows to another organisation: %v", err)
			}
		})
	}
	// A connection nobody set sees nothing.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM subjects`).Scan(&n); err != nil || n != 0 {
		t.Errorf("an unset connection sees %d subjects, %v", n, err)
	}
}
