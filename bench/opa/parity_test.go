package main

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/bench/opadata"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestParityGenerated asks both engines every query of a generated data set
// in which every reason occurs, and requires the same decisions.
func TestParityGenerated(t *testing.T) {
	ctx := context.Background()
	d := Generate(GenOptions{Subjects: 400, Queries: 4000, Seed: 7})
	o, err := newOPAEngine(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	c := newCustosEngine(d)

	// Without every reason the comparison would prove less than it seems.
	seen := map[string]int{}
	acts := 0
	for i := range d.Queries {
		if d.Queries[i].Act != nil {
			acts++
		}
		for _, dec := range c.decide(&d.Queries[i], nil) {
			seen[dec.Reason]++
		}
	}
	want := append(slices.Clone(check.Reasons),
		"legal_basis:contract", "legal_basis:legitimate_interests", "legal_basis:legal_obligation",
		"legal_basis:vital_interests", "legal_basis:public_interest")
	for _, r := range want {
		if seen[r] == 0 {
			t.Errorf("generated data never gives reason %q (seen %v)", r, seen)
		}
	}
	if acts < len(d.Queries)/5 {
		t.Errorf("%d of %d generated queries name an act, want at least a fifth", acts, len(d.Queries))
	}

	n, err := parity(ctx, d, o, c)
	var pe *parityError
	if errors.As(err, &pe) {
		for _, m := range pe.Mismatches {
			t.Error(m)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	if n < len(d.Queries) {
		t.Errorf("parity compared %d decisions, want at least one per query", n)
	}
}

// decisionsNow is the time of every hand-worked decision, and
// decisionsSince when version 3, which people must accept, came into force.
const (
	decisionsNow   = 1790000000
	decisionsSince = decisionsNow - 1000
)

// decisionsSpec is the policy of the hand-worked decisions (version 3).
func decisionsSpec() check.Spec {
	since := time.Unix(decisionsSince, 0)
	return check.Spec{Version: "3", VersionSeq: 3, Jurisdictions: []string{"CN", "EU", "US", "JP"},
		Minors: []check.MinorSpec{
			{Stance: "guardian_consent", Age: 14, UnknownAge: "adult"}, // general rules
			{Stance: "guardian_consent", Age: 14, UnknownAge: "minor"}, // CN
			{Stance: "guardian_consent", Age: 16, UnknownAge: "ask"},   // EU
			{Stance: "adults_only", Age: 18, UnknownAge: "ask"},        // US
			// JP has no entry: not directed at minors
		},
		Purposes: []check.PurposeSpec{
			{ID: "analytics", Bases: []string{"consent"}}, // one basis: every jurisdiction's
			{ID: "marketing", Bases: []string{"consent"}, Epoch: 2},
			{ID: "newsletter", Bases: []string{"consent"}},
			// consent in CN; EU, US and JP fall back on the general basis
			{ID: "profiling", Bases: []string{"legitimate_interests", "consent"}, AcceptEpoch: 3, AcceptSince: since},
			{ID: "direct", Bases: []string{"legitimate_interests"}, DirectMarketing: true},
			{ID: "billing", Bases: []string{"contract"}, AcceptEpoch: 3, AcceptSince: since},
			{ID: "research", Bases: []string{"public_interest"}},
			{ID: "tax", Bases: []string{"legal_obligation"}},
			{ID: "safety", Bases: []string{"vital_interests"}},
		},
		Acts: []check.ActSpec{
			{Kind: "recipient", ID: "ads", Separate: true, Purposes: []string{"analytics", "profiling", "direct", "tax"}, Epoch: 2},
			{Kind: "recipient", ID: "cloud"},
			{Kind: "recipient", ID: "psp", Purposes: []string{"billing"}},
			{Kind: "recipient", ID: "none", Separate: true, Purposes: []string{}}, // declared for no purpose
			{Kind: "transfer", ID: "abroad", Separate: true},
			{Kind: "disclosure", Separate: true},
		}}
}

// decisionsSubjects are the subjects of the hand-worked decisions. Unless
// they say otherwise they came after version 3 and need not accept it.
func decisionsSubjects() map[string]Subject {
	const (
		now    = decisionsNow
		after  = decisionsSince + 10
		before = decisionsSince - 4000
		child  = now + 1000 // minor_until of a minor
	)
	ev := func(action string, byGuardian bool, seq int64) Consent {
		return Consent{Action: action, ByGuardian: byGuardian, VersionSeq: seq}
	}
	grant := func(seq int64) Consent { return ev("grant", false, seq) }
	byGuardian := func(seq int64) Consent { return ev("grant", true, seq) }
	s := func(jur int, minorUntil, created int64, consents map[string]Consent) Subject {
		return Subject{Jurisdiction: jur, MinorUntil: minorUntil, CreatedAt: created, Consents: consents}
	}
	unknownAge := func(jur int, consents map[string]Consent) Subject {
		x := s(jur, 0, after, consents)
		x.AgeUnknown = true
		return x
	}
	restricted := func(consents map[string]Consent) Subject {
		x := s(0, 0, after, consents)
		x.Restricted = true
		return x
	}
	return map[string]Subject{
		"adult": s(0, 0, after, map[string]Consent{"analytics": grant(1), "marketing": grant(1),
			"recipient:ads": grant(2), "transfer:abroad": grant(1)}),
		"withdrawn":           s(0, 0, after, map[string]Consent{"analytics": ev("withdraw", false, 2), "recipient:ads": ev("withdraw", false, 2)}),
		"stale-act":           s(0, 0, after, map[string]Consent{"analytics": grant(3), "recipient:ads": grant(1)}),
		"restricted":          restricted(map[string]Consent{"analytics": grant(3)}),
		"restricted-objector": restricted(map[string]Consent{"objection:research": ev("object", false, 3)}),
		"child": s(0, child, after, map[string]Consent{"analytics": byGuardian(1), "marketing": grant(2),
			"policy": ev("accept", true, 3), "recipient:ads": grant(2), "transfer:abroad": byGuardian(1), "disclosure": grant(3)}),
		"child-alone":      s(0, child, after, nil),
		"child-stale":      s(0, child, after, map[string]Consent{"analytics": ev("withdraw", true, 2), "marketing": grant(1), "policy": ev("accept", true, 3)}),
		"child-own-accept": s(0, child, after, map[string]Consent{"policy": ev("accept", false, 3)}),
		"child-old-accept": s(0, child, before, map[string]Consent{"policy": ev("accept", true, 2)}),
		"grown":            s(0, now-1, after, map[string]Consent{"analytics": grant(1)}),
		"birthday":         s(0, now, after, map[string]Consent{"analytics": grant(1)}),
		"age-unknown":      unknownAge(0, nil),
		"cn-adult":         s(1, 0, after, map[string]Consent{"profiling": grant(1)}),
		"cn-age-unknown":   unknownAge(1, map[string]Consent{"profiling": grant(1)}),
		"cn-objector":      s(1, 0, after, map[string]Consent{"objection:profiling": ev("object", false, 3)}),
		"eu-age-unknown":   unknownAge(2, map[string]Consent{"analytics": grant(1)}),
		"eu-teen":          s(2, child, after, map[string]Consent{"analytics": grant(1)}),
		"us-minor":         s(3, child, after, map[string]Consent{"analytics": grant(1)}),
		"us-age-unknown":   unknownAge(3, nil),
		"jp-minor":         s(4, child, after, map[string]Consent{"analytics": grant(1)}),
		"out-of-range":     s(9, 0, after, map[string]Consent{"profiling": grant(1)}),
		"objector": s(0, 0, after, map[string]Consent{"objection:profiling": ev("object", false, 3),
			"objection:direct": ev("override", false, 3), "objection:research": ev("override", false, 3)}),
		"lifted": s(0, 0, after, map[string]Consent{"objection:profiling": ev("lift", false, 3), "objection:direct": ev("object", false, 3)}),
		"overridden-act": s(0, 0, after, map[string]Consent{"objection:profiling": ev("override", false, 3),
			"recipient:ads": grant(2)}),
		"old-timer":    s(0, 0, before, map[string]Consent{"analytics": grant(1), "policy": ev("accept", false, 2)}),
		"old-objector": s(0, 0, before, map[string]Consent{"objection:profiling": ev("object", false, 3)}),
		"old-accepted": s(0, 0, before, map[string]Consent{"policy": ev("accept", false, 3)}),
	}
}

// TestDecisions checks each engine on its own against decisions worked out by
// hand, so that a mistake shared by both cannot pass.
func TestDecisions(t *testing.T) {
	base := func() *Data {
		return &Data{Policy: opadata.PolicyOf(decisionsSpec()), Subjects: decisionsSubjects()}
	}
	noMinorRules := base()
	noMinorRules.Policy.Minors = nil

	allow := func(p, r string) check.Decision { return check.Decision{Purpose: p, Allowed: true, Reason: r} }
	deny := func(p, r string) check.Decision { return check.Decision{Purpose: p, Allowed: false, Reason: r} }
	recipient := func(id string) *Act { return &Act{Kind: "recipient", ID: id} }
	type tcase struct {
		name     string
		subject  string
		purposes []string
		act      *Act
		want     []check.Decision
	}
	fixtures := []struct {
		name  string
		data  *Data
		cases []tcase
	}{
		{"policy", base(), []tcase{
			// 1. unknown purposes, and the bases as such
			{"adult", "adult", []string{"analytics", "marketing", "newsletter", "billing", "tax", "safety", "research", "direct", "profiling", "telemetry"}, nil, []check.Decision{
				allow("analytics", "consent"),
				deny("marketing", "reconsent_required"),
				deny("newsletter", "no_consent"),
				allow("billing", "legal_basis:contract"),
				allow("tax", "legal_basis:legal_obligation"),
				allow("safety", "legal_basis:vital_interests"),
				allow("research", "legal_basis:public_interest"),
				allow("direct", "legal_basis:legitimate_interests"),
				allow("profiling", "legal_basis:legitimate_interests"),
				deny("telemetry", "unknown_purpose"),
			}},
			{"a purpose twice", "adult", []string{"analytics", "analytics"}, nil, []check.Decision{allow("analytics", "consent"), allow("analytics", "consent")}},
			{"no purposes", "adult", nil, nil, nil},
			{"unknown subject", "nobody", []string{"analytics", "billing", "profiling", "tax", "ads"}, nil, []check.Decision{
				deny("analytics", "no_consent"),
				allow("billing", "legal_basis:contract"), // nobody to ask for an acceptance
				allow("profiling", "legal_basis:legitimate_interests"),
				allow("tax", "legal_basis:legal_obligation"),
				deny("ads", "unknown_purpose"),
			}},

			// 2. restriction
			{"restricted", "restricted", []string{"analytics", "billing", "direct", "tax", "safety", "research", "telemetry"}, nil, []check.Decision{
				deny("analytics", "restricted"),
				deny("billing", "restricted"),
				deny("direct", "restricted"),
				allow("tax", "legal_basis:legal_obligation"),
				allow("safety", "legal_basis:vital_interests"),
				allow("research", "legal_basis:public_interest"),
				deny("telemetry", "unknown_purpose"),
			}},
			{"restricted, a public task still takes objections", "restricted-objector", []string{"research"}, nil, []check.Decision{deny("research", "objected")}},

			// 3. minors
			{"minor with a guardian", "child", []string{"analytics", "marketing", "newsletter", "billing", "tax", "direct"}, nil, []check.Decision{
				allow("analytics", "consent"),
				deny("marketing", "guardian_consent_required"), // their own grant
				deny("newsletter", "guardian_consent_required"),
				allow("billing", "legal_basis:contract"), // the guardian accepted the policy
				allow("tax", "legal_basis:legal_obligation"),
				allow("direct", "legal_basis:legitimate_interests"),
			}},
			{"minor without a guardian", "child-alone", []string{"analytics", "billing", "direct", "tax", "safety", "research"}, nil, []check.Decision{
				deny("analytics", "guardian_consent_required"),
				deny("billing", "guardian_consent_required"),
				deny("direct", "guardian_consent_required"),
				allow("tax", "legal_basis:legal_obligation"),
				allow("safety", "legal_basis:vital_interests"),
				allow("research", "legal_basis:public_interest"),
			}},
			{"minor, withdrawn and stale come first", "child-stale", []string{"analytics", "marketing"}, nil, []check.Decision{
				deny("analytics", "withdrawn"),
				deny("marketing", "reconsent_required"),
			}},
			{"minor who accepted the policy themselves", "child-own-accept", []string{"billing"}, nil, []check.Decision{deny("billing", "guardian_consent_required")}},
			{"no longer a minor", "grown", []string{"analytics", "newsletter", "billing"}, nil, []check.Decision{
				allow("analytics", "consent"),
				deny("newsletter", "no_consent"),
				allow("billing", "legal_basis:contract"),
			}},
			{"minor until now", "birthday", []string{"analytics"}, nil, []check.Decision{allow("analytics", "consent")}},
			{"unknown age, general rules: an adult", "age-unknown", []string{"analytics", "billing"}, nil, []check.Decision{
				deny("analytics", "no_consent"),
				allow("billing", "legal_basis:contract"),
			}},
			{"unknown age in CN: a minor", "cn-age-unknown", []string{"profiling", "billing", "tax"}, nil, []check.Decision{
				deny("profiling", "guardian_consent_required"), // consent in CN, their own grant
				deny("billing", "guardian_consent_required"),
				allow("tax", "legal_basis:legal_obligation"),
			}},
			{"unknown age in EU: asked for", "eu-age-unknown", []string{"analytics", "profiling", "tax", "research"}, nil, []check.Decision{
				deny("analytics", "age_unknown"),
				deny("profiling", "age_unknown"),
				allow("tax", "legal_basis:legal_obligation"),
				allow("research", "legal_basis:public_interest"),
			}},
			{"EU threshold 16", "eu-teen", []string{"analytics", "profiling"}, nil, []check.Decision{
				deny("analytics", "guardian_consent_required"),
				deny("profiling", "guardian_consent_required"),
			}},
			{"US adults only", "us-minor", []string{"analytics", "billing", "tax", "safety"}, nil, []check.Decision{
				deny("analytics", "minor_not_served"),
				deny("billing", "minor_not_served"),
				allow("tax", "legal_basis:legal_obligation"),
				allow("safety", "legal_basis:vital_interests"),
			}},
			{"unknown age in US: asked for", "us-age-unknown", []string{"billing"}, nil, []check.Decision{deny("billing", "age_unknown")}},
			{"JP has no rule for minors of its own: the general one", "jp-minor", []string{"analytics", "billing"}, nil, []check.Decision{
				deny("analytics", "guardian_consent_required"),
				deny("billing", "guardian_consent_required"),
			}},

			// bases by jurisdiction
			{"CN basis", "cn-adult", []string{"profiling"}, nil, []check.Decision{allow("profiling", "consent")}},
			{"jurisdiction out of range: general rules", "out-of-range", []string{"profiling"}, nil, []check.Decision{
				allow("profiling", "legal_basis:legitimate_interests"),
			}},

			// 4. acceptance of a materially changed version
			{"acceptance of an old version", "old-timer", []string{"billing", "profiling", "direct", "analytics", "tax", "research"}, nil, []check.Decision{
				deny("billing", "policy_acceptance_required"),
				deny("profiling", "policy_acceptance_required"),
				allow("direct", "legal_basis:legitimate_interests"), // no acceptance asked for it
				allow("analytics", "consent"),
				allow("tax", "legal_basis:legal_obligation"),
				allow("research", "legal_basis:public_interest"),
			}},
			{"acceptance comes before objection", "old-objector", []string{"profiling"}, nil, []check.Decision{deny("profiling", "policy_acceptance_required")}},
			{"accepted", "old-accepted", []string{"billing", "profiling"}, nil, []check.Decision{
				allow("billing", "legal_basis:contract"),
				allow("profiling", "legal_basis:legitimate_interests"),
			}},
			{"a guardian's acceptance of an old version", "child-old-accept", []string{"billing", "analytics"}, nil, []check.Decision{
				deny("billing", "policy_acceptance_required"),
				deny("analytics", "guardian_consent_required"),
			}},

			// 5. objections
			{"objections", "objector", []string{"profiling", "direct", "research"}, nil, []check.Decision{
				deny("profiling", "objected"),
				deny("direct", "objected"), // direct marketing takes no override
				allow("research", "objection_overridden"),
			}},
			{"lifted", "lifted", []string{"profiling", "direct"}, nil, []check.Decision{
				allow("profiling", "legal_basis:legitimate_interests"),
				deny("direct", "objected"),
			}},
			{"no objection to consent", "cn-objector", []string{"profiling"}, nil, []check.Decision{deny("profiling", "no_consent")}},

			// 6. consent
			{"withdrawn", "withdrawn", []string{"analytics"}, nil, []check.Decision{deny("analytics", "withdrawn")}},

			// 7. acts
			{"recipient with separate consent", "adult", []string{"analytics", "marketing", "billing", "profiling", "telemetry"}, recipient("ads"), []check.Decision{
				allow("analytics", "separate_consent"),
				deny("marketing", "reconsent_required"), // the purpose first
				deny("billing", "not_declared"),
				allow("profiling", "separate_consent"),
				deny("telemetry", "unknown_purpose"),
			}},
			{"recipient for any purpose, no consent of its own", "adult", []string{"analytics", "billing", "newsletter"}, recipient("cloud"), []check.Decision{
				allow("analytics", "consent"),
				allow("billing", "legal_basis:contract"),
				deny("newsletter", "no_consent"),
			}},
			{"recipient for some purposes", "adult", []string{"billing", "analytics"}, recipient("psp"), []check.Decision{
				allow("billing", "legal_basis:contract"),
				deny("analytics", "not_declared"),
			}},
			{"recipient not in the policy", "adult", []string{"analytics", "tax"}, recipient("broker"), []check.Decision{
				deny("analytics", "not_declared"),
				deny("tax", "not_declared"),
			}},
			{"recipient declared for no purpose", "adult", []string{"analytics"}, recipient("none"), []check.Decision{deny("analytics", "not_declared")}},
			{"transfer", "adult", []string{"analytics", "tax"}, &Act{Kind: "transfer", ID: "abroad"}, []check.Decision{
				allow("analytics", "separate_consent"),
				allow("tax", "separate_consent"),
			}},
			{"disclosure without consent", "adult", []string{"analytics"}, &Act{Kind: "disclosure"}, []check.Decision{deny("analytics", "separate_consent_required")}},
			{"disclosure, an id is ignored", "adult", []string{"analytics"}, &Act{Kind: "disclosure", ID: "x"}, []check.Decision{deny("analytics", "separate_consent_required")}},
			{"a kind of act check does not know is no act", "adult", []string{"analytics", "newsletter"}, &Act{Kind: "broadcast", ID: "x"}, []check.Decision{
				allow("analytics", "consent"),
				deny("newsletter", "no_consent"),
			}},
			{"act consent withdrawn", "withdrawn", []string{"profiling"}, recipient("ads"), []check.Decision{deny("profiling", "separate_consent_required")}},
			{"act consent stale", "stale-act", []string{"analytics"}, recipient("ads"), []check.Decision{deny("analytics", "reconsent_required")}},
			{"restricted, with an act", "restricted", []string{"analytics", "tax"}, recipient("cloud"), []check.Decision{
				deny("analytics", "restricted"),
				allow("tax", "legal_basis:legal_obligation"),
			}},
			{"minor's own act consent", "child", []string{"analytics"}, recipient("ads"), []check.Decision{deny("analytics", "guardian_consent_required")}},
			{"minor's act consent by the guardian", "child", []string{"analytics"}, &Act{Kind: "transfer", ID: "abroad"}, []check.Decision{allow("analytics", "separate_consent")}},
			{"minor's own act consent, statutory basis", "child", []string{"analytics", "tax"}, &Act{Kind: "disclosure"}, []check.Decision{
				deny("analytics", "guardian_consent_required"),
				// a legal obligation goes on for a minor, but the act's own consent is still a consent
				deny("tax", "guardian_consent_required"),
			}},
			{"overridden objection, with acts", "overridden-act", []string{"profiling"}, recipient("ads"), []check.Decision{allow("profiling", "separate_consent")}},
			{"overridden objection, act without consent of its own", "overridden-act", []string{"profiling"}, recipient("cloud"), []check.Decision{allow("profiling", "objection_overridden")}},
			{"unknown subject, acts", "nobody", []string{"tax", "analytics"}, &Act{Kind: "disclosure"}, []check.Decision{
				deny("tax", "separate_consent_required"),
				deny("analytics", "no_consent"),
			}},
			{"unknown subject, act following its purpose", "nobody", []string{"billing"}, recipient("psp"), []check.Decision{allow("billing", "legal_basis:contract")}},
		}},
		{"no rules for minors", noMinorRules, []tcase{
			{"minor", "child", []string{"analytics", "marketing", "newsletter", "billing"}, nil, []check.Decision{
				allow("analytics", "consent"),
				allow("marketing", "consent"),
				deny("newsletter", "no_consent"),
				allow("billing", "legal_basis:contract"),
			}},
			{"minor without a guardian", "child-alone", []string{"billing"}, nil, []check.Decision{allow("billing", "legal_basis:contract")}},
			{"unknown age", "eu-age-unknown", []string{"analytics"}, nil, []check.Decision{allow("analytics", "consent")}},
			{"adults only no more", "us-minor", []string{"analytics"}, nil, []check.Decision{allow("analytics", "consent")}},
			{"minor's own act consent", "child", []string{"analytics"}, recipient("ads"), []check.Decision{allow("analytics", "separate_consent")}},
		}},
	}

	ctx := context.Background()
	for _, f := range fixtures {
		for _, tc := range f.cases {
			f.data.Queries = append(f.data.Queries, Query{Subject: tc.subject, Purposes: tc.purposes, Act: tc.act, Now: decisionsNow})
		}
		o, err := newOPAEngine(ctx, f.data)
		if err != nil {
			t.Fatal(err)
		}
		c := newCustosEngine(f.data)
		for i, tc := range f.cases {
			t.Run(f.name+"/"+tc.name, func(t *testing.T) {
				q := &f.data.Queries[i]
				if diff := cmp.Diff(tc.want, c.decide(q, nil), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("custos decisions (-want +got):\n%s", diff)
				}
				got, err := o.decide(ctx, i)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("opa decisions (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// benchData is the data set both benchmarks run over.
func benchData() *Data { return Generate(GenOptions{Subjects: 1000, Queries: 2000, Seed: 1}) }

// BenchmarkOPAEmbedded evaluates the prepared Rego query, one query per
// iteration, and reports the time per decision as well.
func BenchmarkOPAEmbedded(b *testing.B) {
	ctx := context.Background()
	d := benchData()
	o, err := newOPAEngine(ctx, d)
	if err != nil {
		b.Fatal(err)
	}
	next := opaStep(ctx, d, o)
	var decisions int
	for b.Loop() {
		n, _, err := next()
		if err != nil {
			b.Fatal(err)
		}
		decisions += n
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(decisions), "ns/decision")
}

// BenchmarkCustosDecide answers the same queries with check.Policy.DecideAct.
func BenchmarkCustosDecide(b *testing.B) {
	d := benchData()
	next := custosStep(d, newCustosEngine(d))
	var decisions int
	for b.Loop() {
		n, _, err := next()
		if err != nil {
			b.Fatal(err)
		}
		decisions += n
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(decisions), "ns/decision")
}
