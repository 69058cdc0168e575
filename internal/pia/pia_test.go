package pia_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/pia"
)

// update makes golden-file tests rewrite their files: go test ./internal/pia -update
var update = flag.Bool("update", false, "rewrite golden files")

var examples = []string{"deepin", "opengemini", "smart-device-app", "starter", "yonyou-cloud"}

// today is a fixed day for goldens.
var today = time.Date(2026, 12, 1, 10, 0, 0, 0, calendar.China)

func load(t *testing.T, name string) *manifest.Manifest {
	t.Helper()
	m, err := manifest.Load(filepath.Join("..", "..", "examples", name, "custos.yaml"))
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return m
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/pia -update writes it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from what is computed now (go test ./internal/pia -update rewrites it, then read its diff):\n%s", path, got)
	}
}

// TestTriggersExamples lists, per example manifest, every activity that
// needs an assessment and why; the golden is the reviewed table.
func TestTriggersExamples(t *testing.T) {
	var b strings.Builder
	for _, ex := range examples {
		fmt.Fprintf(&b, "== %s\n", ex)
		for _, tr := range pia.Triggers(load(t, ex)) {
			fmt.Fprintln(&b, tr)
		}
	}
	golden(t, "triggers.golden", b.String())
}

// TestTriggersTable checks, on every example, triggers its policy makes
// plain, and those it must not raise.
func TestTriggersTable(t *testing.T) {
	tests := []struct {
		example, activity, reason string
		what                      string // one id the trigger must name; empty for none
		want                      bool
	}{
		{"deepin", "content-compliance", pia.ReasonSensitive, "communication.messages", true},
		{"deepin", "content-compliance", pia.ReasonProvision, "sdk tencent-tsec-text", true},
		{"deepin", "service-functions", pia.ReasonEntrusted, "recipient entrusted-suppliers", true},
		{"deepin", manifest.PublicDisclosureActivity, pia.ReasonDisclosure, "", true},
		{"deepin", "account-service", pia.ReasonSensitive, "", false},
		{"opengemini", "service-delivery", pia.ReasonCrossBorder, "location provider-countries", true},
		{"opengemini", "professional-services", pia.ReasonProvision, "recipient professional-advisers", true},
		{"smart-device-app", "real_name_verification", pia.ReasonSensitive, "phone_real_name", true},
		{"smart-device-app", "push_notifications", pia.ReasonProvision, "sdk getui", true},
		{"starter", "sync_acceleration", pia.ReasonCrossBorder, "transfer sg-sync-relay", true},
		{"starter", "sync_acceleration", pia.ReasonEntrusted, "recipient sync-relay-sg", true},
		{"starter", "content_moderation", pia.ReasonAutomated, "", true},
		{"starter", "real_name_verification", pia.ReasonSensitive, "identity.id_card", true},
		{"starter", "note_sync", pia.ReasonCrossBorder, "", false},
		{"yonyou-cloud", "security_risk", pia.ReasonSensitive, "financial.credit", true},
		{"yonyou-cloud", "one_click_share", pia.ReasonProvision, "sdk umeng_ushare", true},
	}
	for _, tt := range tests {
		t.Run(tt.example+"/"+tt.activity+"/"+tt.reason, func(t *testing.T) {
			var found *pia.Trigger
			for _, tr := range pia.Triggers(load(t, tt.example)) {
				if tr.Activity == tt.activity && tr.Reason == tt.reason {
					found = &tr
				}
			}
			if (found != nil) != tt.want {
				t.Fatalf("trigger %s/%s present = %v, want %v", tt.activity, tt.reason, found != nil, tt.want)
			}
			if found != nil && tt.what != "" && !slices.Contains(found.What, tt.what) {
				t.Errorf("trigger names %v, want it to name %s", found.What, tt.what)
			}
			if found != nil && !strings.HasPrefix(found.Item, "art. 55(") {
				t.Errorf("item %q does not name an item of art. 55", found.Item)
			}
		})
	}
}

// TestTriggersReasons checks each reason on a manifest built in code.
func TestTriggersReasons(t *testing.T) {
	base := func() *manifest.Manifest {
		return &manifest.Manifest{
			Controllers: []manifest.Controller{{ID: "c", Country: "CN"}},
			Purposes:    []manifest.Purpose{{ID: "p", Basis: "consent"}},
			Services: []manifest.Service{{ID: "s", Collects: []manifest.Collection{
				{Categories: []string{"contact.phone"}, Purposes: []string{"p"}, Necessity: "required", Sources: []string{"user"}},
			}}},
		}
	}
	tests := []struct {
		name   string
		change func(m *manifest.Manifest)
		want   []string // reasons of activity p
	}{
		{"nothing", func(m *manifest.Manifest) {}, nil},
		{"sensitive category", func(m *manifest.Manifest) {
			m.Services[0].Collects[0].Categories = append(m.Services[0].Collects[0].Categories, "identity.id_card")
		}, []string{pia.ReasonSensitive}},
		{"automated decision", func(m *manifest.Manifest) { m.Purposes[0].AutomatedDecision = true }, []string{pia.ReasonAutomated}},
		{"entrusted processor", func(m *manifest.Manifest) {
			m.Recipients = []manifest.Recipient{{ID: "r", Kind: "entrusted_processor", Purposes: []string{"p"}, Categories: []string{"contact.phone"}}}
		}, []string{pia.ReasonEntrusted}},
		{"independent recipient", func(m *manifest.Manifest) {
			m.Recipients = []manifest.Recipient{{ID: "r", Kind: "independent_controller", Purposes: []string{"p"}, Categories: []string{"contact.phone"}}}
		}, []string{pia.ReasonProvision}},
		{"authority is not provision", func(m *manifest.Manifest) {
			m.Recipients = []manifest.Recipient{{ID: "r", Kind: "authority", Purposes: []string{"p"}, Categories: []string{"contact.phone"}}}
		}, nil},
		{"sdk abroad", func(m *manifest.Manifest) {
			m.SDKs = []manifest.SDK{{ID: "k", Purposes: []string{"p"}, Collects: []string{"device.id"}, Country: "US"}}
		}, []string{pia.ReasonProvision, pia.ReasonCrossBorder}},
		{"transfer", func(m *manifest.Manifest) {
			m.Storage.CrossBorder = []manifest.CrossBorder{{ID: "x", To: []string{"SG"}, Purposes: []string{"p"}, Categories: []string{"contact.phone"}, Mechanism: "standard_contract"}}
		}, []string{pia.ReasonCrossBorder}},
		{"stored abroad", func(m *manifest.Manifest) {
			m.Storage.Locations = []manifest.Location{{ID: "l", Country: "DE"}}
		}, []string{pia.ReasonCrossBorder}},
		{"stored at home", func(m *manifest.Manifest) {
			m.Storage.Locations = []manifest.Location{{ID: "l", Country: "CN"}}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.change(m)
			var got []string
			for _, tr := range pia.Triggers(m) {
				if tr.Activity == "p" {
					got = append(got, tr.Reason)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("reasons %v, want %v", got, tt.want)
			}
		})
	}
	m := base()
	m.Sharing.PublicDisclosure = &manifest.PublicDisclosure{Cases: []manifest.Text{{"en": "winners"}}}
	if ts := pia.Triggers(m); len(ts) != 1 || ts[0].Activity != manifest.PublicDisclosureActivity {
		t.Errorf("public disclosure: triggers %v, want one of activity %s", ts, manifest.PublicDisclosureActivity)
	}
	m.Sharing.PublicDisclosure.Never = true
	if ts := pia.Triggers(m); len(ts) != 0 {
		t.Errorf("disclosure never made: triggers %v, want none", ts)
	}
}

// TestCheckExamples is the list, per example, of exactly the assessments
// missing and why, and of those due: what custos validate warns of.
func TestCheckExamples(t *testing.T) {
	var b strings.Builder
	for _, ex := range examples {
		fmt.Fprintf(&b, "== %s\n", ex)
		for _, p := range pia.Check(load(t, ex), today) {
			fmt.Fprintln(&b, strings.TrimPrefix(p.String(), "../../"))
		}
	}
	golden(t, "missing.golden", b.String())
}

// TestCheckDue: a material change to an assessed activity makes its
// assessment due for review; rewording does not; neither does an unrelated
// change; a review period that has passed does.
func TestCheckDue(t *testing.T) {
	tests := []struct {
		name   string
		change func(m *manifest.Manifest)
		due    string // substring of the problem at pia-real-name; empty for none
	}{
		{"unchanged", func(m *manifest.Manifest) {}, ""},
		{"purpose reworded", func(m *manifest.Manifest) {
			p := &m.Purposes[slices.IndexFunc(m.Purposes, func(p manifest.Purpose) bool { return p.ID == "real_name_verification" })]
			p.Name = manifest.Text{"zh": "另一个名称", "en": "another name"}
		}, ""},
		{"unrelated purpose changed", func(m *manifest.Manifest) {
			m.Purposes[slices.IndexFunc(m.Purposes, func(p manifest.Purpose) bool { return p.ID == "marketing" })].Basis = "legitimate_interests"
		}, ""},
		{"category added", func(m *manifest.Manifest) {
			for i, s := range m.Services {
				for j, c := range s.Collects {
					if slices.Contains(c.Purposes, "real_name_verification") {
						m.Services[i].Collects[j].Categories = append(slices.Clone(c.Categories), "biometric.face")
					}
				}
			}
		}, "due for review: material change since 2026-01-12"},
		{"recipient moved abroad", func(m *manifest.Manifest) {
			for i, r := range m.Recipients {
				if slices.Contains(r.Purposes, "real_name_verification") {
					m.Recipients[i].Country = "US"
				}
			}
		}, "due for review: material change since 2026-01-12"},
		{"review period passed", func(m *manifest.Manifest) {
			m.Assessments[0].Review = &manifest.Period{Count: 6, Unit: "months"}
		}, "older than its review period of 6 months (due 2026-07-12)"},
		{"review period not yet passed", func(m *manifest.Manifest) {
			m.Assessments[0].Review = &manifest.Period{Count: 1, Unit: "years"}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := load(t, "starter")
			if m.Assessments[0].ID != "pia-real-name" {
				t.Fatalf("first assessment %s, want pia-real-name", m.Assessments[0].ID)
			}
			tt.change(m)
			var at []string
			for _, p := range pia.Check(m, today) {
				if strings.Contains(p.Message, "pia-real-name") {
					at = append(at, p.Message)
				}
			}
			if tt.due == "" {
				if len(at) > 0 {
					t.Errorf("problems %q, want none about pia-real-name", at)
				}
				return
			}
			if len(at) != 1 || !strings.Contains(at[0], tt.due) {
				t.Fatalf("problems %q, want one saying %q", at, tt.due)
			}
			// A due assessment no longer covers its activity, but the
			// activity is not reported a second time as missing.
			for _, p := range pia.Check(m, today) {
				if strings.Contains(p.Message, "activity real_name_verification needs") {
					t.Errorf("due activity also reported missing: %s", p)
				}
			}
		})
	}
}

// TestDigest: the order of activities does not matter; their content does.
func TestDigest(t *testing.T) {
	m := load(t, "starter")
	a := pia.Digest(m, []string{"payments", "advertising"})
	if b := pia.Digest(m, []string{"advertising", "payments", "advertising"}); a != b {
		t.Errorf("digest depends on order or repetition: %s != %s", a, b)
	}
	if c := pia.Digest(m, []string{"payments"}); a == c {
		t.Errorf("digest of fewer activities is the same")
	}
	if !strings.HasPrefix(a, "sha256:") || len(a) != len("sha256:")+64 {
		t.Errorf("digest %q is not sha256: and 64 hex digits", a)
	}
}

// TestDraftDeepin: the draft for deepin covers every activity that needs an
// assessment and names each of its sensitive categories; its stanza,
// pasted into the manifest, validates and makes those activities covered.
func TestDraftDeepin(t *testing.T) {
	m := load(t, "deepin")
	for _, lang := range []string{"zh-CN", "en"} {
		d, err := pia.NewDraft(m, nil, lang, today)
		if err != nil {
			t.Fatal(err)
		}
		golden(t, "draft-deepin."+lang+".md", d.Markdown+"\n```yaml\n"+d.YAML+"```\n")
		for _, tr := range pia.Triggers(m) {
			if !strings.Contains(d.Markdown, "`"+tr.Activity+"`") {
				t.Errorf("%s draft does not cover activity %s", lang, tr.Activity)
			}
			if tr.Reason == pia.ReasonSensitive {
				for _, c := range tr.What {
					if !strings.Contains(d.Markdown, "`"+c+"`") {
						t.Errorf("%s draft does not name sensitive category %s", lang, c)
					}
				}
			}
		}
		for _, h := range []string{"## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6.", "## 7."} {
			if !strings.Contains(d.Markdown, h) {
				t.Errorf("%s draft lacks section %s", lang, h)
			}
		}
		// Paste the stanza and check the manifest again.
		raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "deepin", "custos.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		pasted := string(raw) + "\nassessments:\n" + d.YAML
		m2, err := manifest.Parse("deepin+draft.yaml", []byte(pasted))
		if err != nil {
			t.Fatalf("manifest with the draft's stanza: %v", err)
		}
		// Every activity is covered; what is left is for the assessor.
		ps := pia.Check(m2, today)
		if len(ps) != 1 || !strings.Contains(ps[0].Message, "is still a draft: assessor, scope, lawfulness, impact, measures, conclusion say TODO") {
			t.Errorf("with the draft's stanza: %v, want only that the draft is to be completed", ps)
		}
	}
	if _, err := pia.NewDraft(m, []string{"no-such-purpose"}, "en", today); err == nil {
		t.Error("draft of an unknown activity: no error")
	}
}
