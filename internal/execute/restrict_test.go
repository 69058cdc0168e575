package execute

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
)

// restrictable is two databases: users flag restriction with a boolean,
// contacts with the time it began; notes hold personal data and declare
// no flag.
const restrictable = `custos_dataset: 1
datastores:
  - id: accounts
    kind: sqlite
    dsn_env: ACCOUNTS_DSN
    collections:
      - name: users
        restrict_flag: restricted
        fields:
          - name: id
            primary_key: true
          - name: email
            categories: [basic.email]
            identity: email
          - name: restricted
            data_type: boolean
      - name: notes
        fields:
          - name: id
            primary_key: true
          - name: user_id
            references: {collection: users, field: id, direction: from}
          - name: body
            categories: [user.content]
  - id: crm
    kind: sqlite
    dsn_env: CRM_DSN
    collections:
      - name: contacts
        restrict_flag: restricted_at
        fields:
          - name: id
            primary_key: true
          - name: email
            categories: [basic.email]
            references: {datastore: accounts, collection: users, field: email, direction: from}
          - name: restricted_at
            data_type: datetime
`

// TestRestrictAllSetsAndClearsFlags: restricting sets every flag reachable
// from the person, in both databases, and names the collection without
// one; lifting clears them; each run twice writes once; other people's
// rows are untouched.
func TestRestrictAllSetsAndClearsFlags(t *testing.T) {
	d, err := dataset.Parse("restrict.yaml", []byte(restrictable))
	if err != nil {
		t.Fatal(err)
	}
	accounts := openSQLite(t, "accounts.db",
		`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, restricted BOOLEAN NOT NULL DEFAULT 0)`,
		`CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT)`,
		`INSERT INTO users (id, email) VALUES (1, 'a@example.com'), (2, 'b@example.com')`,
		`INSERT INTO notes VALUES (5, 1, 'called'), (6, 2, 'vip')`)
	crm := openSQLite(t, "crm.db",
		`CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, restricted_at TEXT)`,
		`INSERT INTO contacts VALUES (7, 'a@example.com', NULL), (8, 'b@example.com', NULL), (9, 'a@example.com', NULL)`)
	stores := []Store{
		{DS: &d.Datastores[0], DB: accounts, Kind: connector.SQLite},
		{DS: &d.Datastores[1], DB: crm, Kind: connector.SQLite},
	}
	state := func() map[string][][]any {
		return map[string][][]any{"users": dump(t, accounts, "users"), "contacts": dump(t, crm, "contacts")}
	}
	ctx := context.Background()
	seeds := Seeds{"email": {"a@example.com"}}
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	before := state()

	set := []Restriction{
		{Datastore: "accounts", Flagged: []FlaggedCollection{{Collection: "users", Field: "restricted", Rows: 1}}, Unflagged: []string{"notes"}, Applied: true},
		{Datastore: "crm", Flagged: []FlaggedCollection{{Collection: "contacts", Field: "restricted_at", Rows: 2}}, Unflagged: []string{}, Applied: true},
	}
	dry, err := RestrictAll(ctx, stores, seeds, RestrictOptions{DryRun: true, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	wantDry := []Restriction{set[0], set[1]}
	wantDry[0].Applied, wantDry[1].Applied = false, false
	if diff := cmp.Diff(wantDry, dry); diff != "" {
		t.Errorf("dry run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, state()); diff != "" {
		t.Fatalf("dry run wrote (-before +after):\n%s", diff)
	}

	got, err := RestrictAll(ctx, stores, seeds, RestrictOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(set, got); diff != "" {
		t.Errorf("restriction (-want +got):\n%s", diff)
	}
	at := dump(t, crm, "contacts")[0][2]
	if at == nil {
		t.Fatal("contact 7's restricted_at is still NULL")
	}
	restricted := map[string][][]any{
		"users":    {{int64(1), "a@example.com", int64(1)}, {int64(2), "b@example.com", int64(0)}},
		"contacts": {{int64(7), "a@example.com", at}, {int64(8), "b@example.com", nil}, {int64(9), "a@example.com", at}},
	}
	if diff := cmp.Diff(restricted, state()); diff != "" {
		t.Errorf("after restriction (-want +got):\n%s", diff)
	}
	again, err := RestrictAll(ctx, stores, seeds, RestrictOptions{Now: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again {
		if len(r.Flagged) != 0 {
			t.Errorf("second restriction changed %s: %+v", r.Datastore, r.Flagged)
		}
	}
	if diff := cmp.Diff(restricted, state()); diff != "" {
		t.Errorf("second restriction wrote (-want +got):\n%s", diff)
	}

	lifted, err := RestrictAll(ctx, stores, seeds, RestrictOptions{Lift: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(set, lifted); diff != "" {
		t.Errorf("lifting (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, state()); diff != "" {
		t.Errorf("after lifting (-before +after):\n%s", diff)
	}
	again, err = RestrictAll(ctx, stores, seeds, RestrictOptions{Lift: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again {
		if len(r.Flagged) != 0 {
			t.Errorf("second lifting changed %s: %+v", r.Datastore, r.Flagged)
		}
	}
}
