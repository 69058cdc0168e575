package execute

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
)

// fidesTables are the sample's tables with the columns of their primary key.
var fidesTables = map[string][]string{
	"address": {"id"}, "composite_pk_test": {"id_a", "id_b"}, "customer": {"id"}, "dynamic_email_address_config": {"id"},
	"employee": {"id"}, "login": {"id"}, "loyalty": {"id"}, "order_item": {"order_id", "item_no"}, "orders": {"id"},
	"payment_card": {"id"}, "product": {"id"}, "report": {"id"}, "service_request": {"id"}, "type_link_test": {"id"},
	"visit": {"email", "last_visit"},
}

// snapshot is every row of every table: table → primary key → column → value.
type snapshot map[string]map[string]map[string]any

func takeSnapshot(t *testing.T, db *sql.DB) snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := snapshot{}
	for table, pk := range fidesTables {
		rows, err := db.QueryContext(ctx, "SELECT * FROM "+connector.Quote(connector.Postgres, table))
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		s[table] = map[string]map[string]any{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			r := map[string]any{}
			for i, c := range cols {
				r[c] = vals[i]
			}
			var key []string
			for _, k := range pk {
				key = append(key, fmt.Sprint(r[k]))
			}
			s[table][strings.Join(key, ",")] = r
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return s
}

// clone copies a snapshot so that expected changes can be applied to the copy.
func (s snapshot) clone() snapshot {
	out := snapshot{}
	for table, rows := range s {
		out[table] = map[string]map[string]any{}
		for k, r := range rows {
			c := map[string]any{}
			for col, v := range r {
				c[col] = v
			}
			out[table][k] = c
		}
	}
	return out
}

// TestFidesErase checks the erasures of EXPECTED.md: the plan, the rows
// written, that every other row is untouched, that a dry run writes nothing
// and that a second run changes nothing.
func TestFidesErase(t *testing.T) {
	seeds := Seeds{"email": {"customer-1@example.com"}}
	tests := []struct {
		name       string
		categories []string
		wantPlan   []Change
		// nulled are the (table, key, column) the erasure sets to NULL.
		nulled [][3]string
	}{
		{
			name:       "name",
			categories: []string{"basic.name"},
			wantPlan: []Change{{Collection: "customer", Key: map[string]any{"id": int64(1)},
				Fields: []FieldChange{{Field: "name", Strategy: "null"}}}},
			nulled: [][3]string{{"customer", "1", "name"}},
		},
		{
			name:       "financial",
			categories: []string{"financial"},
			wantPlan: []Change{{Collection: "payment_card", Key: map[string]any{"id": "pay_aaa-aaa"},
				Fields: []FieldChange{{Field: "ccn", Strategy: "null"}, {Field: "code", Strategy: "null"}, {Field: "name", Strategy: "null"}}}},
			nulled: [][3]string{{"payment_card", "pay_aaa-aaa", "ccn"}, {"payment_card", "pay_aaa-aaa", "code"}, {"payment_card", "pay_aaa-aaa", "name"}},
		},
		{
			name:       "a category nothing found has",
			categories: []string{"health"},
			wantPlan:   []Change{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds := fidesDatastore(t)
			db := loadFides(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			before := takeSnapshot(t, db)

			dry, err := Erase(ctx, db, connector.Postgres, ds, seeds, EraseOptions{Categories: tc.categories, DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Plan{Datastore: ds.ID, Changes: tc.wantPlan}, dry); diff != "" {
				t.Errorf("dry-run plan (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, takeSnapshot(t, db)); diff != "" {
				t.Errorf("dry run changed the database (-before +after):\n%s", diff)
			}

			plan, err := Erase(ctx, db, connector.Postgres, ds, seeds, EraseOptions{Categories: tc.categories})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Plan{Datastore: ds.ID, Changes: tc.wantPlan, Applied: true}, plan); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
			want := before.clone()
			for _, n := range tc.nulled {
				row, ok := want[n[0]][n[1]]
				if !ok {
					t.Fatalf("no row %s %s in the sample", n[0], n[1])
				}
				if row[n[2]] == nil {
					t.Fatalf("%s %s %s is already NULL: the test would prove nothing", n[0], n[1], n[2])
				}
				row[n[2]] = nil
			}
			if diff := cmp.Diff(want, takeSnapshot(t, db)); diff != "" {
				t.Errorf("database after erasure (-want +got):\n%s", diff)
			}

			again, err := Erase(ctx, db, connector.Postgres, ds, seeds, EraseOptions{Categories: tc.categories})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Plan{Datastore: ds.ID, Changes: []Change{}, Applied: true}, again); diff != "" {
				t.Errorf("second run (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, takeSnapshot(t, db)); diff != "" {
				t.Errorf("second run changed the database (-want +got):\n%s", diff)
			}
		})
	}
}

// TestErasedValue checks each strategy and that erasing an erased value changes nothing.
func TestErasedValue(t *testing.T) {
	opt := EraseOptions{HMACKey: []byte("k"), Salt: []byte("salt")}
	tests := []struct {
		name        string
		erase       dataset.Erase
		cur         any
		want        any
		wantChanged bool
	}{
		{"null", dataset.Erase{Strategy: dataset.EraseNull}, "John", nil, true},
		{"null again", dataset.Erase{Strategy: dataset.EraseNull}, nil, nil, false},
		{"fixed", dataset.Erase{Strategy: dataset.EraseFixed, Value: "redacted"}, "John", "redacted", true},
		{"fixed again", dataset.Erase{Strategy: dataset.EraseFixed, Value: "redacted"}, "redacted", "redacted", false},
		{"mask", dataset.Erase{Strategy: dataset.EraseMask}, "4111111111111111", "411****1111", true},
		{"mask again", dataset.Erase{Strategy: dataset.EraseMask}, "411****1111", "411****1111", false},
		{"mask short", dataset.Erase{Strategy: dataset.EraseMask}, "abc", "***", true},
		{"mask null", dataset.Erase{Strategy: dataset.EraseMask}, nil, nil, false},
		{"hash", dataset.Erase{Strategy: dataset.EraseHash}, "abc", "3681099918be28c95b81e27e7e5c2e4c6a6dea566d2d10e7f49139ebb779eb6f", true},
		{"hash again", dataset.Erase{Strategy: dataset.EraseHash}, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
			"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", false},
		{"hmac", dataset.Erase{Strategy: dataset.EraseHMAC}, "abc", "342e519ce0ad6c03a36b98eeb3f1d130db4813b9df4d1160eda488d712dc78ee", true},
		{"keep", dataset.Erase{Strategy: dataset.EraseKeep}, "John", "John", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, changed, err := erasedValue(tc.erase, tc.cur, opt)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" || changed != tc.wantChanged {
				t.Errorf("erasedValue = %v, %v; want %v, %v", got, changed, tc.want, tc.wantChanged)
			}
		})
	}
	for _, tc := range []struct {
		strategy string
		cur      any
		opt      EraseOptions
		want     error
	}{
		{dataset.EraseHMAC, "abc", EraseOptions{Salt: []byte("s")}, ErrNoHMACKey},
		{dataset.EraseHash, "abc", EraseOptions{HMACKey: []byte("k")}, ErrNoSalt},
		{dataset.EraseMask, int64(13800138000), opt, ErrNotText},
		{dataset.EraseHash, 3.5, opt, ErrNotText},
		{dataset.EraseRandom, int64(7), opt, ErrNotText},
	} {
		if _, _, err := erasedValue(dataset.Erase{Strategy: tc.strategy}, tc.cur, tc.opt); !errors.Is(err, tc.want) {
			t.Errorf("%s on %T: error %v, want %v", tc.strategy, tc.cur, err, tc.want)
		}
	}
}
