package dataset

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/google/go-cmp/cmp"
)

func starter(t *testing.T) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load(filepath.Join("..", "..", "examples", "starter", "custos.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidate(t *testing.T) {
	m := starter(t)
	tests := []struct {
		name string
		in   string // a dataset file, or "" to use built
		d    *Dataset
		want []string
	}{
		{name: "shop fixture", in: "file:testdata/shop.yaml"},
		{
			name: "categories",
			in: head + `      - name: customer
        fields:
          - name: email
            categories: [basic.emial, content.notes, nonsense.thing]
            identity: email
`,
			want: []string{
				`v.yaml:10:26: unknown category "basic.emial" (did you mean "basic.email"?)`,
				`v.yaml:10:54: unknown category "nonsense.thing"`,
			},
		},
		{
			name: "built in code",
			d: &Dataset{File: "code", Datastores: []Datastore{{
				ID: "shop", Kind: KindMySQL, DSN: "app:pw@tcp(db)/shop",
				Collections: []Collection{
					{Name: "customer", Fields: []Field{
						{Name: "email", Categories: []string{"basic.email"}, Identity: "Email"},
						{Name: "ref", References: []Reference{{Collection: "customer", Field: "email", Direction: "sideways"}}},
					}},
					{Name: "orders", DeleteRow: true, Fields: []Field{
						{Name: "id", Categories: []string{"financial.orders"}, Erase: Erase{Strategy: "shred"}},
					}},
				},
			}}},
			want: []string{
				`code:1:1: collection "orders" deletes whole rows but has no primary key`,
				`code:1:1: collection "orders" holds personal data but no identity reaches it`,
				`code:1:1: inline "dsn" contains a password: use "dsn_env" or "dsn_file"`,
				`code:1:1: invalid identity "Email": want email, phone, user_id or a lower-case name`,
				`code:1:1: unknown direction "sideways": want to, from or both`,
			},
		},
		{
			name: "erase in code",
			d: &Dataset{File: "code", Datastores: []Datastore{{
				ID: "shop", Collections: []Collection{{Name: "customer", Fields: []Field{
					{Name: "email", Categories: []string{"basic.email"}, Identity: "email", Erase: Erase{Strategy: "shred"}},
				}}},
			}}},
			want: []string{`code:1:1: unknown erase strategy "shred": want one of null, fixed:<value>, random, hash, hmac, mask, keep`},
		},
		{
			name: "reachable across datastores and both ways",
			d: &Dataset{File: "code", Datastores: []Datastore{
				{ID: "a", Collections: []Collection{{Name: "users", Fields: []Field{
					{Name: "email", Categories: []string{"basic.email"}, Identity: "email"},
					{Name: "id", PrimaryKey: true},
				}}}},
				{ID: "b", Collections: []Collection{
					{Name: "notes", Fields: []Field{
						{Name: "user_id", Categories: []string{"account.id"}, References: []Reference{{Datastore: "a", Collection: "users", Field: "id", Direction: DirectionBoth}}},
					}},
					{Name: "backflow", Fields: []Field{
						// "to" runs from backflow to users: finding a user never finds this row.
						{Name: "user_id", Categories: []string{"account.id"}, References: []Reference{{Datastore: "a", Collection: "users", Field: "id", Direction: DirectionTo}}},
					}},
				}},
			}},
			want: []string{`code:1:1: collection "backflow" holds personal data but no identity reaches it`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.d
			if d == nil {
				var err error
				if path, ok := strings.CutPrefix(tt.in, "file:"); ok {
					d, err = Load(path)
				} else {
					d, err = Parse("v.yaml", []byte(tt.in))
				}
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
			}
			var got []string
			for _, p := range d.Validate(m) {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}
