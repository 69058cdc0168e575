package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/custos-privacy/custos/internal/bench/opadata"
	"github.com/custos-privacy/custos/internal/check"
)

// GenOptions sizes a generated data set.
type GenOptions struct {
	Subjects int
	Queries  int
	Seed     uint64
}

const (
	// genNow is the earliest query time of a generated data set (unix seconds).
	genNow = 1790000000
	day    = 24 * 3600
	year   = 365 * day
	// genAcceptSince is when the version people must accept (3) came into force.
	genAcceptSince = genNow - 90*day
)

// genSpec is the generated policy, version 3. Its jurisdictions treat
// minors every way check knows (index 0 is the general rules):
//
//	general  guardian_consent under 14, unknown age: adult
//	CN       guardian_consent under 14, unknown age: minor
//	EU       guardian_consent under 16, unknown age: ask
//	US       adults_only under 18, unknown age: ask
//	JP       not directed at minors
//
// Bases differ by jurisdiction; versions 2 and 3 made consents stale
// (epochs) and version 3 asked for express acceptance (billing, fraud).
func genSpec() check.Spec {
	all := func(b string) []string { return []string{b, b, b, b, b} }
	return check.Spec{
		Version: "3", VersionSeq: 3,
		Jurisdictions: []string{"CN", "EU", "US", "JP"},
		Minors: []check.MinorSpec{
			{Stance: "guardian_consent", Age: 14, UnknownAge: "adult"},
			{Stance: "guardian_consent", Age: 14, UnknownAge: "minor"},
			{Stance: "guardian_consent", Age: 16, UnknownAge: "ask"},
			{Stance: "adults_only", Age: 18, UnknownAge: "ask"},
			{Stance: "not_directed"},
		},
		Purposes: []check.PurposeSpec{
			{ID: "analytics", Bases: all("consent"), RefusedBy: []string{"dnt"}},
			{ID: "newsletter", Bases: all("consent"), Epoch: 3},
			{ID: "location", Bases: all("consent"), Epoch: 1, Separate: true},
			{ID: "personalisation", Bases: []string{"consent", "consent", "legitimate_interests", "consent", "consent"}, Epoch: 2},
			{ID: "marketing", Bases: []string{"legitimate_interests", "consent", "consent", "legitimate_interests", "legitimate_interests"}, DirectMarketing: true},
			{ID: "billing", Bases: all("contract"), AcceptEpoch: 3, AcceptSince: time.Unix(genAcceptSince, 0)},
			{ID: "fraud", Bases: []string{"legitimate_interests", "legal_obligation", "legitimate_interests", "legitimate_interests", "legitimate_interests"},
				AcceptEpoch: 3, AcceptSince: time.Unix(genAcceptSince, 0)},
			{ID: "research", Bases: all("public_interest")},
			{ID: "tax", Bases: all("legal_obligation")},
			{ID: "safety", Bases: all("vital_interests")},
		},
		Acts: []check.ActSpec{
			{Kind: "recipient", ID: "ads-partner", Separate: true, Purposes: []string{"analytics", "marketing", "personalisation"}, Epoch: 2},
			{Kind: "recipient", ID: "cloud"}, // for any purpose, no consent of its own
			{Kind: "recipient", ID: "psp", Purposes: []string{"billing"}},
			{Kind: "transfer", ID: "us-hosting", Separate: true},
			{Kind: "transfer", ID: "sg-relay", Separate: true, Purposes: []string{"location"}, Epoch: 3},
			{Kind: "disclosure", Separate: true},
		},
	}
}

// genAsked is what queries ask for: the policy's purposes and two it lacks.
var genAsked = []string{
	"analytics", "newsletter", "location", "personalisation", "marketing",
	"billing", "fraud", "research", "tax", "safety", "telemetry", "ads",
}

// genActs are the acts queries ask about, one the policy does not name.
var genActs = []opadata.Act{
	{Kind: "recipient", ID: "ads-partner"}, {Kind: "recipient", ID: "cloud"}, {Kind: "recipient", ID: "psp"},
	{Kind: "recipient", ID: "data-broker"}, {Kind: "transfer", ID: "us-hosting"}, {Kind: "transfer", ID: "sg-relay"},
	{Kind: "disclosure"},
}

// Ledger keys a generated subject may have events under.
var (
	genConsentKeys   = []string{"analytics", "newsletter", "location", "personalisation", "marketing"}
	genObjectionKeys = []string{"objection:marketing", "objection:fraud", "objection:research"}
	genActKeys       = []string{"recipient:ads-partner", "transfer:us-hosting", "transfer:sg-relay", check.KeyDisclosure}
	genObjections    = []string{"object", "lift", "override"}
)

// Generate makes a varied data set in which every reason of a decision
// occurs: subjects in every jurisdiction, minors and former minors, people
// of unknown age, restricted subjects, withdrawn and stale consents,
// objections lifted and overridden, acceptances of old and new versions by
// subjects and guardians, separate consents to acts, unknown subjects and
// purposes, and queries about acts.
func Generate(o GenOptions) *Data {
	r := rand.New(rand.NewPCG(o.Seed, 0x6375_7374_6f73))
	sp := genSpec()
	d := &Data{Policy: opadata.PolicyOf(sp), Subjects: make(map[string]Subject, o.Subjects)}
	for i := range o.Subjects {
		d.Subjects[subjectID(i)] = genSubject(r, len(sp.Jurisdictions)+1)
	}
	d.Queries = make([]Query, o.Queries)
	for i := range d.Queries {
		q := Query{Now: genNow + r.Int64N(year)}
		if o.Subjects == 0 || r.IntN(10) == 0 {
			q.Subject = fmt.Sprintf("unknown-%d", i)
		} else {
			q.Subject = subjectID(r.IntN(o.Subjects))
		}
		perm := r.Perm(len(genAsked))
		for _, k := range perm[:1+r.IntN(6)] {
			q.Purposes = append(q.Purposes, genAsked[k])
		}
		if r.IntN(10) < 3 {
			a := genActs[r.IntN(len(genActs))]
			q.Act = &a
		}
		d.Queries[i] = q
	}
	return d
}

func genSubject(r *rand.Rand, jurisdictions int) Subject {
	s := Subject{
		Restricted:   r.IntN(20) == 0,
		Jurisdiction: r.IntN(jurisdictions),
		CreatedAt:    genNow - r.Int64N(2*year),
		Consents:     map[string]Consent{},
	}
	minor := false
	switch k := r.IntN(20); {
	case k < 4: // a minor for up to three more years
		minor = true
		s.MinorUntil = genNow + 1 + r.Int64N(3*year)
		if r.IntN(2) == 0 {
			s.GuardianID = fmt.Sprintf("guardian-%d", r.IntN(1000))
		}
	case k < 5: // a minor no longer
		s.MinorUntil = genNow - 1 - r.Int64N(3*year)
	case k < 7:
		s.AgeUnknown = true
	}
	byGuardian := func() bool {
		if minor {
			return r.IntN(2) == 0
		}
		return r.IntN(20) == 0
	}
	for _, k := range genConsentKeys {
		if r.IntN(10) < 7 {
			action := "grant"
			if r.IntN(5) == 0 {
				action = "withdraw"
			}
			s.Consents[k] = Consent{Action: action, ByGuardian: byGuardian(), VersionSeq: 1 + r.Int64N(3)}
		}
	}
	for _, k := range genObjectionKeys {
		if r.IntN(5) == 0 {
			s.Consents[k] = Consent{Action: genObjections[r.IntN(len(genObjections))], VersionSeq: 1 + r.Int64N(3)}
		}
	}
	if r.IntN(2) == 0 {
		s.Consents[check.KeyPolicy] = Consent{Action: "accept", ByGuardian: byGuardian(), VersionSeq: 2 + r.Int64N(2)}
	}
	for _, k := range genActKeys {
		if r.IntN(2) == 0 {
			action := "grant"
			if r.IntN(5) == 0 {
				action = "withdraw"
			}
			s.Consents[k] = Consent{Action: action, ByGuardian: byGuardian(), VersionSeq: 1 + r.Int64N(3)}
		}
	}
	return s
}

func subjectID(i int) string { return fmt.Sprintf("subj-%06d", i) }
