package center

import (
	"html/template"
	"strings"

	"github.com/custos-privacy/custos/internal/web"
)

func breakable(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '/' || c == '?' || c == '&' || c == '=' || i-start >= 12 && c < 0x80 {
			out = append(out, s[start:i+1])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// funcs are the privacy center's template functions.
func funcs() template.FuncMap {
	return template.FuncMap{
		// badge is the badge class for a request state.
		"badge": func(state string) string {
			switch state {
			case "completed":
				return "ok"
			case "refused", "cancelled":
				return "bad"
			case "withdrawn":
				return "warn"
			}
			return "info"
		},
		// breakable cuts a long token (a hash, an id, a URL) into pieces
		// the template joins with <wbr>, so narrow screens can wrap it.
		"breakable": breakable,
		// anchor turns a ledger key into an id fragment (recipient:x → recipient-x).
		"anchor": anchor,
		"upper":  strings.ToUpper,
		"short": func(s string) string {
			if len(s) > 12 {
				return s[:12] + "…"
			}
			return s
		},
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[kv[i].(string)] = kv[i+1]
			}
			return m
		},
	}
}

// messages are the privacy center's texts in zh-CN and en.
var messages = web.Messages{
	"nav.home":     {"zh-CN": "隐私中心", "en": "Privacy center"},
	"nav.policy":   {"zh-CN": "隐私政策", "en": "Privacy policy"},
	"nav.consents": {"zh-CN": "我的同意", "en": "My consents"},
	"nav.requests": {"zh-CN": "行使权利", "en": "Exercise your rights"},

	"home.title":             {"zh-CN": "隐私中心", "en": "Privacy center"},
	"home.intro":             {"zh-CN": "在这里阅读我们的隐私政策，管理您的同意，并行使您对个人信息的权利。", "en": "Read our privacy policy, manage your consents and exercise your rights over your personal information."},
	"home.policy":            {"zh-CN": "阅读现行隐私政策、历史版本以及版本之间的变化。", "en": "Read the policy in force, earlier versions, and what changed between them."},
	"home.consents":          {"zh-CN": "查看并更改您（以及您监护的未成年人）给予的同意。", "en": "See and change the consents you (and minors in your care) have given."},
	"home.requests":          {"zh-CN": "查阅、复制、更正、删除您的个人信息，注销账户等。", "en": "Access, copy, correct or delete your information, cancel your account, and more."},
	"home.follow":            {"zh-CN": "跟进已提交的请求", "en": "Follow a request you made"},
	"home.follow_hint":       {"zh-CN": "输入提交请求时显示的请求编号和访问码。", "en": "Enter the request number and access code shown when you made the request."},
	"home.request_id":        {"zh-CN": "请求编号", "en": "Request number"},
	"home.access_token":      {"zh-CN": "访问码", "en": "Access code"},
	"home.open":              {"zh-CN": "查看", "en": "Open"},
	"home.go":                {"zh-CN": "前往", "en": "Go"},
	"home.requests_off":      {"zh-CN": "目前无法在线提交权利请求，请通过隐私政策中的联系方式联系我们。", "en": "Rights requests cannot be made online at the moment; please use the contacts in the privacy policy."},
	"policy.title":           {"zh-CN": "隐私政策", "en": "Privacy policy"},
	"policy.version":         {"zh-CN": "版本", "en": "Version"},
	"policy.published":       {"zh-CN": "发布时间", "en": "Published"},
	"policy.notice_hash":     {"zh-CN": "文本摘要（SHA-256）", "en": "Text digest (SHA-256)"},
	"policy.archived":        {"zh-CN": "这是历史版本 %s，不是现行版本。", "en": "This is the earlier version %s, not the one in force."},
	"policy.current":         {"zh-CN": "现行版本", "en": "In force"},
	"policy.upcoming":        {"zh-CN": "即将生效", "en": "Upcoming"},
	"policy.upcoming_this":   {"zh-CN": "这是已公布、尚未生效的版本 %s，将于 %s 生效。", "en": "This is version %s, announced and not yet in force: it takes effect on %s."},
	"policy.upcoming_next":   {"zh-CN": "新版本 %s 已公布，将于 %s 生效。", "en": "A new version, %s, has been announced and takes effect on %s."},
	"policy.read_upcoming":   {"zh-CN": "阅读新版本", "en": "Read the new version"},
	"policy.effective":       {"zh-CN": "生效时间", "en": "In force from"},
	"policy.versions":        {"zh-CN": "所有版本", "en": "All versions"},
	"policy.compare":         {"zh-CN": "比较版本", "en": "Compare versions"},
	"policy.toc":             {"zh-CN": "目录", "en": "Contents"},
	"policy.lang_note":       {"zh-CN": "本政策未以所选语言发布，以下为%s版本。", "en": "The policy is not published in the language chosen; this is the %s version."},
	"versions.title":         {"zh-CN": "隐私政策版本", "en": "Policy versions"},
	"versions.material":      {"zh-CN": "重大变更", "en": "Material change"},
	"versions.view":          {"zh-CN": "查看版本 %s", "en": "View version %s"},
	"versions.diff_prev":     {"zh-CN": "与上一版本比较", "en": "Compare with the version before"},
	"diff.title":             {"zh-CN": "版本比较", "en": "Compare versions"},
	"diff.choose":            {"zh-CN": "选择要比较的两个版本", "en": "Choose two versions to compare"},
	"diff.from":              {"zh-CN": "旧版本", "en": "Earlier version"},
	"diff.to":                {"zh-CN": "新版本", "en": "Later version"},
	"diff.show":              {"zh-CN": "比较", "en": "Compare"},
	"diff.need_two":          {"zh-CN": "目前只发布过一个版本，暂无可比较的内容。", "en": "Only one version has been published; there is nothing to compare yet."},
	"diff.unknown":           {"zh-CN": "找不到所选版本。", "en": "No such version."},
	"diff.material_yes":      {"zh-CN": "这是重大变更，涉及：", "en": "This is a material change, to:"},
	"diff.material_no":       {"zh-CN": "这不是重大变更。", "en": "This is not a material change."},
	"diff.reconsent":         {"zh-CN": "需要重新征得您同意的处理：%s", "en": "We will ask for your consent again for: %s"},
	"diff.cell":              {"zh-CN": "%s：%s", "en": "%s: %s"},
	"diff.cells":             {"zh-CN": "；", "en": "; "},
	"diff.changes":           {"zh-CN": "变更清单", "en": "What changed"},
	"diff.kind":              {"zh-CN": "类别", "en": "Kind"},
	"diff.what":              {"zh-CN": "内容", "en": "Item"},
	"diff.op":                {"zh-CN": "变化", "en": "Change"},
	"diff.text":              {"zh-CN": "文本变化", "en": "Changes to the text"},
	"diff.no_text":           {"zh-CN": "政策文本没有变化。", "en": "The text of the policy is unchanged."},
	"diff.sections":          {"zh-CN": "共 %d 个章节有变化。", "en": "%d section(s) changed."},
	"diff.state.added":       {"zh-CN": "新增章节", "en": "New section"},
	"diff.state.removed":     {"zh-CN": "删除章节", "en": "Section removed"},
	"diff.state.changed":     {"zh-CN": "已修改", "en": "Changed"},
	"diff.ins":               {"zh-CN": "新增：", "en": "Added: "},
	"diff.del":               {"zh-CN": "删除：", "en": "Removed: "},
	"diff.op.added":          {"zh-CN": "新增", "en": "added"},
	"diff.op.removed":        {"zh-CN": "删除", "en": "removed"},
	"diff.op.changed":        {"zh-CN": "修改", "en": "changed"},
	"diff.material":          {"zh-CN": "重大", "en": "Material"},
	"kind.processing":        {"zh-CN": "处理目的、方式或个人信息种类", "en": "purposes, manner or types of processing"},
	"kind.ownership":         {"zh-CN": "所有权结构或组织架构", "en": "ownership or organisational structure"},
	"kind.recipients":        {"zh-CN": "共享、转让或公开披露的主要对象", "en": "main recipients of sharing, transfer or disclosure"},
	"kind.rights":            {"zh-CN": "个人信息权利及其行使方式", "en": "your rights and how to exercise them"},
	"kind.contact":           {"zh-CN": "负责部门、联络方式或投诉渠道", "en": "responsible department, contact or complaint channels"},
	"kind.impact_assessment": {"zh-CN": "个人信息保护影响评估显示的高风险", "en": "a high risk shown by an impact assessment"},
	"kind.security":          {"zh-CN": "安全保护措施", "en": "security measures"},
	"kind.wording":           {"zh-CN": "措辞", "en": "wording"},
	"kind.metadata":          {"zh-CN": "版本信息", "en": "version details"},

	"signin.title":          {"zh-CN": "登录隐私中心", "en": "Sign in to the privacy center"},
	"signin.intro":          {"zh-CN": "请输入您注册时使用的电子邮箱或手机号码，我们会向其发送一次性验证码。", "en": "Enter the email address or phone number you registered with; we will send a one-time code to it."},
	"signin.kind":           {"zh-CN": "登录方式", "en": "Sign in with"},
	"signin.email":          {"zh-CN": "电子邮箱", "en": "Email address"},
	"signin.phone":          {"zh-CN": "手机号码", "en": "Phone number"},
	"signin.identity":       {"zh-CN": "电子邮箱或手机号码", "en": "Email address or phone number"},
	"signin.send":           {"zh-CN": "发送验证码", "en": "Send code"},
	"signin.code_title":     {"zh-CN": "输入验证码", "en": "Enter your code"},
	"signin.sent":           {"zh-CN": "如果该身份信息与我们的记录相符，验证码已发送至该地址或号码。", "en": "If this identity is on file, a one-time code has been sent to it."},
	"signin.code":           {"zh-CN": "六位验证码", "en": "Six-digit code"},
	"signin.code_hint":      {"zh-CN": "验证码 15 分钟内有效。", "en": "The code is valid for 15 minutes."},
	"signin.verify":         {"zh-CN": "登录", "en": "Sign in"},
	"signin.again":          {"zh-CN": "重新获取验证码", "en": "Ask for a new code"},
	"signin.signout":        {"zh-CN": "退出登录", "en": "Sign out"},
	"signin.unavailable":    {"zh-CN": "目前无法登录，请稍后再试。", "en": "Signing in is not available at the moment."},
	"signin.intro_email":    {"zh-CN": "请输入您注册时使用的电子邮箱，我们会向其发送一次性验证码。", "en": "Enter the email address you registered with; we will send a one-time code to it."},
	"signin.intro_phone":    {"zh-CN": "请输入您注册时使用的手机号码，我们会向其发送一次性验证码。", "en": "Enter the phone number you registered with; we will send a one-time code to it."},
	"signin.identity_email": {"zh-CN": "电子邮箱", "en": "Email address"},
	"signin.identity_phone": {"zh-CN": "手机号码", "en": "Phone number"},

	// Said before a form is filled in, when a one-time code cannot reach
	// some kind of identity (the deployment has no message channel for it).
	"codes.no_email":        {"zh-CN": "目前无法通过电子邮件发送验证码：请使用手机号码，或通过以下方式与我们联系。", "en": "Codes cannot be sent by email at the moment: use your phone number, or contact us as below."},
	"codes.no_phone":        {"zh-CN": "目前无法通过短信发送验证码：请使用电子邮箱，或通过以下方式与我们联系。", "en": "Codes cannot be sent by text message at the moment: use your email address, or contact us as below."},
	"codes.none":            {"zh-CN": "目前无法通过电子邮件或短信发送验证码，因此暂时无法在线办理。请通过以下方式与我们联系。", "en": "Codes cannot be sent by email or text message at the moment, so this cannot be done online for now. Please contact us as below."},
	"codes.contacts":        {"zh-CN": "联系方式：", "en": "You can reach us at:"},
	"codes.contacts_policy": {"zh-CN": "我们的联系方式见隐私政策。", "en": "Our contact details are in the privacy policy."},

	"consents.title":            {"zh-CN": "我的同意", "en": "My consents"},
	"consents.intro":            {"zh-CN": "以下是基于您同意的处理目的，以及我们记录的您当前的选择。您可以随时撤回同意；撤回不影响此前基于同意已进行的处理。", "en": "These are the purposes that rest on your consent, with the choice we have on record. You can withdraw at any time; withdrawal does not affect processing already carried out on the basis of consent."},
	"consents.notice":           {"zh-CN": "您的选择将依据隐私政策版本 %s 记录（文本摘要 %s）。", "en": "Your choices are recorded against policy version %s (text digest %s)."},
	"signal.gpc":                {"zh-CN": "“全球隐私控制”（GPC）", "en": "Global Privacy Control (GPC)"},
	"signal.dnt":                {"zh-CN": "“请勿追踪”（DNT）", "en": "Do Not Track (DNT)"},
	"consents.signal_sent":      {"zh-CN": "您的浏览器发送了%s信号。按照本政策，该信号表示您拒绝以下处理，即使您在此选择同意：%s。", "en": "Your browser sends the %s signal. Under the policy it refuses the following processing, even if you choose to consent here: %s."},
	"consents.signal_ignored":   {"zh-CN": "您的浏览器发送了%s信号。本政策未说明依据该信号拒绝任何处理。", "en": "Your browser sends the %s signal. The policy does not refuse any processing on it."},
	"consents.ordinary":         {"zh-CN": "一般同意", "en": "Consents"},
	"consents.separate":         {"zh-CN": "单独同意", "en": "Separate consents"},
	"consents.separate_intro":   {"zh-CN": "以下目的涉及敏感个人信息、向其他处理者提供或跨境传输，需要您逐项单独同意。", "en": "These purposes involve sensitive information, provision to another processor or a transfer abroad: each needs its own, separate consent."},
	"consents.separate_box":     {"zh-CN": "我单独同意：%s", "en": "I give my separate consent to: %s"},
	"consents.none":             {"zh-CN": "没有基于同意的处理目的。", "en": "No purpose rests on consent."},
	"consents.state":            {"zh-CN": "当前状态", "en": "Current state"},
	"consents.on":               {"zh-CN": "已同意", "en": "Consented"},
	"consents.off":              {"zh-CN": "未同意", "en": "Not consented"},
	"consents.stale":            {"zh-CN": "政策已变更，需要重新同意", "en": "The policy changed; consent needed again"},
	"consents.by_guardian":      {"zh-CN": "由监护人同意", "en": "Given by a guardian"},
	"consents.signal":           {"zh-CN": "已被 %s 信号拒绝", "en": "Refused by the %s signal"},
	"consents.accept_title":     {"zh-CN": "隐私政策版本 %s 需要您的同意", "en": "Version %s of the privacy policy needs your agreement"},
	"consents.accept_intro":     {"zh-CN": "政策的重大变更涉及以下处理；在您同意新版本之前，我们不会为这些目的处理您的个人信息：", "en": "A material change to the policy concerns the following processing; until you accept the new version, we do not process your personal information for it:"},
	"consents.accept_ward":      {"zh-CN": "在您作为监护人同意本政策之前，我们不会为以下目的处理该未成年人的个人信息：", "en": "Until you, as their guardian, accept the policy, we do not process this minor's personal information for:"},
	"consents.accept_read":      {"zh-CN": "先阅读隐私政策", "en": "Read the policy first"},
	"consents.accept":           {"zh-CN": "我同意隐私政策版本 %s", "en": "I accept version %s of the privacy policy"},
	"consents.accepted":         {"zh-CN": "已记录您的同意。", "en": "Your acceptance is recorded."},
	"consents.objections":       {"zh-CN": "您可以反对的处理", "en": "Processing you may object to"},
	"consents.objections_intro": {"zh-CN": "以下处理基于我们的合法利益或公共利益，而非您的同意。您可以反对；我们随即停止，除非我们记录了优先于您利益的正当理由。对直接营销的反对始终有效。", "en": "This processing rests on our legitimate interests or a task in the public interest, not on your consent. You may object; we then stop, unless we record compelling grounds that override your interests. An objection to direct marketing always stops it."},
	"consents.object":           {"zh-CN": "反对", "en": "Object"},
	"consents.lift":             {"zh-CN": "撤回反对", "en": "Withdraw my objection"},
	"consents.objected":         {"zh-CN": "已记录您的反对。", "en": "Your objection is recorded."},
	"consents.lifted":           {"zh-CN": "已撤回您的反对。", "en": "Your objection is withdrawn."},
	"consents.objected_state":   {"zh-CN": "已反对，处理已停止", "en": "Objected to: stopped"},
	"consents.overridden":       {"zh-CN": "已反对，但我们记录了继续处理的正当理由", "en": "Objected to, but we recorded compelling grounds to go on"},
	"consents.processing":       {"zh-CN": "正在处理", "en": "Processing"},
	"consents.direct_marketing": {"zh-CN": "直接营销", "en": "Direct marketing"},
	"consents.not_served":       {"zh-CN": "我们的服务不面向您这个年龄的人，我们不记录您的同意。", "en": "Our services are not for people of your age, and we record no consent from you."},
	"consents.grant":            {"zh-CN": "同意", "en": "Consent"},
	"consents.withdraw":         {"zh-CN": "撤回同意", "en": "Withdraw consent"},
	"consents.grant_for":        {"zh-CN": "同意：%s", "en": "Consent to %s"},
	"consents.withdraw_for":     {"zh-CN": "撤回对“%s”的同意", "en": "Withdraw consent to %s"},
	"consents.granted":          {"zh-CN": "已记录您的同意。", "en": "Your consent is recorded."},
	"consents.withdrawn":        {"zh-CN": "已记录撤回。", "en": "The withdrawal is recorded."},
	"consents.wards":            {"zh-CN": "您监护的未成年人", "en": "Minors in your care"},
	"consents.wards_intro":      {"zh-CN": "您是以下未成年人的登记监护人。您在此作出的选择将以监护人同意的方式记录。", "en": "You are the registered guardian of these minors. Choices you make here are recorded as a guardian's consent."},
	"consents.ward":             {"zh-CN": "未成年人 %s", "en": "Minor %s"},
	"consents.minor_self":       {"zh-CN": "您未满法定年龄，同意需由您的监护人作出；您仍可以撤回同意。", "en": "You are under the age of consent: your guardian gives consent for you. You can still withdraw."},
	"consents.you":              {"zh-CN": "您的同意", "en": "Your consents"},
	"consents.subject":          {"zh-CN": "用户编号 %s", "en": "User id %s"},

	"rights.title":                     {"zh-CN": "行使您的权利", "en": "Exercise your rights"},
	"rights.intro":                     {"zh-CN": "选择您要提出的请求。我们会向您注册时使用的电子邮箱或手机号码发送验证码以核验身份，不会要求您提供更多信息。", "en": "Choose the request you want to make. We verify your identity with a code sent to the email address or phone number you registered with; nothing more is asked."},
	"rights.make":                      {"zh-CN": "提出“%s”请求", "en": "Make a request: %s"},
	"rights.where":                     {"zh-CN": "适用地区：", "en": "Where: "},
	"right.access":                     {"zh-CN": "查阅", "en": "Access"},
	"right.copy":                       {"zh-CN": "复制", "en": "Copy"},
	"right.portability":                {"zh-CN": "转移（可携带）", "en": "Portability"},
	"right.correction":                 {"zh-CN": "更正、补充", "en": "Correction"},
	"right.deletion":                   {"zh-CN": "删除", "en": "Deletion"},
	"right.withdraw_consent":           {"zh-CN": "撤回同意", "en": "Withdraw consent"},
	"right.cancel_account":             {"zh-CN": "注销账户", "en": "Cancel my account"},
	"right.restriction":                {"zh-CN": "限制处理", "en": "Restrict processing"},
	"right.objection":                  {"zh-CN": "拒绝处理", "en": "Object to processing"},
	"right.explain_automated_decision": {"zh-CN": "要求解释自动化决策", "en": "Explain an automated decision"},
	"right.explain_rules":              {"zh-CN": "要求解释处理规则", "en": "Explain the processing rules"},
	"right.complaint":                  {"zh-CN": "投诉", "en": "Complaint"},
	"rights.deceased_contact":          {"zh-CN": "近亲属需提供与已故者关系的证明，由我们的工作人员核实，无法在线验证。请通过以下方式联系我们：", "en": "A relative must show their relationship to the deceased, which our staff check; it cannot be verified online. Please contact us:"},
	"note.received":                    {"zh-CN": "已收到", "en": "received"},
	"note.verified_code":               {"zh-CN": "已通过一次性验证码核验身份", "en": "identity verified by one-time code"},
	"note.verified_operator":           {"zh-CN": "已由工作人员核验身份", "en": "identity verified by our staff"},
	"note.withdrawn":                   {"zh-CN": "已由您撤回", "en": "withdrawn by you"},
	"note.too_many_codes":              {"zh-CN": "验证码错误次数过多", "en": "too many wrong codes"},
	"note.recomputed":                  {"zh-CN": "已按更新的节假日安排重新计算期限", "en": "due date recalculated with updated holiday data"},
	"right.deceased":                   {"zh-CN": "近亲属行使已故者的权利", "en": "A relative acting for a deceased person"},
	"request.title":                    {"zh-CN": "提出请求", "en": "Make a request"},
	"request.title_for":                {"zh-CN": "提出请求：%s", "en": "Make a request: %s"},
	"request.jurisdiction":             {"zh-CN": "适用地区", "en": "Where you live"},
	"request.identity":                 {"zh-CN": "您的身份", "en": "Who you are"},
	"request.identity_hint":            {"zh-CN": "请填写您注册时使用的电子邮箱或手机号码，验证码将发送至此。", "en": "The email address or phone number you registered with; the code is sent there."},
	"request.identity_hint_email":      {"zh-CN": "请填写您注册时使用的电子邮箱，验证码将发送至此。", "en": "The email address you registered with; the code is sent there."},
	"request.identity_hint_phone":      {"zh-CN": "请填写您注册时使用的手机号码，验证码将发送至此。", "en": "The phone number you registered with; the code is sent there."},
	"request.purposes":                 {"zh-CN": "涉及的处理目的", "en": "The purposes concerned"},
	"request.submit":                   {"zh-CN": "提交请求", "en": "Submit the request"},
	"verify.title":                     {"zh-CN": "核验身份", "en": "Verify your identity"},
	"verify.sent":                      {"zh-CN": "如果该身份信息与我们的记录相符，验证码已发送至该地址或号码。请输入验证码以核验请求。", "en": "If this identity is on file, a one-time code has been sent to it. Enter it to verify the request."},
	"verify.submit":                    {"zh-CN": "核验", "en": "Verify"},
	"verify.keep":                      {"zh-CN": "请求编号：%s。验证后，您可以在本浏览器中跟进该请求。", "en": "Request number: %s. Once verified you can follow the request in this browser."},
	"status.title":                     {"zh-CN": "请求状态", "en": "Request status"},
	"status.type":                      {"zh-CN": "请求类型", "en": "Type"},
	"status.state":                     {"zh-CN": "状态", "en": "State"},
	"status.received":                  {"zh-CN": "收到时间", "en": "Received"},
	"status.due":                       {"zh-CN": "答复期限", "en": "Due by"},
	"status.deadline":                  {"zh-CN": "答复时限", "en": "Time to answer"},
	"status.provisional":               {"zh-CN": "（暂定：节假日安排尚未公布）", "en": "(provisional: the holiday calendar is not yet published)"},
	"status.paused":                    {"zh-CN": "等待您的回复期间，期限暂停计算。", "en": "The clock is paused while we wait for you."},
	"status.extended":                  {"zh-CN": "答复期限已延长。", "en": "The deadline has been extended."},
	"status.effective":                 {"zh-CN": "注销生效时间", "en": "Cancellation takes effect"},
	"status.history":                   {"zh-CN": "处理记录", "en": "History"},
	"status.refused":                   {"zh-CN": "拒绝理由", "en": "Why it was refused"},
	"status.explanation":               {"zh-CN": "说明", "en": "Explanation"},
	"status.verified":                  {"zh-CN": "您的身份已核验，请求正在处理中。", "en": "Your identity is verified; the request is being handled."},
	"status.withdrawn":                 {"zh-CN": "请求已撤回。", "en": "The request is withdrawn."},
	"status.withdraw":                  {"zh-CN": "撤回此请求", "en": "Withdraw this request"},
	"status.withdraw_confirm":          {"zh-CN": "确定要撤回此请求吗？", "en": "Withdraw this request?"},
	"status.cancel":                    {"zh-CN": "撤销账户注销", "en": "Stop the account cancellation"},
	"status.cancel_intro":              {"zh-CN": "您的账户注销已安排，在生效前您可以撤销。", "en": "Your account cancellation is scheduled; you can stop it until it takes effect."},
	"status.download":                  {"zh-CN": "下载您的个人信息", "en": "Download your information"},
	"status.download_hint":             {"zh-CN": "导出文件在请求完成后 7 天内可下载，每次下载都会记录。", "en": "The export can be downloaded for 7 days after the request was completed; each download is recorded."},
	"status.link":                      {"zh-CN": "下载链接", "en": "Download link"},
	"status.get":                       {"zh-CN": "下载", "en": "Download"},
	"status.duplicate":                 {"zh-CN": "此请求与您之前的请求相同，已合并处理。", "en": "This request repeats an open one and was merged into it."},
	"state.received":                   {"zh-CN": "已收到", "en": "Received"},
	"state.awaiting_verification":      {"zh-CN": "等待核验身份", "en": "Waiting for verification"},
	"state.verified":                   {"zh-CN": "已核验", "en": "Verified"},
	"state.in_progress":                {"zh-CN": "处理中", "en": "In progress"},
	"state.awaiting_subject":           {"zh-CN": "等待您的回复", "en": "Waiting for you"},
	"state.extended":                   {"zh-CN": "已延期", "en": "Extended"},
	"state.completed":                  {"zh-CN": "已完成", "en": "Completed"},
	"state.refused":                    {"zh-CN": "已拒绝", "en": "Refused"},
	"state.cancelled":                  {"zh-CN": "已取消", "en": "Cancelled"},
	"state.withdrawn":                  {"zh-CN": "已撤回", "en": "Withdrawn"},
	"state.forwarded":                  {"zh-CN": "已转交数据控制者", "en": "Passed to the controller"},
	"note.forwarded":                   {"zh-CN": "已转交控制该个人信息的组织", "en": "passed to the organisations that control the information"},
	"note.forwarded_in":                {"zh-CN": "由关联组织转来", "en": "passed on by a linked organisation"},
	"status.routes":                    {"zh-CN": "控制您个人信息的组织", "en": "Who controls your information"},
	"status.routes_intro":              {"zh-CN": "以下组织也持有您的个人信息，并作为个人信息处理者各自处理您的请求，答复期限以各自的政策为准。", "en": "These organisations also hold your information; each answers your request itself, as its controller, on the deadline of its own policy."},
	"status.route_role.controller":     {"zh-CN": "控制者（我们受其委托处理）", "en": "Controller (we process for it)"},
	"status.route_role.affiliate":      {"zh-CN": "关联公司", "en": "Affiliate"},
	"status.route_failed":              {"zh-CN": "未能转交，请直接联系该组织", "en": "could not be passed on: contact them directly"},
	"status.route_center":              {"zh-CN": "隐私中心", "en": "Privacy center"},

	"err.generic":                   {"zh-CN": "无法完成该操作，请检查后重试。", "en": "That could not be done. Check and try again."},
	"err.invalid_identity":          {"zh-CN": "请填写有效的电子邮箱或手机号码。", "en": "Enter a valid email address or phone number."},
	"err.identity_required":         {"zh-CN": "请填写您注册时使用的电子邮箱或手机号码。", "en": "Enter the email address or phone number you registered with."},
	"err.rate_limited":              {"zh-CN": "尝试次数过多，请稍后再试。", "en": "Too many attempts. Please try again later."},
	"err.invalid_code":              {"zh-CN": "验证码错误或已过期。", "en": "The code is wrong or has expired."},
	"err.too_many_attempts":         {"zh-CN": "错误次数过多，该请求已取消，请重新提交。", "en": "Too many wrong codes: the request was cancelled. Please make a new one."},
	"err.signin_again":              {"zh-CN": "请重新获取验证码。", "en": "Please ask for a new code."},
	"err.signin_unavailable":        {"zh-CN": "目前无法登录，请稍后再试。", "en": "Signing in is not available at the moment."},
	"err.no_message_channel":        {"zh-CN": "目前无法以这种方式发送验证码。", "en": "A code cannot be sent that way at the moment."},
	"err.request_not_found":         {"zh-CN": "找不到该请求，或您无权查看。", "en": "No such request, or it is not yours to see."},
	"err.right_not_offered":         {"zh-CN": "该地区不提供此项请求。", "en": "This request is not offered where you chose."},
	"err.unknown_jurisdiction":      {"zh-CN": "请选择适用地区。", "en": "Choose where you live."},
	"err.not_awaiting_verification": {"zh-CN": "该请求无需再核验。", "en": "This request no longer needs a code."},
	"err.invalid_transition":        {"zh-CN": "该请求当前状态下不能这样操作。", "en": "The request cannot do that in its present state."},
	"err.cancellation_effective":    {"zh-CN": "账户注销已生效，无法撤销。", "en": "The account cancellation has already taken effect."},
	"err.bundle_not_found":          {"zh-CN": "下载链接无效或已过期。", "en": "The download link is not valid or has expired."},
	"err.requests_unavailable":      {"zh-CN": "目前无法在线提交权利请求。", "en": "Rights requests cannot be made online at the moment."},
	"err.no_policy":                 {"zh-CN": "尚未发布隐私政策。", "en": "No privacy policy is published yet."},
	"err.notice_changed":            {"zh-CN": "隐私政策已更新，请阅读后重新选择。", "en": "The policy has been updated. Please read it and choose again."},
	"err.separate_unchecked":        {"zh-CN": "单独同意需要勾选确认框。", "en": "A separate consent needs its box ticked."},
	"err.consent_form":              {"zh-CN": "表单内容无效。", "en": "The form is not valid."},
	"err.guardian_consent_required": {"zh-CN": "未成年人的同意需由监护人作出。", "en": "A minor's consent must be given by their guardian."},
	"err.guardian_not_applicable":   {"zh-CN": "该用户已不是未成年人，只有其本人可以作出决定。", "en": "This person is no longer a minor: only they can decide."},
	"err.guardian_not_linked":       {"zh-CN": "您不是该用户的登记监护人。", "en": "You are not this person's registered guardian."},
	"err.subject_not_found":         {"zh-CN": "找不到您的记录。", "en": "Your record was not found."},
	"err.minor_not_served":          {"zh-CN": "我们的服务不面向您这个年龄的人。", "en": "Our services are not for people of your age."},
	"err.objection_not_applicable":  {"zh-CN": "这项处理不能以反对的方式停止：基于同意的处理请撤回同意。", "en": "This processing cannot be objected to: withdraw consent where it rests on consent."},
	"err.unknown_purpose":           {"zh-CN": "现行政策中没有该处理目的。", "en": "The policy in force has no such purpose."},
	"err.unknown_act":               {"zh-CN": "现行政策中没有该提供或传输。", "en": "The policy in force has no such provision or transfer."},
	"err.consent_not_applicable":    {"zh-CN": "这项处理不基于您的同意。", "en": "This processing does not rest on your consent."},
	"err.duplicate_purpose":         {"zh-CN": "表单内容无效。", "en": "The form is not valid."},
	"err.no_deadline":               {"zh-CN": "该请求暂不能在线提交，请联系我们。", "en": "This request cannot be made online; please contact us."},
	"err.invalid_details":           {"zh-CN": "请求内容无效。", "en": "The request details are not valid."},
	"err.unknown_correction_field":  {"zh-CN": "该项信息无法在此更正，请联系我们。", "en": "That information cannot be corrected here; please contact us."},
	"err.field_not_correctable":     {"zh-CN": "该项信息无法在此更正，请联系我们。", "en": "That information cannot be corrected here; please contact us."},
	"err.invalid_correction_value":  {"zh-CN": "更正后的内容格式不正确。", "en": "The corrected value is not in a valid form."},
}
