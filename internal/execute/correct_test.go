package execute

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
)

// correctableLinked is linkedByEmail with the email and name correctable
// on both sides of the link between the databases.
const correctableLinked = `custos_dataset: 1
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
            correct: email
          - name: name
            categories: [basic.name]
            correct: name
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
            correct: email
            references: {datastore: accounts, collection: users, field: email, direction: from}
          - name: full_name
            categories: [basic.name]
            correct: name
          - name: nickname
            categories: [basic.name]
`

func openCorrectable(t *testing.T) linkedDBs {
	t.Helper()
	d, err := dataset.Parse("linked.yaml", []byte(correctableLinked))
	if err != nil {
		t.Fatal(err)
	}
	accounts := openSQLite(t, "accounts.db",
		`CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`,
		`INSERT INTO users VALUES (1, 'a@example.com', 'Ann'), (2, 'b@example.com', 'Bob')`)
	crm := openSQLite(t, "crm.db",
		`CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, full_name TEXT, nickname TEXT)`,
		`INSERT INTO contacts VALUES (7, 'a@example.com', 'Ann', 'annie'), (8, 'b@example.com', 'Bob', 'bobby'), (9, 'a@example.com', 'Ann Other', 'ann')`)
	return linkedDBs{
		stores: []Store{
			{DS: &d.Datastores[0], DB: accounts, Kind: connector.SQLite},
			{DS: &d.Datastores[1], DB: crm, Kind: connector.SQLite},
		},
		dbs: map[string]*sql.DB{"users": accounts, "contacts": crm},
	}
}

// TestCorrectAllAcrossDatastores: a name and an email (the identity the
// person is found by) corrected in every copy the traversal reaches, in
// both databases; the dry run says so without writing; a second run, from
// the old identity or the new, changes nothing.
func TestCorrectAllAcrossDatastores(t *testing.T) {
	ctx := context.Background()
	l := openCorrectable(t)
	old := Seeds{"email": {"a@example.com"}}
	opt := CorrectOptions{Values: map[string]string{"basic.name": "Ann Other", "basic.email": " Ann@New.example "}}

	want := []Correction{
		{Datastore: "accounts", Collections: []CollectionCorrection{{Collection: "users", Rows: 1, Fields: []FieldCorrection{
			{Field: "email", Category: "basic.email", Rows: 1, Masked: Mask("ann@new.example")},
			{Field: "name", Category: "basic.name", Rows: 1, Masked: Mask("Ann Other")},
		}}}},
		// Contact 9 already carries the corrected name: only its email changes.
		{Datastore: "crm", Collections: []CollectionCorrection{{Collection: "contacts", Rows: 2, Fields: []FieldCorrection{
			{Field: "email", Category: "basic.email", Rows: 2, Masked: Mask("ann@new.example")},
			{Field: "full_name", Category: "basic.name", Rows: 1, Masked: Mask("Ann Other")},
		}}}},
	}
	before := l.state(t)
	dry, err := CorrectAll(ctx, l.stores, old, CorrectOptions{Values: opt.Values, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, dry); diff != "" {
		t.Errorf("dry run (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(before, l.state(t)); diff != "" {
		t.Fatalf("dry run wrote (-before +after):\n%s", diff)
	}

	got, err := CorrectAll(ctx, l.stores, old, opt)
	if err != nil {
		t.Fatal(err)
	}
	want[0].Applied, want[0].Statements = true, 1
	want[1].Applied, want[1].Statements = true, 2 // contacts 7 and 9 need different fields
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("correction (-want +got):\n%s", diff)
	}
	after := map[string][][]any{
		"users":    {{int64(1), "ann@new.example", "Ann Other"}, {int64(2), "b@example.com", "Bob"}},
		"contacts": {{int64(7), "ann@new.example", "Ann Other", "annie"}, {int64(8), "b@example.com", "Bob", "bobby"}, {int64(9), "ann@new.example", "Ann Other", "ann"}},
	}
	if diff := cmp.Diff(after, l.state(t)); diff != "" {
		t.Errorf("databases after the correction (-want +got):\n%s", diff)
	}

	for _, seeds := range []Seeds{old, {"email": {"ann@new.example"}}} {
		again, err := CorrectAll(ctx, l.stores, seeds, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range again {
			if len(c.Collections) != 0 || c.Statements != 0 {
				t.Errorf("second run from %v changed %s: %+v", seeds, c.Datastore, c)
			}
		}
		if diff := cmp.Diff(after, l.state(t)); diff != "" {
			t.Errorf("second run wrote (-want +got):\n%s", diff)
		}
	}
}

// TestCorrectRefuses: a value that does not fit a field's format, or two
// values for one field, stop the correction before anything is written,
// and the error never quotes the value.
func TestCorrectRefuses(t *testing.T) {
	tests := []struct {
		name   string
		values map[string]string
		is     error
		secret string
	}{
		{name: "bad email", values: map[string]string{"basic.email": "ann at secret-domain"}, is: dataset.ErrInvalidCorrection, secret: "secret-domain"},
		{name: "bad name", values: map[string]string{"basic.name": "ann@secret.example", "basic.email": "ann@new.example"}, is: dataset.ErrInvalidCorrection, secret: "secret.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := openCorrectable(t)
			before := l.state(t)
			_, err := CorrectAll(context.Background(), l.stores, Seeds{"email": {"a@example.com"}}, CorrectOptions{Values: tc.values})
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			if strings.Contains(err.Error(), tc.secret) {
				t.Errorf("error quotes the value: %v", err)
			}
			if diff := cmp.Diff(before, l.state(t)); diff != "" {
				t.Errorf("refused correction wrote (-before +after):\n%s", diff)
			}
		})
	}

	// One field, two categories, two values.
	d, err := dataset.Parse("two.yaml", []byte(strings.Replace(correctableLinked, "categories: [basic.name]\n            correct: name\n  - id: crm",
		"categories: [basic.name, basic.profile]\n            correct: name\n  - id: crm", 1)))
	if err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t, "two.db", `CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT, name TEXT)`, `INSERT INTO users VALUES (1, 'a@example.com', 'Ann')`)
	_, err = Correct(context.Background(), db, connector.SQLite, &d.Datastores[0], Seeds{"email": {"a@example.com"}},
		CorrectOptions{Values: map[string]string{"basic.name": "Ann Other", "basic.profile": "Ann Third"}})
	if !errors.Is(err, ErrCorrectionConflict) {
		t.Errorf("error %v, want ErrCorrectionConflict", err)
	}
}

// TestCorrectRefusedWriteQuotesNothing: when the database refuses a
// corrected value (here a unique email already taken), the error names the
// table and the database's code, not the value the database would quote.
func TestCorrectRefusedWriteQuotesNothing(t *testing.T) {
	for _, kind := range []connector.Kind{connector.MySQL, connector.SQLite} {
		t.Run(string(kind), func(t *testing.T) {
			var db *sql.DB
			if kind == connector.MySQL {
				db = testMySQL(t)
			} else {
				db = testSQLite(t)
			}
			for _, q := range []string{
				`CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100) UNIQUE, name VARCHAR(100))`,
				`INSERT INTO users VALUES (1, 'a@example.com', 'Ann'), (2, 'taken-secret@example.com', 'Bob')`,
			} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			d, err := dataset.Parse("one.yaml", []byte(strings.SplitN(correctableLinked, "  - id: crm", 2)[0]))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Correct(context.Background(), db, kind, &d.Datastores[0], Seeds{"email": {"a@example.com"}},
				CorrectOptions{Values: map[string]string{"basic.email": "taken-secret@example.com"}})
			var refused *RefusedWrite
			if !errors.As(err, &refused) || refused.Table != "users" {
				t.Fatalf("error %v, want a RefusedWrite on users", err)
			}
			if strings.Contains(err.Error(), "taken-secret") {
				t.Errorf("error quotes the value: %v", err)
			}
		})
	}
}
