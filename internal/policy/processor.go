package policy

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/manifest"
)

// ProcessorRecord is the record a processor keeps of the processing it
// carries out on behalf of controllers: GDPR art. 30(2), and the entrusted
// processing of PIPL art. 21. It is built from the processor's manifest and
// its entrustments, each with the controller's manifest.
type ProcessorRecord struct {
	Lang      string   `json:"lang"`
	Processor []string `json:"processor"`          // art. 30(2)(a)
	Contact   []string `json:"protection_contact"` // art. 30(2)(a) DPO
	Security  []string `json:"security_measures"`  // art. 30(2)(d)
	// Controllers are the processing carried out for each controller, one
	// entry per entrustment.
	Controllers []ProcessedFor `json:"controllers"`
}

// ProcessedFor is the processing carried out under one entrustment.
type ProcessedFor struct {
	Entrustment       string   `json:"entrustment"`
	Controller        []string `json:"controller"`         // art. 30(2)(a)
	ControllerContact []string `json:"controller_contact"` // art. 30(2)(a)
	Categories        []string `json:"personal_information"`
	Purposes          []string `json:"categories_of_processing"` // art. 30(2)(b)
	Instructions      string   `json:"instructions,omitempty"`
	SubProcessors     []string `json:"sub_processors"`          // art. 30(2)(a), 28(2)
	Transfers         []string `json:"third_country_transfers"` // art. 30(2)(c)
	Term              string   `json:"term"`
	State             string   `json:"state"`
}

// Entrusted is one entrustment, as the record reads it.
type Entrusted struct {
	ID                   string
	Categories, Purposes []string
	Instructions         string
	SubProcessors        []string
	StartsOn, EndsOn     string
	State, EndAction     string
	// ControllerName is the controller as the registry names it;
	// Controller is its manifest in force, nil when it has published none.
	ControllerName string
	Controller     *manifest.Manifest
}

// BuildProcessorRecord assembles the processor's record: who the processor
// is from its manifest, and what it does for whom from its entrustments,
// named as each controller's manifest names them.
func BuildProcessorRecord(processor *manifest.Manifest, ents []Entrusted, tag string) (*ProcessorRecord, error) {
	l, err := newLang(tag)
	if err != nil {
		return nil, err
	}
	rec := &ProcessorRecord{Lang: l.tag, Controllers: []ProcessedFor{}}
	rec.Processor, rec.Contact, rec.Security = party(processor, l)
	for _, e := range ents {
		p := ProcessedFor{Entrustment: e.ID, Controller: []string{e.ControllerName}, Categories: e.Categories, Purposes: e.Purposes,
			Instructions: e.Instructions, SubProcessors: slices.Clone(e.SubProcessors), State: e.State}
		if p.SubProcessors == nil {
			p.SubProcessors = []string{}
		}
		p.Term = e.StartsOn + " – " + e.EndsOn
		if e.EndsOn == "" {
			p.Term = e.StartsOn + " – " + l.s("未约定终止日期", "open-ended")
		}
		if e.EndAction != "" {
			p.State += " (" + e.EndAction + ")"
		}
		if m := e.Controller; m != nil {
			r := &renderer{m: m, l: l}
			p.Controller, p.ControllerContact, _ = party(m, l)
			p.Categories = r.categoryNames(e.Categories)
			p.Purposes = r.purposeNames(e.Purposes)
			for _, x := range m.Storage.CrossBorder {
				if slices.ContainsFunc(e.Purposes, func(id string) bool { return slices.Contains(x.Purposes, id) }) {
					p.Transfers = append(p.Transfers, fmt.Sprintf("%s: %s", strings.Join(x.To, ", "), l.v("mechanism", x.Mechanism)))
				}
			}
		}
		if p.ControllerContact == nil {
			p.ControllerContact = []string{}
		}
		if p.Transfers == nil {
			p.Transfers = []string{}
		}
		rec.Controllers = append(rec.Controllers, p)
	}
	return rec, nil
}

// WriteProcessorRecord writes rec as markdown or json.
func WriteProcessorRecord(w io.Writer, rec *ProcessorRecord, format string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rec)
	case "markdown", "md":
	default:
		return fmt.Errorf("unsupported format %q: want markdown or json", format)
	}
	l, _ := newLang(rec.Lang)
	var b strings.Builder
	list := func(v []string) string {
		if len(v) == 0 {
			return "—"
		}
		return mdCell(strings.Join(v, "\x00"))
	}
	fmt.Fprintf(&b, "# %s\n\n", l.s("受托处理个人信息的活动记录", "Record of processing carried out on behalf of controllers"))
	fmt.Fprintf(&b, "%s: %s  \n", l.s("受托人（处理者）", "Processor"), mdEscape(strings.Join(rec.Processor, "; ")))
	writeParty(&b, l, rec.Contact, rec.Security)
	if len(rec.Controllers) == 0 {
		fmt.Fprintf(&b, "\n%s\n", l.s("没有委托处理记录。", "No processing on behalf of controllers is recorded."))
	}
	for _, p := range rec.Controllers {
		fmt.Fprintf(&b, "\n## %s\n\n| %s | %s |\n| --- | --- |\n", mdEscape(strings.Join(p.Controller, "; ")), l.s("项目", "Item"), l.s("内容", "Record"))
		rows := [][2]string{
			{l.s("委托记录", "Entrustment"), mdCell(p.Entrustment)},
			{l.s("委托人（控制者）", "Controller"), list(p.Controller)},
			{l.s("控制者联系方式", "Controller's contact"), list(p.ControllerContact)},
			{l.s("处理目的（处理类别）", "Categories of processing"), list(p.Purposes)},
			{l.s("个人信息种类", "Personal information"), list(p.Categories)},
			{l.s("处理指示", "Instructions"), mdCell(p.Instructions)},
			{l.s("转委托的受托人", "Sub-processors"), list(p.SubProcessors)},
			{l.s("向境外提供", "Third-country transfers and safeguards"), list(p.Transfers)},
			{l.s("委托期限", "Term"), mdCell(p.Term)},
			{l.s("状态", "State"), mdCell(p.State)},
		}
		for _, r := range rows {
			if r[1] == "" {
				r[1] = "—"
			}
			fmt.Fprintf(&b, "| %s | %s |\n", r[0], r[1])
		}
	}
	_, err := io.WriteString(w, strings.ReplaceAll(b.String(), "\x00", "<br>"))
	return err
}
