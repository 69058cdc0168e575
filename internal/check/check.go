// Package check answers the hot-path question "may this person's data be
// processed for this purpose?" from a compiled policy and a snapshot of the
// person's consent state. It does no I/O and allocates nothing, so callers can
// embed it in-process.
package check

import (
	"time"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Reason codes of a decision. Legal-basis decisions carry "legal_basis:<basis>".
const (
	ReasonConsent        = "consent"
	ReasonNoConsent      = "no_consent"
	ReasonWithdrawn      = "withdrawn"
	ReasonReconsent      = "reconsent_required"
	ReasonGuardian       = "guardian_required"
	ReasonRestricted     = "restricted"
	ReasonUnknownPurpose = "unknown_purpose"
)

// Rule is what the policy says about one purpose.
type Rule struct {
	ID      string
	Basis   string // manifest basis: consent, contract, legal_obligation, …
	Consent bool   // processing needs the subject's consent
	// Epoch is the sequence number of the policy version from which consents
	// for this purpose count; earlier ones must be given again.
	Epoch int64
	// Signals marks purposes a browser opt-out signal (GPC/DNT) withdraws.
	Signals bool
	// Separate is true when consent must be a separate consent.
	Separate bool
	// SurvivesRestriction is true for bases that a restriction of processing
	// does not stop (a legal obligation, vital or public interest).
	SurvivesRestriction bool

	basisReason string
}

// Policy is a manifest compiled for decisions.
type Policy struct {
	Version     string // policy version label
	VersionSeq  int64  // its sequence number in the published history
	GuardianAge int    // subjects younger need a guardian's consent; 0 = no such rule
	rules       map[string]*Rule
}

// Compile builds the decision policy for manifest m published as version
// sequence seq. epochs maps purpose ids to the sequence number of the last
// version whose change made their consents stale.
func Compile(m *manifest.Manifest, seq int64, epochs map[string]int64) *Policy {
	p := &Policy{Version: m.Policy.Version, VersionSeq: seq, rules: make(map[string]*Rule, len(m.Purposes))}
	if m.Minors.GuardianConsent && m.Minors.AgeThreshold > 0 {
		p.GuardianAge = m.Minors.AgeThreshold
	}
	separate := SeparatePurposes(m)
	for _, mp := range m.Purposes {
		r := &Rule{
			ID:                  mp.ID,
			Basis:               mp.Basis,
			Consent:             mp.Basis == "consent",
			Epoch:               epochs[mp.ID],
			Signals:             len(mp.Signals) > 0,
			Separate:            separate[mp.ID],
			SurvivesRestriction: mp.Basis == "legal_obligation" || mp.Basis == "vital_interests" || mp.Basis == "public_interest",
			basisReason:         "legal_basis:" + mp.Basis,
		}
		p.rules[mp.ID] = r
	}
	return p
}

// Rule returns the rule for a purpose.
func (p *Policy) Rule(purpose string) (*Rule, bool) {
	r, ok := p.rules[purpose]
	return r, ok
}

// Rules returns every rule, in no particular order.
func (p *Policy) Rules() []*Rule {
	out := make([]*Rule, 0, len(p.rules))
	for _, r := range p.rules {
		out = append(out, r)
	}
	return out
}

// Consent is a subject's current consent for one purpose: the latest ledger event.
type Consent struct {
	Granted    bool  // latest event is a grant
	ByGuardian bool  // given by the subject's guardian
	VersionSeq int64 // policy version sequence the event was recorded under
}

// Subject is a snapshot of one person's state.
type Subject struct {
	Known      bool
	Restricted bool
	// MinorUntil is when the subject reaches the guardian age; zero when the
	// age is unknown or the subject is an adult.
	MinorUntil time.Time
	GuardianID string // the registered guardian, if any
	Consents   map[string]Consent
}

// Decision is the answer for one purpose.
type Decision struct {
	Purpose string `json:"purpose"`
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

// Decide answers whether s's data may be processed for purpose at time now.
// A nil subject is an unknown person.
func (p *Policy) Decide(s *Subject, purpose string, now time.Time) Decision {
	r, ok := p.rules[purpose]
	if !ok {
		return Decision{purpose, false, ReasonUnknownPurpose}
	}
	if s != nil && s.Restricted && !r.SurvivesRestriction {
		return Decision{purpose, false, ReasonRestricted}
	}
	if !r.Consent {
		return Decision{purpose, true, r.basisReason}
	}
	minor := s != nil && p.GuardianAge > 0 && now.Before(s.MinorUntil)
	var c Consent
	var found bool
	if s != nil {
		c, found = s.Consents[purpose]
	}
	switch {
	case !found:
		if minor {
			return Decision{purpose, false, ReasonGuardian}
		}
		return Decision{purpose, false, ReasonNoConsent}
	case !c.Granted:
		return Decision{purpose, false, ReasonWithdrawn}
	case c.VersionSeq < r.Epoch:
		return Decision{purpose, false, ReasonReconsent}
	case minor && !c.ByGuardian:
		return Decision{purpose, false, ReasonGuardian}
	}
	return Decision{purpose, true, ReasonConsent}
}

// Decide is Policy.Decide as a function.
func Decide(p *Policy, s *Subject, purpose string, now time.Time) Decision {
	return p.Decide(s, purpose, now)
}

// SeparatePurposes lists the consent purposes whose consent must be a separate
// consent (PIPL art. 23, 25, 29, 39): the purpose says so, or it covers
// sensitive personal information, provision to another processor that asks
// separately, public disclosure that needs separate consent, or a cross-border
// transfer that needs separate consent.
func SeparatePurposes(m *manifest.Manifest) map[string]bool {
	out := map[string]bool{}
	mark := func(ids []string) {
		for _, id := range ids {
			out[id] = true
		}
	}
	for _, p := range m.Purposes {
		if p.SeparateConsent {
			out[p.ID] = true
		}
	}
	for _, s := range m.Services {
		for _, c := range s.Collects {
			sensitive := c.SeparateConsent
			for _, cat := range c.Categories {
				if m.Sensitive(cat) {
					sensitive = true
				}
			}
			if sensitive {
				mark(c.Purposes)
			}
		}
	}
	for _, sdk := range m.SDKs {
		for _, cat := range sdk.Collects {
			if m.Sensitive(cat) {
				mark(sdk.Purposes)
			}
		}
	}
	for _, r := range m.Recipients {
		if r.SeparateConsent {
			mark(r.Purposes)
		}
	}
	for _, x := range m.Storage.CrossBorder {
		if x.SeparateConsent {
			mark(x.Purposes)
		}
	}
	for id := range out {
		if p, ok := m.Purpose(id); !ok || p.Basis != "consent" {
			delete(out, id)
		}
	}
	return out
}

// NewPolicy builds a policy from rules directly, for callers that hold a
// compiled policy in another form (benchmarks, other engines' parity tests).
func NewPolicy(version string, seq int64, guardianAge int, rules []Rule) *Policy {
	p := &Policy{Version: version, VersionSeq: seq, GuardianAge: guardianAge, rules: make(map[string]*Rule, len(rules))}
	for i := range rules {
		r := rules[i]
		r.Consent = r.Basis == "consent"
		r.basisReason = "legal_basis:" + r.Basis
		p.rules[r.ID] = &r
	}
	return p
}
