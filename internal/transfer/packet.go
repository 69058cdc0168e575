package transfer

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Packet languages.
const (
	LangZH = "zh-CN"
	LangEN = "en"
)

// words are the packet's fixed wording, per language.
var words = map[string]map[string]string{
	LangZH: {
		"title":       "个人信息出境标准合同备案材料（%d 年度）",
		"intro":       "本材料由 Custos 依据隐私清单（版本 %s）和 %d 年 1 月 1 日（北京时间）以来的出境人数统计生成，供填写《个人信息出境标准合同》附录一和个人信息保护影响评估报告之用。标注“【待填写】”之处需由个人信息处理者补充。",
		"annex":       "附录一：个人信息出境说明",
		"handler":     "个人信息处理者",
		"address":     "地址",
		"contact":     "个人信息保护负责人或部门",
		"flow":        "出境活动 %s",
		"recipient":   "境外接收方",
		"country":     "境外接收方所在国家或地区",
		"purposes":    "处理目的",
		"manner":      "处理方式",
		"categories":  "出境个人信息种类",
		"sensitive":   "出境敏感个人信息种类",
		"people":      "出境个人信息涉及人数（%d 年度，截至统计时）",
		"projected":   "按本年度至今速度预计全年人数",
		"retention":   "境外接收方保存期限",
		"storage":     "存储地点",
		"mechanism":   "申报的出境机制",
		"needed":      "依出境人数所需的机制",
		"consent":     "是否取得单独同意",
		"yes":         "是",
		"no":          "否",
		"none":        "无",
		"todo":        "【待填写】",
		"pia":         "个人信息保护影响评估报告（出境）框架",
		"pia.intro":   "依据《个人信息保护法》第五十五条、第五十六条，向境外提供个人信息前应当进行个人信息保护影响评估。以下框架按出境活动列出清单中已有的事实，评估结论需由评估人员填写。",
		"pia.1":       "一、出境的目的、范围、方式等的合法性、正当性、必要性",
		"pia.2":       "二、出境个人信息的规模、范围、种类、敏感程度，出境可能对个人信息权益带来的风险",
		"pia.3":       "三、境外接收方承诺承担的义务，以及履行义务的管理和技术措施、能力等能否保障出境个人信息的安全",
		"pia.4":       "四、个人信息出境后遭到篡改、破坏、泄露、丢失、非法利用等的风险，个人维护个人信息权益的渠道是否通畅",
		"pia.5":       "五、境外接收方所在国家或地区的个人信息保护政策和法规对标准合同履行的影响",
		"pia.6":       "六、评估结论",
		"pia.facts":   "清单中的事实：",
		"total":       "全部出境活动合计人数（每人计一次）",
		"of.which":    "其中敏感个人信息涉及人数",
		"thresholds":  "适用的人数门槛：非敏感个人信息 %d 人起需订立标准合同或认证，超过 %d 人需申报安全评估；敏感个人信息 %d 人起需申报安全评估。",
		"until":       "至%s",
		"period":      "自%s起 %d %s",
		"retention.n": "清单未规定",
		"not.cn":      "不适用（出境地非中国境内）",
	},
	LangEN: {
		"title":       "Filing packet for the standard contract on the export of personal information (%d)",
		"intro":       "Custos drew this packet from the privacy manifest (version %s) and the people counted since 1 January %d (China time), for Annex I of the standard contract and the personal-information protection impact assessment. The handler completes what is marked [to complete].",
		"annex":       "Annex I: the export of personal information",
		"handler":     "Personal-information handler",
		"address":     "Address",
		"contact":     "Person or department responsible for personal information",
		"flow":        "Export %s",
		"recipient":   "Overseas recipient",
		"country":     "Country or region of the overseas recipient",
		"purposes":    "Purposes of processing",
		"manner":      "Manner of processing",
		"categories":  "Categories of personal information exported",
		"sensitive":   "Categories of sensitive personal information exported",
		"people":      "People whose personal information was exported (%d, so far)",
		"projected":   "Projected for the whole year at the rate so far",
		"retention":   "Retention by the overseas recipient",
		"storage":     "Place of storage",
		"mechanism":   "Mechanism declared",
		"needed":      "Mechanism the numbers call for",
		"consent":     "Separate consent obtained",
		"yes":         "yes",
		"no":          "no",
		"none":        "none",
		"todo":        "[to complete]",
		"pia":         "Personal-information protection impact assessment (export): outline",
		"pia.intro":   "PIPL arts. 55 and 56 require an impact assessment before personal information is provided abroad. This outline lists, per export, the facts the manifest holds; the assessors write the conclusions.",
		"pia.1":       "1. Lawfulness, legitimacy and necessity of the purposes, scope and manner of the export",
		"pia.2":       "2. Volume, scope, categories and sensitivity of the information exported, and the risks to people's rights",
		"pia.3":       "3. The overseas recipient's obligations, and whether its management and technical measures and capacity can keep the information secure",
		"pia.4":       "4. Risks of tampering, destruction, leaks, loss or misuse after export, and whether people can exercise their rights",
		"pia.5":       "5. Effect of the data-protection law and policy of the recipient's country or region on the performance of the contract",
		"pia.6":       "6. Conclusion",
		"pia.facts":   "Facts from the manifest:",
		"total":       "People over all exports (each counted once)",
		"of.which":    "Of whom, people whose sensitive information was exported",
		"thresholds":  "Thresholds applied: from %d people's non-sensitive information a standard contract or certification, above %d a security assessment; from %d people's sensitive information a security assessment.",
		"until":       "until %s",
		"period":      "%[2]d %[3]s from %[1]s",
		"retention.n": "not stated in the manifest",
		"not.cn":      "not applicable (not exported from China)",
	},
}

// MechanismName is the name of a legal mechanism of transfer in lang
// (zh-CN, or English for any other); a needed standard contract reads "or certification",
// which the provisions allow in its place.
func MechanismName(mechanism, lang string) string {
	if mechanism == MechanismContract {
		return pick([2]string{"个人信息出境标准合同（或认证）", "standard contract (or certification)"}, lang)
	}
	return pick(mechanismNames[mechanism], lang)
}

var mechanismNames = map[string][2]string{
	"security_assessment": {"数据出境安全评估", "security assessment"},
	"standard_contract":   {"个人信息出境标准合同", "standard contract"},
	"certification":       {"个人信息保护认证", "certification"},
	"adequacy":            {"充分性认定", "adequacy decision"},
	"eu_scc":              {"欧盟标准合同条款", "EU standard contractual clauses"},
	"bcr":                 {"约束性企业规则", "binding corporate rules"},
	"consent":             {"个人同意", "consent"},
	"de_identified":       {"去标识化", "de-identified data"},
	"exemption":           {"免予申报（未达人数门槛或豁免情形）", "exempt (below the thresholds, or an exempted case)"},
	"":                    {"未申报", "none declared"},
}

var retentionWords = map[string][2]string{
	"account_deletion":  {"账号注销", "the account is deleted"},
	"purpose_fulfilled": {"处理目的实现", "the purpose is fulfilled"},
	"consent_withdrawn": {"撤回同意", "consent is withdrawn"},
	"service_end":       {"服务终止", "the service ends"},
	"legal_minimum":     {"法定最短期限届满", "the legal minimum has passed"},
	"collection":        {"收集之日", "collection"},
	"last_activity":     {"最后一次活动", "the last activity"},
	"contract_end":      {"合同终止", "the contract ends"},
	"transaction":       {"交易完成", "the transaction"},
	"days":              {"日", "days"},
	"months":            {"个月", "months"},
	"years":             {"年", "years"},
}

func pick(pair [2]string, lang string) string {
	if lang == LangZH {
		return pair[0]
	}
	return pair[1]
}

// RenderPacket renders the filing packet in lang (zh-CN or en): Annex I
// of the standard contract for each flow from CN, and an outline of the
// transfer impact assessment, from the register and the year's counts.
func RenderPacket(m *manifest.Manifest, reg *Register, c Counts, lang string) ([]byte, error) {
	w, ok := words[lang]
	if !ok {
		return nil, invalid("lang", "invalid_language", "the packet is rendered in zh-CN or en")
	}
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	row := func(k, v string) {
		if v == "" {
			v = w["todo"]
		}
		p("| %s | %s |\n", k, strings.ReplaceAll(v, "|", "\\|"))
	}
	yn := func(v bool) string {
		if v {
			return w["yes"]
		}
		return w["no"]
	}
	p("# %s\n\n", fmt.Sprintf(w["title"], c.Year))
	p("%s\n\n", fmt.Sprintf(w["intro"], m.Policy.Version, c.Year))
	p("## %s\n\n", w["annex"])
	p("| | |\n| --- | --- |\n")
	if len(m.Controllers) > 0 {
		ctl := m.Controllers[0]
		row(w["handler"], ctl.Name.In(lang))
		row(w["address"], ctl.Address.In(lang))
	}
	row(w["contact"], strings.TrimSpace(m.Contact.Department.In(lang)+" "+m.Contact.Person.In(lang)))
	row(w["total"], fmt.Sprint(c.Total.People))
	row(w["of.which"], fmt.Sprint(c.Total.Sensitive))
	p("\n%s\n", fmt.Sprintf(w["thresholds"], reg.Thresholds.ContractFrom, reg.Thresholds.AssessmentAbove, reg.Thresholds.SensitiveAssessmentFrom))
	counts := map[string]FlowCount{}
	for _, fc := range c.Flows {
		counts[fc.Flow] = fc
	}
	for _, f := range reg.Flows {
		fc := counts[f.ID]
		p("\n### %s\n\n| | |\n| --- | --- |\n", fmt.Sprintf(w["flow"], f.ID))
		row(w["recipient"], f.RecipientName)
		row(w["country"], countries(f, lang))
		row(w["purposes"], names(f.Purposes, lang, func(id string) manifest.Text {
			pp, _ := m.Purpose(id)
			return pp.Name
		}))
		row(w["manner"], "")
		row(w["categories"], names(f.Categories, lang, catName(m)))
		sens := w["none"]
		if f.Sensitive() {
			sens = names(f.SensitiveCategories, lang, catName(m))
		}
		row(w["sensitive"], sens)
		row(fmt.Sprintf(w["people"], c.Year), fmt.Sprint(fc.People.People))
		row(w["projected"], fmt.Sprint(fc.Projected))
		row(w["retention"], retention(m, f, lang, w))
		row(w["mechanism"], pick(mechanismNames[f.Mechanism], lang))
		need := w["not.cn"]
		if fc.Needed != "" {
			need = pick(mechanismNames[fc.Needed], lang)
		}
		row(w["needed"], need)
		row(w["consent"], yn(f.SeparateConsent))
	}
	p("\n## %s\n\n%s\n", w["pia"], w["pia.intro"])
	colon, semi := ": ", "; "
	if lang == LangZH {
		colon, semi = "：", "；"
	}
	for _, k := range []string{"pia.1", "pia.2", "pia.3", "pia.4", "pia.5"} {
		p("\n### %s\n\n%s\n\n", w[k], w["pia.facts"])
		for _, f := range reg.Flows {
			fc := counts[f.ID]
			switch k {
			case "pia.1":
				p("- %s%s%s%s%s%s%s\n", f.ID, colon, names(f.Purposes, lang, func(id string) manifest.Text {
					pp, _ := m.Purpose(id)
					return pp.Name
				}), semi, w["consent"], colon, yn(f.SeparateConsent))
			case "pia.2":
				p("- %s%s%s%s%s%s%d\n", f.ID, colon, names(f.Categories, lang, catName(m)), semi, fmt.Sprintf(w["people"], c.Year), colon, fc.People.People)
			case "pia.3":
				safeguards := ""
				if r, ok := m.Recipient(f.Recipient); ok {
					safeguards = r.Safeguards.In(lang)
				}
				if safeguards == "" {
					safeguards = w["todo"]
				}
				p("- %s%s%s\n", f.ID, colon, safeguards)
			case "pia.4":
				p("- %s%s%s\n", f.ID, colon, retention(m, f, lang, w))
			case "pia.5":
				p("- %s%s%s\n", f.ID, colon, countries(f, lang))
			}
		}
		p("\n%s\n", w["todo"])
	}
	p("\n### %s\n\n%s\n", w["pia.6"], w["todo"])
	return b.Bytes(), nil
}

func catName(m *manifest.Manifest) func(string) manifest.Text {
	return func(id string) manifest.Text {
		c, _ := m.Category(id)
		return c.Name
	}
}

func names(ids []string, lang string, name func(string) manifest.Text) string {
	var out []string
	for _, id := range ids {
		n := name(id).In(lang)
		if n == "" {
			n = id
		}
		out = append(out, n)
	}
	sep := ", "
	if lang == LangZH {
		sep = "、"
	}
	return strings.Join(out, sep)
}

var countryNames = map[string][2]string{
	"SG": {"新加坡", "Singapore"}, "US": {"美国", "United States"}, "HK": {"中国香港", "Hong Kong, China"},
	"JP": {"日本", "Japan"}, "DE": {"德国", "Germany"}, "IE": {"爱尔兰", "Ireland"}, "GB": {"英国", "United Kingdom"},
	"KR": {"韩国", "Korea"}, "NL": {"荷兰", "Netherlands"}, "FR": {"法国", "France"}, "MO": {"中国澳门", "Macao, China"},
	"TW": {"中国台湾", "Taiwan, China"}, "CN": {"中国", "China"},
}

func countries(f Flow, lang string) string {
	var out []string
	for _, c := range f.To {
		if n, ok := countryNames[c]; ok {
			out = append(out, pick(n, lang)+" ("+c+")")
		} else {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return f.Destination
	}
	return strings.Join(out, ", ")
}

// retention states the manifest's retention rules for the flow's
// purposes or categories.
func retention(m *manifest.Manifest, f Flow, lang string, w map[string]string) string {
	var out []string
	for _, r := range m.Retention {
		hit := false
		for _, p := range r.Purposes {
			hit = hit || slices.Contains(f.Purposes, p)
		}
		for _, c := range r.Categories {
			hit = hit || slices.Contains(f.Categories, c)
		}
		if !hit {
			continue
		}
		var s string
		switch {
		case r.Period != nil:
			from := r.From
			if from == "" {
				from = "collection"
			}
			s = fmt.Sprintf(w["period"], pick(retentionWords[from], lang), r.Period.Count, pick(retentionWords[r.Period.Unit], lang))
		case r.Until != "":
			s = fmt.Sprintf(w["until"], pick(retentionWords[r.Until], lang))
		}
		if reason := r.Reason.In(lang); reason != "" {
			s += " (" + reason + ")"
			if lang == LangZH {
				s = strings.Replace(s, " (", "（", 1)
				s = strings.TrimSuffix(s, ")") + "）"
			}
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return w["retention.n"]
	}
	sep := "; "
	if lang == LangZH {
		sep = "；"
	}
	return strings.Join(out, sep)
}
