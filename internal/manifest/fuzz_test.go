package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// FuzzParse checks that Parse survives any input and that what it reports can
// be shown to a user: a manifest, or problems in file order, each at a real position.
//
//	go test ./internal/manifest -run XXX -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
	seeds := []string{minimalPath}
	examples, err := filepath.Glob("../../examples/*/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, examples...)
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"---",
		"~",
		"custos: 1\n",
		"custos: [1\n",
		"- a\n- b\n",
		"custos: 1\n---\ncustos: 1\n",
		"policy: {title: {zh: &t 标题, en: *t}}\n",
		"a: &a [*a]\n",
		"*x\n",
		"? [a]\n: b\n",
		"custos: 0x7fffffffffffffff\n",
		"statements: {cookie: [{zh: x}], intro: {}}\n",
		"rights: {deadlines: [{count: 0, unit: months, extension: {count: 9, unit: months}}]}\n",
		"\t- x",
		"custos: !!binary aGVsbG8=\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "fuzz.yaml"
		m, err := Parse(name, data)
		if err == nil {
			if m == nil {
				t.Fatal("Parse returned neither a manifest nor an error")
			}
			return
		}
		if m != nil {
			t.Fatalf("Parse returned a manifest and an error: %v", err)
		}
		var ps Problems
		if !errors.As(err, &ps) {
			t.Fatalf("Parse error is %T, want Problems: %v", err, err)
		}
		if len(ps) == 0 {
			t.Fatal("Parse failed with no problems")
		}
		for _, p := range ps {
			if p.Pos.Line < 1 || p.Pos.Col < 1 {
				t.Errorf("problem at line %d, column %d: %s", p.Pos.Line, p.Pos.Col, p.Message)
			}
			if p.File != name || p.Message == "" {
				t.Errorf("malformed problem %+v", p)
			}
		}
		sorted := sort.SliceIsSorted(ps, func(i, j int) bool {
			a, b := ps[i], ps[j]
			if a.Pos.Line != b.Pos.Line {
				return a.Pos.Line < b.Pos.Line
			}
			if a.Pos.Col != b.Pos.Col {
				return a.Pos.Col < b.Pos.Col
			}
			return a.Message < b.Message
		})
		if !sorted {
			t.Errorf("problems are not in file order:\n%v", err)
		}
	})
}
