package center

import (
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/policy"
)

// TestDiffWordsChangesByName: the starter's next version, compared with
// the first, is described in each language by what the manifest calls
// things — never by a manifest path, a purpose, recipient or category id,
// or a "#" heading marker.
func TestDiffWordsChangesByName(t *testing.T) {
	oldM, err := manifest.Load("../../../examples/starter/custos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	newM, err := manifest.Load("../../../examples/starter/custos-v2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := policy.Compare(oldM, newM)
	ids := []string{"personalised_recommendations", "insights-partner", "privacy-email", "usage.interactions", "usage.search",
		"sync_acceleration", "recipient:", "services[", "policy.version", "[", "#"}
	tests := []struct {
		lang string
		// rows each change's description must hold, in the diff's order
		rows []string
		// reconsent holds these names
		reconsent []string
		// a table row of the text diff holding this name has its cells
		// after their column's headings, joined by sep
		cellName, sep string
	}{
		{
			lang: "zh-CN",
			rows: []string{"本政策 › 版本号", "本政策 › 生效日期", "本政策 › 更新日期", "联系渠道：个人信息保护办公室 › 地址或号码", "服务：笔记与多端同步 › 说明",
				"服务：公开发布与发现 › 收集的个人信息：点赞、收藏、评论和举报记录和搜索记录", "处理目的：“发现”页面个性化推荐",
				"接收方：示例洞察数据有限公司", "保存期限：“发现”页面个性化推荐"},
			reconsent: []string{"境外同步加速", "“发现”页面个性化推荐", "向示例洞察数据有限公司提供个人信息"},
			cellName:  "：“发现”页面个性化推荐",
			sep:       "；",
		},
		{
			lang: "en",
			rows: []string{"This policy › version number", "This policy › date it takes effect", "This policy › date of the update",
				"Contact channel: Personal Information Protection Office › address or number", "Service: Notes and sync › description",
				"Service: Publishing and Discover › information collected: likes, favourites, comments and reports and search history",
				"Purpose: personalised recommendations in Discover", "Recipient: Example Insights Data Co., Ltd.",
				"Retention rule: personalised recommendations in Discover"},
			reconsent: []string{"overseas sync acceleration", "personalised recommendations in Discover", "providing personal information to Example Insights Data Co., Ltd."},
			cellName:  ": personalised recommendations in discover",
			sep:       "; ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			rows := changeRows(d, tt.lang)
			if len(rows) != len(tt.rows) {
				t.Fatalf("%d rows, want %d: %+v", len(rows), len(tt.rows), rows)
			}
			for i, r := range rows {
				if r.What != tt.rows[i] {
					t.Errorf("row %d (%s) = %q, want %q", i, d.Changes[i].Path, r.What, tt.rows[i])
				}
				for _, id := range ids {
					if strings.Contains(r.What, id) {
						t.Errorf("row %d %q holds %q", i, r.What, id)
					}
				}
			}
			var names []string
			for _, k := range d.Reconsent {
				n := d.Name(k, tt.lang)
				if n == "" {
					t.Errorf("no name for %q", k)
				}
				names = append(names, n)
			}
			for _, want := range tt.reconsent {
				if !strings.Contains(strings.Join(names, "|"), want) {
					t.Errorf("re-consent names %q lack %q", names, want)
				}
			}
			oldDoc, err := policy.Render(oldM, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			newDoc, err := policy.Render(newM, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			cells := map[string]cellWords{"zh-CN": {"%s：%s", "；"}, "en": {"%s: %s", "; "}}[tt.lang]
			var text []string
			headings := 0
			for _, s := range compareDocs(oldDoc, newDoc, cells) {
				for _, l := range s.Lines {
					text = append(text, l.Text)
					if l.Heading {
						headings++
					}
					if strings.HasPrefix(l.Text, "#") || strings.Contains(l.Text, " | ") {
						t.Errorf("a line of the text diff reads %q", l.Text)
					}
				}
			}
			if headings == 0 {
				t.Error("no sub-heading is marked as one")
			}
			found := false
			for _, l := range text {
				l = strings.ToLower(l)
				found = found || strings.Contains(l, tt.cellName) && strings.Contains(l, tt.sep)
			}
			if !found {
				t.Errorf("no table row of the text diff reads %q with cells joined by %q:\n%s", tt.cellName, tt.sep, strings.Join(text, "\n"))
			}
		})
	}
}
