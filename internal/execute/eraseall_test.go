package execute

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
)

// linkedByEmail is two databases where the second copies the person's
// email: crm.contacts is reached from accounts.users.email, which the
// erasure itself rewrites. Erasing accounts first would hide the contact.
const linkedByEmail = `custos_dataset: 1
datastores:
  - id: accounts
    kind: sqlite
    dsn_env: ACCOUNTS_DSN
    collections:
      - name: users
        fields:
          - name: id
            primary_key: true
          - name: email
            categories: [basic.email]
            identity: email
            erase: hash
          - name: name
            categories: [basic.name]
            erase: null
  - id: crm
    kind: sqlite
    dsn_env: CRM_DSN
    collections:
      - name: contacts
        fields:
          - name: id
            primary_key: true
          - name: email
            categories: [basic.email]
            erase: null
            references: {datastore: accounts, collection: users, field: email, direction: from}
          - name: note
            categories: [user.content]
            erase: fixed:-
`

type linkedDBs struct {
	stores []Store
	dbs    map[string]*sql.DB
}

func openLinked(t *testing.T) linkedDBs {
	t.Helper()
	d, err := dataset.Parse("linked.yaml", []byte(linkedByEmail))
	if err != nil {
		t.Fatal(err)
	}
	accounts := openSQLite(t, "accounts.db",
		`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`,
		`INSERT INTO users VALUES (1, 'a@example.com', 'Ann'), (2, 'b@example.com', 'Bob')`)
	crm := openSQLite(t, "crm.db",
		`CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, note TEXT)`,
		`INSERT INTO contacts VALUES (7, 'a@example.com', 'called twice'), (8, 'b@example.com', 'vip'), (9, 'a@example.com', 'moved')`)
	return linkedDBs{
		stores: []Store{
			{DS: &d.Datastores[0], DB: accounts, Kind: connector.SQLite},
			{DS: &d.Datastores[1], DB: crm, Kind: connector.SQLite},
		},
		dbs: map[string]*sql.DB{"users": accounts, "contacts": crm},
	}
}

// dump reads every row of table, ordered by id.
func dump(t *testing.T, db *sql.DB, table string) [][]any {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf(`SELECT * FROM %q ORDER BY id`, table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, vals)
	}
	return out
}

func (l linkedDBs) state(t *testing.T) map[string][][]any {
	return map[string][][]any{"users": dump(t, l.dbs["users"], "users"), "contacts": dump(t, l.dbs["contacts"], "contacts")}
}

var eraseAllOpt = EraseOptions{Categories: []string{"basic", "user"}, Salt: []byte("salt")}

func TestEraseAllAcrossDatastores(t *testing.T) {
	ctx := context.Background()
	l := openLinked(t)
	seeds := Seeds{"email": {"a@example.com"}}

	dry, err := EraseAll(ctx, l.stores, seeds, EraseOptions{Categories: eraseAllOpt.Categories, Salt: eraseAllOpt.Salt, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	before := l.state(t)
	plans, err := EraseAll(ctx, l.stores, seeds, eraseAllOpt)
	if err != nil {
		t.Fatal(err)
	}
	wantChanges := map[string][]Change{
		"accounts": {{Collection: "users", Key: map[string]any{"id": int64(1)}, Fields: []FieldChange{{"email", "hash"}, {"name", "null"}}}},
		"crm": {
			{Collection: "contacts", Key: map[string]any{"id": int64(7)}, Fields: []FieldChange{{"email", "null"}, {"note", "fixed"}}},
			{Collection: "contacts", Key: map[string]any{"id": int64(9)}, Fields: []FieldChange{{"email", "null"}, {"note", "fixed"}}},
		},
	}
	for i, p := range plans {
		if p.Datastore != l.stores[i].DS.ID || !p.Applied {
			t.Errorf("plan %d: datastore %q applied %v", i, p.Datastore, p.Applied)
		}
		if diff := cmp.Diff(wantChanges[p.Datastore], p.Changes); diff != "" {
			t.Errorf("%s changes (-want +got):\n%s", p.Datastore, diff)
		}
		// The dry run showed exactly what was then done.
		if diff := cmp.Diff(dry[i].Changes, p.Changes); diff != "" || dry[i].Applied {
			t.Errorf("%s: dry run differs from the erasure (applied %v):\n%s", p.Datastore, dry[i].Applied, diff)
		}
	}
	after := l.state(t)
	want := map[string][][]any{
		"users": {
			{int64(1), hashOf("salt", "a@example.com"), nil},
			before["users"][1], // Bob untouched
		},
		"contacts": {
			{int64(7), nil, "-"},
			before["contacts"][1], // Bob's contact untouched
			{int64(9), nil, "-"},
		},
	}
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("databases after erasure (-want +got):\n%s", diff)
	}

	// A second run changes nothing.
	again, err := EraseAll(ctx, l.stores, seeds, eraseAllOpt)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range again {
		if len(p.Changes) != 0 {
			t.Errorf("second run changed %s: %+v", p.Datastore, p.Changes)
		}
	}
}

// TestEraseAllResumes: a run cut short after the first datastore it
// erases, then run again, ends where one uninterrupted run ends.
func TestEraseAllResumes(t *testing.T) {
	ctx := context.Background()
	seeds := Seeds{"email": {"a@example.com"}}

	whole := openLinked(t)
	if _, err := EraseAll(ctx, whole.stores, seeds, eraseAllOpt); err != nil {
		t.Fatal(err)
	}

	cut := openLinked(t)
	r, err := reach(ctx, cut.stores, seeds)
	if err != nil {
		t.Fatal(err)
	}
	first := r.order[len(r.order)-1] // EraseAll starts with the store reached last
	if got := cut.stores[first].DS.ID; got != "crm" {
		t.Fatalf("erasure would start with %s; the store reached through another must go first", got)
	}
	s := cut.stores[first]
	if _, err := eraseFrom(ctx, s.DB, s.Kind, s.DS, seeds, r.fieldSeeds[first], eraseAllOpt); err != nil {
		t.Fatal(err)
	}
	// ... the process dies here; the rerun:
	if _, err := EraseAll(ctx, cut.stores, seeds, eraseAllOpt); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(whole.state(t), cut.state(t)); diff != "" {
		t.Errorf("resumed erasure differs from an uninterrupted one (-whole +resumed):\n%s", diff)
	}
}

// TestDeleteOrder: rows are deleted children first, whatever order the
// annotation lists the collections in, so foreign keys hold throughout.
func TestDeleteOrder(t *testing.T) {
	const ann = `custos_dataset: 1
datastores:
  - id: shop
    kind: sqlite
    dsn_env: SHOP_DSN
    collections:
      - name: customers
        delete_row: true
        fields:
          - name: id
            primary_key: true
          - name: email
            categories: [basic.email]
            identity: email
      - name: addresses
        delete_row: true
        fields:
          - name: id
            primary_key: true
          - name: customer_id
            references: {collection: customers, field: id, direction: from}
          - name: street
            categories: [basic.address]
      - name: deliveries
        delete_row: true
        fields:
          - name: id
            primary_key: true
          - name: address_id
            references: {collection: addresses, field: id, direction: from}
          - name: note
            categories: [user.content]
`
	d, err := dataset.Parse("order.yaml", []byte(ann))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := deleteOrder(&d.Datastores[0]), []int{2, 1, 0}; !cmp.Equal(got, want) {
		t.Errorf("deleteOrder = %v, want %v (deliveries, addresses, customers)", got, want)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "shop.db")+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)`,
		`CREATE TABLE addresses (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), street TEXT)`,
		`CREATE TABLE deliveries (id INTEGER PRIMARY KEY, address_id INTEGER NOT NULL REFERENCES addresses(id), note TEXT)`,
		`INSERT INTO customers VALUES (1, 'a@example.com'), (2, 'b@example.com')`,
		`INSERT INTO addresses VALUES (10, 1, 'Elm St'), (11, 2, 'Oak St')`,
		`INSERT INTO deliveries VALUES (100, 10, 'leave at door'), (101, 11, 'ring')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	var fk int
	if err := db.QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign keys not enforced (%d, %v): the test would prove nothing", fk, err)
	}
	if _, err := Erase(context.Background(), db, connector.SQLite, &d.Datastores[0], Seeds{"email": {"a@example.com"}},
		EraseOptions{Categories: []string{"basic", "user"}}); err != nil {
		t.Fatalf("erase with foreign keys enforced: %v", err)
	}
	for table, want := range map[string]int{"customers": 1, "addresses": 1, "deliveries": 1} {
		var n int
		if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %q`, table)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s: %d rows left, want %d (the other customer's)", table, n, want)
		}
	}
}

func hashOf(salt, v string) string {
	got, _, err := erasedValue(dataset.Erase{Strategy: dataset.EraseHash}, v, EraseOptions{Salt: []byte(salt)})
	if err != nil {
		panic(err)
	}
	return got.(string)
}
