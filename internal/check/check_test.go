package check_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/manifest"
)

// now is the decision time every case uses.
var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// changed is when version 3, which needs express acceptance of "contract",
// came into force.
var changed = now.AddDate(0, -1, 0)

// testSpec is version 3 of a policy whose general rules (index 0) take a
// guardian's consent under 14, with EU (index 1) serving adults only from
// 16, and US (index 2) asking for the age of people it does not know.
// Consents for "stale" count from version 3 on; "contract" needs people who
// were there before version 3 to accept it.
func testSpec() check.Spec {
	all := func(b string) []string { return []string{b, b, b} }
	return check.Spec{
		Version: "3.0", VersionSeq: 3, Jurisdictions: []string{"EU", "US"},
		Minors: []check.MinorSpec{
			{Stance: "guardian_consent", Age: 14, UnknownAge: "adult"},
			{Stance: "adults_only", Age: 16, UnknownAge: "minor"},
			{Stance: "guardian_consent", Age: 13, UnknownAge: "ask"},
		},
		Purposes: []check.PurposeSpec{
			{ID: "fresh", Bases: all("consent")},
			{ID: "stale", Bases: all("consent"), Epoch: 3},
			{ID: "contract", Bases: all("contract"), AcceptEpoch: 3, AcceptSince: changed},
			{ID: "legit", Bases: []string{"consent", "legitimate_interests", "consent"}},
			{ID: "mail", Bases: []string{"consent", "legitimate_interests", "consent"}, DirectMarketing: true},
			{ID: "task", Bases: all("public_interest")},
			{ID: "obligation", Bases: all("legal_obligation")},
			{ID: "vital", Bases: all("vital_interests")},
			{ID: "ads", Bases: all("consent"), Separate: true, RefusedBy: []string{"gpc", "dnt"}},
		},
		Acts: []check.ActSpec{
			{Kind: "recipient", ID: "partner", Separate: true, Purposes: []string{"contract", "fresh"}, Epoch: 2},
			{Kind: "recipient", ID: "cloud", Purposes: []string{"contract"}},
			{Kind: "transfer", ID: "sg", Separate: true, Purposes: []string{"fresh"}},
			{Kind: "disclosure", Separate: true},
		},
	}
}

func testPolicy() *check.Policy { return check.NewPolicy(testSpec()) }

var (
	created = changed.AddDate(-1, 0, 0) // before version 3
	grant   = func(seq int64) check.Consent { return check.Consent{Action: check.ActionGrant, VersionSeq: seq} }
	byGrd   = func(seq int64) check.Consent {
		return check.Consent{Action: check.ActionGrant, ByGuardian: true, VersionSeq: seq}
	}
	withdr = check.Consent{Action: check.ActionWithdraw, VersionSeq: 3}
	object = check.Consent{Action: check.ActionObject, VersionSeq: 3}
	lift   = check.Consent{Action: check.ActionLift, VersionSeq: 3}
	overr  = check.Consent{Action: check.ActionOverride, VersionSeq: 3}
	accept = func(seq int64, guardian bool) check.Consent {
		return check.Consent{Action: check.ActionAccept, VersionSeq: seq, ByGuardian: guardian}
	}
)

// subject builds a snapshot; opts tweak it.
func subject(consents map[string]check.Consent, opts ...func(*check.Subject)) *check.Subject {
	s := &check.Subject{Known: true, CreatedAt: created, Consents: consents}
	if s.Consents == nil {
		s.Consents = map[string]check.Consent{}
	}
	s.Consents[check.KeyPolicy] = accept(3, false) // accepted version 3 unless a case says otherwise
	for _, o := range opts {
		o(s)
	}
	return s
}

func minor(s *check.Subject)      { s.MinorUntil = now.AddDate(2, 0, 0) }
func restricted(s *check.Subject) { s.Restricted = true }
func unknownAge(s *check.Subject) { s.AgeUnknown = true }
func inEU(s *check.Subject)       { s.Jurisdiction = 1 }
func inUS(s *check.Subject)       { s.Jurisdiction = 2 }
func notAccepted(s *check.Subject) {
	delete(s.Consents, check.KeyPolicy)
}
func guardianAccepts(s *check.Subject) { s.Consents[check.KeyPolicy] = accept(3, true) }
func newcomer(s *check.Subject) {
	s.CreatedAt = changed.Add(time.Hour)
	delete(s.Consents, check.KeyPolicy)
}

func TestDecide(t *testing.T) {
	recipient := func(id string) check.Act { return check.Act{Kind: check.ActRecipient, ID: id} }
	tests := []struct {
		name    string
		subject *check.Subject
		purpose string
		act     check.Act
		allowed bool
		reason  string
	}{
		// Unknown purposes come first, whoever asks.
		{name: "unknown purpose, nil subject", purpose: "nope", reason: check.ReasonUnknownPurpose},
		{name: "unknown purpose, restricted subject", subject: subject(nil, restricted), purpose: "nope", reason: check.ReasonUnknownPurpose},
		{name: "purpose ids are case sensitive", subject: subject(map[string]check.Consent{"fresh": grant(3)}), purpose: "Fresh", reason: check.ReasonUnknownPurpose},

		// Restriction stops everything but the statutory bases.
		{name: "restricted stops granted consent", subject: subject(map[string]check.Consent{"fresh": grant(3)}, restricted), purpose: "fresh", reason: check.ReasonRestricted},
		{name: "restricted stops contract", subject: subject(nil, restricted), purpose: "contract", reason: check.ReasonRestricted},
		{name: "restricted stops legitimate interests", subject: subject(nil, restricted, inEU), purpose: "legit", reason: check.ReasonRestricted},
		{name: "restricted minor before guardian", subject: subject(nil, restricted, minor), purpose: "fresh", reason: check.ReasonRestricted},
		{name: "legal obligation survives restriction", subject: subject(nil, restricted), purpose: "obligation", allowed: true, reason: "legal_basis:legal_obligation"},
		{name: "vital interests survive restriction", subject: subject(nil, restricted), purpose: "vital", allowed: true, reason: "legal_basis:vital_interests"},
		{name: "public task survives restriction", subject: subject(nil, restricted), purpose: "task", allowed: true, reason: "legal_basis:public_interest"},

		// Other bases need no consent, whatever the consent state says.
		{name: "contract, adult without consents", subject: subject(nil), purpose: "contract", allowed: true, reason: "legal_basis:contract"},
		{name: "contract, nil subject", purpose: "contract", allowed: true, reason: "legal_basis:contract"},
		{name: "contract ignores a withdrawn consent row", subject: subject(map[string]check.Consent{"contract": withdr}), purpose: "contract", allowed: true, reason: "legal_basis:contract"},

		// Legal bases per jurisdiction: legit rests on consent generally, on legitimate interests in the EU.
		{name: "legit in CN needs consent", subject: subject(nil), purpose: "legit", reason: check.ReasonNoConsent},
		{name: "legit in the EU rests on legitimate interests", subject: subject(nil, inEU), purpose: "legit", allowed: true, reason: "legal_basis:legitimate_interests"},
		{name: "an unknown person gets the general basis", purpose: "legit", reason: check.ReasonNoConsent},

		// Objection.
		{name: "objection stops legitimate interests", subject: subject(map[string]check.Consent{"objection:legit": object}, inEU), purpose: "legit", reason: check.ReasonObjected},
		{name: "lifted objection allows again", subject: subject(map[string]check.Consent{"objection:legit": lift}, inEU), purpose: "legit", allowed: true, reason: "legal_basis:legitimate_interests"},
		{name: "override of compelling grounds", subject: subject(map[string]check.Consent{"objection:legit": overr}, inEU), purpose: "legit", allowed: true, reason: check.ReasonOverridden},
		{name: "direct marketing: objection is absolute", subject: subject(map[string]check.Consent{"objection:mail": overr}, inEU), purpose: "mail", reason: check.ReasonObjected},
		{name: "objection stops a public task", subject: subject(map[string]check.Consent{"objection:task": object}), purpose: "task", reason: check.ReasonObjected},
		{name: "objection does not reach a legal obligation", subject: subject(map[string]check.Consent{"objection:obligation": object}), purpose: "obligation", allowed: true, reason: "legal_basis:legal_obligation"},
		{name: "objection does not stand for consent in CN", subject: subject(map[string]check.Consent{"objection:legit": object, "legit": grant(3)}), purpose: "legit", allowed: true, reason: check.ReasonConsent},

		// Consent purposes.
		{name: "nil subject has no consent", purpose: "fresh", reason: check.ReasonNoConsent},
		{name: "adult without consent", subject: subject(nil), purpose: "fresh", reason: check.ReasonNoConsent},
		{name: "consent for another purpose does not count", subject: subject(map[string]check.Consent{"stale": grant(3)}), purpose: "fresh", reason: check.ReasonNoConsent},
		{name: "adult granted", subject: subject(map[string]check.Consent{"fresh": grant(1)}), purpose: "fresh", allowed: true, reason: check.ReasonConsent},
		{name: "adult withdrawn", subject: subject(map[string]check.Consent{"fresh": withdr}), purpose: "fresh", reason: check.ReasonWithdrawn},
		{name: "grant before the epoch is stale", subject: subject(map[string]check.Consent{"stale": grant(2)}), purpose: "stale", reason: check.ReasonReconsent},
		{name: "grant at the epoch counts", subject: subject(map[string]check.Consent{"stale": grant(3)}), purpose: "stale", allowed: true, reason: check.ReasonConsent},

		// Minors under a guardian's-consent stance: every purpose but the statutory ones.
		{name: "minor without consent", subject: subject(nil, minor), purpose: "fresh", reason: check.ReasonGuardian},
		{name: "minor with own consent", subject: subject(map[string]check.Consent{"fresh": grant(3)}, minor), purpose: "fresh", reason: check.ReasonGuardian},
		{name: "minor with guardian consent", subject: subject(map[string]check.Consent{"fresh": byGrd(3)}, minor), purpose: "fresh", allowed: true, reason: check.ReasonConsent},
		{name: "minor's contract purpose needs the guardian", subject: subject(nil, minor), purpose: "contract", reason: check.ReasonGuardian},
		{name: "minor's own acceptance is not the guardian's", subject: subject(nil, minor, func(s *check.Subject) { s.Consents[check.KeyPolicy] = accept(3, false) }), purpose: "contract", reason: check.ReasonGuardian},
		{name: "guardian accepted: contract allowed", subject: subject(nil, minor, guardianAccepts), purpose: "contract", allowed: true, reason: "legal_basis:contract"},
		{name: "guardian accepted: consent still per purpose", subject: subject(nil, minor, guardianAccepts), purpose: "fresh", reason: check.ReasonGuardian},
		{name: "minor's legal obligation goes on", subject: subject(nil, minor), purpose: "obligation", allowed: true, reason: "legal_basis:legal_obligation"},
		{name: "guardian age reached exactly now", subject: subject(map[string]check.Consent{"fresh": grant(3)}, func(s *check.Subject) { s.MinorUntil = now }), purpose: "fresh", allowed: true, reason: check.ReasonConsent},
		{name: "guardian age reached a moment later", subject: subject(map[string]check.Consent{"fresh": grant(3)}, func(s *check.Subject) { s.MinorUntil = now.Add(time.Nanosecond) }), purpose: "fresh", reason: check.ReasonGuardian},
		{name: "unknown age taken for an adult", subject: subject(nil, unknownAge), purpose: "contract", allowed: true, reason: "legal_basis:contract"},

		// Adults only (EU here).
		{name: "EU minor not served: consent", subject: subject(map[string]check.Consent{"fresh": byGrd(3)}, minor, inEU), purpose: "fresh", reason: check.ReasonMinorNotServed},
		{name: "EU minor not served: legitimate interests", subject: subject(nil, minor, inEU), purpose: "legit", reason: check.ReasonMinorNotServed},
		{name: "EU minor not served: contract", subject: subject(nil, minor, inEU, guardianAccepts), purpose: "contract", reason: check.ReasonMinorNotServed},
		{name: "EU minor: legal obligation goes on", subject: subject(nil, minor, inEU), purpose: "obligation", allowed: true, reason: "legal_basis:legal_obligation"},
		{name: "EU unknown age taken for a minor", subject: subject(nil, unknownAge, inEU), purpose: "contract", reason: check.ReasonMinorNotServed},
		{name: "EU adult served", subject: subject(nil, inEU), purpose: "contract", allowed: true, reason: "legal_basis:contract"},

		// Unknown age asked for (US).
		{name: "US unknown age: ask first", subject: subject(nil, unknownAge, inUS), purpose: "contract", reason: check.ReasonAgeUnknown},
		{name: "US unknown age: not for statutory bases", subject: subject(nil, unknownAge, inUS), purpose: "obligation", allowed: true, reason: "legal_basis:legal_obligation"},
		{name: "US known adult", subject: subject(nil, inUS), purpose: "contract", allowed: true, reason: "legal_basis:contract"},

		// Acceptance of a materially changed version (express consent).
		{name: "no acceptance of version 3", subject: subject(nil, notAccepted), purpose: "contract", reason: check.ReasonAcceptance},
		{name: "acceptance of version 2 is not enough", subject: subject(nil, func(s *check.Subject) { s.Consents[check.KeyPolicy] = accept(2, false) }), purpose: "contract", reason: check.ReasonAcceptance},
		{name: "acceptance of version 3", subject: subject(nil), purpose: "contract", allowed: true, reason: "legal_basis:contract"},
		{name: "newcomers accepted what they joined under", subject: subject(nil, newcomer), purpose: "contract", allowed: true, reason: "legal_basis:contract"},
		{name: "other purposes need no acceptance", subject: subject(nil, notAccepted), purpose: "obligation", allowed: true, reason: "legal_basis:legal_obligation"},
		{name: "an unknown person has nothing to accept", purpose: "contract", allowed: true, reason: "legal_basis:contract"},

		// Acts with their own separate consent.
		{name: "recipient needs its own consent", subject: subject(nil), purpose: "contract", act: recipient("partner"), reason: check.ReasonSeparate},
		{name: "recipient's consent given", subject: subject(map[string]check.Consent{"recipient:partner": grant(3)}), purpose: "contract", act: recipient("partner"), allowed: true, reason: check.ReasonSeparateConsent},
		{name: "recipient's consent withdrawn", subject: subject(map[string]check.Consent{"recipient:partner": withdr}), purpose: "contract", act: recipient("partner"), reason: check.ReasonSeparate},
		{name: "recipient's consent before a material change", subject: subject(map[string]check.Consent{"recipient:partner": grant(1)}), purpose: "contract", act: recipient("partner"), reason: check.ReasonReconsent},
		{name: "purpose not declared for the recipient", subject: subject(map[string]check.Consent{"recipient:partner": grant(3), "legit": grant(3)}), purpose: "legit", act: recipient("partner"), reason: check.ReasonNotDeclared},
		{name: "unknown recipient", subject: subject(nil), purpose: "contract", act: recipient("nobody"), reason: check.ReasonNotDeclared},
		{name: "entrusted recipient follows the purpose", subject: subject(nil), purpose: "contract", act: recipient("cloud"), allowed: true, reason: "legal_basis:contract"},
		{name: "the purpose decides first", subject: subject(map[string]check.Consent{"recipient:partner": grant(3)}), purpose: "fresh", act: recipient("partner"), reason: check.ReasonNoConsent},
		{name: "purpose and recipient both consented", subject: subject(map[string]check.Consent{"recipient:partner": grant(3), "fresh": grant(3)}), purpose: "fresh", act: recipient("partner"), allowed: true, reason: check.ReasonSeparateConsent},
		{name: "minor's recipient consent by the guardian", subject: subject(map[string]check.Consent{"recipient:partner": byGrd(3)}, minor, guardianAccepts), purpose: "contract", act: recipient("partner"), allowed: true, reason: check.ReasonSeparateConsent},
		{name: "minor's own recipient consent", subject: subject(map[string]check.Consent{"recipient:partner": grant(3)}, minor, guardianAccepts), purpose: "contract", act: recipient("partner"), reason: check.ReasonGuardian},
		{name: "transfer needs its own consent", subject: subject(map[string]check.Consent{"fresh": grant(3)}), purpose: "fresh", act: check.Act{Kind: check.ActTransfer, ID: "sg"}, reason: check.ReasonSeparate},
		{name: "transfer consented", subject: subject(map[string]check.Consent{"fresh": grant(3), "transfer:sg": grant(3)}), purpose: "fresh", act: check.Act{Kind: check.ActTransfer, ID: "sg"}, allowed: true, reason: check.ReasonSeparateConsent},
		{name: "disclosure needs its own consent", subject: subject(nil), purpose: "contract", act: check.Act{Kind: check.ActDisclosure}, reason: check.ReasonSeparate},
		{name: "disclosure consented", subject: subject(map[string]check.Consent{"disclosure": grant(3)}), purpose: "contract", act: check.Act{Kind: check.ActDisclosure}, allowed: true, reason: check.ReasonSeparateConsent},
		{name: "minor's own act consent on a statutory basis", subject: subject(map[string]check.Consent{"disclosure": grant(3)}, minor), purpose: "obligation", act: check.Act{Kind: check.ActDisclosure}, reason: check.ReasonGuardian},
		{name: "guardian's act consent on a statutory basis", subject: subject(map[string]check.Consent{"disclosure": byGrd(3)}, minor), purpose: "obligation", act: check.Act{Kind: check.ActDisclosure}, allowed: true, reason: check.ReasonSeparateConsent},
		{name: "EU minor's act on a statutory basis", subject: subject(map[string]check.Consent{"disclosure": grant(3)}, minor, inEU), purpose: "obligation", act: check.Act{Kind: check.ActDisclosure}, reason: check.ReasonMinorNotServed},
		{name: "act of a person whose age is asked for", subject: subject(map[string]check.Consent{"disclosure": grant(3)}, unknownAge, inUS), purpose: "obligation", act: check.Act{Kind: check.ActDisclosure}, reason: check.ReasonAgeUnknown},

		// A snapshot that records an absence (Known false) is a person Custos does not know.
		{name: "absent snapshot decides as nil", subject: &check.Subject{}, purpose: "contract", allowed: true, reason: "legal_basis:contract"},
		{name: "absent snapshot has no consent", subject: &check.Subject{Consents: map[string]check.Consent{"fresh": grant(3)}}, purpose: "fresh", reason: check.ReasonNoConsent},
	}
	p := testPolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := check.Decision{Purpose: tt.purpose, Allowed: tt.allowed, Reason: tt.reason}
			if diff := cmp.Diff(want, p.DecideAct(tt.subject, tt.purpose, tt.act, now)); diff != "" {
				t.Errorf("DecideAct (-want +got):\n%s", diff)
			}
			if tt.act.Kind == check.ActNone {
				if diff := cmp.Diff(want, check.Decide(p, tt.subject, tt.purpose, now)); diff != "" {
					t.Errorf("check.Decide differs from DecideAct (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestDecideReasons keeps the reason codes stable: they are part of the API.
func TestDecideReasons(t *testing.T) {
	want := []string{"age_unknown", "consent", "guardian_consent_required", "minor_not_served", "no_consent", "not_declared",
		"objected", "objection_overridden", "policy_acceptance_required", "reconsent_required", "restricted",
		"separate_consent", "separate_consent_required", "unknown_purpose", "withdrawn"}
	got := slices.Clone(check.Reasons)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reason codes (-want +got):\n%s", diff)
	}
}

func TestAge(t *testing.T) {
	p := testPolicy()
	birth := time.Date(2015, 3, 1, 0, 0, 0, 0, time.UTC)
	forever := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		birth   time.Time
		band    string
		jur     int
		until   time.Time
		unknown bool
	}{
		{"birth date, threshold 14", birth, "", 0, birth.AddDate(14, 0, 0), false},
		{"birth date, EU threshold 16", birth, "under_14", 1, birth.AddDate(16, 0, 0), false},
		{"under_14 below 14", time.Time{}, "under_14", 0, forever, false},
		{"under_16 straddles 14", time.Time{}, "under_16", 0, time.Time{}, true},
		{"10_13 below 14", time.Time{}, "10_13", 0, forever, false},
		{"14_17 at 14 is adult for this rule", time.Time{}, "14_17", 0, time.Time{}, false},
		{"14_17 straddles 16", time.Time{}, "14_17", 1, time.Time{}, true},
		{"adult", time.Time{}, "adult", 1, time.Time{}, false},
		{"no facts", time.Time{}, "", 0, time.Time{}, true},
		{"malformed band", time.Time{}, "under_x", 0, time.Time{}, true},
		{"reversed band", time.Time{}, "17_14", 0, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			until, unknown := p.Age(tt.birth, tt.band, tt.jur)
			if !until.Equal(tt.until) || unknown != tt.unknown {
				t.Errorf("Age = %v, %v; want %v, %v", until, unknown, tt.until, tt.unknown)
			}
		})
	}
	// A jurisdiction without a rule of its own takes the general one.
	sp := testSpec()
	sp.Jurisdictions = append(sp.Jurisdictions, "JP")
	if until, unknown := check.NewPolicy(sp).Age(birth, "", 3); !until.Equal(birth.AddDate(14, 0, 0)) || unknown {
		t.Errorf("JP without a rule: %v, %v; want the general threshold of 14", until, unknown)
	}
	noRule := check.NewPolicy(check.Spec{Version: "1", Minors: []check.MinorSpec{{Stance: "not_directed"}}})
	if until, unknown := noRule.Age(time.Time{}, "under_10", 0); !until.IsZero() || unknown {
		t.Errorf("without a stance nobody is a minor: got %v, %v", until, unknown)
	}
	if got := noRule.MinorStatus(nil, now); got != check.NotMinor {
		t.Errorf("MinorStatus without a stance = %v", got)
	}
}

func TestDecideAllocatesNothing(t *testing.T) {
	p := testPolicy()
	subjects := []*check.Subject{
		nil,
		subject(map[string]check.Consent{"fresh": grant(3), "stale": grant(1), "objection:legit": object, "recipient:partner": grant(3)}),
		subject(nil, restricted),
		subject(map[string]check.Consent{"fresh": byGrd(3)}, minor, guardianAccepts),
		subject(nil, inEU, minor),
		subject(nil, inUS, unknownAge),
		subject(nil, notAccepted),
	}
	purposes := []string{"fresh", "stale", "contract", "legit", "mail", "obligation", "nope"}
	acts := []check.Act{{}, {Kind: check.ActRecipient, ID: "partner"}, {Kind: check.ActTransfer, ID: "sg"}, {Kind: check.ActDisclosure}}
	for _, s := range subjects {
		for _, purpose := range purposes {
			for _, a := range acts {
				if n := testing.AllocsPerRun(100, func() { p.DecideAct(s, purpose, a, now) }); n != 0 {
					t.Errorf("DecideAct(%+v, %q, %+v) allocates %v times, want 0", s, purpose, a, n)
				}
			}
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	p := testPolicy()
	s := subject(map[string]check.Consent{"fresh": grant(3), "stale": grant(1)})
	for _, purpose := range []string{"fresh", "stale", "contract", "nope"} {
		b.Run(purpose, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Decide(s, purpose, now)
			}
		})
	}
	b.Run("recipient", func(b *testing.B) {
		b.ReportAllocs()
		a := check.Act{Kind: check.ActRecipient, ID: "partner"}
		for b.Loop() {
			p.DecideAct(s, "contract", a, now)
		}
	})
}

func loadManifest(t *testing.T, path string) *manifest.Manifest {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(path, src)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return m
}

// rule is the exported part of a compiled rule.
type rule struct {
	Basis     string
	Consent   bool
	Epoch     int64
	RefusedBy uint8
	Separate  bool
}

func TestCompileStarter(t *testing.T) {
	m := loadManifest(t, "../../examples/starter/custos.yaml")
	p := check.Compile(m, check.History{Seq: 2, Reconsent: map[string]int64{"analytics": 2, "marketing": 1, "not_a_purpose": 2}})
	if p.Version != "3.0" || p.VersionSeq != 2 {
		t.Errorf("Compile = version %q seq %d, want 3.0, 2", p.Version, p.VersionSeq)
	}
	if stance, age := p.Stance(0); stance != "guardian_consent" || age != 14 {
		t.Errorf("Stance = %s %d, want guardian_consent 14", stance, age)
	}
	got := map[string]rule{}
	for _, r := range p.Rules() {
		got[r.ID] = rule{r.Basis, r.Consent, r.Epoch, r.RefusedBy, r.Separate}
	}
	contract := rule{Basis: "contract"}
	obligation := rule{Basis: "legal_obligation"}
	want := map[string]rule{
		"account_registration":   contract,
		"minor_protection":       obligation,
		"note_sync":              contract,
		"sync_acceleration":      {Basis: "consent", Consent: true, Separate: true}, // separate_consent on the purpose
		"location_tagging":       {Basis: "consent", Consent: true, Separate: true}, // separate_consent on the purpose
		"note_publishing":        contract,
		"real_name_verification": obligation,
		"content_moderation":     obligation,
		"payments":               contract,
		"customer_support":       contract,
		"security":               contract,
		"crash_diagnostics":      contract,
		"analytics":              {Basis: "consent", Consent: true, Epoch: 2, RefusedBy: check.SignalDNT},
		"marketing":              {Basis: "consent", Consent: true, Epoch: 1},
		// Provided to a recipient that asks for separate consent: the
		// provision has its own key, the purpose's consent is ordinary.
		"advertising":        {Basis: "consent", Consent: true, RefusedBy: check.SignalGPC | check.SignalDNT},
		"push_notifications": {Basis: "consent", Consent: true},
		"legal_compliance":   obligation,
		"rights_requests":    obligation,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("compiled rules (-want +got):\n%s", diff)
	}
	if _, ok := p.Rule("not_a_purpose"); ok {
		t.Error("an epoch for a purpose the manifest lacks created a rule")
	}
	acts := []struct {
		act      check.Act
		declared bool
		separate bool
	}{
		{check.Act{Kind: check.ActRecipient, ID: "ad-measurement"}, true, true},
		{check.Act{Kind: check.ActTransfer, ID: "sg-sync-relay"}, true, true},
		{check.Act{Kind: check.ActDisclosure}, true, true},
		{check.Act{Kind: check.ActRecipient, ID: "nobody"}, false, false},
	}
	for _, a := range acts {
		if p.HasAct(a.act) != a.declared || p.ActSeparate(a.act) != a.separate {
			t.Errorf("act %+v: declared %v separate %v, want %v %v", a.act, p.HasAct(a.act), p.ActSeparate(a.act), a.declared, a.separate)
		}
	}
}

func TestCompileMinors(t *testing.T) {
	tests := []struct {
		name       string
		stance     string
		threshold  int
		guardian   bool
		wantStance string
	}{
		{"guardian consent", "guardian_consent", 14, true, "guardian_consent"},
		{"guardian stance without guardian consent", "guardian_consent", 14, false, "not_directed"},
		{"no threshold", "guardian_consent", 0, true, "not_directed"},
		{"adults only", "adults_only", 18, false, "adults_only"},
		{"not directed", "not_directed", 14, false, "not_directed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := loadManifest(t, "../../examples/starter/custos.yaml")
			m.Minors.Stance, m.Minors.AgeThreshold, m.Minors.GuardianConsent = tt.stance, tt.threshold, tt.guardian
			if got, _ := check.Compile(m, check.History{Seq: 1}).Stance(0); got != tt.wantStance {
				t.Errorf("Stance = %s, want %s", got, tt.wantStance)
			}
		})
	}
}

func TestSeparatePurposesOnlyConsent(t *testing.T) {
	m := loadManifest(t, "../../examples/starter/custos.yaml")
	for id := range check.SeparatePurposes(m) {
		p, ok := m.Purpose(id)
		if !ok || p.Basis != "consent" {
			t.Errorf("SeparatePurposes lists %q, which is not a consent purpose", id)
		}
	}
	var ids []string
	for id := range check.SeparatePurposes(m) {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if got, want := strings.Join(ids, ","), "location_tagging,sync_acceleration"; got != want {
		t.Errorf("SeparatePurposes(starter) = %s, want %s", got, want)
	}
}
