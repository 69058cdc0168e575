package manifest

import (
	"slices"
	"strings"
)

// This file answers the questions about people and purposes that the
// decision point, the renderer and the pages all ask, so that each rule is
// read from the manifest in one place.

// BasisIn returns the purpose's legal basis for people of jurisdiction jur;
// "" (or a jurisdiction bases does not name) gives the general basis.
func (p Purpose) BasisIn(jur string) string {
	if b, ok := p.Bases[jur]; ok && jur != "" {
		return b
	}
	return p.Basis
}

// AllBases lists every basis the purpose rests on somewhere: the general
// one first, then the others in jurisdiction order, without repeats.
func (p Purpose) AllBases() []string {
	out := []string{p.Basis}
	keys := make([]string, 0, len(p.Bases))
	for j := range p.Bases {
		keys = append(keys, j)
	}
	slices.Sort(keys)
	for _, j := range keys {
		if b := p.Bases[j]; !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// ObjectableBasis reports whether people may object to processing on this
// basis (GDPR art. 21(1)): legitimate interests or a task in the public
// interest. Consent is withdrawn instead; the other bases carry no right
// to object.
func ObjectableBasis(basis string) bool {
	return basis == "legitimate_interests" || basis == "public_interest"
}

// StatutoryBasis reports whether the law itself requires the processing
// whoever the person is (a legal obligation, vital interests, a task in the
// public interest): a restriction of processing, the rules about minors
// and policy acceptance do not stop it, since refusing would break the law
// or endanger someone.
func StatutoryBasis(basis string) bool {
	switch basis {
	case "legal_obligation", "vital_interests", "public_interest":
		return true
	}
	return false
}

// AppliesIn reports whether the manifest's rules apply to people in
// jurisdiction jur: it names the jurisdiction, or a controller is
// established in that country.
func (m *Manifest) AppliesIn(jur string) bool {
	for _, j := range m.Jurisdiction {
		if j.ID == jur {
			return true
		}
	}
	for _, c := range m.Controllers {
		if c.Country == jur {
			return true
		}
	}
	return false
}

// JurisdictionIDs lists the jurisdictions the manifest names, in order.
func (m *Manifest) JurisdictionIDs() []string {
	out := make([]string, len(m.Jurisdiction))
	for i, j := range m.Jurisdiction {
		out[i] = j.ID
	}
	return out
}

// Minor stances as MinorRuleFor resolves them.
const (
	StanceAdultsOnly      = "adults_only"
	StanceGuardianConsent = "guardian_consent"
	StanceNotDirected     = "not_directed"
)

// MinorRuleFor returns the treatment of minors in jurisdiction jur, with
// the general rule filling what the jurisdiction's does not say. An
// adults-only stance without a threshold serves people from 18. A
// guardian_consent stance without guardian_consent set (or a threshold of
// 0) resolves to not_directed: no rule at run time. The unknown-age rule
// defaults to adult only where the manifest states no stance that needs
// it (validation requires it otherwise).
func (m *Manifest) MinorRuleFor(jur string) MinorRule {
	mi := m.Minors
	r := MinorRule{Jurisdiction: jur, Stance: mi.Stance, AgeThreshold: mi.AgeThreshold, UnknownAge: mi.UnknownAge}
	for _, j := range mi.Jurisdictions {
		if j.Jurisdiction != jur || jur == "" {
			continue
		}
		if j.Stance != "" {
			r.Stance = j.Stance
		}
		if j.AgeThreshold != 0 {
			r.AgeThreshold = j.AgeThreshold
		}
		if j.UnknownAge != "" {
			r.UnknownAge = j.UnknownAge
		}
	}
	if r.Stance == StanceAdultsOnly && r.AgeThreshold <= 0 {
		r.AgeThreshold = 18 // adulthood, under PRC law and most others
	}
	if r.AgeThreshold <= 0 || r.Stance == StanceGuardianConsent && !mi.GuardianConsent {
		r.Stance = StanceNotDirected
	}
	if r.UnknownAge == "" {
		r.UnknownAge = "adult"
	}
	return r
}

// Browser signals.
const (
	SignalGPC = "gpc"
	SignalDNT = "dnt"
)

// Signal stances.
const (
	SignalHonour          = "honour"
	SignalIgnore          = "ignore"
	SignalBrowserSpecific = "browser_specific"
)

// Honoured reports whether the signal refuses anything: the manifest
// honours it and lists what it refuses.
func (s Signal) Honoured() bool { return s.Stance == SignalHonour && len(s.Refuses) > 0 }

// SignalRule returns what the manifest says about a browser signal, and
// whether it says anything.
func (m *Manifest) SignalRule(signal string) (Signal, bool) {
	for _, s := range m.Signals {
		if s.Signal == signal {
			return s, true
		}
	}
	return Signal{}, false
}

// SignalRefuses reports whether an honoured signal refuses purpose.
func (m *Manifest) SignalRefuses(signal, purpose string) bool {
	s, ok := m.SignalRule(signal)
	return ok && s.Honoured() && slices.Contains(s.Refuses, purpose)
}

// DefaultLanguage is the language pages and messages use when a person
// states none: the prevailing language if the policy names one, else the
// first language it is published in.
func (m *Manifest) DefaultLanguage() string {
	if m.Policy.Prevailing != "" {
		return m.Policy.Prevailing
	}
	if len(m.Policy.Languages) > 0 {
		return m.Policy.Languages[0]
	}
	return "zh-CN"
}

// StatedBases lists, in first-mention order, the legal bases the policy
// itself states: those of purposes whose basis is not inferred (in every
// jurisdiction), and those listed in legal_bases.
func (m *Manifest) StatedBases() []string {
	var out []string
	add := func(b string) {
		if b != "" && !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	for _, p := range m.Purposes {
		if p.BasisInferred {
			continue
		}
		for _, b := range p.AllBases() {
			add(b)
		}
	}
	for _, b := range m.LegalBases {
		add(b)
	}
	return out
}

// RefusalGrounds lists every ground on which a rights request may be
// refused: the policy's refusal_grounds, then the grounds its limits text
// states (limit_grounds), as built-in entries.
func (m *Manifest) RefusalGrounds() []Ref {
	out := slices.Clone(m.Rights.RefusalGrounds)
	for _, id := range m.Rights.LimitGrounds {
		if !slices.ContainsFunc(out, func(r Ref) bool { return r.ID == id }) {
			out = append(out, Ref{ID: id})
		}
	}
	return out
}

// RefusalGroundsFor lists every ground on which a request of right under
// jurisdiction (a jurisdictions[].id, "" when the policy declares none)
// may be refused: the policy's own (RefusalGrounds), the limits the
// conditions of that right state where it applies (rights.offered[].
// limit_grounds), then those the jurisdiction's law gives (built-in
// statutory_refusal_grounds: CN brings GB/T 35273-2020 §8.7 and the PIPL,
// EU the GDPR) whether or not the policy lists them. A policy declaring
// no jurisdictions is under the law of the countries its controllers are
// established in (controllers[].country: CN brings CN's grounds, a member
// state of the EU the GDPR's); a controller of no stated country brings
// none.
func (m *Manifest) RefusalGroundsFor(right, jurisdiction string) []Ref {
	out := m.RefusalGrounds()
	add := func(id string) {
		if !slices.ContainsFunc(out, func(r Ref) bool { return r.ID == id }) {
			out = append(out, Ref{ID: id})
		}
	}
	for _, o := range m.Rights.Offered {
		if o.Right == right && (len(o.Jurisdictions) == 0 || slices.Contains(o.Jurisdictions, jurisdiction)) {
			for _, id := range o.LimitGrounds {
				add(id)
			}
		}
	}
	var laws []string
	switch {
	case len(m.Jurisdiction) == 0:
		for _, c := range m.Controllers {
			if law := lawOf(c.Country); law != "" {
				laws = append(laws, law)
			}
		}
	case jurisdiction != "" && slices.ContainsFunc(m.Jurisdiction, func(j JurisdictionRules) bool { return j.ID == jurisdiction }):
		laws = []string{jurisdiction}
	}
	for _, sg := range builtins().StatutoryRefusalGrounds {
		if slices.Contains(laws, sg.Jurisdiction) {
			for _, id := range sg.Grounds {
				add(id)
			}
		}
	}
	return out
}

// euMembers are the member states of the European Union (ISO 3166-1).
var euMembers = []string{"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
	"LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}

// lawOf is the jurisdiction of the built-in statutory grounds whose law
// binds a controller established in country: the country itself where
// the grounds name it (CN), EU for a member state; "" for none.
func lawOf(country string) string {
	country = strings.ToUpper(country)
	switch {
	case country == "":
		return ""
	case slices.Contains(euMembers, country):
		return "EU"
	case slices.ContainsFunc(builtins().StatutoryRefusalGrounds, func(g StatutoryGrounds) bool { return g.Jurisdiction == country }):
		return country
	}
	return ""
}

// RefusalGround finds a ground a request of right under jurisdiction may
// be refused on (RefusalGroundsFor) and gives its words: the policy's own
// where it words the ground, the built-in ones otherwise.
func (m *Manifest) RefusalGround(right, jurisdiction, id string) (Text, bool) {
	for _, g := range m.RefusalGroundsFor(right, jurisdiction) {
		if g.ID == id {
			return ResolveRef(g, builtins().RefusalGrounds), true
		}
	}
	return nil, false
}
