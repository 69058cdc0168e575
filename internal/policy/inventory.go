package policy

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Inventory is the record of processing activities: GDPR art. 30(1) and the
// matching PIPL items (arts. 17, 51, 55), one activity per purpose.
type Inventory struct {
	Lang       string     `json:"lang"`
	Policy     string     `json:"policy"`
	Version    string     `json:"version"`
	Controller []string   `json:"controllers"`        // art. 30(1)(a)
	Contact    []string   `json:"protection_contact"` // art. 30(1)(a) DPO; PIPL art. 52
	Security   []string   `json:"security_measures"`  // art. 30(1)(g); PIPL art. 51
	Activities []Activity `json:"activities"`
}

// Activity is one processing activity.
type Activity struct {
	Purpose         string   `json:"purpose"`     // art. 30(1)(b)
	Name            string   `json:"name"`        //
	LegalBasis      string   `json:"legal_basis"` // PIPL art. 13; GDPR art. 6
	SeparateConsent bool     `json:"separate_consent"`
	Services        []string `json:"services"`
	Subjects        []string `json:"data_subjects"`        // art. 30(1)(c)
	Categories      []string `json:"personal_information"` // art. 30(1)(c)
	Sensitive       []string `json:"sensitive_information"`
	Sources         []string `json:"sources"`
	Recipients      []string `json:"recipients"`              // art. 30(1)(d)
	Transfers       []string `json:"third_country_transfers"` // art. 30(1)(e); PIPL art. 38
	Retention       []string `json:"erasure_time_limits"`     // art. 30(1)(f)
}

// BuildInventory assembles the record of processing from a manifest.
func BuildInventory(m *manifest.Manifest, tag string) (*Inventory, error) {
	l, err := newLang(tag)
	if err != nil {
		return nil, err
	}
	r := &renderer{m: m, l: l}
	inv := &Inventory{Lang: l.tag, Policy: m.Policy.ID, Version: m.Policy.Version, Activities: []Activity{}}
	inv.Controller, inv.Contact, inv.Security = party(m, l)
	for _, p := range m.Purposes {
		inv.Activities = append(inv.Activities, r.activity(p))
	}
	return inv, nil
}

func (r *renderer) activity(p manifest.Purpose) Activity {
	l, m := r.l, r.m
	a := Activity{Purpose: p.ID, Name: l.t(p.Name), LegalBasis: l.v("basis", p.Basis), SeparateConsent: p.SeparateConsent}
	cats := newSet()
	subjects := newSet()
	sources := newSet()
	for _, s := range m.Services {
		uses := false
		for _, c := range s.Collects {
			if slices.Contains(c.Purposes, p.ID) {
				uses = true
				cats.add(c.Categories...)
				sources.add(l.vs("source", c.Sources)...)
			}
		}
		if uses {
			a.Services = append(a.Services, l.t(s.Name))
			for _, id := range s.Subjects {
				for _, sc := range m.Subjects {
					if sc.ID == id {
						subjects.add(l.t(sc.Name))
					}
				}
			}
		}
	}
	for _, s := range m.SDKs {
		if slices.Contains(s.Purposes, p.ID) {
			cats.add(s.Collects...)
			a.Recipients = append(a.Recipients, fmt.Sprintf("%s (%s, SDK)", l.t(s.Company), l.t(s.Name)))
		}
	}
	for _, rec := range m.Recipients {
		if slices.Contains(rec.Purposes, p.ID) {
			desc := l.t(rec.Name) + " (" + strings.ToLower(l.v("recipient_kind", rec.Kind))
			if rec.Country != "" {
				desc += ", " + rec.Country
			}
			a.Recipients = append(a.Recipients, desc+")")
		}
	}
	for _, x := range m.Storage.CrossBorder {
		if slices.Contains(x.Purposes, p.ID) {
			a.Transfers = append(a.Transfers, fmt.Sprintf("%s: %s", strings.Join(x.To, ", "), l.v("mechanism", x.Mechanism)))
		}
	}
	for _, rt := range m.Retention {
		covers := slices.Contains(rt.Purposes, p.ID)
		for _, c := range rt.Categories {
			if cats.has(c) {
				covers = true
			}
		}
		if covers {
			a.Retention = append(a.Retention, r.retentionItem(rt))
		}
	}
	if len(subjects.list) == 0 {
		for _, sc := range m.Subjects {
			subjects.add(l.t(sc.Name))
		}
	}
	for _, c := range cats.list {
		name := c
		if cat, ok := m.Category(c); ok {
			name = l.t(cat.Name)
			if cat.Sensitive {
				a.Sensitive = append(a.Sensitive, name)
			}
		}
		a.Categories = append(a.Categories, name)
	}
	a.Subjects, a.Sources = subjects.list, sources.list
	for _, f := range []*[]string{&a.Services, &a.Subjects, &a.Categories, &a.Sensitive, &a.Sources, &a.Recipients, &a.Transfers, &a.Retention} {
		if *f == nil {
			*f = []string{}
		}
	}
	return a
}

type set struct {
	seen map[string]bool
	list []string
}

func newSet() *set { return &set{seen: map[string]bool{}} }

func (s *set) add(vs ...string) {
	for _, v := range vs {
		if !s.seen[v] {
			s.seen[v] = true
			s.list = append(s.list, v)
		}
	}
}

func (s *set) has(v string) bool { return s.seen[v] }

// InventoryFormats are the formats WriteInventory accepts.
// party is who a manifest's organisation is, in l: its controllers (name
// and address), its protection contact and its security measures.
func party(m *manifest.Manifest, l lang) (names, contact, security []string) {
	for _, c := range m.Controllers {
		s := l.t(c.Name)
		if a := l.t(c.Address); a != "" {
			s += ", " + a
		}
		names = append(names, s)
	}
	if d := l.t(m.Contact.Department); d != "" {
		contact = append(contact, d)
	}
	if p := l.t(m.Contact.Person); p != "" {
		contact = append(contact, p)
	}
	for _, ch := range m.Contact.Channels {
		v := l.t(ch.Values)
		if v == "" {
			v = ch.Value
		}
		if v == "" {
			v = l.t(ch.Label)
		}
		contact = append(contact, v)
	}
	for _, ms := range m.Security.Measures {
		security = append(security, l.v("measure", ms.Kind)+": "+l.t(ms.Text))
	}
	for _, c := range m.Security.Certifications {
		security = append(security, l.t(c.Name))
	}
	return names, contact, security
}

// writeParty writes an organisation's protection contact and its security
// measures, as both records give them.
func writeParty(b *strings.Builder, l lang, contact, security []string) {
	fmt.Fprintf(b, "%s: %s\n\n", l.s("个人信息保护负责人/部门", "Protection officer or department"), mdEscape(strings.Join(contact, "; ")))
	fmt.Fprintf(b, "## %s\n\n", l.s("安全措施", "Security measures"))
	for _, s := range security {
		fmt.Fprintf(b, "- %s\n", mdEscape(s))
	}
	if len(security) == 0 {
		b.WriteString("- —\n")
	}
}

var InventoryFormats = []string{"markdown", "csv", "json"}

// WriteInventory writes inv as markdown, csv or json.
func WriteInventory(w io.Writer, inv *Inventory, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(inv)
	case "csv":
		return writeInventoryCSV(w, inv)
	case "markdown", "md":
		return writeInventoryMarkdown(w, inv)
	}
	return fmt.Errorf("unsupported format %q: want markdown, csv or json", format)
}

func (inv *Inventory) headings() []string {
	l, _ := newLang(inv.Lang)
	return []string{
		l.s("处理目的标识", "Purpose id"), l.s("处理目的", "Purpose"), l.s("法律依据", "Legal basis"), l.s("单独同意", "Separate consent"),
		l.s("相关服务", "Services"), l.s("个人信息主体类别", "Data subjects"), l.s("个人信息种类", "Personal information"),
		l.s("敏感个人信息", "Sensitive personal information"), l.s("来源", "Sources"), l.s("接收方", "Recipients"),
		l.s("向境外提供", "Third-country transfers and safeguards"), l.s("存储期限", "Erasure time limits"),
	}
}

func (a Activity) cells(sep string, yes, no string) []string {
	consent := no
	if a.SeparateConsent {
		consent = yes
	}
	j := func(s []string) string { return strings.Join(s, sep) }
	return []string{a.Purpose, a.Name, a.LegalBasis, consent, j(a.Services), j(a.Subjects), j(a.Categories), j(a.Sensitive), j(a.Sources), j(a.Recipients), j(a.Transfers), j(a.Retention)}
}

func writeInventoryCSV(w io.Writer, inv *Inventory) error {
	cw := csv.NewWriter(w)
	// Column names are for tools: one form (snake_case), in every language.
	head := []string{"controller", "protection_contact", "security_measures", "purpose_id", "purpose", "legal_basis", "separate_consent",
		"services", "data_subjects", "personal_information", "sensitive_personal_information", "sources", "recipients",
		"cross_border_transfers", "erasure_time_limits"}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, a := range inv.Activities {
		row := append([]string{strings.Join(inv.Controller, "; "), strings.Join(inv.Contact, "; "), strings.Join(inv.Security, "; ")}, a.cells("; ", "yes", "no")...)
		for i, c := range row {
			row[i] = csvSafe(c)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses cells a spreadsheet would run as formulas.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func writeInventoryMarkdown(w io.Writer, inv *Inventory) error {
	l, _ := newLang(inv.Lang)
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", l.s("个人信息处理活动记录", "Record of processing activities"))
	fmt.Fprintf(&b, "%s: %s %s  \n", l.s("政策", "Policy"), mdEscape(inv.Policy), mdEscape(inv.Version))
	fmt.Fprintf(&b, "%s: %s  \n", l.s("个人信息处理者", "Controller"), mdEscape(strings.Join(inv.Controller, "; ")))
	writeParty(&b, l, inv.Contact, inv.Security)
	heads := inv.headings()
	for _, a := range inv.Activities {
		fmt.Fprintf(&b, "\n## %s\n\n| %s | %s |\n| --- | --- |\n", mdEscape(a.Name), l.s("项目", "Item"), l.s("内容", "Record"))
		for i, c := range a.cells("\x00", l.s("是", "yes"), l.s("否", "no")) {
			if i == 1 {
				continue
			}
			fmt.Fprintf(&b, "| %s | %s |\n", heads[i], mdCell(c))
		}
	}
	_, err := io.WriteString(w, strings.ReplaceAll(b.String(), "\x00", "<br>"))
	return err
}
