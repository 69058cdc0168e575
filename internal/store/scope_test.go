package store

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// notTenant are the tables that hold no organisation's data.
var notTenant = []string{"organisations", "schema_migrations"}

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
