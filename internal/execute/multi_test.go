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

// twoStores is an annotation of two databases: accounts holds the users,
// shop their orders, linked by orders.user_id. %s are the reference from
// orders.user_id and any extra field of users.
const twoStores = `custos_dataset: 1
datastores:
  - id: accounts
    kind: sqlite
    dsn_env: ACCOUNTS_DSN
    collections:
      - name: users
        fields:
          - name: id
            primary_key: true%s
          - name: email
            categories: [basic.email]
            identity: email
          - name: name
            categories: [basic.name]
  - id: shop
    kind: sqlite
    dsn_env: SHOP_DSN
    collections:
      - name: orders
        fields:
          - name: id
            primary_key: true
          - name: user_id
            references: {datastore: accounts, collection: users, field: id%s}
          - name: item
            categories: [user.content]
`

// openSQLite creates a SQLite database in a file of its own and runs stmts in it.
func openSQLite(t *testing.T, name string, stmts ...string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

func TestAccessAllAcrossDatastores(t *testing.T) {
	ann := Row{"id": int64(1), "email": "a@example.com", "name": "Ann"}
	annOrders := []Row{
		{"id": int64(10), "user_id": int64(1), "item": "book"},
		{"id": int64(12), "user_id": int64(1), "item": "pen"},
	}
	for _, tc := range []struct {
		name      string
		usersRef  string // extra lines under users.id
		direction string // direction of orders.user_id's reference
		want      map[string]Result
	}{
		{
			name:      "from: the user's orders are found from the user",
			direction: ", direction: from",
			want:      map[string]Result{"accounts": {"users": {ann}}, "shop": {"orders": annOrders}},
		},
		{
			name:      "both: the values flowing back to accounts end the walk",
			direction: "",
			want:      map[string]Result{"accounts": {"users": {ann}}, "shop": {"orders": annOrders}},
		},
		{
			name: "a reference each way between the datastores ends",
			usersRef: `
            references: {datastore: shop, collection: orders, field: user_id, direction: to}`,
			direction: ", direction: both",
			want:      map[string]Result{"accounts": {"users": {ann}}, "shop": {"orders": annOrders}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := dataset.Parse("two.yaml", fmt.Appendf(nil, twoStores, tc.usersRef, tc.direction))
			if err != nil {
				t.Fatal(err)
			}
			accounts := openSQLite(t, "accounts.db",
				`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`,
				`INSERT INTO users VALUES (1, 'a@example.com', 'Ann'), (2, 'b@example.com', 'Bob')`)
			shop := openSQLite(t, "shop.db",
				`CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, item TEXT)`,
				`INSERT INTO orders VALUES (10, 1, 'book'), (11, 2, 'lamp'), (12, 1, 'pen')`)
			stores := []Store{
				{DS: &d.Datastores[0], DB: accounts, Kind: connector.SQLite},
				{DS: &d.Datastores[1], DB: shop, Kind: connector.SQLite},
			}
			got, err := AccessAll(context.Background(), stores, Seeds{"email": {"a@example.com"}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("AccessAll (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAccessAllCategories: categories narrow the fields returned, not the
// values carried between datastores (user_id has no category).
func TestAccessAllCategories(t *testing.T) {
	d, err := dataset.Parse("two.yaml", fmt.Appendf(nil, twoStores, "", ", direction: from"))
	if err != nil {
		t.Fatal(err)
	}
	accounts := openSQLite(t, "accounts.db",
		`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`,
		`INSERT INTO users VALUES (1, 'a@example.com', 'Ann'), (2, 'b@example.com', 'Bob')`)
	shop := openSQLite(t, "shop.db",
		`CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER, item TEXT)`,
		`INSERT INTO orders VALUES (10, 2, 'lamp'), (11, 2, 'desk'), (12, 1, 'pen')`)
	stores := []Store{
		{DS: &d.Datastores[0], DB: accounts, Kind: connector.SQLite},
		{DS: &d.Datastores[1], DB: shop, Kind: connector.SQLite},
	}
	got, err := AccessAll(context.Background(), stores, Seeds{"email": {"b@example.com"}}, Options{Categories: []string{"user"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Result{
		"accounts": {"users": {{}}},
		"shop":     {"orders": {{"item": "lamp"}, {"item": "desk"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AccessAll (-want +got):\n%s", diff)
	}
}
