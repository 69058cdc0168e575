package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// checkResult asserts what any parse must give: a dataset, or problems in
// file order, each at a real position, and never both.
func checkResult(t *testing.T, d *Dataset, err error) {
	t.Helper()
	if err == nil {
		if d == nil {
			t.Fatal("nil dataset and nil error")
		}
		_ = d.Validate(nil) // must not panic; a parsed dataset is internally consistent
		if ps := d.check(nil); len(ps) != 0 {
			t.Fatalf("parsed dataset fails its own checks: %v", ps)
		}
		return
	}
	if d != nil {
		t.Fatal("dataset returned with an error")
	}
	var ps Problems
	if !errors.As(err, &ps) || len(ps) == 0 {
		t.Fatalf("error is not Problems: %v", err)
	}
	for i, p := range ps {
		if p.Pos.Line < 1 || p.Pos.Col < 1 {
			t.Fatalf("problem at no position: %v", p)
		}
		if i > 0 && ps[i-1].Pos.Line > p.Pos.Line {
			t.Fatalf("problems out of order: %v then %v", ps[i-1], p)
		}
	}
}

// FuzzParse: go test ./internal/dataset -run XXX -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile(filepath.Join("testdata", "shop.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	for _, s := range []string{
		"", "---", "~", "custos_dataset: 1\n", "- a\n", "a: &a [*a]\n", "*x\n", "? [a]\n: b\n",
		head + "      - name: c\n        fields: [{name: f, erase: null, references: {collection: c, field: f}}]\n",
		head + "      - {name: c, fields: [{name: f, identity: email, categories: [x]}]}\n",
		head + "      - {name: c, retention: [{rule: r, clock: at, action: anonymise}], fields: [{name: id, primary_key: true}, {name: at, anonymise: month}]}\n",
		head + "      - {name: c, retention: [{rule: r, event: consent_withdrawn}, {rule: r}], fields: [{name: f, anonymise: drop}]}\n",
		head + "      - {name: c, restrict_flag: r, held_for: t, fields: [{name: id, primary_key: true}, {name: e, identity: email, categories: [basic.email], correct: email}, {name: r, data_type: boolean}, {name: t}]}\n",
		head + "      - {name: c, restrict_flag: [x], fields: [{name: f, correct: true, references: {collection: c, field: g}}, {name: g, correct: [1]}]}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse("fuzz.yaml", data)
		checkResult(t, d, err)
	})
}

// FuzzParseFides: go test ./internal/dataset -run XXX -fuzz FuzzParseFides -fuzztime 60s
func FuzzParseFides(f *testing.F) {
	if data, err := os.ReadFile(filepath.FromSlash(fidesExample)); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		"", "dataset: []\n", "dataset: [{fides_key: a, collections: [{name: c, fields: [{name: f, fields: [{name: g}]}]}]}]\n",
		"dataset: [{fides_key: a, collections: [{name: c, fields: [{name: f, data_categories: [user.name], fides_meta: {identity: email, references: [{dataset: a, field: c.f, direction: to}]}}]}]}]\n",
		"dataset: [{fides_key: a, collections: [{name: c, fields: [{name: f, fides_meta: {masking_strategy_override: {strategy: string_rewrite, configuration: {rewrite_value: x, format_preservation: {suffix: y}}}}}]}]}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseFides("fuzz.yml", data)
		checkResult(t, d, err)
	})
}
