package manifest

import "testing"

func TestTextIn(t *testing.T) {
	both := Text{"zh": "中文", "en": "English"}
	tests := []struct {
		name string
		text Text
		lang string
		want string
	}{
		{"zh tag", both, "zh-CN", "中文"},
		{"zh key", both, "zh", "中文"},
		{"en", both, "en", "English"},
		{"unknown tag reads English", both, "fr", "English"},
		{"missing zh falls back to en", Text{"en": "only"}, "zh-CN", "only"},
		{"missing en falls back to zh", Text{"zh": "仅中文"}, "en", "仅中文"},
		{"empty", nil, "en", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.text.In(tt.lang); got != tt.want {
				t.Errorf("In(%q) = %q, want %q", tt.lang, got, tt.want)
			}
		})
	}
}
