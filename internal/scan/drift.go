package scan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/manifest"
)

// Drift is what a scan found that the manifest does not declare for the
// source scanned.
type Drift struct {
	Source string `json:"source"`
	// Basis says what was compared: the categories of the datastore's
	// annotated collections, or everything the manifest's services
	// collect.
	Basis      string          `json:"basis"`
	Declared   []string        `json:"declared"`
	Undeclared []CategoryCount `json:"undeclared"`
}

// Declared returns the categories declared for source: for a datastore
// of ds (which may be nil), the categories of its annotated fields;
// otherwise every category the manifest's services collect.
func Declared(m *manifest.Manifest, ds *dataset.Dataset, source string) (cats []string, basis string) {
	set := map[string]bool{}
	if ds != nil {
		for _, store := range ds.Datastores {
			if store.ID != source {
				continue
			}
			for _, c := range store.Collections {
				for _, f := range c.Fields {
					for _, cat := range f.Categories {
						set[cat] = true
					}
				}
			}
			basis = fmt.Sprintf("the categories of datastore %q's annotated collections", source)
		}
	}
	if basis == "" {
		for _, s := range m.Services {
			for _, c := range s.Collects {
				for _, cat := range c.Categories {
					set[cat] = true
				}
			}
		}
		basis = "every category the manifest's services collect"
	}
	for c := range set {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	return cats, basis
}

// parents maps each category, built-in or the manifest's, to its parent.
func parents(m *manifest.Manifest) map[string]string {
	p := map[string]string{}
	for _, c := range manifest.BuiltinVocabulary().Categories {
		p[c.ID] = c.Parent
	}
	if m != nil {
		for _, c := range m.Categories {
			p[c.ID] = c.Parent
		}
	}
	return p
}

// CompareDeclared returns the drift of a summary against the declared
// categories: a category found is declared when it, one of its ancestors
// or one of its descendants is. Masked values count as found.
func CompareDeclared(m *manifest.Manifest, source, basis string, declared []string, s Summary) *Drift {
	par := parents(m)
	ancestors := func(c string) []string {
		var out []string
		for i := 0; c != "" && i < 16; i++ {
			out = append(out, c)
			next := par[c]
			if next == "" {
				if j := strings.LastIndexByte(c, '.'); j > 0 {
					next = c[:j]
				}
			}
			c = next
		}
		return out
	}
	d := &Drift{Source: source, Basis: basis, Declared: append([]string{}, declared...), Undeclared: []CategoryCount{}}
	for _, c := range s.Categories {
		ok := false
		for _, a := range ancestors(c.Category) {
			if slices.Contains(declared, a) {
				ok = true
			}
		}
		for _, dc := range declared {
			if slices.Contains(ancestors(dc), c.Category) {
				ok = true
			}
		}
		if !ok {
			d.Undeclared = append(d.Undeclared, c)
		}
	}
	return d
}
