package org_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

func TestValidateID(t *testing.T) {
	for _, tt := range []struct {
		id   string
		code string // "" for valid
	}{
		{"wuhan-deepin", ""},
		{"acme", ""},
		{"a1", ""},
		{"x", "invalid_org_id"},
		{"", "invalid_org_id"},
		{"Acme", "invalid_org_id"},
		{"1acme", "invalid_org_id"},
		{"acme-", "invalid_org_id"},
		{"ac--me", "invalid_org_id"},
		{"ac_me", "invalid_org_id"},
		{"acme.cn", "invalid_org_id"},
		{"../etc", "invalid_org_id"},
		{"a23456789012345678901234567890123456789x", ""},
		{"a234567890123456789012345678901234567890x", "invalid_org_id"},
		{"default", "org_exists"},
	} {
		err := org.ValidateID(tt.id)
		var f *fault.Error
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("ValidateID(%q) = %v, want valid", tt.id, err)
		case tt.code != "" && (!errors.As(err, &f) || f.Code != tt.code):
			t.Errorf("ValidateID(%q) = %v, want %s", tt.id, err, tt.code)
		}
	}
}

// TestDisableOpenRequests: an organisation whose people wait for answers
// is not disabled unless the caller insists, and then the trail says how
// many were left open. Requests closed do not count, nor another
// organisation's.
func TestDisableOpenRequests(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	r := org.New(st)
	admin := consent.Actor{ID: "cli:root", Role: "admin", Place: "cli host h"}
	for _, id := range []string{"acme", "globex"} {
		if _, err := r.Create(ctx, admin, id, id); err != nil {
			t.Fatal(err)
		}
	}
	for i, rq := range []struct{ org, state, due string }{
		{"acme", dsr.StateVerified, "2026-10-23"},
		{"acme", dsr.StateInProgress, "2026-10-20"},
		{"acme", dsr.StateCompleted, "2026-10-01"},
		{"globex", dsr.StateCompleted, "2026-10-01"},
		{org.Default, dsr.StateVerified, "2026-10-01"},
	} {
		q := store.Request{ID: fmt.Sprintf("rq_%d", i), Kind: "access", State: rq.state, Channel: "operator", Language: "en",
			ReceivedAt: time.Now(), ReceivedDate: "2026-10-01", DueDate: rq.due, Flags: "{}"}
		if err := st.ForOrg(rq.org).CreateRequest(ctx, q, store.RequestEvent{RequestID: q.ID, At: time.Now(), Actor: "t", To: q.State}, nil); err != nil {
			t.Fatal(err)
		}
	}
	var f *fault.Error
	_, _, err := r.Disable(ctx, admin, "acme", false)
	if !errors.As(err, &f) || f.Code != "org_open_requests" || !strings.Contains(err.Error(), "2 open rights requests, the first due 2026-10-20") {
		t.Fatalf("Disable with open requests = %v, want org_open_requests naming 2 and 2026-10-20", err)
	}
	if o, _ := st.Organisation(ctx, "acme"); o.Status != store.OrgActive {
		t.Errorf("refused, yet acme is %s", o.Status)
	}
	if _, changed, err := r.Disable(ctx, admin, "globex", false); err != nil || !changed {
		t.Errorf("Disable(globex, no open requests) = %v, %v", changed, err)
	}
	if o, changed, err := r.Disable(ctx, admin, "acme", true); err != nil || !changed || o.Status != store.OrgDisabled {
		t.Fatalf("Disable(acme, force) = %+v, %v, %v", o, changed, err)
	}
	if _, changed, err := r.Disable(ctx, admin, "acme", false); err != nil || changed {
		t.Errorf("Disable(acme) once disabled = %v, %v; want unchanged, no refusal", changed, err)
	}
	es, err := st.AuditEntries(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	details := map[string]string{}
	for _, e := range es {
		if e.Action == org.ActionDisable {
			details[e.Object] = e.Detail
		}
	}
	want := map[string]string{"org:globex": "{}", "org:acme": `{"open_requests":"2"}`}
	if !maps.Equal(details, want) {
		t.Errorf("disable entries' details = %v, want %v", details, want)
	}
}

func TestRegistry(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	r := org.New(st)
	admin := consent.Actor{ID: "cli:root", Role: "admin", Place: "cli host h"}
	o, err := r.Create(ctx, admin, "wuhan-deepin", "  武汉深之度科技有限公司 ")
	if err != nil || o.Name != "武汉深之度科技有限公司" || o.Status != store.OrgActive {
		t.Fatalf("Create = %+v, %v", o, err)
	}
	for _, tt := range []struct {
		id, name, code string
	}{
		{"wuhan-deepin", "again", "org_exists"},
		{"Bad", "x", "invalid_org_id"},
		{"acme", "", "invalid_org_name"},
		{"acme", "two\nlines", "invalid_org_name"},
	} {
		var f *fault.Error
		if _, err := r.Create(ctx, admin, tt.id, tt.name); !errors.As(err, &f) || f.Code != tt.code {
			t.Errorf("Create(%q, %q) = %v, want %s", tt.id, tt.name, err, tt.code)
		}
	}
	if _, changed, err := r.Disable(ctx, admin, "wuhan-deepin", false); err != nil || !changed {
		t.Errorf("Disable = %v, %v", changed, err)
	}
	if o, changed, err := r.Enable(ctx, admin, "wuhan-deepin"); err != nil || !changed || o.Status != store.OrgActive {
		t.Errorf("Enable = %+v, %v, %v", o, changed, err)
	}
	var f *fault.Error
	if _, _, err := r.Disable(ctx, admin, org.Default, true); !errors.As(err, &f) || f.Code != "org_default" {
		t.Errorf("Disable(default) = %v", err)
	}
	if _, _, err := r.Disable(ctx, admin, "nobody", false); !errors.As(err, &f) || f.Code != "org_not_found" {
		t.Errorf("Disable(nobody) = %v", err)
	}
	list, err := r.List(ctx)
	if err != nil || len(list) != 2 || list[0].ID != org.Default || list[1].ID != "wuhan-deepin" {
		t.Errorf("List = %+v, %v", list, err)
	}
	// Every change is on the deployment's trail, with who made it.
	es, err := st.AuditEntries(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Action+" "+e.Object+" "+e.Actor)
	}
	want := []string{"org.create org:wuhan-deepin cli:root", "org.disable org:wuhan-deepin cli:root", "org.enable org:wuhan-deepin cli:root"}
	if len(got) != len(want) {
		t.Fatalf("trail = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("trail[%d] = %q, want %q", i, got[i], want[i])
		}
	}
}

func TestHosts(t *testing.T) {
	for in, want := range map[string]string{
		"privacy.acme.example":      "privacy.acme.example",
		"Privacy.ACME.example:8443": "privacy.acme.example",
		"privacy.acme.example.":     "privacy.acme.example",
		"127.0.0.1:8080":            "127.0.0.1",
		"[::1]:8080":                "[::1]",
		"[::1]":                     "[::1]",
	} {
		if got := org.Host(in); got != want {
			t.Errorf("Host(%q) = %q, want %q", in, got, want)
		}
	}
	ctx := context.Background()
	st := storetest.SQLite(t)
	r := org.New(st)
	admin := consent.Actor{ID: "cli:root", Role: "admin"}
	o, err := r.Create(ctx, admin, "acme", "Acme", "Privacy.Acme.example", "privacy.acme.example", "b.acme.example.")
	if err != nil || len(o.Hosts) != 2 || o.Hosts[0] != "b.acme.example" {
		t.Fatalf("Create = %+v, %v", o, err)
	}
	var f *fault.Error
	for _, bad := range []string{"acme", "https://acme.example", "acme.example/privacy", "acme.example:80", "-a.example", "a..example", ""} {
		if _, err := r.Create(ctx, admin, "beta", "Beta", bad); !errors.As(err, &f) || f.Code != "invalid_host" {
			t.Errorf("host %q: %v, want invalid_host", bad, err)
		}
	}
	if _, err := r.Create(ctx, admin, "beta", "Beta", "privacy.acme.example"); !errors.As(err, &f) || f.Code != "host_taken" {
		t.Errorf("acme's host: %v, want host_taken", err)
	}
	if o, err := r.SetHosts(ctx, admin, "acme", []string{"c.acme.example"}); err != nil || len(o.Hosts) != 1 {
		t.Errorf("SetHosts = %+v, %v", o, err)
	}
	if _, err := r.Create(ctx, admin, "beta", "Beta", "privacy.acme.example"); err != nil {
		t.Errorf("a host acme gave up: %v", err)
	}
	if _, err := r.SetHosts(ctx, admin, "nobody", nil); !errors.As(err, &f) || f.Code != "org_not_found" {
		t.Errorf("SetHosts(nobody) = %v", err)
	}
}

// TestEntrustWithinPolicy: a controller entrusts only what its policy in
// force says it processes; before it has published anything there is
// nothing to check against.
func TestEntrustWithinPolicy(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	r := org.New(st)
	admin := consent.Actor{ID: "cli:root", Role: "admin", Place: "cli host h"}
	if _, err := r.Create(ctx, admin, "example-mfg", "示例制造有限公司"); err != nil {
		t.Fatal(err)
	}
	in := func(categories, purposes []string) org.EntrustInput {
		return org.EntrustInput{Controller: "example-mfg", Processor: org.Default, Categories: categories, Purposes: purposes,
			Assist: "5 working_days", StartsOn: "2026-01-01"}
	}
	if _, err := r.Entrust(ctx, admin, in([]string{"health.records"}, []string{"anything"})); err != nil {
		t.Errorf("before any policy: %v", err)
	}
	yaml, err := os.ReadFile(filepath.Join("..", "..", "examples", "yonyou-cloud", "enterprise.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.ForOrg("example-mfg").PublishPolicy(ctx, store.PolicyVersion{Version: "1.0", SHA256: "aa", Manifest: string(yaml), Diff: "{}"}, 0); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name                 string
		categories, purposes []string
		at                   string // "" for accepted
	}{
		{"as the policy states", []string{"basic.name", "basic.phone"}, []string{"hr-management"}, ""},
		{"several purposes", []string{"basic.email"}, []string{"staff-directory", "hr-management"}, ""},
		{"a purpose the policy lacks", []string{"basic.name"}, []string{"marketing"}, "purposes"},
		{"a category never collected", []string{"health.records"}, []string{"hr-management"}, "categories"},
		{"collected, but not for the purposes entrusted", []string{"basic.phone"}, []string{"staff-directory"}, "categories"},
	} {
		_, err := r.Entrust(ctx, admin, in(tt.categories, tt.purposes))
		var f *fault.Error
		switch {
		case tt.at == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.at != "" && (!errors.As(err, &f) || f.Code != "invalid_entrustment" || f.Field != tt.at):
			t.Errorf("%s: %v, want invalid_entrustment at %s", tt.name, err, tt.at)
		}
	}
}

// TestPolicyKeepsEntrustments: a controller's later policy that no longer
// covers what it entrusted is refused until the entrustment has ended.
func TestPolicyKeepsEntrustments(t *testing.T) {
	ctx := context.Background()
	st := storetest.SQLite(t)
	r := org.New(st)
	admin := consent.Actor{ID: "cli:root", Role: "admin", Place: "cli host h"}
	if _, err := r.Create(ctx, admin, "example-mfg", "示例制造有限公司"); err != nil {
		t.Fatal(err)
	}
	v1, err := os.ReadFile(filepath.Join("..", "..", "examples", "yonyou-cloud", "enterprise.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	publish := func(src string) error {
		_, err := consent.Publish(ctx, st.ForOrg("example-mfg"), admin, "enterprise.yaml", []byte(src), consent.PublishOptions{Check: r.PolicyCheck("example-mfg")},
			func() audit.Entry { return audit.NewEntry(time.Now(), admin, "", "", "", "", nil) })
		return err
	}
	if err := publish(string(v1)); err != nil {
		t.Fatal(err)
	}
	e, err := r.Entrust(ctx, admin, org.EntrustInput{Controller: "example-mfg", Processor: org.Default, Categories: []string{"basic.phone"},
		Purposes: []string{"hr-management"}, StartsOn: "2026-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	// Version 2 no longer collects phone numbers.
	v2 := strings.Replace(string(v1), `version: "2026-01"`, `version: "2026-02"`, 1)
	v2 = strings.ReplaceAll(v2, "categories: [basic.name, basic.phone, basic.email]", "categories: [basic.name, basic.email]")
	err = publish(v2)
	var f *fault.Error
	if !errors.As(err, &f) || f.Code != "entrustment_outside_policy" || !strings.Contains(f.Message, e.ID) || !strings.Contains(f.Message, `"basic.phone"`) {
		t.Fatalf("a policy dropping what was entrusted: %v", err)
	}
	if pv, err := st.ForOrg("example-mfg").CurrentPolicy(ctx); err != nil || pv.Version != "2026-01" {
		t.Errorf("policy in force = %s, %v; want 2026-01 still", pv.Version, err)
	}
	if _, err := r.EndEntrustment(ctx, admin, e.ID, "delete"); err != nil {
		t.Fatal(err)
	}
	if err := publish(v2); err != nil {
		t.Errorf("after the entrustment ended: %v", err)
	}
}
