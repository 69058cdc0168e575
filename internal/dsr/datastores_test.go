package dsr_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/dsr"
)

const shopAnnotation = `custos_dataset: 1
datastores:
  - id: shop
    kind: sqlite
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
      - name: orders
        fields:
          - name: id
            primary_key: true
          - name: customer_id
            references: {collection: customer, field: id, direction: from}
          - name: ship_to
            categories: [basic.address]
            erase: null
`

// TestDeletionReachesTheOrganisationsDatabase: a completed deletion erases
// the subject's rows in an annotated database, found from the email Custos
// keeps, before Custos erases that email itself; other customers' rows stay.
func TestDeletionReachesTheOrganisationsDatabase(t *testing.T) {
	ctx := context.Background()
	shop, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer shop.Close()
	for _, q := range []string{
		`CREATE TABLE customer (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`,
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, ship_to TEXT)`,
		`INSERT INTO customer VALUES (1, 'del@example.com', 'Lin Wei'), (2, 'other@example.com', 'Other Person')`,
		`INSERT INTO orders VALUES (10, 1, 'Road 1'), (11, 2, 'Road 2'), (12, 1, 'Road 3')`,
	} {
		if _, err := shop.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	ds, err := dataset.Parse("shop.yaml", []byte(shopAnnotation))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, starterManifest, time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	e.req.AddExecutor(&dsr.Datastores{Stores: []dsr.Datastore{{Annotation: &ds.Datastores[0], DB: shop, Kind: connector.SQLite}}, Seeds: e.req.Seeds})
	e.subject("st-del-1", "del@example.com", "", nil)

	v := e.submitOperator(map[string]any{"type": "access", "subject_id": "st-del-1"})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	var done dsr.View
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	// Operators read what each datastore did in the history; the subject
	// is told what was done, without the organisation's datastore names.
	if note := lastNote(done); !strings.Contains(note, "shop: 3 rows found") {
		t.Errorf("access did not report the shop's rows: %q", note)
	}
	if strings.Contains(done.Explanation, "shop") {
		t.Errorf("the subject is told about the datastore: %q", done.Explanation)
	}
	// The rows found go into the export bundle, under "elsewhere".
	res := e.do("GET", done.Download, "", "")
	if res.Code != 200 {
		t.Fatalf("download: %d %s", res.Code, res.Body)
	}
	data := string(unzip(t, res.Body)["data.json"])
	for _, want := range []string{`"elsewhere"`, `"shop"`, `"Road 3"`, `"Lin Wei"`} {
		if !strings.Contains(data, want) {
			t.Errorf("data.json lacks %s", want)
		}
	}
	if strings.Contains(data, "Other Person") || strings.Contains(data, "Road 2") {
		t.Error("data.json carries another customer's rows")
	}

	v = e.submitOperator(map[string]any{"type": "deletion", "subject_id": "st-del-1"})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	if note := lastNote(done); !strings.Contains(note, "shop: 3 rows, 4 fields erased") {
		t.Errorf("deletion summary: %q", note)
	}
	if strings.Contains(done.Explanation, "shop") || !strings.Contains(done.Explanation, "We have erased your personal information.") {
		t.Errorf("the subject is told %q", done.Explanation)
	}
	rows := map[string]string{}
	for _, q := range []string{`SELECT 'c' || id || ':' || COALESCE(email, '∅') || '/' || COALESCE(name, '∅') FROM customer`, `SELECT 'o' || id || ':' || COALESCE(ship_to, '∅') FROM orders`} {
		r, err := shop.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for r.Next() {
			var s string
			r.Scan(&s)
			k, val, _ := strings.Cut(s, ":")
			rows[k] = val
		}
		r.Close()
	}
	want := map[string]string{"c1": "∅/∅", "c2": "other@example.com/Other Person", "o10": "∅", "o11": "Road 2", "o12": "∅"}
	for k, w := range want {
		if rows[k] != w {
			t.Errorf("%s = %q, want %q", k, rows[k], w)
		}
	}
	e.noPI("del@example.com")
}
