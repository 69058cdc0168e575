package policy

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/manifest"
)

func loadBase(t *testing.T, edits ...func(string) string) *manifest.Manifest {
	t.Helper()
	data, err := os.ReadFile("testdata/base.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for _, e := range edits {
		s = e(s)
	}
	m, err := manifest.Parse("edited.yaml", []byte(s))
	if err != nil {
		t.Fatalf("edited manifest is invalid:\n%v\n--- manifest ---\n%s", err, s)
	}
	return m
}

func replace(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic("edit target not found: " + old)
		}
		return strings.Replace(s, old, new, 1)
	}
}

func TestCompare(t *testing.T) {
	type change struct {
		Op, Path, Kind string
		Material       bool
		Purposes       []string
	}
	tests := []struct {
		name      string
		common    []func(string) string // applied to both versions
		edits     []func(string) string // applied to the new version
		want      []change
		material  bool
		reconsent []string
	}{
		{
			name:      "no change",
			want:      []change{},
			reconsent: []string{},
		},
		{
			name:  "contact email changed",
			edits: []func(string) string{replace("value: privacy@example.com", "value: dpo@example.com")},
			want: []change{
				{"changed", "contact.channels[mail].value", KindContact, true, nil},
			},
			material: true,
			// express re-consent after any material change, for every consent purpose
			reconsent: []string{"marketing"},
		},
		{
			name: "new independent recipient",
			edits: []func(string) string{replace("retention:\n", `  - id: adnet
    name: {zh: 广告网络, en: Ad Network Inc.}
    kind: advertiser
    categories: [basic.email]
    purposes: [marketing]
    separate_consent: true
retention:
`)},
			want: []change{
				{"added", "recipients[adnet]", KindRecipients, true, []string{"marketing"}},
			},
			material:  true,
			reconsent: []string{"marketing", "recipient:adnet"},
		},
		{
			name: "new purpose used by a service",
			edits: []func(string) string{
				replace("        purposes: [marketing]\n        necessity", "        purposes: [marketing, profiling]\n        necessity"),
				replace("purposes:\n  - id: registration", `purposes:
  - id: profiling
    name: {zh: 个性化推荐, en: personalised recommendations}
    basis: consent
  - id: registration`),
				replace("  - id: marketing\n    purposes: [marketing]", "  - id: marketing\n    purposes: [marketing, profiling]"),
			},
			want: []change{
				{"changed", "services[newsletter].collects[basic.email].purposes", KindProcessing, true, []string{"marketing", "profiling"}},
				{"added", "purposes[profiling]", KindProcessing, true, []string{"profiling"}},
				{"changed", "retention[marketing].purposes", KindProcessing, true, []string{"marketing", "profiling"}},
			},
			material:  true,
			reconsent: []string{"profiling", "marketing"},
		},
		{
			name:      "wording only",
			edits:     []func(string) string{replace("en: Registering and signing in.", "en: Creating an account and signing in.")},
			want:      []change{{"changed", "services[account].description", KindWording, false, nil}},
			reconsent: []string{},
		},
		{
			name:      "version bump is metadata",
			edits:     []func(string) string{replace(`version: "1.0"`, `version: "1.1"`)},
			want:      []change{{"changed", "policy.version", KindMetadata, false, nil}},
			reconsent: []string{},
		},
		{
			name:      "legal basis of a contract purpose changed to consent",
			edits:     []func(string) string{replace("    basis: contract", "    basis: consent")},
			want:      []change{{"changed", "purposes[registration].basis", KindProcessing, true, []string{"registration"}}},
			material:  true,
			reconsent: []string{"registration"},
		},
		{
			name:      "deadline lengthened is a rights change",
			edits:     []func(string) string{replace("{count: 15, unit: working_days}", "{count: 30, unit: calendar_days}")},
			want:      []change{{"changed", "rights.deadlines[0].count", KindRights, true, nil}, {"changed", "rights.deadlines[0].unit", KindRights, true, nil}},
			material:  true,
			reconsent: []string{"marketing"},
		},
		{
			name:   "continued use: a contact change needs notice, not re-consent",
			common: []func(string) string{replace("acceptance: express_consent", "acceptance: continued_use")},
			edits:  []func(string) string{replace("value: privacy@example.com", "value: dpo@example.com")},
			want: []change{
				{"changed", "contact.channels[mail].value", KindContact, true, nil},
			},
			material:  true,
			reconsent: []string{},
		},
		{
			name: "removed recipient",
			edits: []func(string) string{replace(`  - id: mailer
    name: {zh: 邮件服务商, en: Mail Provider Ltd.}
    kind: entrusted_processor
    categories: [basic.email]
    purposes: [marketing]
    country: CN
`, "")},
			want:      []change{{"removed", "recipients[mailer]", KindRecipients, true, []string{"marketing"}}},
			material:  true,
			reconsent: []string{"marketing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldM := loadBase(t, tt.common...)
			newM := loadBase(t, append(append([]func(string) string{}, tt.common...), tt.edits...)...)
			d := Compare(oldM, newM)
			got := []change{}
			for _, c := range d.Changes {
				got = append(got, change{c.Op, c.Path, c.Kind, c.Material, c.Purposes})
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b []string) bool { return strings.Join(a, ",") == strings.Join(b, ",") })); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if d.Material != tt.material {
				t.Errorf("material = %v, want %v", d.Material, tt.material)
			}
			if diff := cmp.Diff(tt.reconsent, d.Reconsent); diff != "" {
				t.Errorf("reconsent (-want +got):\n%s", diff)
			}
		})
	}
}
