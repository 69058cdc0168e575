package check

import (
	"slices"
	"time"

	"github.com/custos-privacy/custos/internal/manifest"
)

// History is what decisions need from the versions published up to and
// including the one in force.
type History struct {
	Seq int64 // the version in force
	// Reconsent maps a ledger key (a purpose, or an act's key) to the
	// sequence number of the last version in force whose material change
	// made its consents stale.
	Reconsent map[string]int64
	// Accept maps a purpose on a basis other than consent to the last
	// version in force whose material change needs the subject's express
	// acceptance (acceptance: express_consent), with the instant it came
	// into force: people who were there before it must accept it.
	Accept map[string]Acceptance
}

// Acceptance is a version people must accept, and since when.
type Acceptance struct {
	Seq   int64
	Since time.Time
}

// Compile builds the decision policy for manifest m in force as described
// by h.
func Compile(m *manifest.Manifest, h History) *Policy { return NewPolicy(SpecOf(m, h)) }

// Spec is a decision policy written out: everything Compile reads from a
// manifest and its history, in a form other engines (the OPA comparison,
// benchmarks) can be given and NewPolicy compiles.
type Spec struct {
	Version    string `json:"version"`
	VersionSeq int64  `json:"version_seq"`
	// Jurisdictions are the jurisdiction ids of indexes 1, 2, …; index 0
	// is the manifest's general rules and is not listed.
	Jurisdictions []string      `json:"jurisdictions"`
	Minors        []MinorSpec   `json:"minors"` // by jurisdiction index, 0 first
	Purposes      []PurposeSpec `json:"purposes"`
	Acts          []ActSpec     `json:"acts"`
}

// MinorSpec is the treatment of minors in one jurisdiction.
type MinorSpec struct {
	Stance     string `json:"stance"`      // adults_only, guardian_consent, not_directed
	Age        int    `json:"age"`         // the threshold
	UnknownAge string `json:"unknown_age"` // adult, minor, ask
}

// PurposeSpec is what the policy says about one purpose.
type PurposeSpec struct {
	ID              string    `json:"id"`
	Bases           []string  `json:"bases"` // by jurisdiction index, 0 first
	Epoch           int64     `json:"epoch"`
	AcceptEpoch     int64     `json:"accept_epoch"`
	AcceptSince     time.Time `json:"accept_since"`
	Separate        bool      `json:"separate"`
	DirectMarketing bool      `json:"direct_marketing"`
	RefusedBy       []string  `json:"refused_by"` // gpc, dnt
}

// ActSpec is an act that may need its own separate consent.
type ActSpec struct {
	Kind     string   `json:"kind"` // recipient, transfer, disclosure
	ID       string   `json:"id"`
	Separate bool     `json:"separate"`
	Purposes []string `json:"purposes"` // the purposes it is declared for; nil: any
	Epoch    int64    `json:"epoch"`
}

// SpecOf reads the decision policy from a manifest and its history.
func SpecOf(m *manifest.Manifest, h History) Spec {
	sp := Spec{Version: m.Policy.Version, VersionSeq: h.Seq, Jurisdictions: m.JurisdictionIDs()}
	jurs := append([]string{""}, sp.Jurisdictions...)
	for _, j := range jurs {
		r := m.MinorRuleFor(j)
		sp.Minors = append(sp.Minors, MinorSpec{Stance: r.Stance, Age: r.AgeThreshold, UnknownAge: r.UnknownAge})
	}
	separate := SeparatePurposes(m)
	for _, mp := range m.Purposes {
		ps := PurposeSpec{ID: mp.ID, Epoch: h.Reconsent[mp.ID], Separate: separate[mp.ID], DirectMarketing: mp.DirectMarketing}
		for _, j := range jurs {
			ps.Bases = append(ps.Bases, mp.BasisIn(j))
		}
		if a, ok := h.Accept[mp.ID]; ok {
			ps.AcceptEpoch, ps.AcceptSince = a.Seq, a.Since
		}
		for _, sig := range []string{manifest.SignalGPC, manifest.SignalDNT} {
			if m.SignalRefuses(sig, mp.ID) {
				ps.RefusedBy = append(ps.RefusedBy, sig)
			}
		}
		sp.Purposes = append(sp.Purposes, ps)
	}
	for _, r := range m.Recipients {
		sp.Acts = append(sp.Acts, ActSpec{Kind: ActRecipient.String(), ID: r.ID, Separate: r.SeparateConsent, Purposes: r.Purposes,
			Epoch: h.Reconsent[ActKey(Act{ActRecipient, r.ID})]})
	}
	for _, x := range m.Storage.CrossBorder {
		sp.Acts = append(sp.Acts, ActSpec{Kind: ActTransfer.String(), ID: x.ID, Separate: x.SeparateConsent, Purposes: x.Purposes,
			Epoch: h.Reconsent[ActKey(Act{ActTransfer, x.ID})]})
	}
	if pd := m.Sharing.PublicDisclosure; pd != nil && !pd.Never {
		sp.Acts = append(sp.Acts, ActSpec{Kind: ActDisclosure.String(), Separate: pd.SeparateConsent, Epoch: h.Reconsent[KeyDisclosure]})
	}
	return sp
}

// NewPolicy compiles a written-out policy.
func NewPolicy(sp Spec) *Policy {
	p := &Policy{Version: sp.Version, VersionSeq: sp.VersionSeq, jurs: append([]string{""}, sp.Jurisdictions...),
		jurIndex: map[string]int{}, rules: make(map[string]*Rule, len(sp.Purposes)),
		recipients: map[string]*actRule{}, transfers: map[string]*actRule{}, spec: sp}
	for i, j := range sp.Jurisdictions {
		p.jurIndex[j] = i + 1
	}
	p.minors = make([]minorRule, len(p.jurs))
	for i := range p.minors {
		// A jurisdiction without a rule of its own takes the general one,
		// as a purpose without a basis of its own does.
		ms := MinorSpec{Stance: manifest.StanceNotDirected}
		switch {
		case i < len(sp.Minors):
			ms = sp.Minors[i]
		case len(sp.Minors) > 0:
			ms = sp.Minors[0]
		}
		mr := minorRule{age: ms.Age}
		switch ms.Stance {
		case manifest.StanceAdultsOnly:
			mr.stance = stanceAdultsOnly
		case manifest.StanceGuardianConsent:
			mr.stance = stanceGuardian
		}
		if ms.Age <= 0 {
			mr.stance = stanceNone
		}
		switch ms.UnknownAge {
		case "minor":
			mr.unknown = unknownMinor
		case "ask":
			mr.unknown = unknownAsk
		}
		p.minors[i] = mr
	}
	for _, ps := range sp.Purposes {
		r := &Rule{ID: ps.ID, Epoch: ps.Epoch, DirectMarketing: ps.DirectMarketing, objectionKey: ObjectionKey(ps.ID),
			acceptEpoch: ps.AcceptEpoch, acceptSince: ps.AcceptSince, byJur: make([]variant, len(p.jurs))}
		for i := range r.byJur {
			b := ""
			switch {
			case i < len(ps.Bases):
				b = ps.Bases[i]
			case len(ps.Bases) > 0:
				b = ps.Bases[0]
			}
			r.byJur[i] = variant{basis: b, reason: "legal_basis:" + b, consent: b == "consent",
				objectable: manifest.ObjectableBasis(b), statutory: manifest.StatutoryBasis(b)}
		}
		r.Basis, r.Consent = r.byJur[0].basis, r.byJur[0].consent
		r.Separate = ps.Separate && slices.ContainsFunc(r.byJur, func(v variant) bool { return v.consent })
		for _, sig := range ps.RefusedBy {
			r.RefusedBy |= signalBit(sig)
		}
		p.rules[ps.ID] = r
	}
	for _, as := range sp.Acts {
		ar := &actRule{key: ActKey(Act{ParseActKind(as.Kind), as.ID}), separate: as.Separate, epoch: as.Epoch}
		if as.Purposes != nil {
			ar.purposes = map[string]bool{}
			for _, pid := range as.Purposes {
				ar.purposes[pid] = true
			}
		}
		switch ParseActKind(as.Kind) {
		case ActRecipient:
			p.recipients[as.ID] = ar
		case ActTransfer:
			p.transfers[as.ID] = ar
		case ActDisclosure:
			p.disclosure = ar
		}
	}
	return p
}

// SeparatePurposes lists the consent purposes whose consent must be a
// separate consent of its own (PIPL art. 29): the purpose says so, or it
// covers sensitive personal information. Acts that need separate consent
// (provision to a recipient, a cross-border transfer, public disclosure)
// have their own ledger keys instead (ActKey).
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
	for id := range out {
		p, ok := m.Purpose(id)
		if !ok || !slices.Contains(p.AllBases(), "consent") {
			delete(out, id)
		}
	}
	return out
}
