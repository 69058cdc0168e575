package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/custos-privacy/custos/internal/bench/opadata"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/open-policy-agent/opa/v1/util"
)

// The data file (internal/bench/opadata): a policy as check.Spec, subjects'
// snapshots and queries.
type (
	Data    = opadata.Data
	Query   = opadata.Query
	Act     = opadata.Act
	Subject = opadata.Subject
	Consent = opadata.Consent
)

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

// checkPolicy compiles Custos's policy from the data.
func checkPolicy(d *Data) *check.Policy { return check.NewPolicy(d.Policy.CheckSpec()) }

// checkSubjects builds Custos's subject snapshots from the data.
func checkSubjects(d *Data) map[string]*check.Subject {
	out := make(map[string]*check.Subject, len(d.Subjects))
	for id, s := range d.Subjects {
		out[id] = s.CheckSubject()
	}
	return out
}

// opaPolicy is the policy as the Rego reads it: the fields of check.Spec,
// with purposes keyed by id and acts by the ledger key of their separate
// consent, the layout a Rego author gives data that is looked up by key.
type opaPolicy struct {
	Version       string                     `json:"version"`
	VersionSeq    int64                      `json:"version_seq"`
	Jurisdictions []string                   `json:"jurisdictions"`
	Minors        []check.MinorSpec          `json:"minors"`
	Purposes      map[string]opadata.Purpose `json:"purposes"`
	Acts          map[string]check.ActSpec   `json:"acts"`
}

// opaDocument is OPA's data document: {"policy": …, "subjects": …}. It is
// made from the decoded file, not the raw one, so that both engines read
// exactly the same fields. Where the file names a purpose or an act twice,
// the last one counts, as in check.NewPolicy; an act of a kind check does
// not know is left out, as check.NewPolicy leaves it.
func opaDocument(d *Data) (map[string]any, error) {
	p := opaPolicy{Version: d.Policy.Version, VersionSeq: d.Policy.VersionSeq, Jurisdictions: d.Policy.Jurisdictions,
		Minors: d.Policy.Minors, Purposes: map[string]opadata.Purpose{}, Acts: map[string]check.ActSpec{}}
	for _, pd := range d.Policy.Purposes {
		p.Purposes[pd.ID] = pd
	}
	for _, a := range d.Policy.Acts {
		act := check.Act{Kind: check.ParseActKind(a.Kind), ID: a.ID}
		if act.Kind != check.ActNone {
			p.Acts[check.ActKey(act)] = a
		}
	}
	b, err := json.Marshal(struct {
		Policy   opaPolicy                  `json:"policy"`
		Subjects map[string]opadata.Subject `json:"subjects"`
	}{p, d.Subjects})
	if err != nil {
		return nil, fmt.Errorf("opa data document: %w", err)
	}
	var doc map[string]any
	if err := util.UnmarshalJSON(b, &doc); err != nil {
		return nil, fmt.Errorf("opa data document: %w", err)
	}
	return doc, nil
}
