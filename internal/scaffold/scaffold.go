// Package scaffold writes a first privacy manifest for `custos init`: a small,
// valid custos.yaml built from a handful of answers (the organisation, its
// contact address, the law it answers to, the policy's languages), or a copy
// of one of the example manifests.
//
// The rendered policy says only what the manifest carries, so a generated
// manifest must not pass off a guess as the organisation's word: every value
// custos init chooses rather than the user is marked "# review:" on the line
// above it, for a person to confirm or change.
package scaffold

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/custos-privacy/custos/examples"
	"github.com/custos-privacy/custos/internal/manifest"
)

// Jurisdictions custos init knows the defaults of.
const (
	// CN: the PIPL. Rights requests answered in 15 working days (the limit
	// regulators hold apps to; GB/T 35273-2020 §8.7 allows 30 days), a
	// guardian's consent under 14 (PIPL art. 31).
	CN = "CN"
	// EU: the GDPR. One month, extendable by two more with notice within the
	// first (art. 12(3)); a parent's consent under 16 (art. 8(1)).
	EU = "EU"
)

// Jurisdictions lists the jurisdictions in the order they are offered.
var Jurisdictions = []string{CN, EU}

// Languages a generated manifest can be written in: it carries texts in
// simplified Chinese and English only.
var Languages = []string{"zh-CN", "en"}

// Options are the answers a manifest is generated from.
type Options struct {
	Org          string   // the organisation's name in Chinese (or its only name)
	OrgEn        string   // the organisation's name in English
	Jurisdiction string   // CN or EU
	Languages    []string // zh-CN and/or en, the first is the prevailing one
	Email        string   // where privacy questions and rights requests go
	Date         string   // the policy's date, YYYY-MM-DD
}

// Missing names the answers a manifest still needs, as the flags that give
// them (org, org-en, email); nil when none is missing. Call it after Defaults.
func (o Options) Missing() []string {
	var out []string
	if o.wants("zh-CN") && strings.TrimSpace(o.Org) == "" {
		out = append(out, "org")
	}
	if o.wants("en") && strings.TrimSpace(o.OrgEn) == "" {
		out = append(out, "org-en")
	}
	if strings.TrimSpace(o.Email) == "" {
		out = append(out, "email")
	}
	return out
}

// Defaults trims the answers and fills in what has a default: the
// jurisdiction (CN, in capitals), the languages (zh-CN and en), the date
// (today, from now), and the English name from the only name given when the
// manifest is in English alone.
func (o Options) Defaults(now time.Time) Options {
	o.Org, o.OrgEn, o.Email = strings.TrimSpace(o.Org), strings.TrimSpace(o.OrgEn), strings.TrimSpace(o.Email)
	if o.Jurisdiction == "" {
		o.Jurisdiction = CN
	}
	o.Jurisdiction = strings.ToUpper(o.Jurisdiction)
	if len(o.Languages) == 0 {
		o.Languages = []string{"zh-CN", "en"}
	}
	if o.Date == "" {
		o.Date = now.Format(time.DateOnly)
	}
	if !o.wants("zh-CN") && o.OrgEn == "" {
		o.OrgEn = o.Org
	}
	return o
}

func (o Options) wants(lang string) bool { return slices.Contains(o.Languages, lang) }

// Check reports the first answer that cannot make a manifest.
func (o Options) Check() error {
	if !slices.Contains(Jurisdictions, o.Jurisdiction) {
		return fmt.Errorf("unsupported jurisdiction %q: want %s", o.Jurisdiction, strings.Join(Jurisdictions, " or "))
	}
	if len(o.Languages) == 0 {
		return errors.New("no language: want zh-CN, en or both")
	}
	for i, l := range o.Languages {
		if !slices.Contains(Languages, l) {
			return fmt.Errorf("unsupported language %q: want zh-CN, en or both", l)
		}
		if slices.Index(o.Languages, l) != i {
			return fmt.Errorf("language %q given twice", l)
		}
	}
	if m := o.Missing(); len(m) > 0 {
		return fmt.Errorf("missing --%s", strings.Join(m, ", --"))
	}
	if _, err := time.Parse(time.DateOnly, o.Date); err != nil {
		return fmt.Errorf("date %q: want YYYY-MM-DD", o.Date)
	}
	if !emailRE.MatchString(o.Email) {
		return fmt.Errorf("email %q: want an address such as privacy@example.com", o.Email)
	}
	for _, s := range []string{o.Org, o.OrgEn} {
		if strings.ContainsAny(s, "\n\r") {
			return errors.New("an organisation's name is one line")
		}
	}
	return nil
}

// emailRE is deliberately loose: the address is the organisation's own,
// and the point is to catch a name typed into the wrong prompt.
var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

//go:embed manifest.yaml.tmpl
var manifestTemplate string

var tmpl = template.Must(template.New("manifest").Funcs(template.FuncMap{
	"q":    quote,
	"join": strings.Join,
}).Parse(manifestTemplate))

// data is what the template reads.
type data struct {
	Options
	ID         string   // the controller's id, and the policy's stem
	Prevailing string   // the first language, when there are two
	Rights     []string // offered through the contact email, besides complaint
	langs      []string
}

// Text writes a bilingual text as the indented lines of a mapping, one per
// language of the manifest: zh when zh-CN is published, en when en is.
func (d data) Text(indent int, zh, en string) string {
	var b strings.Builder
	for _, l := range d.langs {
		b.WriteString("\n" + strings.Repeat(" ", indent))
		if l == "zh-CN" {
			b.WriteString("zh: " + quote(zh))
		} else {
			b.WriteString("en: " + quote(en))
		}
	}
	return b.String()
}

// Item writes a bilingual text as an item of a list: the first language on
// the line of the dash, the others below it.
func (d data) Item(indent int, zh, en string) string {
	return " " + strings.TrimLeft(d.Text(indent, zh, en), "\n ")
}

// Manifest generates the manifest for o and checks it as `custos validate`
// would: a manifest that does not load is a bug here, never the user's.
func Manifest(o Options) ([]byte, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	d := data{Options: o, ID: slug(o.OrgEn), langs: o.Languages}
	if len(o.Languages) > 1 {
		d.Prevailing = o.Languages[0]
	}
	d.Rights = rights[o.Jurisdiction]
	var b bytes.Buffer
	if err := tmpl.Execute(&b, d); err != nil {
		return nil, fmt.Errorf("generate manifest: %w", err)
	}
	if _, err := manifest.Parse("custos.yaml", b.Bytes()); err != nil {
		return nil, fmt.Errorf("generated manifest does not validate: %w", err)
	}
	return b.Bytes(), nil
}

// rights are the rights each law grants that a manifest can offer: PIPL
// arts. 15 and 44-48, with GB/T 35273-2020 §8.5 (cancelling an account);
// GDPR arts. 7(3) and 15-21.
var rights = map[string][]string{
	CN: {"access", "copy", "portability", "correction", "deletion", "withdraw_consent", "cancel_account", "explain_rules"},
	EU: {"access", "copy", "portability", "correction", "deletion", "restriction", "objection", "withdraw_consent"},
}

// Examples lists the example manifests --from can copy.
func Examples() []string {
	entries, err := fs.ReadDir(examples.Manifests, ".")
	if err != nil {
		panic("scaffold: embedded examples: " + err.Error())
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// Example returns the manifest of the named example, byte for byte.
func Example(name string) ([]byte, error) {
	if !slices.Contains(Examples(), name) {
		return nil, fmt.Errorf("no example %q: want one of %s", name, strings.Join(Examples(), ", "))
	}
	return fs.ReadFile(examples.Manifests, name+"/custos.yaml")
}

var nonID = regexp.MustCompile(`[^a-z0-9]+`)

// slug makes an id from a name: lower-case ASCII letters and digits joined
// by hyphens; "org" when nothing of the name is left (a name in Chinese).
func slug(name string) string {
	s := strings.Trim(nonID.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if len(s) > 40 {
		s = strings.TrimRight(s[:40], "-")
	}
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "org-" + s
	}
	return strings.TrimSuffix(s, "-")
}

var plain = regexp.MustCompile(`^[\p{L}《（][\p{L}\p{N} ,.;()（）《》、，。；·'’@+_-]*$`)

// quote writes s as a YAML scalar: plain when YAML cannot misread it,
// double-quoted otherwise (a JSON string is a YAML double-quoted scalar).
func quote(s string) string {
	switch strings.ToLower(s) {
	case "null", "true", "false", "yes", "no", "on", "off", "y", "n", "~", "":
		return strconv.Quote(s)
	}
	if plain.MatchString(s) && !strings.HasSuffix(s, " ") && !strings.Contains(s, " #") {
		return s
	}
	return strconv.Quote(s)
}
