package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/shareddata"
)

// goldenFile compares got with testdata/name; -update rewrites it.
func goldenFile(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/dataset -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-golden +got):\n%s", path, diff)
	}
}

// TestImportFidesExample imports Fides' annotation of its sample database:
// the annotation written reads back as exactly what ParseFides makes of the
// file, with the connection added, validates against a manifest, and the
// report finds nothing unmapped.
func TestImportFidesExample(t *testing.T) {
	const name = "postgres_example_test_dataset.yml"
	data := shareddata.Read(t, "dsr-eval", "fides-postgres-example", name)
	imp, err := ImportFides(name, data, ImportOptions{Kind: KindPostgres, DSNEnv: "SHOP_DSN"})
	if err != nil {
		t.Fatalf("ImportFides: %v", err)
	}
	y, err := imp.YAML()
	if err != nil {
		t.Fatal(err)
	}
	goldenFile(t, "fides-import.golden.yaml", string(y))
	goldenFile(t, "fides-import.report.txt", imp.Report())

	back, err := Parse("shop.yaml", y)
	if err != nil {
		t.Fatalf("the annotation written does not parse: %v", err)
	}
	want, err := ParseFides(name, data)
	if err != nil {
		t.Fatal(err)
	}
	want.Datastores[0].Kind, want.Datastores[0].DSNEnv = KindPostgres, "SHOP_DSN"
	// ParseFides writes keep on fields without personal data; the
	// annotation leaves it to the default, which is the same keep.
	for _, d := range []*Dataset{want, back} {
		for _, c := range d.Datastores[0].Collections {
			for i, f := range c.Fields {
				c.Fields[i].Erase = f.Erasure()
			}
		}
	}
	if diff := cmp.Diff(want.Datastores, back.Datastores); diff != "" {
		t.Errorf("imported annotation differs from the Fides reading (-fides +imported):\n%s", diff)
	}
	m, err := manifest.Load("../../examples/starter/custos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if ps := back.Validate(m); len(ps) != 0 {
		t.Errorf("Validate:\n%v", ps)
	}
	// visit has no primary key in Fides' dataset (nor in the sample's
	// table): the only thing the import cannot settle.
	wantUnmapped := []Unmapped{{Pos: Pos{Line: 222, Col: 9}, Field: "visit", What: "primary_key", Instead: "no primary key"}}
	if diff := cmp.Diff(wantUnmapped, imp.Unmapped); diff != "" {
		t.Errorf("unmapped (-want +got):\n%s", diff)
	}
	wantNC := []NotCarried{{Key: "description", Places: []string{"dataset"}}, {Key: "length", Places: []string{"customer.name"}}, {Key: "name", Places: []string{"dataset"}}}
	if diff := cmp.Diff(wantNC, imp.NotCarried); diff != "" {
		t.Errorf("not carried (-want +got):\n%s", diff)
	}
	// The erasure Fides' own tests rely on survives the trip.
	for _, c := range back.Datastores[0].Collections {
		for _, f := range c.Fields {
			if c.Name == "employee" && f.Name == "name" && f.Erase.String() != "fixed:testing-test" {
				t.Errorf("employee.name erase = %q, want fixed:testing-test", f.Erase)
			}
		}
	}
}

// TestImportFidesUnmapped: what has no Custos counterpart is carried on and
// reported at its place in the Fides file, and marked in the annotation.
func TestImportFidesUnmapped(t *testing.T) {
	in := `dataset:
  - fides_key: shop
    description: a shop
    collections:
      - name: customer
        fides_meta: {skip_processing: false}
        fields:
          - name: id
            data_categories: [system.operations]
            fides_meta: {primary_key: true}
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email, data_type: string}
          - name: ethnicity
            data_categories: [user.demographic.race_ethnicity, user.demographic]
            fides_meta: {data_type: datetime, length: 20}
          - name: notes
            data_categories: [user.content.private]
            fides_meta:
              masking_strategy_override: {strategy: aes_encrypt, configuration: {mode: GCM}}
          - name: card
            data_categories: [user.financial.crypto]
            fides_meta: {data_type: "string[]", read_only: true}
`
	imp, err := ImportFides("f.yml", []byte(in), ImportOptions{Kind: KindSQLite, DSNEnv: "SHOP_DSN"})
	if err != nil {
		t.Fatalf("ImportFides: %v", err)
	}
	wantReport := `f.yml: datastore shop (sqlite, DSN from $SHOP_DSN): 1 collections, 5 fields, 4 with personal data
Fides data categories with no Custos category: 2
  f.yml:15:31: customer.ethnicity: "user.demographic.race_ethnicity": imported as "other" (personal data, found and erased); choose a category
  f.yml:22:31: customer.card: "user.financial.crypto": imported as "other" (personal data, found and erased); choose a category
Unsupported field types: 1
  f.yml:16:37: customer.ethnicity: data_type "datetime": imported without a type (the erase strategy is not checked against it)
Masking strategies with no erase strategy: 1
  f.yml:20:53: customer.notes: masking strategy "aes_encrypt": imported with erase: null instead
Collections with personal data and no primary key: none (every such collection has one)
Not carried over (they do not say where a person's data is or how it is erased):
  description: dataset
  fides_meta: customer
  length: customer.ethnicity
`
	if diff := cmp.Diff(wantReport, imp.Report()); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	y, err := imp.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"          # review: Fides category \"user.demographic.race_ethnicity\" has no Custos category: choose one\n" +
			"          # review: Fides data_type \"datetime\" is not supported\n" +
			"          - name: ethnicity\n" +
			"            categories: [other, basic.profile]  # Fides: user.demographic.race_ethnicity, user.demographic\n" +
			"            erase: null\n",
		"          # review: Fides masking strategy \"aes_encrypt\" has no erase strategy\n" +
			"          - name: notes\n" +
			"            categories: [usage.content]  # Fides: user.content.private\n" +
			"            erase: null\n",
		// read-only: kept, as ParseFides keeps it; an array is one json value.
		"          - name: card\n" +
			"            data_type: json\n" +
			"            categories: [other]  # Fides: user.financial.crypto\n" +
			"            erase: keep\n",
		"          - name: id  # Fides: system.operations\n            primary_key: true\n",
	} {
		if !strings.Contains(string(y), want) {
			t.Errorf("annotation lacks\n%s\ngot:\n%s", want, y)
		}
	}
	// The strict reader still refuses the same file: the import is what settles it.
	if _, err := ParseFides("f.yml", []byte(in)); err == nil {
		t.Error("ParseFides accepted unmapped categories")
	}
}

func TestImportFidesRefuses(t *testing.T) {
	ok := `dataset:
  - fides_key: shop
    collections:
      - name: customer
        fields:
          - name: email
            data_categories: [user.contact.email]
            fides_meta: {identity: email}
`
	tests := []struct {
		name, in string
		opt      ImportOptions
		want     string
	}{
		{name: "kind", in: ok, opt: ImportOptions{Kind: "oracle", DSNEnv: "X"}, want: `import f.yml: unknown kind "oracle": want postgres, mysql or sqlite`},
		{name: "env", in: ok, opt: ImportOptions{Kind: KindMySQL, DSNEnv: "postgres://u:pw@h/db"}, want: `import f.yml: invalid environment variable name "postgres://u:pw@h/db"`},
		{name: "typo stays a problem", in: strings.Replace(ok, "identity: email", "identiy: email", 1), opt: ImportOptions{Kind: KindMySQL, DSNEnv: "X"},
			want: `f.yml:8:26: unknown key "identiy" (did you mean "identity"?)`},
		{name: "unreachable stays a problem", in: strings.Replace(ok, "{identity: email}", "{data_type: string}", 1), opt: ImportOptions{Kind: KindMySQL, DSNEnv: "X"},
			want: `f.yml:1:1: no field is an identity: no person's data can be found`},
		{name: "two datasets", in: ok + strings.Replace(ok[len("dataset:\n"):], "shop", "crm", 1), opt: ImportOptions{Kind: KindMySQL, DSNEnv: "X"},
			want: `import f.yml: 2 datasets (shop, crm): one connection serves one; import each from a file of its own`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			imp, err := ImportFides("f.yml", []byte(tt.in), tt.opt)
			if err == nil {
				t.Fatalf("imported: %+v", imp.Dataset)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error = %q, want %q", got, tt.want)
			}
		})
	}
}
