package dataset

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ImportOptions say how the imported datastore is reached: Fides keeps
// connections in its own configuration, a Custos annotation names them.
type ImportOptions struct {
	Kind   string // postgres, mysql or sqlite
	DSNEnv string // the environment variable that holds the DSN when the annotation is used
}

// Unmapped is something in a Fides dataset with no Custos counterpart, and
// what the import did instead.
type Unmapped struct {
	Pos     Pos
	Field   string // collection.field, or the collection for primary_key
	What    string // "category", "data_type", "masking" or "primary_key"
	Fides   string // the value in the Fides file
	Instead string // what the annotation carries in its place
}

// NotCarried is a Fides key the import accepts and leaves out, because it
// says nothing about where a person's data is or how it is erased.
type NotCarried struct {
	Key    string   // as written in Fides (length, description, …)
	Places []string // where: "dataset", a collection, or collection.field
}

// Imported is a Fides dataset converted to a Custos annotation, with what
// did not convert.
type Imported struct {
	Source     string
	Dataset    *Dataset
	Unmapped   []Unmapped
	NotCarried []NotCarried

	fidesCategories map[string][]string // field key → its Fides categories, for comments
}

// What an unmapped value becomes. An unknown category is personal data of
// no more specific kind, as Fides' bare "user" is: the field is then still
// found and erased, and the report asks for a better category. Dropping it
// would keep a person's data out of access and erasure without a sign.
const (
	unknownCategoryAs = "user" // → other
	unknownTypeAs     = "no_op"
)

// ImportFides converts a Fides dataset file into a Custos annotation with the
// connection opt names. Where ParseFides refuses a file, ImportFides carries
// on for what an import can settle by itself and reports it: a Fides
// category with no Custos counterpart becomes "other", a data_type Custos
// does not know is left out, a masking strategy with no erase strategy gives
// way to the field's default. Everything else ParseFides checks (shape,
// unknown keys, references, identities reaching personal data) is still a
// problem, at its place in the Fides file; the error is then Problems.
func ImportFides(name string, data []byte, opt ImportOptions) (*Imported, error) {
	if !slices.Contains(kinds, opt.Kind) {
		return nil, fmt.Errorf("import %s: unknown kind %q: want postgres, mysql or sqlite", name, opt.Kind)
	}
	if !envRE.MatchString(opt.DSNEnv) {
		return nil, fmt.Errorf("import %s: invalid environment variable name %q", name, opt.DSNEnv)
	}
	imp := &Imported{Source: name, fidesCategories: map[string][]string{}}
	w := newWalker(name)
	d := &Dataset{File: name}
	if n := w.root(data, "Fides dataset file"); n != nil {
		pre := &prewalk{imp: imp, notCarried: map[string][]string{}}
		pre.file(n)
		for _, k := range sortedKeys(pre.notCarried) {
			imp.NotCarried = append(imp.NotCarried, NotCarried{Key: k, Places: pre.notCarried[k]})
		}
		// The same reading as ParseFides, over the settled nodes: their
		// positions are the file's own.
		m := w.mapping(n, fidesRootKeys, fidesRootKeys)
		if e, ok := m["dataset"]; ok {
			w.record("datastores", e.key)
			for i, item := range w.list(e.val) {
				path := fmt.Sprintf("datastores[%d]", i)
				w.record(path, item)
				d.Datastores = append(d.Datastores, w.fidesDataset(item, path))
			}
		}
	}
	d.pos = w.pos
	problems := w.problems
	if len(problems) == 0 {
		problems = d.check(nil)
	}
	if len(problems) > 0 {
		return nil, finish(problems)
	}
	if len(d.Datastores) != 1 {
		ids := make([]string, len(d.Datastores))
		for i, s := range d.Datastores {
			ids[i] = s.ID
		}
		return nil, fmt.Errorf("import %s: %d datasets (%s): one connection serves one; import each from a file of its own", name, len(d.Datastores), strings.Join(ids, ", "))
	}
	d.Datastores[0].Kind, d.Datastores[0].DSNEnv = opt.Kind, opt.DSNEnv
	imp.Dataset = d
	// Without a primary key Fides locates the rows to mask by their identity
	// or reference fields (older versions skip the collection with a
	// warning); Custos rewrites rows only by key and will not guess one, so a
	// deletion would stop there. Only a person can say which columns are the key.
	for i, c := range d.Datastores[0].Collections {
		hasPK := slices.ContainsFunc(c.Fields, func(f Field) bool { return f.PrimaryKey })
		if c.Personal() && !hasPK {
			imp.Unmapped = append(imp.Unmapped, Unmapped{Pos: d.pos.lookup(fmt.Sprintf("datastores[0].collections[%d]", i)),
				Field: c.Name, What: "primary_key", Instead: "no primary key"})
		}
	}
	for i, u := range imp.Unmapped {
		if u.What == "masking" {
			if f, ok := imp.field(u.Field); ok {
				imp.Unmapped[i].Instead = "erase: " + f.Erasure().String()
			}
		}
	}
	return imp, nil
}

// field finds collection.field in the imported datastore.
func (imp *Imported) field(key string) (Field, bool) {
	coll, name, _ := strings.Cut(key, ".")
	for _, c := range imp.Dataset.Datastores[0].Collections {
		if c.Name != coll {
			continue
		}
		for _, f := range c.Fields {
			if f.Name == name {
				return f, true
			}
		}
	}
	return Field{}, false
}

// prewalk visits a Fides file before it is read, noting its categories,
// settling what an import can settle in the nodes themselves, and listing
// what is not carried over. It tolerates any shape: the reading after it
// reports what is wrong.
type prewalk struct {
	imp        *Imported
	notCarried map[string][]string
}

func (p *prewalk) file(n *yaml.Node) {
	for _, ds := range seqItems(lookupKey(n, "dataset")) {
		p.keys(ds, "dataset", []string{"name", "description", "organization_fides_key", "tags", "meta", "data_categories", "data_qualifier", "retention", "joint_controller", "third_country_transfers", "fides_meta"})
		for _, c := range seqItems(lookupKey(ds, "collections")) {
			coll := scalarValue(lookupKey(c, "name"))
			p.keys(c, coll, []string{"description", "data_categories", "data_qualifier", "retention", "fides_meta"})
			p.fields(lookupKey(c, "fields"), coll, "", 0)
		}
	}
}

func (p *prewalk) fields(n *yaml.Node, coll, prefix string, depth int) {
	if depth > maxDepth {
		return
	}
	for _, f := range seqItems(n) {
		name := scalarValue(lookupKey(f, "name"))
		if name == "" {
			continue
		}
		key := coll + "." + prefix + name
		p.keys(f, key, []string{"description", "data_qualifier", "retention", "tags"})
		for _, item := range seqItems(lookupKey(f, "data_categories")) {
			if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!str" {
				continue
			}
			p.imp.fidesCategories[key] = append(p.imp.fidesCategories[key], item.Value)
			if _, known := FidesCategory(item.Value); !known {
				p.unmapped(item, key, "category", item.Value, "other")
				item.Value, item.Style = unknownCategoryAs, 0
			}
		}
		meta := lookupKey(f, "fides_meta")
		p.keys(meta, key, []string{"length", "return_all_elements", "custom_request_field"})
		if t := lookupKey(meta, "data_type"); t != nil && t.Kind == yaml.ScalarNode && t.ShortTag() == "!!str" {
			if _, known := fidesTypes[strings.TrimSuffix(t.Value, "[]")]; !known {
				p.unmapped(t, key, "data_type", t.Value, "no data_type")
				t.Value, t.Style = unknownTypeAs, 0
			}
		}
		if ms := lookupKey(meta, "masking_strategy_override"); ms != nil {
			if s := lookupKey(ms, "strategy"); s != nil && s.Kind == yaml.ScalarNode && !knownMasking(s.Value) {
				p.unmapped(s, key, "masking", s.Value, "")
				removeKey(meta, "masking_strategy_override")
			}
		}
		if sub := lookupKey(f, "fields"); sub != nil && !isNull(sub) {
			p.fields(sub, coll, prefix+name+".", depth+1)
		}
	}
}

func (p *prewalk) unmapped(n *yaml.Node, field, what, fides, instead string) {
	p.imp.Unmapped = append(p.imp.Unmapped, Unmapped{Pos: Pos{Line: n.Line, Col: n.Column}, Field: field, What: what, Fides: fides, Instead: instead})
}

// keys notes which of the given keys n writes, at place.
func (p *prewalk) keys(n *yaml.Node, place string, keys []string) {
	for _, k := range keys {
		if v := lookupKey(n, k); v != nil && !isNull(v) {
			p.notCarried[k] = append(p.notCarried[k], place)
		}
	}
}

// knownMasking reports whether fidesMasking turns a strategy into an erase strategy.
func knownMasking(s string) bool {
	switch s {
	case "null_rewrite", "random_string_rewrite", "hash", "hmac", "string_rewrite":
		return true
	}
	return false
}

// lookupKey returns the value of key in mapping n, or nil.
func lookupKey(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

// removeKey deletes key from mapping n.
func removeKey(n *yaml.Node, key string) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			n.Content = append(n.Content[:i:i], n.Content[i+2:]...)
			return
		}
	}
}

// seqItems returns the items of a sequence, nil for anything else.
func seqItems(n *yaml.Node) []*yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		out[i] = resolve(c)
	}
	return out
}

func scalarValue(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode || isNull(n) {
		return ""
	}
	return n.Value
}

func sortedKeys(m map[string][]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Report says what the import did not carry over, one finding a line, with
// the Fides file's positions, for a person to settle before the annotation
// is used.
func (imp *Imported) Report() string {
	var b strings.Builder
	s := imp.Dataset.Datastores[0]
	fields, personal := 0, 0
	for _, c := range s.Collections {
		for _, f := range c.Fields {
			fields++
			if len(f.Categories) > 0 {
				personal++
			}
		}
	}
	fmt.Fprintf(&b, "%s: datastore %s (%s, DSN from $%s): %d collections, %d fields, %d with personal data\n",
		imp.Source, s.ID, s.Kind, s.DSNEnv, len(s.Collections), fields, personal)
	sections := []struct{ what, title, none string }{
		{"category", "Fides data categories with no Custos category", "every Fides data category mapped"},
		{"data_type", "unsupported field types", "every field type supported"},
		{"masking", "masking strategies with no erase strategy", "every masking strategy carried"},
		{"primary_key", "collections with personal data and no primary key", "every such collection has one"},
	}
	for _, sec := range sections {
		var lines []string
		for _, u := range imp.Unmapped {
			if u.What != sec.what {
				continue
			}
			var msg string
			switch u.What {
			case "category":
				msg = fmt.Sprintf("%q: imported as %q (personal data, found and erased); choose a category", u.Fides, u.Instead)
			case "data_type":
				msg = fmt.Sprintf("data_type %q: imported without a type (the erase strategy is not checked against it)", u.Fides)
			case "masking":
				msg = fmt.Sprintf("masking strategy %q: imported with %s instead", u.Fides, u.Instead)
			case "primary_key":
				msg = "erasure cannot name its rows, so a deletion would stop there; mark its key fields primary_key, and delete_row: true if the key holds personal data"
			}
			lines = append(lines, fmt.Sprintf("%s:%d:%d: %s: %s", imp.Source, u.Pos.Line, u.Pos.Col, u.Field, msg))
		}
		if len(lines) == 0 {
			fmt.Fprintf(&b, "%s: none (%s)\n", capitalise(sec.title), sec.none)
			continue
		}
		fmt.Fprintf(&b, "%s: %d\n", capitalise(sec.title), len(lines))
		for _, l := range lines {
			b.WriteString("  " + l + "\n")
		}
	}
	if len(imp.NotCarried) > 0 {
		b.WriteString("Not carried over (they do not say where a person's data is or how it is erased):\n")
		for _, nc := range imp.NotCarried {
			places := nc.Places
			more := ""
			if len(places) > 5 {
				places, more = places[:5], fmt.Sprintf(" and %d more", len(nc.Places)-5)
			}
			fmt.Fprintf(&b, "  %s: %s%s\n", nc.Key, strings.Join(places, ", "), more)
		}
	}
	return b.String()
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// YAML writes the annotation as a custos_dataset file: each field's Fides
// categories as a comment beside the Custos ones, and "# review:" on what
// did not map. The file is read back before it is returned, so what is
// written is what was imported.
func (imp *Imported) YAML() ([]byte, error) {
	notes := map[string][]string{}
	for _, u := range imp.Unmapped {
		var note string
		switch u.What {
		case "category":
			note = fmt.Sprintf("Fides category %q has no Custos category: choose one", u.Fides)
		case "data_type":
			note = fmt.Sprintf("Fides data_type %q is not supported", u.Fides)
		case "masking":
			note = fmt.Sprintf("Fides masking strategy %q has no erase strategy", u.Fides)
		case "primary_key":
			note = "personal data but no primary key: erasure cannot name its rows; mark the key fields primary_key (delete_row: true if the key is personal data)"
		}
		notes[u.Field] = append(notes[u.Field], note)
	}
	s := imp.Dataset.Datastores[0]
	var b strings.Builder
	line := func(indent int, text, comment string) {
		b.WriteString(strings.Repeat(" ", indent) + text)
		if comment != "" {
			b.WriteString("  # " + oneLine(comment))
		}
		b.WriteByte('\n')
	}
	line(0, "# Imported from the Fides dataset "+oneLine(filepath.Base(imp.Source))+" by `custos dataset import`.", "")
	line(0, "# Categories follow internal/dataset/FIDES.md; each field's Fides categories", "")
	line(0, "# are the comment beside it. The connection is read from $"+s.DSNEnv+" when", "")
	line(0, "# the annotation is used: no DSN is written here.", "")
	line(0, "custos_dataset: 1", "")
	line(0, "datastores:", "")
	line(2, "- id: "+yamlScalar(s.ID), "")
	line(4, "kind: "+s.Kind, "")
	line(4, "dsn_env: "+s.DSNEnv, "")
	line(4, "collections:", "")
	for _, c := range s.Collections {
		for _, n := range notes[c.Name] {
			line(6, "# review: "+n, "")
		}
		line(6, "- name: "+yamlScalar(c.Name), "")
		line(8, "fields:", "")
		for _, f := range c.Fields {
			key := c.Name + "." + f.Name
			for _, n := range notes[key] {
				line(10, "# review: "+n, "")
			}
			fides := ""
			if fc := imp.fidesCategories[key]; len(fc) > 0 {
				fides = "Fides: " + strings.Join(fc, ", ")
			}
			// The Fides categories go beside the Custos ones, or beside the
			// name of a field that has none (system.*).
			nameNote := fides
			if len(f.Categories) > 0 {
				nameNote = ""
			}
			line(10, "- name: "+yamlScalar(f.Name), nameNote)
			if f.PrimaryKey {
				line(12, "primary_key: true", "")
			}
			if f.DataType != "" {
				line(12, "data_type: "+f.DataType, "")
			}
			if len(f.Categories) > 0 {
				cats := make([]string, len(f.Categories))
				for i, id := range f.Categories {
					cats[i] = yamlScalar(id)
				}
				line(12, "categories: ["+strings.Join(cats, ", ")+"]", fides)
			}
			if f.Identity != "" {
				line(12, "identity: "+yamlScalar(f.Identity), "")
			}
			def := EraseNull
			if f.PrimaryKey || len(f.Categories) == 0 {
				def = EraseKeep
			}
			switch {
			case f.Erase.Strategy == EraseNull:
				line(12, "erase: null", "")
			case len(f.Categories) > 0 || f.Erase.Strategy != def:
				line(12, "erase: "+yamlScalar(f.Erase.String()), "")
			}
			switch len(f.References) {
			case 0:
			case 1:
				line(12, "references: "+referenceYAML(f.References[0]), "")
			default:
				line(12, "references:", "")
				for _, r := range f.References {
					line(14, "- "+referenceYAML(r), "")
				}
			}
		}
	}
	out := []byte(b.String())
	if _, err := Parse(imp.Source, out); err != nil {
		var ps Problems
		if errors.As(err, &ps) {
			return nil, fmt.Errorf("import %s: the annotation written does not read back: %w", imp.Source, ps)
		}
		return nil, err
	}
	return out, nil
}

var plainYAML = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.\-]*$`)

// yamlScalar writes s as a YAML string: plain when that cannot be misread,
// double-quoted otherwise.
func yamlScalar(s string) string {
	switch strings.ToLower(s) {
	case "null", "true", "false", "yes", "no", "on", "off", "y", "n", "~", "":
		return strconv.Quote(s)
	}
	if plainYAML.MatchString(s) {
		return s
	}
	return strconv.Quote(s)
}

// oneLine keeps a comment on its line.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ", "\u2028", " ", "\u2029", " ").Replace(s)
}

func referenceYAML(r Reference) string {
	s := "{"
	if r.Datastore != "" {
		s += "datastore: " + yamlScalar(r.Datastore) + ", "
	}
	return s + fmt.Sprintf("collection: %s, field: %s, direction: %s}", yamlScalar(r.Collection), yamlScalar(r.Field), r.Direction)
}
