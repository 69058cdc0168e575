package policy

import (
	"fmt"
	"strings"

	"github.com/custos-privacy/custos/internal/manifest"
)

func (r *renderer) rights() Section {
	l, m := r.l, r.m
	rs := m.Rights
	s := Section{Title: l.s("您的权利", "Your rights")}
	if len(m.Jurisdiction) > 0 {
		var js []string
		for _, j := range m.Jurisdiction {
			item := l.capitalise(l.t(j.Name))
			if law := l.t(j.Law); law != "" {
				item += l.s("：%s", ": %s", law)
			}
			js = append(js, item)
		}
		s.Blocks = append(s.Blocks, Para{l.s("您的权利依您所在地的法律确定：", "Your rights depend on the law where you live:")}, List{Items: js})
	}
	s.Blocks = append(s.Blocks, Para{l.s("按照相关法律法规，您对自己的个人信息享有以下权利：", "Under applicable laws and regulations, you have the following rights over your personal information:")})
	var items []string
	for _, o := range rs.Offered {
		items = append(items, r.rightItem(o))
	}
	s.Blocks = append(s.Blocks, List{Items: items})
	if v := l.t(rs.Verification); v != "" {
		s.Blocks = append(s.Blocks, Para{v})
	}
	// Deadlines.
	var dl []string
	for _, d := range rs.Deadlines {
		dl = append(dl, r.deadlineSentence(d))
	}
	if len(dl) == 1 {
		s.Blocks = append(s.Blocks, Para{dl[0]})
	} else if len(dl) > 1 {
		s.Blocks = append(s.Blocks, Para{l.s("我们答复请求的期限如下：", "We answer requests within these periods:")}, List{Items: dl})
	}
	if c := rs.Cancellation; c != nil {
		var parts []string
		if ss := l.t(c.SelfService); ss != "" {
			parts = append(parts, ss)
		}
		if c.CoolingOffDays > 0 {
			parts = append(parts, l.s("注销申请提交后，账号将在%d日后正式注销", "Cancellation takes effect %d days after you ask for it", c.CoolingOffDays))
			if c.Withdrawable {
				parts = append(parts, l.s("在此期间，您可以随时撤销注销申请", "Until then you may withdraw the request at any time"))
			}
		}
		for _, t := range c.Terms {
			parts = append(parts, r.cancellationTerm(t))
		}
		parts = append(parts, l.t(c.Effect))
		s.Blocks = append(s.Blocks, Para{bold(l.s("账号注销", "Account cancellation")) + l.s("：", ": ") + l.para(parts...)})
	}
	if w := l.t(rs.WithdrawEffect); w != "" {
		s.Blocks = append(s.Blocks, Para{w})
	}
	if rs.Fees != nil {
		s.Blocks = append(s.Blocks, Para{r.fees()})
	}
	for _, x := range rs.Restrictions {
		s.Blocks = append(s.Blocks, Para{l.t(x)})
	}
	if len(rs.RefusalGrounds) > 0 {
		s.Blocks = append(s.Blocks, Para{l.s("按照法律法规的要求，在以下情形中我们将无法响应您的请求：", "As laws and regulations require, we cannot act on your request in the following cases:")},
			List{Items: r.refItems(rs.RefusalGrounds, manifest.BuiltinVocabulary().RefusalGrounds), Ordered: true})
	}
	if rs.RefusalNotice {
		s.Blocks = append(s.Blocks, Para{l.para(l.s("如我们拒绝您的请求，我们会告知您拒绝的理由", "If we refuse your request, we will tell you so and why"))})
	}
	if d := rs.Deceased; d != nil && d.Allowed {
		s.Blocks = append(s.Blocks, Para{l.para(l.s(
			"自然人死亡的，其近亲属为了自身的合法、正当利益，可以对死者的相关个人信息行使本章规定的查阅、复制、更正、删除等权利；死者生前另有安排的除外",
			"If a person dies, their close relatives may, for their own lawful and legitimate interests, exercise the rights in this section to access, copy, correct and delete the deceased's personal information, unless the deceased arranged otherwise while alive"), l.t(d.Text))})
	}
	return s
}

func (r *renderer) rightItem(o manifest.Right) string {
	l, m := r.l, r.m
	var parts []string
	if ss := l.t(o.SelfService); ss != "" {
		parts = append(parts, l.s("您可以%s", "You can do this yourself: %s", ss))
	}
	if len(o.Channels) > 0 {
		var chs []string
		for _, id := range o.Channels {
			if c, ok := m.Channel(id); ok {
				chs = append(chs, r.channelText(c))
			}
		}
		if len(parts) > 0 {
			parts = append(parts, l.s("您也可以通过%s向我们提出请求", "You can also send us a request by %s", l.joinOr(chs)))
		} else {
			parts = append(parts, l.s("您可以通过%s向我们提出请求", "You can send us a request by %s", l.joinOr(chs)))
		}
	}
	parts = append(parts, l.t(o.How), l.t(o.Conditions))
	if len(o.Jurisdictions) > 0 {
		parts = append(parts, l.s("本项权利仅适用于%s居民", "This right applies only to residents of %s", l.joinOr(r.jurisdictionNames(o.Jurisdictions))))
	}
	return bold(l.v("right", o.Right)) + l.s("：", ": ") + l.para(parts...)
}

// cancellationTerm says how long a cancellation applied for through one
// channel takes (rights.account_cancellation.terms).
func (r *renderer) cancellationTerm(t manifest.CancellationTerm) string {
	l := r.l
	if t.Channel == manifest.SelfServiceChannel {
		if t.Count == 0 {
			return l.s("以上述方式自行注销的，注销在您确认后立即生效", "A cancellation you make yourself this way takes effect as soon as you confirm it")
		}
		return l.s("以上述方式自行注销的，我们将在%s内完成注销", "A cancellation you make yourself this way is completed within %s", l.count(t.Count, t.Unit))
	}
	c, ok := r.m.Channel(t.Channel)
	if !ok {
		return ""
	}
	if t.Count == 0 {
		return l.s("通过%s申请注销的，注销立即生效", "If you apply by %s, the cancellation takes effect at once", r.channelText(c))
	}
	return l.s("通过%s申请注销的，我们将在%s内完成注销", "If you apply by %s, we will complete the cancellation within %s", r.channelText(c), l.count(t.Count, t.Unit))
}

func (r *renderer) jurisdictionNames(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		name := id
		for _, j := range r.m.Jurisdiction {
			if j.ID == id {
				name = r.l.t(j.Name)
			}
		}
		out = append(out, name)
	}
	return out
}

// channelValue is a channel's address, number or URL in this language.
func (r *renderer) channelValue(c manifest.Channel) string {
	if v := r.l.t(c.Values); v != "" {
		return v
	}
	return c.Value
}

func (r *renderer) channelText(c manifest.Channel) string {
	l := r.l
	value := r.channelValue(c)
	if value == "" {
		// The policy names the channel and gives no address.
		return l.s("%s（%s）", "%s (%s)", l.v("channel_kind", c.Kind), l.t(c.Label))
	}
	if l.zh() {
		if lb := l.t(c.Label); lb != "" {
			return fmt.Sprintf("%s（%s，%s）", l.v("channel_kind", c.Kind), value, lb)
		}
		return fmt.Sprintf("%s（%s）", l.v("channel_kind", c.Kind), value)
	}
	s := l.v("channel_kind", c.Kind) + " " + value
	if lb := l.t(c.Label); lb != "" {
		s += " (" + lb + ")"
	}
	return s
}

func (r *renderer) deadlineSentence(d manifest.Deadline) string {
	l := r.l
	var scope []string
	if len(d.Rights) > 0 {
		scope = append(scope, l.s("对于%s的请求", "for requests to %s", l.join(lowerAll(l, l.vs("right", d.Rights)))))
	}
	if len(d.Jurisdictions) > 0 {
		scope = append(scope, l.s("对于%s居民", "for residents of %s", l.joinOr(r.jurisdictionNames(d.Jurisdictions))))
	}
	lead := ""
	if len(scope) > 0 {
		if l.zh() {
			lead = strings.Join(scope, "、") + "，"
		} else {
			lead = l.capitalise(strings.Join(scope, " and ")) + ", "
		}
	}
	var main string
	if l.zh() {
		main = lead + l.s("我们将在收到您的请求后%s内答复", "", l.count(d.Count, d.Unit))
	} else if lead != "" {
		main = lead + l.s("", "we will reply within %s of receiving your request", l.count(d.Count, d.Unit))
	} else {
		main = l.s("", "We will reply within %s of receiving your request", l.count(d.Count, d.Unit))
	}
	parts := []string{main}
	if d.Unit == "working_days" {
		parts = append(parts, l.s("工作日按中华人民共和国法定节假日及调休安排计算", "Working days follow the public holidays and adjusted working days of the People's Republic of China"))
	}
	if e := d.Extension; e != nil {
		ext := l.s("根据请求的复杂程度，我们可以将答复期限再延长%s", "Depending on the complexity of a request, we may extend this by a further %s", l.count(e.Count, e.Unit))
		if e.NoticeWithinFirstPeriod {
			ext = l.s("根据请求的复杂程度，我们可以将答复期限再延长%s，并将在最初的答复期限内告知您延期及其理由", "Depending on the complexity of a request, we may extend this by a further %s, and will tell you of the extension and the reasons within the first period", l.count(e.Count, e.Unit))
		}
		parts = append(parts, ext)
	}
	switch d.Clock {
	case "pause":
		parts = append(parts, l.s("等待您补充身份验证等信息的时间不计入答复期限", "Time spent waiting for you, for example to verify your identity, does not count towards this period"))
	case "restart":
		parts = append(parts, l.s("如需您补充身份验证等信息，答复期限自我们收到补充信息之日起重新计算", "If we need more from you, for example to verify your identity, the period starts again when we receive it"))
	}
	return l.para(parts...)
}

func lowerAll(l lang, s []string) []string {
	if l.zh() {
		return s
	}
	out := make([]string, len(s))
	for i, x := range s {
		if x != "" {
			out[i] = string(x[0]|0x20) + x[1:]
		}
	}
	return out
}

func (r *renderer) fees() string {
	l, f := r.l, *r.m.Rights.Fees
	var main string
	switch f.Policy {
	case "free":
		main = l.s("对于您合理的请求，我们不收取任何费用", "We do not charge for your reasonable requests")
	case "free_except_repeated":
		main = l.s("对于您合理的请求，我们原则上不收取费用", "In principle we do not charge for your reasonable requests")
		if f.RepeatedWindow == nil || f.RepeatedCount <= 0 {
			main = l.para(main, l.s("但对于多次重复、超出合理限度的请求，我们将视情况收取一定的成本费用", "For requests repeated beyond a reasonable limit we may charge a fee that covers our costs"))
		}
		if f.RepeatedWindow != nil && f.RepeatedCount > 0 {
			main = l.para(main, l.s("但对于在%s内超过%d次的重复请求，我们将视情况收取一定的成本费用",
				"For repeated requests, meaning more than %[2]d within %[1]s, we may charge a fee that covers our costs",
				l.count(f.RepeatedWindow.Count, f.RepeatedWindow.Unit), f.RepeatedCount))
		}
	case "conditional":
		// The cases are the manifest's own words (text): nothing is added.
	case "cost_based":
		main = l.s("对于您的请求，我们将收取不超过处理成本的费用", "We charge a fee for requests that does not exceed our costs")
	}
	return l.para(main, l.t(f.Text))
}

func (r *renderer) minorsSummary() string {
	l, mi := r.l, r.m.Minors
	rule := r.m.MinorRuleFor("")
	switch mi.Stance {
	case "adults_only":
		return l.para(l.s("我们的产品和服务仅面向年满%d周岁的人", "Our products and services are for people aged %d and over", rule.AgeThreshold))
	case "guardian_consent":
		return l.para(l.s("如您是未满%d周岁的未成年人，请在监护人的陪同下阅读本政策，并在取得监护人同意后使用我们的服务或向我们提供个人信息",
			"If you are under %d, please read this policy with your guardian and use our services or give us personal information only with your guardian's consent", mi.AgeThreshold))
	case "not_directed":
		return l.para(l.s("我们的服务并非面向儿童，我们不会在明知的情况下收集儿童的个人信息", "Our services are not directed at children, and we do not knowingly collect children's personal information"))
	}
	return ""
}

// minorRule states what the decision point does with a person under the
// threshold, and with one whose age is not known, under rule.
func (r *renderer) minorRule(rule manifest.MinorRule) []string {
	l := r.l
	var parts []string
	switch rule.Stance {
	case manifest.StanceAdultsOnly:
		parts = append(parts, l.s("对于未满%d周岁的人，除法律要求我们进行的处理外，我们不处理其个人信息", "We do not process the personal information of a person under %d, except where the law requires us to", rule.AgeThreshold))
	case manifest.StanceGuardianConsent:
		parts = append(parts, l.s("对于未满%d周岁的人，除法律要求我们进行的处理外，我们仅在其监护人同意后处理其个人信息：监护人同意本政策后，我们方可为基于其他依据的目的处理；基于同意的目的，须由监护人逐项同意",
			"We process the personal information of a person under %d only with their guardian's consent, except where the law requires us to: on other bases once the guardian has accepted this policy, and for each purpose resting on consent once the guardian has consented to it", rule.AgeThreshold))
	default:
		return nil
	}
	switch rule.UnknownAge {
	case "adult":
		parts = append(parts, l.s("如我们不知道您的年龄，我们将您视为已满%d周岁", "If we do not know your age, we treat you as aged %d or over", rule.AgeThreshold))
	case "minor":
		parts = append(parts, l.s("如我们不知道您的年龄，我们将您视为未满%d周岁", "If we do not know your age, we treat you as under %d", rule.AgeThreshold))
	case "ask":
		parts = append(parts, l.s("如我们不知道您的年龄，在您告知年龄之前，除法律要求我们进行的处理外，我们不处理您的个人信息", "If we do not know your age, we do not process your personal information until you tell us, except where the law requires us to"))
	}
	return parts
}

func (r *renderer) minors() Section {
	l, mi := r.l, r.m.Minors
	s := Section{Title: l.s("我们如何处理未成年人的个人信息", "How we handle minors' personal information")}
	var parts []string
	parts = append(parts, r.minorsSummary())
	if mi.Stance == "guardian_consent" {
		parts = append(parts, l.s("对于经监护人同意而收集的未成年人个人信息，我们只会在法律允许、监护人明确同意或者保护未成年人所必要的情况下使用或公开披露",
			"We use or disclose minors' personal information collected with a guardian's consent only where the law allows, the guardian expressly agrees, or it is necessary to protect the minor"))
		if mi.AgeThreshold <= 14 {
			parts = append(parts, l.s("不满十四周岁未成年人的个人信息属于敏感个人信息，我们会对其予以特别保护", "The personal information of minors under fourteen is sensitive personal information, and we give it special protection"))
		}
	}
	parts = append(parts, r.minorRule(r.m.MinorRuleFor(""))...)
	if mi.DeleteIfFound {
		parts = append(parts, l.s("如果我们发现自己在未事先获得可证实的监护人同意的情况下收集了未成年人的个人信息，会设法尽快删除相关数据",
			"If we find that we have collected a minor's personal information without verifiable prior consent from a guardian, we will delete it as quickly as possible"))
	}
	parts = append(parts, l.t(mi.Text))
	s.Blocks = append(s.Blocks, Para{l.para(parts...)})
	for _, j := range mi.Jurisdictions {
		if rule := r.minorRule(r.m.MinorRuleFor(j.Jurisdiction)); len(rule) > 0 {
			lead := l.s("对于%s的个人：", "For people in %s: ", l.join(r.jurisdictionNames([]string{j.Jurisdiction})))
			s.Blocks = append(s.Blocks, Para{lead + l.para(rule...)})
		}
	}
	if u := r.m.Policy.ChildrenPolicyURL; u != "" {
		s.Blocks = append(s.Blocks, Para{l.para(l.s("关于儿童个人信息的具体规则，请见：%s", "Our specific rules for children's personal information are at %s", u))})
	}
	return s
}

func (r *renderer) updates() Section {
	l, m := r.l, r.m
	u := m.Policy.Updates
	s := Section{Title: l.s("本政策如何更新", "How this policy is updated")}
	parts := []string{l.s("我们的隐私政策可能变更", "We may change this privacy policy")}
	if u.NoReduction {
		parts = append(parts, l.s("未经您明确同意，我们不会削减您按照本政策所应享有的权利", "We will not reduce your rights under this policy without your express consent"))
	}
	parts = append(parts, l.s("我们会通过%s发布本政策的变更", "We announce changes to this policy by %s", l.joinOr(l.vs("channel_kind", u.Notice))))
	if u.EffectiveOnPost {
		parts = append(parts, l.s("更新后的政策自发布之日起生效", "An updated policy takes effect when it is posted"))
	}
	if u.NoticeDays > 0 {
		parts = append(parts, l.s("重大变更将在生效前至少%d日通知您", "We will tell you of a material change at least %d days before it takes effect", u.NoticeDays))
	}
	switch u.Acceptance {
	case "express_consent":
		parts = append(parts, l.s("对于重大变更，我们会以更为显著的方式通知您，并重新征得您的明确同意；在您同意之前，除法律要求我们进行的处理外，我们不为变更所涉及的目的处理您的个人信息",
			"For material changes we will give a more prominent notice and ask for your express consent again; until you give it, we do not process your personal information for the purposes the change affects, except where the law requires us to"))
	case "continued_use":
		parts = append(parts, l.s("如您在本政策更新后继续使用我们的服务，即表示您已充分阅读、理解并接受更新后的政策", "If you continue to use our services after an update, you accept the updated policy"))
	}
	s.Blocks = append(s.Blocks, Para{l.para(parts...)})
	if len(u.Material) > 0 {
		var items []string
		for _, k := range u.Material {
			items = append(items, l.sentence(l.capitalise(l.v("material", k))))
		}
		s.Blocks = append(s.Blocks, Para{l.s("本政策所指的重大变更包括但不限于：", "Material changes include, but are not limited to:")}, List{Items: items, Ordered: true})
	}
	if u.KeepArchive || m.Policy.Archive != "" {
		p := l.s("我们会将本政策的旧版本存档，供您查阅", "We keep earlier versions of this policy in an archive for your reference")
		if m.Policy.Archive != "" {
			p = l.para(p, l.s("存档地址：%s", "The archive is at %s", m.Policy.Archive))
		}
		s.Blocks = append(s.Blocks, Para{l.para(p)})
	}
	return s
}

func (r *renderer) contact() Section {
	l, m := r.l, r.m
	c := m.Contact
	s := Section{Title: l.s("如何联系我们", "How to contact us")}
	var lead []string
	if len(c.Department) > 0 && c.Duties {
		lead = append(lead, l.s("我们设立了个人信息保护负责部门，负责统筹协调和监督个人信息保护相关法律法规及内部制度的执行",
			"We have a department responsible for personal-information protection, which coordinates and monitors compliance with the laws, regulations and internal rules on personal information"))
	}
	lead = append(lead, l.s("如您对本政策或您的个人信息有任何疑问、意见或建议，可以通过以下方式与我们联系",
		"If you have any question, comment or suggestion about this policy or your personal information, you can contact us as follows"))
	s.Blocks = append(s.Blocks, Para{l.para(lead...)})
	var items []string
	for _, ctrl := range m.Controllers {
		if c.Controller != "" && ctrl.ID != c.Controller {
			continue
		}
		items = append(items, l.s("公司名称：%s", "Company: %s", l.t(ctrl.Name)))
		if a := l.t(ctrl.Address); a != "" && a != l.t(c.Address) {
			items = append(items, l.s("注册地址：%s", "Registered address: %s", a))
		}
		if ctrl.Website != "" {
			items = append(items, l.s("网站：%s", "Website: %s", ctrl.Website))
		}
		if c.Controller == "" {
			break
		}
	}
	if d := l.t(c.Department); d != "" {
		items = append(items, l.s("个人信息保护负责部门：%s", "Personal-information protection department: %s", d))
	}
	if p := l.t(c.Person); p != "" {
		items = append(items, l.s("个人信息保护负责人：%s", "Responsible person: %s", p))
	}
	if addr := l.t(c.Address); addr != "" {
		items = append(items, l.s("地址：%s", "Address: %s", addr))
	}
	for _, ch := range c.Channels {
		label := l.capitalise(l.v("channel_kind", ch.Kind))
		if lb := l.t(ch.Label); lb != "" {
			label += l.s("（%s）", " (%s)", lb)
		}
		if v := r.channelValue(ch); v != "" {
			label += l.s("：", ": ") + v
		}
		items = append(items, label)
	}
	s.Blocks = append(s.Blocks, List{Items: items})
	if d := c.Response; d != nil {
		s.Blocks = append(s.Blocks, Para{l.para(l.s("一般情况下，我们将在%s内答复", "We normally reply within %s", l.count(d.Count, d.Unit)))})
	}
	if rep := l.t(c.EURep); rep != "" {
		s.Blocks = append(s.Blocks, Para{l.para(l.s("我们在欧盟的代表：%s", "Our representative in the EU: %s", rep))})
	}
	return s
}

func (r *renderer) complaints() Section {
	l, m := r.l, r.m
	c := m.Complaints
	s := Section{Title: l.s("投诉、争议解决与适用法律", "Complaints, disputes and governing law")}
	if len(c.Court) == 0 && len(c.Arbitration) == 0 && len(c.GoverningLaw) == 0 {
		s.Title = l.s("投诉", "Complaints")
	}
	var parts []string
	if len(c.Channels) > 0 {
		var chs []string
		for _, id := range c.Channels {
			if ch, ok := m.Channel(id); ok {
				chs = append(chs, r.channelText(ch))
			}
		}
		parts = append(parts, l.s("您可以通过%s向我们投诉", "You can complain to us by %s", l.joinOr(chs)))
	}
	if len(c.Regulators) > 0 {
		var regs []string
		for _, t := range c.Regulators {
			regs = append(regs, l.t(t))
		}
		parts = append(parts, l.s("如果您对我们的答复不满意，特别是认为我们的个人信息处理行为损害了您的合法权益，您还可以向%s投诉或举报", "If you are not satisfied with our reply, in particular if you believe our processing of personal information has harmed your lawful rights and interests, you may also complain to %s", l.joinOr(regs)))
	}
	if court := l.t(c.Court); court != "" {
		parts = append(parts, l.s("因本政策引起的争议，双方协商不成的，任何一方均可向%s提起诉讼", "If a dispute arising from this policy cannot be settled by negotiation, either party may bring a lawsuit before %s", court))
	}
	if arb := l.t(c.Arbitration); arb != "" {
		parts = append(parts, l.s("争议提交%s仲裁", "Disputes are submitted to %s for arbitration", arb))
	}
	if law := l.t(c.GoverningLaw); law != "" {
		parts = append(parts, l.s("本政策的订立、执行、解释及争议的解决均适用%s", "The conclusion, performance, interpretation and dispute resolution of this policy are governed by %s", law))
	}
	if len(parts) > 0 {
		s.Blocks = append(s.Blocks, Para{l.para(parts...)})
	}
	return s
}

func (r *renderer) definitions() Section {
	l, m := r.l, r.m
	s := Section{ID: "definitions", Title: l.s("附录：定义", "Appendix: Definitions")}
	for _, d := range m.Definitions {
		s.Blocks = append(s.Blocks, Para{bold(l.t(d.Term)) + l.s("：", ": ") + l.t(d.Text)})
	}
	// The categories this policy names, with the sensitive ones marked.
	used := usedCategories(m)
	if len(used) > 0 {
		t := Table{Head: []string{l.s("个人信息类别", "Category of personal information"), l.s("是否敏感", "Sensitive"), l.s("示例", "Examples")}}
		for _, id := range used {
			sens := l.s("否", "No")
			if m.Sensitive(id) {
				sens = l.s("是", "Yes")
			}
			c, _ := m.Category(id)
			t.Rows = append(t.Rows, []string{r.categoryNames([]string{id})[0], sens, l.t(c.Examples)})
		}
		s.Blocks = append(s.Blocks, Para{l.s("本政策涉及的个人信息类别如下，其中敏感个人信息以粗体标示：", "This policy covers the following categories of personal information; sensitive personal information is shown in bold:")}, t)
	}
	return s
}

// usedCategories lists, in first-use order, every category the manifest collects, shares or stores.
func usedCategories(m *manifest.Manifest) []string {
	seen := map[string]bool{}
	var out []string
	add := func(ids []string) {
		for _, id := range ids {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	for _, s := range m.Services {
		for _, c := range s.Collects {
			add(c.Categories)
		}
	}
	for _, s := range m.SDKs {
		add(s.Collects)
	}
	for _, r := range m.Recipients {
		add(r.Categories)
	}
	return out
}
