// Package scan finds personal information in files, logs, exports, streams
// and databases with the detectors of internal/detect, reports it without
// the values (file:line:column, a masked excerpt), compares what it finds
// with what a manifest declares, and redacts it.
package scan

import (
	"cmp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/detect"
	"github.com/custos-privacy/custos/internal/manifest"
)

// Finding is one value found. It never carries the value unless Options
// asked for it (ShowValues).
type Finding struct {
	// Path is the file as given (or found under a directory given), "-"
	// for standard input, or the table for a database.
	Path string `json:"path"`
	// Line is 1-based; for a database, the row's ordinal in read order.
	Line int `json:"line"`
	// Column is 1-based and counts runes (0 for a database).
	Column int `json:"column,omitempty"`
	// Field is the CSV column's header, the JSON path of a JSON Lines
	// value ($.user.phone) or the database column.
	Field      string  `json:"field,omitempty"`
	Category   string  `json:"category"`
	Sensitive  bool    `json:"sensitive,omitempty"`
	Detector   string  `json:"detector"`
	Confidence float64 `json:"confidence"`
	// Masked: the value was written masked (138****5678). Masked values
	// are reported but never fail a scan unless asked.
	Masked bool `json:"masked,omitempty"`
	// Excerpt is the text around the value with every value found in it
	// masked.
	Excerpt string `json:"excerpt"`
	// Value is the value as written, only with ShowValues.
	Value string `json:"value,omitempty"`
}

// Sensitive reports whether a built-in category is sensitive personal
// information (PIPL art. 28), as the manifest's built-in taxonomy marks it.
func Sensitive(category string) bool { return sensitiveCache[category] }

var sensitiveCache = map[string]bool{}

func init() {
	for _, c := range manifest.BuiltinVocabulary().Categories {
		sensitiveCache[c.ID] = c.Sensitive
	}
}

// Mask returns v with its shape kept and its identifying middle hidden:
// 13812345678 → 138****5678, li.lei@example.com → l*****@example.com.
// Separators and the length stay; letters and digits in the middle become
// '*'.
func Mask(v string) string {
	if at := strings.LastIndexByte(v, '@'); at > 0 {
		local := []rune(v[:at])
		var b strings.Builder
		b.WriteRune(local[0])
		b.WriteString(strings.Repeat("*", len(local)-1))
		b.WriteString(v[at:])
		return b.String()
	}
	rs := []rune(v)
	n := 0
	for _, r := range rs {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	keepHead, keepTail := 0, 0
	switch {
	case n >= 11:
		keepHead, keepTail = 3, 4
	case n >= 7:
		keepHead, keepTail = 2, 2
	case n >= 5:
		keepHead, keepTail = 1, 1
	}
	var b strings.Builder
	seen := 0
	for _, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			b.WriteRune(r)
			continue
		}
		if seen < keepHead || seen >= n-keepTail {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		seen++
	}
	return b.String()
}

// excerptRadius is how many bytes of context an excerpt shows on each side.
const excerptRadius = 24

// excerpt returns text around text[s.Start:s.End] with every span in spans
// that falls in it masked, cut on rune boundaries, without control
// characters. Spans may come in any order and overlap (two detectors on
// the same digits): what any of them covers is masked once.
func excerpt(text string, spans []detect.Span, s detect.Span) string {
	spans = union(spans)
	from, to := max(0, s.Start-excerptRadius), min(len(text), s.End+excerptRadius)
	for _, o := range spans {
		if o.Start < from && o.End > from {
			from = o.Start
		}
		if o.Start < to && o.End > to {
			to = o.End
		}
	}
	for from > 0 && !utf8.RuneStart(text[from]) {
		from--
	}
	for to < len(text) && !utf8.RuneStart(text[to]) {
		to++
	}
	var b strings.Builder
	if from > 0 {
		b.WriteString("…")
	}
	at := from
	for _, o := range spans {
		// The stretches are disjoint and the excerpt's ends were moved
		// out of any; the bounds are kept as a guard all the same.
		start, end := max(o.Start, at), min(o.End, to)
		if start >= end {
			continue
		}
		b.WriteString(clean(text[at:start]))
		b.WriteString(Mask(text[start:end]))
		at = end
	}
	b.WriteString(clean(text[at:to]))
	if to < len(text) {
		b.WriteString("…")
	}
	return b.String()
}

// union returns the stretches of text spans cover, in order and disjoint:
// spans that overlap become one, masked as one value.
func union(spans []detect.Span) []detect.Span {
	sorted := slices.SortedFunc(slices.Values(spans), func(a, b detect.Span) int { return cmp.Compare(a.Start, b.Start) })
	var out []detect.Span
	for _, o := range sorted {
		if n := len(out); n > 0 && o.Start < out[n-1].End {
			out[n-1].End = max(out[n-1].End, o.End)
			continue
		}
		out = append(out, detect.Span{Start: o.Start, End: o.End})
	}
	return out
}

// clean replaces control characters and invalid UTF-8 so that an excerpt
// is one printable line.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, " "))
}
