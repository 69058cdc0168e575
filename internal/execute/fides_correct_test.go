package execute

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
)

// TestFidesCorrectDialects corrects customer-1's name in Fides' sample
// database on PostgreSQL, MariaDB and SQLite, with every name field of the
// dataset correctable: the one copy the traversal reaches (customer 1) is
// rewritten and every other cell of every table is as it was, the
// employees' names included; the dry run writes nothing; a second run
// changes nothing.
func TestFidesCorrectDialects(t *testing.T) {
	engines := []struct {
		kind connector.Kind
		load func(*testing.T) *sql.DB
	}{
		{connector.Postgres, loadFides},
	}
	for _, e := range fidesEngines {
		engines = append(engines, struct {
			kind connector.Kind
			load func(*testing.T) *sql.DB
		}{e.kind, e.load})
	}
	const corrected = "John Q. Customer"
	seeds := Seeds{"email": {"customer-1@example.com"}}
	for _, e := range engines {
		t.Run(string(e.kind), func(t *testing.T) {
			ds := fidesDatastore(t)
			marked := 0
			for ci := range ds.Collections {
				for fi := range ds.Collections[ci].Fields {
					f := &ds.Collections[ci].Fields[fi]
					for _, c := range f.Categories {
						if c == "basic.name" {
							f.Correct = dataset.CorrectName
							marked++
						}
					}
				}
			}
			if marked != 2 {
				t.Fatalf("%d name fields in the dataset, want customer.name and employee.name", marked)
			}
			db := e.load(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			before := snapshotOf(t, db, e.kind)
			opt := CorrectOptions{Values: map[string]string{"basic.name": corrected}}

			want := Correction{Datastore: ds.ID, Collections: []CollectionCorrection{{Collection: "customer", Rows: 1,
				Fields: []FieldCorrection{{Field: "name", Category: "basic.name", Rows: 1, Masked: Mask(corrected)}}}}}
			dry, err := Correct(ctx, db, e.kind, ds, seeds, CorrectOptions{Values: opt.Values, DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, dry); diff != "" {
				t.Errorf("dry run (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, snapshotOf(t, db, e.kind)); diff != "" {
				t.Fatalf("dry run changed the database (-before +after):\n%s", diff)
			}

			got, err := Correct(ctx, db, e.kind, ds, seeds, opt)
			if err != nil {
				t.Fatal(err)
			}
			want.Applied, want.Statements = true, 1
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("correction (-want +got):\n%s", diff)
			}
			wantDB := before.clone()
			if wantDB["customer"]["1"]["name"] != "John Customer" {
				t.Fatalf("customer 1's name before is %v, not the sample's", wantDB["customer"]["1"]["name"])
			}
			wantDB["customer"]["1"]["name"] = corrected
			if diff := cmp.Diff(wantDB, snapshotOf(t, db, e.kind)); diff != "" {
				t.Errorf("database after the correction (-want +got):\n%s", diff)
			}

			again, err := Correct(ctx, db, e.kind, ds, seeds, opt)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Correction{Datastore: ds.ID, Collections: []CollectionCorrection{}, Applied: true}, again); diff != "" {
				t.Errorf("second run (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantDB, snapshotOf(t, db, e.kind)); diff != "" {
				t.Errorf("second run changed the database (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFidesRestrictDialects flags customer-1 restricted in Fides' sample
// database, given a boolean flag on customers, on PostgreSQL, MariaDB and
// SQLite: only their row changes, collections without a flag are named,
// and lifting puts every cell back as it was.
func TestFidesRestrictDialects(t *testing.T) {
	engines := []struct {
		kind    connector.Kind
		load    func(*testing.T) *sql.DB
		on, off any // how the engine reads the flag back
	}{
		{connector.Postgres, loadFides, true, false},
	}
	for _, e := range fidesEngines {
		engines = append(engines, struct {
			kind    connector.Kind
			load    func(*testing.T) *sql.DB
			on, off any // how the engine reads the flag back
		}{e.kind, e.load, int64(1), int64(0)})
	}
	seeds := Seeds{"email": {"customer-1@example.com"}}
	for _, e := range engines {
		t.Run(string(e.kind), func(t *testing.T) {
			ds := fidesDatastore(t)
			for ci := range ds.Collections {
				if c := &ds.Collections[ci]; c.Name == "customer" {
					c.RestrictFlag = "restricted"
					c.Fields = append(c.Fields, dataset.Field{Name: "restricted", DataType: "boolean"})
				}
			}
			db := e.load(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := db.ExecContext(ctx, "ALTER TABLE customer ADD COLUMN restricted BOOLEAN NOT NULL DEFAULT FALSE"); err != nil {
				t.Fatal(err)
			}
			stores := []Store{{DS: ds, DB: db, Kind: e.kind}}
			before := snapshotOf(t, db, e.kind)
			if before["customer"]["1"]["restricted"] != e.off {
				t.Fatalf("customer 1's flag reads %#v before, want %#v", before["customer"]["1"]["restricted"], e.off)
			}

			got, err := RestrictAll(ctx, stores, seeds, RestrictOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]FlaggedCollection{{Collection: "customer", Field: "restricted", Rows: 1}}, got[0].Flagged); diff != "" {
				t.Errorf("flagged (-want +got):\n%s", diff)
			}
			for _, c := range []string{"address", "payment_card", "login"} {
				if !slices.Contains(got[0].Unflagged, c) {
					t.Errorf("unflagged %v lacks %s", got[0].Unflagged, c)
				}
			}
			want := before.clone()
			want["customer"]["1"]["restricted"] = e.on
			if diff := cmp.Diff(want, snapshotOf(t, db, e.kind)); diff != "" {
				t.Errorf("database after the restriction (-want +got):\n%s", diff)
			}
			again, err := RestrictAll(ctx, stores, seeds, RestrictOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(again[0].Flagged) != 0 {
				t.Errorf("second restriction flagged %+v", again[0].Flagged)
			}

			lifted, err := RestrictAll(ctx, stores, seeds, RestrictOptions{Lift: true})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got[0].Flagged, lifted[0].Flagged); diff != "" {
				t.Errorf("lifted (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, snapshotOf(t, db, e.kind)); diff != "" {
				t.Errorf("database after lifting (-before +after):\n%s", diff)
			}
		})
	}
}
