package scan

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Location is where a finding is: path:line:column for a file, with the
// field after it when there is one.
func (f Finding) Location() string {
	loc := fmt.Sprintf("%s:%d", f.Path, f.Line)
	if f.Column > 0 {
		loc += fmt.Sprintf(":%d", f.Column)
	}
	if f.Field != "" {
		loc += " " + f.Field
	}
	return loc
}

// CategoryCount counts the findings of one category.
type CategoryCount struct {
	Category  string `json:"category"`
	Sensitive bool   `json:"sensitive,omitempty"`
	Found     int    `json:"found"`
	Masked    int    `json:"masked,omitempty"`
	// First lists up to three locations, in the order found.
	First []string `json:"first"`
}

// PathCount counts the findings in one file or table.
type PathCount struct {
	Path   string `json:"path"`
	Found  int    `json:"found"`
	Masked int    `json:"masked,omitempty"`
}

// Summary is what a scan found, by category and by file.
type Summary struct {
	Findings   int             `json:"findings"`
	Masked     int             `json:"masked"`
	Files      int             `json:"files"`
	Bytes      int64           `json:"bytes"`
	Categories []CategoryCount `json:"categories"`
	Paths      []PathCount     `json:"paths"`
	Skipped    []Skipped       `json:"skipped,omitempty"`
	Drift      *Drift          `json:"drift,omitempty"`
}

// Tally adds findings up into a Summary.
type Tally struct {
	cats  map[string]*CategoryCount
	paths map[string]*PathCount
	order []string
	n, m  int
}

// Add counts f.
func (t *Tally) Add(f Finding) {
	if t.cats == nil {
		t.cats, t.paths = map[string]*CategoryCount{}, map[string]*PathCount{}
	}
	c := t.cats[f.Category]
	if c == nil {
		c = &CategoryCount{Category: f.Category, Sensitive: f.Sensitive}
		t.cats[f.Category] = c
	}
	p := t.paths[f.Path]
	if p == nil {
		p = &PathCount{Path: f.Path}
		t.paths[f.Path] = p
		t.order = append(t.order, f.Path)
	}
	t.n++
	c.Found++
	p.Found++
	if f.Masked {
		t.m++
		c.Masked++
		p.Masked++
	} else if len(c.First) < 3 {
		c.First = append(c.First, f.Location())
	}
}

// Summary returns the counts, categories by name, paths in the order
// first found.
func (t *Tally) Summary() Summary {
	s := Summary{Findings: t.n, Masked: t.m, Categories: []CategoryCount{}, Paths: []PathCount{}}
	for _, c := range t.cats {
		s.Categories = append(s.Categories, *c)
	}
	slices.SortFunc(s.Categories, func(a, b CategoryCount) int { return cmp.Compare(a.Category, b.Category) })
	for _, p := range t.order {
		s.Paths = append(s.Paths, *t.paths[p])
	}
	return s
}

// FailOn says which findings fail a scan: "any", "sensitive" or category
// ids (a category fails its sub-categories too), comma-separated. Masked
// values fail only with Masked.
type FailOn struct {
	Any, Sensitive, Masked bool
	Categories             []string
}

// ParseFailOn reads --fail-on's value.
func ParseFailOn(s string, masked bool) FailOn {
	f := FailOn{Masked: masked}
	for _, p := range strings.Split(s, ",") {
		switch p = strings.TrimSpace(p); p {
		case "":
		case "any":
			f.Any = true
		case "sensitive":
			f.Sensitive = true
		default:
			f.Categories = append(f.Categories, p)
		}
	}
	return f
}

// Set reports whether any condition is given.
func (o FailOn) Set() bool { return o.Any || o.Sensitive || len(o.Categories) > 0 }

// Fails reports whether finding f fails the scan.
func (o FailOn) Fails(f Finding) bool {
	if f.Masked && !o.Masked {
		return false
	}
	if o.Any || (o.Sensitive && f.Sensitive) {
		return true
	}
	for _, c := range o.Categories {
		if f.Category == c || strings.HasPrefix(f.Category, c+".") {
			return true
		}
	}
	return false
}

// Writer writes findings in one format, then the summary.
type Writer interface {
	Finding(Finding) error
	Close(Summary) error
}

// NewWriter returns a writer for format "text", "jsonl" or "sarif".
func NewWriter(w io.Writer, format, version string) (Writer, error) {
	switch format {
	case "text", "":
		return &textWriter{w: w}, nil
	case "jsonl":
		return &jsonlWriter{enc: json.NewEncoder(w)}, nil
	case "sarif":
		return &sarifWriter{w: w, version: version, rules: map[string]string{}}, nil
	}
	return nil, fmt.Errorf("unknown format %q: want text, jsonl or sarif", format)
}

type textWriter struct{ w io.Writer }

func (t *textWriter) Finding(f Finding) error {
	masked := ""
	if f.Masked {
		masked = " masked"
	}
	line := fmt.Sprintf("%s: %s (%s %.2f%s): %s", f.Location(), f.Category, f.Detector, f.Confidence, masked, f.Excerpt)
	if f.Value != "" {
		line += "  value=" + f.Value
	}
	_, err := fmt.Fprintln(t.w, line)
	return err
}

func (t *textWriter) Close(s Summary) error {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d found (%d masked) in %d files, %d bytes read", s.Findings, s.Masked, s.Files, s.Bytes)
	if len(s.Skipped) > 0 {
		fmt.Fprintf(&b, ", %d skipped", len(s.Skipped))
	}
	b.WriteString("\n")
	if len(s.Categories) > 0 {
		b.WriteString("\nby category:\n")
		for _, c := range s.Categories {
			sens := ""
			if c.Sensitive {
				sens = "  sensitive"
			}
			fmt.Fprintf(&b, "  %-24s %6d found %6d masked%s\n", c.Category, c.Found, c.Masked, sens)
		}
		b.WriteString("\nby file:\n")
		for _, p := range s.Paths {
			fmt.Fprintf(&b, "  %-40s %6d found %6d masked\n", p.Path, p.Found, p.Masked)
		}
	}
	for _, k := range s.Skipped {
		fmt.Fprintf(&b, "skipped %s: %s\n", k.Path, k.Reason)
	}
	if d := s.Drift; d != nil {
		fmt.Fprintf(&b, "\ndrift: categories found in %q that the manifest does not declare for it (%s):\n", d.Source, d.Basis)
		if len(d.Undeclared) == 0 {
			b.WriteString("  none\n")
		}
		for _, c := range d.Undeclared {
			fmt.Fprintf(&b, "  %-24s %6d found, first at %s\n", c.Category, c.Found, strings.Join(c.First, "; "))
		}
	}
	_, err := io.WriteString(t.w, b.String())
	return err
}

type jsonlWriter struct{ enc *json.Encoder }

func (j *jsonlWriter) Finding(f Finding) error { return j.enc.Encode(f) }

func (j *jsonlWriter) Close(s Summary) error {
	return j.enc.Encode(struct {
		Summary Summary `json:"summary"`
	}{s})
}
