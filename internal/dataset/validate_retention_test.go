package dataset

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/manifest"
)

// retentionCase is one collection of the shop datastore with a retention
// block, under the starter manifest's rules.
func retentionCase(retention, fields string) string {
	return head + `      - name: tickets
` + retention + `        fields:
          - name: id
            primary_key: true
          - name: email
            identity: email
            categories: [basic.email]
` + fields
}

func TestValidateRetention(t *testing.T) {
	m := starter(t)
	m.Retention = append(m.Retention, manifest.Retention{ID: "statutory", Until: "legal_minimum", After: "delete"})
	created := "          - name: created_at\n            data_type: datetime\n"
	tests := []struct {
		name      string
		retention string
		fields    string
		want      []string
	}{
		{name: "clock, delete by default erasure", retention: "        retention:\n          - {rule: support, clock: created_at}\n", fields: created},
		{name: "event", retention: "        retention:\n          - {rule: push, event: consent_withdrawn}\n          - {rule: account, event: account_deletion, action: delete}\n"},
		{name: "anonymise by clock", retention: "        retention:\n          - {rule: analytics, clock: created_at}\n", fields: "          - name: created_at\n            data_type: datetime\n            anonymise: month\n"},
		{
			name:      "unknown rule",
			retention: "        retention:\n          - {rule: suport, clock: created_at}\n",
			fields:    created,
			want:      []string{`v.yaml:9:20: unknown retention rule "suport" (did you mean "support"?)`},
		},
		{
			name:      "clock and event",
			retention: "        retention:\n          - {rule: support, clock: created_at, event: consent_withdrawn}\n",
			fields:    created,
			want:      []string{`v.yaml:9:55: give "clock" or "event", not both: a row's period starts from a field or ends at an event`},
		},
		{
			name:      "neither",
			retention: "        retention:\n          - {rule: support}\n",
			want:      []string{`v.yaml:9:13: missing "clock" (the field that starts the period) or "event" (what ends retention for a person)`},
		},
		{
			name:      "clock not a field, clock not a time",
			retention: "        retention:\n          - {rule: support, clock: created}\n          - {rule: crash, clock: email}\n",
			want: []string{
				`v.yaml:9:36: clock "created" is not a field of collection "tickets"`,
			},
		},
		{
			name:      "clock of the wrong type",
			retention: "        retention:\n          - {rule: support, clock: n}\n",
			fields:    "          - name: n\n            data_type: integer\n",
			want:      []string{`v.yaml:9:36: clock "n" is integer: want a date or datetime field`},
		},
		{
			name:      "period from an event bound to a clock, event rule bound to a clock",
			retention: "        retention:\n          - {rule: push, clock: created_at}\n          - {rule: support, event: consent_withdrawn}\n",
			fields:    created,
			want: []string{
				`v.yaml:9:33: rule "push" has no period: it ends when consent_withdrawn; bind it with event: consent_withdrawn`,
				`v.yaml:10:36: rule "support" counts 2 years from collection: name the field that records it with clock`,
			},
		},
		{
			name:      "wrong event, legal minimum",
			retention: "        retention:\n          - {rule: push, event: account_deletion}\n          - {rule: statutory, event: account_deletion}\n",
			want: []string{
				`v.yaml:9:33: rule "push" ends at consent_withdrawn, not account_deletion`,
				`v.yaml:10:20: rule "statutory" keeps data for the legal minimum without stating it: no sweep can enforce that; give the rule a period`,
			},
		},
		{
			name:      "action the rule does not allow",
			retention: "        retention:\n          - {rule: analytics, clock: created_at, action: delete}\n          - {rule: marketing, event: consent_withdrawn, action: delete}\n",
			fields:    created,
			want: []string{
				`v.yaml:9:58: rule "analytics" says anonymise when retention ends: action "delete" does not (want [anonymise])`,
				`v.yaml:10:65: rule "marketing" says restrict when retention ends: action "delete" does not (want [erase])`,
			},
		},
		{
			name:      "erasure a sweep cannot recognise",
			retention: "        retention:\n          - {rule: support, clock: created_at}\n",
			fields:    created + "          - name: phone\n            categories: [basic.phone]\n            erase: hash\n          - name: token\n            categories: [basic.email]\n            erase: random\n",
			want: []string{
				`v.yaml:20:20: field "phone" is erased with hash: a sweep by clock finds rows still to erase by their fields, so use null or fixed (or delete the rows)`,
				`v.yaml:23:20: field "token" is erased with random, which a retention sweep cannot tell from a live value: use null or fixed`,
			},
		},
		{
			name:      "anonymisation that keeps a person",
			retention: "        retention:\n          - {rule: analytics, clock: created_at}\n",
			fields:    "          - name: created_at\n            data_type: datetime\n          - name: user_id\n            anonymise: keep\n            references: {collection: tickets, field: id}\n          - name: amount\n            data_type: integer\n            anonymise: year\n",
			want: []string{
				`v.yaml:19:24: field "user_id" identifies a person or leads to one: anonymisation must drop it`,
				`v.yaml:23:24: field "amount" is integer: only dates and times are generalised to a year`,
			},
		},
		{
			name:      "anonymisation that drops nothing, rule bound twice",
			retention: "        retention:\n          - {rule: analytics, clock: created_at}\n          - {rule: analytics, clock: created_at}\n",
			fields:    created,
			want: []string{
				`v.yaml:10:20: rule "analytics" is bound to collection "tickets" twice`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Parse reports what needs no manifest, Validate the rest.
			var ps Problems
			d, err := Parse("v.yaml", []byte(retentionCase(tt.retention, tt.fields)))
			if err != nil && !errors.As(err, &ps) {
				t.Fatal(err)
			}
			if err == nil {
				ps = d.Validate(m)
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.String())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAnonymiseMustDrop(t *testing.T) {
	m := starter(t)
	d := &Dataset{File: "code", Datastores: []Datastore{{ID: "shop", Collections: []Collection{{
		Name:      "visits",
		Retention: []RetentionTarget{{Rule: "analytics", Clock: "at"}},
		Fields: []Field{
			{Name: "id", PrimaryKey: true, Identity: "user_id"},
			{Name: "at", DataType: "datetime"},
			{Name: "page", Categories: []string{"usage.logs"}, Anonymise: AnonymiseKeep},
		},
	}}}}}
	var got []string
	for _, p := range d.Validate(m) {
		got = append(got, p.String())
	}
	want := []string{`code:1:1: anonymising collection "visits" drops no field: the rows would still relate to a person`}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Validate (-want +got):\n%s", diff)
	}
}

func TestRetentionCoverage(t *testing.T) {
	m := starter(t)
	d, err := Parse("v.yaml", []byte(retentionCase("        retention:\n          - {rule: support, clock: created_at}\n",
		"          - name: created_at\n            data_type: datetime\n")+
		"      - name: visits\n        fields:\n          - name: id\n            primary_key: true\n            identity: user_id\n            categories: [usage.logs]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range d.RetentionCoverage(m) {
		got = append(got, p.String())
	}
	if len(got) != len(m.Retention) { // every rule but support, and visits
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(m.Retention), strings.Join(got, "\n"))
	}
	if want := `v.yaml:18:15: collection "visits" holds personal data but no retention rule is bound to it`; got[0] != want {
		t.Errorf("first problem = %q, want %q", got[0], want)
	}
	for _, p := range got[1:] {
		if !strings.HasPrefix(p, "../../examples/starter/custos.yaml:") || !strings.Contains(p, "is bound to no collection of v.yaml") {
			t.Errorf("problem %q: want it at the rule in the manifest", p)
		}
		if strings.Contains(p, `"support"`) {
			t.Errorf("support is bound, yet: %s", p)
		}
	}
}
