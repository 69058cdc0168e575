package policy

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/manifest"
)

// Change kinds. The first six are the material-change kinds of GB/T 35273-2020
// §10.1 that the seed policies list; the rest are never material.
const (
	KindProcessing       = "processing"        // purpose, type or manner of processing
	KindOwnership        = "ownership"         // ownership or organisational structure
	KindRecipients       = "recipients"        // main recipients of sharing, transfer or disclosure
	KindRights           = "rights"            // rights or how to exercise them
	KindContact          = "contact"           // responsible department, contact or complaint channel
	KindImpactAssessment = "impact_assessment" // an impact assessment showing high risk
	KindSecurity         = "security"          // protection measures (reported, not material)
	KindWording          = "wording"           // prose only
	KindMetadata         = "metadata"          // version, dates, delivery endpoints
)

// DefaultMaterial is the material-change list used when a manifest lists none.
var DefaultMaterial = []string{KindProcessing, KindOwnership, KindRecipients, KindRights, KindContact, KindImpactAssessment}

// Change is one difference between two manifest versions.
type Change struct {
	Op       string          `json:"op"`   // added, removed, changed
	Path     string          `json:"path"` // e.g. recipients[ads].purposes
	Kind     string          `json:"kind"`
	Material bool            `json:"material"`
	Old      json.RawMessage `json:"old,omitempty"`
	New      json.RawMessage `json:"new,omitempty"`
	Purposes []string        `json:"purposes,omitempty"` // purposes the change touches
	// About says what the change is about, in the manifests' own names,
	// so that a page can describe it without the path. It is derived
	// from the two versions, not stored: Annotate fills it in again for
	// a diff read back from storage.
	About About `json:"-"`
}

// About locates a change for people: the entities it lies in, outermost
// first, each with its names from the manifest, and the field changed.
type About struct {
	Section string // the manifest's top-level key: purposes, services, contact, policy, …
	Items   []Item // entities the change lies in: a service, then one of its collections
	// Field is the field changed below the innermost entity (or below the
	// section when there is none), dotted when nested ("extension.count");
	// "" when an entity was added or removed whole.
	Field string
}

// Item is one entity a change lies in.
type Item struct {
	List string        // the list it belongs to: purposes, collects, channels, …
	ID   string        // its key in that list, for operators; never a name
	Name manifest.Text // its name in each language; nil when it has none
}

// Diff is the comparison of two manifest versions.
type Diff struct {
	OldVersion string   `json:"old_version"`
	NewVersion string   `json:"new_version"`
	Changes    []Change `json:"changes"`
	Material   bool     `json:"material"`
	// Reconsent lists the consent-based purposes, and the acts with a
	// separate consent of their own (recipient:<id>, transfer:<id>,
	// disclosure), whose consents must be asked for again.
	Reconsent []string `json:"reconsent"`
	// Accept lists the purposes on other bases (but a legal obligation,
	// vital interests or a public task) that people must accept again
	// before processing goes on, when the manifest asks for express
	// consent after a material change.
	Accept []string `json:"accept,omitempty"`
	// Notify is true when users must be told of the change.
	Notify bool `json:"notify"`
	// Names are the names, in each language, of the purposes and acts
	// that Purposes, Reconsent and Accept list by id. Like Change.About
	// they are derived, not stored.
	Names map[string]manifest.Text `json:"-"`
}

// Compare diffs two manifests and classifies every change.
func Compare(oldM, newM *manifest.Manifest) *Diff {
	d := &Diff{OldVersion: oldM.Policy.Version, NewVersion: newM.Policy.Version, Changes: []Change{}, Reconsent: []string{}}
	c := &comparer{old: oldM, new: newM}
	c.value("", reflect.ValueOf(*oldM), reflect.ValueOf(*newM))
	material := newM.Policy.Updates.Material
	if len(material) == 0 {
		material = DefaultMaterial
	}
	reconsent := map[string]bool{}
	allConsent := newM.Policy.Updates.Acceptance == "express_consent"
	for _, ch := range c.changes {
		ch.Material = slices.Contains(material, ch.Kind)
		ch.Purposes = c.affected(ch)
		if ch.Material {
			d.Material = true
			scoped := ch.Kind == KindProcessing || ch.Kind == KindRecipients
			switch {
			case scoped && len(ch.Purposes) > 0:
				for _, p := range ch.Purposes {
					reconsent[p] = true
				}
			case allConsent:
				for _, p := range newM.Purposes {
					reconsent[p.ID] = true
				}
			}
		}
		d.Changes = append(d.Changes, ch)
	}
	for _, p := range newM.Purposes {
		if !reconsent[p.ID] {
			continue
		}
		bases := p.AllBases()
		if slices.Contains(bases, "consent") {
			d.Reconsent = append(d.Reconsent, p.ID)
		}
		if allConsent && slices.ContainsFunc(bases, func(b string) bool { return b != "consent" && !manifest.StatutoryBasis(b) }) {
			d.Accept = append(d.Accept, p.ID)
		}
	}
	d.Reconsent = append(d.Reconsent, c.acts(d.Changes)...)
	d.Notify = d.Material
	d.Annotate(oldM, newM)
	return d
}

// Annotate names what d's changes are about (Change.About) and the
// purposes and acts it lists (Names), from the two versions compared. A
// diff read back from storage needs it before it is shown to people.
func (d *Diff) Annotate(oldM, newM *manifest.Manifest) {
	for i := range d.Changes {
		d.Changes[i].About = locate(d.Changes[i].Path, oldM, newM)
	}
	d.Names = map[string]manifest.Text{}
	keys := slices.Concat(d.Reconsent, d.Accept)
	for _, ch := range d.Changes {
		keys = append(keys, ch.Purposes...)
	}
	for _, k := range keys {
		if _, done := d.Names[k]; done {
			continue
		}
		// The new version names what it still has; the old one what it dropped.
		if n := ActName(newM, k); n != nil {
			d.Names[k] = n
		} else if n := ActName(oldM, k); n != nil {
			d.Names[k] = n
		}
	}
}

type comparer struct {
	old, new *manifest.Manifest
	changes  []Change
}

// acts lists the acts with a separate consent of their own that a
// material change touches: their consents must be given again.
func (c *comparer) acts(changes []Change) []string {
	set := map[string]bool{}
	for _, ch := range changes {
		if !ch.Material {
			continue
		}
		m := rootRE.FindStringSubmatch(ch.Path)
		if m == nil {
			continue
		}
		switch {
		case m[1] == "recipients":
			if r, ok := c.new.Recipient(m[2]); ok && r.SeparateConsent {
				set[check.ActKey(check.Act{Kind: check.ActRecipient, ID: r.ID})] = true
			}
		case strings.HasPrefix(ch.Path, "storage.cross_border["):
			for _, x := range c.new.Storage.CrossBorder {
				if x.SeparateConsent && strings.HasPrefix(ch.Path, "storage.cross_border["+x.ID+"]") {
					set[check.ActKey(check.Act{Kind: check.ActTransfer, ID: x.ID})] = true
				}
			}
		case strings.HasPrefix(ch.Path, "sharing.public_disclosure"):
			if pd := c.new.Sharing.PublicDisclosure; pd != nil && pd.SeparateConsent && !pd.Never {
				set[check.KeyDisclosure] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func raw(v reflect.Value) json.RawMessage {
	if !v.IsValid() {
		return nil
	}
	b, err := json.Marshal(v.Interface())
	if err != nil {
		return nil
	}
	return b
}

func (c *comparer) emit(op, path string, a, b reflect.Value) {
	c.changes = append(c.changes, Change{Op: op, Path: path, Kind: classify(op, path, c.new), Old: raw(a), New: raw(b)})
}

// value compares two values of the same type found at path.
func (c *comparer) value(path string, a, b reflect.Value) {
	switch a.Kind() {
	case reflect.Pointer:
		switch {
		case a.IsNil() && b.IsNil():
		case a.IsNil():
			c.emit("added", path, reflect.Value{}, b.Elem())
		case b.IsNil():
			c.emit("removed", path, a.Elem(), reflect.Value{})
		default:
			c.value(path, a.Elem(), b.Elem())
		}
	case reflect.Struct:
		t := a.Type()
		for i := 0; i < t.NumField(); i++ {
			key := manifest.FieldKey(t.Field(i))
			if key == "" {
				continue
			}
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			c.value(sub, a.Field(i), b.Field(i))
		}
	case reflect.Slice:
		c.slice(path, a, b)
	case reflect.Map:
		if a.Type() == reflect.TypeOf(manifest.Text{}) {
			if !reflect.DeepEqual(normText(a), normText(b)) {
				c.emit("changed", path, a, b)
			}
			return
		}
		keys := map[string]bool{}
		for _, k := range a.MapKeys() {
			keys[k.String()] = true
		}
		for _, k := range b.MapKeys() {
			keys[k.String()] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			kv := reflect.ValueOf(k)
			av, bv := a.MapIndex(kv), b.MapIndex(kv)
			sub := path + "." + k
			switch {
			case !av.IsValid():
				c.emit("added", sub, reflect.Value{}, bv)
			case !bv.IsValid():
				c.emit("removed", sub, av, reflect.Value{})
			default:
				c.value(sub, av, bv)
			}
		}
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			c.emit("changed", path, a, b)
		}
	}
}

func normText(v reflect.Value) map[string]string {
	out := map[string]string{}
	for _, k := range v.MapKeys() {
		out[k.String()] = strings.Join(strings.Fields(v.MapIndex(k).String()), " ")
	}
	return out
}

// slice compares lists: lists of entities are matched by key, lists of
// scalars compare as wholes, anything else by position.
func (c *comparer) slice(path string, a, b reflect.Value) {
	elem := a.Type().Elem()
	if elem.Kind() != reflect.Struct && elem.Kind() != reflect.Map {
		if !reflect.DeepEqual(sortedStrings(a), sortedStrings(b)) {
			c.emit("changed", path, a, b)
		}
		return
	}
	keyOf := entityKey(elem)
	if keyOf == nil {
		n := max(a.Len(), b.Len())
		for i := 0; i < n; i++ {
			sub := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= a.Len():
				c.emit("added", sub, reflect.Value{}, b.Index(i))
			case i >= b.Len():
				c.emit("removed", sub, a.Index(i), reflect.Value{})
			default:
				c.value(sub, a.Index(i), b.Index(i))
			}
		}
		return
	}
	// Elements without a key (an optional id left empty) are matched by position.
	key := func(v reflect.Value, i int) string {
		if k := keyOf(v.Index(i)); k != "" {
			return k
		}
		return fmt.Sprint(i)
	}
	oldByKey := map[string]reflect.Value{}
	for i := 0; i < a.Len(); i++ {
		oldByKey[key(a, i)] = a.Index(i)
	}
	newKeys := map[string]bool{}
	for i := 0; i < b.Len(); i++ {
		k := key(b, i)
		newKeys[k] = true
		sub := fmt.Sprintf("%s[%s]", path, k)
		if av, ok := oldByKey[k]; ok {
			c.value(sub, av, b.Index(i))
		} else {
			c.emit("added", sub, reflect.Value{}, b.Index(i))
		}
	}
	for i := 0; i < a.Len(); i++ {
		if k := key(a, i); !newKeys[k] {
			c.emit("removed", fmt.Sprintf("%s[%s]", path, k), a.Index(i), reflect.Value{})
		}
	}
}

func sortedStrings(v reflect.Value) []string {
	out := make([]string, v.Len())
	for i := range out {
		out[i] = fmt.Sprint(v.Index(i).Interface())
	}
	sort.Strings(out)
	return out
}

// entityKey returns how list elements of type t are identified across versions.
func entityKey(t reflect.Type) func(reflect.Value) string {
	if t.Kind() != reflect.Struct {
		return nil
	}
	switch t {
	case reflect.TypeOf(manifest.Right{}):
		return func(v reflect.Value) string {
			r := v.Interface().(manifest.Right)
			if len(r.Jurisdictions) == 0 {
				return r.Right
			}
			return r.Right + "@" + strings.Join(r.Jurisdictions, "+")
		}
	case reflect.TypeOf(manifest.Signal{}):
		return func(v reflect.Value) string { return v.Interface().(manifest.Signal).Signal }
	case reflect.TypeOf(manifest.MinorRule{}):
		return func(v reflect.Value) string { return v.Interface().(manifest.MinorRule).Jurisdiction }
	case reflect.TypeOf(manifest.Permission{}):
		return func(v reflect.Value) string { return v.Interface().(manifest.Permission).Permission }
	case reflect.TypeOf(manifest.VaultField{}):
		return func(v reflect.Value) string { return v.Interface().(manifest.VaultField).Field }
	case reflect.TypeOf(manifest.VaultClear{}):
		return func(v reflect.Value) string { return v.Interface().(manifest.VaultClear).Purpose }
	case reflect.TypeOf(manifest.Collection{}):
		// A collection is identified by what it collects; a change of categories is an add and a remove.
		return func(v reflect.Value) string { return collectionKey(v.Interface().(manifest.Collection)) }
	}
	if f, ok := t.FieldByName("ID"); ok && f.Type.Kind() == reflect.String {
		return func(v reflect.Value) string { return v.FieldByIndex(f.Index).String() }
	}
	return nil
}

var (
	rootRE    = regexp.MustCompile(`^([a-z_]+)(?:\[([^\]]+)\])?`)
	collectRE = regexp.MustCompile(`^services\[([^\]]+)\]\.collects\[([^\]]+)\]`)
)

// wordingFields are prose whose change does not change what is promised.
var wordingFields = map[string]bool{
	"description": true, "name": true, "title": true, "intro": true, "note": true, "examples": true,
	"label": true, "short_name": true, "scope": true, "when": true, "function": true, "text": true,
	"body": true, "term": true, "management": true, "if_refused": true,
	"principles": true, "third_party_links": true, "discontinuation": true, "reason": true,
	"source_detail": true, "condition": true, "duration": true, "opt_out": true, "related_agreements": true,
}

// classify decides which kind of change a path is.
func classify(op, path string, newM *manifest.Manifest) string {
	m := rootRE.FindStringSubmatch(path)
	if m == nil {
		return KindMetadata
	}
	root := m[1]
	rest := strings.TrimPrefix(path, m[0])
	leaf := leafField(rest)
	isText := op == "changed" && wordingFields[leaf]
	switch root {
	case "custos", "policy":
		return KindMetadata
	case "definitions", "statements", "extra_sections":
		return KindWording
	case "controllers":
		switch {
		case strings.Contains(rest, "address") || strings.Contains(rest, "website"):
			return KindContact
		case leaf == "short_name":
			return KindWording
		}
		return KindOwnership
	case "contact", "complaints":
		if leaf == "label" {
			return KindWording
		}
		return KindContact
	case "rights", "jurisdictions":
		return KindRights
	case "security", "vault":
		// The vault is a protection measure: how values are kept and who
		// reads them in clear, within the purposes the policy states.
		return KindSecurity
	case "assessments":
		if op != "removed" {
			for _, a := range newM.Assessments {
				if a.ID == m[2] && a.Risk == "high" {
					return KindImpactAssessment
				}
			}
		}
		return KindMetadata
	case "recipients":
		if leaf == "endpoint" || leaf == "notice_email" {
			return KindMetadata
		}
		if isText {
			return KindWording
		}
		return KindRecipients
	case "sdks", "sharing":
		if isText {
			return KindWording
		}
		return KindRecipients
	case "storage":
		if strings.HasPrefix(rest, ".cross_border") && !isText {
			return KindRecipients
		}
		if isText {
			return KindWording
		}
		return KindProcessing
	case "signals":
		// What a browser signal refuses is a way of exercising a right.
		if isText {
			return KindWording
		}
		return KindRights
	}
	if isText {
		return KindWording
	}
	return KindProcessing
}

// leafField is the last field name of a path remainder, skipping list keys and languages.
func leafField(rest string) string {
	parts := strings.FieldsFunc(rest, func(r rune) bool { return r == '.' })
	for i := len(parts) - 1; i >= 0; i-- {
		p := parts[i]
		if j := strings.IndexByte(p, '['); j >= 0 {
			p = p[:j]
		}
		if p == "zh" || p == "en" || p == "" {
			continue
		}
		return p
	}
	return ""
}

// affected lists the purposes a change touches, from either version.
func (c *comparer) affected(ch Change) []string {
	set := map[string]bool{}
	add := func(ids []string) {
		for _, id := range ids {
			set[id] = true
		}
	}
	m := rootRE.FindStringSubmatch(ch.Path)
	if m == nil {
		return nil
	}
	id := m[2]
	for _, man := range []*manifest.Manifest{c.old, c.new} {
		switch m[1] {
		case "purposes":
			if _, ok := man.Purpose(id); ok {
				set[id] = true
			}
		case "services":
			if cm := collectRE.FindStringSubmatch(ch.Path); cm != nil {
				if s, ok := man.Service(cm[1]); ok {
					for _, col := range s.Collects {
						if collectionKey(col) == cm[2] {
							add(col.Purposes)
						}
					}
				}
			} else if s, ok := man.Service(id); ok && (ch.Path == m[0] || strings.Contains(ch.Path, ".permissions")) {
				for _, col := range s.Collects {
					add(col.Purposes)
				}
			}
		case "recipients":
			if r, ok := man.Recipient(id); ok {
				add(r.Purposes)
			}
		case "sdks":
			for _, s := range man.SDKs {
				if s.ID == id {
					add(s.Purposes)
				}
			}
		case "signals":
			for _, sg := range man.Signals {
				if strings.HasPrefix(ch.Path, "signals["+sg.Signal+"]") || ch.Path == "signals" {
					add(sg.Refuses)
				}
			}
		case "cookies":
			if man.Cookies != nil {
				for _, it := range man.Cookies.Items {
					if strings.Contains(ch.Path, "items["+it.ID+"]") {
						add(it.Purposes)
					}
				}
			}
		case "storage":
			for _, x := range man.Storage.CrossBorder {
				if strings.Contains(ch.Path, "cross_border["+x.ID+"]") {
					add(x.Purposes)
				}
			}
		case "retention":
			for _, r := range man.Retention {
				if r.ID == id {
					add(r.Purposes)
				}
			}
		case "categories":
			for _, s := range man.Services {
				for _, col := range s.Collects {
					if slices.Contains(col.Categories, id) {
						add(col.Purposes)
					}
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func collectionKey(c manifest.Collection) string {
	cats := slices.Clone(c.Categories)
	sort.Strings(cats)
	return strings.Join(cats, "+")
}

// WriteText writes a diff for people: one line per change, material ones marked.
func (d *Diff) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "version %s -> %s: %d change(s)\n", d.OldVersion, d.NewVersion, len(d.Changes))
	for _, c := range d.Changes {
		mark := "         "
		if c.Material {
			mark = "MATERIAL "
		}
		fmt.Fprintf(&b, "%s%-17s %-7s %s", mark, c.Kind, c.Op, c.Path)
		if c.Op == "changed" {
			fmt.Fprintf(&b, ": %s -> %s", short(c.Old), short(c.New))
		}
		if len(c.Purposes) > 0 {
			fmt.Fprintf(&b, " (purposes: %s)", strings.Join(c.Purposes, ", "))
		}
		b.WriteString("\n")
	}
	if d.Material {
		b.WriteString("material: yes; users must be notified\n")
	} else {
		b.WriteString("material: no\n")
	}
	if len(d.Reconsent) > 0 {
		fmt.Fprintf(&b, "re-consent required for: %s\n", strings.Join(d.Reconsent, ", "))
	} else {
		b.WriteString("re-consent required for: none\n")
	}
	if len(d.Accept) > 0 {
		fmt.Fprintf(&b, "express acceptance required for: %s\n", strings.Join(d.Accept, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func short(r json.RawMessage) string {
	s := string(r)
	if s == "" {
		return "(none)"
	}
	if rs := []rune(s); len(rs) > 80 {
		return string(rs[:77]) + "..."
	}
	return s
}
