package dataset

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestLoad(t *testing.T) {
	d, err := Load(filepath.Join("testdata", "shop.yaml"))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := &Dataset{
		File: filepath.Join("testdata", "shop.yaml"),
		Datastores: []Datastore{
			{ID: "shop", Kind: KindPostgres, DSNEnv: "SHOP_DSN", Collections: []Collection{
				{Name: "customer", Fields: []Field{
					{Name: "id", PrimaryKey: true},
					{Name: "email", Categories: []string{"basic.email"}, Identity: IdentityEmail, Erase: Erase{Strategy: EraseNull}},
					{Name: "name", Categories: []string{"basic.name"}, DataType: "string", Erase: Erase{Strategy: EraseMask}},
					{Name: "address_id", References: []Reference{{Collection: "address", Field: "id", Direction: DirectionTo}}},
				}},
				{Name: "address", DeleteRow: true, Fields: []Field{
					{Name: "id", PrimaryKey: true},
					{Name: "street", Categories: []string{"basic.address"}},
				}},
			}},
			{ID: "crm", Kind: KindSQLite, DSNFile: "/run/secrets/crm", Collections: []Collection{
				{Name: "notes", Fields: []Field{
					{Name: "customer_id", Categories: []string{"account.id"}, DataType: "integer", Erase: Erase{Strategy: EraseFixed, Value: "0"},
						References: []Reference{{Datastore: "shop", Collection: "customer", Field: "id", Direction: DirectionFrom}}},
				}},
			}},
		},
	}
	if diff := cmp.Diff(want, d, cmpopts.IgnoreUnexported(Dataset{})); diff != "" {
		t.Errorf("Load mismatch (-want +got):\n%s", diff)
	}
	if got := d.Datastores[0].Collections[1].Fields[1].Erasure(); got != (Erase{Strategy: EraseNull}) {
		t.Errorf("default erasure of a personal field = %v, want null", got)
	}
	if got := d.Datastores[0].Collections[0].Fields[0].Erasure(); got != (Erase{Strategy: EraseKeep}) {
		t.Errorf("default erasure of a primary key = %v, want keep", got)
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := Load(filepath.Join("testdata", "nope.yaml")); !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("Load of a missing file: %v, want not-exist", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// head is a valid start of a file that cases below continue.
const head = "custos_dataset: 1\ndatastores:\n  - id: shop\n    kind: postgres\n    dsn_env: SHOP_DSN\n    collections:\n"

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{name: "empty", in: "", want: []string{"d.yaml:1:1: empty dataset"}},
		{name: "syntax", in: "custos_dataset: [1\n", want: []string{"d.yaml:1:1: YAML syntax: did not find expected ',' or ']'"}},
		{name: "two documents", in: "custos_dataset: 1\n---\nx: 1\n", want: []string{"d.yaml:2:1: more than one YAML document"}},
		{name: "not a mapping", in: "- a\n", want: []string{"d.yaml:1:1: want a mapping, got a list"}},
		{
			name: "root keys",
			in:   "custos_dataset: 2\ndatastore: []\n",
			want: []string{
				`d.yaml:1:1: missing required key "datastores"`,
				`d.yaml:1:17: unsupported dataset format 2: this build reads format 1`,
				`d.yaml:2:1: unknown key "datastore" (did you mean "datastores"?)`,
			},
		},
		{
			name: "datastore shape",
			in: `custos_dataset: 1
datastores:
  - id: shop
    kind: postgress
    dsn: postgres://app:s3cret@db/shop
    dsn_env: SHOP_DSN
    collections: []
  - id: ""
    kind: mysql
    collections: {}
`,
			want: []string{
				`d.yaml:4:11: unknown value "postgress" (did you mean "postgres"?): want one of postgres, mysql, sqlite`,
				`d.yaml:5:10: inline "dsn" contains a password: use "dsn_env" or "dsn_file"`,
				`d.yaml:6:5: "dsn" and "dsn_env" both give the connection: keep one`,
				`d.yaml:7:18: "collections" needs at least one entry`,
				`d.yaml:8:5: missing connection: give "dsn_env" or "dsn_file"`,
				`d.yaml:8:9: "id" is empty`,
				`d.yaml:10:18: want a list, got a mapping`,
			},
		},
		{
			name: "field shape",
			in: head + `      - name: customer
        delete_row: yes please
        fields:
          - name: email
            categories: basic.email
            identity: E-Mail
            erase: nul
            primary_key: 1
            data_type: text
          - nmae: x
          - name: phone
            erase: fixed
            references: {collection: c, field: f, direction: up}
`,
			want: []string{
				`d.yaml:8:21: want true or false, got string "yes please"`,
				`d.yaml:11:25: want a list, got string "basic.email"`,
				`d.yaml:12:23: invalid identity "E-Mail": want email, phone, user_id or a lower-case name`,
				`d.yaml:13:20: unknown erase strategy "nul" (did you mean "null"?): want one of null, fixed:<value>, random, hash, hmac, mask, keep`,
				`d.yaml:14:26: want true or false, got int 1`,
				`d.yaml:15:24: unknown value "text": want one of string, integer, float, boolean, date, datetime, bytes, json`,
				`d.yaml:16:13: missing required key "name"`,
				`d.yaml:16:13: unknown key "nmae" (did you mean "name"?)`,
				`d.yaml:18:20: erase strategy "fixed" needs a value: fixed:<value>`,
				`d.yaml:19:62: unknown value "up": want one of to, from, both`,
			},
		},
		{
			name: "graph",
			in: head + `      - name: customer
        fields:
          - name: email
            categories: [basic.email]
            identity: email
          - name: email
          - name: address_id
            references: {collection: adress, field: id, direction: to}
          - name: order_id
            references: {collection: orders, field: idd, direction: to}
          - name: crm_id
            references: {datastore: crm, collection: x, field: y}
      - name: orders
        delete_row: true
        fields:
          - name: id
            categories: [financial.orders]
      - name: customer
        fields:
          - name: x
`,
			want: []string{
				`d.yaml:12:19: duplicate field "email" in collection "customer"`,
				`d.yaml:14:38: reference to unknown collection "shop.adress"`,
				`d.yaml:16:53: reference to unknown field "shop.orders.idd" (did you mean "id"?)`,
				`d.yaml:18:37: reference to unknown datastore "crm"`,
				`d.yaml:19:15: collection "orders" holds personal data but no identity reaches it`,
				`d.yaml:20:21: collection "orders" deletes whole rows but has no primary key`,
				`d.yaml:24:15: duplicate collection "customer" in datastore "shop"`,
			},
		},
		{
			name: "no identity",
			in: head + `      - name: customer
        fields:
          - name: email
            categories: [basic.email]
`,
			want: []string{`d.yaml:2:1: no field is an identity: no person's data can be found`},
		},
		{
			name: "erase against type and key",
			in: head + `      - name: customer
        fields:
          - name: id
            primary_key: true
            identity: user_id
            categories: [account.id]
            erase: hash
          - name: age
            categories: [basic.birth_date]
            data_type: integer
            erase: mask
          - name: score
            categories: [other]
            data_type: float
            erase: fixed:none
          - name: opted_in
            categories: [other]
            data_type: boolean
            erase: random
`,
			want: []string{
				`d.yaml:13:20: primary key "id" cannot be erased with "hash": it locates the row (use keep, or delete_row on the collection)`,
				`d.yaml:17:20: erase "mask" needs a string field, "age" is integer`,
				`d.yaml:21:20: fixed value "none" is not a valid float for "score"`,
				`d.yaml:25:20: erase "random" cannot make a random boolean for "opted_in"`,
			},
		},
		{
			name: "password forms",
			in: `custos_dataset: 1
datastores:
  - {id: a, kind: postgres, dsn: "host=db user=app password=x", collections: [{name: c, fields: [{name: f}]}]}
  - {id: b, kind: mysql, dsn: "app:x@tcp(db:3306)/shop", collections: [{name: c, fields: [{name: f}]}]}
  - {id: c, kind: postgres, dsn: "postgres://app@db/shop?password=x", collections: [{name: c, fields: [{name: f}]}]}
  - {id: d, kind: sqlite, dsn: "file:/var/lib/shop.db?mode=ro", collections: [{name: c, fields: [{name: f}]}]}
`,
			want: []string{
				`d.yaml:3:34: inline "dsn" contains a password: use "dsn_env" or "dsn_file"`,
				`d.yaml:4:31: inline "dsn" contains a password: use "dsn_env" or "dsn_file"`,
				`d.yaml:5:34: inline "dsn" contains a password: use "dsn_env" or "dsn_file"`,
			},
		},
		{
			name: "aliases",
			in:   "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\ncustos_dataset: 1\ndatastores: [*b, *b]\n",
			want: []string{
				`d.yaml:1:1: unknown key "a"`,
				`d.yaml:2:1: unknown key "b"`,
				`d.yaml:2:4: want a mapping, got a list`,
				`d.yaml:2:4: want a mapping, got a list`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Parse("d.yaml", []byte(tt.in))
			if diff := cmp.Diff(tt.want, problemLines(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if err != nil && d != nil {
				t.Error("Parse returned a dataset with its problems")
			}
		})
	}
}

func TestDSNHasPassword(t *testing.T) {
	tests := []struct {
		dsn  string
		want bool
	}{
		{"postgres://app:secret@db:5432/shop", true},
		{"postgres://app@db:5432/shop", false},
		{"postgres://app@db/shop?sslmode=require&password=x", true},
		{"host=db user=app dbname=shop", false},
		{"host=db user=app PASSWORD=x", true},
		{"app:secret@tcp(db:3306)/shop", true},
		{"app@tcp(db:3306)/shop", false},
		{"/var/lib/custos/shop.db", false},
		{"file:shop.db?mode=ro&_pragma=busy_timeout(5000)", false},
		{"shop.db?pwd=x", true},
	}
	for _, tt := range tests {
		t.Run(tt.dsn, func(t *testing.T) {
			if got := DSNHasPassword(tt.dsn); got != tt.want {
				t.Errorf("DSNHasPassword = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseErase(t *testing.T) {
	tests := []struct {
		in      string
		want    Erase
		wantErr string
	}{
		{in: "null", want: Erase{Strategy: EraseNull}},
		{in: "fixed:", want: Erase{Strategy: EraseFixed}},
		{in: "fixed:a:b", want: Erase{Strategy: EraseFixed, Value: "a:b"}},
		{in: "hmac", want: Erase{Strategy: EraseHMAC}},
		{in: "fixed", wantErr: `erase strategy "fixed" needs a value: fixed:<value>`},
		{in: "hsah", wantErr: `unknown erase strategy "hsah" (did you mean "hash"?): want one of null, fixed:<value>, random, hash, hmac, mask, keep`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseErase(tt.in)
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if got != tt.want || gotErr != tt.wantErr {
				t.Errorf("ParseErase(%q) = %v, %q; want %v, %q", tt.in, got, gotErr, tt.want, tt.wantErr)
			}
			if err == nil && got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}
