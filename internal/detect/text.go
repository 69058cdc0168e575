package detect

import (
	"unicode/utf8"
)

// Span is personal information found in running text: a log line, a CSV
// cell, a JSON string, a paragraph.
type Span struct {
	// Start and End are byte offsets into the text given to Text, End
	// exclusive; text[Start:End] is the value as written (full-width
	// digits, separators and all).
	Start, End int
	Category   string  // built-in category id, e.g. "basic.phone"
	Detector   string  // which detector found it, e.g. "prc_mobile"
	Confidence float64 // 0..1, raised or lowered by context words
	// Masked reports a value written masked (138****1234): it is
	// reported so that a reviewer sees where such values go, but it is
	// not personal information in clear.
	Masked bool
}

// Text finds personal information in s and returns the spans sorted by
// Start, none overlapping. It never returns or logs anything but offsets:
// the caller decides what to show.
func Text(s string) []Span {
	var out []Span
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		if fs := Value(s[start:end]); len(fs) > 0 {
			f := fs[0]
			out = append(out, Span{Start: start, End: end, Category: f.Category, Detector: f.Detector, Confidence: f.Confidence})
		}
		start = -1
	}
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if tokenRune(r) {
			if start < 0 {
				start = i
			}
		} else {
			flush(i)
		}
		i += n
	}
	flush(len(s))
	return out
}

// tokenRune reports whether r may be part of a value the detectors read.
func tokenRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	switch r {
	case '@', '.', ':', '_', '+', '-', '%':
		return true
	}
	return false
}
