package connector

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// shopScript is a small shop schema with single and composite foreign keys,
// a table whose name needs quoting, and a view that must not be listed.
// {q} quotes the odd name for the dialect; {int} and {text} are its types.
const shopScript = `
CREATE TABLE address (id {int} PRIMARY KEY, street VARCHAR(100), city VARCHAR(100));
CREATE TABLE customer (
	id {int} PRIMARY KEY,
	email VARCHAR(100) NOT NULL,
	name VARCHAR(100),
	address_id {int},
	FOREIGN KEY (address_id) REFERENCES address (id));
CREATE TABLE orders (
	id VARCHAR(40) PRIMARY KEY,
	customer_id {int} NOT NULL,
	shipping_address_id {int},
	FOREIGN KEY (shipping_address_id) REFERENCES address (id),
	FOREIGN KEY (customer_id) REFERENCES customer (id));
CREATE TABLE order_item (
	order_id VARCHAR(40) NOT NULL,
	item_no {int} NOT NULL,
	quantity {int},
	PRIMARY KEY (order_id, item_no),
	FOREIGN KEY (order_id) REFERENCES orders (id));
CREATE TABLE shipment (
	id {int} PRIMARY KEY,
	order_id VARCHAR(40),
	item_no {int},
	FOREIGN KEY (order_id, item_no) REFERENCES order_item (order_id, item_no));
CREATE TABLE {q} (id {int} PRIMARY KEY, {qc} {text});
CREATE VIEW customer_emails AS SELECT email FROM customer;
INSERT INTO address VALUES (1, '1 Example Street', 'Exampletown'), (2, '2 Example Lane', 'Exampletown');
INSERT INTO customer VALUES
	(1, 'ada.lovelace@example.com', 'Ada Lovelace', 1),
	(2, 'alan.turing@example.com', 'Alan Turing', 2),
	(3, 'grace.hopper@example.com', NULL, NULL);
INSERT INTO orders VALUES ('ord-1', 1, 1), ('ord-2', 2, NULL);
INSERT INTO order_item VALUES ('ord-1', 1, 2), ('ord-1', 2, 1);
INSERT INTO shipment VALUES (1, 'ord-1', 1);
INSERT INTO {q} VALUES (1, 'x''y'), (2, NULL);
`

const oddTable = "we\"ird`name"
const oddColumn = "va`l\"ue"

func shopSQL(k Kind) string {
	intType, textType := "INTEGER", "TEXT"
	if k == MySQL {
		intType = "INT"
	}
	return strings.NewReplacer("{int}", intType, "{text}", textType,
		"{q}", Quote(k, oddTable), "{qc}", Quote(k, oddColumn)).Replace(shopScript)
}

// shopSchema is what introspecting shopScript must return; typ maps the
// script's types to how the dialect reports them.
func shopSchema(typ func(string) string) Schema {
	col := func(name, t string, nullable bool) Column {
		return Column{Name: name, Type: typ(t), Nullable: nullable}
	}
	return Schema{Tables: []Table{
		{Name: "address", Columns: []Column{col("id", "int", false), col("street", "varchar100", true), col("city", "varchar100", true)},
			PrimaryKey: []string{"id"}},
		{Name: "customer", Columns: []Column{col("id", "int", false), col("email", "varchar100", false), col("name", "varchar100", true), col("address_id", "int", true)},
			PrimaryKey:  []string{"id"},
			ForeignKeys: []ForeignKey{{Columns: []string{"address_id"}, RefTable: "address", RefColumns: []string{"id"}}}},
		{Name: "order_item", Columns: []Column{col("order_id", "varchar40", false), col("item_no", "int", false), col("quantity", "int", true)},
			PrimaryKey:  []string{"order_id", "item_no"},
			ForeignKeys: []ForeignKey{{Columns: []string{"order_id"}, RefTable: "orders", RefColumns: []string{"id"}}}},
		{Name: "orders", Columns: []Column{col("id", "varchar40", false), col("customer_id", "int", false), col("shipping_address_id", "int", true)},
			PrimaryKey: []string{"id"},
			ForeignKeys: []ForeignKey{
				{Columns: []string{"customer_id"}, RefTable: "customer", RefColumns: []string{"id"}},
				{Columns: []string{"shipping_address_id"}, RefTable: "address", RefColumns: []string{"id"}},
			}},
		{Name: "shipment", Columns: []Column{col("id", "int", false), col("order_id", "varchar40", true), col("item_no", "int", true)},
			PrimaryKey:  []string{"id"},
			ForeignKeys: []ForeignKey{{Columns: []string{"order_id", "item_no"}, RefTable: "order_item", RefColumns: []string{"order_id", "item_no"}}}},
		{Name: oddTable, Columns: []Column{col("id", "int", false), col(oddColumn, "text", true)}, PrimaryKey: []string{"id"}},
	}}
}

var dialectTypes = map[Kind]map[string]string{
	Postgres: {"int": "integer", "varchar100": "character varying(100)", "varchar40": "character varying(40)", "text": "text"},
	MySQL:    {"int": "int(11)", "varchar100": "varchar(100)", "varchar40": "varchar(40)", "text": "text"},
	SQLite:   {"int": "INTEGER", "varchar100": "VARCHAR(100)", "varchar40": "VARCHAR(40)", "text": "TEXT"},
}

func shopConnector(t *testing.T, k Kind) Connector {
	t.Helper()
	switch k {
	case Postgres:
		dsn := testPostgres(t)
		execScript(t, "pgx", dsn, shopSQL(k))
		return openT(t, Config{DSN: dsn})
	case MySQL:
		dsn := testMySQL(t)
		execScript(t, "mysql", dsn, shopSQL(k))
		return openT(t, Config{Kind: MySQL, DSN: dsn})
	default:
		path := filepath.Join(t.TempDir(), "shop.db")
		execScript(t, "sqlite", "file:"+path+"?_pragma=foreign_keys(1)", shopSQL(k))
		return openT(t, Config{DSN: path})
	}
}

func TestIntrospectShop(t *testing.T) {
	for _, k := range []Kind{SQLite, Postgres, MySQL} {
		t.Run(string(k), func(t *testing.T) {
			conn := shopConnector(t, k)
			if conn.Kind() != k {
				t.Fatalf("Kind() = %q, want %q", conn.Kind(), k)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got, err := conn.Introspect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			types := dialectTypes[k]
			want := shopSchema(func(s string) string { return types[s] })
			if k == MySQL && strings.HasPrefix(mysqlIntType(t, got), "int") {
				// MySQL 8 dropped the display width that MariaDB still shows.
				types["int"] = mysqlIntType(t, got)
				want = shopSchema(func(s string) string { return types[s] })
			}
			if k == SQLite {
				// SQLite lets a PRIMARY KEY that is not an INTEGER rowid hold
				// NULL unless declared NOT NULL, and the connector says so.
				o, _ := want.Table("orders")
				o.Columns[0].Nullable = true
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Introspect (-want +got):\n%s", diff)
			}
		})
	}
}

func mysqlIntType(t *testing.T, s Schema) string {
	t.Helper()
	a, ok := s.Table("address")
	if !ok || len(a.Columns) == 0 {
		return ""
	}
	return a.Columns[0].Type
}

func TestSample(t *testing.T) {
	for _, k := range []Kind{SQLite, Postgres, MySQL} {
		t.Run(string(k), func(t *testing.T) {
			conn := shopConnector(t, k)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			got, err := conn.Sample(ctx, "customer", "name", 10)
			if err != nil {
				t.Fatal(err)
			}
			// NULLs are skipped; order is the database's, so compare as a set.
			if diff := cmp.Diff([]string{"Ada Lovelace", "Alan Turing"}, sorted(got)); diff != "" {
				t.Errorf("Sample(customer.name) (-want +got):\n%s", diff)
			}
			got, err = conn.Sample(ctx, "customer", "email", 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Errorf("Sample with limit 2 returned %d values", len(got))
			}
			got, err = conn.Sample(ctx, "customer", "id", 10)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"1", "2", "3"}, sorted(got)); diff != "" {
				t.Errorf("Sample(customer.id) (-want +got):\n%s", diff)
			}
			got, err = conn.Sample(ctx, oddTable, oddColumn, 10)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"x'y"}, got); diff != "" {
				t.Errorf("Sample(odd names) (-want +got):\n%s", diff)
			}
			if _, err := conn.Sample(ctx, "customer", "no_such_column", 10); err == nil {
				t.Error("Sample of a missing column succeeded")
			}
			if _, err := conn.Sample(ctx, "customer", "email", 0); err == nil {
				t.Error("Sample with limit 0 succeeded")
			}
			if err := conn.Health(ctx); err != nil {
				t.Errorf("Health: %v", err)
			}
		})
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// The connector opens SQLite read-only: a missing file is an error, not a
// new empty database.
func TestSQLiteOpenMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if conn, err := Open(ctx, Config{DSN: path}); err == nil {
		conn.Close()
		t.Fatal("Open of a missing SQLite file succeeded")
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master").Scan(&n); err != nil || n != 0 {
		t.Errorf("missing file was given a schema: n=%d err=%v", n, err)
	}
}
