package policy

import (
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/manifest"
)

func (r *renderer) cookies() Section {
	l, m := r.l, r.m
	s := Section{Title: l.s("我们如何使用 Cookie 和同类技术", "How we use cookies and similar technologies")}
	if c := m.Cookies; c != nil {
		if len(c.Items) > 0 {
			s.Blocks = append(s.Blocks, Para{l.s("我们使用以下 Cookie 和同类技术：", "We use the following cookies and similar technologies:")})
			t := Table{Head: []string{l.s("名称", "Name"), l.s("类型", "Type"), l.s("类别", "Category"), l.s("用途", "Purpose"), l.s("提供方", "Provider"), l.s("保存期限", "Duration")}}
			for _, it := range c.Items {
				provider := l.s("我们", "us")
				if rec, ok := m.Recipient(it.Provider); ok {
					provider = l.t(rec.Name)
				}
				purpose := l.join(r.purposeNames(it.Purposes))
				if d := l.t(it.Description); d != "" {
					purpose = l.para(l.capitalise(purpose), d)
				}
				t.Rows = append(t.Rows, []string{l.t(it.Name), l.v("cookie_kind", it.Kind), l.v("cookie_category", it.Category), purpose, provider, l.t(it.Duration)})
			}
			s.Blocks = append(s.Blocks, t)
		}
		if mg := l.t(c.Management); mg != "" {
			s.Blocks = append(s.Blocks, Para{mg})
		}
		if rf := l.t(c.IfRefused); rf != "" {
			s.Blocks = append(s.Blocks, Para{rf})
		}
	}
	for _, sg := range m.Signals {
		if p := r.signal(sg); p != "" {
			s.Blocks = append(s.Blocks, Para{p})
		}
	}
	if sdks := r.sdks(); len(sdks.Blocks) > 0 {
		s.Subs = append(s.Subs, sdks)
	}
	return s
}

// signal states what the service does with a browser opt-out signal:
// exactly the rule the consent ledger and the banner apply.
func (r *renderer) signal(sg manifest.Signal) string {
	l, m := r.l, r.m
	name := l.s("“全球隐私控制”（Global Privacy Control）", "Global Privacy Control")
	if sg.Signal == manifest.SignalDNT {
		name = l.s("“请勿追踪”（Do Not Track）", "Do Not Track")
	}
	var rule string
	switch sg.Stance {
	case manifest.SignalHonour:
		var withdrawn, objected []string
		for _, id := range sg.Refuses {
			p, ok := m.Purpose(id)
			if !ok {
				continue
			}
			if p.Basis == "consent" {
				withdrawn = append(withdrawn, l.t(p.Name))
			} else {
				objected = append(objected, l.t(p.Name))
			}
		}
		var parts []string
		if len(withdrawn) > 0 {
			parts = append(parts, l.s("撤回您对%s的同意", "a withdrawal of your consent to %s", l.join(withdrawn)))
		}
		if len(objected) > 0 {
			parts = append(parts, l.s("反对%s", "an objection to %s", l.join(objected)))
		}
		rule = l.s("当您的浏览器发送%s信号时，我们将其视为%s，并记录在您的同意记录中", "When your browser sends a %s signal, we take it as %s, and record it with your consents",
			name, strings.Join(parts, l.s("，以及", ", and as ")))
	case manifest.SignalIgnore:
		rule = l.s("目前，我们不会因浏览器发送%s信号而改变本政策所述的个人信息收集和使用方式", "We do not currently change the collection and use described in this policy in response to a %s signal", name)
	}
	return l.para(rule, l.t(sg.Note))
}

func (r *renderer) sdks() Section {
	l, m := r.l, r.m
	s := Section{Title: l.s("第三方软件开发工具包（SDK）", "Third-party software development kits (SDKs)")}
	if len(m.SDKs) == 0 {
		return s
	}
	lead := l.s("为实现相关功能，我们的产品接入了以下由第三方提供的 SDK。这些第三方会按下表所列收集您的个人信息",
		"To provide certain functions, our products include the following SDKs supplied by third parties. Those third parties collect your personal information as the table shows")
	if m.Sharing.SDKChecks {
		lead = l.s("为实现相关功能，我们的产品接入了以下由第三方提供的 SDK。这些第三方会按下表所列收集您的个人信息；我们会对其进行安全检测，并以协议约束其处理行为",
			"To provide certain functions, our products include the following SDKs supplied by third parties. Those third parties collect your personal information as the table shows; we test them for security and bind their processing by contract")
	}
	s.Blocks = append(s.Blocks, Para{l.sentence(lead)})
	// Device permissions and auto-start are columns only where the
	// manifest states them; a cell the manifest leaves open reads "—".
	perms := slices.ContainsFunc(m.SDKs, func(s manifest.SDK) bool { return len(s.Permissions) > 0 })
	autos := slices.ContainsFunc(m.SDKs, func(s manifest.SDK) bool { return s.AutoStart != nil })
	t := Table{Head: []string{
		l.s("SDK 名称", "SDK"), l.s("第三方名称", "Provider"), l.s("功能", "Function"),
		l.s("收集的个人信息", "Personal information collected"), l.s("使用场景", "Where it runs"),
	}}
	if perms {
		t.Head = append(t.Head, l.s("设备权限", "Device permissions"))
	}
	if autos {
		t.Head = append(t.Head, l.s("自启动或关联启动", "Starts itself"))
	}
	t.Head = append(t.Head, l.s("隐私政策", "Privacy policy"))
	for _, sdk := range m.SDKs {
		scope := l.t(sdk.Scope)
		if len(sdk.Platforms) > 0 {
			plats := l.join(l.vs("platform", sdk.Platforms))
			if scope != "" {
				scope = l.para(scope, plats)
			} else {
				scope = plats
			}
		}
		function := l.t(sdk.Function)
		if ps := r.purposeNames(sdk.Purposes); len(ps) > 0 {
			function = l.para(function, l.s("用于%s", "Used for %s", l.join(ps)))
		}
		row := []string{l.t(sdk.Name), l.t(sdk.Company), function, l.join(r.categoryNames(sdk.Collects)), scope}
		if perms {
			cell := "—"
			switch {
			case slices.Equal(sdk.Permissions, []string{"none"}):
				cell = l.s("无", "none")
			case len(sdk.Permissions) > 0:
				cell = l.join(l.vs("permission", sdk.Permissions))
			}
			row = append(row, cell)
		}
		if autos {
			cell := "—"
			if a := sdk.AutoStart; a != nil && *a {
				cell = l.para(l.s("是", "Yes"), l.t(sdk.AutoReason))
			} else if a != nil {
				cell = l.s("否", "No")
			}
			row = append(row, cell)
		}
		t.Rows = append(t.Rows, append(row, sdk.PolicyURL))
	}
	s.Blocks = append(s.Blocks, t)
	return s
}

// recipientKinds fixes the order in which recipient groups appear.
var recipientKinds = []string{"affiliate", "entrusted_processor", "independent_controller", "partner", "advertiser", "professional_adviser", "user_directed", "authority"}

func (r *renderer) sharing() Section {
	l, m := r.l, r.m
	s := Section{Title: l.s("我们如何共享、转让和公开披露您的个人信息", "How we share, transfer and publicly disclose your personal information")}
	share := Section{Title: l.s("共享", "Sharing")}
	for _, p := range m.Sharing.Principles {
		share.Blocks = append(share.Blocks, Para{l.t(p)})
	}
	for _, kind := range recipientKinds {
		var items []string
		for _, rec := range m.Recipients {
			if rec.Kind == kind {
				items = append(items, r.recipientItem(rec))
			}
		}
		if len(items) == 0 {
			continue
		}
		share.Blocks = append(share.Blocks, Para{bold(l.v("recipient_kind", kind)) + l.s("：", ":") + r.kindNote(kind)})
		share.Blocks = append(share.Blocks, List{Items: items})
	}
	if tp := l.t(m.Sharing.ThirdPartyLinks); tp != "" {
		share.Blocks = append(share.Blocks, Para{tp})
	}
	if len(share.Blocks) > 0 {
		s.Subs = append(s.Subs, share)
	}
	if tr := m.Sharing.Transfer; tr != nil {
		sub := Section{Title: l.s("转让", "Transfer")}
		var parts []string
		parts = append(parts, l.s("我们不会向任何公司、组织或个人转让您的个人信息，但获得您的明确同意或因合并、分立、解散、被宣告破产等原因需要转移个人信息的除外",
			"We do not transfer your personal information to any company, organisation or individual except with your express consent, or where it must be transferred because of a merger, division, dissolution, bankruptcy or similar event"))
		if tr.Notify {
			parts = append(parts, l.s("在上述情形下，我们会向您告知接收方的名称或者姓名和联系方式", "In such a case we will tell you the name and contact details of the recipient"))
		}
		if tr.NewHolderBound {
			parts = append(parts, l.s("我们会要求新的持有您个人信息的公司、组织继续受本政策的约束，否则我们将要求其重新向您征求授权同意",
				"We will require the new holder of your personal information to remain bound by this policy, or otherwise to ask for your consent again"))
		}
		parts = append(parts, l.t(tr.Text))
		sub.Blocks = append(sub.Blocks, Para{l.para(parts...)})
		s.Subs = append(s.Subs, sub)
	}
	if pd := m.Sharing.PublicDisclosure; pd != nil {
		sub := Section{Title: l.s("公开披露", "Public disclosure")}
		switch {
		case pd.Never:
			sub.Blocks = append(sub.Blocks, Para{l.para(l.s("除法律法规另有规定外，我们不会公开披露您的个人信息", "Except as laws and regulations require, we do not publicly disclose your personal information"))})
		case len(pd.Cases) > 0:
			lead := l.s("我们仅会在以下情形下公开披露您的个人信息", "We publicly disclose your personal information only in the following cases")
			if pd.SeparateConsent {
				lead = l.para(lead, l.s("除法律法规要求我们公开披露的情形外，公开披露前，我们会取得您的单独同意", "Except where the law requires us to disclose, we will ask for your separate consent before a public disclosure"))
			}
			sub.Blocks = append(sub.Blocks, Para{lead})
			var items []string
			for _, c := range pd.Cases {
				items = append(items, l.sentence(l.t(c)))
			}
			sub.Blocks = append(sub.Blocks, List{Items: items})
		}
		s.Subs = append(s.Subs, sub)
	}
	if len(m.Sharing.Exceptions) > 0 {
		sub := Section{Title: l.s("共享、转让、公开披露个人信息时事先征得授权同意的例外", "Exceptions to prior consent for sharing, transfer and public disclosure")}
		sub.Blocks = append(sub.Blocks, Para{l.s("以下情形中，共享、转让、公开披露您的个人信息无需事先征得您的授权同意：", "In the following cases, sharing, transferring or publicly disclosing your personal information does not require your prior consent:")})
		sub.Blocks = append(sub.Blocks, List{Items: r.refItems(m.Sharing.Exceptions, manifest.BuiltinVocabulary().SharingExceptions), Ordered: true})
		s.Subs = append(s.Subs, sub)
	}
	return s
}

func (r *renderer) kindNote(kind string) string {
	l := r.l
	switch {
	case kind == "entrusted_processor" && r.m.Sharing.EntrustingTerms:
		return l.s("我们委托其代表我们处理个人信息。我们会与其约定处理目的、期限、方式、个人信息种类和保护措施，并监督其处理活动；受托方仅能按照我们的指示处理，不得用于其他目的。",
			" we entrust them to process personal information on our behalf. We agree with each the purpose, period, manner, types of information and protective measures, and supervise their processing; they may process only on our instructions and for no other purpose.")
	case (kind == "independent_controller" || kind == "partner" || kind == "advertiser") && r.m.Sharing.IndependentTerms:
		return l.s("接收方将作为独立的个人信息处理者处理您的个人信息；接收方变更原先的处理目的、处理方式的，应当重新取得您的同意。",
			" the recipient processes your personal information as an independent processor; if it changes the original purpose or manner of processing, it must ask for your consent again.")
	}
	return ""
}

func (r *renderer) recipientItem(rec manifest.Recipient) string {
	l := r.l
	name := l.t(rec.Name)
	if rec.Country != "" {
		name += l.s("（%s）", " (%s)", l.country(rec.Country))
	}
	what := l.s("%[1]s：为%[3]s，接收您的%[2]s", "%[1]s: we provide your %[2]s for %[3]s",
		name, l.join(r.categoryNames(rec.Categories)), l.join(r.purposeNames(rec.Purposes)))
	var extra []string
	extra = append(extra, l.t(rec.Description))
	if rec.Deidentified {
		extra = append(extra, l.s("其仅接收经去标识化处理、无法识别您身份的统计信息", "It receives only de-identified statistics that cannot identify you"))
	}
	if rec.SeparateConsent {
		extra = append(extra, l.s("我们会在提供前单独征得您的同意", "We will ask for your separate consent before providing it"))
	}
	extra = append(extra, l.t(rec.Safeguards))
	return l.para(append([]string{what}, extra...)...)
}

func (r *renderer) security() Section {
	l, m := r.l, r.m
	s := Section{Title: l.s("我们如何保护您的个人信息", "How we protect your personal information")}
	if len(m.Security.Measures) > 0 {
		var items []string
		for _, ms := range m.Security.Measures {
			items = append(items, bold(l.v("measure", ms.Kind))+l.s("：", ": ")+l.sentence(l.t(ms.Text)))
		}
		s.Blocks = append(s.Blocks, Para{l.s("我们采取以下安全保护措施：", "We take the following measures to protect your personal information:")}, List{Items: items})
	}
	if len(m.Security.Certifications) > 0 {
		var names []string
		for _, c := range m.Security.Certifications {
			n := l.t(c.Name)
			if sc := l.t(c.Scope); sc != "" {
				n += l.s("（%s）", " (%s)", sc)
			}
			names = append(names, n)
		}
		s.Blocks = append(s.Blocks, Para{l.para(l.s("我们已取得以下认证：%s", "We hold the following certifications: %s", l.join(names)))})
	}
	if lb := l.t(m.Security.Liability); lb != "" {
		s.Blocks = append(s.Blocks, Para{lb})
	}
	if inc := m.Security.Incident; inc != nil {
		channels := l.joinOr(l.vs("channel_kind", inc.Channels))
		parts := []string{l.s("如不幸发生个人信息安全事件，我们将按照法律法规的要求，及时通过%s告知您",
			"If a personal-information security incident occurs, we will, as laws and regulations require, promptly tell you by %s", channels)}
		if len(inc.Contents) > 0 {
			parts[0] = l.s("如不幸发生个人信息安全事件，我们将按照法律法规的要求，及时通过%s向您告知%s",
				"If a personal-information security incident occurs, we will, as laws and regulations require, promptly tell you by %s %s",
				channels, l.join(l.vs("incident_content", inc.Contents)))
		}
		if inc.PublicAnnouncement {
			parts = append(parts, l.s("难以逐一告知个人信息主体时，我们会采取合理、有效的方式发布公告", "Where it is difficult to tell each person individually, we will make a public announcement in a reasonable and effective way"))
		}
		if inc.ReportRegulator {
			parts = append(parts, l.s("同时，我们还将按照监管部门要求，主动上报个人信息安全事件的处置情况", "We will also report how we handled the incident to the regulators as they require"))
		}
		if inc.ResponseTeam {
			parts = append(parts, l.s("我们设有专门的应急响应团队并制定了个人信息安全事件应急预案", "We maintain a dedicated response team and an incident response plan"))
		}
		s.Blocks = append(s.Blocks, Para{l.para(parts...)})
	}
	if len(m.Assessments) > 0 {
		var items []string
		for _, a := range m.Assessments {
			item := l.s("%s：%s，评估结论为%s风险", "%s: %s, assessed as %s risk", l.date(a.Date), l.t(a.Subject), l.v("risk", a.Risk))
			if a.Publish {
				item = l.para(item, l.s("评估报告已公开", "The report is published"))
			}
			items = append(items, l.sentence(item))
		}
		s.Blocks = append(s.Blocks, Para{l.s("我们开展了以下个人信息保护影响评估：", "We have carried out the following personal-information protection impact assessments:")}, List{Items: items})
	}
	return s
}

func (r *renderer) storage() Section {
	l, m := r.l, r.m
	s := Section{Title: l.s("我们如何存储您的个人信息", "How we store your personal information")}
	if len(m.Storage.Locations) > 0 {
		var items []string
		for _, loc := range m.Storage.Locations {
			where := l.country(loc.Country)
			if loc.Country == "" {
				where = l.clause(l.t(loc.Where))
			}
			if rg := l.t(loc.Region); rg != "" {
				where += l.s("（%s）", " (%s)", rg)
			}
			what := l.s("您的个人信息", "your personal information")
			if len(loc.Categories) > 0 {
				what = l.s("您的%s", "your %s", l.join(r.categoryNames(loc.Categories)))
			}
			item := l.s("我们将%s存储于%s", "We store %s in %s", what, where)
			if loc.Encrypted {
				item = l.s("我们将%s加密存储于%s", "We store %s encrypted in %s", what, where)
			}
			items = append(items, l.sentence(item))
		}
		s.Blocks = append(s.Blocks, List{Items: items})
	}
	if len(m.Storage.CrossBorder) > 0 {
		sub := Section{Title: l.s("个人信息出境", "Cross-border transfers")}
		sub.Blocks = append(sub.Blocks, Para{l.s("在以下情形中，您的个人信息会被传输至境外：", "Your personal information is transferred across borders in the following cases:")})
		t := Table{Head: []string{l.s("接收地", "Destination"), l.s("个人信息", "Personal information"), l.s("目的", "Purpose"), l.s("境外接收方", "Recipient"), l.s("出境机制", "Legal mechanism"), l.s("单独同意", "Separate consent")}}
		for _, c := range m.Storage.CrossBorder {
			rec := "—"
			if rr, ok := m.Recipient(c.Recipient); ok {
				rec = l.t(rr.Name)
			}
			sep := l.s("否", "No")
			if c.SeparateConsent {
				sep = l.s("是", "Yes")
			}
			purpose := l.join(r.purposeNames(c.Purposes))
			if d := l.t(c.Description); d != "" {
				purpose = l.para(l.capitalise(purpose), d)
			}
			to := l.countryList(c.To)
			if len(c.To) == 0 {
				to = l.t(c.ToText)
			}
			t.Rows = append(t.Rows, []string{to, l.join(r.categoryNames(c.Categories)), purpose, rec, l.capitalise(l.v("mechanism", c.Mechanism)), sep})
		}
		sub.Blocks = append(sub.Blocks, t)
		if m.Storage.TransferTerms {
			sub.Blocks = append(sub.Blocks, Para{l.s(
				"我们会要求境外接收方按照不低于中华人民共和国法律规定的标准保护您的个人信息，并向您告知境外接收方的名称、联系方式、处理目的、处理方式、个人信息的种类以及您向其行使权利的方式。",
				"We require every recipient abroad to protect your personal information to a standard no lower than the law of the People's Republic of China requires, and we tell you the recipient's name and contact details, the purpose and manner of processing, the types of information and how to exercise your rights against it.")})
		}
		s.Subs = append(s.Subs, sub)
	}
	if len(m.Retention) > 0 {
		sub := Section{Title: l.s("存储期限", "Retention")}
		var items []string
		for _, rt := range m.Retention {
			items = append(items, r.retentionItem(rt))
		}
		lead := l.s("我们按以下期限保存您的个人信息：", "We keep your personal information for these periods:")
		if m.Storage.Shortest {
			lead = l.s("我们仅在实现处理目的所必要的最短时间内保存您的个人信息：", "We keep your personal information only for the shortest time needed for the purpose:")
		}
		sub.Blocks = append(sub.Blocks, Para{lead}, List{Items: items})
		if len(m.LegalHolds) > 0 {
			sub.Blocks = append(sub.Blocks, Para{l.s("但在下列情况下，我们可能因需符合法律要求而延长个人信息的存储时间：", "We may, however, keep personal information longer where the law requires it:")},
				List{Items: r.refItems(m.LegalHolds, manifest.BuiltinVocabulary().LegalHolds)})
		}
		if m.Storage.ExpiryClause {
			sub.Blocks = append(sub.Blocks, Para{l.s(
				"存储期限届满后，我们会删除或匿名化处理您的个人信息；删除在技术上难以实现的，我们将停止除存储和采取必要的安全保护措施之外的处理。",
				"When the retention period ends we delete or anonymise your personal information; where deletion is technically difficult, we stop all processing other than storage and necessary security measures.")})
		}
		s.Subs = append(s.Subs, sub)
	}
	if d := l.t(m.Storage.Discontinuation); d != "" {
		s.Blocks = append(s.Blocks, Para{d})
	}
	return s
}

func (r *renderer) retentionItem(rt manifest.Retention) string {
	l := r.l
	var what []string
	if len(rt.Categories) > 0 {
		what = append(what, l.join(r.categoryNames(rt.Categories)))
	}
	if len(rt.Purposes) > 0 {
		names := l.join(r.purposeNames(rt.Purposes))
		if l.zh() {
			// "为…处理的个人信息", without doubling a 为 or 处理 the names carry.
			lead, tail := l.h("为"), l.h("处理的个人信息")
			if strings.HasPrefix(names, lead) {
				lead = ""
			}
			if strings.HasSuffix(names, l.h("处理")) {
				tail = l.h("的个人信息")
			}
			what = append(what, lead+names+tail)
		} else {
			what = append(what, l.s("", "information processed for %s", names))
		}
	}
	subject := strings.Join(what, l.s("，以及", ", and "))
	var keep string
	switch {
	case rt.Period != nil:
		keep = l.s("%s保存%s", "kept for %[2]s %[1]s", l.v("from", rt.From), l.count(rt.Period.Count, rt.Period.Unit))
	case rt.Until != "":
		keep = l.s("保存%s", "kept %s", l.v("until", rt.Until))
		if rt.Until == "legal_minimum" {
			keep = l.s("保存%s", "kept %s", l.v("until", rt.Until))
		}
	}
	after := l.s("期满后我们将%s", "then we %s", l.v("after", rt.After))
	if rt.Period == nil {
		after = l.s("届时我们将%s", "then we %s", l.v("after", rt.After))
	}
	line := l.s("%s：%s，%s", "%s: %s; %s", l.capitalise(subject), keep, after)
	return l.para(line, l.t(rt.Reason))
}
