package manifest

import "strings"

// In returns the text in the language lang (a tag such as zh-CN or en, or
// a key zh or en). A text without that language falls back to the other
// one, so a name is never empty when the manifest has it in some language;
// a validated manifest has every text in each of its policy languages, so
// the fallback only serves pages in a language the policy is not published
// in. Every reader of manifest texts picks through this one method.
func (t Text) In(lang string) string {
	key, other := "en", "zh"
	if strings.HasPrefix(lang, "zh") {
		key, other = "zh", "en"
	}
	if s := t[key]; s != "" {
		return s
	}
	return t[other]
}
