package main

import (
	"context"
	"errors"
	"testing"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestParityGenerated asks both engines every query of a generated data set
// in which every reason occurs, and requires the same decisions.
func TestParityGenerated(t *testing.T) {
	ctx := context.Background()
	d := Generate(GenOptions{Subjects: 400, Queries: 3000, Seed: 7})
	o, err := newOPAEngine(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	c := newCustosEngine(d)

	// Without every reason the comparison would prove less than it seems.
	seen := map[string]int{}
	for i := range d.Queries {
		for _, dec := range c.decide(&d.Queries[i], nil) {
			seen[dec.Reason]++
		}
	}
	for _, r := range []string{
		check.ReasonConsent, check.ReasonNoConsent, check.ReasonWithdrawn, check.ReasonReconsent,
		check.ReasonGuardian, check.ReasonRestricted, check.ReasonUnknownPurpose,
		"legal_basis:contract", "legal_basis:legitimate_interests", "legal_basis:legal_obligation",
		"legal_basis:vital_interests", "legal_basis:public_interest",
	} {
		if seen[r] == 0 {
			t.Errorf("generated data never gives reason %q (seen %v)", r, seen)
		}
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
	if n < 3000 {
		t.Errorf("parity compared %d decisions, want at least one per query", n)
	}
}

// TestDecisions checks each engine on its own against decisions worked out by
// hand, so that a mistake shared by both cannot pass.
func TestDecisions(t *testing.T) {
	const now = 1790000000
	base := func() *Data {
		return &Data{
			Policy: PolicyDoc{Version: "2", VersionSeq: 2, GuardianAge: 14, Purposes: map[string]PurposeDoc{
				"analytics":  {Basis: "consent"},
				"newsletter": {Basis: "consent"},
				"marketing":  {Basis: "consent", Epoch: 2},
				"billing":    {Basis: "contract"},
				"tax":        {Basis: "legal_obligation", SurvivesRestriction: true},
			}},
			Subjects: map[string]SubjectDoc{
				"adult": {Consents: map[string]ConsentDoc{
					"analytics": {Granted: true, VersionSeq: 1},
					"marketing": {Granted: true, VersionSeq: 1},
				}},
				"withdrawn": {Consents: map[string]ConsentDoc{"analytics": {Granted: false, VersionSeq: 2}}},
				"restricted": {Restricted: true, Consents: map[string]ConsentDoc{
					"analytics": {Granted: true, VersionSeq: 2},
				}},
				"child": {MinorUntil: now + 1000, Consents: map[string]ConsentDoc{
					"analytics": {Granted: true, ByGuardian: true, VersionSeq: 1},
					"marketing": {Granted: true, VersionSeq: 2},
				}},
				"child-stale": {MinorUntil: now + 1000, Consents: map[string]ConsentDoc{
					"analytics": {Granted: false, ByGuardian: true, VersionSeq: 2},
					"marketing": {Granted: true, VersionSeq: 1},
				}},
				"grown": {MinorUntil: now - 1, Consents: map[string]ConsentDoc{
					"analytics": {Granted: true, VersionSeq: 1},
				}},
				"birthday": {MinorUntil: now, Consents: map[string]ConsentDoc{
					"analytics": {Granted: true, VersionSeq: 1},
				}},
			},
		}
	}
	noGuardianRule := base()
	noGuardianRule.Policy.GuardianAge = 0

	allow := func(p, r string) check.Decision { return check.Decision{Purpose: p, Allowed: true, Reason: r} }
	deny := func(p, r string) check.Decision { return check.Decision{Purpose: p, Allowed: false, Reason: r} }
	type tcase struct {
		name     string
		subject  string
		purposes []string
		want     []check.Decision
	}
	fixtures := []struct {
		name  string
		data  *Data
		cases []tcase
	}{
		{"guardian age 14", base(), []tcase{
			{"adult", "adult", []string{"analytics", "marketing", "newsletter", "billing", "tax", "telemetry"}, []check.Decision{
				allow("analytics", "consent"),
				deny("marketing", "reconsent_required"),
				deny("newsletter", "no_consent"),
				allow("billing", "legal_basis:contract"),
				allow("tax", "legal_basis:legal_obligation"),
				deny("telemetry", "unknown_purpose"),
			}},
			{"withdrawn", "withdrawn", []string{"analytics"}, []check.Decision{deny("analytics", "withdrawn")}},
			{"restricted", "restricted", []string{"analytics", "billing", "tax", "telemetry"}, []check.Decision{
				deny("analytics", "restricted"),
				deny("billing", "restricted"),
				allow("tax", "legal_basis:legal_obligation"),
				deny("telemetry", "unknown_purpose"),
			}},
			{"minor", "child", []string{"analytics", "marketing", "newsletter", "billing"}, []check.Decision{
				allow("analytics", "consent"),
				deny("marketing", "guardian_required"),
				deny("newsletter", "guardian_required"),
				allow("billing", "legal_basis:contract"),
			}},
			{"minor, withdrawn and stale come first", "child-stale", []string{"analytics", "marketing"}, []check.Decision{
				deny("analytics", "withdrawn"),
				deny("marketing", "reconsent_required"),
			}},
			{"no longer a minor", "grown", []string{"analytics", "newsletter"}, []check.Decision{
				allow("analytics", "consent"),
				deny("newsletter", "no_consent"),
			}},
			{"minor until now", "birthday", []string{"analytics"}, []check.Decision{allow("analytics", "consent")}},
			{"unknown subject", "nobody", []string{"analytics", "billing", "tax", "ads"}, []check.Decision{
				deny("analytics", "no_consent"),
				allow("billing", "legal_basis:contract"),
				allow("tax", "legal_basis:legal_obligation"),
				deny("ads", "unknown_purpose"),
			}},
			{"a purpose twice", "adult", []string{"analytics", "analytics"}, []check.Decision{
				allow("analytics", "consent"),
				allow("analytics", "consent"),
			}},
			{"no purposes", "adult", nil, nil},
		}},
		{"no guardian rule", noGuardianRule, []tcase{
			{"minor", "child", []string{"analytics", "marketing", "newsletter"}, []check.Decision{
				allow("analytics", "consent"),
				allow("marketing", "consent"),
				deny("newsletter", "no_consent"),
			}},
		}},
	}

	ctx := context.Background()
	for _, f := range fixtures {
		for _, tc := range f.cases {
			f.data.Queries = append(f.data.Queries, Query{Subject: tc.subject, Purposes: tc.purposes, Now: now})
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

// BenchmarkCustosDecide answers the same queries with check.Policy.Decide.
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
