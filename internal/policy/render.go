package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Render composes the policy described by m in language tag (zh-CN or en).
// Every sentence comes from the manifest: structural wording is fixed, and
// facts (names, categories, purposes, deadlines, channels) are the manifest's.
func Render(m *manifest.Manifest, tag string) (*Document, error) {
	l, err := newLang(tag)
	if err != nil {
		return nil, err
	}
	if !hasLanguage(m, l.tag) {
		return nil, fmt.Errorf("render: the manifest is not published in %s (languages: %s)", l.tag, strings.Join(m.Policy.Languages, ", "))
	}
	r := &renderer{m: m, l: l.withNoun(m.Policy.Noun)}
	l = r.l
	doc := &Document{Lang: l.tag, Title: l.t(m.Policy.Title)}
	doc.Meta = r.meta()
	parts := []struct {
		id    string
		build func() Section
	}{
		{"intro", r.intro},
		{"collection", r.collection},
		{"cookies", r.cookies},
		{"sharing", r.sharing},
		{"security", r.security},
		{"storage", r.storage},
		{"rights", r.rights},
		{"minors", r.minors},
		{"updates", r.updates},
		{"contact", r.contact},
		{"complaints", r.complaints},
	}
	for _, p := range parts {
		s := p.build()
		if len(s.Blocks) == 0 && len(s.Subs) == 0 {
			continue
		}
		for _, st := range m.Statements[p.id] {
			s.Blocks = append(s.Blocks, Para{l.t(st)})
		}
		s.ID = p.id
		doc.Sections = append(doc.Sections, s)
		for _, x := range m.Sections {
			if x.After == p.id {
				ex := Section{ID: x.ID, Title: l.t(x.Title)}
				for _, b := range x.Body {
					ex.Blocks = append(ex.Blocks, Para{l.t(b)})
				}
				doc.Sections = append(doc.Sections, ex)
			}
		}
	}
	if s := r.definitions(); len(s.Blocks) > 0 {
		doc.Sections = append(doc.Sections, s)
	}
	if l.zh() {
		doc.mapText(spaceHanLatin)
	}
	return doc, nil
}

var (
	hanLatin = regexp.MustCompile(`(\p{Han})([A-Za-z])`)
	latinHan = regexp.MustCompile(`([A-Za-z])(\p{Han})`)
)

// spaceHanLatin puts a space between Chinese characters and Latin words
// ("您的 IP 地址"), as Chinese typesetting does; digits are left alone so
// that dates and counts read 2022年3月17日 and 15个工作日.
func spaceHanLatin(s string) string {
	s = hanLatin.ReplaceAllString(s, "$1 $2")
	return latinHan.ReplaceAllString(s, "$1 $2")
}

func hasLanguage(m *manifest.Manifest, tag string) bool {
	for _, l := range m.Policy.Languages {
		if l == tag {
			return true
		}
	}
	return false
}

type renderer struct {
	m *manifest.Manifest
	l lang
}

// we is how the policy names the controller: its short name, or "we".
func (r *renderer) we() string {
	if len(r.m.Controllers) > 0 {
		if s := r.l.t(r.m.Controllers[0].Short); s != "" {
			return s
		}
	}
	return r.l.s("我们", "we")
}

func (r *renderer) meta() []string {
	l, p := r.l, r.m.Policy
	var out []string
	out = append(out, l.s("版本：%s", "Version: %s", p.Version))
	if p.Effective != "" {
		out = append(out, l.s("生效日期：%s", "Effective: %s", l.date(p.Effective)))
	}
	out = append(out, l.s("更新日期：%s", "Last updated: %s", l.date(p.Updated)))
	return out
}

// categoryNames names categories, sensitive ones in bold as the law asks them to stand out.
func (r *renderer) categoryNames(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		c, ok := r.m.Category(id)
		name := id
		if ok {
			name = r.l.t(c.Name)
		}
		if ok && c.Sensitive {
			name = bold(name)
		}
		out = append(out, name)
	}
	return out
}

func (r *renderer) purposeNames(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if p, ok := r.m.Purpose(id); ok {
			out = append(out, r.l.t(p.Name))
		} else {
			out = append(out, id)
		}
	}
	return out
}

func (r *renderer) controllerNames() []string {
	var out []string
	for _, c := range r.m.Controllers {
		out = append(out, r.l.t(c.Name))
	}
	return out
}

func (r *renderer) intro() Section {
	l, m := r.l, r.m
	s := Section{Title: l.s("引言", "Introduction")}
	names := r.controllerNames()
	var affiliates []string
	for _, c := range m.Controllers {
		for _, a := range c.Affiliates {
			affiliates = append(affiliates, l.t(a.Name))
		}
	}
	who := l.join(names)
	if len(affiliates) > 0 {
		who = l.s("%s及其关联公司（包括%s）", "%s and its affiliates (including %s)", who, l.join(affiliates))
	}
	short := ""
	if len(m.Controllers) > 0 {
		short = l.t(m.Controllers[0].Short)
	}
	if short != "" {
		who = l.s("%s（以下简称“%s”或“我们”）", "%s (\"%s\" or \"we\")", who, short)
	} else {
		who = l.s("%s（以下简称“我们”）", "%s (\"we\")", who)
	}
	s.Blocks = append(s.Blocks, Para{l.para(l.s(
		"本政策说明%s在提供%s时如何收集、使用、存储、共享和保护您的个人信息，以及您享有的权利",
		"This policy explains how %s collect, use, store, share and protect your personal information when providing %s, and the rights you have",
		who, l.clause(l.t(m.Policy.Scope))))})
	for _, p := range m.Policy.Intro {
		s.Blocks = append(s.Blocks, Para{l.t(p)})
	}
	for _, x := range m.Policy.Exclusions {
		s.Blocks = append(s.Blocks, Para{l.t(x)})
	}
	if len(m.Policy.RelatedAgreements) > 0 {
		var names []string
		for _, a := range m.Policy.RelatedAgreements {
			names = append(names, l.clause(l.t(a)))
		}
		s.Blocks = append(s.Blocks, Para{l.para(l.s("请将本政策与%s一并阅读", "Please read this policy together with %s", l.join(names)))})
	}
	if len(m.Policy.Languages) > 1 && m.Policy.Prevailing != "" {
		s.Blocks = append(s.Blocks, Para{l.para(l.s(
			"本政策以%s发布；各语言版本如有不一致，以%s版本为准",
			"This policy is published in %s; if the language versions differ, the %s version prevails",
			l.join(languageNames(l, m.Policy.Languages)), languageName(l, m.Policy.Prevailing)))})
	}
	if m.Minors.Stance != "" {
		s.Blocks = append(s.Blocks, Para{r.minorsSummary()})
	}
	return s
}

func languageName(l lang, tag string) string {
	switch tag {
	case "zh-CN":
		return l.s("简体中文", "simplified Chinese")
	case "zh-Hant":
		return l.s("繁体中文", "traditional Chinese")
	case "en":
		return l.s("英文", "English")
	}
	return tag
}

func languageNames(l lang, tags []string) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		out[i] = languageName(l, t)
	}
	return out
}

func (r *renderer) collection() Section {
	l, m := r.l, r.m
	s := Section{Title: l.s("我们如何收集和使用您的个人信息", "How we collect and use your personal information")}
	for _, svc := range m.Services {
		if svc.PartOf != "" {
			continue
		}
		sub := r.service(svc)
		for _, f := range m.Services {
			if f.PartOf == svc.ID {
				sub.Subs = append(sub.Subs, r.service(f))
			}
		}
		s.Subs = append(s.Subs, sub)
	}
	// Purposes and their legal bases, in one place. A basis the policy
	// does not tie to the purpose (basis_inferred) is the organisation's
	// working assumption, not the policy's words: it is not printed.
	stated := m.StatedBases()
	tied := slices.ContainsFunc(m.Purposes, func(p manifest.Purpose) bool { return !p.BasisInferred })
	bases := Section{Title: l.s("处理目的及法律依据", "Purposes and legal bases")}
	if !tied {
		bases.Title = l.s("处理目的", "Purposes")
	}
	t := Table{Head: []string{l.s("处理目的", "Purpose"), l.s("法律依据", "Legal basis"), l.s("说明", "Notes")}}
	if !tied {
		t.Head = []string{t.Head[0], t.Head[2]}
	}
	for _, p := range m.Purposes {
		basis := "—"
		if !p.BasisInferred {
			basis = r.basisText(p)
		}
		var notes []string
		if d := l.t(p.Description); d != "" {
			notes = append(notes, l.sentence(d))
		}
		if li := l.t(p.LegitimateInterest); li != "" && !p.BasisInferred {
			notes = append(notes, l.sentence(l.s("我们追求的合法利益：%s", "The legitimate interest pursued: %s", li)))
		}
		if p.DirectMarketing && !p.BasisInferred && slices.ContainsFunc(p.AllBases(), manifest.ObjectableBasis) {
			notes = append(notes, l.sentence(l.s("您可随时拒绝我们以此目的处理您的个人信息，我们将停止处理，且不以任何理由继续", "You may object to this processing at any time, and we will then stop, whatever our grounds")))
		}
		if p.AutomatedDecision {
			notes = append(notes, l.sentence(l.s("涉及自动化决策；您有权要求我们予以说明，并有权拒绝仅通过自动化决策方式作出的对您个人权益有重大影响的决定", "It involves automated decision-making; you may ask us to explain it and refuse decisions with a significant effect on you made solely by automated means")))
			notes = append(notes, r.automation(l, p.Automation)...)
		}
		if o := l.completes("如需退出，您可以", "To opt out, ", l.t(p.OptOut), "如", "您可", "可", "请"); o != "" {
			notes = append(notes, l.sentence(o))
		}
		sep := " "
		if l.zh() {
			sep = ""
		}
		row := []string{l.capitalise(l.t(p.Name)), l.capitalise(basis), strings.Join(notes, sep)}
		if !tied {
			row = []string{row[0], row[2]}
		}
		t.Rows = append(t.Rows, row)
	}
	bases.Blocks = append(bases.Blocks, t)
	if len(m.LegalBases) > 0 {
		bases.Blocks = append(bases.Blocks, Para{l.s("我们处理您的个人信息的法律依据包括：", "The legal bases on which we process your personal information include:")},
			List{Items: r.basisItems(m.LegalBases)})
	}
	if slices.Contains(stated, "consent") {
		bases.Blocks = append(bases.Blocks, Para{l.para(l.s(
			"对于基于您同意的处理，您可以随时撤回同意；撤回不影响撤回前基于同意已进行的处理活动的效力",
			"Where processing rests on your consent, you may withdraw it at any time; withdrawal does not affect processing carried out on the basis of your consent before you withdrew it"))})
	}
	objectable := slices.Contains(stated, "legitimate_interests") || slices.Contains(stated, "public_interest")
	if objectable && slices.ContainsFunc(m.Rights.Offered, func(o manifest.Right) bool { return o.Right == "objection" }) {
		bases.Blocks = append(bases.Blocks, Para{l.para(l.s(
			"对于基于合法利益或公共利益的处理，您可以提出反对；我们收到反对后即停止该处理，除非我们记录了足以优先于您的利益的正当理由；对于直接营销，您的反对始终有效",
			"Where processing rests on legitimate interests or a task in the public interest, you may object to it; once you object we stop, unless we record compelling legitimate grounds that override your interests. An objection to direct marketing always stops it"))})
	}
	s.Subs = append(s.Subs, bases)
	if len(m.NoConsent) > 0 {
		nc := Section{Title: l.s("征得同意的例外", "Exceptions to consent")}
		nc.Blocks = append(nc.Blocks, Para{l.para(l.s(
			"如我们需要将您的个人信息用于本政策未载明的其他用途，或超出与收集目的具有直接或合理关联的范围，我们会事先向您说明并重新征得您的同意。但根据相关法律法规及国家标准，在以下情形中，我们可能无需征得您的同意而收集、使用您的个人信息：",
			"If we need to use your personal information for a purpose this policy does not state, or beyond what is directly or reasonably related to the purpose of collection, we will explain it to you first and ask for your consent again. Under applicable laws, regulations and national standards, however, we may collect and use your personal information without your consent in the following cases:"))})
		nc.Blocks = append(nc.Blocks, List{Items: r.refItems(m.NoConsent, manifest.BuiltinVocabulary().NoConsentCases), Ordered: true})
		s.Subs = append(s.Subs, nc)
	}
	return s
}

func (r *renderer) basisItems(bases []string) []string {
	out := make([]string, len(bases))
	for i, b := range bases {
		out[i] = r.l.sentence(r.l.capitalise(r.l.v("basis", b)))
	}
	return out
}

// basisText names a purpose's legal basis, with the jurisdictions where it
// rests on another (manifest bases): the basis the decision point applies
// to a person of each.
func (r *renderer) basisText(p manifest.Purpose) string {
	l := r.l
	name := func(b string) string {
		if b == "consent" && p.SeparateConsent {
			return l.s("您的单独同意", "your separate consent")
		}
		return l.v("basis", b)
	}
	out := name(p.Basis)
	for _, j := range r.m.Jurisdiction {
		if b, ok := p.Bases[j.ID]; ok {
			out += l.s("；对于%s的个人：%s", "; for people in %s: %s", l.t(j.Name), name(b))
		}
	}
	return out
}

func (r *renderer) refItems(refs []manifest.Ref, builtin []manifest.Ref) []string {
	l := r.l
	out := make([]string, 0, len(refs))
	for _, ref := range refs {
		out = append(out, l.sentence(l.capitalise(l.t(manifest.ResolveRef(ref, builtin)))))
	}
	return out
}

func (r *renderer) service(svc manifest.Service) Section {
	l := r.l
	s := Section{Title: l.t(svc.Name)}
	if d := l.t(svc.Description); d != "" {
		s.Blocks = append(s.Blocks, Para{d})
	}
	for _, c := range svc.Collects {
		s.Blocks = append(s.Blocks, Para{r.collectionPara(c)})
	}
	if len(svc.Permissions) > 0 {
		lead := l.s("为此，我们会申请以下设备权限", "For this we ask for the following device permissions")
		if svc.Revocable {
			lead = l.para(lead, l.s("您可以在设备的系统设置中随时开启或关闭这些权限；关闭后，我们将不再基于该权限收集相应信息", "You can turn each of them on or off at any time in your device's system settings; once a permission is off, we stop collecting information through it"))
		} else {
			lead = l.sentence(lead)
		}
		s.Blocks = append(s.Blocks, Para{lead})
		// "Can be refused" is printed only where the manifest says.
		stated := slices.ContainsFunc(svc.Permissions, func(p manifest.Permission) bool { return p.Optional != nil })
		t := Table{Head: []string{l.s("权限", "Permission"), l.s("用途", "Why")}}
		if stated {
			t.Head = append(t.Head, l.s("是否可拒绝", "Can be refused"))
		}
		for _, p := range svc.Permissions {
			row := []string{l.v("permission", p.Permission), l.t(p.Purpose)}
			switch {
			case !stated:
			case p.Optional == nil:
				row = append(row, "—")
			case *p.Optional:
				row = append(row, l.s("是，拒绝不影响其他功能", "Yes: other features are unaffected"))
			default:
				row = append(row, l.s("否，拒绝将无法使用该功能", "No: the feature will not work without it"))
			}
			t.Rows = append(t.Rows, row)
		}
		s.Blocks = append(s.Blocks, t)
	}
	return s
}

func (r *renderer) collectionPara(c manifest.Collection) string {
	l := r.l
	cats := l.join(r.categoryNames(c.Categories))
	if c.Alternatives {
		cats = l.joinOr(r.categoryNames(c.Categories))
	}
	purposes := l.join(r.purposeNames(c.Purposes))
	var lead []string
	if w := l.clause(l.t(c.When)); w != "" {
		lead = append(lead, w)
	}
	if cond := l.clause(l.t(c.Condition)); cond != "" {
		lead = append(lead, cond)
	}
	var first string
	if l.zh() {
		prefix := strings.Join(lead, "，")
		if prefix != "" {
			prefix += "，"
		}
		first = fmt.Sprintf(l.h("%s我们会收集您的%s，用于%s"), prefix, cats, purposes)
	} else {
		prefix := strings.Join(lead, ", ")
		if prefix != "" {
			first = fmt.Sprintf("%s, we collect your %s for %s", l.capitalise(prefix), cats, purposes)
		} else {
			first = fmt.Sprintf("We collect your %s for %s", cats, purposes)
		}
	}
	var srcs []string
	for _, src := range c.Sources {
		srcs = append(srcs, l.v("source", src))
	}
	source := l.joinOr(srcs)
	if d := l.clause(l.t(c.SourceDetail)); d != "" {
		source += l.s("（%s）", " (%s)", d)
	}
	var provenance string
	if c.Necessity == "required" {
		provenance = l.s("该信息%s，为实现上述功能所必需", "This information is %s and is necessary for the function described", source)
	} else {
		provenance = l.s("该信息%s；提供该信息是可选的", "This information is %s; providing it is optional", source)
	}
	sep := ""
	if c.SeparateConsent || r.needsSeparate(c) {
		sep = l.s("我们会在收集前单独征得您的同意", "We will ask for your separate consent before collecting it")
	}
	refused := l.completes("如您不提供，", "If you do not provide it, ", l.t(c.IfRefused), "如", "若", "拒绝", "您拒绝", "不提供")
	return l.para(first, provenance, refused, sep, l.t(c.Note))
}

// needsSeparate reports whether any purpose of the collection asks for separate consent.
func (r *renderer) needsSeparate(c manifest.Collection) bool {
	for _, id := range c.Purposes {
		if p, ok := r.m.Purpose(id); ok && p.SeparateConsent {
			return true
		}
	}
	return false
}

// automation prints a purpose's declaration of how its automated
// decisions work, each part as the manifest states it
// (manifest.Automation.Parts); nothing when the purpose declares none.
func (r *renderer) automation(l lang, a *manifest.Automation) []string {
	if a == nil {
		return nil
	}
	var out []string
	for _, p := range a.Parts() {
		if t := l.t(p.Text); t != "" {
			out = append(out, l.sentence(l.capitalise(l.t(p.Label))+l.s("：", ": ")+t))
		}
	}
	return out
}
