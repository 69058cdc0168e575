// Package pia says which processing activities of a manifest need a
// personal-information protection impact assessment (PIPL art. 55), whether
// the manifest's assessments cover them and are still current, and drafts
// an assessment in the structure of GB/T 39335-2020.
//
// A processing activity is a purpose, with the categories collected for it,
// the recipients and SDKs that receive them and the transfers abroad that
// serve it; public disclosure (sharing.public_disclosure) is an activity of
// its own, manifest.PublicDisclosureActivity. Everything here is a pure
// function of the manifest (and, for review periods, of today's date).
package pia

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Reasons an activity needs an assessment, one per item of PIPL art. 55.
const (
	ReasonSensitive   = "sensitive"    // art. 55(1): sensitive personal information
	ReasonAutomated   = "automated"    // art. 55(2): automated decision-making
	ReasonEntrusted   = "entrusted"    // art. 55(3): entrusted processing
	ReasonProvision   = "provision"    // art. 55(3): provision to another handler
	ReasonDisclosure  = "disclosure"   // art. 55(3): public disclosure
	ReasonCrossBorder = "cross_border" // art. 55(4): provision abroad
)

// reasonInfo is the article item and the words of each reason.
var reasonInfo = map[string]struct{ item, itemZH, zh, en string }{
	ReasonSensitive:   {"art. 55(1)", "第五十五条第（一）项", "处理敏感个人信息", "processes sensitive personal information"},
	ReasonAutomated:   {"art. 55(2)", "第五十五条第（二）项", "利用个人信息进行自动化决策", "makes automated decisions"},
	ReasonEntrusted:   {"art. 55(3)", "第五十五条第（三）项", "委托处理个人信息", "entrusts processing to a processor"},
	ReasonProvision:   {"art. 55(3)", "第五十五条第（三）项", "向其他个人信息处理者提供个人信息", "provides personal information to other handlers"},
	ReasonDisclosure:  {"art. 55(3)", "第五十五条第（三）项", "公开个人信息", "discloses personal information publicly"},
	ReasonCrossBorder: {"art. 55(4)", "第五十五条第（四）项", "向境外提供个人信息", "provides personal information abroad"},
}

// reasonOrder is the order of art. 55.
var reasonOrder = []string{ReasonSensitive, ReasonAutomated, ReasonEntrusted, ReasonProvision, ReasonDisclosure, ReasonCrossBorder}

// Trigger is one reason one activity needs an assessment.
type Trigger struct {
	Activity string   `json:"activity"` // purpose id, or manifest.PublicDisclosureActivity
	Reason   string   `json:"reason"`   // one of the Reason constants
	Item     string   `json:"item"`     // the item of PIPL art. 55, "art. 55(1)"
	What     []string `json:"what"`     // the ids that make it so: categories, recipients, SDKs, transfers, locations
}

// String is the trigger as one line: "analytics: art. 55(3) provides
// personal information to other handlers (sdk umeng)".
func (t Trigger) String() string { return t.Activity + ": " + t.Describe("en") }

// Describe says why, in the language lang (zh-CN or en), without the activity.
func (t Trigger) Describe(lang string) string {
	info := reasonInfo[t.Reason]
	if manifest.TextKey(lang) != manifest.KeyEN {
		s := info.itemZH + "：" + info.zh
		if len(t.What) > 0 {
			s += "（" + strings.Join(t.What, "、") + "）"
		}
		return s
	}
	s := info.item + " " + info.en
	if len(t.What) > 0 {
		s += " (" + strings.Join(t.What, ", ") + ")"
	}
	return s
}

// home is the country personal information is collected in: the first
// controller's, else CN.
func home(m *manifest.Manifest) string {
	if len(m.Controllers) > 0 && m.Controllers[0].Country != "" {
		return m.Controllers[0].Country
	}
	return "CN"
}

// provisionKinds are the recipient kinds that are other handlers receiving
// personal information from the controller. Authorities receive it under
// the law, and user_directed recipients at the person's own direction.
var provisionKinds = []string{"affiliate", "independent_controller", "partner", "advertiser", "professional_adviser"}

// Categories lists the categories an activity processes: those collected
// for the purpose, given to its recipients and SDKs, or sent abroad for it.
func Categories(m *manifest.Manifest, purpose string) []string {
	var out []string
	for _, s := range m.Services {
		for _, c := range s.Collects {
			if slices.Contains(c.Purposes, purpose) {
				out = append(out, c.Categories...)
			}
		}
	}
	for _, r := range m.Recipients {
		if slices.Contains(r.Purposes, purpose) {
			out = append(out, r.Categories...)
		}
	}
	for _, s := range m.SDKs {
		if slices.Contains(s.Purposes, purpose) {
			out = append(out, s.Collects...)
		}
	}
	for _, x := range m.Storage.CrossBorder {
		if slices.Contains(x.Purposes, purpose) {
			out = append(out, x.Categories...)
		}
	}
	return sortedSet(out)
}

// Triggers lists every reason every activity of m needs an assessment, in
// the order of the purposes, then public disclosure; each activity's
// reasons in the order of art. 55.
func Triggers(m *manifest.Manifest) []Trigger {
	var out []Trigger
	for _, p := range m.Purposes {
		out = append(out, purposeTriggers(m, p)...)
	}
	if pd := m.Sharing.PublicDisclosure; pd != nil && !pd.Never && (len(pd.Cases) > 0 || pd.SeparateConsent) {
		out = append(out, Trigger{Activity: manifest.PublicDisclosureActivity, Reason: ReasonDisclosure, Item: reasonInfo[ReasonDisclosure].item})
	}
	return out
}

func purposeTriggers(m *manifest.Manifest, p manifest.Purpose) []Trigger {
	what := map[string][]string{}
	cats := Categories(m, p.ID)
	for _, c := range cats {
		if m.Sensitive(c) {
			what[ReasonSensitive] = append(what[ReasonSensitive], c)
		}
	}
	if p.AutomatedDecision || p.Automation != nil {
		what[ReasonAutomated] = []string{}
	}
	hm := home(m)
	abroad := func(country string) bool { return country != "" && country != hm }
	for _, r := range m.Recipients {
		if !slices.Contains(r.Purposes, p.ID) {
			continue
		}
		switch {
		case r.Kind == "entrusted_processor":
			what[ReasonEntrusted] = append(what[ReasonEntrusted], "recipient "+r.ID)
		case slices.Contains(provisionKinds, r.Kind):
			what[ReasonProvision] = append(what[ReasonProvision], "recipient "+r.ID)
		}
		if abroad(r.Country) {
			what[ReasonCrossBorder] = append(what[ReasonCrossBorder], "recipient "+r.ID)
		}
	}
	for _, s := range m.SDKs {
		if !slices.Contains(s.Purposes, p.ID) {
			continue
		}
		what[ReasonProvision] = append(what[ReasonProvision], "sdk "+s.ID)
		if abroad(s.Country) {
			what[ReasonCrossBorder] = append(what[ReasonCrossBorder], "sdk "+s.ID)
		}
	}
	for _, x := range m.Storage.CrossBorder {
		if slices.Contains(x.Purposes, p.ID) {
			what[ReasonCrossBorder] = append(what[ReasonCrossBorder], "transfer "+x.ID)
		}
	}
	for _, l := range m.Storage.Locations {
		if !abroad(l.Country) && !(l.Country == "" && l.Abroad) {
			continue
		}
		if len(l.Categories) == 0 && len(cats) > 0 || slices.ContainsFunc(l.Categories, func(c string) bool { return slices.Contains(cats, c) }) {
			what[ReasonCrossBorder] = append(what[ReasonCrossBorder], "location "+l.ID)
		}
	}
	var out []Trigger
	for _, r := range reasonOrder {
		if w, ok := what[r]; ok {
			out = append(out, Trigger{Activity: p.ID, Reason: r, Item: reasonInfo[r].item, What: sortedSet(w)})
		}
	}
	return out
}

// Activities lists the activities that need an assessment, in the order of
// Triggers, each once.
func Activities(ts []Trigger) []string {
	var out []string
	for _, t := range ts {
		if !slices.Contains(out, t.Activity) {
			out = append(out, t.Activity)
		}
	}
	return out
}

// material is what of an activity an assessment weighs: what is processed,
// on which basis, by whom and where. Names and wording are left out, so
// that rewording a purpose does not make its assessment due.
type material struct {
	Purpose     *purposeFacts        `json:"purpose,omitempty"`
	Collections []collectionFacts    `json:"collections,omitempty"`
	Recipients  []recipientFacts     `json:"recipients,omitempty"`
	SDKs        []sdkFacts           `json:"sdks,omitempty"`
	Transfers   []transferFacts      `json:"transfers,omitempty"`
	Locations   []locationFacts      `json:"locations,omitempty"`
	Retention   []retentionFacts     `json:"retention,omitempty"`
	Disclosure  *disclosureFacts     `json:"disclosure,omitempty"`
	Sensitive   []string             `json:"sensitive,omitempty"`
	Automation  *manifest.Automation `json:"automation,omitempty"`
}

type purposeFacts struct {
	ID              string            `json:"id"`
	Basis           string            `json:"basis"`
	Bases           map[string]string `json:"bases,omitempty"`
	SeparateConsent bool              `json:"separate_consent,omitempty"`
	Automated       bool              `json:"automated,omitempty"`
}

type collectionFacts struct {
	Service         string   `json:"service"`
	Categories      []string `json:"categories"`
	Necessity       string   `json:"necessity"`
	Sources         []string `json:"sources"`
	SeparateConsent bool     `json:"separate_consent,omitempty"`
}

type recipientFacts struct {
	ID              string   `json:"id"`
	Kind            string   `json:"kind"`
	Country         string   `json:"country,omitempty"`
	Categories      []string `json:"categories"`
	Deidentified    bool     `json:"deidentified,omitempty"`
	SeparateConsent bool     `json:"separate_consent,omitempty"`
}

type sdkFacts struct {
	ID       string   `json:"id"`
	Collects []string `json:"collects"`
	Country  string   `json:"country,omitempty"`
}

type transferFacts struct {
	ID         string   `json:"id"`
	To         []string `json:"to,omitempty"`
	Categories []string `json:"categories"`
	Recipient  string   `json:"recipient,omitempty"`
	Mechanism  string   `json:"mechanism"`
}

type locationFacts struct {
	ID         string   `json:"id"`
	Country    string   `json:"country,omitempty"`
	Abroad     bool     `json:"abroad,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Encrypted  bool     `json:"encrypted,omitempty"`
}

type retentionFacts struct {
	ID     string           `json:"id"`
	Period *manifest.Period `json:"period,omitempty"`
	Until  string           `json:"until,omitempty"`
	After  string           `json:"after"`
}

type disclosureFacts struct {
	SeparateConsent bool `json:"separate_consent,omitempty"`
	Cases           int  `json:"cases"`
}

// facts gathers the material content of one activity.
func facts(m *manifest.Manifest, activity string) material {
	if activity == manifest.PublicDisclosureActivity {
		var d disclosureFacts
		if pd := m.Sharing.PublicDisclosure; pd != nil && !pd.Never {
			d = disclosureFacts{SeparateConsent: pd.SeparateConsent, Cases: len(pd.Cases)}
		}
		return material{Disclosure: &d}
	}
	p, ok := m.Purpose(activity)
	if !ok {
		return material{}
	}
	var f material
	f.Purpose = &purposeFacts{ID: p.ID, Basis: p.Basis, Bases: p.Bases, SeparateConsent: p.SeparateConsent, Automated: p.AutomatedDecision}
	f.Automation = p.Automation
	for _, s := range m.Services {
		for _, c := range s.Collects {
			if slices.Contains(c.Purposes, p.ID) {
				f.Collections = append(f.Collections, collectionFacts{Service: s.ID, Categories: sortedSet(c.Categories), Necessity: c.Necessity, Sources: sortedSet(c.Sources), SeparateConsent: c.SeparateConsent})
			}
		}
	}
	for _, r := range m.Recipients {
		if slices.Contains(r.Purposes, p.ID) {
			f.Recipients = append(f.Recipients, recipientFacts{ID: r.ID, Kind: r.Kind, Country: r.Country, Categories: sortedSet(r.Categories), Deidentified: r.Deidentified, SeparateConsent: r.SeparateConsent})
		}
	}
	for _, s := range m.SDKs {
		if slices.Contains(s.Purposes, p.ID) {
			f.SDKs = append(f.SDKs, sdkFacts{ID: s.ID, Collects: sortedSet(s.Collects), Country: s.Country})
		}
	}
	for _, x := range m.Storage.CrossBorder {
		if slices.Contains(x.Purposes, p.ID) {
			f.Transfers = append(f.Transfers, transferFacts{ID: x.ID, To: sortedSet(x.To), Categories: sortedSet(x.Categories), Recipient: x.Recipient, Mechanism: x.Mechanism})
		}
	}
	cats := Categories(m, p.ID)
	for _, l := range m.Storage.Locations {
		if len(l.Categories) == 0 || slices.ContainsFunc(l.Categories, func(c string) bool { return slices.Contains(cats, c) }) {
			f.Locations = append(f.Locations, locationFacts{ID: l.ID, Country: l.Country, Abroad: l.Abroad, Categories: sortedSet(l.Categories), Encrypted: l.Encrypted})
		}
	}
	for _, r := range m.Retention {
		if slices.Contains(r.Purposes, p.ID) || slices.ContainsFunc(r.Categories, func(c string) bool { return slices.Contains(cats, c) }) {
			f.Retention = append(f.Retention, retentionFacts{ID: r.ID, Period: r.Period, Until: r.Until, After: r.After})
		}
	}
	for _, c := range cats {
		if m.Sensitive(c) {
			f.Sensitive = append(f.Sensitive, c)
		}
	}
	return f
}

// Digest fingerprints the material content of the activities: the
// categories collected for them, their basis, automation, recipients, SDKs,
// transfers, storage and retention. It is "sha256:" and the hex SHA-256 of
// their canonical JSON, the same whatever the order of activities.
func Digest(m *manifest.Manifest, activities []string) string {
	acts := sortedSet(activities)
	all := make(map[string]material, len(acts))
	for _, a := range acts {
		all[a] = facts(m, a)
	}
	b, err := json.Marshal(all) // maps marshal with sorted keys
	if err != nil {
		panic("pia: digest: " + err.Error()) // plain structs of strings
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// sortedSet returns the distinct values of list, sorted; nil for none.
func sortedSet(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}
