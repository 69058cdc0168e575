package org_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

// TestSetRetention: an organisation's own periods are checked against
// the legal minimums, an audit retention needs checkpoints to a file,
// the deployment's own organisation and an unknown one are refused, and a
// change is kept and audited on the deployment's trail.
func TestSetRetention(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	admin := consent.Actor{ID: "cli:root", Role: "admin", Place: "cli host h"}
	if _, err := org.New(st).Create(ctx, admin, "acme", "Acme"); err != nil {
		t.Fatal(err)
	}
	withFile := org.New(st).WithCheckpoints("/var/lib/custos/checkpoints.jsonl")
	for _, tc := range []struct {
		name string
		reg  *org.Registry
		id   string
		in   org.Retention
		code string
	}{
		{"requests below the minimum", withFile, "acme", org.Retention{Requests: "2 years"}, "invalid_retention"},
		{"not a period", withFile, "acme", org.Retention{Requests: "3 fortnights"}, "invalid_retention"},
		{"audit below the minimum", withFile, "acme", org.Retention{Audit: "35 months"}, "invalid_retention"},
		{"audit without checkpoints", org.New(st), "acme", org.Retention{Audit: "3 years"}, "retention_needs_checkpoints"},
		{"audit with checkpoints to an endpoint", org.New(st).WithCheckpoints("https://anchor.example.com/c"), "acme", org.Retention{Audit: "3 years"}, "retention_needs_checkpoints"},
		{"the deployment's own", withFile, org.Default, org.Retention{Requests: "5 years"}, "org_default_retention"},
		{"unknown", withFile, "globex", org.Retention{Requests: "5 years"}, "org_not_found"},
		{"messages not a duration", withFile, "acme", org.Retention{Messages: "7 days"}, "invalid_retention"},
		{"messages not positive", withFile, "acme", org.Retention{Messages: "0s"}, "invalid_retention"},
		{"audit forever without checkpoints", org.New(st), "acme", org.Retention{Audit: "forever"}, ""},
		{"all three", withFile, "acme", org.Retention{Requests: "5 years", Audit: "3 years", Messages: "72h"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := tc.reg.SetRetention(ctx, admin, tc.id, tc.in)
			var f *fault.Error
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.code == "" && o.Retention != tc.in:
				t.Errorf("kept %+v, want %+v", o.Retention, tc.in)
			case tc.code != "" && (!errors.As(err, &f) || f.Code != tc.code):
				t.Errorf("err = %v, want %s", err, tc.code)
			}
		})
	}
	if o, _ := st.Organisation(ctx, "acme"); o.Retention != (org.Retention{Requests: "5 years", Audit: "3 years", Messages: "72h"}) {
		t.Errorf("stored: %+v", o.Retention)
	}
	es, err := st.AuditEntries(ctx, audit.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var sets []string
	for _, e := range es {
		if e.Action == org.ActionRetention {
			sets = append(sets, e.Object+" "+e.Detail)
		}
	}
	if want := `org:acme {"audit":"forever","messages":"","requests":""}|org:acme {"audit":"3 years","messages":"72h","requests":"5 years"}`; strings.Join(sets, "|") != want {
		t.Errorf("audited: %s\nwant %s", strings.Join(sets, "|"), want)
	}
}
