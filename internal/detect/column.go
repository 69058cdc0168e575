package detect

import (
	"strings"
	"unicode/utf8"
)

// A nameRule proposes a category when a column name contains its phrase.
//
// English phrases are matched on words: the name is split on separators and
// camelCase, run-together words are segmented with the rules' own vocabulary
// ("phonenumber" → phone number), and abbreviations are normalised ("addr" →
// address, "no"/"num" → number). Matching is greedy, longest phrase first,
// left to right, so "ip address" is an IP address and not an address, and
// "id card number" is an ID number and not a card number. Chinese keywords
// are matched the same way on the lower-cased name itself.
//
// A rule whose category is empty names something that is not personal
// information ("file name", "服务器地址"); matching it keeps its words from
// being read as a shorter, personal phrase.
type nameRule struct {
	category string
	conf     float64
	en       []string // normalised words, or nil
	zh       string   // keyword in the lower-cased name, or ""

	first     bool            // the phrase must open the name: a bare "name" is a person's, "file_name" is not
	notBefore map[string]bool // words that, just before the phrase, make it about something else
	notAfter  map[string]bool // same, just after
}

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// Words around a phrase that make the column about the data rather than the
// data itself: "is_email_verified", "phone_country_code", "max_phone_count",
// or a key pointing at it elsewhere: "address_id".
var (
	genericNotBefore = set("is", "has", "allow", "enable", "need", "require", "max", "min", "default", "show", "hide")
	genericNotAfter  = set("verified", "verify", "status", "flag", "count", "type", "enabled", "visible", "valid",
		"validated", "confirmed", "required", "format", "length", "pattern", "template", "regex", "policy",
		"setting", "settings", "config", "updated", "update", "changed", "modified", "domain", "provider",
		"server", "host", "port", "prefix", "code", "country", "area", "model", "brand", "os", "version",
		"platform", "vendor", "id", "ids")
	// Infrastructure words: a server's address is not a person's.
	infraWords = set("server", "host", "gateway", "dns", "proxy", "router", "node", "peer", "cluster", "bind",
		"listen", "web", "url", "callback", "redirect", "endpoint", "smtp", "api", "wallet", "contract",
		"memory", "base", "broadcast", "network", "net", "hash", "local", "public", "private", "internal",
		"external", "service", "db", "database", "redis", "kafka", "mq", "master", "slave", "replica")
)

// normalise maps abbreviations to the word the rules use.
var normalise = map[string]string{
	"addr": "address", "adr": "address", "adress": "address",
	"no": "number", "num": "number", "nbr": "number", "nr": "number", "numb": "number",
	"tel": "phone", "telephone": "phone", "phn": "phone", "mob": "mobile",
	"acct": "account", "usr": "user", "pwd": "password", "passwd": "password", "pword": "password",
	"bday": "birthday", "dt": "date", "img": "image", "pic": "picture", "photo": "picture",
	"lat": "latitude", "lng": "longitude", "lon": "longitude",
	"licence": "license", "emailaddr": "email", "cust": "customer", "emp": "employee", "stu": "student",
	"cert": "certificate", "identification": "identity", "ident": "identity",
}

// extraWords join the segmentation vocabulary so that run-together names made
// of non-personal words ("filename", "tablename") split and fail to match.
var extraWords = []string{
	"file", "table", "column", "field", "schema", "class", "key", "product", "company", "org", "dept",
	"app", "bucket", "display", "user", "login", "account", "id", "name", "code", "time", "at", "created",
	"updated", "is", "has", "type", "status", "verified", "hash", "md5", "sha256", "encrypted", "enc", "mask",
	"masked", "plain", "cipher", "server", "host", "item", "goods", "shop", "store", "brand", "category",
	"role", "group", "project", "task", "job", "event", "tag", "host", "domain", "link", "url", "bank",
	"contact", "home", "work", "office", "shipping", "billing", "delivery", "receiver", "sender",
}

func en(cat string, conf float64, phrases ...string) []nameRule {
	out := make([]nameRule, 0, len(phrases))
	for _, p := range phrases {
		out = append(out, nameRule{category: cat, conf: conf, en: strings.Fields(p)})
	}
	return out
}

func zh(cat string, conf float64, keywords ...string) []nameRule {
	out := make([]nameRule, 0, len(keywords))
	for _, k := range keywords {
		out = append(out, nameRule{category: cat, conf: conf, zh: k})
	}
	return out
}

func with(rules []nameRule, f func(*nameRule)) []nameRule {
	for i := range rules {
		f(&rules[i])
	}
	return rules
}

// nameRules is the whole name vocabulary. Decisions worth knowing:
//   - "username", "user_name", "login_name" and 用户名 are account identifiers
//     (account.id), not a person's name: in most schemas they hold the login.
//   - A bare "name" is a person's name only when it opens the column name
//     ("name", "name_en"); after any other word ("file_name", "product_name")
//     it is not, unless that word names a person ("first_name", "customer_name").
//   - "user_id" and other surrogate keys are not proposed: they point at the
//     person's data rather than being it, and every table has one.
//   - "ssn" is a social-security number (identity.social_security), not a PRC ID.
//   - "ip" is a word, never a substring: "zip", "vip", "description" do not match.
var nameRules = concat(
	// Names.
	with(en(catName, 0.6, "name", "names"), func(r *nameRule) { r.first = true }),
	en(catName, 0.95, "first name", "last name", "full name", "real name", "given name", "family name",
		"middle name", "surname", "sur name", "legal name", "realname", "person name"),
	en(catName, 0.85, "customer name", "contact name", "contact person", "holder name", "card holder",
		"cardholder", "account holder", "recipient name", "receiver name", "consignee", "consignee name",
		"sender name", "employee name", "patient name", "member name", "student name", "owner name",
		"guest name", "passenger name", "applicant name", "buyer name", "bank account name"),
	zh(catName, 0.95, "姓名", "真实姓名", "真名"),
	zh(catName, 0.8, "名字", "联系人姓名", "收货人姓名", "收件人姓名", "持卡人"),
	en(catNickname, 0.9, "nickname", "nick name", "nick"),
	en(catNickname, 0.6, "display name", "screen name", "alias"),
	zh(catNickname, 0.9, "昵称"),
	en(catAccountID, 0.7, "user name", "login name", "login id", "login account", "user account",
		"account name", "account id"),
	zh(catAccountID, 0.7, "用户名", "登录名", "账号", "帐号", "登录账号", "账户名"),

	// Contact details.
	en(catPhone, 0.9, "phone", "phone number", "mobile number", "mobile phone", "cell phone", "cellphone",
		"cell number", "msisdn", "contact number", "contact phone", "phone mobile"),
	with(en(catPhone, 0.85, "mobile"), func(r *nameRule) { r.notAfter = set("app", "device", "system", "network") }),
	en(catPhone, 0.6, "fax", "fax number"),
	zh(catPhone, 0.95, "手机", "手机号", "手机号码", "电话", "电话号码", "联系电话", "移动电话", "座机", "固话"),
	zh(catPhone, 0.6, "联系方式"),
	en(catEmail, 0.95, "email", "emails", "e mail", "email address", "mail address", "mailbox"),
	with(en(catEmail, 0.6, "mail"), func(r *nameRule) { r.notAfter = set("subject", "body", "content", "queue", "log", "sent", "title") }),
	zh(catEmail, 0.95, "邮箱", "电子邮件", "电子邮箱", "邮件地址", "邮箱地址"),
	with(en(catAddress, 0.85, "address", "street", "street address", "residence", "domicile", "home address"),
		func(r *nameRule) { r.notBefore = infraWords }),
	zh(catAddress, 0.9, "地址", "住址", "家庭住址", "收货地址", "通讯地址", "详细地址", "居住地", "户籍地址", "联系地址"),
	en(catRegion, 0.6, "province", "city", "region", "district", "county"),
	en(catRegion, 0.5, "zip", "zip code", "zipcode", "postcode", "post code", "postal code"),
	zh(catRegion, 0.6, "省份", "城市", "所在地区", "地区", "区县", "所在地"),
	zh(catRegion, 0.5, "邮编", "邮政编码"),

	// Birth, gender and the like.
	en(catBirthDate, 0.95, "birthday", "birth date", "birthdate", "date of birth", "dob", "birth", "birth time",
		"born", "born on", "birth day"),
	en(catBirthDate, 0.7, "birth year", "year of birth"),
	zh(catBirthDate, 0.95, "生日", "出生日期", "出生年月", "出生时间", "出生年月日"),
	zh(catBirthDate, 0.7, "出生年份"),
	en(catGender, 0.9, "gender", "sex"),
	zh(catGender, 0.9, "性别"),
	en(catAvatar, 0.85, "avatar", "profile picture", "profile image", "head image", "head picture", "headimgurl"),
	zh(catAvatar, 0.9, "头像"),

	// Identity documents.
	en(catIDCard, 0.95, "id card", "idcard", "id card number", "identity card", "identity card number",
		"resident id", "citizen id", "national id", "national id number", "sfz", "sfzh", "sfzhm",
		"shenfenzheng"),
	en(catIDCard, 0.8, "id number", "identity number", "certificate number"),
	zh(catIDCard, 0.95, "身份证", "身份证号", "身份证号码", "居民身份证"),
	zh(catIDCard, 0.7, "证件号", "证件号码"),
	en(catPassport, 0.9, "passport", "passport number"),
	zh(catPassport, 0.9, "护照", "护照号", "护照号码"),
	en(catDriving, 0.9, "driver license", "driving license", "drivers license", "driver license number",
		"driving license number"),
	zh(catDriving, 0.9, "驾驶证", "驾照", "驾驶证号"),
	en(catSocialSec, 0.9, "ssn", "social security", "social security number", "social security card"),
	zh(catSocialSec, 0.9, "社保", "社保卡号", "社会保障号", "社会保障卡号"),

	// Accounts and credentials.
	en(catCredentials, 0.9, "password", "password hash", "passcode", "pin code", "login password"),
	zh(catCredentials, 0.9, "密码"),
	en(catSecurityQA, 0.85, "security question", "security answer", "secret question", "secret answer"),
	zh(catSecurityQA, 0.85, "密保问题", "密保答案"),
	en(catThirdParty, 0.6, "openid", "open id", "unionid", "union id", "wechat", "weixin", "wx openid", "qq",
		"alipay", "alipay id"),
	zh(catThirdParty, 0.7, "微信", "微信号", "qq号", "支付宝账号"),
	with(en(catIP, 0.9, "ip", "ip address", "ipv4", "ipv6", "client ip", "remote ip", "login ip", "last ip",
		"user ip", "register ip", "source ip", "real ip", "visitor ip", "remote address", "client address"),
		func(r *nameRule) { r.notBefore = infraWords }),
	zh(catIP, 0.9, "ip地址", "登录ip", "用户ip"),
	en(catCookie, 0.7, "cookie", "cookie id"),

	// Financial.
	en(catBankAccount, 0.9, "bank card", "bankcard", "bank card number", "bank account", "bank account number",
		"credit card", "credit card number", "debit card", "iban", "bank number"),
	en(catBankAccount, 0.7, "card number"),
	zh(catBankAccount, 0.9, "银行卡", "银行卡号", "银行账号", "银行账户", "开户账号", "信用卡", "信用卡号", "借记卡"),
	zh(catBankAccount, 0.6, "卡号"),

	// Devices.
	en(catDeviceID, 0.85, "device id", "deviceid", "device identifier", "device uuid", "udid", "idfv", "imsi",
		"device token", "device number"),
	zh(catDeviceID, 0.85, "设备号", "设备id", "设备标识", "设备编号", "设备唯一标识", "设备标识符"),
	en(catIMEI, 0.95, "imei", "imei number", "meid"),
	with(en(catMAC, 0.85, "mac", "mac address", "wifi mac", "bluetooth mac", "bt mac"),
		func(r *nameRule) { r.notBefore = set("h", "hmac") }),
	zh(catMAC, 0.9, "mac地址"),
	en(catAndroidID, 0.95, "android id", "androidid"),
	en(catIDFA, 0.95, "idfa"),
	en(catOAID, 0.95, "oaid"),
	en(catSerial, 0.6, "serial number", "device serial", "device serial number"),
	zh(catSerial, 0.6, "序列号", "设备序列号"),
	en(catModel, 0.8, "device model", "phone model", "mobile model"),
	zh(catModel, 0.8, "设备型号", "手机型号", "手机品牌"),
	en(catOS, 0.6, "os version", "system version", "os"),
	zh(catOS, 0.6, "操作系统", "系统版本"),
	en(catBrowser, 0.7, "user agent", "useragent", "ua", "browser"),

	// Location.
	en(catPrecise, 0.85, "latitude", "longitude", "gps", "coordinates", "geo location", "geolocation"),
	zh(catPrecise, 0.85, "经度", "纬度", "经纬度", "定位"),
	en(catCoarse, 0.5, "location"),
	zh(catCoarse, 0.5, "位置"),

	// Health, work, other.
	en(catHeightWt, 0.7, "body height", "body weight", "bmi"),
	zh(catHeightWt, 0.8, "身高", "体重"),
	en(catEducation, 0.7, "education", "education level"),
	en(catEducation, 0.5, "degree"),
	zh(catEducation, 0.8, "学历", "毕业院校"),
	en(catJobTitle, 0.7, "job title", "job position"),
	zh(catJobTitle, 0.7, "职位", "职务"),
	en(catEmployer, 0.7, "employer", "employer name", "work unit"),
	zh(catEmployer, 0.8, "工作单位"),
	en(catMarital, 0.9, "marital", "marital status", "marriage"),
	zh(catMarital, 0.9, "婚姻", "婚姻状况", "婚否"),
	en(catReligion, 0.9, "religion", "religious"),
	zh(catReligion, 0.9, "宗教", "宗教信仰"),

	// Not personal: these consume words a shorter rule would misread.
	en("", 0, "file name", "table name", "column name", "field name", "schema name", "host name", "hostname",
		"domain name", "class name", "key name", "bucket name", "app name", "product name", "company name",
		"org name", "dept name", "birth place", "birthplace", "place of birth", "mail server", "mail host",
		"email server", "email domain", "mac algorithm", "id type", "card type", "serial port"),
	zh("", 0, "网址", "网络地址", "服务器地址", "出生地", "出生地点", "文件名", "表名", "ip段", "卡号类型"),
)

func concat(parts ...[]nameRule) []nameRule {
	var out []nameRule
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

var (
	enIndex  = map[string][]*nameRule{} // first word → rules
	zhRules  []*nameRule
	wordList = map[string]bool{} // segmentation vocabulary
)

func init() {
	for i := range nameRules {
		r := &nameRules[i]
		if r.en != nil {
			enIndex[r.en[0]] = append(enIndex[r.en[0]], r)
			for _, w := range r.en {
				wordList[w] = true
			}
		} else {
			zhRules = append(zhRules, r)
		}
	}
	for _, w := range extraWords {
		wordList[w] = true
	}
	for k, v := range normalise {
		wordList[k] = true
		wordList[v] = true
	}
}

// maxNameLen bounds the column names examined; SQL identifiers are far shorter.
const maxNameLen = 256

// Column proposes categories from a column name, most confident first, one
// finding per category. A table or schema qualifier ("users.email") is ignored.
func Column(name string) []Finding {
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	best := map[string]float64{}
	hit := func(r *nameRule) {
		if r.category != "" && r.conf > best[r.category] {
			best[r.category] = r.conf
		}
	}
	words := splitWords(name)
	for i := 0; i < len(words); {
		r, n := longestEN(words, i)
		if r == nil {
			i++
			continue
		}
		if allowed(r, words, i, i+n) {
			hit(r)
		}
		i += n
	}
	lower := strings.ToLower(name)
	for i := 0; i < len(lower); {
		r := longestZH(lower, i)
		if r == nil {
			_, size := utf8.DecodeRuneInString(lower[i:])
			i += size
			continue
		}
		hit(r)
		i += len(r.zh)
	}
	out := make([]Finding, 0, len(best))
	for c, conf := range best {
		out = append(out, Finding{Category: c, Detector: DetColumnName, Confidence: conf})
	}
	sortFindings(out)
	return out
}

// longestEN returns the longest rule whose phrase starts at words[i].
func longestEN(words []string, i int) (*nameRule, int) {
	var best *nameRule
	n := 0
	for _, r := range enIndex[words[i]] {
		if len(r.en) <= n || i+len(r.en) > len(words) {
			continue
		}
		match := true
		for k, w := range r.en {
			if words[i+k] != w {
				match = false
				break
			}
		}
		if match {
			best, n = r, len(r.en)
		}
	}
	return best, n
}

// longestZH returns the longest keyword rule starting at byte i of s.
// A keyword that starts with a Latin letter must start a word ("ip" is not in "zip").
func longestZH(s string, i int) *nameRule {
	if i > 0 && isAlnum(s[i-1]) && isAlnum(s[i]) {
		return nil
	}
	var best *nameRule
	for _, r := range zhRules {
		if strings.HasPrefix(s[i:], r.zh) && (best == nil || len(r.zh) > len(best.zh)) {
			end := i + len(r.zh)
			if isAlnum(r.zh[len(r.zh)-1]) && end < len(s) && isAlnum(s[end]) {
				continue // "ip" is not in "ipo" either
			}
			best = r
		}
	}
	return best
}

func allowed(r *nameRule, words []string, start, end int) bool {
	if r.first && start != 0 {
		return false
	}
	if start > 0 {
		w := words[start-1]
		if genericNotBefore[w] || r.notBefore[w] {
			return false
		}
	}
	if end < len(words) {
		w := words[end]
		if genericNotAfter[w] || r.notAfter[w] {
			return false
		}
	}
	return true
}

// splitWords splits a column name into lower-case, normalised words: on any
// character that is not an ASCII letter or digit, at camelCase boundaries
// ("userPhone", "IPAddress"), and inside run-together words the vocabulary
// can segment completely ("phonenumber", "filename").
func splitWords(name string) []string {
	name = strings.ReplaceAll(name, "IPv", "Ipv") // keep "IPv4" one word
	var raw []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			raw = append(raw, name[start:end])
			start = -1
		}
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) {
			flush(i)
			continue
		}
		if start >= 0 && isUpper(c) {
			prev := name[i-1]
			nextLower := i+1 < len(name) && isLower(name[i+1])
			if isLower(prev) || isDigit(prev) || (isUpper(prev) && nextLower) {
				flush(i)
			}
		}
		if start < 0 {
			start = i
		}
	}
	flush(len(name))

	var out []string
	for _, w := range raw {
		w = strings.ToLower(w)
		if !wordList[w] {
			// "phone2", "email1": a numbered copy of a known word.
			if t := strings.TrimRight(w, "0123456789"); t != w && wordList[t] {
				w = t
			}
		}
		for _, p := range segment(w) {
			if n, ok := normalise[p]; ok {
				p = n
			}
			out = append(out, strings.Fields(p)...)
		}
	}
	return out
}

// maxSegment bounds the words segment tries to split.
const maxSegment = 40

// segment splits w into the fewest vocabulary words of two or more letters,
// or returns w whole if it is a vocabulary word or cannot be split completely.
func segment(w string) []string {
	if wordList[w] || len(w) > maxSegment || len(w) < 4 {
		return []string{w}
	}
	// cost[i] is the fewest words covering w[:i]; from[i] where the last one starts.
	cost := make([]int, len(w)+1)
	from := make([]int, len(w)+1)
	for i := 1; i <= len(w); i++ {
		cost[i] = -1
		for j := max(0, i-maxSegment); j <= i-2; j++ {
			if cost[j] < 0 || !wordList[w[j:i]] {
				continue
			}
			if cost[i] < 0 || cost[j]+1 < cost[i] {
				cost[i], from[i] = cost[j]+1, j
			}
		}
	}
	if cost[len(w)] < 0 {
		return []string{w}
	}
	var parts []string
	for i := len(w); i > 0; i = from[i] {
		parts = append(parts, w[from[i]:i])
	}
	for l, r := 0, len(parts)-1; l < r; l, r = l+1, r-1 {
		parts[l], parts[r] = parts[r], parts[l]
	}
	return parts
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
