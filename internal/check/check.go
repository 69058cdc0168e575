// Package check answers the hot-path question "may this person's data be
// processed for this purpose (and, where it matters, provided to this
// recipient, transferred abroad or disclosed)?" from a compiled policy and a
// snapshot of the person's ledger state. It does no I/O and allocates
// nothing, so callers can embed it in-process.
//
// The rules, in the order Decide applies them (docs/server.md has the
// table with the manifest field behind each):
//
//  1. a purpose the policy does not know: unknown_purpose;
//  2. restriction of processing stops every basis but a legal obligation,
//     vital interests and a public task: restricted;
//  3. minors (not for the statutory bases): the stance and age threshold of
//     the subject's jurisdiction; adults_only answers minor_not_served,
//     guardian_consent answers guardian_consent_required until the guardian
//     has accepted the policy (other bases) or consented (consent); a
//     person of unknown age is an adult, a minor or asked for (age_unknown)
//     as the manifest says;
//  4. after a material change under express_consent, a purpose on another
//     basis than consent answers policy_acceptance_required for people who
//     were there before the change, until they accept the new version;
//  5. legitimate interests and public task: an objection answers objected,
//     unless an operator recorded compelling grounds (objection_overridden);
//     never for direct marketing;
//  6. consent: no_consent, withdrawn, reconsent_required (a material change
//     since the grant), guardian_consent_required (a minor's own grant);
//  7. an act that asks for its own separate consent (a recipient, a
//     cross-border transfer, public disclosure): not_declared when the
//     policy does not name it for the purpose, else
//     separate_consent_required until that consent exists.
package check

import (
	"strconv"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Reason codes of a decision. Decisions on a basis other than consent carry
// "legal_basis:<basis>".
const (
	ReasonConsent         = "consent"
	ReasonNoConsent       = "no_consent"
	ReasonWithdrawn       = "withdrawn"
	ReasonReconsent       = "reconsent_required"
	ReasonGuardian        = "guardian_consent_required"
	ReasonMinorNotServed  = "minor_not_served"
	ReasonAgeUnknown      = "age_unknown"
	ReasonRestricted      = "restricted"
	ReasonUnknownPurpose  = "unknown_purpose"
	ReasonObjected        = "objected"
	ReasonOverridden      = "objection_overridden"
	ReasonAcceptance      = "policy_acceptance_required"
	ReasonSeparate        = "separate_consent_required"
	ReasonSeparateConsent = "separate_consent"
	ReasonNotDeclared     = "not_declared"
)

// Reasons lists every reason code but the legal_basis:<basis> family.
var Reasons = []string{ReasonConsent, ReasonNoConsent, ReasonWithdrawn, ReasonReconsent, ReasonGuardian, ReasonMinorNotServed,
	ReasonAgeUnknown, ReasonRestricted, ReasonUnknownPurpose, ReasonObjected, ReasonOverridden, ReasonAcceptance,
	ReasonSeparate, ReasonSeparateConsent, ReasonNotDeclared}

// Ledger keys other than purpose ids.
const (
	KeyPolicy     = "policy"     // acceptances of a policy version
	KeyDisclosure = "disclosure" // separate consent to public disclosure
	prefixObject  = "objection:" // objection:<purpose>
	prefixRecip   = "recipient:" // recipient:<id>
	prefixXfer    = "transfer:"  // transfer:<id>
)

// ObjectionKey is the ledger key of objections to a purpose.
func ObjectionKey(purpose string) string { return prefixObject + purpose }

// KeyKind is what a ledger key names.
type KeyKind uint8

// Kinds of ledger key.
const (
	KeyOfPurpose    KeyKind = iota // a purpose's consent: the key is the purpose id
	KeyOfObjection                 // objection:<purpose>
	KeyOfAct                       // recipient:<id>, transfer:<id> or disclosure
	KeyOfAcceptance                // policy
	KeyOfNothing                   // a kind Custos does not know, such as other:<id>
)

// ParseKey says what a ledger key names: for an objection, the purpose;
// for an act's separate consent, the act. It is the inverse of
// ObjectionKey and ActKey.
func ParseKey(k string) (kind KeyKind, purpose string, act Act) {
	switch k {
	case KeyPolicy:
		return KeyOfAcceptance, "", Act{}
	case KeyDisclosure:
		return KeyOfAct, "", Act{Kind: ActDisclosure}
	}
	prefix, id, found := strings.Cut(k, ":")
	if !found {
		return KeyOfPurpose, k, Act{}
	}
	switch prefix + ":" {
	case prefixObject:
		return KeyOfObjection, id, Act{}
	case prefixRecip:
		return KeyOfAct, "", Act{Kind: ActRecipient, ID: id}
	case prefixXfer:
		return KeyOfAct, "", Act{Kind: ActTransfer, ID: id}
	}
	return KeyOfNothing, "", Act{}
}

// ActKey is the ledger key of the separate consent an act needs.
func ActKey(a Act) string {
	switch a.Kind {
	case ActRecipient:
		return prefixRecip + a.ID
	case ActTransfer:
		return prefixXfer + a.ID
	case ActDisclosure:
		return KeyDisclosure
	}
	return ""
}

// Action is the last ledger event for a key.
type Action uint8

// Ledger actions.
const (
	ActionNone     Action = iota
	ActionGrant           // consent given
	ActionWithdraw        // consent withdrawn
	ActionObject          // objection to a purpose on legitimate interests or a public task
	ActionLift            // the subject lifted their objection
	ActionOverride        // an operator recorded compelling grounds against the objection
	ActionAccept          // a policy version accepted (VersionSeq is the version)
)

// actionNames are the ledger's names of the actions.
var actionNames = [...]string{ActionGrant: "grant", ActionWithdraw: "withdraw", ActionObject: "object",
	ActionLift: "lift", ActionOverride: "override", ActionAccept: "accept"}

// ParseAction maps a ledger action name to its Action; ActionNone for
// any other.
func ParseAction(s string) Action {
	for a, name := range actionNames {
		if a > 0 && name == s {
			return Action(a)
		}
	}
	return ActionNone
}

// String is the action's ledger name; "" for ActionNone.
func (a Action) String() string {
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return ""
}

// Consent is a subject's current state for one ledger key: its last event.
type Consent struct {
	Action     Action
	ByGuardian bool  // recorded by the subject's guardian
	VersionSeq int64 // policy version in force when recorded; for accept, the version accepted
}

// Granted reports whether the last event granted consent.
func (c Consent) Granted() bool { return c.Action == ActionGrant }

// Subject is a snapshot of one person's state under one compiled policy
// (its jurisdiction index and age facts are the policy's).
type Subject struct {
	Known      bool
	Restricted bool
	// Jurisdiction is the index of the subject's jurisdiction in the policy
	// (Policy.Jurisdiction); 0 is the manifest's general rules.
	Jurisdiction int
	// MinorUntil is when the subject reaches the age threshold of their
	// jurisdiction; zero for an adult. AgeUnknown is set when neither a
	// birth date nor an age band tells (Policy.Age computes both).
	MinorUntil time.Time
	AgeUnknown bool
	GuardianID string // the registered guardian, if any
	CreatedAt  time.Time
	Consents   map[string]Consent // by ledger key
}

// ActKind is a kind of act that may need a separate consent of its own.
type ActKind uint8

// Act kinds.
const (
	ActNone       ActKind = iota
	ActRecipient          // provision to a recipient (PIPL art. 23)
	ActTransfer           // a cross-border transfer (PIPL art. 39)
	ActDisclosure         // public disclosure (PIPL art. 25)
)

var actKindNames = [...]string{ActRecipient: "recipient", ActTransfer: "transfer", ActDisclosure: "disclosure"}

// ParseActKind maps an act kind's name (recipient, transfer, disclosure)
// to its ActKind; ActNone for any other.
func ParseActKind(s string) ActKind {
	for k, name := range actKindNames {
		if k > 0 && name == s {
			return ActKind(k)
		}
	}
	return ActNone
}

// String is the act kind's name; "" for ActNone.
func (k ActKind) String() string {
	if int(k) < len(actKindNames) {
		return actKindNames[k]
	}
	return ""
}

// Act is what a decision is about besides a purpose: providing the data to
// recipient ID, transferring it abroad under cross-border entry ID, or
// disclosing it publicly.
type Act struct {
	Kind ActKind
	ID   string // recipient or transfer id; empty for disclosure
}

// Decision is the answer for one purpose.
type Decision struct {
	Purpose string `json:"purpose"`
	Allowed bool   `json:"allowed"`
	Reason  string `json:"reason"`
}

// Signal bits, for Rule.RefusedBy.
const (
	SignalGPC uint8 = 1 << iota
	SignalDNT
)

func signalBit(signal string) uint8 {
	switch signal {
	case manifest.SignalGPC:
		return SignalGPC
	case manifest.SignalDNT:
		return SignalDNT
	}
	return 0
}

// RefusedBySignal reports whether the browser signal (gpc, dnt) refuses
// the purpose: the manifest honours it and lists the purpose.
func (r *Rule) RefusedBySignal(signal string) bool { return r.RefusedBy&signalBit(signal) != 0 }

// Rule is what the policy says about one purpose.
type Rule struct {
	ID string
	// Basis and Consent are the general rule (jurisdiction 0); BasisIn
	// and ConsentIn answer for a jurisdiction.
	Basis   string
	Consent bool
	// Epoch is the sequence number of the policy version from which
	// consents for this purpose count; earlier ones must be given again.
	Epoch int64
	// Separate is true when consent for the purpose must be a separate
	// consent (sensitive information, or the purpose says so).
	Separate bool
	// DirectMarketing purposes take no override of an objection.
	DirectMarketing bool
	// RefusedBy has a bit per browser signal that refuses the purpose.
	RefusedBy uint8

	byJur        []variant // by jurisdiction index
	objectionKey string
	acceptEpoch  int64     // version whose acceptance the purpose needs
	acceptSince  time.Time // when that version came into force
}

// variant is a purpose's rule in one jurisdiction.
type variant struct {
	basis      string
	reason     string // legal_basis:<basis>
	consent    bool
	objectable bool
	statutory  bool // survives restriction; minors' rules do not stop it
}

// BasisIn returns the purpose's basis in jurisdiction index jur.
func (r *Rule) BasisIn(jur int) string { return r.variant(jur).basis }

// ConsentIn reports whether the purpose rests on consent in jurisdiction index jur.
func (r *Rule) ConsentIn(jur int) bool { return r.variant(jur).consent }

// ObjectableIn reports whether people of jurisdiction index jur may object to the purpose.
func (r *Rule) ObjectableIn(jur int) bool { return r.variant(jur).objectable }

func (r *Rule) variant(jur int) *variant {
	if jur < 0 || jur >= len(r.byJur) {
		jur = 0
	}
	return &r.byJur[jur]
}

// minorRule is the treatment of minors in one jurisdiction.
type minorRule struct {
	stance  uint8 // stanceNone, stanceAdultsOnly, stanceGuardian
	age     int
	unknown uint8 // unknownAdult, unknownMinor, unknownAsk
}

const (
	stanceNone uint8 = iota
	stanceAdultsOnly
	stanceGuardian
)

const (
	unknownAdult uint8 = iota
	unknownMinor
	unknownAsk
)

// actRule is what the policy says about an act that may need its own consent.
type actRule struct {
	key      string
	separate bool
	purposes map[string]bool // purposes the act is declared for; nil: any
	epoch    int64
}

// Policy is a manifest compiled for decisions.
type Policy struct {
	Version    string // policy version label
	VersionSeq int64  // its sequence number in the published history
	jurs       []string
	jurIndex   map[string]int
	minors     []minorRule // by jurisdiction index
	rules      map[string]*Rule
	recipients map[string]*actRule
	transfers  map[string]*actRule
	disclosure *actRule
	spec       Spec
}

// Spec returns the policy written out, as NewPolicy was given it.
func (p *Policy) Spec() Spec { return p.spec }

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

// Jurisdiction returns the index of a jurisdiction id; 0 (the general
// rules) for "" and for ids the policy does not name.
func (p *Policy) Jurisdiction(id string) int { return p.jurIndex[id] }

// HasAct reports whether the policy names the act at all.
func (p *Policy) HasAct(a Act) bool { return p.act(a) != nil }

// ActSeparate reports whether an act needs a separate consent of its own.
func (p *Policy) ActSeparate(a Act) bool {
	ar := p.act(a)
	return ar != nil && ar.separate
}

func (p *Policy) act(a Act) *actRule {
	switch a.Kind {
	case ActRecipient:
		return p.recipients[a.ID]
	case ActTransfer:
		return p.transfers[a.ID]
	case ActDisclosure:
		return p.disclosure
	}
	return nil
}

// Minor status of a subject, from MinorStatus.
type Minor uint8

// Minor statuses.
const (
	NotMinor Minor = iota // an adult, or no rule about minors applies
	IsMinor               // under the threshold (or of unknown age where the rule says minor)
	AgeToAsk              // of unknown age where the rule says ask
)

// Stance returns the stance on minors in jurisdiction index jur:
// manifest.StanceAdultsOnly, StanceGuardianConsent or StanceNotDirected.
func (p *Policy) Stance(jur int) (stance string, threshold int) {
	mr := p.minorRule(jur)
	switch mr.stance {
	case stanceAdultsOnly:
		return manifest.StanceAdultsOnly, mr.age
	case stanceGuardian:
		return manifest.StanceGuardianConsent, mr.age
	}
	return manifest.StanceNotDirected, mr.age
}

func (p *Policy) minorRule(jur int) minorRule {
	if jur < 0 || jur >= len(p.minors) {
		jur = 0
	}
	return p.minors[jur]
}

// MinorStatus is the one answer to "is this person a minor?": under the
// threshold of their jurisdiction's stance at now, with the manifest's
// rule for a person whose age is not known. A nil subject is a person
// Custos does not know, of unknown age.
func (p *Policy) MinorStatus(s *Subject, now time.Time) Minor {
	jur := subjectJur(s)
	mr := p.minorRule(jur)
	if mr.stance == stanceNone {
		return NotMinor
	}
	if s != nil && !s.AgeUnknown {
		if now.Before(s.MinorUntil) {
			return IsMinor
		}
		return NotMinor
	}
	switch mr.unknown {
	case unknownMinor:
		return IsMinor
	case unknownAsk:
		return AgeToAsk
	}
	return NotMinor
}

// Age turns a subject's age facts into the snapshot's: when they reach the
// threshold of jurisdiction index jur, or that the age is unknown. birth
// is a zero time when not known; band is an age band (under_14, 14_17,
// adult) or "". A band that straddles the threshold does not tell, and
// counts as unknown.
func (p *Policy) Age(birth time.Time, band string, jur int) (minorUntil time.Time, unknown bool) {
	mr := p.minorRule(jur)
	if mr.stance == stanceNone {
		return time.Time{}, false
	}
	if !birth.IsZero() {
		return birth.AddDate(mr.age, 0, 0), false
	}
	lo, hi, ok := bandRange(band)
	switch {
	case !ok:
		return time.Time{}, true
	case hi <= mr.age: // every age in the band is under the threshold
		return forever, false
	case lo >= mr.age:
		return time.Time{}, false
	}
	return time.Time{}, true
}

// forever stands for "a minor until the age facts change".
var forever = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// bandRange returns the ages [lo, hi) of an age band: under_14 → [0, 14),
// 14_17 → [14, 18), adult → [18, ∞).
func bandRange(band string) (lo, hi int, ok bool) {
	if band == "adult" {
		return 18, 1 << 30, true
	}
	if rest, found := strings.CutPrefix(band, "under_"); found {
		n, err := strconv.Atoi(rest)
		return 0, n, err == nil
	}
	if a, b, found := strings.Cut(band, "_"); found {
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		return x, y + 1, err1 == nil && err2 == nil && x <= y
	}
	return 0, 0, false
}

// Decide answers whether s's data may be processed for purpose at time now.
// A nil subject is a person Custos does not know.
func (p *Policy) Decide(s *Subject, purpose string, now time.Time) Decision {
	return p.DecideAct(s, purpose, Act{}, now)
}

// Decide is Policy.Decide as a function.
func Decide(p *Policy, s *Subject, purpose string, now time.Time) Decision {
	return p.DecideAct(s, purpose, Act{}, now)
}

// DecideAct answers for a purpose and, unless act is the zero Act, for
// the act done for that purpose.
func (p *Policy) DecideAct(s *Subject, purpose string, act Act, now time.Time) Decision {
	r, ok := p.rules[purpose]
	if !ok {
		return Decision{purpose, false, ReasonUnknownPurpose}
	}
	if s != nil && !s.Known {
		s = nil // a snapshot that records an absence is a person Custos does not know
	}
	jur := subjectJur(s)
	v := r.variant(jur)
	if s != nil && s.Restricted && !v.statutory {
		return Decision{purpose, false, ReasonRestricted}
	}
	age := p.MinorStatus(s, now)
	stance := p.minorRule(jur).stance
	minor := age == IsMinor
	if !v.statutory {
		switch age {
		case AgeToAsk:
			return Decision{purpose, false, ReasonAgeUnknown}
		case IsMinor:
			switch stance {
			case stanceAdultsOnly:
				return Decision{purpose, false, ReasonMinorNotServed}
			case stanceGuardian:
				if !v.consent && !s.GuardianAccepted() {
					return Decision{purpose, false, ReasonGuardian}
				}
			}
		}
		if !v.consent && r.acceptEpoch > 0 && s != nil && s.CreatedAt.Before(r.acceptSince) && accepted(s) < r.acceptEpoch {
			return Decision{purpose, false, ReasonAcceptance}
		}
	}
	var d Decision
	if v.consent {
		d = decideConsent(r, s, purpose, minor && stance == stanceGuardian)
	} else {
		d = Decision{purpose, true, v.reason}
		if v.objectable && s != nil {
			switch s.Consents[r.objectionKey].Action {
			case ActionObject:
				return Decision{purpose, false, ReasonObjected}
			case ActionOverride:
				if r.DirectMarketing {
					return Decision{purpose, false, ReasonObjected}
				}
				d.Reason = ReasonOverridden
			}
		}
	}
	if act.Kind == ActNone || !d.Allowed {
		return d
	}
	ar := p.act(act)
	if ar == nil || ar.purposes != nil && !ar.purposes[purpose] {
		return Decision{purpose, false, ReasonNotDeclared}
	}
	if !ar.separate {
		return d
	}
	var c Consent
	var found bool
	if s != nil {
		c, found = s.Consents[ar.key]
	}
	// Whatever the purpose rests on, the act's own consent is a consent:
	// a child's counts only from their guardian, and nobody's of unknown
	// age counts where the manifest asks for it.
	switch {
	case !found || !c.Granted():
		return Decision{purpose, false, ReasonSeparate}
	case c.VersionSeq < ar.epoch:
		return Decision{purpose, false, ReasonReconsent}
	case age == AgeToAsk:
		return Decision{purpose, false, ReasonAgeUnknown}
	case minor && stance == stanceAdultsOnly:
		return Decision{purpose, false, ReasonMinorNotServed}
	case minor && stance == stanceGuardian && !c.ByGuardian:
		return Decision{purpose, false, ReasonGuardian}
	}
	return Decision{purpose, true, ReasonSeparateConsent}
}

func decideConsent(r *Rule, s *Subject, purpose string, guardian bool) Decision {
	var c Consent
	var found bool
	if s != nil {
		c, found = s.Consents[purpose]
	}
	switch {
	case !found:
		if guardian {
			return Decision{purpose, false, ReasonGuardian}
		}
		return Decision{purpose, false, ReasonNoConsent}
	case !c.Granted():
		return Decision{purpose, false, ReasonWithdrawn}
	case c.VersionSeq < r.Epoch:
		return Decision{purpose, false, ReasonReconsent}
	case guardian && !c.ByGuardian:
		return Decision{purpose, false, ReasonGuardian}
	}
	return Decision{purpose, true, ReasonConsent}
}

func subjectJur(s *Subject) int {
	if s == nil {
		return 0
	}
	return s.Jurisdiction
}

// GuardianAccepted reports whether the subject's guardian accepted the
// policy on their behalf: the guardian's consent to everything the policy
// says, which a minor's processing on bases other than consent needs.
// A nil subject has no guardian.
func (s *Subject) GuardianAccepted() bool {
	if s == nil {
		return false
	}
	c := s.Consents[KeyPolicy]
	return c.Action == ActionAccept && c.ByGuardian
}

// accepted is the latest policy version the subject (or their guardian) accepted.
func accepted(s *Subject) int64 {
	c := s.Consents[KeyPolicy]
	if c.Action != ActionAccept {
		return 0
	}
	return c.VersionSeq
}
