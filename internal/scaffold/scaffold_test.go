package scaffold

import (
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/manifest"
)

// TestNamesSurviveYAML: whatever an organisation is called, the manifest
// reads back with that name, and its ids are valid.
func TestNamesSurviveYAML(t *testing.T) {
	tests := []struct{ org, orgEn, wantID string }{
		{"示例科技", "Example Tech", "example-tech"},
		{"《数据》: 公司 #1", `Acme: "Data" & Co. #1`, "acme-data-co-1"},
		{"null", "true", "true"},
		{"360 科技", "360 Tech", "org-360-tech"},
		{"- 破折号", "- Dash, Inc.", "dash-inc"},
		{"示例", "Ünïcode GmbH", "n-code-gmbh"},
		{"示例", "示例", "org"},
		{"示例", strings.Repeat("Very Long Name ", 10), "very-long-name-very-long-name-very-long"},
	}
	for _, tt := range tests {
		t.Run(tt.orgEn, func(t *testing.T) {
			o := Options{Org: tt.org, OrgEn: tt.orgEn, Email: "p@example.com"}.Defaults(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
			data, err := Manifest(o)
			if err != nil {
				t.Fatal(err)
			}
			m, err := manifest.Parse("custos.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			c := m.Controllers[0]
			if c.Name["zh"] != tt.org || c.Name["en"] != strings.TrimSpace(tt.orgEn) || c.ID != tt.wantID {
				t.Errorf("controller %q %q %q, want %q %q %q", c.ID, c.Name["zh"], c.Name["en"], tt.wantID, tt.org, tt.orgEn)
			}
			if m.Policy.ID != tt.wantID+"-privacy" || m.Policy.Updated != "2026-06-01" {
				t.Errorf("policy id %q, updated %q", m.Policy.ID, m.Policy.Updated)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	base := Options{Org: "示例", OrgEn: "Ex", Email: "p@example.com"}.Defaults(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC))
	tests := []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"name on two lines", func(o *Options) { o.OrgEn = "Ex\nample" }, "an organisation's name is one line"},
		{"language twice", func(o *Options) { o.Languages = []string{"en", "en"} }, `language "en" given twice`},
		{"traditional Chinese", func(o *Options) { o.Languages = []string{"zh-Hant"} }, `unsupported language "zh-Hant"`},
		{"lower-case jurisdiction is the caller's to fold", func(o *Options) { o.Jurisdiction = "eu" }, `unsupported jurisdiction "eu"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.edit(&o)
			if err := o.Check(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check = %v, want %q", err, tt.want)
			}
		})
	}
	if err := base.Check(); err != nil {
		t.Errorf("Check of a complete set: %v", err)
	}
}
