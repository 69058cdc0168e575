package text

import (
	"testing"
)

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		name      string
		s         string
		multiline bool
		want      bool
	}{
		{"plain", "accuracy disputed", false, true},
		{"chinese", "用户要求更正地址", false, true},
		{"empty", "", false, true},
		{"NUL", "a\x00b", true, false},
		{"bell", "a\x07b", true, false},
		{"escape", "a\x1b[31mb", true, false},
		{"DEL", "a\x7fb", true, false},
		{"C1 NEL", "a\u0085b", true, false},
		{"C1 CSI", "a\u009bb", true, false},
		{"invalid UTF-8", "a\xffb", true, false},
		{"truncated UTF-8", "用\xe6\x88", true, false},
		{"surrogate in UTF-8", "a\xed\xa0\x80b", true, false},
		{"newline on one line", "a\nb", false, false},
		{"tab on one line", "a\tb", false, false},
		{"newline, tab, CR in several lines", "a\r\n\tb", true, true},
		{"replacement character itself", "a\ufffdb", false, true},
		{"U+00A0 is not a control", "a\u00a0b", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Valid(tc.s, tc.multiline); got != tc.want {
				t.Errorf("Valid(%q, %v) = %v, want %v", tc.s, tc.multiline, got, tc.want)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		path string
		ok   bool
	}{
		{"plain", `{"name":"ci deploy","role":"service"}`, "", true},
		{"chinese", `{"reason":"用户要求"}`, "", true},
		{"escaped quote", `{"name":"a \"b\""}`, "", true},
		{"NUL escape", `{"name":"ci\u0000"}`, "name", false},
		{"NUL escape in upper case", `{"name":"ci\U0000"}`, "", true}, // not JSON: the decoder says so
		{"newline in a one-line field", `{"name":"a\nb"}`, "name", false},
		{"newline in a reason", `{"reason":"a\nb\tc\r"}`, "", true},
		{"bell in a reason", `{"reason":"a\u0007"}`, "reason", false},
		{"raw invalid UTF-8", "{\"name\":\"a\xffb\"}", "name", false},
		{"raw C1", "{\"name\":\"a\u0085b\"}", "name", false},
		{"in an array", `{"purposes":["analytics","ads\u0000"]}`, "purposes.1", false},
		{"in an array of objects", `{"identities":[{"kind":"email","value":"x@example.com"},{"kind":"phone","value":"1\u0000"}]}`, "identities.1.value", false},
		{"deep in evidence, which may run over lines", `{"evidence":{"dialog":{"text":"line 1\nline 2"}}}`, "", true},
		{"NUL deep in evidence", `{"evidence":{"dialog":{"text":"x\u0000"}}}`, "evidence.dialog.text", false},
		{"bad member name", `{"evidence":{"a\u0000":"x"}}`, "evidence", false},
		{"bad member name at the top", `{"a\u0000":"x"}`, "", false},
		{"member name not fit to repeat", `{"evidence":{"li.na@example.com":"\u0000"}}`, "evidence", false},
		{"after a nested object", `{"a":{"b":[1,2,{"c":true}]},"d":"\u0001"}`, "d", false},
		{"after an array", `{"a":[[1],[2]],"b":["x","\u0001"]}`, "b.1", false},
		{"a bare string", `"\u0000"`, "", false},
		{"numbers and literals", `{"a":1.5e3,"b":null,"c":false,"d":[true]}`, "", true},
		{"not JSON", `{"a":`, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, ok := JSON([]byte(tc.doc))
			if path != tc.path || ok != tc.ok {
				t.Errorf("JSON(%s) = %q, %v, want %q, %v", tc.doc, path, ok, tc.path, tc.ok)
			}
		})
	}
}

func TestValues(t *testing.T) {
	for _, tc := range []struct {
		name  string
		form  map[string][]string
		field string
		ok    bool
	}{
		{"good", map[string][]string{"csrf": {"abc"}, "code": {"123456"}}, "", true},
		{"NUL", map[string][]string{"csrf": {"abc"}, "username": {"ad\x00min"}}, "username", false},
		{"invalid UTF-8", map[string][]string{"value": {"\xff"}}, "value", false},
		{"several lines in a one-line field", map[string][]string{"value": {"a\r\nb"}}, "value", false},
		{"several lines in an explanation", map[string][]string{"explanation": {"a\r\n\tb"}}, "", true},
		{"second value", map[string][]string{"grant": {"analytics", "ads\x01"}}, "grant", false},
		{"bad name", map[string][]string{"a\x00": {"x"}}, "", false},
		{"name not fit to repeat", map[string][]string{"li.na@example.com": {"\x00"}}, "", false},
		{"first bad field by name", map[string][]string{"b": {"\x00"}, "a": {"\x00"}}, "a", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			field, ok := Values(tc.form)
			if field != tc.field || ok != tc.ok {
				t.Errorf("Values(%q) = %q, %v, want %q, %v", tc.form, field, ok, tc.field, tc.ok)
			}
		})
	}
}

func BenchmarkJSON(b *testing.B) {
	for name, doc := range map[string]string{
		"ascii":   `{"subject_id":"u-1042","purposes":["analytics","advertising","push_notifications"]}`,
		"escaped": `{"subject_id":"u-1042","reason":"用户\n要求","purposes":["analytics","advertising","push_notifications"]}`,
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				JSON([]byte(doc))
			}
		})
	}
}
