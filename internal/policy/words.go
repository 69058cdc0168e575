package policy

import (
	"reflect"
	"strconv"
	"strings"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/manifest"
)

// Words for pages and messages that speak to people about a manifest:
// durations, lists, and what a change between two versions is about.
// They call the renderer's own rules (lang.count, lang.join, the
// vocabulary), so that a deadline or a list reads the same on a page or
// in a message as in the policy.

// Duration words a length of time in the language tag: "15个工作日" /
// "15 working days". Units are the manifest's (working_days,
// calendar_days, days, months, years).
func Duration(tag string, count int, unit string) string { return langOf(tag).count(count, unit) }

// Join joins items as the language lists them: "A、B和C" / "A, B and C".
func Join(tag string, items []string) string { return langOf(tag).join(items) }

// Right names a right (manifest rights.offered) in the language tag, as
// the policy does: "查阅您的个人信息" / "Access your personal information".
func Right(tag, right string) string { return langOf(tag).v("right", right) }

// langOf is the renderer's language for a page's tag; English for a tag
// the renderer does not write.
func langOf(tag string) lang {
	l, err := newLang(tag)
	if err != nil {
		l, _ = newLang("en")
	}
	return l
}

// Describe says in the language tag what a change is about, from its
// About: each entity by the name the manifest gives it, then the field
// changed: "服务：公开发布 › 说明" / "Service: Publishing › description".
// It never shows a manifest id or path; what has no name is called by
// the kind of thing it is.
func (c Change) Describe(tag string) string {
	l := langOf(tag)
	a := c.About
	if a.Section == "" {
		if m := rootRE.FindStringSubmatch(c.Path); m != nil {
			a.Section = m[1]
		}
	}
	var parts []string
	for _, it := range a.Items {
		label, name := l.word(listWords, it.List), l.t(it.Name)
		switch {
		case label != "" && name != "":
			parts = append(parts, label+l.s("：", ": ")+name)
		case name != "":
			parts = append(parts, name)
		case label != "":
			parts = append(parts, label)
		}
	}
	if len(parts) == 0 {
		// Nothing named: the part of the manifest it is in says enough.
		if w := l.word(sectionWords, a.Section); w != "" {
			parts = append(parts, w)
		}
	}
	if w := l.field(a.Field); w != "" {
		parts = append(parts, w)
	}
	if len(parts) == 0 {
		return l.s("其他内容", "Other details")
	}
	return l.capitalise(strings.Join(parts, " › "))
}

// Name says in the language tag what a purpose or act the diff lists by
// id is: the purpose's name, or "向…提供个人信息" for a separate consent to
// a recipient; "" for an id the diff has no name for.
func (d *Diff) Name(key, tag string) string {
	return d.Names[key].In(tag)
}

// word looks a key up in a table of {zh, en} words; "" when it has none.
func (l lang) word(table map[string][2]string, key string) string {
	w, ok := table[key]
	if !ok {
		return ""
	}
	if l.zh() {
		return w[0]
	}
	return w[1]
}

// field words a dotted field path: the whole path if it has words of its
// own, else its deepest part that has.
func (l lang) field(path string) string {
	if path == "" {
		return ""
	}
	if w := l.word(fieldWords, path); w != "" {
		return w
	}
	parts := strings.Split(path, ".")
	for i := len(parts) - 1; i >= 0; i-- {
		if w := l.word(fieldWords, parts[i]); w != "" {
			return w
		}
	}
	return ""
}

// ActName is the name of a purpose id or act key (check.ActKey) in m, in
// each language, as pages and messages say it ("向…提供个人信息" /
// "providing personal information to …"); nil when m has no such purpose
// or act.
func ActName(m *manifest.Manifest, key string) manifest.Text {
	kind, purpose, act := check.ParseKey(key)
	zh, en := langOf("zh-CN"), langOf("en")
	switch {
	case kind == check.KeyOfPurpose:
		if p, ok := m.Purpose(purpose); ok {
			return p.Name
		}
	case kind != check.KeyOfAct:
	case act.Kind == check.ActRecipient:
		if r, ok := m.Recipient(act.ID); ok {
			return manifest.Text{"zh": "向" + zh.t(r.Name) + "提供个人信息", "en": "providing personal information to " + en.t(r.Name)}
		}
	case act.Kind == check.ActTransfer:
		for _, x := range m.Storage.CrossBorder {
			if x.ID == act.ID {
				return manifest.Text{"zh": "向境外（" + destination(zh, x) + "）提供个人信息", "en": "transferring personal information to " + destination(en, x)}
			}
		}
	case act.Kind == check.ActDisclosure:
		return manifest.Text{"zh": "公开披露个人信息", "en": "public disclosure of personal information"}
	}
	return nil
}

func destination(l lang, x manifest.CrossBorder) string {
	if len(x.To) == 0 {
		return l.t(x.ToText)
	}
	return l.countryList(x.To)
}

// locate finds the entities a change's path lies in, in the new version
// and, for what the new one no longer has, in the old, and names them.
func locate(path string, oldM, newM *manifest.Manifest) About {
	a := walk(path, newM)
	if o := walk(path, oldM); len(o.Items) > len(a.Items) || len(o.Items) == len(a.Items) && len(o.Field) > len(a.Field) {
		// The old version reaches further: the new one removed what the
		// path ends in. Names the new version still has are preferred.
		for i := range min(len(a.Items), len(o.Items)) {
			if a.Items[i].Name != nil {
				o.Items[i].Name = a.Items[i].Name
			}
		}
		a = o
	}
	return a
}

// step is one step of a change path: a field name or a list key.
type step struct {
	name  string
	key   string
	isKey bool
}

// steps splits a path as comparer.value writes it: fields joined by
// dots, list elements keyed in brackets (keys may hold dots), map keys
// as further dotted steps.
func steps(path string) []step {
	var out []step
	for len(path) > 0 {
		switch path[0] {
		case '.':
			path = path[1:]
		case '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return out
			}
			out = append(out, step{key: path[1:end], isKey: true})
			path = path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			out = append(out, step{name: path[:end]})
			path = path[end:]
		}
	}
	return out
}

// walk follows path through m, collecting the list elements it passes.
// It stops where m has nothing at the path.
func walk(path string, m *manifest.Manifest) About {
	ss := steps(path)
	if len(ss) == 0 || ss[0].isKey {
		return About{}
	}
	a := About{Section: ss[0].name}
	cur := reflect.ValueOf(*m)
	list := ""
	var fields []string
	for i, s := range ss {
		for cur.Kind() == reflect.Pointer {
			if cur.IsNil() {
				return a
			}
			cur = cur.Elem()
		}
		switch {
		case s.isKey && cur.Kind() == reflect.Slice:
			el, ok := element(cur, s.key)
			if !ok {
				return a
			}
			a.Items = append(a.Items, Item{List: list, ID: s.key, Name: nameOf(el, list, m)})
			a.Field, fields = "", nil
			cur = el
		case !s.isKey && cur.Kind() == reflect.Struct:
			f, ok := fieldByKey(cur, s.name)
			if !ok {
				return a
			}
			cur, list = f, s.name
			if i > 0 {
				fields = append(fields, s.name)
				a.Field = strings.Join(fields, ".")
			}
		case !s.isKey && cur.Kind() == reflect.Map:
			// A map's key (a jurisdiction in bases, a section in
			// statements) belongs to the field it is in.
			v := cur.MapIndex(reflect.ValueOf(s.name))
			if !v.IsValid() {
				return a
			}
			cur = v
		default:
			return a
		}
	}
	return a
}

func fieldByKey(v reflect.Value, key string) (reflect.Value, bool) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if manifest.FieldKey(t.Field(i)) == key {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

// element finds a list element by the key comparer.slice gave it: its
// entity key, else its position.
func element(list reflect.Value, key string) (reflect.Value, bool) {
	keyOf := entityKey(list.Type().Elem())
	for i := 0; i < list.Len(); i++ {
		k := ""
		if keyOf != nil {
			k = keyOf(list.Index(i))
		}
		if k == "" {
			k = strconv.Itoa(i)
		}
		if k == key {
			return list.Index(i), true
		}
	}
	return reflect.Value{}, false
}

// nameOf is what a list element is called, in each language: its name,
// title or label from the manifest, or for an entity without one the
// names of what it is made of (a collection by its categories, a
// retention rule by its purposes). nil when it has none.
func nameOf(v reflect.Value, list string, m *manifest.Manifest) manifest.Text {
	both := func(f func(l lang) string) manifest.Text {
		zh, en := f(langOf("zh-CN")), f(langOf("en"))
		if zh == "" && en == "" {
			return nil
		}
		return manifest.Text{"zh": zh, "en": en}
	}
	categories := func(ids []string) manifest.Text {
		return both(func(l lang) string {
			var names []string
			for _, id := range ids {
				if c, ok := m.Category(id); ok {
					names = append(names, l.t(c.Name))
				}
			}
			return l.join(names)
		})
	}
	purposes := func(ids []string) manifest.Text {
		return both(func(l lang) string {
			var names []string
			for _, id := range ids {
				if p, ok := m.Purpose(id); ok {
					names = append(names, l.t(p.Name))
				}
			}
			return l.join(names)
		})
	}
	switch x := v.Interface().(type) {
	case manifest.Collection:
		return categories(x.Categories)
	case manifest.Retention:
		if n := purposes(x.Purposes); n != nil {
			return n
		}
		return categories(x.Categories)
	case manifest.Location:
		if len(x.Where) > 0 {
			return x.Where
		}
		if len(x.Region) > 0 {
			return x.Region
		}
		return both(func(l lang) string { return l.country(x.Country) })
	case manifest.CrossBorder:
		return both(func(l lang) string { return destination(l, x) })
	case manifest.Channel:
		if len(x.Label) > 0 {
			return x.Label
		}
		return both(func(l lang) string { return l.v("channel_kind", x.Kind) })
	case manifest.Right:
		return both(func(l lang) string { return l.v("right", x.Right) })
	case manifest.Permission:
		return both(func(l lang) string { return l.v("permission", x.Permission) })
	case manifest.Measure:
		return both(func(l lang) string { return l.v("measure", x.Kind) })
	case manifest.Signal:
		return both(func(l lang) string { return l.word(signalWords, x.Signal) })
	case manifest.MinorRule:
		for _, j := range m.Jurisdiction {
			if j.ID == x.Jurisdiction {
				return j.Name
			}
		}
		return nil
	case manifest.Ref:
		if len(x.Text) > 0 {
			return x.Text
		}
		b := manifest.BuiltinVocabulary()
		for _, builtin := range [][]manifest.Ref{b.RefusalGrounds, b.LegalHolds, b.NoConsentCases, b.SharingExceptions} {
			if t := manifest.ResolveRef(x, builtin); t != nil {
				return t
			}
		}
		return nil
	case manifest.VaultField:
		if c, ok := m.Category(x.Category); ok {
			return c.Name
		}
		return nil
	case manifest.VaultClear:
		return purposes([]string{x.Purpose})
	case manifest.Definition:
		return x.Term
	case manifest.Assessment:
		return x.Subject
	}
	if v.Kind() == reflect.Struct {
		for _, f := range []string{"Name", "Title", "Label"} {
			if fv := v.FieldByName(f); fv.IsValid() {
				if t, ok := fv.Interface().(manifest.Text); ok && len(t) > 0 {
					return t
				}
			}
		}
	}
	return nil
}

// sectionWords name the manifest's top-level parts, for a change that
// lies in none of their entities.
var sectionWords = map[string][2]string{
	"custos":           {"清单格式", "manifest format"},
	"policy":           {"本政策", "this policy"},
	"controllers":      {"个人信息处理者", "who is responsible"},
	"contact":          {"联系方式", "how to contact us"},
	"complaints":       {"投诉渠道", "complaints"},
	"subjects":         {"个人信息主体", "whose information"},
	"categories":       {"个人信息类别", "categories of personal information"},
	"services":         {"服务与功能", "services and features"},
	"purposes":         {"处理目的", "purposes"},
	"no_consent_cases": {"无需同意的情形", "cases that need no consent"},
	"cookies":          {"Cookie 及同类技术", "cookies and similar technologies"},
	"signals":          {"浏览器信号", "browser signals"},
	"sdks":             {"第三方 SDK", "third-party SDKs"},
	"recipients":       {"个人信息的接收方", "recipients of personal information"},
	"sharing":          {"共享、转让和公开披露", "sharing, transfer and disclosure"},
	"security":         {"安全保护措施", "security measures"},
	"storage":          {"存储地点与跨境传输", "storage and transfers abroad"},
	"retention":        {"保存期限", "how long information is kept"},
	"legal_holds":      {"延长保存的情形", "when information is kept longer"},
	"rights":           {"您的权利", "your rights"},
	"minors":           {"未成年人", "minors"},
	"assessments":      {"个人信息保护影响评估", "impact assessments"},
	"definitions":      {"定义", "definitions"},
	"statements":       {"补充说明", "further statements"},
	"extra_sections":   {"其他章节", "other sections"},
	"jurisdictions":    {"适用地区", "jurisdictions"},
	"legal_bases":      {"法律依据", "legal bases"},
	"vault":            {"加密保管的个人信息", "personal information kept sealed"},
}

// listWords name one entity of a list, by the list's key.
var listWords = map[string][2]string{
	"controllers":      {"个人信息处理者", "controller"},
	"affiliates":       {"关联公司", "affiliate"},
	"channels":         {"联系渠道", "contact channel"},
	"subjects":         {"个人信息主体类别", "kind of person"},
	"categories":       {"个人信息类别", "category of personal information"},
	"services":         {"服务", "service"},
	"collects":         {"收集的个人信息", "information collected"},
	"permissions":      {"设备权限", "device permission"},
	"purposes":         {"处理目的", "purpose"},
	"items":            {"Cookie 或同类技术", "cookie or similar technology"},
	"signals":          {"浏览器信号", "browser signal"},
	"sdks":             {"第三方 SDK", "third-party SDK"},
	"recipients":       {"接收方", "recipient"},
	"exceptions":       {"无需同意的情形", "case that needs no consent"},
	"measures":         {"安全措施", "security measure"},
	"certifications":   {"认证", "certification"},
	"locations":        {"存储地点", "storage location"},
	"cross_border":     {"跨境传输", "transfer abroad"},
	"retention":        {"保存期限", "retention rule"},
	"legal_holds":      {"延长保存的情形", "reason to keep information longer"},
	"offered":          {"权利", "right"},
	"deadlines":        {"答复期限", "response deadline"},
	"refusal_grounds":  {"拒绝请求的理由", "ground for refusing a request"},
	"jurisdictions":    {"适用地区", "jurisdiction"},
	"assessments":      {"影响评估", "impact assessment"},
	"definitions":      {"定义", "definition"},
	"extra_sections":   {"章节", "section"},
	"no_consent_cases": {"无需同意的情形", "case that needs no consent"},
	"vault":            {"加密保管的个人信息", "personal information kept sealed"},
	"clear":            {"可查看明文的目的", "purpose it is read in clear for"},
}

// fieldWords name the fields a change may touch; a field without words
// is described by the entity it lies in.
var fieldWords = map[string][2]string{
	"name":                 {"名称", "name"},
	"short_name":           {"简称", "short name"},
	"title":                {"标题", "title"},
	"description":          {"说明", "description"},
	"version":              {"版本号", "version number"},
	"effective":            {"生效日期", "date it takes effect"},
	"updated":              {"更新日期", "date of the update"},
	"languages":            {"语言版本", "languages"},
	"prevailing_language":  {"以哪种语言版本为准", "which language prevails"},
	"scope":                {"适用范围", "scope"},
	"exclusions":           {"不适用的情形", "what it does not cover"},
	"intro":                {"引言", "introduction"},
	"url":                  {"发布地址", "where it is published"},
	"archive_url":          {"历史版本地址", "where earlier versions are kept"},
	"updates":              {"变更规则", "how it changes"},
	"material_changes":     {"重大变更的范围", "what counts as a material change"},
	"notice":               {"变更通知方式", "how you are told of a change"},
	"acceptance":           {"变更后如何征得同意", "how a change is accepted"},
	"notice_days":          {"提前通知的天数", "days of notice"},
	"related_agreements":   {"相关协议", "related agreements"},
	"role":                 {"角色", "role"},
	"address":              {"地址", "address"},
	"country":              {"所在国家或地区", "country"},
	"website":              {"网站", "website"},
	"kind":                 {"类型", "kind"},
	"value":                {"地址或号码", "address or number"},
	"label":                {"名称", "name"},
	"department":           {"负责部门", "responsible department"},
	"responsible_person":   {"负责人", "responsible person"},
	"response":             {"答复时间", "reply time"},
	"eu_representative":    {"欧盟代表", "EU representative"},
	"regulators":           {"监管部门", "authorities"},
	"court":                {"管辖法院", "competent court"},
	"governing_law":        {"适用法律", "governing law"},
	"categories":           {"个人信息类别", "categories of personal information"},
	"purposes":             {"处理目的", "purposes"},
	"collects":             {"收集的个人信息", "information collected"},
	"permissions":          {"设备权限", "device permissions"},
	"necessity":            {"是否必须提供", "whether it is required"},
	"sources":              {"信息来源", "where it comes from"},
	"source_detail":        {"信息来源", "where it comes from"},
	"when":                 {"收集时机", "when it is collected"},
	"condition":            {"收集条件", "when it is collected"},
	"if_refused":           {"拒绝提供的影响", "what refusing costs"},
	"note":                 {"补充说明", "note"},
	"separate_consent":     {"单独同意", "separate consent"},
	"basis":                {"法律依据", "legal basis"},
	"bases":                {"各地区的法律依据", "legal basis by jurisdiction"},
	"legitimate_interest":  {"合法利益", "legitimate interest"},
	"direct_marketing":     {"直接营销", "direct marketing"},
	"automated_decision":   {"自动化决策", "automated decision-making"},
	"opt_out":              {"退出方式", "how to opt out"},
	"duration":             {"有效期", "how long it lasts"},
	"provider":             {"提供方", "provider"},
	"refuses":              {"拒绝的处理目的", "purposes it refuses"},
	"stance":               {"处理方式", "what we do"},
	"company":              {"提供方", "company"},
	"function":             {"功能", "what it does"},
	"platforms":            {"适用平台", "platforms"},
	"policy_url":           {"隐私政策地址", "privacy policy"},
	"auto_start":           {"自启动", "starting by itself"},
	"safeguards":           {"保护措施", "safeguards"},
	"deidentified":         {"是否去标识化", "whether it is de-identified"},
	"endpoint":             {"通知地址", "address for notices"},
	"notice_email":         {"通知地址", "address for notices"},
	"to":                   {"目的地", "destination"},
	"to_text":              {"目的地", "destination"},
	"mechanism":            {"出境方式", "legal mechanism"},
	"recipient":            {"接收方", "recipient"},
	"period":               {"保存期限", "retention period"},
	"until":                {"保存至", "kept until"},
	"from":                 {"起算时点", "counted from"},
	"after":                {"期满后的处理", "what happens at the end"},
	"reason":               {"理由", "reason"},
	"count":                {"时长", "length"},
	"unit":                 {"计算单位", "unit"},
	"extension":            {"延长期限", "extension"},
	"extension.count":      {"可延长的时长", "length of the extension"},
	"extension.unit":       {"可延长的时长", "length of the extension"},
	"clock":                {"等待期间如何计时", "what waiting does to the clock"},
	"rights":               {"适用的权利", "rights it applies to"},
	"jurisdictions":        {"适用地区", "where it applies"},
	"self_service":         {"自助方式", "how to do it yourself"},
	"how":                  {"行使方式", "how to exercise it"},
	"conditions":           {"条件", "conditions"},
	"verification":         {"身份核验", "identity verification"},
	"account_cancellation": {"注销账号", "account cancellation"},
	"fees":                 {"收费", "fees"},
	"limits":               {"权利的限制", "limits on rights"},
	"deceased":             {"近亲属的权利", "close relatives' rights"},
	"age_threshold":        {"年龄界限", "age threshold"},
	"unknown_age":          {"年龄不明时的处理", "when age is not known"},
	"guardian_consent":     {"监护人同意", "guardian's consent"},
	"risk":                 {"风险等级", "risk"},
	"date":                 {"日期", "date"},
	"text":                 {"内容", "text"},
	"body":                 {"正文", "text"},
	"term":                 {"术语", "term"},
	"measures":             {"安全措施", "security measures"},
	"certifications":       {"认证", "certifications"},
	"incident":             {"安全事件的处置", "security incidents"},
	"locations":            {"存储地点", "storage locations"},
	"cross_border":         {"跨境传输", "transfers abroad"},
	"discontinuation":      {"停止运营时的处理", "when the service ends"},
	"public_disclosure":    {"公开披露", "public disclosure"},
	"transfer":             {"转让", "transfer"},
	"principles":           {"共享原则", "principles of sharing"},
	"channels":             {"受理渠道", "channels"},
	"values":               {"地址或号码", "address or number"},
	"law":                  {"适用法律", "law"},
	"controller":           {"个人信息处理者", "controller"},
	"children_policy_url":  {"儿童个人信息保护规则", "rules for children's information"},
	"noun":                 {"文件名称", "what the document calls itself"},
	"basis_inferred":       {"法律依据", "legal basis"},
	"department_duties":    {"负责部门的职责", "the department's duties"},
	"management":           {"管理方式", "how to manage them"},
	"third_party_links":    {"第三方链接", "third-party links"},
	"entrusting_terms":     {"委托处理的约定", "terms of entrusted processing"},
	"independent_terms":    {"独立接收方的义务", "independent recipients' duties"},
	"sdk_checks":           {"对第三方 SDK 的管理", "checks on SDKs"},
	"liability":            {"责任", "liability"},
	"shortest_necessary":   {"最短必要期限", "the shortest time necessary"},
	"expiry_clause":        {"期满后的处理", "what happens at the end"},
	"transfer_safeguards":  {"跨境传输的保障", "safeguards for transfers abroad"},
	"refusal_notice":       {"拒绝请求时的告知", "telling you when a request is refused"},
	"withdrawal_effect":    {"撤回同意的效果", "what withdrawing consent does"},
	"delete_if_discovered": {"发现后删除", "deletion once discovered"},
	"mask":                 {"遮盖方式", "how it is masked"},
	"clear":                {"可查看明文的角色", "who reads it in clear"},
	"roles":                {"可查看明文的角色", "who reads it in clear"},
	"category":             {"个人信息类别", "category of personal information"},
	"field":                {"字段", "field"},
}

// signalWords name the browser signals.
var signalWords = map[string][2]string{
	manifest.SignalGPC: {"“全球隐私控制”（GPC）", "Global Privacy Control (GPC)"},
	manifest.SignalDNT: {"“请勿追踪”（DNT）", "Do Not Track (DNT)"},
}
