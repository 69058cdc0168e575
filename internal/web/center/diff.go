package center

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/policy"
)

// maxDiffLines bounds the text compared per section (the LCS table is
// quadratic); longer sections are shown as wholly replaced.
const maxDiffLines = 2000

type diffData struct {
	Versions []consent.Version
	From, To string
	Ready    bool
	Diff     *policy.Diff
	Kinds    []string    // material kinds present, in policy order
	Changes  []changeRow // what changed, in the page's language
	// Reconsent names what consent must be asked for again.
	Reconsent string
	Sections  []sectionDiff
	Changed   int
}

// changeRow is one change as the page words it: never a manifest path
// or id, but the names the manifest gives.
type changeRow struct {
	Kind, Op string
	Material bool
	What     string
}

// sectionDiff is one top-level section compared across two versions.
type sectionDiff struct {
	Title string
	State string // same, added, removed, changed
	Lines []diffLine
}

type diffLine struct {
	Op string // "=", "+", "-", "…"
	textLine
}

// textLine is a line of a section's text: a sub-heading or what is under it.
type textLine struct {
	Heading bool
	Text    string
}

func (c *center) policyDiff(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "diff.title")
	vs, err := c.opt.Consent.Versions(r.Context())
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	d := diffData{Versions: slices.Clone(vs)}
	slices.Reverse(d.Versions)
	q := r.URL.Query()
	d.From, d.To = q.Get("from"), q.Get("to")
	if d.From == "" && d.To == "" && len(vs) >= 2 {
		d.From, d.To = vs[len(vs)-2].Label, vs[len(vs)-1].Label
	}
	if d.From == "" || d.To == "" {
		p.Data = d
		c.r.Render(w, http.StatusOK, "diff", p)
		return
	}
	_, oldM, err1 := c.opt.Consent.VersionByLabel(r.Context(), d.From)
	_, newM, err2 := c.opt.Consent.VersionByLabel(r.Context(), d.To)
	if err1 != nil || err2 != nil {
		p.Alert = p.T("diff.unknown")
		p.Data = d
		c.r.Render(w, http.StatusNotFound, "diff", p)
		return
	}
	d.Diff = policy.Compare(oldM, newM)
	for _, k := range []string{policy.KindProcessing, policy.KindOwnership, policy.KindRecipients, policy.KindRights, policy.KindContact, policy.KindImpactAssessment} {
		for _, ch := range d.Diff.Changes {
			if ch.Material && ch.Kind == k {
				d.Kinds = append(d.Kinds, k)
				break
			}
		}
	}
	d.Changes = changeRows(d.Diff, p.Lang)
	var names []string
	for _, k := range d.Diff.Reconsent {
		if n := d.Diff.Name(k, p.Lang); n != "" {
			names = append(names, n)
		}
	}
	d.Reconsent = policy.Join(p.Lang, names)
	lang := docLang(newM, p.Lang)
	oldDoc, err1 := policy.Render(oldM, docLang(oldM, lang))
	newDoc, err2 := policy.Render(newM, lang)
	if err := cmp.Or(err1, err2); err != nil {
		c.fail(w, r, p, err)
		return
	}
	d.Sections = compareDocs(oldDoc, newDoc, cellWords{p.T("diff.cell"), p.T("diff.cells")})
	for _, s := range d.Sections {
		if s.State != "same" {
			d.Changed++
		}
	}
	d.Ready = true
	p.Data = d
	c.r.Render(w, http.StatusOK, "diff", p)
}

// changeRows words a diff's changes in lang.
func changeRows(d *policy.Diff, lang string) []changeRow {
	out := make([]changeRow, len(d.Changes))
	for i, ch := range d.Changes {
		out[i] = changeRow{Kind: ch.Kind, Op: ch.Op, Material: ch.Material, What: ch.Describe(lang)}
	}
	return out
}

// cellWords join a table row's cells to a line: each cell after its
// column's heading ("%s：%s"), cells separated by sep.
type cellWords struct{ cell, sep string }

// compareDocs pairs top-level sections by id (else title) and diffs their
// text line by line.
func compareDocs(a, b *policy.Document, w cellWords) []sectionDiff {
	key := func(s policy.Section) string {
		if s.ID != "" {
			return s.ID
		}
		return "title:" + s.Title
	}
	olds := map[string]policy.Section{}
	for _, s := range a.Sections {
		olds[key(s)] = s
	}
	seen := map[string]bool{}
	var out []sectionDiff
	for _, s := range b.Sections {
		k := key(s)
		seen[k] = true
		o, ok := olds[k]
		if !ok {
			out = append(out, sectionDiff{Title: s.Title, State: "added", Lines: mark("+", sectionLines(s, w))})
			continue
		}
		lines := diffLines(sectionLines(o, w), sectionLines(s, w))
		state := "same"
		for _, l := range lines {
			if l.Op != "=" {
				state = "changed"
				break
			}
		}
		out = append(out, sectionDiff{Title: s.Title, State: state, Lines: withContext(lines, 1)})
	}
	for _, s := range a.Sections {
		if !seen[key(s)] {
			out = append(out, sectionDiff{Title: s.Title, State: "removed", Lines: mark("-", sectionLines(s, w))})
		}
	}
	return out
}

func mark(op string, lines []textLine) []diffLine {
	out := make([]diffLine, len(lines))
	for i, l := range lines {
		out[i] = diffLine{Op: op, textLine: l}
	}
	return out
}

// sectionLines flattens a section to lines of text: sub-headings (marked
// as such, not by a character a reader would see), paragraphs, list
// items, and table rows with each cell after its column's heading.
func sectionLines(s policy.Section, w cellWords) []textLine {
	var out []textLine
	text := func(s string) { out = append(out, textLine{Text: s}) }
	var walk func(s policy.Section, top bool)
	walk = func(s policy.Section, top bool) {
		if !top {
			out = append(out, textLine{Heading: true, Text: s.Title})
		}
		for _, b := range s.Blocks {
			switch x := b.(type) {
			case policy.Para:
				text(plain(spans(x.Text)))
			case policy.List:
				for _, it := range x.Items {
					text("• " + plain(spans(it)))
				}
			case policy.Table:
				for _, row := range x.Rows {
					var cells []string
					for i, c := range row {
						v := plain(spans(c))
						switch {
						case v == "":
						case i < len(x.Head) && x.Head[i] != "":
							cells = append(cells, fmt.Sprintf(w.cell, x.Head[i], v))
						default:
							cells = append(cells, v)
						}
					}
					text(strings.Join(cells, w.sep))
				}
			}
		}
		for _, sub := range s.Subs {
			walk(sub, false)
		}
	}
	walk(s, true)
	return out
}

// diffLines is a longest-common-subsequence line diff.
func diffLines(a, b []textLine) []diffLine {
	if len(a) > maxDiffLines || len(b) > maxDiffLines {
		return append(mark("-", a), mark("+", b)...)
	}
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			out = append(out, diffLine{"=", a[i]})
			i++
			j++
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, diffLine{"-", a[i]})
			i++
		default:
			out = append(out, diffLine{"+", b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		out = append(out, diffLine{"-", a[i]})
	}
	for ; j < m; j++ {
		out = append(out, diffLine{"+", b[j]})
	}
	return out
}

// withContext keeps changed lines with n unchanged lines around them and
// folds the rest into "…".
func withContext(lines []diffLine, n int) []diffLine {
	keep := make([]bool, len(lines))
	for i, l := range lines {
		if l.Op != "=" {
			for k := max(0, i-n); k <= min(len(lines)-1, i+n); k++ {
				keep[k] = true
			}
		}
	}
	var out []diffLine
	folded := false
	for i, l := range lines {
		if keep[i] {
			out = append(out, l)
			folded = false
		} else if !folded {
			out = append(out, diffLine{Op: "…"})
			folded = true
		}
	}
	return out
}
