package opadata

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/google/go-cmp/cmp"
)

// TestRoundTrip writes a policy, a snapshot and a query to JSON and reads
// them back: what check decides on must survive the file, and the file
// must carry times as unix seconds.
func TestRoundTrip(t *testing.T) {
	since := time.Unix(1780000000, 0)
	sp := check.Spec{Version: "3", VersionSeq: 3, Jurisdictions: []string{"CN", "EU"},
		Minors: []check.MinorSpec{{Stance: "guardian_consent", Age: 14, UnknownAge: "adult"}, {Stance: "adults_only", Age: 16, UnknownAge: "ask"}},
		Purposes: []check.PurposeSpec{
			{ID: "analytics", Bases: []string{"consent", "consent", "legitimate_interests"}, Epoch: 2, Separate: true, RefusedBy: []string{"dnt"}},
			{ID: "billing", Bases: []string{"contract"}, AcceptEpoch: 3, AcceptSince: since, DirectMarketing: true},
		},
		Acts: []check.ActSpec{{Kind: "recipient", ID: "ads", Separate: true, Purposes: []string{"analytics"}, Epoch: 2}, {Kind: "disclosure", Separate: true}},
	}
	subj := &check.Subject{Known: true, Restricted: true, Jurisdiction: 2, MinorUntil: time.Unix(1800000000, 0), AgeUnknown: true,
		GuardianID: "g", CreatedAt: time.Unix(1770000000, 0), Consents: map[string]check.Consent{
			"analytics":           {Action: check.ActionGrant, ByGuardian: true, VersionSeq: 2},
			"objection:billing":   {Action: check.ActionOverride, VersionSeq: 1},
			check.KeyPolicy:       {Action: check.ActionAccept, VersionSeq: 3},
			"recipient:ads":       {Action: check.ActionWithdraw, VersionSeq: 3},
			"objection:analytics": {Action: check.ActionLift},
			"transfer:x":          {Action: check.ActionObject},
		}}
	act := check.Act{Kind: check.ActRecipient, ID: "ads"}
	in := Data{Policy: PolicyOf(sp), Subjects: map[string]Subject{"s": SubjectOf(subj)},
		Queries: []Query{{Subject: "s", Purposes: []string{"analytics"}, Act: ActOf(act), Now: 1790000000}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Policy struct {
			Purposes []map[string]any `json:"purposes"`
		} `json:"policy"`
		Subjects map[string]map[string]any `json:"subjects"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	if got := raw.Policy.Purposes[1]["accept_since"]; got != float64(1780000000) {
		t.Errorf("accept_since in the file = %v, want unix seconds 1780000000", got)
	}
	if got := raw.Subjects["s"]["minor_until"]; got != float64(1800000000) {
		t.Errorf("minor_until in the file = %v, want unix seconds 1800000000", got)
	}
	var out Data
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sp, out.Policy.CheckSpec()); diff != "" {
		t.Errorf("spec after the file (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(subj, out.Subjects["s"].CheckSubject()); diff != "" {
		t.Errorf("subject after the file (-want +got):\n%s", diff)
	}
	if got := out.Queries[0].Act.CheckAct(); got != act {
		t.Errorf("act after the file = %+v, want %+v", got, act)
	}
	var none *Act
	if got := none.CheckAct(); got != (check.Act{}) || ActOf(check.Act{}) != nil {
		t.Errorf("no act: CheckAct = %+v, ActOf = %+v; want the zero Act and nil", got, ActOf(check.Act{}))
	}
}
