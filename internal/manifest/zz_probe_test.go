package manifest

import (
	"fmt"
	"testing"
)

func TestZZProbe(t *testing.T) {
	cases := []struct{ name string; rep []string; add string }{
		{"purpose no id", []string{"  - id: registration\n    name: {zh: 注册账号", "  - name: {zh: 注册账号"}, ""},
		{"right enum", []string{"{right: access, channels: [mail]}", "{right: acces, channels: [mail]}"}, ""},
		{"second doc broken", nil, "---\nfoo: ["},
		{"empty text", []string{"title: {zh: 示例隐私政策, en: Example Privacy Policy}", "title: {}"}, ""},
		{"null text", []string{"title: {zh: 示例隐私政策, en: Example Privacy Policy}", "title:"}, ""},
		{"custos null", []string{"custos: 1", "custos:"}, ""},
		{"empty list required", []string{"  deadlines:\n    - {count: 15, unit: working_days}\n", "  deadlines: []\n"}, ""},
		{"purposes empty", []string{"        purposes: [registration]\n", "        purposes: []\n", "  - id: registration\n    name: {zh: 注册账号, en: account registration}\n    basis: contract\n", "  []\n", "    purposes: [registration]\n    until", "    categories: [basic.phone]\n    until"}, ""},
		{"count 0 ext", []string{"{count: 15, unit: working_days}", "{count: 15, unit: working_days, extension: {count: 0, unit: months}}"}, ""},
		{"dup deadline", []string{"{count: 15, unit: working_days}", "{count: 15, unit: working_days}\n    - {count: 10, unit: working_days}"}, ""},
		{"enum lang", []string{"languages: [zh-CN, en]", "languages: [zh-CN, fr]"}, ""},
		{"minors null", []string{"minors:\n  stance: adults_only", "minors: {}"}, ""},
	}
	for _, c := range cases {
		fmt.Println("#", c.name)
		for _, l := range problemLines(t, edited(t, c.rep, c.add)) { fmt.Println("   ", l) }
	}
}
