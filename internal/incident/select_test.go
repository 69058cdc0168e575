package incident_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/incident"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// TestSelectByIdentityHash: rows are tied to people by any identity
// field, through the keyed hash Custos keeps (an email on a ticket whose
// user id Custos does not know); a collection without a time field is
// read whole and named; rows of no one Custos knows are counted; vault
// values of an affected category written in the window count too; and
// the subjects of a datastore the incident did not reach do not.
func TestSelectByIdentityHash(t *testing.T) {
	ctx := context.Background()
	m := starter(t)
	e := newEnv(t, m)
	h, err := identity.NewHasher(make([]byte, identity.MinKeySize))
	if err != nil {
		t.Fatal(err)
	}
	email := func(v string) store.Identity {
		n, err := identity.Normalize("email", v)
		if err != nil {
			t.Fatal(err)
		}
		return store.Identity{Kind: "email", Hash: h.Hash("email", n)}
	}
	for _, s := range []store.Subject{
		{ID: "u-1", Identities: []store.Identity{email("li.lei@example.com")}},
		{ID: "u-2", Identities: []store.Identity{email("han@example.com")}},
		{ID: "u-3"},
		{ID: "u-4"},
	} {
		if err := e.st.CreateSubject(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	// u-3's vault email was written in the window, u-4's before it.
	for id, at := range map[string]time.Time{"u-3": time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "u-4": time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC)} {
		if err := e.st.PutVault(ctx, store.VaultValue{SubjectID: id, Field: "email", Sealed: []byte("x"), Token: "t-" + id, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "crm.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`
CREATE TABLE tickets (id INTEGER PRIMARY KEY, user_id TEXT, email TEXT, body TEXT, created_at TEXT NOT NULL);
CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT);
INSERT INTO tickets VALUES (1, 'legacy-9', 'LI.LEI@example.com', 'hello', '2025-02-01 00:00:00');
INSERT INTO tickets VALUES (2, 'u-2', NULL, 'old', '2022-02-01 00:00:00');
INSERT INTO tickets VALUES (3, 'nobody', 'nobody@example.com', 'who', '2025-05-01 00:00:00');
INSERT INTO contacts VALUES (1, 'han@example.com');
`); err != nil {
		t.Fatal(err)
	}
	crm := &dataset.Datastore{ID: "crm", Kind: dataset.KindSQLite, Collections: []dataset.Collection{
		{Name: "tickets", Retention: []dataset.RetentionTarget{{Rule: "support", Clock: "created_at"}}, Fields: []dataset.Field{
			{Name: "id", PrimaryKey: true}, {Name: "user_id", Identity: "user_id", Categories: []string{"account.id"}},
			{Name: "email", Identity: "email", Categories: []string{"basic.email"}}, {Name: "body", Categories: []string{"usage.feedback"}},
			{Name: "created_at"}}},
		{Name: "contacts", Fields: []dataset.Field{{Name: "id", PrimaryKey: true}, {Name: "email", Identity: "email", Categories: []string{"basic.email"}}}},
	}}
	other := &dataset.Datastore{ID: "other", Kind: dataset.KindSQLite, Collections: []dataset.Collection{
		{Name: "contacts", Fields: []dataset.Field{{Name: "email", Identity: "email", Categories: []string{"basic.email"}}}}}}
	svc := incident.New(e.st, incident.Options{Now: e.clock.Now, Hasher: h,
		Datastores: []execute.Store{{DS: crm, DB: db, Kind: connector.SQLite}, {DS: other, DB: db, Kind: connector.SQLite}},
		Policy:     func(context.Context) (*manifest.Manifest, error) { return m, nil }})
	i, err := svc.Open(ctx, admin, incident.OpenInput{Description: incident.Text{EN: "crm leak"}, DiscoveredAt: *at("2026-06-01T00:00:00Z"),
		Categories: []string{"basic"}, Datastores: []string{"crm"}, Window: incident.Window{From: at("2024-01-01T00:00:00Z"), To: at("2026-01-01T00:00:00Z")}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := svc.Assess(ctx, admin, i.ID, incident.AssessInput{Severity: map[string]string{"CN": "general", "EU": "risk"}})
	if err != nil {
		t.Fatal(err)
	}
	want := incident.Affected{Subjects: 3, Rows: 3, Unknown: 1, Unwindowed: []string{"crm.contacts"}, Vault: 1, SelectedAt: a.Affected.SelectedAt}
	if diff := cmp.Diff(want, *a.Affected); diff != "" {
		t.Errorf("affected (-want +got):\n%s", diff)
	}
	var got []string
	if err := svc.Subjects(ctx, i.ID, func(id string) error { got = append(got, id); return nil }); err != nil {
		t.Fatal(err)
	}
	// u-1 by the hash of the ticket's email, u-2 by the contact without a
	// time field, u-3 by the vault; not u-2's old ticket's user id alone,
	// nor u-4's vault value from before the window.
	if diff := cmp.Diff([]string{"u-1", "u-2", "u-3"}, got); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
}
