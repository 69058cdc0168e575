// Package opadata is the data file of the comparison with Open Policy Agent:
// a decision policy (check.Spec), subjects' snapshots (check.Subject) and
// the queries to ask of both engines. `custos bench check --vs-opa` writes
// it from a running consent service; the bench/opa harness (a module of its
// own) reads it. One definition keeps the writer and the reader from
// drifting apart.
//
// Times are unix seconds, with 0 for a zero time, so that Rego compares
// numbers; actions are the ledger's names.
package opadata

import (
	"time"

	"github.com/custos-privacy/custos/internal/check"
)

// Data is the whole file.
type Data struct {
	Policy   Policy             `json:"policy"`
	Subjects map[string]Subject `json:"subjects"`
	Queries  []Query            `json:"queries"`
}

// Policy is check.Spec with accept_since in unix seconds.
type Policy struct {
	check.Spec
	Purposes []Purpose `json:"purposes"` // shadows Spec.Purposes in JSON
}

// Purpose is check.PurposeSpec with accept_since in unix seconds.
type Purpose struct {
	check.PurposeSpec
	AcceptSince int64 `json:"accept_since"` // shadows PurposeSpec.AcceptSince in JSON
}

// PolicyOf writes out a policy.
func PolicyOf(sp check.Spec) Policy {
	p := Policy{Spec: sp, Purposes: make([]Purpose, len(sp.Purposes))}
	p.Spec.Purposes = nil
	for i, ps := range sp.Purposes {
		p.Purposes[i] = Purpose{PurposeSpec: ps, AcceptSince: unix(ps.AcceptSince)}
	}
	return p
}

// CheckSpec is the policy as check.NewPolicy takes it.
func (p Policy) CheckSpec() check.Spec {
	sp := p.Spec
	sp.Purposes = make([]check.PurposeSpec, len(p.Purposes))
	for i, pd := range p.Purposes {
		sp.Purposes[i] = pd.PurposeSpec
		sp.Purposes[i].AcceptSince = fromUnix(pd.AcceptSince)
	}
	return sp
}

// Subject is check.Subject with times in unix seconds. A subject the file
// lists is known; one it does not list is a person Custos does not know.
type Subject struct {
	Restricted   bool               `json:"restricted"`
	Jurisdiction int                `json:"jurisdiction"` // index in the policy; 0: general rules
	MinorUntil   int64              `json:"minor_until"`  // 0: not a minor by their age facts
	AgeUnknown   bool               `json:"age_unknown"`
	GuardianID   string             `json:"guardian_id"`
	CreatedAt    int64              `json:"created_at"`
	Consents     map[string]Consent `json:"consents"` // by ledger key
}

// Consent is check.Consent with the action by its ledger name.
type Consent struct {
	Action     string `json:"action"` // grant, withdraw, object, lift, override, accept
	ByGuardian bool   `json:"by_guardian"`
	VersionSeq int64  `json:"version_seq"`
}

// SubjectOf writes out a snapshot.
func SubjectOf(s *check.Subject) Subject {
	out := Subject{Restricted: s.Restricted, Jurisdiction: s.Jurisdiction, MinorUntil: unix(s.MinorUntil), AgeUnknown: s.AgeUnknown,
		GuardianID: s.GuardianID, CreatedAt: unix(s.CreatedAt), Consents: make(map[string]Consent, len(s.Consents))}
	for k, c := range s.Consents {
		out.Consents[k] = Consent{Action: c.Action.String(), ByGuardian: c.ByGuardian, VersionSeq: c.VersionSeq}
	}
	return out
}

// CheckSubject is the snapshot check.Policy.DecideAct takes.
func (s Subject) CheckSubject() *check.Subject {
	out := &check.Subject{Known: true, Restricted: s.Restricted, Jurisdiction: s.Jurisdiction, MinorUntil: fromUnix(s.MinorUntil),
		AgeUnknown: s.AgeUnknown, GuardianID: s.GuardianID, CreatedAt: fromUnix(s.CreatedAt), Consents: make(map[string]check.Consent, len(s.Consents))}
	for k, c := range s.Consents {
		out.Consents[k] = check.Consent{Action: check.ParseAction(c.Action), ByGuardian: c.ByGuardian, VersionSeq: c.VersionSeq}
	}
	return out
}

// Query asks for the decisions on some purposes, for one subject at one
// time, and optionally for an act done for them. It is also OPA's input
// document.
type Query struct {
	Subject  string   `json:"subject"`
	Purposes []string `json:"purposes"`
	Act      *Act     `json:"act,omitempty"`
	Now      int64    `json:"now"`
}

// Act is check.Act by name: kind recipient, transfer or disclosure, and the
// recipient's or transfer's id. A kind check does not know is no act.
type Act struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// ActOf writes out an act; nil for none.
func ActOf(a check.Act) *Act {
	if a.Kind.String() == "" {
		return nil
	}
	return &Act{Kind: a.Kind.String(), ID: a.ID}
}

// CheckAct is the act check.Policy.DecideAct takes; the zero Act for none.
func (a *Act) CheckAct() check.Act {
	if a == nil {
		return check.Act{}
	}
	return check.Act{Kind: check.ParseActKind(a.Kind), ID: a.ID}
}

func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

func fromUnix(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0)
}
