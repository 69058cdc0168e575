package dataset

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/google/go-cmp/cmp"
)

// fidesExample is Fides' annotation of its sample database, in the shared
// data beside the project (CUSTOS_SHARED_DATA names another place).
var fidesExample = func() string {
	dir := os.Getenv("CUSTOS_SHARED_DATA")
	if dir == "" {
		dir = "../../../shared/data"
	}
	return filepath.Join(dir, "dsr-eval", "fides-postgres-example", "postgres_example_test_dataset.yml")
}()

// readFidesExample returns the Fides example dataset, skipping when the
// shared evaluation data is not checked out beside the repository.
func readFidesExample(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.FromSlash(fidesExample))
	if os.IsNotExist(err) && os.Getenv("CUSTOS_SHARED_DATA") == "" {
		t.Skip("Fides example not present:", fidesExample)
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestParseFidesExample(t *testing.T) {
	d, err := ParseFides("postgres_example_test_dataset.yml", readFidesExample(t))
	if err != nil {
		t.Fatalf("ParseFides: %v", err)
	}
	got, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	golden := filepath.Join("testdata", "fides-example.golden.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/dataset -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("ParseFides mismatch (-golden +got):\n%s", diff)
	}

	// What EXPECTED.md says about the graph, asserted directly so that a
	// careless -update cannot bless a wrong golden file.
	var identities []string
	refs := map[string]string{}
	for _, c := range d.Datastores[0].Collections {
		for _, f := range c.Fields {
			if f.Identity != "" {
				identities = append(identities, c.Name+"."+f.Name+"="+f.Identity)
			}
			for _, r := range f.References {
				refs[c.Name+"."+f.Name] = r.Direction + " " + r.Collection + "." + r.Field
			}
		}
	}
	wantIdentities := []string{"customer.email=email", "employee.email=email", "report.email=email", "service_request.alt_email=email", "service_request.email=email", "visit.email=email"}
	if diff := cmp.Diff(wantIdentities, identities); diff != "" {
		t.Errorf("identities (-want +got):\n%s", diff)
	}
	wantRefs := map[string]string{
		"customer.address_id":             "to address.id",
		"employee.address_id":             "to address.id",
		"login.customer_id":               "from customer.id",
		"orders.customer_id":              "from customer.id",
		"orders.shipping_address_id":      "to address.id",
		"order_item.order_id":             "from orders.id",
		"order_item.product_id":           "to product.id",
		"payment_card.billing_address_id": "to address.id",
		"payment_card.customer_id":        "from customer.id",
		"service_request.employee_id":     "from employee.id",
	}
	if diff := cmp.Diff(wantRefs, refs); diff != "" {
		t.Errorf("references (-want +got):\n%s", diff)
	}
	if n := len(d.Datastores[0].Collections); n != 11 {
		t.Errorf("collections = %d, want 11", n)
	}
}

// TestFidesExampleAgainstStarter checks the imported example against the
// starter manifest: every mapped category is one the manifest knows.
func TestFidesExampleAgainstStarter(t *testing.T) {
	d, err := ParseFides("postgres_example_test_dataset.yml", readFidesExample(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Load("../../examples/starter/custos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ps := d.Validate(m); len(ps) != 0 {
		t.Errorf("Validate:\n%v", ps)
	}
}

func TestFidesCategory(t *testing.T) {
	tests := []struct {
		fides, want string
		known       bool
	}{
		{"user.contact.email", "basic.email", true},
		{"user.contact.phone_number", "basic.phone", true},
		{"user.contact.address", "basic.address", true},
		{"user.contact.address.city", "basic.address", true},
		{"user.name", "basic.name", true},
		{"user.name.first", "basic.name", true},
		{"user.unique_id", "account.id", true},
		{"user.unique_id.pseudonymous", "account.id", true},
		{"user.financial", "financial", true},
		{"user.financial.bank_account", "financial.bank_account", true},
		{"user.device.ip_address", "account.ip_address", true},
		{"user.sensor", "device.sensors", true},
		{"user", "other", true},
		{"system.operations", "", true},
		{"system", "", true},
		{"user.contact.pager", "", false},
		{"user.financial.crypto", "", false},
		{"users", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.fides, func(t *testing.T) {
			got, known := FidesCategory(tt.fides)
			if got != tt.want || known != tt.known {
				t.Errorf("FidesCategory(%q) = %q, %v; want %q, %v", tt.fides, got, known, tt.want, tt.known)
			}
		})
	}
}

// TestFidesCategoryTargetsExist keeps the mapping table honest: every target is a built-in category.
func TestFidesCategoryTargetsExist(t *testing.T) {
	builtin := map[string]bool{}
	for _, c := range manifest.BuiltinVocabulary().Categories {
		builtin[c.ID] = true
	}
	for fides, id := range fidesCategories {
		if id != "" && !builtin[id] {
			t.Errorf("fidesCategories[%q] = %q: not a built-in category", fides, id)
		}
	}
}

func TestParseFidesProblems(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{
			name: "unknown category and key",
			in: `dataset:
  - fides_key: shop
    collections:
      - name: customer
        fields:
          - name: email
            data_categories: [user.contact.pager]
            fides_meta: {identity: email, primay_key: true}
`,
			want: []string{
				`f.yml:7:31: Fides data category "user.contact.pager" has no Custos category: add it to the mapping or change the dataset`,
				`f.yml:8:43: unknown key "primay_key" (did you mean "primary_key"?)`,
			},
		},
		{
			name: "bad reference",
			in: `dataset:
  - fides_key: shop
    collections:
      - name: customer
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email}
          - name: address_id
            fides_meta:
              references:
                - {dataset: shop, field: addressid, direction: up}
                - {dataset: shop, field: address.id, direction: to}
`,
			want: []string{
				`f.yml:12:42: reference field "addressid": want collection.field`,
				`f.yml:12:64: unknown value "up": want one of to, from`,
			},
		},
		{
			name: "dangling reference and unreachable collection",
			in: `dataset:
  - fides_key: shop
    collections:
      - name: customer
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email}
          - name: address_id
            fides_meta:
              references: [{dataset: shop, field: adress.id, direction: to}]
      - name: address
        fields:
          - name: street
            data_categories: [user.contact.address.street]
`,
			want: []string{
				`f.yml:11:51: reference to unknown collection "shop.adress" (did you mean "address"?)`,
				`f.yml:12:15: collection "address" holds personal data but no identity reaches it`,
			},
		},
		{
			name: "masking override",
			in: `dataset:
  - fides_key: shop
    collections:
      - name: customer
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta:
              identity: email
              masking_strategy_override: {strategy: aes_encrypt}
`,
			want: []string{
				`f.yml:10:53: Fides masking strategy "aes_encrypt" has no Custos erase strategy: want null_rewrite, string_rewrite, random_string_rewrite, hash or hmac`,
			},
		},
		{name: "empty", in: "", want: []string{"f.yml:1:1: empty Fides dataset file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFides("f.yml", []byte(tt.in))
			if diff := cmp.Diff(tt.want, problemLines(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// problemLines splits a Problems error into its lines; nil for no error.
func problemLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	ps, ok := err.(Problems)
	if !ok {
		t.Fatalf("error is %T, want Problems: %v", err, err)
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}
