package audit

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewEntry(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	a := Actor{ID: "key_1", Role: "operator", Place: "192.0.2.1 custos.example"}
	tests := []struct {
		name    string
		outcome string
		detail  any
		want    Entry
	}{
		{"no detail, default outcome", "", nil, Entry{Outcome: OutcomeOK, Detail: "{}"}},
		{"a map", OutcomeDenied, map[string]string{"code": "no_consent"}, Entry{Outcome: OutcomeDenied, Detail: `{"code":"no_consent"}`}},
		{"JSON as a string", "", `{"event":"ce_1"}`, Entry{Outcome: OutcomeOK, Detail: `{"event":"ce_1"}`}},
		{"an empty string", "", "", Entry{Outcome: OutcomeOK, Detail: "{}"}},
		{"raw JSON", OutcomeError, json.RawMessage(`{"n":1}`), Entry{Outcome: OutcomeError, Detail: `{"n":1}`}},
		{"a struct", "", struct {
			N int `json:"n"`
		}{2}, Entry{Outcome: OutcomeOK, Detail: `{"n":2}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NewEntry(at, a, "consent.grant", "subject:u-1", "analytics", tt.outcome, tt.detail)
			want := tt.want
			want.At, want.Actor, want.Role, want.Place, want.Action, want.Object, want.Purpose = at, "key_1", "operator", "192.0.2.1 custos.example", "consent.grant", "subject:u-1", "analytics"
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("NewEntry (-want +got):\n%s", d)
			}
		})
	}
	if s := System("scheduler"); s != (Actor{ID: "system", Role: "system", Place: "scheduler"}) {
		t.Errorf("System = %+v", s)
	}
}
