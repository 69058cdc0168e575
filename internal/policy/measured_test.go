package policy

import (
	"strings"
	"testing"
)

// TestRenderMeasuredCases: each sentence a reading of the examples beside
// their sources found rendered without a source, in both languages, and
// each the sources make that was missing.
func TestRenderMeasuredCases(t *testing.T) {
	tests := []struct {
		example, lang string
		absent        []string
		present       []string
	}{
		{"opengemini", "zh-CN",
			[]string{"各语言版本如有不一致", "我们不收取任何费用", "个人信息保护负责部门", "即表示您已充分阅读", "应当重新取得您的同意", "| 法律依据 |", "ZZ", "本政策"},
			[]string{"本声明", "我们会告知您拒绝的理由", "我们处理您的个人信息的法律依据包括"}},
		{"opengemini", "en",
			[]string{"if the language versions differ", "We do not charge", "Personal-information protection department", "you accept the updated policy", "must ask for your consent again", "| Legal basis |", "ZZ", "this policy", "This policy"},
			[]string{"this statement", "we will tell you so and why", "The legal bases on which we process your personal information include"}},
		{"deepin", "zh-CN",
			[]string{"存储于中华人民共和国境内", "| 设备权限 |", "| 自启动或关联启动 |", "以协议约束其处理行为", "我们委托其代表我们处理个人信息", "超过2次", "如弹窗"},
			[]string{"除法律法规要求我们公开披露的情形外"}},
		{"deepin", "en",
			[]string{"We store your personal information in the People's Republic of China", "| Device permissions |", "| Starts itself |", "bind their processing by contract", "we entrust them to process", "before any public disclosure", "more than 2 within", "such as a pop-up"},
			[]string{"Except where the law requires us to disclose"}},
		{"smart-device-app", "zh-CN",
			[]string{"您可以随时撤销注销申请", "否，拒绝将无法使用该功能", "关闭后，我们将不再基于该权限收集相应信息", "个人信息保护负责部门", "最短时间", "删除在技术上难以实现", "我们不收取任何费用"},
			[]string{"视情收取"}},
		{"smart-device-app", "en",
			[]string{"you may withdraw the request at any time", "the feature will not work without it", "we stop collecting information through it", "Personal-information protection department", "shortest time", "technically difficult", "We do not charge"},
			nil},
		{"yonyou-cloud", "zh-CN",
			[]string{"中华人民共和国境内", "我们不收取任何费用", "最短时间", "删除在技术上难以实现", "个人信息保护负责部门", "您可随时拒绝我们以此目的处理您的个人信息", "@yonyou.invalid", "以简体中文版本为准"},
			[]string{"电子邮件（用友云客户隐私邮箱）"}},
		{"yonyou-cloud", "zh-Hant",
			[]string{"我们", "隐私"},
			[]string{"我們", "電子郵件（用友雲客戶隱私郵箱）"}},
		{"yonyou-cloud", "en",
			[]string{"in the People's Republic of China", "We do not charge", "shortest time", "technically difficult", "Personal-information protection department", "You may object to this processing at any time", "@yonyou.invalid", "version prevails"},
			[]string{"email (Yonyou Cloud customer privacy email)"}},
		{"starter", "zh-CN",
			[]string{"。并以加密方式存储。", "您可以App 内", "您可以 App 内", "应用内通知（qingyun://", "为为", "处理处理"},
			[]string{"应用内反馈"}},
		{"starter", "en",
			[]string{"It is stored encrypted", "浙江省", "in-app notice qingyun://"},
			[]string{"in-app feedback"}},
	}
	ms := examples(t)
	for _, tt := range tests {
		t.Run(tt.example+"/"+tt.lang, func(t *testing.T) {
			text := renderText(t, ms[tt.example], tt.lang)
			for _, s := range tt.absent {
				if strings.Contains(text, s) {
					t.Errorf("the policy says %q, which its source does not", s)
				}
			}
			for _, s := range tt.present {
				if !strings.Contains(text, s) {
					t.Errorf("the policy does not say %q, which its source does", s)
				}
			}
		})
	}
}
