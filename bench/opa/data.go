package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/open-policy-agent/opa/v1/util"
)

// Data is the shared data file: a compiled policy, subjects' consent state and
// the queries to ask of both engines.
type Data struct {
	Policy   PolicyDoc             `json:"policy"`
	Subjects map[string]SubjectDoc `json:"subjects"`
	Queries  []Query               `json:"queries"`
}

// PolicyDoc is check.Policy as data.
type PolicyDoc struct {
	Version     string                `json:"version"`
	VersionSeq  int64                 `json:"version_seq"`
	GuardianAge int                   `json:"guardian_age"`
	Purposes    map[string]PurposeDoc `json:"purposes"`
}

// PurposeDoc is check.Rule as data.
type PurposeDoc struct {
	Basis               string `json:"basis"`
	Epoch               int64  `json:"epoch"`
	SurvivesRestriction bool   `json:"survives_restriction"`
}

// SubjectDoc is check.Subject as data; MinorUntil is in unix seconds, 0 for
// an adult or a subject of unknown age.
type SubjectDoc struct {
	Restricted bool                  `json:"restricted"`
	MinorUntil int64                 `json:"minor_until"`
	Consents   map[string]ConsentDoc `json:"consents"`
}

// ConsentDoc is check.Consent as data.
type ConsentDoc struct {
	Granted    bool  `json:"granted"`
	ByGuardian bool  `json:"by_guardian"`
	VersionSeq int64 `json:"version_seq"`
}

// Query asks for the decisions on some purposes for one subject at one time
// (unix seconds). It is also OPA's input document.
type Query struct {
	Subject  string   `json:"subject"`
	Purposes []string `json:"purposes"`
	Now      int64    `json:"now"`
}

func loadData(path string) (*Data, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load data: %w", err)
	}
	var d Data
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("load data %s: %w", path, err)
	}
	if len(d.Queries) == 0 {
		return nil, fmt.Errorf("load data %s: no queries", path)
	}
	return &d, nil
}

// checkPolicy builds Custos's policy from the data.
func (d *Data) checkPolicy() *check.Policy {
	rules := make([]check.Rule, 0, len(d.Policy.Purposes))
	for id, p := range d.Policy.Purposes {
		rules = append(rules, check.Rule{ID: id, Basis: p.Basis, Epoch: p.Epoch, SurvivesRestriction: p.SurvivesRestriction})
	}
	return check.NewPolicy(d.Policy.Version, d.Policy.VersionSeq, d.Policy.GuardianAge, rules)
}

// checkSubjects builds Custos's subject snapshots from the data.
func (d *Data) checkSubjects() map[string]*check.Subject {
	out := make(map[string]*check.Subject, len(d.Subjects))
	for id, s := range d.Subjects {
		cs := &check.Subject{Known: true, Restricted: s.Restricted, Consents: make(map[string]check.Consent, len(s.Consents))}
		if s.MinorUntil != 0 {
			cs.MinorUntil = time.Unix(s.MinorUntil, 0)
		}
		for p, c := range s.Consents {
			cs.Consents[p] = check.Consent{Granted: c.Granted, ByGuardian: c.ByGuardian, VersionSeq: c.VersionSeq}
		}
		out[id] = cs
	}
	return out
}

// opaDocument is OPA's data document. It is made from the decoded structs,
// not the raw file, so that both engines read exactly the same fields.
func (d *Data) opaDocument() (map[string]any, error) {
	b, err := json.Marshal(struct {
		Policy   PolicyDoc             `json:"policy"`
		Subjects map[string]SubjectDoc `json:"subjects"`
	}{d.Policy, d.Subjects})
	if err != nil {
		return nil, fmt.Errorf("opa data document: %w", err)
	}
	var doc map[string]any
	if err := util.UnmarshalJSON(b, &doc); err != nil {
		return nil, fmt.Errorf("opa data document: %w", err)
	}
	return doc, nil
}
