package transfer_test

import (
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/examples"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/transfer"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}

// exampleManifests are every example's manifests, by name.
func exampleManifests(t *testing.T) map[string]*manifest.Manifest {
	t.Helper()
	out := map[string]*manifest.Manifest{}
	err := fs.WalkDir(examples.Manifests, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(examples.Manifests, path)
		if err != nil {
			return err
		}
		m, err := manifest.Parse(path, b)
		if err != nil {
			return err
		}
		out[strings.TrimSuffix(path, "/custos.yaml")] = m
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse("starter/custos-v2.yaml", examples.StarterV2)
	if err != nil {
		t.Fatal(err)
	}
	out["starter-v2"] = m
	if len(out) < 6 {
		t.Fatalf("found %d example manifests", len(out))
	}
	return out
}

// flowSummary is what the table below pins of each register.
type flowSummary struct{ ID, Kind, Mechanism string }

// TestRegisterOfEveryExample: the register of each example manifest, as
// a golden file, and the flows it must hold.
func TestRegisterOfEveryExample(t *testing.T) {
	want := map[string][]flowSummary{
		"deepin":           nil,
		"opengemini":       {{"location:provider-countries", transfer.KindLocation, ""}},
		"smart-device-app": nil,
		"starter":          {{"sg-sync-relay", transfer.KindCrossBorder, transfer.MechanismContract}},
		"starter-v2":       {{"sg-sync-relay", transfer.KindCrossBorder, transfer.MechanismContract}},
		"yonyou-cloud":     nil,
	}
	for name, m := range exampleManifests(t) {
		t.Run(name, func(t *testing.T) {
			reg := transfer.Build(m)
			var got []flowSummary
			for _, f := range reg.Flows {
				got = append(got, flowSummary{f.ID, f.Kind, f.Mechanism})
			}
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expectation for example %s", name)
			}
			if d := cmp.Diff(w, got); d != "" {
				t.Errorf("flows (-want +got):\n%s", d)
			}
			if reg.Thresholds != transfer.CAC {
				t.Errorf("thresholds = %+v, want the CAC's", reg.Thresholds)
			}
			b, err := json.MarshalIndent(reg, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "register", name+".json"), append(b, '\n'))
		})
	}
}

// TestRegisterFlows: which manifest entries make flows, and what they carry.
func TestRegisterFlows(t *testing.T) {
	m := exempted(t)
	m.Recipients = append(m.Recipients, manifest.Recipient{ID: "us-analytics", Kind: "entrusted_processor", Country: "US",
		Categories: []string{"device.id", "identity.id_card"}, Purposes: []string{"crash_diagnostics"}})
	m.SDKs[0].Country = "IE"
	m.Storage.Locations = append(m.Storage.Locations, manifest.Location{ID: "hk", Country: "HK"}, manifest.Location{ID: "cn-3", Country: "CN"})
	reg := transfer.Build(m)
	tests := []struct {
		id                  string
		kind                string
		sensitive, ordinary bool
		to                  []string
	}{
		{"sg-sync-relay", transfer.KindCrossBorder, false, true, []string{"SG"}},
		{"recipient:us-analytics", transfer.KindRecipient, true, true, []string{"US"}},
		{"sdk:" + m.SDKs[0].ID, transfer.KindSDK, false, true, []string{"IE"}},
		{"location:hk", transfer.KindLocation, false, true, []string{"HK"}},
	}
	if len(reg.Flows) != len(tests) {
		t.Fatalf("flows = %v, want %d", reg.IDs(), len(tests))
	}
	for i, tt := range tests {
		f := reg.Flows[i]
		if f.ID != tt.id || f.Kind != tt.kind || f.Sensitive() != tt.sensitive || f.Ordinary() != tt.ordinary || !cmp.Equal(f.To, tt.to) {
			t.Errorf("flow %d = %s %s sensitive %v ordinary %v to %v; want %+v", i, f.ID, f.Kind, f.Sensitive(), f.Ordinary(), f.To, tt)
		}
	}
	// The recipient named by the cross_border entry is not a flow again.
	if _, ok := reg.Flow("recipient:sync-relay-sg"); ok {
		t.Error("the Singapore relay is counted twice")
	}
}

// TestNeeded: the mechanism the organisation's yearly total calls for.
func TestNeeded(t *testing.T) {
	ord := transfer.Flow{From: "CN", Categories: []string{"basic.email"}}
	sens := transfer.Flow{From: "CN", Categories: []string{"identity.id_card"}, SensitiveCategories: []string{"identity.id_card"}}
	tests := []struct {
		name  string
		f     transfer.Flow
		total transfer.People
		want  string
	}{
		{"few people", ord, transfer.People{Ordinary: 99_999}, transfer.MechanismExempt},
		{"100,000", ord, transfer.People{Ordinary: 100_000}, transfer.MechanismContract},
		{"1,000,000", ord, transfer.People{Ordinary: 1_000_000}, transfer.MechanismContract},
		{"above 1,000,000", ord, transfer.People{Ordinary: 1_000_001}, transfer.MechanismAssessment},
		{"one sensitive", sens, transfer.People{Sensitive: 1}, transfer.MechanismContract},
		{"no sensitive yet", sens, transfer.People{Ordinary: 5}, transfer.MechanismExempt},
		{"10,000 sensitive", sens, transfer.People{Sensitive: 10_000}, transfer.MechanismAssessment},
		{"sensitive counts do not touch an ordinary flow", ord, transfer.People{Sensitive: 50_000}, transfer.MechanismExempt},
		{"not from CN", transfer.Flow{From: "DE"}, transfer.People{Ordinary: 5_000_000}, ""},
	}
	for _, tt := range tests {
		if got := transfer.CAC.Needed(tt.f, tt.total); got != tt.want {
			t.Errorf("%s: Needed = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestProject(t *testing.T) {
	tests := []struct {
		name string
		n    int64
		now  time.Time
		want int64
	}{
		{"half way", 50_000, time.Date(2026, 7, 2, 12, 0, 0, 0, transfer.China), 100_000},
		{"a past year", 7, time.Date(2027, 3, 1, 0, 0, 0, 0, transfer.China), 7},
		{"nobody", 0, time.Date(2026, 3, 1, 0, 0, 0, 0, transfer.China), 0},
		{"the first hour counts as a week", 7, time.Date(2026, 1, 1, 1, 0, 0, 0, transfer.China), 365},
	}
	for _, tt := range tests {
		if got := transfer.Project(tt.n, 2026, tt.now); got != tt.want {
			t.Errorf("%s: Project = %d, want %d", tt.name, got, tt.want)
		}
	}
}

// TestPacket: the filing packet of the starter's Singapore relay with
// 123,456 people counted, as golden files.
func TestPacket(t *testing.T) {
	m := exempted(t)
	reg := transfer.Build(m)
	c := transfer.Counts{Year: 2026, Total: transfer.People{People: 123_456, Ordinary: 123_456},
		Flows: []transfer.FlowCount{{Flow: "sg-sync-relay", People: transfer.People{People: 123_456, Ordinary: 123_456}, Projected: 140_000,
			Declared: "exemption", Needed: transfer.MechanismContract}}}
	for _, lang := range []string{transfer.LangZH, transfer.LangEN} {
		t.Run(lang, func(t *testing.T) {
			b, err := transfer.RenderPacket(m, reg, c, lang)
			if err != nil {
				t.Fatal(err)
			}
			for _, must := range []string{"123456", "SG", "sg-sync-relay"} {
				if !strings.Contains(string(b), must) {
					t.Errorf("the packet lacks %q", must)
				}
			}
			golden(t, filepath.Join("testdata", "packet."+lang+".md"), b)
		})
	}
	if _, err := transfer.RenderPacket(m, reg, c, "fr"); err == nil {
		t.Error("a packet in French rendered")
	}
}
