// Package transfer keeps the register of an organisation's cross-border
// transfers of personal information, counts the people whose information
// each transfer carries abroad in a calendar year, and tells which legal
// mechanism those numbers call for under the CAC Provisions on Promoting
// and Regulating Cross-Border Data Flows (2024): so that an organisation
// learns before a threshold is crossed that its standard contract or
// exemption will no longer do.
package transfer

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Kinds of flow: where in the manifest a flow comes from.
const (
	KindCrossBorder = "cross_border" // a storage.cross_border entry
	KindRecipient   = "recipient"    // a recipient abroad no cross_border entry names
	KindSDK         = "sdk"          // an SDK whose provider processes the data abroad
	KindLocation    = "location"     // a storage location abroad
)

// Mechanisms a flow may need, weakest first.
const (
	MechanismExempt     = "exemption"
	MechanismContract   = "standard_contract" // or certification
	MechanismAssessment = "security_assessment"
)

// DefaultFrom is the country of collection when the manifest names none.
const DefaultFrom = "CN"

// Flow is one transfer of personal information out of the country of
// collection.
type Flow struct {
	ID                  string   `json:"id"`
	Kind                string   `json:"kind"`
	From                string   `json:"from"`
	To                  []string `json:"to,omitempty"`
	Destination         string   `json:"destination,omitempty"` // the policy's words, when it names no country
	Recipient           string   `json:"recipient,omitempty"`
	RecipientName       string   `json:"recipient_name,omitempty"`
	Categories          []string `json:"categories"`
	SensitiveCategories []string `json:"sensitive_categories,omitempty"`
	Purposes            []string `json:"purposes,omitempty"`
	// Mechanism is the legal mechanism the manifest declares; "" when
	// no cross_border entry declares one.
	Mechanism       string `json:"mechanism"`
	SeparateConsent bool   `json:"separate_consent"`

	path string // where the flow is declared in the manifest
}

// Sensitive reports whether the flow carries sensitive personal information.
func (f Flow) Sensitive() bool { return len(f.SensitiveCategories) > 0 }

// Ordinary reports whether the flow carries personal information other
// than sensitive (all of it when it names no category).
func (f Flow) Ordinary() bool {
	return len(f.Categories) == 0 || len(f.Categories) > len(f.SensitiveCategories)
}

// Path is where the flow is declared in the manifest (storage.cross_border[0]).
func (f Flow) Path() string { return f.path }

// Register is the manifest's transfers, in manifest order: cross_border
// entries, then recipients, SDKs and storage locations abroad.
type Register struct {
	Flows      []Flow     `json:"flows"`
	Thresholds Thresholds `json:"thresholds"`
}

// Flow returns a flow by id.
func (r *Register) Flow(id string) (Flow, bool) {
	i := slices.IndexFunc(r.Flows, func(f Flow) bool { return f.ID == id })
	if i < 0 {
		return Flow{}, false
	}
	return r.Flows[i], true
}

// IDs returns the flows' ids.
func (r *Register) IDs() []string {
	out := make([]string, len(r.Flows))
	for i, f := range r.Flows {
		out[i] = f.ID
	}
	return out
}

// Build reads the register from a manifest: a pure function of it.
func Build(m *manifest.Manifest) *Register {
	r := &Register{Flows: []Flow{}, Thresholds: ThresholdsOf(m)}
	lang := m.DefaultLanguage()
	// The country of collection: the first controller's, else CN.
	home := DefaultFrom
	if len(m.Controllers) > 0 && m.Controllers[0].Country != "" {
		home = m.Controllers[0].Country
	}
	abroad := func(country string) bool { return country != "" && country != home }
	named := map[string]bool{} // recipients a cross_border entry names
	for i, c := range m.Storage.CrossBorder {
		from := c.From
		if from == "" {
			from = DefaultFrom // as the manifest's validation reads it
		}
		f := Flow{ID: c.ID, Kind: KindCrossBorder, From: from, To: c.To, Destination: text(c.ToText, lang), Recipient: c.Recipient,
			Categories: c.Categories, Purposes: c.Purposes, Mechanism: c.Mechanism, SeparateConsent: c.SeparateConsent,
			path: fmt.Sprintf("storage.cross_border[%d]", i)}
		if rc, ok := m.Recipient(c.Recipient); ok {
			f.RecipientName = text(rc.Name, lang)
		}
		named[c.Recipient] = c.Recipient != ""
		r.add(m, f)
	}
	for i, rc := range m.Recipients {
		if named[rc.ID] || !abroad(rc.Country) {
			continue
		}
		r.add(m, Flow{ID: KindRecipient + ":" + rc.ID, Kind: KindRecipient, From: home, To: []string{rc.Country}, Recipient: rc.ID,
			RecipientName: text(rc.Name, lang), Categories: rc.Categories, Purposes: rc.Purposes, SeparateConsent: rc.SeparateConsent,
			path: fmt.Sprintf("recipients[%d]", i)})
	}
	for i, s := range m.SDKs {
		if !abroad(s.Country) {
			continue
		}
		r.add(m, Flow{ID: KindSDK + ":" + s.ID, Kind: KindSDK, From: home, To: []string{s.Country}, RecipientName: text(s.Company, lang),
			Categories: s.Collects, Purposes: s.Purposes, path: fmt.Sprintf("sdks[%d]", i)})
	}
	for i, l := range m.Storage.Locations {
		if !abroad(l.Country) && !(l.Country == "" && l.Abroad) {
			continue
		}
		f := Flow{ID: KindLocation + ":" + l.ID, Kind: KindLocation, From: home, Destination: text(l.Where, lang),
			Categories: l.Categories, path: fmt.Sprintf("storage.locations[%d]", i)}
		if l.Country != "" {
			f.To = []string{l.Country}
		}
		r.add(m, f)
	}
	return r
}

func (r *Register) add(m *manifest.Manifest, f Flow) {
	for _, c := range f.Categories {
		if sensitive(m, c) {
			f.SensitiveCategories = append(f.SensitiveCategories, c)
		}
	}
	r.Flows = append(r.Flows, f)
}

// sensitive reports whether a category is sensitive or holds a sensitive
// one (identity holds identity.id_card): a flow naming the broader
// category may carry it.
func sensitive(m *manifest.Manifest, id string) bool {
	if m.Sensitive(id) {
		return true
	}
	for _, c := range m.Categories {
		if c.Sensitive && strings.HasPrefix(c.ID, id+".") {
			return true
		}
	}
	for _, c := range builtinSensitive() {
		if strings.HasPrefix(c, id+".") {
			return true
		}
	}
	return false
}

func text(t manifest.Text, lang string) string { return t.In(lang) }

// builtinSensitive is the ids of the built-in sensitive categories.
var builtinSensitive = sync.OnceValue(func() []string {
	var out []string
	for _, c := range manifest.BuiltinVocabulary().Categories {
		if c.Sensitive {
			out = append(out, c.ID)
		}
	}
	return out
})
