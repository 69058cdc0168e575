package dataset

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestParseRestrictFlag: a collection's restriction flag must be one of
// its fields that can be set and cleared row by row.
func TestParseRestrictFlag(t *testing.T) {
	tests := []struct {
		name, collection string
		want             []string
		flag             string
	}{
		{
			name: "boolean flag",
			collection: `      - name: customer
        restrict_flag: restricted
        fields:
          - {name: id, primary_key: true}
          - {name: email, categories: [basic.email], identity: email}
          - {name: restricted, data_type: boolean}
`,
			flag: "restricted",
		},
		{
			name: "no such field",
			collection: `      - name: customer
        restrict_flag: restricetd
        fields:
          - {name: id, primary_key: true}
          - {name: email, categories: [basic.email], identity: email}
`,
			want: []string{`v.yaml:8:24: restriction flag "restricetd" is not a field of collection "customer"`},
		},
		{
			name: "primary key, wrong type",
			collection: `      - name: customer
        restrict_flag: id
        fields:
          - {name: id, primary_key: true}
          - {name: email, categories: [basic.email], identity: email}
      - name: orders
        restrict_flag: hold
        fields:
          - {name: id, primary_key: true}
          - {name: email, categories: [basic.email], identity: email}
          - {name: hold, data_type: json}
`,
			want: []string{
				`v.yaml:8:24: restriction flag "id" is a primary key: it locates the row`,
				`v.yaml:13:24: restriction flag "hold" is json: want boolean, integer, string or datetime`,
			},
		},
		{
			name: "no primary key",
			collection: `      - name: visit
        restrict_flag: restricted
        fields:
          - {name: email, categories: [basic.email], identity: email}
          - {name: restricted, data_type: integer}
`,
			want: []string{`v.yaml:8:24: collection "visit" has a restriction flag but no primary key: rows are flagged by key`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, got := parseProblems(t, head+tt.collection)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("problems (-want +got):\n%s", diff)
			}
			if d != nil && d.Datastores[0].Collections[0].RestrictFlag != tt.flag {
				t.Errorf("flag %q, want %q", d.Datastores[0].Collections[0].RestrictFlag, tt.flag)
			}
		})
	}
}

// TestRestrictValue: what each type of flag holds, restricted or not, and
// that reading it back tells the two apart.
func TestRestrictValue(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	tests := []struct {
		dataType        string
		restricted, off any
	}{
		{"", true, false},
		{"boolean", true, false},
		{"integer", int64(1), int64(0)},
		{"string", Restricted, nil},
		{"datetime", now.UTC(), nil},
	}
	for _, tt := range tests {
		f := Field{Name: "flag", DataType: tt.dataType}
		if diff := cmp.Diff(tt.restricted, f.RestrictValue(true, now)); diff != "" {
			t.Errorf("%q restricted (-want +got):\n%s", tt.dataType, diff)
		}
		if diff := cmp.Diff(tt.off, f.RestrictValue(false, now)); diff != "" {
			t.Errorf("%q lifted (-want +got):\n%s", tt.dataType, diff)
		}
		if !f.IsRestricted(tt.restricted) || f.IsRestricted(tt.off) {
			t.Errorf("%q: IsRestricted does not tell %v from %v", tt.dataType, tt.restricted, tt.off)
		}
	}
	// SQLite reads a time back as text.
	if f := (Field{DataType: "datetime"}); !f.IsRestricted("2026-03-02 10:00:00 +0000 UTC") {
		t.Error("a datetime flag read back as text is misread")
	}
	// MySQL and SQLite read booleans back as integers.
	if f := (Field{DataType: "boolean"}); !f.IsRestricted(int64(1)) || f.IsRestricted(int64(0)) {
		t.Error("a boolean flag read back as 1/0 is misread")
	}
}

// TestParseHeldFor: the field naming the customer a row is held for must
// be one of the collection's fields, in a collection with a primary key.
func TestParseHeldFor(t *testing.T) {
	tests := []struct {
		name, collection, heldFor string
		want                      []string
	}{
		{
			name: "customer field",
			collection: `      - name: staff_record
        held_for: tenant_id
        fields:
          - {name: id, primary_key: true}
          - {name: tenant_id}
          - {name: email, categories: [basic.email], identity: email}
`,
			heldFor: "tenant_id",
		},
		{
			name: "no such field",
			collection: `      - name: staff_record
        held_for: tennant_id
        fields:
          - {name: id, primary_key: true}
          - {name: email, categories: [basic.email], identity: email}
`,
			want: []string{`v.yaml:8:19: customer field "tennant_id" is not a field of collection "staff_record"`},
		},
		{
			name: "no primary key",
			collection: `      - name: staff_record
        held_for: tenant_id
        fields:
          - {name: tenant_id}
          - {name: email, categories: [basic.email], identity: email}
`,
			want: []string{`v.yaml:8:19: collection "staff_record" is held for customers but has no primary key: the end of an entrustment deletes its rows by key`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, got := parseProblems(t, head+tt.collection)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("problems (-want +got):\n%s", diff)
			}
			if d != nil && d.Datastores[0].Collections[0].HeldFor != tt.heldFor {
				t.Errorf("held_for %q, want %q", d.Datastores[0].Collections[0].HeldFor, tt.heldFor)
			}
		})
	}
}

// parseProblems parses src as v.yaml and returns the dataset (nil when it
// has problems) and each problem as printed.
func parseProblems(t *testing.T, src string) (*Dataset, []string) {
	t.Helper()
	d, err := Parse("v.yaml", []byte(src))
	var got []string
	var ps Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			got = append(got, p.String())
		}
	} else if err != nil {
		t.Fatal(err)
	}
	return d, got
}
