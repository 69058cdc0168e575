package pia

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/manifest"
)

// Draft is a draft impact assessment: a report for a person to complete
// and the stanza to paste into the manifest's assessments once they have.
type Draft struct {
	Activities []string
	Markdown   string
	YAML       string
	Digest     string
}

// risks are the risk sources and the impact on people's rights GB/T
// 39335-2020 (5.4, 5.5) asks to be weighed for each reason.
var risks = map[string]struct{ sourceZH, sourceEN, impactZH, impactEN string }{
	ReasonSensitive: {
		"敏感个人信息一旦泄露或者被非法使用，容易导致自然人的人格尊严受到侵害或者人身、财产安全受到危害",
		"sensitive personal information that leaks or is misused can easily harm a person's dignity or endanger their person or property",
		"人格尊严、人身和财产安全；歧视；对未成年人的特别影响",
		"dignity, personal and property safety; discrimination; particular effects on minors"},
	ReasonAutomated: {
		"自动化决策的逻辑有误、数据有偏差，或者缺乏人工复核",
		"flawed logic or biased data in automated decisions, or no review by a person",
		"不合理的差别待遇；个人获得说明、拒绝仅通过自动化决策方式作出决定的权利",
		"unreasonable differential treatment; the right to an explanation and to refuse decisions made solely by automated means"},
	ReasonEntrusted: {
		"受托人超出约定处理个人信息、安全措施不足或者转委托",
		"a processor that goes beyond what was agreed, protects the information poorly or sub-contracts",
		"个人信息泄露、被篡改或者被滥用",
		"leaks, alteration or misuse of the information"},
	ReasonProvision: {
		"接收方变更处理目的、处理方式，或者安全能力不足",
		"a recipient that changes the purpose or manner of processing, or protects the information poorly",
		"个人对其信息失去控制；接收方处的权利行使",
		"loss of the person's control over their information; exercising rights against the recipient"},
	ReasonDisclosure: {
		"公开的个人信息被任何人获取、汇聚和再利用",
		"publicly disclosed information taken, combined and reused by anyone",
		"隐私、名誉；公开后无法收回",
		"privacy and reputation; what is public cannot be recalled"},
	ReasonCrossBorder: {
		"境外接收方所在国家或者地区的法律环境、网络安全环境，以及接收方的保护能力",
		"the law and network security of the recipient's country or region, and the recipient's ability to protect the information",
		"个人在境外行使权利的困难；境外执法机关调取",
		"difficulty exercising rights abroad; access by foreign authorities"},
}

// NewDraft drafts an assessment of activities (all that need one when
// empty) in lang (zh-CN or en), dated today. It fails for an activity the
// manifest does not have.
func NewDraft(m *manifest.Manifest, activities []string, lang string, today time.Time) (Draft, error) {
	ts := Triggers(m)
	if len(activities) == 0 {
		activities = Activities(ts)
		if len(activities) == 0 {
			return Draft{}, fmt.Errorf("no activity of the manifest needs an impact assessment (PIPL art. 55); name one with --activity to assess it anyway")
		}
	}
	for _, a := range activities {
		if _, ok := m.Purpose(a); !ok && a != manifest.PublicDisclosureActivity {
			return Draft{}, fmt.Errorf("activity %q is neither a purpose of the manifest nor %s", a, manifest.PublicDisclosureActivity)
		}
	}
	zh := manifest.TextKey(lang) != manifest.KeyEN
	s := func(z, e string) string {
		if zh {
			return z
		}
		return e
	}
	d := Draft{Activities: activities, Digest: Digest(m, activities)}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	date := today.In(calendar.China).Format(time.DateOnly)
	var mine []Trigger
	for _, t := range ts {
		if slices.Contains(activities, t.Activity) {
			mine = append(mine, t)
		}
	}

	w("# %s\n\n", s("个人信息保护影响评估报告（草稿）", "Personal-information protection impact assessment (draft)"))
	w("%s\n\n", s(
		"依据《个人信息保护法》第五十五条、第五十六条和 GB/T 39335-2020《信息安全技术 个人信息安全影响评估指南》。本草稿由 Custos 根据隐私清单生成，结论须由评估人填写。",
		"Under PIPL art. 55 and 56 and GB/T 39335-2020 (guidance for personal information security impact assessment). Custos drafted it from the privacy manifest; the conclusion is for the assessor to write."))
	w("- %s: %s\n", s("清单", "Manifest"), m.Policy.ID+" "+m.Policy.Version)
	if len(m.Controllers) > 0 {
		w("- %s: %s\n", s("个人信息处理者", "Handler"), m.Controllers[0].Name.In(lang))
	}
	w("- %s: %s\n", s("起草日期", "Drafted"), date)
	w("- %s: `%s`\n\n", s("摘要值", "Digest"), d.Digest)

	w("## 1. %s\n\n", s("评估范围", "Scope"))
	for _, a := range activities {
		w("- %s\n", activityLine(m, a, lang))
	}
	w("\n")

	w("## 2. %s\n\n", s("数据映射", "Data map"))
	for _, a := range activities {
		dataMap(&b, m, a, lang, s)
	}

	w("## 3. %s\n\n", s("评估触发情形（《个人信息保护法》第五十五条）", "Why an assessment is needed (PIPL art. 55)"))
	if len(mine) == 0 {
		w("%s\n\n", s("所列处理活动不属于第五十五条规定的情形；本评估自愿开展。", "None of the activities falls under art. 55; this assessment is voluntary."))
	}
	for _, t := range mine {
		w("- `%s`: %s\n", t.Activity, t.Describe(lang))
	}
	if len(mine) > 0 {
		w("\n")
	}

	reasons := map[string]bool{}
	for _, t := range mine {
		reasons[t.Reason] = true
	}
	w("## 4. %s\n\n", s("风险来源", "Risk sources"))
	for _, r := range reasonOrder {
		if reasons[r] {
			w("- %s\n", s(risks[r].sourceZH, risks[r].sourceEN))
		}
	}
	w("- %s\n\n", s("（评估人补充：网络环境、技术措施、处理流程、参与人员与第三方等方面的其他风险来源）", "(for the assessor: other sources in the network environment, technical measures, processing flow, people and third parties)"))

	w("## 5. %s\n\n", s("对个人权益的影响", "Impact on people's rights and interests"))
	for _, r := range reasonOrder {
		if reasons[r] {
			w("- %s\n", s(risks[r].impactZH, risks[r].impactEN))
		}
	}
	for _, a := range activities {
		if p, ok := m.Purpose(a); ok && p.Automation != nil {
			for _, part := range p.Automation.Parts() {
				w("- `%s` %s: %s\n", a, part.Label.In(lang), part.Text.In(lang))
			}
		}
	}
	w("- %s\n\n", s("（评估人填写：影响程度与发生可能性，及由此得出的风险等级）", "(for the assessor: severity and likelihood of each impact, and the resulting risk level)"))

	w("## 6. %s\n\n", s("保护措施", "Protection measures"))
	for _, ms := range m.Security.Measures {
		w("- %s: %s\n", ms.Kind, ms.Text.In(lang))
	}
	for _, c := range m.Security.Certifications {
		w("- %s: %s\n", s("认证", "certification"), c.Name.In(lang))
	}
	for _, a := range activities {
		for _, r := range m.Recipients {
			if slices.Contains(r.Purposes, a) && len(r.Safeguards) > 0 {
				w("- %s %s: %s\n", s("接收方", "recipient"), r.ID, r.Safeguards.In(lang))
			}
		}
		for _, x := range m.Storage.CrossBorder {
			if slices.Contains(x.Purposes, a) {
				w("- %s %s: %s %s\n", s("出境", "transfer"), x.ID, s("机制", "mechanism"), x.Mechanism)
			}
		}
	}
	w("- %s\n\n", s("（评估人填写：上述措施是否合法、有效并与风险程度相适应）", "(for the assessor: whether these measures are lawful, effective and proportionate to the risk)"))

	w("## 7. %s\n\n", s("评估结论", "Conclusion"))
	w("%s\n\n", s("（由评估人填写：处理目的、处理方式是否合法、正当、必要；风险等级 low、medium 或 high；须采取的改进措施。）",
		"(for the assessor: whether the purpose and means are lawful, legitimate and necessary; the risk level, low, medium or high; the improvements required.)"))
	w("%s\n", s("评估报告和处理情况记录应当至少保存三年（《个人信息保护法》第五十六条）。评估写入隐私清单的 assessments 后，随清单的每一个已发布版本一并保存。",
		"The report and the record of processing are kept at least three years (PIPL art. 56). Once in the manifest's assessments, the assessment is kept with every published version of the manifest."))

	d.Markdown = b.String()
	d.YAML = stanza(m, activities, date, d.Digest)
	return d, nil
}

// activityLine names an activity with its basis.
func activityLine(m *manifest.Manifest, a, lang string) string {
	if a == manifest.PublicDisclosureActivity {
		if manifest.TextKey(lang) == manifest.KeyEN {
			return "`public_disclosure`: public disclosure of personal information (sharing.public_disclosure)"
		}
		return "`public_disclosure`：公开披露个人信息（sharing.public_disclosure）"
	}
	p, _ := m.Purpose(a)
	line := fmt.Sprintf("`%s`: %s (basis %s)", a, p.Name.In(lang), p.Basis)
	if d := p.Description.In(lang); d != "" {
		line += " — " + d
	}
	return line
}

// dataMap writes what an activity processes, from whom, to whom and where.
func dataMap(b *strings.Builder, m *manifest.Manifest, a, lang string, s func(z, e string) string) {
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("### `%s`\n\n", a)
	if a == manifest.PublicDisclosureActivity {
		if pd := m.Sharing.PublicDisclosure; pd != nil {
			for _, c := range pd.Cases {
				w("- %s\n", c.In(lang))
			}
		}
		w("\n")
		return
	}
	cats := Categories(m, a)
	if len(cats) > 0 {
		w("| %s | %s | %s |\n| --- | --- | --- |\n", s("个人信息类别", "category"), s("敏感", "sensitive"), s("收集", "collected by"))
		for _, c := range cats {
			name := c
			if cat, ok := m.Category(c); ok {
				name = cat.Name.In(lang) + " (`" + c + "`)"
			}
			sens := ""
			if m.Sensitive(c) {
				sens = s("是", "yes")
			}
			var by []string
			for _, sv := range m.Services {
				for _, col := range sv.Collects {
					if slices.Contains(col.Purposes, a) && slices.Contains(col.Categories, c) {
						by = append(by, sv.ID+" ("+col.Necessity+"; "+strings.Join(col.Sources, ", ")+")")
					}
				}
			}
			w("| %s | %s | %s |\n", name, sens, strings.Join(sortedSet(by), "; "))
		}
		w("\n")
	}
	for _, r := range m.Recipients {
		if slices.Contains(r.Purposes, a) {
			where := ""
			if r.Country != "" {
				where = ", " + r.Country
			}
			w("- %s `%s` (%s%s): %s — %s\n", s("接收方", "recipient"), r.ID, r.Kind, where, r.Name.In(lang), strings.Join(r.Categories, ", "))
		}
	}
	for _, sd := range m.SDKs {
		if slices.Contains(sd.Purposes, a) {
			w("- SDK `%s`: %s (%s) — %s\n", sd.ID, sd.Name.In(lang), sd.Company.In(lang), strings.Join(sd.Collects, ", "))
		}
	}
	for _, x := range m.Storage.CrossBorder {
		if slices.Contains(x.Purposes, a) {
			to := strings.Join(x.To, ", ")
			if to == "" {
				to = x.ToText.In(lang)
			}
			w("- %s `%s` → %s (%s): %s\n", s("出境", "transfer"), x.ID, to, x.Mechanism, strings.Join(x.Categories, ", "))
		}
	}
	for _, l := range m.Storage.Locations {
		if len(l.Categories) == 0 || slices.ContainsFunc(l.Categories, func(c string) bool { return slices.Contains(cats, c) }) {
			where := l.Country
			if where == "" {
				where = l.Where.In(lang)
			}
			w("- %s `%s`: %s\n", s("存储地点", "stored"), l.ID, where)
		}
	}
	for _, r := range m.Retention {
		if slices.Contains(r.Purposes, a) || slices.ContainsFunc(r.Categories, func(c string) bool { return slices.Contains(cats, c) }) {
			how := r.Until
			if r.Period != nil {
				how = strconv.Itoa(r.Period.Count) + " " + r.Period.Unit
			}
			w("- %s `%s`: %s, %s\n", s("保存期限", "retention"), r.ID, how, r.After)
		}
	}
	w("\n")
}

// stanza is the YAML to paste into assessments once the assessment is done.
func stanza(m *manifest.Manifest, activities []string, date, digest string) string {
	id := "pia-" + strings.ReplaceAll(activities[0], "_", "-")
	if len(activities) > 1 {
		id = "pia-" + strings.ReplaceAll(m.Policy.ID, "_", "-")
	}
	langs := []string{}
	for _, l := range m.Policy.Languages {
		langs = append(langs, manifest.TextKey(l))
	}
	text := func(indent, key, zh, en string) string {
		var parts []string
		for _, l := range langs {
			v := en
			if l != manifest.KeyEN {
				v = zh
			}
			parts = append(parts, l+": "+strconv.Quote(v))
		}
		return indent + key + ": {" + strings.Join(parts, ", ") + "}\n"
	}
	var names []string
	var namesZH []string
	for _, a := range activities {
		if p, ok := m.Purpose(a); ok {
			names = append(names, p.Name.In("en"))
			namesZH = append(namesZH, p.Name.In("zh-CN"))
		} else {
			names = append(names, "public disclosure")
			namesZH = append(namesZH, "公开披露")
		}
	}
	var b strings.Builder
	b.WriteString("# Paste under assessments: once the assessment is done, complete\n# every TODO. The digest fingerprints the activities as assessed.\n")
	b.WriteString("  - id: " + id + "\n")
	b.WriteString("    date: " + date + "\n")
	b.WriteString(text("    ", "subject", strings.Join(namesZH, "、"), strings.Join(names, "; ")))
	b.WriteString("    risk: medium # TODO: low, medium or high, as concluded\n")
	b.WriteString("    publish: false\n")
	b.WriteString("    activities: [" + strings.Join(activities, ", ") + "]\n")
	b.WriteString(text("    ", "assessor", "TODO", "TODO"))
	b.WriteString(text("    ", "scope", "TODO", "TODO"))
	b.WriteString(text("    ", "lawfulness", "TODO", "TODO"))
	b.WriteString(text("    ", "impact", "TODO", "TODO"))
	b.WriteString(text("    ", "measures", "TODO", "TODO"))
	b.WriteString(text("    ", "conclusion", "TODO", "TODO"))
	b.WriteString("    digest: " + digest + "\n")
	return b.String()
}
