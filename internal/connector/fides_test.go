package connector

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// fidesSQL is Fides' sample database, in the shared data beside the project
// (CUSTOS_SHARED_DATA names another place).
var fidesSQL = filepath.Join(sharedData(), "dsr-eval", "fides-postgres-example", "postgres_sample.sql")

func sharedData() string {
	if d := os.Getenv("CUSTOS_SHARED_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "data")
}

// fidesPrimaryKeys are the primary keys postgres_sample.sql declares, by table.
var fidesPrimaryKeys = map[string][]string{
	"address":                      {"id"},
	"composite_pk_test":            {"id_a", "id_b"},
	"customer":                     {"id"},
	"dynamic_email_address_config": {"id"},
	"employee":                     {"id"},
	"login":                        {"id"},
	"loyalty":                      {"id"},
	"order_item":                   {"order_id", "item_no"},
	"orders":                       {"id"},
	"payment_card":                 {"id"},
	"product":                      {"id"},
	"report":                       {"id"},
	"service_request":              {"id"},
	"type_link_test":               {"id"},
	"visit":                        {"email", "last_visit"},
}

// fidesReferences are the relationships Fides' dataset declares between
// these tables (the SQL itself has no foreign keys): table.column → table.column.
var fidesReferences = [][4]string{
	{"customer", "address_id", "address", "id"},
	{"employee", "address_id", "address", "id"},
	{"login", "customer_id", "customer", "id"},
	{"order_item", "order_id", "orders", "id"},
	{"order_item", "product_id", "product", "id"},
	{"orders", "customer_id", "customer", "id"},
	{"orders", "shipping_address_id", "address", "id"},
	{"payment_card", "billing_address_id", "address", "id"},
	{"payment_card", "customer_id", "customer", "id"},
	{"service_request", "employee_id", "employee", "id"},
}

// loadFides loads Fides' Postgres sample into the fresh schema behind dsn.
// The file names its schemas (public, backup_schema); both are renamed to
// fresh ones so the test owns everything it creates.
func loadFides(t *testing.T) string {
	t.Helper()
	script, err := os.ReadFile(fidesSQL)
	if err != nil {
		if os.Getenv("CUSTOS_SHARED_DATA") != "" {
			t.Fatalf("Fides sample not available: %v", err)
		}
		t.Skipf("Fides sample not available: %v", err)
	}
	dsn := testPostgres(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var schema string
	if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(schema, "custos_t_") {
		t.Fatalf("current schema %q is not a test schema", schema)
	}
	backup := schema + "_backup"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP SCHEMA IF EXISTS "+Quote(Postgres, backup)+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", backup, err)
		}
	})
	s := strings.NewReplacer("public.", Quote(Postgres, schema)+".", "backup_schema", Quote(Postgres, backup)).Replace(string(script))
	// No arguments: pgx sends the script with the simple protocol, which
	// runs every statement.
	if _, err := db.ExecContext(ctx, s); err != nil {
		t.Fatalf("load %s: %v", fidesSQL, err)
	}
	return dsn
}

func TestFidesIntrospect(t *testing.T) {
	dsn := loadFides(t)
	conn := openT(t, Config{DSN: dsn})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := conn.Introspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gotPK := map[string][]string{}
	for _, tb := range s.Tables {
		gotPK[tb.Name] = tb.PrimaryKey
		if len(tb.ForeignKeys) != 0 {
			t.Errorf("%s: foreign keys %v, but the sample declares none", tb.Name, tb.ForeignKeys)
		}
	}
	if diff := cmp.Diff(fidesPrimaryKeys, gotPK); diff != "" {
		t.Errorf("tables and primary keys (-want +got):\n%s", diff)
	}
	customer, _ := s.Table("customer")
	wantCols := []Column{
		{Name: "id", Type: "integer"},
		{Name: "email", Type: "character varying(100)", Nullable: true},
		{Name: "name", Type: "character varying(100)", Nullable: true},
		{Name: "created", Type: "timestamp without time zone", Nullable: true},
		{Name: "address_id", Type: "bigint", Nullable: true},
	}
	if diff := cmp.Diff(wantCols, customer.Columns); diff != "" {
		t.Errorf("customer columns (-want +got):\n%s", diff)
	}
}

// draftDoc is the part of a draft the tests read back.
type draftDoc struct {
	Version    int `yaml:"custos_dataset"`
	Datastores []struct {
		ID          string `yaml:"id"`
		Kind        string `yaml:"kind"`
		DSNEnv      string `yaml:"dsn_env"`
		Collections []struct {
			Name   string `yaml:"name"`
			Fields []struct {
				Name       string    `yaml:"name"`
				PrimaryKey bool      `yaml:"primary_key"`
				Categories []string  `yaml:"categories"`
				Identity   string    `yaml:"identity"`
				Erase      yaml.Node `yaml:"erase"`
				References *struct {
					Collection string `yaml:"collection"`
					Field      string `yaml:"field"`
					Direction  string `yaml:"direction"`
				} `yaml:"references"`
			} `yaml:"fields"`
		} `yaml:"collections"`
	} `yaml:"datastores"`
}

// TestFidesDiscover runs discovery on Fides' sample twice: as shipped, with
// no foreign keys, where references must be read from column names; and
// with Fides' references declared as foreign keys. Both must propose
// exactly the references Fides' own annotation writes, oriented alike.
func TestFidesDiscover(t *testing.T) {
	for _, declared := range []bool{false, true} {
		name := "as shipped"
		if declared {
			name = "with foreign keys"
		}
		t.Run(name, func(t *testing.T) { testFidesDiscover(t, declared) })
	}
}

func testFidesDiscover(t *testing.T, declared bool) {
	dsn := loadFides(t)
	// Declare the relationships of Fides' dataset as foreign keys. NOT VALID:
	// the sample has an order_item whose order does not exist.
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, r := range fidesReferences {
		if !declared {
			break
		}
		q := "ALTER TABLE " + Quote(Postgres, r[0]) + " ADD FOREIGN KEY (" + Quote(Postgres, r[1]) + ") REFERENCES " +
			Quote(Postgres, r[2]) + " (" + Quote(Postgres, r[3]) + ") NOT VALID"
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	conn := openT(t, Config{DSN: dsn})
	var calls, lastDone, lastTotal int
	d, err := Discover(ctx, conn, DiscoverOptions{Datastore: "fides_example", Progress: func(done, total int) {
		calls++
		lastDone, lastTotal = done, total
	}})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || lastDone != lastTotal || lastTotal != 66 {
		t.Errorf("progress: %d calls, last %d/%d; want the last call at 66/66 (the columns of the 15 tables)", calls, lastDone, lastTotal)
	}
	out, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	var doc draftDoc
	if err := yaml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("draft is not YAML: %v\n%s", err, out)
	}
	if doc.Version != 1 || len(doc.Datastores) != 1 || doc.Datastores[0].ID != "fides_example" ||
		doc.Datastores[0].Kind != "postgres" || doc.Datastores[0].DSNEnv != DSNEnv {
		t.Fatalf("draft header wrong:\n%s", out)
	}
	identities := map[string]string{}
	refs := map[[2]string][2]string{}
	pks := map[string][]string{}
	var customerEmail []string
	for _, c := range doc.Datastores[0].Collections {
		pks[c.Name] = nil
		for _, f := range c.Fields {
			if f.Identity != "" {
				identities[c.Name+"."+f.Name] = f.Identity
			}
			if f.PrimaryKey {
				pks[c.Name] = append(pks[c.Name], f.Name)
			}
			if r := f.References; r != nil {
				// The directions Fides' own annotation of this schema gives:
				// rows that belong to a person are found "from" their owner,
				// lookups (addresses, products) are followed "to".
				want := map[string]string{"login.customer_id": "from", "order_item.order_id": "from", "orders.customer_id": "from",
					"payment_card.customer_id": "from", "service_request.employee_id": "from",
					"orders.payment_card_id": "from", "composite_pk_test.customer_id": "from"}[c.Name+"."+f.Name]
				if want == "" {
					want = "to"
				}
				if r.Direction != want {
					t.Errorf("%s.%s: direction %q, want %s", c.Name, f.Name, r.Direction, want)
				}
				refs[[2]string{c.Name, f.Name}] = [2]string{r.Collection, r.Field}
			}
			if c.Name == "customer" && f.Name == "email" {
				customerEmail = f.Categories
				if f.Erase.Kind != yaml.ScalarNode || f.Erase.Tag != "!!null" {
					t.Errorf("customer.email: erase is not null")
				}
			}
		}
	}
	if identities["customer.email"] != "email" {
		t.Errorf("customer.email not proposed as identity email; identities: %v", identities)
	}
	if diff := cmp.Diff([]string{"basic.email"}, customerEmail); diff != "" {
		t.Errorf("customer.email categories (-want +got):\n%s", diff)
	}
	// A secondary address is personal data but not the subject's identity.
	if id, ok := identities["service_request.alt_email"]; ok {
		t.Errorf("service_request.alt_email proposed as identity %q", id)
	}
	wantRefs := map[[2]string][2]string{}
	for _, r := range fidesReferences {
		wantRefs[[2]string{r[0], r[1]}] = [2]string{r[2], r[3]}
	}
	// Two more, read from column names, that Fides' annotation leaves out
	// although the columns do hold those ids; the reviewer decides.
	wantRefs[[2]string{"orders", "payment_card_id"}] = [2]string{"payment_card", "id"}
	wantRefs[[2]string{"composite_pk_test", "customer_id"}] = [2]string{"customer", "id"}
	if diff := cmp.Diff(wantRefs, refs); diff != "" {
		t.Errorf("references (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(fidesPrimaryKeys, pks); diff != "" {
		t.Errorf("primary keys in draft (-want +got):\n%s", diff)
	}
	if !strings.Contains(string(out), "categories: [basic.email]  # confidence ") {
		t.Errorf("no confidence comment on an email column:\n%s", out)
	}
	assertNoSamples(t, out, fidesValues)

	// With ShowSamples the values appear, only as comments.
	d, err = Discover(ctx, conn, DiscoverOptions{ShowSamples: true})
	if err != nil {
		t.Fatal(err)
	}
	shown, err := d.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(shown), `#   "customer-1@example.com"`) {
		t.Errorf("ShowSamples did not show a sampled email")
	}
	for _, line := range strings.Split(string(shown), "\n") {
		if strings.Contains(line, "@example.com") && !strings.HasPrefix(strings.TrimSpace(line), "#") {
			t.Errorf("sampled value outside a comment: %q", line)
		}
	}
}

// fidesValues are values from postgres_sample.sql that a draft must not carry.
var fidesValues = []string{
	"customer-1@example.com", "jane@example.com", "employee-1@example.com", "admin-account@example.com",
	"John Customer", "Example Street", "Exampletown", "12345", "pay_aaa-aaa", "ord_aaa-aaa",
	"test@test.com", "Cookie Rookie", "@example.com", "123456789",
}

func assertNoSamples(t *testing.T, out []byte, values []string) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(string(out), v) {
			t.Errorf("draft contains the sampled value %q", v)
		}
	}
}
