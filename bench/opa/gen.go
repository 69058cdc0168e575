package main

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
)

// GenOptions sizes a generated data set.
type GenOptions struct {
	Subjects int
	Queries  int
	Seed     uint64
}

// genNow is the earliest query time of a generated data set (unix seconds).
const genNow = 1790000000

// genPurposes covers every basis and both kinds of restriction behaviour;
// the epochs make consents recorded under early versions stale.
var genPurposes = map[string]PurposeDoc{
	"analytics":       {Basis: "consent"},
	"marketing":       {Basis: "consent", Epoch: 3},
	"personalisation": {Basis: "consent", Epoch: 2},
	"research":        {Basis: "consent", Epoch: 1},
	"newsletter":      {Basis: "consent"},
	"billing":         {Basis: "contract"},
	"fraud":           {Basis: "legitimate_interests"},
	"tax":             {Basis: "legal_obligation", SurvivesRestriction: true},
	"safety":          {Basis: "vital_interests", SurvivesRestriction: true},
	"statistics":      {Basis: "public_interest", SurvivesRestriction: true},
}

// genAsked is what queries ask for: the policy's purposes and two it lacks.
var genAsked = []string{
	"analytics", "marketing", "personalisation", "research", "newsletter",
	"billing", "fraud", "tax", "safety", "statistics", "telemetry", "ads",
}

// Generate makes a varied data set in which every reason of a decision occurs:
// restricted subjects, minors with and without a guardian's consent, former
// minors, withdrawn and stale consents, unknown subjects and purposes.
func Generate(o GenOptions) *Data {
	r := rand.New(rand.NewPCG(o.Seed, 0x6375_7374_6f73))
	d := &Data{
		Policy:   PolicyDoc{Version: "3", VersionSeq: 3, GuardianAge: 14, Purposes: map[string]PurposeDoc{}},
		Subjects: make(map[string]SubjectDoc, o.Subjects),
	}
	ids := slices.Sorted(maps.Keys(genPurposes)) // a fixed order keeps a seed's data the same
	for _, id := range ids {
		d.Policy.Purposes[id] = genPurposes[id]
	}
	const year = 365 * 24 * 3600
	for i := range o.Subjects {
		s := SubjectDoc{Restricted: r.IntN(20) == 0, Consents: map[string]ConsentDoc{}}
		minor := false
		switch k := r.IntN(20); {
		case k < 3: // a minor for up to three more years
			minor = true
			s.MinorUntil = genNow + 1 + r.Int64N(3*year)
		case k < 4: // a minor no longer
			s.MinorUntil = genNow - 1 - r.Int64N(3*year)
		}
		for _, id := range ids {
			if genPurposes[id].Basis != "consent" || r.IntN(10) < 3 {
				continue
			}
			c := ConsentDoc{Granted: r.IntN(5) != 0, VersionSeq: 1 + r.Int64N(3)}
			if minor {
				c.ByGuardian = r.IntN(2) == 0
			} else {
				c.ByGuardian = r.IntN(20) == 0
			}
			s.Consents[id] = c
		}
		d.Subjects[subjectID(i)] = s
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
		d.Queries[i] = q
	}
	return d
}

func subjectID(i int) string { return fmt.Sprintf("subj-%06d", i) }
