package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/shareddata"
	"github.com/custos-privacy/custos/internal/testdb"
)

// fidesFile copies a file of Fides' example into dir, under its own name,
// so that positions in reports do not depend on where the shared data is.
func fidesFile(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, shareddata.Read(t, "dsr-eval", "fides-postgres-example", name), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDatasetImport imports Fides' annotation of its sample database: the
// annotation is the golden file, validates, names the connection without
// holding it, and the report says nothing failed to map.
func TestDatasetImport(t *testing.T) {
	dir := t.TempDir()
	in := fidesFile(t, dir, "postgres_example_test_dataset.yml")
	// The DSN is in the environment as it would be: it must not reach the file.
	t.Setenv("SHOP_DSN", "postgres://custos:s3cret-pw@db.internal:5432/shop")
	out := filepath.Join(dir, "shop.yaml")
	report := filepath.Join(dir, "report.txt")
	stdout, errOut, code := run(t, "dataset", "import", in, "--kind", "postgres", "--dsn-env", "SHOP_DSN", "-o", out, "--report", report)
	if code != 0 || stdout != "" || errOut != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, errOut)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// What the command writes is the import the dataset package's golden
	// file holds (internal/dataset/testdata/fides-import.golden.yaml).
	imp, err := dataset.ImportFides("postgres_example_test_dataset.yml",
		shareddata.Read(t, "dsr-eval", "fides-postgres-example", "postgres_example_test_dataset.yml"),
		dataset.ImportOptions{Kind: dataset.KindPostgres, DSNEnv: "SHOP_DSN"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := imp.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(want) {
		t.Errorf("the annotation written differs from dataset.ImportFides:\n%s", data)
	}
	for _, secret := range []string{"s3cret-pw", "db.internal", "postgres://"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the annotation holds %q from the DSN", secret)
		}
	}
	rep, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.ReplaceAll(string(rep), dir+string(filepath.Separator), ""); got != imp.Report() {
		t.Errorf("report:\n%s\nwant:\n%s", got, imp.Report())
	}
	if _, errOut, code := run(t, "validate", out, "--manifest", "../../examples/starter/custos.yaml"); code != 0 {
		t.Errorf("validate: exit %d: %s", code, errOut)
	}

	// Without -o and --report: the annotation on stdout, the report on stderr.
	stdout, errOut, code = run(t, "dataset", "import", in, "--kind", "postgres", "--dsn-env", "SHOP_DSN")
	if code != 0 || stdout != string(data) || !strings.Contains(errOut, "Fides data categories with no Custos category: none") {
		t.Errorf("to stdout: exit %d, same annotation %v, stderr %q", code, stdout == string(data), errOut)
	}
}

// TestDatasetImportReportsUnmapped: what does not map is reported with its
// place in the Fides file, and the annotation still validates.
func TestDatasetImportReportsUnmapped(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "crm.yml")
	if err := os.WriteFile(in, []byte(`dataset:
  - fides_key: crm
    collections:
      - name: contact
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email}
          - name: party
            data_categories: [user.demographic.political_opinion]
            fides_meta: {data_type: decimal}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "crm.yaml")
	_, errOut, code := run(t, "dataset", "import", in, "--kind", "mysql", "--dsn-env", "CRM_DSN", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		in + `:10:31: contact.party: "user.demographic.political_opinion": imported as "other"`,
		in + `:11:37: contact.party: data_type "decimal": imported without a type`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("report lacks %q:\n%s", want, errOut)
		}
	}
	if _, errOut, code := run(t, "validate", out, "--manifest", "../../examples/starter/custos.yaml"); code != 0 {
		t.Errorf("validate: exit %d: %s", code, errOut)
	}
}

func TestDatasetImportErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("dataset:\n  - fides_key: x\n    collectoins: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.yaml")
	tests := []struct {
		name   string
		args   []string
		code   int
		errHas string
	}{
		{"problems in the file", []string{bad, "--kind", "sqlite", "--dsn-env", "X", "-o", out}, 1, bad + `:3:5: unknown key "collectoins" (did you mean "collections"?)`},
		{"kind is required", []string{bad, "--dsn-env", "X", "-o", out}, 2, `required flag(s) "kind" not set`},
		{"dsn-env is required", []string{bad, "--kind", "sqlite", "-o", out}, 2, `required flag(s) "dsn-env" not set`},
		{"unknown kind", []string{bad, "--kind", "oracle", "--dsn-env", "X", "-o", out}, 2, `unknown kind "oracle"`},
		{"missing file", []string{filepath.Join(dir, "nope.yml"), "--kind", "sqlite", "--dsn-env", "X", "-o", out}, 2, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := run(t, append([]string{"dataset", "import"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errOut, tt.errHas) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.errHas)
			}
			if _, err := os.Stat(out); err == nil {
				t.Error("an annotation was written")
			}
		})
	}
}

// loadFidesSample loads Fides' sample database into a fresh PostgreSQL
// schema and returns its DSN and a connection. The script names its
// schemas (public, backup_schema); both become schemas the test owns.
func loadFidesSample(t *testing.T) (string, *sql.DB) {
	t.Helper()
	script := shareddata.Read(t, "dsr-eval", "fides-postgres-example", "postgres_sample.sql")
	dsn := testdb.Postgres(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil || !strings.HasPrefix(schema, "custos_t_") {
		t.Fatalf("current schema %q (%v) is not a test schema", schema, err)
	}
	backup := schema + "_backup"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+connector.Quote(connector.Postgres, backup)+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", backup, err)
		}
	})
	s := strings.NewReplacer("public.", connector.Quote(connector.Postgres, schema)+".",
		"backup_schema", connector.Quote(connector.Postgres, backup)).Replace(string(script))
	if _, err := db.ExecContext(ctx, s); err != nil {
		t.Fatalf("load postgres_sample.sql: %v", err)
	}
	return dsn, db
}

// TestDatasetImportServes runs `custos serve` in-process with the imported
// annotation, its connection taken from the environment variable it names,
// over Fides' sample database: an access request finds what Fides' own
// reading of its dataset finds (EXPECTED.md's 21 rows), and a deletion
// erases exactly what that reading plans to erase, and nothing of another
// customer.
func TestDatasetImportServes(t *testing.T) {
	dir := t.TempDir()
	in := fidesFile(t, dir, "postgres_example_test_dataset.yml")
	dsn, db := loadFidesSample(t)
	t.Setenv("FIDES_SHOP_DSN", dsn)
	annotation := filepath.Join(dir, "shop.yaml")
	_, report, code := run(t, "dataset", "import", in, "--kind", "postgres", "--dsn-env", "FIDES_SHOP_DSN", "-o", annotation)
	if code != 0 {
		t.Fatalf("import: exit %d: %s", code, report)
	}
	// The review the report asks for: visit has no primary key (nor has its
	// table); a visit row is one person's, so its key is (email,
	// last_visit) and erasure deletes the row.
	if !strings.Contains(report, ": visit: erasure cannot name its rows") {
		t.Fatalf("the report does not ask for visit's key:\n%s", report)
	}
	reviewed, err := os.ReadFile(annotation)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.NewReplacer(
		"      - name: visit\n        fields:\n          - name: email\n",
		"      - name: visit\n        delete_row: true\n        fields:\n          - name: email\n            primary_key: true\n",
		"          - name: last_visit  # Fides: system.operations\n",
		"          - name: last_visit  # Fides: system.operations\n            primary_key: true\n",
		// Names may be corrected, wherever they are kept.
		"            categories: [basic.name]  # Fides: user.name\n",
		"            categories: [basic.name]  # Fides: user.name\n            correct: name\n",
	).Replace(string(reviewed))
	if strings.Count(edited, "primary_key: true") != strings.Count(string(reviewed), "primary_key: true")+2 {
		t.Fatalf("the annotation's visit collection is not where the review expects it:\n%s", reviewed)
	}
	if err := os.WriteFile(annotation, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	// The reference: Fides' dataset read as it is, run directly.
	ctx := context.Background()
	ref, err := dataset.ParseFides(in, shareddata.Read(t, "dsr-eval", "fides-postgres-example", "postgres_example_test_dataset.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range ref.Datastores[0].Collections {
		if c.Name == "visit" {
			ref.Datastores[0].Collections[i].DeleteRow = true
			for j := range c.Fields {
				c.Fields[j].PrimaryKey = true
			}
		}
	}
	refStores := []execute.Store{{DS: &ref.Datastores[0], DB: db, Kind: connector.Postgres}}
	seeds := execute.Seeds{"user_id": {"fides-c1"}, "email": {"customer-1@example.com"}}
	found, err := execute.AccessAll(ctx, refStores, seeds, execute.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, rs := range found[ref.Datastores[0].ID] {
		rows += len(rs)
	}
	if rows != 21 {
		t.Fatalf("the reference finds %d rows, EXPECTED.md 21", rows)
	}
	var cats []string
	for _, c := range ref.Datastores[0].Collections {
		for _, f := range c.Fields {
			cats = append(cats, f.Categories...)
		}
	}
	plans, err := execute.EraseAll(ctx, refStores, seeds, execute.EraseOptions{Categories: cats, DryRun: true, HMACKey: []byte("k"), Salt: []byte("s")})
	if err != nil {
		t.Fatal(err)
	}
	changed := 0
	for _, c := range plans[0].Changes {
		changed += len(c.Fields)
	}
	wantErased := fmt.Sprintf("postgres_example_test_dataset: %d rows, %d fields erased", len(plans[0].Changes), changed)

	h, key := servedPolicy(t, "../../examples/starter/custos.yaml", map[string]string{"CUSTOS_DATASET": annotation})
	must := func(want int, method, path, body string) requestView {
		t.Helper()
		code, resp := call(t, h, key, method, path, body)
		if code != want {
			t.Fatalf("%s %s: %d %s", method, path, code, resp)
		}
		var v requestView
		json.Unmarshal([]byte(resp), &v)
		return v
	}
	must(201, "POST", "/v1/subjects", `{"subject_id":"fides-c1","identities":[{"kind":"email","value":"customer-1@example.com","keep":true}]}`)
	for _, tc := range []struct{ kind, details, note string }{
		{"access", "", fmt.Sprintf("postgres_example_test_dataset: %d rows found", rows)},
		{"correction", `,"details":{"correction":{"basic.name":"John Q. Customer"}}`, "postgres_example_test_dataset: 1 rows corrected (customer.name)"},
		{"deletion", "", wantErased},
	} {
		v := must(201, "POST", "/v1/requests", `{"type":"`+tc.kind+`","subject_id":"fides-c1","language":"en","verification":"operator","evidence":"identity card checked at the counter, ref OP-1"`+tc.details+`}`)
		must(200, "POST", "/v1/requests/"+v.ID+"/approve", "")
		if tc.kind == "correction" {
			code, preview := call(t, h, key, "GET", "/v1/requests/"+v.ID+"/correction", "")
			if code != 200 || !strings.Contains(preview, `"collection":"customer","rows":1`) || strings.Contains(preview, "John Q") {
				t.Errorf("correction preview: %d %s", code, preview)
			}
			var name string
			if err := db.QueryRowContext(ctx, `SELECT name FROM customer WHERE id = 1`).Scan(&name); err != nil || name != "John Customer" {
				t.Errorf("after the preview customer 1 is %q (%v), want the name unchanged", name, err)
			}
		}
		done := must(200, "POST", "/v1/requests/"+v.ID+"/complete", `{}`)
		if note := done.lastNote(); !strings.Contains(note, tc.note) {
			t.Errorf("%s: the request's note %q lacks %q", tc.kind, note, tc.note)
		}
		if tc.kind == "correction" {
			var names string
			if err := db.QueryRowContext(ctx, `SELECT string_agg(name, ',' ORDER BY id) FROM customer`).Scan(&names); err != nil {
				t.Fatal(err)
			}
			if names != "John Q. Customer,Jill Customer,Jane Customer" {
				t.Errorf("customers after the correction: %q", names)
			}
		}
	}
	// Customer 1 is erased where the annotation says; customer 2 is not.
	for _, tc := range []struct {
		query string
		want  string
	}{
		{`SELECT COALESCE(email, '∅') || '/' || COALESCE(name, '∅') FROM customer WHERE id = 1`, "∅/∅"},
		{`SELECT COALESCE(email, '∅') || '/' || COALESCE(name, '∅') FROM customer WHERE id = 2`, "customer-2@example.com/Jill Customer"},
		{`SELECT COALESCE(ccn::text, '∅') FROM payment_card WHERE id = 'pay_aaa-aaa'`, "∅"},
		{`SELECT COALESCE(street, '∅') FROM address WHERE id = 1`, "∅"},
		{`SELECT COUNT(*)::text FROM login WHERE customer_id = 1`, "0"},
		{`SELECT string_agg(email, ',' ORDER BY email) FROM visit`, "customer-2@example.com"},
	} {
		var got string
		if err := db.QueryRowContext(ctx, tc.query).Scan(&got); err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		if got != tc.want {
			t.Errorf("%s = %q, want %q", tc.query, got, tc.want)
		}
	}
}

// requestView is the part of a rights request's JSON the test reads.
type requestView struct {
	ID      string `json:"id"`
	History []struct {
		Note string `json:"note"`
	} `json:"history"`
}

func (v requestView) lastNote() string {
	if len(v.History) == 0 {
		return ""
	}
	return v.History[len(v.History)-1].Note
}
