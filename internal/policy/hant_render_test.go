package policy

import (
	"os"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/manifest"
)

// simplifiedOnly are characters written differently in traditional
// Chinese: none may appear in a zh-Hant policy.
const simplifiedOnly = "们个权隐护这务说经请为关发对时处应数规则过进将从据监门录书亲认让证议读调变运还选邮错长问间阅随际险须题馈销营册约联该"

// TestRenderTraditional: a manifest published in zh-Hant renders a policy
// in traditional characters throughout, fixed wording included.
func TestRenderTraditional(t *testing.T) {
	data, err := os.ReadFile("testdata/hant.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse("hant.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	hant := renderText(t, m, "zh-Hant")
	if i := strings.IndexAny(hant, simplifiedOnly); i >= 0 {
		end := min(len(hant), i+60)
		t.Errorf("the zh-Hant policy has simplified characters: …%s…", hant[max(0, i-60):end])
	}
	for _, want := range []string{"我們僅在實現處理目的所必要的最短時間內保存您的個人信息", "簡體中文、繁體中文和英文", "註冊賬號", "15個工作日"} {
		if !strings.Contains(hant, want) {
			t.Errorf("the zh-Hant policy does not say %q", want)
		}
	}
	if zh := renderText(t, m, "zh-CN"); strings.ContainsAny(zh, "們個權隱護") {
		t.Error("the zh-CN policy has traditional characters")
	}
	if _, err := Render(loadBase(t), "zh-Hant"); err == nil {
		t.Error("a manifest not published in zh-Hant rendered in zh-Hant")
	}
}
