// Package dsrbench measures data-subject access and erasure by the execute
// engine on a generated e-commerce database shaped like Fides' sample, side
// by side with a naive row-at-a-time traversal of the same annotation.
package dsrbench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"time"

	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/pgscratch"
)

// Per customer: one address, three orders of two items each, one payment
// card and three logins, plus the customer row: 15 rows.
const (
	ordersPerCustomer = 3
	itemsPerOrder     = 2
	loginsPerCustomer = 3
	rowsPerCustomer   = 1 + 1 + ordersPerCustomer + ordersPerCustomer*itemsPerOrder + 1 + loginsPerCustomer
	products          = 1000
)

// annotation is the shop's dataset, with Fides' reference directions: a
// customer leads to their address (to); a customer's orders, cards and
// logins are found from the customer (from); items from their order, and
// an item leads to its product.
const annotation = `custos_dataset: 1
datastores:
  - id: shop
    kind: postgres
    dsn_env: SHOP_DSN
    collections:
      - name: customer
        fields:
          - name: id
            primary_key: true
          - name: email
            categories: [basic.email]
            identity: email
            erase: null
          - name: name
            categories: [basic.name]
            erase: null
            correct: name
          - name: address_id
            references: {collection: address, field: id, direction: to}
      - name: address
        fields:
          - name: id
            primary_key: true
          - name: street
            categories: [basic.address]
            erase: null
            correct: address
          - name: city
            categories: [basic.address]
            erase: null
            correct: address
      - name: orders
        fields:
          - name: id
            primary_key: true
          - name: customer_id
            references: {collection: customer, field: id, direction: from}
          - name: shipping_address_id
            references: {collection: address, field: id, direction: to}
      - name: order_item
        fields:
          - name: order_id
            primary_key: true
            references: {collection: orders, field: id, direction: from}
          - name: item_no
            primary_key: true
          - name: product_id
            references: {collection: product, field: id, direction: to}
      - name: product
        fields:
          - name: id
            primary_key: true
          - name: name
      - name: payment_card
        fields:
          - name: id
            primary_key: true
          - name: customer_id
            references: {collection: customer, field: id, direction: from}
          - name: billing_address_id
            references: {collection: address, field: id, direction: to}
          - name: ccn
            categories: [financial.payment]
            erase: null
          - name: name
            categories: [basic.name]
            erase: null
            correct: name
      - name: login
        fields:
          - name: id
            primary_key: true
          - name: customer_id
            references: {collection: customer, field: id, direction: from}
          - name: time
            categories: [usage.logs]
            erase: null
`

// EraseCategories are the categories an erasure in the benchmark selects:
// every personal field of the annotation.
var EraseCategories = []string{"basic", "financial", "usage"}

// Corrections are what a correction in the benchmark writes, for the
// batch tagged tag: every batch writes values no other batch wrote, so
// each changes the rows it reaches.
func Corrections(tag string) map[string]string {
	return map[string]string{"basic.name": "Corrected Name " + tag, "basic.address": "1 Corrected Road " + tag}
}

// Annotation returns the shop's datastore annotation.
func Annotation() (*dataset.Datastore, error) {
	d, err := dataset.Parse("shop.yaml", []byte(annotation))
	if err != nil {
		return nil, fmt.Errorf("dsrbench: annotation: %w", err)
	}
	return &d.Datastores[0], nil
}

// Email is the identity of customer id.
func Email(id int64) string { return fmt.Sprintf("customer%d@example.com", id) }

// Shop is a throw-away schema holding the generated database.
type Shop struct {
	DB        *sql.DB
	Schema    string
	Customers int64
	// Statements counts the statements sent through DB.
	Statements Counter
	scratch    *pgscratch.Scratch
}

// NewShop creates a fresh schema on the PostgreSQL server at postgresURL and
// the shop's tables in it (empty, without indexes). Close drops it.
func NewShop(ctx context.Context, postgresURL string) (*Shop, error) {
	sc, err := pgscratch.New(ctx, postgresURL, "custos_bench_dsr_")
	if err != nil {
		return nil, fmt.Errorf("dsrbench: %w", err)
	}
	s := &Shop{Schema: sc.Name, scratch: sc}
	s.DB, err = openCounted(sc.DSN, &s.Statements)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("dsrbench: open: %w", err)
	}
	s.DB.SetMaxOpenConns(4)
	for _, ddl := range []string{
		`CREATE TABLE address (id bigint NOT NULL, street text, city text)`,
		`CREATE TABLE customer (id bigint NOT NULL, email text, name text, address_id bigint)`,
		`CREATE TABLE orders (id bigint NOT NULL, customer_id bigint NOT NULL, shipping_address_id bigint)`,
		`CREATE TABLE order_item (order_id bigint NOT NULL, item_no bigint NOT NULL, product_id bigint NOT NULL)`,
		`CREATE TABLE product (id bigint NOT NULL, name text)`,
		`CREATE TABLE payment_card (id bigint NOT NULL, customer_id bigint NOT NULL, billing_address_id bigint, ccn text, name text)`,
		`CREATE TABLE login (id bigint NOT NULL, customer_id bigint NOT NULL, time timestamptz)`,
	} {
		if _, err := s.DB.ExecContext(ctx, ddl); err != nil {
			s.Close()
			return nil, fmt.Errorf("dsrbench: create tables: %w", err)
		}
	}
	return s, nil
}

// Close drops the schema and everything in it.
func (s *Shop) Close() error {
	if s.DB != nil {
		s.DB.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.scratch.Drop(ctx); err != nil {
		return fmt.Errorf("dsrbench: %w", err)
	}
	return nil
}

// generateChunk inserts customers lo…hi with everything they own, set based.
// Ids are derived from the customer's: address g, orders 3(g-1)+1…3g, card g,
// logins 3(g-1)+1…3g.
var generateChunk = []string{
	`INSERT INTO address SELECT g, g || ' Market Street', 'City ' || (g % 500) FROM generate_series($1::bigint, $2::bigint) g`,
	`INSERT INTO customer SELECT g, 'customer' || g || '@example.com', 'Customer ' || g, g FROM generate_series($1::bigint, $2::bigint) g`,
	`INSERT INTO orders SELECT (g-1)*3 + k, g, g FROM generate_series($1::bigint, $2::bigint) g, generate_series(1, 3) k`,
	`INSERT INTO order_item SELECT o, i, ((o*7 + i*13) % 1000) + 1 FROM generate_series(($1::bigint-1)*3 + 1, $2::bigint*3) o, generate_series(1, 2) i`,
	`INSERT INTO payment_card SELECT g, g, g, lpad((4000000000000000 + g)::text, 16, '0'), 'Customer ' || g FROM generate_series($1::bigint, $2::bigint) g`,
	`INSERT INTO login SELECT (g-1)*3 + k, g, timestamptz '2026-01-01' - make_interval(mins => (g*3 + k)::int % 500000) FROM generate_series($1::bigint, $2::bigint) g, generate_series(1, 3) k`,
}

// Indexes are what any real schema of this shape has: primary keys, the
// unique email, and an index on every referencing column.
var indexes = []string{
	`ALTER TABLE address ADD PRIMARY KEY (id)`,
	`ALTER TABLE customer ADD PRIMARY KEY (id)`,
	`ALTER TABLE orders ADD PRIMARY KEY (id)`,
	`ALTER TABLE order_item ADD PRIMARY KEY (order_id, item_no)`,
	`ALTER TABLE product ADD PRIMARY KEY (id)`,
	`ALTER TABLE payment_card ADD PRIMARY KEY (id)`,
	`ALTER TABLE login ADD PRIMARY KEY (id)`,
	`CREATE UNIQUE INDEX customer_email ON customer (email)`,
	`CREATE INDEX customer_address ON customer (address_id)`,
	`CREATE INDEX orders_customer ON orders (customer_id)`,
	`CREATE INDEX orders_shipping ON orders (shipping_address_id)`,
	`CREATE INDEX order_item_product ON order_item (product_id)`,
	`CREATE INDEX payment_card_customer ON payment_card (customer_id)`,
	`CREATE INDEX payment_card_billing ON payment_card (billing_address_id)`,
	`CREATE INDEX login_customer ON login (customer_id)`,
	// The shop's tables only: a bare ANALYZE walks every table of the
	// database, and fails when another schema's table is dropped under it.
	`ANALYZE address, customer, orders, order_item, product, payment_card, login`,
}

// Generate fills the shop with customers customers and what they own, then
// builds the indexes, reporting progress to log. Rows go in by
// generate_series in chunks, so loading is set based and resumable in
// progress reports.
func (s *Shop) Generate(ctx context.Context, customers int64, log io.Writer) error {
	start := time.Now()
	if _, err := s.DB.ExecContext(ctx, `INSERT INTO product SELECT g, 'Product ' || g FROM generate_series(1, $1::bigint) g`, products); err != nil {
		return fmt.Errorf("dsrbench: generate products: %w", err)
	}
	chunk := max(int64(1000), min(customers/20, 100000))
	var rows int64
	for lo := int64(1); lo <= customers; lo += chunk {
		hi := min(lo+chunk-1, customers)
		for _, q := range generateChunk {
			if _, err := s.DB.ExecContext(ctx, q, lo, hi); err != nil {
				return fmt.Errorf("dsrbench: generate: %w", err)
			}
		}
		rows += (hi - lo + 1) * rowsPerCustomer
		el := time.Since(start)
		fmt.Fprintf(log, "generated %d/%d customers, %d rows in %s (%.0f rows/s)\n", hi, customers, rows, el.Round(time.Millisecond), float64(rows)/el.Seconds())
	}
	t0 := time.Now()
	for _, q := range indexes {
		if _, err := s.DB.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("dsrbench: index: %w", err)
		}
	}
	fmt.Fprintf(log, "indexes and statistics in %s; %d rows in all, %s\n", time.Since(t0).Round(time.Millisecond), rows+products, time.Since(start).Round(time.Millisecond))
	s.Customers = customers
	return nil
}
