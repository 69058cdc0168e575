package manifest

import "strings"

// Text keys: each language a manifest may be published in has one.
const (
	KeyZH     = "zh"      // simplified Chinese (zh-CN)
	KeyZHHant = "zh-Hant" // traditional Chinese
	KeyEN     = "en"
)

// TextKey maps a language tag (zh-CN, zh-Hant, zh-TW, zh-HK, en, …) to the
// key its Text entries use.
func TextKey(lang string) string {
	switch {
	case lang == KeyZHHant || strings.HasPrefix(lang, "zh-Hant") || lang == "zh-TW" || lang == "zh-HK" || lang == "zh-MO":
		return KeyZHHant
	case strings.HasPrefix(lang, "zh"):
		return KeyZH
	}
	return KeyEN
}

// fallbacks are the keys tried, in order, for each key.
var fallbacks = map[string][]string{
	KeyZH:     {KeyZH, KeyEN, KeyZHHant},
	KeyZHHant: {KeyZHHant, KeyZH, KeyEN},
	KeyEN:     {KeyEN, KeyZH, KeyZHHant},
}

// In returns the text in the language lang (a tag such as zh-CN, zh-Hant
// or en, or a key). A text without that language falls back to another
// one, so a name is never empty when the manifest has it in some language;
// a validated manifest has every text in each of its policy languages, so
// the fallback only serves pages in a language the policy is not published
// in. Every reader of manifest texts picks through this one method.
func (t Text) In(lang string) string {
	for _, k := range fallbacks[TextKey(lang)] {
		if s := t[k]; s != "" {
			return s
		}
	}
	return ""
}
