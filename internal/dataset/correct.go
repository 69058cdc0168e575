package dataset

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/custos-privacy/custos/internal/identity"
)

// Formats of a correctable field: what a corrected value must look like
// before it is written into the organisation's database.
const (
	CorrectText    = "text"
	CorrectName    = "name"
	CorrectEmail   = "email"
	CorrectPhone   = "phone"
	CorrectAddress = "address"
	CorrectDate    = "date"
)

var correctFormats = []string{CorrectText, CorrectName, CorrectEmail, CorrectPhone, CorrectAddress, CorrectDate}

// Longest corrected values, in characters: a value past them is not a
// name or an address but something pasted by mistake.
const (
	maxCorrectName    = 200
	maxCorrectAddress = 500
	maxCorrectText    = 2000
)

// ErrInvalidCorrection is wrapped by CorrectedValue's errors. They say why
// a value does not fit a format and never quote it: it is personal data.
var ErrInvalidCorrection = errors.New("not a valid value")

// correct reads `correct: true`, `correct: false` or `correct: <format>`.
func (w *walker) correct(n *yaml.Node) string {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		if w.boolean(n) {
			return CorrectText
		}
		return ""
	}
	if n.Kind != yaml.ScalarNode || isNull(n) {
		w.errorf(n, "want true, false or a format (%s), got %s", strings.Join(correctFormats, ", "), describe(n))
		return ""
	}
	v, _ := w.enum(n, append([]string{"true", "false"}, correctFormats...)...)
	switch v {
	case "true":
		return CorrectText
	case "false":
		return ""
	}
	return v
}

// checkCorrect reports a correctable field that cannot be corrected as
// marked. fields finds the other end of a reference.
func (c *checker) checkCorrect(path, store string, f Field, find func(store string, r Reference) (Field, bool)) {
	// Corrected on one side only, a reference would lead nowhere.
	for i, r := range f.References {
		if t, ok := find(store, r); ok && (t.Correct == "") != (f.Correct == "") {
			which, other := "is", "is not"
			if f.Correct == "" {
				which, other = "is not", "is"
			}
			c.errorf(fmt.Sprintf("%s.references[%d]", path, i), "field %q %s correctable and the field it references, %s.%s, %s: correcting one would break the link", f.Name, which, r.Collection, r.Field, other)
		}
	}
	if f.Correct == "" {
		return
	}
	at := path + ".correct"
	if !contains(correctFormats, f.Correct) {
		c.errorf(at, "unknown correction format %q: want one of %s", truncate(f.Correct, 40), strings.Join(correctFormats, ", "))
		return
	}
	switch {
	case f.PrimaryKey:
		c.errorf(at, "primary key %q cannot be corrected: it locates the row", f.Name)
		return
	case len(f.Categories) == 0:
		c.errorf(at, "field %q has no category: a correction is asked for by category, so nothing would reach it", f.Name)
		return
	}
	switch f.DataType {
	case "", "string":
	case "date", "datetime":
		if f.Correct != CorrectDate {
			c.errorf(at, "field %q is a %s: only the date format can correct it", f.Name, f.DataType)
		}
	default:
		c.errorf(at, "field %q is %s: corrections write text or dates", f.Name, f.DataType)
	}
	// An identity is looked up by its normal form; a correction must
	// write one that the next lookup finds.
	if (f.Identity == IdentityEmail || f.Identity == IdentityPhone) && f.Correct != f.Identity {
		c.errorf(at, "identity field %q is looked up as a normalised %s: give it format %s", f.Name, f.Identity, f.Identity)
	}
}

// CorrectedValue checks v against the format and returns what is written:
// trimmed, and for email and phone in the normal form identities are kept
// in. The error wraps ErrInvalidCorrection and never quotes v.
func CorrectedValue(format, v string) (string, error) {
	if !utf8.ValidString(v) {
		return "", fmt.Errorf("%w: not UTF-8", ErrInvalidCorrection)
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidCorrection)
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 && format != CorrectText && format != CorrectAddress {
		return "", fmt.Errorf("%w: control characters", ErrInvalidCorrection)
	}
	n := utf8.RuneCountInString(v)
	switch format {
	case CorrectEmail, CorrectPhone:
		out, err := identity.Normalize(format, v)
		if err != nil {
			return "", fmt.Errorf("%w: not a valid %s", ErrInvalidCorrection, format)
		}
		return out, nil
	case CorrectName:
		if n > maxCorrectName {
			return "", fmt.Errorf("%w: a name is at most %d characters", ErrInvalidCorrection, maxCorrectName)
		}
		if strings.IndexFunc(v, unicode.IsLetter) < 0 || strings.ContainsAny(v, "@<>{}[]|\\") {
			return "", fmt.Errorf("%w: not a name", ErrInvalidCorrection)
		}
	case CorrectAddress:
		if n > maxCorrectAddress {
			return "", fmt.Errorf("%w: an address is at most %d characters", ErrInvalidCorrection, maxCorrectAddress)
		}
		if strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }) >= 0 {
			return "", fmt.Errorf("%w: control characters", ErrInvalidCorrection)
		}
	case CorrectDate:
		if _, err := time.Parse(time.DateOnly, v); err != nil {
			return "", fmt.Errorf("%w: want a date as YYYY-MM-DD", ErrInvalidCorrection)
		}
	case CorrectText:
		if n > maxCorrectText {
			return "", fmt.Errorf("%w: at most %d characters", ErrInvalidCorrection, maxCorrectText)
		}
		if strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0 {
			return "", fmt.Errorf("%w: control characters", ErrInvalidCorrection)
		}
	default:
		return "", fmt.Errorf("unknown correction format %q", format)
	}
	return v, nil
}

// Correctable lists, by category, the correctable fields that hold it in
// every datastore: the keys a correction request may name.
func (d *Dataset) Correctable() map[string][]CorrectableField {
	out := map[string][]CorrectableField{}
	for _, s := range d.Datastores {
		for k, fs := range s.Correctable() {
			out[k] = append(out[k], fs...)
		}
	}
	return out
}

// CorrectableField is a correctable field and where it is.
type CorrectableField struct {
	Datastore  string
	Collection string
	Field      string
	Format     string
}

// Correctable lists, by category, the datastore's correctable fields.
func (s *Datastore) Correctable() map[string][]CorrectableField {
	out := map[string][]CorrectableField{}
	for _, c := range s.Collections {
		for _, f := range c.Fields {
			if f.Correct == "" {
				continue
			}
			for _, cat := range f.Categories {
				out[cat] = append(out[cat], CorrectableField{Datastore: s.ID, Collection: c.Name, Field: f.Name, Format: f.Correct})
			}
		}
	}
	return out
}

// Categories lists every category the dataset's fields record.
func (d *Dataset) Categories() map[string]bool {
	out := map[string]bool{}
	for _, s := range d.Datastores {
		for _, c := range s.Collections {
			for _, f := range c.Fields {
				for _, cat := range f.Categories {
					out[cat] = true
				}
			}
		}
	}
	return out
}
