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

// testPolicy is version 3 of a policy with a guardian age of 14. Consents
// for "stale" count from version 3 on; "fresh" had no material change.
func testPolicy() *check.Policy {
	return check.NewPolicy("3.0", 3, 14, []check.Rule{
		{ID: "fresh", Basis: "consent"},
		{ID: "stale", Basis: "consent", Epoch: 3},
		{ID: "contract", Basis: "contract"},
		{ID: "legit", Basis: "legitimate_interests"},
		{ID: "obligation", Basis: "legal_obligation", SurvivesRestriction: true},
		{ID: "vital", Basis: "vital_interests", SurvivesRestriction: true},
		{ID: "public", Basis: "public_interest", SurvivesRestriction: true},
	})
}

func TestDecide(t *testing.T) {
	granted := func(seq int64) check.Consent { return check.Consent{Granted: true, VersionSeq: seq} }
	byGuardian := func(seq int64) check.Consent { return check.Consent{Granted: true, ByGuardian: true, VersionSeq: seq} }
	withdrawn := check.Consent{Granted: false, VersionSeq: 3}
	adult := func(c map[string]check.Consent) *check.Subject { return &check.Subject{Known: true, Consents: c} }
	minor := func(c map[string]check.Consent) *check.Subject {
		return &check.Subject{Known: true, MinorUntil: now.AddDate(2, 0, 0), Consents: c}
	}
	restricted := func(c map[string]check.Consent) *check.Subject {
		return &check.Subject{Known: true, Restricted: true, Consents: c}
	}

	tests := []struct {
		name    string
		policy  *check.Policy // nil: testPolicy()
		subject *check.Subject
		purpose string
		allowed bool
		reason  string
	}{
		// Unknown purposes come first, whoever asks.
		{name: "unknown purpose, nil subject", subject: nil, purpose: "nope", reason: check.ReasonUnknownPurpose},
		{name: "unknown purpose, restricted subject", subject: restricted(nil), purpose: "nope", reason: check.ReasonUnknownPurpose},
		{name: "purpose ids are case sensitive", subject: adult(map[string]check.Consent{"fresh": granted(3)}), purpose: "Fresh", reason: check.ReasonUnknownPurpose},
		{name: "empty purpose", subject: adult(nil), purpose: "", reason: check.ReasonUnknownPurpose},

		// Restriction stops everything but the bases that survive it.
		{name: "restricted stops granted consent", subject: restricted(map[string]check.Consent{"fresh": granted(3)}), purpose: "fresh", reason: check.ReasonRestricted},
		{name: "restricted stops contract", subject: restricted(nil), purpose: "contract", reason: check.ReasonRestricted},
		{name: "restricted stops legitimate interests", subject: restricted(nil), purpose: "legit", reason: check.ReasonRestricted},
		{name: "restricted before withdrawn", subject: restricted(map[string]check.Consent{"fresh": withdrawn}), purpose: "fresh", reason: check.ReasonRestricted},
		{name: "restricted before no consent", subject: restricted(nil), purpose: "fresh", reason: check.ReasonRestricted},
		{name: "restricted minor before guardian", subject: &check.Subject{Known: true, Restricted: true, MinorUntil: now.AddDate(1, 0, 0)}, purpose: "fresh", reason: check.ReasonRestricted},
		{name: "legal obligation survives restriction", subject: restricted(nil), purpose: "obligation", allowed: true, reason: "legal_basis:legal_obligation"},
		{name: "vital interests survive restriction", subject: restricted(nil), purpose: "vital", allowed: true, reason: "legal_basis:vital_interests"},
		{name: "public interest survives restriction", subject: restricted(nil), purpose: "public", allowed: true, reason: "legal_basis:public_interest"},

		// Other bases need no consent, whatever the consent state says.
		{name: "contract, adult without consents", subject: adult(nil), purpose: "contract", allowed: true, reason: "legal_basis:contract"},
		{name: "contract, nil subject", subject: nil, purpose: "contract", allowed: true, reason: "legal_basis:contract"},
		{name: "legitimate interests, minor", subject: minor(nil), purpose: "legit", allowed: true, reason: "legal_basis:legitimate_interests"},
		{name: "contract ignores a withdrawn consent row", subject: adult(map[string]check.Consent{"contract": withdrawn}), purpose: "contract", allowed: true, reason: "legal_basis:contract"},

		// Consent purposes.
		{name: "nil subject has no consent", subject: nil, purpose: "fresh", reason: check.ReasonNoConsent},
		{name: "adult without consent", subject: adult(nil), purpose: "fresh", reason: check.ReasonNoConsent},
		{name: "consent for another purpose does not count", subject: adult(map[string]check.Consent{"stale": granted(3)}), purpose: "fresh", reason: check.ReasonNoConsent},
		{name: "adult granted", subject: adult(map[string]check.Consent{"fresh": granted(1)}), purpose: "fresh", allowed: true, reason: check.ReasonConsent},
		{name: "adult withdrawn", subject: adult(map[string]check.Consent{"fresh": withdrawn}), purpose: "fresh", reason: check.ReasonWithdrawn},
		{name: "withdrawn before reconsent", subject: adult(map[string]check.Consent{"stale": {Granted: false, VersionSeq: 1}}), purpose: "stale", reason: check.ReasonWithdrawn},
		{name: "grant before the epoch is stale", subject: adult(map[string]check.Consent{"stale": granted(2)}), purpose: "stale", reason: check.ReasonReconsent},
		{name: "grant at the epoch counts", subject: adult(map[string]check.Consent{"stale": granted(3)}), purpose: "stale", allowed: true, reason: check.ReasonConsent},
		{name: "grant after the epoch counts", subject: adult(map[string]check.Consent{"stale": granted(4)}), purpose: "stale", allowed: true, reason: check.ReasonConsent},

		// Minors.
		{name: "minor without consent", subject: minor(nil), purpose: "fresh", reason: check.ReasonGuardian},
		{name: "minor with own consent", subject: minor(map[string]check.Consent{"fresh": granted(3)}), purpose: "fresh", reason: check.ReasonGuardian},
		{name: "minor with guardian consent", subject: minor(map[string]check.Consent{"fresh": byGuardian(3)}), purpose: "fresh", allowed: true, reason: check.ReasonConsent},
		{name: "minor withdrawn before guardian", subject: minor(map[string]check.Consent{"fresh": {Granted: false, ByGuardian: true, VersionSeq: 3}}), purpose: "fresh", reason: check.ReasonWithdrawn},
		{name: "minor stale guardian consent: reconsent first", subject: minor(map[string]check.Consent{"stale": byGuardian(2)}), purpose: "stale", reason: check.ReasonReconsent},
		{name: "minor stale own consent: reconsent before guardian", subject: minor(map[string]check.Consent{"stale": granted(2)}), purpose: "stale", reason: check.ReasonReconsent},
		{name: "guardian age reached exactly now", subject: &check.Subject{Known: true, MinorUntil: now, Consents: map[string]check.Consent{"fresh": granted(3)}}, purpose: "fresh", allowed: true, reason: check.ReasonConsent},
		{name: "guardian age reached a moment later", subject: &check.Subject{Known: true, MinorUntil: now.Add(time.Nanosecond), Consents: map[string]check.Consent{"fresh": granted(3)}}, purpose: "fresh", reason: check.ReasonGuardian},
		{name: "zero MinorUntil is an adult", subject: &check.Subject{Known: true, Consents: map[string]check.Consent{"fresh": granted(3)}}, purpose: "fresh", allowed: true, reason: check.ReasonConsent},
		{
			name:    "no guardian rule: minor decides alone",
			policy:  check.NewPolicy("1", 1, 0, []check.Rule{{ID: "fresh", Basis: "consent"}}),
			subject: minor(map[string]check.Consent{"fresh": granted(1)}), purpose: "fresh", allowed: true, reason: check.ReasonConsent,
		},
		{
			name:    "no guardian rule: minor without consent is no_consent",
			policy:  check.NewPolicy("1", 1, 0, []check.Rule{{ID: "fresh", Basis: "consent"}}),
			subject: minor(nil), purpose: "fresh", reason: check.ReasonNoConsent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.policy
			if p == nil {
				p = testPolicy()
			}
			want := check.Decision{Purpose: tt.purpose, Allowed: tt.allowed, Reason: tt.reason}
			if diff := cmp.Diff(want, p.Decide(tt.subject, tt.purpose, now)); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, check.Decide(p, tt.subject, tt.purpose, now)); diff != "" {
				t.Errorf("check.Decide differs from Policy.Decide (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDecideReasons keeps the reason codes stable: they are part of the API.
func TestDecideReasons(t *testing.T) {
	want := []string{"consent", "guardian_required", "no_consent", "reconsent_required", "restricted", "unknown_purpose", "withdrawn"}
	got := []string{check.ReasonConsent, check.ReasonGuardian, check.ReasonNoConsent, check.ReasonReconsent, check.ReasonRestricted, check.ReasonUnknownPurpose, check.ReasonWithdrawn}
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reason codes (-want +got):\n%s", diff)
	}
}

func TestDecideAllocatesNothing(t *testing.T) {
	p := testPolicy()
	subjects := []*check.Subject{
		nil,
		{Known: true, Consents: map[string]check.Consent{"fresh": {Granted: true, VersionSeq: 3}, "stale": {Granted: true, VersionSeq: 1}}},
		{Known: true, Restricted: true},
		{Known: true, MinorUntil: now.AddDate(1, 0, 0), Consents: map[string]check.Consent{"fresh": {Granted: true, VersionSeq: 3}}},
	}
	purposes := []string{"fresh", "stale", "contract", "obligation", "nope"}
	for _, s := range subjects {
		for _, purpose := range purposes {
			if n := testing.AllocsPerRun(100, func() { p.Decide(s, purpose, now) }); n != 0 {
				t.Errorf("Decide(%+v, %q) allocates %v times, want 0", s, purpose, n)
			}
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	p := testPolicy()
	s := &check.Subject{Known: true, Consents: map[string]check.Consent{
		"fresh": {Granted: true, VersionSeq: 3},
		"stale": {Granted: true, VersionSeq: 1},
	}}
	for _, purpose := range []string{"fresh", "stale", "contract", "nope"} {
		b.Run(purpose, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p.Decide(s, purpose, now)
			}
		})
	}
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
	Basis               string
	Consent             bool
	Epoch               int64
	Signals             bool
	Separate            bool
	SurvivesRestriction bool
}

func TestCompileStarter(t *testing.T) {
	m := loadManifest(t, "../../examples/starter/custos.yaml")
	p := check.Compile(m, 2, map[string]int64{"analytics": 2, "marketing": 1, "not_a_purpose": 2})
	if p.Version != "3.0" || p.VersionSeq != 2 || p.GuardianAge != 14 {
		t.Errorf("Compile = version %q seq %d guardian age %d, want 3.0, 2, 14", p.Version, p.VersionSeq, p.GuardianAge)
	}
	got := map[string]rule{}
	for _, r := range p.Rules() {
		got[r.ID] = rule{r.Basis, r.Consent, r.Epoch, r.Signals, r.Separate, r.SurvivesRestriction}
	}
	contract := rule{Basis: "contract"}
	obligation := rule{Basis: "legal_obligation", SurvivesRestriction: true}
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
		"analytics":              {Basis: "consent", Consent: true, Epoch: 2},
		"marketing":              {Basis: "consent", Consent: true, Epoch: 1},
		"advertising":            {Basis: "consent", Consent: true, Signals: true, Separate: true}, // provided to a recipient that asks for separate consent
		"push_notifications":     {Basis: "consent", Consent: true},
		"legal_compliance":       obligation,
		"rights_requests":        obligation,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("compiled rules (-want +got):\n%s", diff)
	}
	if _, ok := p.Rule("not_a_purpose"); ok {
		t.Error("an epoch for a purpose the manifest lacks created a rule")
	}
	for id, r := range got {
		d := p.Decide(&check.Subject{Known: true, Restricted: true}, id, now)
		wantReason := check.ReasonRestricted
		if r.SurvivesRestriction {
			wantReason = "legal_basis:" + r.Basis
		}
		if d.Reason != wantReason || d.Allowed != r.SurvivesRestriction {
			t.Errorf("restricted subject, %s: got %+v, want reason %s", id, d, wantReason)
		}
	}
}

func TestCompileGuardianAge(t *testing.T) {
	tests := []struct {
		name      string
		threshold int
		guardian  bool
		want      int
	}{
		{"threshold with guardian consent", 14, true, 14},
		{"threshold without guardian consent", 14, false, 0},
		{"guardian consent without threshold", 0, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := loadManifest(t, "../../examples/starter/custos.yaml")
			m.Minors.AgeThreshold, m.Minors.GuardianConsent = tt.threshold, tt.guardian
			if got := check.Compile(m, 1, nil).GuardianAge; got != tt.want {
				t.Errorf("GuardianAge = %d, want %d", got, tt.want)
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
	v2 := loadManifest(t, "../../examples/starter/custos-v2.yaml")
	// v2 provides analytics data to a recipient that asks for separate consent.
	if !check.SeparatePurposes(v2)["analytics"] || check.SeparatePurposes(m)["analytics"] {
		t.Error("analytics should need separate consent in v2 only")
	}
	var ids []string
	for id := range check.SeparatePurposes(m) {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if got, want := strings.Join(ids, ","), "advertising,location_tagging,sync_acceleration"; got != want {
		t.Errorf("SeparatePurposes(starter) = %s, want %s", got, want)
	}
}
