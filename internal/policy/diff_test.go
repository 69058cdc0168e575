package policy

import (
	"encoding/json"
	"os"
	"regexp"
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
			// The vault is how values are kept and who reads them in
			// clear, within the purposes the policy states: reported as
			// a protection measure, never material.
			name:   "vault field added, then read in clear by another role",
			common: []func(string) string{replace("minors:", "vault:\n  - {field: email, category: basic.email, mask: email, clear: [{purpose: marketing, roles: [service]}]}\nminors:")},
			edits: []func(string) string{
				replace("roles: [service]}]}", "roles: [service, operator]}]}\n  - {field: mobile, category: basic.phone, mask: phone}"),
			},
			want: []change{
				{"changed", "vault[email].clear[marketing].roles", KindSecurity, false, nil},
				{"added", "vault[mobile]", KindSecurity, false, nil},
			},
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

// TestDescribe: each change is said in each language by the names the
// manifests give (the old version's for what the new one removed), with
// no manifest path or id; the purposes and acts a diff lists have names
// too; and a diff read back from its JSON, which carries neither, gets
// them again from Annotate.
func TestDescribe(t *testing.T) {
	type said struct{ zh, en string }
	tests := []struct {
		name  string
		edits []func(string) string
		want  []said          // each change, in order
		names map[string]said // purposes and acts the diff lists
	}{
		{
			name:  "a contact channel without a label is called by its kind",
			edits: []func(string) string{replace("value: privacy@example.com", "value: dpo@example.com")},
			want:  []said{{"联系渠道：电子邮件 › 地址或号码", "Contact channel: email › address or number"}},
			names: map[string]said{"marketing": {"发送营销信息", "sending marketing messages"}},
		},
		{
			name: "a new recipient, and the separate consent it needs",
			edits: []func(string) string{replace("retention:\n", `  - id: adnet
    name: {zh: 广告网络, en: Ad Network Inc.}
    kind: advertiser
    categories: [basic.email]
    purposes: [marketing]
    separate_consent: true
retention:
`)},
			want:  []said{{"接收方：广告网络", "Recipient: Ad Network Inc."}},
			names: map[string]said{"recipient:adnet": {"向广告网络提供个人信息", "providing personal information to Ad Network Inc."}},
		},
		{
			name: "a collection's purposes, a new purpose and a retention rule",
			edits: []func(string) string{
				replace("        purposes: [marketing]\n        necessity", "        purposes: [marketing, profiling]\n        necessity"),
				replace("purposes:\n  - id: registration", `purposes:
  - id: profiling
    name: {zh: 个性化推荐, en: personalised recommendations}
    basis: consent
  - id: registration`),
				replace("  - id: marketing\n    purposes: [marketing]", "  - id: marketing\n    purposes: [marketing, profiling]"),
			},
			want: []said{
				{"服务：资讯邮件 › 收集的个人信息：电子邮件地址 › 处理目的", "Service: Newsletter › information collected: email address › purposes"},
				{"处理目的：个性化推荐", "Purpose: personalised recommendations"},
				{"保存期限：发送营销信息和个性化推荐 › 处理目的", "Retention rule: sending marketing messages and personalised recommendations › purposes"},
			},
			names: map[string]said{"profiling": {"个性化推荐", "personalised recommendations"}},
		},
		{
			name:  "wording",
			edits: []func(string) string{replace("en: Registering and signing in.", "en: Creating an account and signing in.")},
			want:  []said{{"服务：账号 › 说明", "Service: Account › description"}},
		},
		{
			name:  "the version",
			edits: []func(string) string{replace(`version: "1.0"`, `version: "1.1"`)},
			want:  []said{{"本政策 › 版本号", "This policy › version number"}},
		},
		{
			name:  "a legal basis",
			edits: []func(string) string{replace("    basis: contract", "    basis: consent")},
			want:  []said{{"处理目的：注册账号 › 法律依据", "Purpose: account registration › legal basis"}},
			names: map[string]said{"registration": {"注册账号", "account registration"}},
		},
		{
			name:  "a deadline without a name is called what it is",
			edits: []func(string) string{replace("{count: 15, unit: working_days}", "{count: 30, unit: calendar_days}")},
			want:  []said{{"答复期限 › 时长", "Response deadline › length"}, {"答复期限 › 计算单位", "Response deadline › unit"}},
		},
		{
			name: "what the new version removed is named from the old",
			edits: []func(string) string{replace(`  - id: mailer
    name: {zh: 邮件服务商, en: Mail Provider Ltd.}
    kind: entrusted_processor
    categories: [basic.email]
    purposes: [marketing]
    country: CN
`, "")},
			want: []said{{"接收方：邮件服务商", "Recipient: Mail Provider Ltd."}},
		},
	}
	// Chinese is said without Latin letters at all (these manifests have
	// none in their Chinese), English without a path, an id or a marker.
	zhForbidden := regexp.MustCompile(`[A-Za-z\[\]#_]`)
	enForbidden := regexp.MustCompile(`[\[\]#_]|[a-z]+\.[a-z]+|mailer|adnet`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldM, newM := loadBase(t), loadBase(t, tt.edits...)
			d := Compare(oldM, newM)
			raw, err := json.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			var stored Diff
			if err := json.Unmarshal(raw, &stored); err != nil {
				t.Fatal(err)
			}
			if stored.Names != nil || len(stored.Changes) > 0 && stored.Changes[0].About.Section != "" {
				t.Fatalf("the JSON of a diff carries its derived names: %s", raw)
			}
			stored.Annotate(oldM, newM)
			for _, diff := range []*Diff{d, &stored} {
				var got []said
				for _, c := range diff.Changes {
					got = append(got, said{c.Describe("zh-CN"), c.Describe("en")})
				}
				if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(said{})); diff != "" {
					t.Errorf("descriptions (-want +got):\n%s", diff)
				}
				for _, s := range got {
					if m := zhForbidden.FindString(s.zh); m != "" {
						t.Errorf("%q holds %q", s.zh, m)
					}
					if m := enForbidden.FindString(s.en); m != "" {
						t.Errorf("%q holds %q", s.en, m)
					}
				}
				for key, want := range tt.names {
					if got := (said{diff.Name(key, "zh-CN"), diff.Name(key, "en")}); got != want {
						t.Errorf("Name(%q) = %q, want %q", key, got, want)
					}
				}
			}
			if got := d.Name("no-such-purpose", "zh-CN"); got != "" {
				t.Errorf("an unknown id is named %q", got)
			}
		})
	}
}

// TestWords: durations and lists read as the policy writes them.
func TestWords(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"working days, zh", Duration("zh-CN", 15, "working_days"), "15个工作日"},
		{"working days, en", Duration("en", 15, "working_days"), "15 working days"},
		{"one working day, en", Duration("en", 1, "working_days"), "1 working day"},
		{"calendar days, zh", Duration("zh-CN", 30, "calendar_days"), "30日"},
		{"months, en", Duration("en", 2, "months"), "2 months"},
		{"an unsupported language reads English", Duration("fr", 3, "months"), "3 months"},
		{"list, zh", Join("zh-CN", []string{"甲", "乙", "丙"}), "甲、乙和丙"},
		{"list, en", Join("en", []string{"a", "b", "c"}), "a, b and c"},
		{"right, zh", Right("zh-CN", "access"), "查阅您的个人信息"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}

// TestDescribeEveryExample: comparing any two of the examples touches
// nearly every part of the manifest format; no change is then described
// by a path, an id's marks or "other details", in either language.
func TestDescribeEveryExample(t *testing.T) {
	names := []string{"starter", "deepin", "smart-device-app", "yonyou-cloud", "opengemini"}
	ms := make([]*manifest.Manifest, len(names))
	for i, n := range names {
		m, err := manifest.Load("../../examples/" + n + "/custos.yaml")
		if err != nil {
			t.Fatal(err)
		}
		ms[i] = m
	}
	bad := regexp.MustCompile(`[\[\]#_]|其他内容|Other details`)
	for i, a := range ms {
		for j, b := range ms {
			if i == j {
				continue
			}
			for _, c := range Compare(a, b).Changes {
				for _, lang := range []string{"zh-CN", "en"} {
					if s := c.Describe(lang); bad.MatchString(s) {
						t.Errorf("%s → %s: %s is described as %q", names[i], names[j], c.Path, s)
					}
				}
			}
		}
	}
}
