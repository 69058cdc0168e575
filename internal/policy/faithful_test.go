package policy

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/manifest"
)

// A fieldSentence is wording the renderer produces only because a manifest
// field says so. Statutory and explanatory wording (fees, a protection
// department, language precedence, continued-use acceptance, entrusting
// terms, storage country, retention principles…) is a promise; the policy
// makes it only when the organisation's manifest carries it.
type fieldSentence struct {
	name string
	// set reports whether m carries the field; on returns base with the
	// field set, off with it cleared.
	set     func(m *manifest.Manifest) bool
	on, off func(m *manifest.Manifest)
	zh, en  string
}

func yes() *bool { b := true; return &b }

var fieldSentences = []fieldSentence{
	{
		name: "purposes.automation",
		set: func(m *manifest.Manifest) bool {
			return slices.ContainsFunc(m.Purposes, func(p manifest.Purpose) bool { return p.Automation != nil })
		},
		on: func(m *manifest.Manifest) {
			m.Purposes[0].AutomatedDecision = true
			m.Purposes[0].Automation = &manifest.Automation{Logic: manifest.Text{"zh": "按登录地点与设备评分", "en": "a score from sign-in place and device"},
				Significance: manifest.Text{"zh": "可能暂停登录", "en": "a sign-in may be held"}, HumanReview: manifest.Text{"zh": "联系客服复核", "en": "ask support for a review"}}
		},
		off: func(m *manifest.Manifest) { m.Purposes[0].AutomatedDecision, m.Purposes[0].Automation = true, nil },
		zh:  "决策机制：按登录地点与设备评分", en: "How it decides: a score from sign-in place and device",
	},
	{
		name: "policy.prevailing_language",
		set:  func(m *manifest.Manifest) bool { return m.Policy.Prevailing != "" },
		on:   func(m *manifest.Manifest) { m.Policy.Prevailing = "zh-CN" },
		off:  func(m *manifest.Manifest) { m.Policy.Prevailing = "" },
		zh:   "各语言版本如有不一致", en: "if the language versions differ",
	},
	{
		name: "policy.noun",
		set:  func(m *manifest.Manifest) bool { return m.Policy.Noun == "statement" },
		on:   func(m *manifest.Manifest) { m.Policy.Noun = "statement" },
		off:  func(m *manifest.Manifest) { m.Policy.Noun = "" },
		zh:   "本声明", en: "this statement",
	},
	{
		name: "policy.updates.acceptance: continued_use",
		set:  func(m *manifest.Manifest) bool { return m.Policy.Updates.Acceptance == "continued_use" },
		on:   func(m *manifest.Manifest) { m.Policy.Updates.Acceptance = "continued_use" },
		off:  func(m *manifest.Manifest) { m.Policy.Updates.Acceptance = "" },
		zh:   "即表示您已充分阅读", en: "you accept the updated policy",
	},
	{
		name: "policy.updates.acceptance: express_consent",
		set:  func(m *manifest.Manifest) bool { return m.Policy.Updates.Acceptance == "express_consent" },
		on:   func(m *manifest.Manifest) { m.Policy.Updates.Acceptance = "express_consent" },
		off:  func(m *manifest.Manifest) { m.Policy.Updates.Acceptance = "" },
		zh:   "重新征得您的明确同意", en: "ask for your express consent again",
	},
	{
		name: "contact.department",
		set:  func(m *manifest.Manifest) bool { return len(m.Contact.Department) > 0 },
		on: func(m *manifest.Manifest) {
			m.Contact.Department = manifest.Text{"zh": "个人信息保护部", "en": "Privacy Office"}
		},
		off: func(m *manifest.Manifest) { m.Contact.Department = nil },
		zh:  "个人信息保护负责部门：个人信息保护部", en: "Personal-information protection department: Privacy Office",
	},
	{
		name: "contact.department_duties",
		set:  func(m *manifest.Manifest) bool { return m.Contact.Duties },
		on:   func(m *manifest.Manifest) { m.Contact.Duties = true },
		off:  func(m *manifest.Manifest) { m.Contact.Duties = false },
		zh:   "负责统筹协调和监督", en: "coordinates and monitors compliance",
	},
	{
		name: "contact.channels[].values",
		set:  func(m *manifest.Manifest) bool { return false },
		on: func(m *manifest.Manifest) {
			m.Contact.Channels = append(m.Contact.Channels, manifest.Channel{ID: "post", Kind: "post", Value: "杭州市西湖区文三路 1 号",
				Values: manifest.Text{"zh": "杭州市西湖区文三路 1 号", "en": "1 Wensan Road, Xihu District, Hangzhou"}})
		},
		off: func(m *manifest.Manifest) {},
		zh:  "杭州市西湖区文三路 1 号", en: "1 Wensan Road, Xihu District, Hangzhou",
	},
	{
		name: "rights.fees: free",
		set:  func(m *manifest.Manifest) bool { return m.Rights.Fees != nil && m.Rights.Fees.Policy == "free" },
		on:   func(m *manifest.Manifest) { m.Rights.Fees = &manifest.Fees{Policy: "free"} },
		off:  func(m *manifest.Manifest) { m.Rights.Fees = nil },
		zh:   "我们不收取任何费用", en: "We do not charge",
	},
	{
		name: "rights.fees: free_except_repeated without numbers",
		set: func(m *manifest.Manifest) bool {
			return m.Rights.Fees != nil && m.Rights.Fees.Policy == "free_except_repeated"
		},
		on:  func(m *manifest.Manifest) { m.Rights.Fees = &manifest.Fees{Policy: "free_except_repeated"} },
		off: func(m *manifest.Manifest) { m.Rights.Fees = nil },
		zh:  "超出合理限度的请求，我们将视情况收取一定的成本费用", en: "For requests repeated beyond a reasonable limit",
	},
	{
		name: "rights.refusal_notice",
		set:  func(m *manifest.Manifest) bool { return m.Rights.RefusalNotice },
		on:   func(m *manifest.Manifest) { m.Rights.RefusalNotice = true },
		off:  func(m *manifest.Manifest) { m.Rights.RefusalNotice = false },
		zh:   "我们会告知您拒绝的理由", en: "we will tell you so and why",
	},
	{
		name: "rights.account_cancellation.withdrawable",
		set: func(m *manifest.Manifest) bool {
			return m.Rights.Cancellation != nil && m.Rights.Cancellation.Withdrawable
		},
		on: func(m *manifest.Manifest) {
			m.Rights.Cancellation = &manifest.Cancellation{CoolingOffDays: 7, Withdrawable: true}
		},
		off: func(m *manifest.Manifest) { m.Rights.Cancellation = &manifest.Cancellation{CoolingOffDays: 7} },
		zh:  "您可以随时撤销注销申请", en: "you may withdraw the request at any time",
	},
	{
		name: "storage.locations",
		set:  func(m *manifest.Manifest) bool { return len(m.Storage.Locations) > 0 },
		on:   func(m *manifest.Manifest) { m.Storage.Locations = []manifest.Location{{ID: "cn", Country: "CN"}} },
		off:  func(m *manifest.Manifest) { m.Storage.Locations = nil },
		zh:   "存储于中华人民共和国境内", en: "in the People's Republic of China",
	},
	{
		name: "storage.shortest_necessary",
		set:  func(m *manifest.Manifest) bool { return m.Storage.Shortest },
		on:   func(m *manifest.Manifest) { m.Storage.Shortest = true },
		off:  func(m *manifest.Manifest) { m.Storage.Shortest = false },
		zh:   "最短时间", en: "shortest time",
	},
	{
		name: "storage.expiry_clause",
		set:  func(m *manifest.Manifest) bool { return m.Storage.ExpiryClause },
		on:   func(m *manifest.Manifest) { m.Storage.ExpiryClause = true },
		off:  func(m *manifest.Manifest) { m.Storage.ExpiryClause = false },
		zh:   "删除在技术上难以实现的", en: "where deletion is technically difficult",
	},
	{
		name: "storage.transfer_safeguards",
		set:  func(m *manifest.Manifest) bool { return m.Storage.TransferTerms },
		on: func(m *manifest.Manifest) {
			crossBorder(m)
			m.Storage.TransferTerms = true
		},
		off: crossBorder,
		zh:  "不低于中华人民共和国法律规定的标准", en: "no lower than the law of the People's Republic of China",
	},
	{
		name: "sharing.entrusting_terms",
		set:  func(m *manifest.Manifest) bool { return m.Sharing.EntrustingTerms },
		on:   func(m *manifest.Manifest) { m.Sharing.EntrustingTerms = true },
		off:  func(m *manifest.Manifest) { m.Sharing.EntrustingTerms = false },
		zh:   "我们委托其代表我们处理个人信息", en: "we entrust them to process personal information on our behalf",
	},
	{
		name: "sharing.independent_terms",
		set:  func(m *manifest.Manifest) bool { return m.Sharing.IndependentTerms },
		on: func(m *manifest.Manifest) {
			m.Recipients[0].Kind = "independent_controller"
			m.Sharing.IndependentTerms = true
		},
		off: func(m *manifest.Manifest) { m.Recipients[0].Kind = "independent_controller" },
		zh:  "接收方将作为独立的个人信息处理者处理您的个人信息", en: "the recipient processes your personal information as an independent processor",
	},
	{
		name: "sharing.sdk_checks",
		set:  func(m *manifest.Manifest) bool { return m.Sharing.SDKChecks },
		on: func(m *manifest.Manifest) {
			sdk(m)
			m.Sharing.SDKChecks = true
		},
		off: sdk,
		zh:  "我们会对其进行安全检测", en: "we test them for security",
	},
	{
		name: "sdks[].permissions",
		set: func(m *manifest.Manifest) bool {
			for _, s := range m.SDKs {
				if len(s.Permissions) > 0 {
					return true
				}
			}
			return false
		},
		on: func(m *manifest.Manifest) {
			sdk(m)
			m.SDKs[0].Permissions = []string{"none"}
		},
		off: sdk,
		zh:  "| 设备权限 |", en: "| Device permissions |",
	},
	{
		name: "sdks[].auto_start",
		set: func(m *manifest.Manifest) bool {
			for _, s := range m.SDKs {
				if s.AutoStart != nil {
					return true
				}
			}
			return false
		},
		on: func(m *manifest.Manifest) {
			sdk(m)
			f := false
			m.SDKs[0].AutoStart = &f
		},
		off: sdk,
		zh:  "自启动或关联启动", en: "Starts itself",
	},
	{
		name: "services[].permissions_revocable",
		set: func(m *manifest.Manifest) bool {
			for _, s := range m.Services {
				if s.Revocable {
					return true
				}
			}
			return false
		},
		on: func(m *manifest.Manifest) {
			permission(m)
			m.Services[0].Revocable = true
		},
		off: permission,
		zh:  "关闭后，我们将不再基于该权限收集相应信息", en: "once a permission is off, we stop collecting",
	},
	{
		name: "services[].permissions[].optional",
		set: func(m *manifest.Manifest) bool {
			for _, s := range m.Services {
				for _, p := range s.Permissions {
					if p.Optional != nil {
						return true
					}
				}
			}
			return false
		},
		on: func(m *manifest.Manifest) {
			permission(m)
			m.Services[0].Permissions[0].Optional = yes()
		},
		off: permission,
		zh:  "是否可拒绝", en: "Can be refused",
	},
	{
		name: "sharing.public_disclosure.separate_consent",
		set: func(m *manifest.Manifest) bool {
			return m.Sharing.PublicDisclosure != nil && m.Sharing.PublicDisclosure.SeparateConsent
		},
		on: func(m *manifest.Manifest) {
			m.Sharing.PublicDisclosure = &manifest.PublicDisclosure{SeparateConsent: true, Cases: []manifest.Text{{"zh": "获得您的单独同意后", "en": "with your separate consent"}}}
		},
		off: func(m *manifest.Manifest) {},
		zh:  "除法律法规要求我们公开披露的情形外，公开披露前，我们会取得您的单独同意", en: "Except where the law requires us to disclose, we will ask for your separate consent before a public disclosure",
	},
	{
		name: "legal_bases",
		set:  func(m *manifest.Manifest) bool { return len(m.LegalBases) > 0 },
		on:   func(m *manifest.Manifest) { m.LegalBases = []string{"consent", "contract"} },
		off:  func(m *manifest.Manifest) {},
		zh:   "我们处理您的个人信息的法律依据包括", en: "The legal bases on which we process your personal information include",
	},
	{
		// A basis the policy does not tie to the purpose is not printed.
		name: "purposes[].basis (not inferred)",
		set:  func(m *manifest.Manifest) bool { return true },
		on:   func(m *manifest.Manifest) {},
		off: func(m *manifest.Manifest) {
			for i := range m.Purposes {
				m.Purposes[i].BasisInferred = true
			}
		},
		zh: "订立、履行您作为一方当事人的合同所必需", en: "ecessity for a contract with you",
	},
	{
		name: "security.incident",
		set:  func(m *manifest.Manifest) bool { return m.Security.Incident != nil },
		on:   func(m *manifest.Manifest) { m.Security.Incident = &manifest.Incident{Channels: []string{"email"}} },
		off:  func(m *manifest.Manifest) { m.Security.Incident = nil },
		zh:   "如不幸发生个人信息安全事件", en: "If a personal-information security incident occurs",
	},
	{
		name: "security.incident.contents",
		set: func(m *manifest.Manifest) bool {
			return m.Security.Incident != nil && len(m.Security.Incident.Contents) > 0
		},
		on: func(m *manifest.Manifest) {
			m.Security.Incident = &manifest.Incident{Channels: []string{"email"}, Contents: []string{"self_protection"}}
		},
		off: func(m *manifest.Manifest) { m.Security.Incident = &manifest.Incident{Channels: []string{"email"}} },
		zh:  "您可自主防范和降低风险的建议", en: "how you can protect yourself and reduce the risk",
	},
	{
		name: "rights.deceased",
		set:  func(m *manifest.Manifest) bool { return m.Rights.Deceased != nil && m.Rights.Deceased.Allowed },
		on:   func(m *manifest.Manifest) { m.Rights.Deceased = &manifest.Deceased{Allowed: true} },
		off:  func(m *manifest.Manifest) { m.Rights.Deceased = nil },
		zh:   "其近亲属为了自身的合法、正当利益", en: "their close relatives may, for their own lawful and legitimate interests",
	},
}

func crossBorder(m *manifest.Manifest) {
	m.Storage.CrossBorder = []manifest.CrossBorder{{ID: "sg", To: []string{"SG"}, Categories: []string{"basic.phone"}, Purposes: []string{"registration"}, Mechanism: "standard_contract"}}
}

func sdk(m *manifest.Manifest) {
	m.SDKs = []manifest.SDK{{ID: "push", Name: manifest.Text{"zh": "推送 SDK", "en": "Push SDK"}, Company: manifest.Text{"zh": "推送公司", "en": "Push Co."},
		Function: manifest.Text{"zh": "推送消息", "en": "push messages"}, Purposes: []string{"registration"}, Collects: []string{"basic.phone"}, PolicyURL: "https://push.example/privacy"}}
}

func permission(m *manifest.Manifest) {
	m.Services[0].Permissions = []manifest.Permission{{Permission: "camera", Purpose: manifest.Text{"zh": "扫码登录", "en": "scanning a sign-in code"}}}
}

// renderText renders m in lang as one line of Markdown.
func renderText(t *testing.T, m *manifest.Manifest, lang string) string {
	t.Helper()
	doc, err := Render(m, lang)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, doc, "markdown"); err != nil {
		t.Fatal(err)
	}
	return strings.Join(strings.Fields(buf.String()), " ")
}

// TestFieldSentences renders the base manifest with each field absent, then
// present: the field's sentence appears only in the second rendering, in
// both languages.
func TestFieldSentences(t *testing.T) {
	for _, fs := range fieldSentences {
		t.Run(fs.name, func(t *testing.T) {
			for _, lang := range []string{"zh-CN", "en"} {
				want := fs.en
				if lang == "zh-CN" {
					want = fs.zh
				}
				off, on := loadBase(t), loadBase(t)
				fs.off(off)
				fs.on(on)
				if got := renderText(t, off, lang); strings.Contains(got, want) {
					t.Errorf("%s: without the field the policy still says %q", lang, want)
				}
				if got := renderText(t, on, lang); !strings.Contains(got, want) {
					t.Errorf("%s: with the field the policy does not say %q", lang, want)
				}
			}
		})
	}
}

// TestExamplesSayNothingUnset renders every example in every language and
// fails on a sentence whose field the example leaves empty. A zh-Hant
// rendering is checked through its zh-CN markers written in traditional
// characters (the renderer's own conversion).
func TestExamplesSayNothingUnset(t *testing.T) {
	hant := langOf("zh-Hant")
	for name, m := range examples(t) {
		for _, lang := range m.Policy.Languages {
			text := renderText(t, m, lang)
			for _, fs := range fieldSentences {
				if fs.set(m) {
					continue
				}
				want := fs.en
				switch lang {
				case "zh-CN":
					want = fs.zh
				case "zh-Hant":
					want = hantMarker(hant, fs.zh)
				}
				if strings.Contains(text, want) {
					t.Errorf("%s (%s): the manifest leaves %s empty, but the policy says %q", name, lang, fs.name, want)
				}
			}
		}
	}
}

// TestDocsListFieldSentences: docs/manifest.md lists, per field, the
// sentence it produces.
func TestDocsListFieldSentences(t *testing.T) {
	doc, err := os.ReadFile("../../docs/manifest.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, fs := range fieldSentences {
		field, _, _ := strings.Cut(fs.name, " ")
		field = strings.TrimSuffix(field, ":")
		if !bytes.Contains(doc, []byte("`"+field)) {
			t.Errorf("docs/manifest.md does not list the field %s", field)
		}
	}
}

// hantMarker writes a zh-CN marker in traditional characters: through the
// conversion table when the marker is a whole piece of the renderer's
// wording, else character by character from the table's pairs.
func hantMarker(l lang, zh string) string {
	if h := l.h(zh); h != zh {
		return h
	}
	chars := map[rune]rune{}
	for s, t := range hantTable {
		sr, tr := []rune(s), []rune(t)
		if len(sr) != len(tr) {
			continue
		}
		for i := range sr {
			if sr[i] != tr[i] {
				chars[sr[i]] = tr[i]
			}
		}
	}
	return strings.Map(func(r rune) rune {
		if t, ok := chars[r]; ok {
			return t
		}
		return r
	}, zh)
}
