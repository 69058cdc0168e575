package connector

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-privacy/custos/internal/detect"
)

// DiscoverOptions tune Discover.
type DiscoverOptions struct {
	// SampleRows bounds the values read per column (default 50, at most 1000).
	SampleRows int
	// Progress, when set, is called after each column with how many of the
	// schema's columns are done.
	Progress func(done, total int)
	// ShowSamples writes the sampled values into the draft as YAML comments,
	// for a person reviewing it. Off by default: a draft is meant to be
	// committed, and sampled values are personal data.
	ShowSamples bool
	// Datastore is the draft's datastore id (default: the connector's kind).
	Datastore string
	// MinConfidence drops proposals below it (default 0.5).
	MinConfidence float64
}

// Defaults and bounds of DiscoverOptions.
const (
	DefaultSampleRows    = 50
	DefaultMinConfidence = 0.5
	// identityConfidence is how sure the detectors must be before a column
	// is proposed as a subject identity.
	identityConfidence = 0.8
)

// DSNEnv is the environment variable a draft tells Custos to read the DSN
// from; the DSN itself never goes into a draft.
const DSNEnv = "CUSTOS_DISCOVERED_DSN"

// Draft is a proposed dataset annotation, for a person to review.
type Draft struct {
	Datastore   string
	Kind        Kind
	Collections []Collection
}

// Collection is one table of a draft.
type Collection struct {
	Name   string
	Fields []Field
}

// Field is one column of a draft.
type Field struct {
	Name       string
	Type       string
	Nullable   bool
	PrimaryKey bool
	Proposals  []Proposal // most confident first
	// Identity is "email", "phone" or "user_id" when the column looks like
	// it identifies the data subject; empty otherwise.
	Identity   string
	References []Reference
	// samples is kept unexported so that no encoder other than YAML with
	// ShowSamples can print it.
	samples []string
}

// Proposal is one proposed category for a field.
type Proposal struct {
	Category   string
	Confidence float64
	// Detectors are the evidence: the value detector, "column_name", or both.
	Detectors []string
	Matches   int // sampled values the value detector accepted
	Sampled   int // non-empty values sampled
}

// Reference is a relationship from a field to a field of another collection.
type Reference struct {
	Collection string
	Field      string
	Direction  string // "from" or "to", as Fides reads them; see orientReferences
	// Inferred is set when no foreign key declares the reference and it
	// was read from the column's name (customer_id → customer.id).
	Inferred bool
}

// identityCategories maps the categories that can identify a data subject to
// the identity they propose.
var identityCategories = map[string]string{
	"basic.email": "email",
	"basic.phone": "phone",
	"account.id":  "user_id",
}

// identityNames are column names, lower-cased without separators, that name
// a subject's own identifier rather than a secondary one (alt_email,
// manager_phone): only they are proposed as identities.
var identityNames = map[string]bool{
	"email": true, "emailaddress": true, "mail": true, "useremail": true, "customeremail": true,
	"phone": true, "phonenumber": true, "mobile": true, "mobilephone": true, "mobilenumber": true, "cellphone": true,
	"userid": true, "accountid": true, "uid": true, "customerid": true,
}

var nonAlnum = regexp.MustCompile(`[^a-z0-9]+`)

// Discover introspects c, samples its text-like columns and proposes a
// dataset annotation. Sampled values stay in memory and reach the output only
// with ShowSamples; errors name tables and columns, never values.
func Discover(ctx context.Context, c Connector, opt DiscoverOptions) (Draft, error) {
	rows := opt.SampleRows
	if rows <= 0 {
		rows = DefaultSampleRows
	}
	rows = min(rows, MaxSample)
	minConf := opt.MinConfidence
	if minConf <= 0 {
		minConf = DefaultMinConfidence
	}
	d := Draft{Datastore: opt.Datastore, Kind: c.Kind()}
	if d.Datastore == "" {
		d.Datastore = string(c.Kind())
	}
	schema, err := c.Introspect(ctx)
	if err != nil {
		return Draft{}, fmt.Errorf("discover: %w", err)
	}
	total := 0
	for _, t := range schema.Tables {
		total += len(t.Columns)
	}
	done := 0
	for _, t := range schema.Tables {
		coll := Collection{Name: t.Name}
		refs := map[string][]Reference{}
		for _, fk := range t.ForeignKeys {
			for i, col := range fk.Columns {
				ref := Reference{Collection: fk.RefTable, Direction: "to"}
				if i < len(fk.RefColumns) {
					ref.Field = fk.RefColumns[i]
				}
				refs[col] = append(refs[col], ref)
			}
		}
		for _, col := range t.Columns {
			if err := ctx.Err(); err != nil {
				return Draft{}, fmt.Errorf("discover: %w", err)
			}
			f := Field{
				Name:       col.Name,
				Type:       col.Type,
				Nullable:   col.Nullable,
				PrimaryKey: slices.Contains(t.PrimaryKey, col.Name),
				References: refs[col.Name],
			}
			var values []string
			if sampleable(c.Kind(), col.Type) {
				values, err = c.Sample(ctx, t.Name, col.Name, rows)
				if err != nil {
					return Draft{}, fmt.Errorf("discover: %w", err)
				}
			}
			byName := map[string]bool{}
			for _, nf := range detect.Column(col.Name) {
				byName[nf.Category] = true
			}
			for _, s := range detect.Sample(col.Name, values) {
				if s.Confidence < minConf {
					continue
				}
				p := Proposal{Category: s.Category, Confidence: s.Confidence, Detectors: []string{s.Detector},
					Matches: s.Matches, Sampled: s.Sampled}
				if s.Detector != "column_name" && byName[s.Category] {
					p.Detectors = append(p.Detectors, "column_name")
				}
				f.Proposals = append(f.Proposals, p)
			}
			f.Identity = identityOf(f)
			if opt.ShowSamples {
				f.samples = values
			}
			coll.Fields = append(coll.Fields, f)
			done++
			if opt.Progress != nil {
				opt.Progress(done, total)
			}
		}
		d.Collections = append(d.Collections, coll)
	}
	d.inferReferences(schema)
	d.orientReferences()
	return d, nil
}

// inferReferences proposes references the schema does not declare, from
// column names: a column X_id (or ending in _X_id, such as
// shipping_address_id) with no foreign key refers to the table X (or its
// plural) when that table has a single-column primary key. Many schemas,
// Fides' sample among them, keep their relationships only in the
// application.
func (d *Draft) inferReferences(schema Schema) {
	pk := map[string]string{}
	for _, t := range schema.Tables {
		if len(t.PrimaryKey) == 1 {
			pk[t.Name] = t.PrimaryKey[0]
		}
	}
	target := func(word string) (string, bool) {
		for _, name := range []string{word, word + "s", word + "es"} {
			if _, ok := pk[name]; ok {
				return name, true
			}
		}
		return "", false
	}
	for ci := range d.Collections {
		c := &d.Collections[ci]
		for fi := range c.Fields {
			f := &c.Fields[fi]
			if len(f.References) > 0 || f.PrimaryKey && len(c.Fields) > 0 && pk[c.Name] == f.Name {
				continue
			}
			base, ok := strings.CutSuffix(strings.ToLower(f.Name), "_id")
			if !ok || base == "" {
				continue
			}
			words := strings.Split(base, "_")
			// The longest trailing run of words that names a table wins:
			// billing_address_id → address, order_item_id → order_item.
			for i := 0; i < len(words); i++ {
				name, ok := target(strings.Join(words[i:], "_"))
				if ok && name != c.Name {
					f.References = append(f.References, Reference{Collection: name, Field: pk[name], Inferred: true})
					break
				}
			}
		}
	}
}

// orientReferences decides each foreign key's direction, as the Fides
// convention reads it. A table holding an identity belongs to a person, and
// so does, transitively, any table whose foreign key points at such a
// table: those keys are "from" (finding the owner's row finds this row). A
// key pointing at anything else (an address, a product) is "to": this row
// leads to it, but it does not lead back to other people's rows.
func (d *Draft) orientReferences() {
	owned := map[string]bool{}
	for _, c := range d.Collections {
		for _, f := range c.Fields {
			if f.Identity != "" {
				owned[c.Name] = true
			}
		}
	}
	for changed := true; changed; {
		changed = false
		for _, c := range d.Collections {
			if owned[c.Name] {
				continue
			}
			for _, f := range c.Fields {
				for _, r := range f.References {
					if owned[r.Collection] {
						owned[c.Name], changed = true, true
					}
				}
			}
		}
	}
	for ci := range d.Collections {
		for fi := range d.Collections[ci].Fields {
			refs := d.Collections[ci].Fields[fi].References
			for ri := range refs {
				if owned[refs[ri].Collection] {
					refs[ri].Direction = "from"
				} else {
					refs[ri].Direction = "to"
				}
			}
		}
	}
}

func identityOf(f Field) string {
	if len(f.Proposals) == 0 || f.Proposals[0].Confidence < identityConfidence {
		return ""
	}
	id, ok := identityCategories[f.Proposals[0].Category]
	if !ok || !identityNames[nonAlnum.ReplaceAllString(strings.ToLower(f.Name), "")] {
		return ""
	}
	return id
}

// sampleable says whether a column's values are worth showing the value
// detectors: text, and wide numbers, which often hold phone or card numbers.
// SQLite columns without a declared type can hold anything.
func sampleable(k Kind, typ string) bool {
	t := strings.ToLower(typ)
	if k == SQLite && strings.TrimSpace(t) == "" {
		return true
	}
	for _, w := range []string{"char", "text", "clob", "string", "citext", "enum", "json", "bigint", "numeric", "decimal"} {
		if strings.Contains(t, w) {
			return true
		}
	}
	return false
}

// YAML renders the draft as a custos_dataset document. Fields are written
// in the draft's order; each proposal's confidence (rounded down, so that
// near-certain never reads as certain) and evidence is a comment.
func (d Draft) YAML() ([]byte, error) {
	var b strings.Builder
	w := func(indent int, line, comment string) {
		b.WriteString(strings.Repeat(" ", indent))
		b.WriteString(line)
		if comment != "" {
			b.WriteString("  # ")
			b.WriteString(oneLine(comment))
		}
		b.WriteByte('\n')
	}
	w(0, "custos_dataset: 1", "")
	w(0, "datastores:", "")
	w(2, "- id: "+scalar(d.Datastore), "")
	w(4, "kind: "+scalar(string(d.Kind)), "")
	w(4, "dsn_env: "+DSNEnv, "")
	w(4, "collections:", "")
	for _, c := range d.Collections {
		w(6, "- name: "+scalar(c.Name), "")
		if len(c.Fields) == 0 {
			w(8, "fields: []", "")
			continue
		}
		w(8, "fields:", "")
		for _, f := range c.Fields {
			w(10, "- name: "+scalar(f.Name), "")
			if f.PrimaryKey {
				w(12, "primary_key: true", "")
			}
			if len(f.Proposals) > 0 {
				cats := make([]string, len(f.Proposals))
				notes := make([]string, len(f.Proposals))
				for i, p := range f.Proposals {
					cats[i] = scalar(p.Category)
					notes[i] = fmt.Sprintf("confidence %.2f (%s)", math.Floor(p.Confidence*100)/100, strings.Join(p.Detectors, ", "))
					if len(f.Proposals) > 1 {
						notes[i] = p.Category + " " + notes[i]
					}
				}
				w(12, "categories: ["+strings.Join(cats, ", ")+"]", strings.Join(notes, "; "))
			}
			if f.Identity != "" {
				w(12, "identity: "+scalar(f.Identity), "")
			}
			if len(f.Proposals) > 0 && !f.PrimaryKey {
				note := ""
				if !f.Nullable {
					note = "column is NOT NULL: nulling it will fail, choose another strategy"
				}
				w(12, "erase: null", note)
			}
			switch len(f.References) {
			case 0:
			case 1:
				note := ""
				if f.References[0].Inferred {
					note = "inferred from the column name: no foreign key declares it"
				}
				w(12, "references: "+refYAML(f.References[0]), note)
			default:
				parts := make([]string, len(f.References))
				for i, r := range f.References {
					parts[i] = refYAML(r)
				}
				w(12, "references: ["+strings.Join(parts, ", ")+"]", "")
			}
			if len(f.samples) > 0 {
				w(12, "# sampled values (remove before committing):", "")
				for _, v := range f.samples {
					w(12, "#   "+oneLine(strconv.Quote(v)), "")
				}
			}
		}
	}
	return []byte(b.String()), nil
}

func refYAML(r Reference) string {
	return fmt.Sprintf("{collection: %s, field: %s, direction: %s}", scalar(r.Collection), scalar(r.Field), scalar(r.Direction))
}

var plainScalar = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*$`)

// scalar writes s as a YAML string: plain when that cannot be misread,
// double-quoted otherwise.
func scalar(s string) string {
	switch strings.ToLower(s) {
	case "null", "true", "false", "yes", "no", "on", "off", "y", "n", "~", "":
		return strconv.Quote(s)
	}
	if plainScalar.MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}

// oneLine keeps a comment on its line.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\u2028", " ", "\u2029", " ").Replace(s)
}
