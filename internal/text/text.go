// Package text holds the one rule for free text that Custos takes from a
// request body or a form: valid UTF-8, with no control characters, save
// tab, line feed and carriage return in text that may run over several
// lines (a reason, an explanation, evidence). A NUL makes PostgreSQL fail
// the write, SQLite would keep invalid UTF-8 and answer it later as
// invalid JSON, and a control character has no place in a name or a
// reason shown on a page, in a notice or in the audit trail. The API's
// body decoder and the pages' form parser both ask here, before any
// handler sees the request.
package text

import (
	"regexp"
	"slices"
	"unicode/utf8"
)

// multiLine are the fields whose text may run over several lines, and so
// may hold tab, line feed and carriage return; everything inside them too
// (a request's details, a consent's evidence object).
var multiLine = map[string]bool{
	"details":     true,
	"evidence":    true,
	"explanation": true,
	"grounds":     true,
	"manifest":    true,
	"note":        true,
	"reason":      true,
	"subjects":    true,
}

// MultiLine reports whether the field named may hold several lines.
func MultiLine(field string) bool { return multiLine[field] }

// Valid reports whether s is text Custos keeps: valid UTF-8 without
// control characters (C0, DEL, C1); multiline lets tab, line feed and
// carriage return through.
func Valid(s string, multiline bool) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && !(multiline && (c == '\t' || c == '\n' || c == '\r')) || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r >= 0x80 && r <= 0x9f {
			return false
		}
		i += n
	}
	return true
}

// fieldName is what a field name looks like. A name that does not is
// never repeated in an error: a caller's mistake could put an email
// address or a phone number where a field name goes.
var fieldName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)

// Nameable reports whether a field name may be repeated in an error.
func Nameable(name string) bool { return fieldName.MatchString(name) }

// Values finds a form field whose values break the rule, and reports
// its name ("" when its name itself is not one to repeat); ok is true
// when every name and value is good text.
func Values(form map[string][]string) (field string, ok bool) {
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	slices.Sort(names) // the same field is named every time
	for _, name := range names {
		vs := form[name]
		if !Valid(name, false) {
			return "", false
		}
		for _, v := range vs {
			if !Valid(v, MultiLine(name)) {
				if !Nameable(name) {
					return "", false
				}
				return name, false
			}
		}
	}
	return "", true
}
