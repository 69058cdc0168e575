package policy

// Wording for the manifest's enumerations, Chinese first. Every enumeration
// value in the manifest format has an entry here; vocab_test.go checks that.
var vocab = map[string]map[string][2]string{
	"basis": {
		"consent":              {"您的同意", "your consent"},
		"contract":             {"订立、履行您作为一方当事人的合同所必需", "necessity for a contract with you"},
		"hr_management":        {"实施人力资源管理所必需", "necessity for human-resources management"},
		"legal_obligation":     {"履行法定职责或者法定义务所必需", "necessity to comply with a legal obligation"},
		"vital_interests":      {"保护自然人的生命健康和财产安全所必需", "necessity to protect vital interests"},
		"public_interest":      {"为公共利益或者履行公共职能所必需", "necessity for a task in the public interest"},
		"news_reporting":       {"为公共利益实施新闻报道、舆论监督", "news reporting and media supervision in the public interest"},
		"publicly_disclosed":   {"处理已合法公开的个人信息", "processing of lawfully disclosed information"},
		"legitimate_interests": {"我们或第三方的合法利益", "our or a third party's legitimate interests"},
		"other_law":            {"法律、行政法规规定的其他情形", "other grounds provided by law"},
	},
	"source": {
		"user":          {"由您主动提供", "provided by you"},
		"device":        {"从您的设备读取", "read from your device"},
		"automatic":     {"在您使用服务时自动收集", "collected automatically as you use the service"},
		"third_party":   {"从第三方获取", "obtained from third parties"},
		"social_login":  {"从您用于登录的第三方账号获取", "obtained from the third-party account you sign in with"},
		"other_users":   {"来自其他用户分享的信息", "contained in what other users share"},
		"public":        {"从已合法公开的来源获取", "obtained from lawfully public sources"},
		"credit_agency": {"从征信机构获取", "obtained from credit reference agencies"},
		"partner":       {"从业务合作伙伴获取", "obtained from business partners"},
	},
	"cookie_kind": {
		"cookie":         {"Cookie", "cookie"},
		"local_storage":  {"本地存储", "local storage"},
		"web_beacon":     {"网络信标", "web beacon"},
		"pixel":          {"像素标签", "pixel tag"},
		"anonymous_id":   {"匿名标识符", "anonymous identifier"},
		"sdk_identifier": {"SDK 标识符", "SDK identifier"},
		"plugin":         {"第三方插件", "third-party plug-in"},
	},
	"cookie_category": {
		"necessary":   {"必要", "strictly necessary"},
		"security":    {"安全", "security"},
		"functional":  {"功能", "functional"},
		"analytics":   {"统计分析", "analytics"},
		"advertising": {"广告", "advertising"},
	},
	"recipient_kind": {
		"affiliate":              {"关联公司", "Affiliates"},
		"entrusted_processor":    {"受托处理者", "Entrusted processors"},
		"independent_controller": {"其他个人信息处理者", "Other personal-information processors"},
		"partner":                {"合作伙伴", "Partners"},
		"advertiser":             {"广告合作方", "Advertising partners"},
		"authority":              {"政府机关及司法机关", "Government and judicial authorities"},
		"professional_adviser":   {"专业顾问", "Professional advisers"},
		"user_directed":          {"您指定的第三方", "Third parties you direct us to"},
	},
	"measure": {
		"encryption":           {"加密", "Encryption"},
		"access_control":       {"访问控制", "Access control"},
		"de_identification":    {"去标识化", "De-identification"},
		"minimisation":         {"最小化收集", "Minimisation"},
		"audit_logging":        {"操作审计", "Audit logging"},
		"training":             {"培训", "Training"},
		"vendor_management":    {"供应商管理", "Vendor management"},
		"backup":               {"备份", "Backup"},
		"intrusion_prevention": {"防入侵", "Intrusion prevention"},
		"incident_response":    {"应急响应", "Incident response"},
		"physical":             {"物理安全", "Physical security"},
		"organisational":       {"组织措施", "Organisational measures"},
		"other":                {"其他", "Other"},
	},
	"channel_kind": {
		"email":            {"电子邮件", "email"},
		"sms":              {"短信", "text message"},
		"phone":            {"电话", "telephone"},
		"push":             {"推送通知", "push notification"},
		"in_app":           {"应用内通知", "in-app notice"},
		"in_app_feedback":  {"应用内反馈", "in-app feedback"},
		"letter":           {"信函", "letter"},
		"announcement":     {"公告", "public announcement"},
		"post":             {"邮寄地址", "postal address"},
		"web":              {"网站", "website"},
		"online_form":      {"在线表单", "online form"},
		"customer_service": {"客服", "customer service"},
		"website":          {"网站公告", "a notice on our website"},
		"prominent_notice": {"显著方式通知", "a prominent notice"},
	},
	"mechanism": {
		"security_assessment": {"通过国家网信部门组织的安全评估", "a security assessment by the national cyberspace authority"},
		"standard_contract":   {"与境外接收方订立个人信息出境标准合同", "the standard contract for outbound transfers of personal information"},
		"certification":       {"经专业机构进行个人信息保护认证", "personal-information protection certification by a qualified body"},
		"adequacy":            {"接收地具有充分保护水平", "an adequacy decision for the destination"},
		"eu_scc":              {"欧盟标准合同条款", "EU standard contractual clauses"},
		"bcr":                 {"有约束力的公司规则", "binding corporate rules"},
		"consent":             {"您的单独同意", "your separate consent"},
		"de_identified":       {"仅传输经去标识化处理的信息", "transfer of de-identified information only"},
		"exemption":           {"依法免于申报的情形", "a statutory exemption"},
	},
	"until": {
		"account_deletion":  {"至您注销账号时", "until you delete your account"},
		"purpose_fulfilled": {"至处理目的实现时", "until the purpose has been achieved"},
		"consent_withdrawn": {"至您撤回同意时", "until you withdraw your consent"},
		"service_end":       {"至我们停止提供服务时", "until we stop providing the service"},
		"legal_minimum":     {"法律、行政法规规定的最短期限", "for the shortest period the law requires"},
	},
	"from": {
		"collection":       {"自收集之日起", "from collection"},
		"account_deletion": {"自账号注销之日起", "from the deletion of your account"},
		"last_activity":    {"自您最后一次使用服务之日起", "from your last use of the service"},
		"contract_end":     {"自合同终止之日起", "from the end of the contract"},
		"transaction":      {"自交易完成之日起", "from the completion of the transaction"},
	},
	"after": {
		"delete":    {"予以删除", "delete it"},
		"anonymise": {"予以匿名化处理", "anonymise it"},
		"restrict":  {"停止除存储和采取必要安全保护措施之外的处理", "stop all processing of it other than storage and necessary security measures"},
	},
	"right": {
		"access":                     {"查阅您的个人信息", "Access your personal information"},
		"copy":                       {"复制您的个人信息", "Obtain a copy of your personal information"},
		"portability":                {"转移您的个人信息", "Port your personal information"},
		"correction":                 {"更正、补充您的个人信息", "Correct or complete your personal information"},
		"deletion":                   {"删除您的个人信息", "Delete your personal information"},
		"withdraw_consent":           {"撤回同意", "Withdraw your consent"},
		"cancel_account":             {"注销账号", "Cancel your account"},
		"restriction":                {"限制处理", "Restrict processing"},
		"objection":                  {"反对处理", "Object to processing"},
		"explain_automated_decision": {"要求解释自动化决策", "Ask for an explanation of an automated decision"},
		"explain_rules":              {"要求解释处理规则", "Ask us to explain our processing rules"},
		"complaint":                  {"投诉", "Complain"},
		"deceased":                   {"近亲属对死者个人信息行使权利", "Close relatives' rights over a deceased person's information"},
	},
	"material": {
		"processing":        {"我们的服务模式发生重大变化，如处理个人信息的目的、处理的个人信息类型、个人信息的使用方式等", "a major change to our services, such as the purpose of processing, the types of personal information processed or the way it is used"},
		"ownership":         {"我们在所有权结构、组织架构等方面发生重大变化，如业务调整、破产并购等引起的所有者变更", "a major change to our ownership or organisational structure, such as a change of owner through restructuring, bankruptcy or a merger"},
		"recipients":        {"个人信息共享、转让或公开披露的主要对象发生变化", "a change in the main recipients of shared, transferred or publicly disclosed personal information"},
		"rights":            {"您参与个人信息处理方面的权利及其行使方式发生重大变化", "a major change to your rights over the processing of your personal information or how you exercise them"},
		"contact":           {"我们负责处理个人信息安全的责任部门、联络方式及投诉渠道发生变化", "a change in the department responsible for personal-information security, its contact details or the complaint channels"},
		"impact_assessment": {"个人信息安全影响评估报告表明存在高风险", "a personal-information security impact assessment showing a high risk"},
	},
	"permission": {
		"camera":        {"相机", "camera"},
		"microphone":    {"麦克风", "microphone"},
		"location":      {"位置", "location"},
		"storage":       {"存储", "storage"},
		"contacts":      {"通讯录", "contacts"},
		"phone":         {"电话", "phone"},
		"sms":           {"短信", "SMS"},
		"calendar":      {"日历", "calendar"},
		"bluetooth":     {"蓝牙", "Bluetooth"},
		"wifi":          {"无线局域网", "Wi-Fi"},
		"notifications": {"通知", "notifications"},
		"photos":        {"相册", "photos"},
		"sensors":       {"传感器", "sensors"},
		"nfc":           {"NFC", "NFC"},
		"clipboard":     {"剪切板", "clipboard"},
		"install_apps":  {"安装应用", "app installation"},
		"network":       {"网络访问", "network access"},
	},
	"platform": {
		"android":   {"Android", "Android"},
		"ios":       {"iOS", "iOS"},
		"harmonyos": {"HarmonyOS", "HarmonyOS"},
		"web":       {"网页", "web"},
		"desktop":   {"桌面端", "desktop"},
		"server":    {"服务端", "server"},
	},
	"incident_content": {
		"what_happened":   {"安全事件的基本情况", "what happened"},
		"impact":          {"可能的影响", "its possible impact"},
		"measures":        {"我们已采取或将要采取的处置措施", "what we have done or will do about it"},
		"self_protection": {"您可自主防范和降低风险的建议", "how you can protect yourself and reduce the risk"},
		"remedies":        {"对您的补救措施", "the remedies available to you"},
	},
	"risk": {
		"low":    {"低", "low"},
		"medium": {"中", "medium"},
		"high":   {"高", "high"},
	},
}

// v returns the wording of an enumeration value, or the value itself.
func (l lang) v(kind, value string) string {
	if w, ok := vocab[kind][value]; ok {
		if l.zh() {
			return l.h(w[0])
		}
		return w[1]
	}
	return value
}

func (l lang) vs(kind string, values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = l.v(kind, v)
	}
	return out
}
