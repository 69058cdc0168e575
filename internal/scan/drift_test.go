package scan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/manifest"
)

func TestDrift(t *testing.T) {
	m, err := manifest.Load("../../examples/starter/custos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Load("../../examples/starter/dataset.yaml")
	if err != nil {
		t.Fatal(err)
	}
	found := Summary{Categories: []CategoryCount{
		{Category: "account.ip_address", Found: 2, First: []string{"a.log:1:2"}},
		{Category: "basic.email", Found: 1},
		{Category: "basic.phone", Found: 1},
		{Category: "financial.bank_account", Found: 3, Sensitive: true, First: []string{"a.log:3:1"}},
		{Category: "identity.id_card", Found: 1, Sensitive: true},
	}}
	tests := []struct {
		source     string
		undeclared []string
	}{
		// examples/starter/dataset.yaml annotates no bank card numbers in
		// the shop database, and the starter's services collect none.
		{"shop", []string{"financial.bank_account"}},
		{"app-logs", []string{"financial.bank_account"}},
	}
	for _, tt := range tests {
		declared, basis := Declared(m, ds, tt.source)
		d := CompareDeclared(m, tt.source, basis, declared, found)
		var got []string
		for _, c := range d.Undeclared {
			got = append(got, c.Category)
		}
		if diff := cmp.Diff(tt.undeclared, got); diff != "" {
			t.Errorf("%s undeclared (-want +got):\n%s", tt.source, diff)
		}
	}
}

// A category is declared by itself, an ancestor or a descendant.
func TestCompareDeclaredHierarchy(t *testing.T) {
	found := Summary{Categories: []CategoryCount{{Category: "basic.phone"}, {Category: "basic.email"}, {Category: "identity.id_card"}, {Category: "device.imei"}}}
	d := CompareDeclared(nil, "x", "test", []string{"basic", "device.imei.primary"}, found)
	var got []string
	for _, c := range d.Undeclared {
		got = append(got, c.Category)
	}
	if diff := cmp.Diff([]string{"identity.id_card"}, got); diff != "" {
		t.Errorf("undeclared (-want +got):\n%s", diff)
	}
}
