package policy

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Languages the renderer writes.
var Languages = []string{"zh-CN", "zh-Hant", "en"}

// lang holds what differs between languages beyond the words themselves.
// Traditional Chinese (zh-Hant) writes the simplified wording through the
// conversion table in hant_table.go; it shares everything else with zh-CN.
type lang struct {
	tag  string            // zh-CN, zh-Hant or en
	key  string            // Text key: zh, zh-Hant or en
	noun *strings.Replacer // renames "this policy" to what the document calls itself
}

// nouns rewrite the renderer's fixed wording, written for a policy, for a
// document that calls itself something else (manifest policy.noun).
var nouns = map[string]map[string]*strings.Replacer{
	"statement": {
		manifest.KeyZH:     strings.NewReplacer("隐私政策", "隐私声明", "本政策", "本声明", "更新后的政策", "更新后的声明"),
		manifest.KeyZHHant: strings.NewReplacer("隱私政策", "隱私聲明", "本政策", "本聲明", "更新後的政策", "更新後的聲明"),
		manifest.KeyEN:     strings.NewReplacer("privacy policy", "privacy statement", "this policy", "this statement", "This policy", "This statement", "updated policy", "updated statement"),
	},
	"notice": {
		manifest.KeyZH:     strings.NewReplacer("隐私政策", "隐私通知", "本政策", "本通知", "更新后的政策", "更新后的通知"),
		manifest.KeyZHHant: strings.NewReplacer("隱私政策", "隱私通知", "本政策", "本通知", "更新後的政策", "更新後的通知"),
		manifest.KeyEN:     strings.NewReplacer("privacy policy", "privacy notice", "this policy", "this notice", "This policy", "This notice", "updated policy", "updated notice"),
	},
}

// withNoun returns l writing the document's own noun.
func (l lang) withNoun(noun string) lang {
	if r, ok := nouns[noun]; ok {
		l.noun = r[l.key]
	}
	return l
}

// h writes fixed simplified-Chinese wording in this language's script:
// as it is, or in traditional characters for zh-Hant.
func (l lang) h(s string) string {
	if l.key != manifest.KeyZHHant {
		return s
	}
	if t, ok := hantTable[s]; ok {
		return t
	}
	return s
}

func newLang(tag string) (lang, error) {
	switch tag {
	case "zh-CN", "zh":
		return lang{tag: "zh-CN", key: manifest.KeyZH}, nil
	case "zh-Hant", "zh-TW", "zh-HK", "zh-MO":
		return lang{tag: "zh-Hant", key: manifest.KeyZHHant}, nil
	case "en":
		return lang{tag: "en", key: manifest.KeyEN}, nil
	}
	return lang{}, fmt.Errorf("unsupported language %q: want zh-CN, zh-Hant or en", tag)
}

// zh reports whether the language is Chinese, in either script.
func (l lang) zh() bool { return l.key != manifest.KeyEN }

// s picks the Chinese or English form of a phrase; format verbs apply.
func (l lang) s(zh, en string, args ...any) string {
	f := en
	if l.zh() {
		f = l.h(zh)
	}
	if l.noun != nil {
		f = l.noun.Replace(f)
	}
	if len(args) == 0 {
		return f
	}
	return fmt.Sprintf(f, args...)
}

// t returns a manifest text in this language.
func (l lang) t(t manifest.Text) string { return t.In(l.tag) }

// join lists items: "A, B and C" / "A、B和C".
func (l lang) join(items []string) string {
	return l.joinWith(items, l.s("和", "and"))
}

// joinOr lists alternatives: "A, B or C" / "A、B或C".
func (l lang) joinOr(items []string) string {
	return l.joinWith(items, l.s("或", "or"))
}

func (l lang) joinWith(items []string, conj string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	if l.zh() {
		return strings.Join(items[:len(items)-1], "、") + conj + items[len(items)-1]
	}
	if len(items) == 2 {
		return items[0] + " " + conj + " " + items[1]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + conj + " " + items[len(items)-1]
}

// sentence ends a clause with the language's full stop unless it has one.
func (l lang) sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	last := []rune(s)[len([]rune(s))-1]
	if strings.ContainsRune(".。!！?？;；:：", last) {
		return s
	}
	return s + l.s("。", ".")
}

// para joins sentences into one paragraph.
func (l lang) para(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, l.sentence(l.capitalise(p)))
		}
	}
	if l.zh() {
		return strings.Join(out, "")
	}
	return strings.Join(out, " ")
}

// clause strips the closing punctuation of a text so it can sit inside a sentence.
func (l lang) clause(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), ".。;；")
}

// completes returns text as a sentence that follows lead ("If you do not
// provide it, "), unless the text already reads as a sentence of its own.
func (l lang) completes(leadZH, leadEN, text string, ownZH ...string) string {
	text = strings.TrimSpace(text)
	if text == "" {
		return ""
	}
	if l.zh() {
		for _, p := range ownZH {
			if strings.HasPrefix(text, l.h(p)) {
				return text
			}
		}
		return l.h(leadZH) + text
	}
	if r := []rune(text)[0]; unicode.IsUpper(r) {
		return text
	}
	return leadEN + text
}

// capitalise upper-cases the first letter of an English sentence, unless its
// first word is a name with capitals of its own (iOS, eBay).
func (l lang) capitalise(s string) string {
	if l.zh() || s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	word := s
	if i := strings.IndexAny(s, " ,;:"); i >= 0 {
		word = s[:i]
	}
	if strings.ToLower(word) != word {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// date formats YYYY-MM-DD as 2022年3月17日 / 17 March 2022.
func (l lang) date(d manifest.Date) string {
	t, err := time.Parse(time.DateOnly, string(d))
	if err != nil {
		return string(d)
	}
	if l.zh() {
		return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), t.Month(), t.Year())
}

// count writes a quantity with its unit: 15个工作日 / 15 working days.
func (l lang) count(n int, unit string) string {
	type forms struct{ zh, one, many string }
	units := map[string]forms{
		"calendar_days": {"日", "day", "days"},
		"days":          {"日", "day", "days"},
		"working_days":  {"个工作日", "working day", "working days"},
		"months":        {"个月", "month", "months"},
		"years":         {"年", "year", "years"},
	}
	f, ok := units[unit]
	if !ok {
		return fmt.Sprintf("%d %s", n, unit)
	}
	if l.zh() {
		if unit == "calendar_days" || unit == "days" {
			return fmt.Sprintf("%d日", n)
		}
		return fmt.Sprintf("%d%s", n, l.h(f.zh))
	}
	if n == 1 {
		return "1 " + f.one
	}
	return fmt.Sprintf("%d %s", n, f.many)
}

// countries the renderer names; other codes are printed as they are.
var countries = map[string][2]string{
	"CN": {"中华人民共和国境内", "the People's Republic of China"},
	"HK": {"中国香港特别行政区", "the Hong Kong SAR"},
	"MO": {"中国澳门特别行政区", "the Macao SAR"},
	"TW": {"中国台湾地区", "Taiwan, China"},
	"SG": {"新加坡", "Singapore"},
	"US": {"美国", "the United States"},
	"DE": {"德国", "Germany"},
	"IE": {"爱尔兰", "Ireland"},
	"NL": {"荷兰", "the Netherlands"},
	"FR": {"法国", "France"},
	"GB": {"英国", "the United Kingdom"},
	"JP": {"日本", "Japan"},
	"KR": {"韩国", "South Korea"},
	"MY": {"马来西亚", "Malaysia"},
	"TH": {"泰国", "Thailand"},
	"ID": {"印度尼西亚", "Indonesia"},
	"IN": {"印度", "India"},
	"AU": {"澳大利亚", "Australia"},
	"RU": {"俄罗斯", "Russia"},
	"BR": {"巴西", "Brazil"},
	"AE": {"阿联酋", "the United Arab Emirates"},
	"SA": {"沙特阿拉伯", "Saudi Arabia"},
	"VN": {"越南", "Vietnam"},
}

func (l lang) country(code string) string {
	if n, ok := countries[code]; ok {
		if l.zh() {
			return l.h(n[0])
		}
		return n[1]
	}
	return code
}

func (l lang) countryList(codes []string) string {
	names := make([]string, len(codes))
	for i, c := range codes {
		names[i] = l.country(c)
	}
	return l.join(names)
}

func bold(s string) string {
	if s == "" {
		return s
	}
	return "**" + s + "**"
}
