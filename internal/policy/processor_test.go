package policy

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/manifest"
)

// TestProcessorRecord: Yonyou Cloud's record of what it processes for an
// enterprise customer names the processor from Yonyou's manifest and the
// controller, its contact, categories and purposes from the enterprise's,
// in both languages; an entrustment whose controller published nothing is
// recorded with the registry's name and the ids it was given.
func TestProcessorRecord(t *testing.T) {
	yonyou, err := manifest.Load("../../examples/yonyou-cloud/custos.yaml")
	if err != nil {
		t.Fatal(err)
	}
	enterprise, err := manifest.Load("../../examples/yonyou-cloud/enterprise.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ents := []Entrusted{
		{ID: "en_1", Categories: []string{"basic.name", "basic.phone", "basic.email"}, Purposes: []string{"hr-management", "staff-directory"},
			Instructions: "Run the HR application as the administrator configures it.", SubProcessors: []string{"Aliyun (hosting)"},
			StartsOn: "2026-01-01", State: "active", ControllerName: "示例制造有限公司", Controller: enterprise},
		{ID: "en_2", Categories: []string{"basic.email"}, Purposes: []string{"payroll"}, StartsOn: "2025-01-01", EndsOn: "2025-12-31",
			State: "ended", EndAction: "delete", ControllerName: "Old Customer Ltd"},
	}
	for _, lang := range []string{"en", "zh-CN"} {
		rec, err := BuildProcessorRecord(yonyou, ents, lang)
		if err != nil {
			t.Fatal(err)
		}
		var md bytes.Buffer
		if err := WriteProcessorRecord(&md, rec, "markdown"); err != nil {
			t.Fatal(err)
		}
		golden(t, "processor-record."+lang+".md", md.Bytes())
		var js bytes.Buffer
		if err := WriteProcessorRecord(&js, rec, "json"); err != nil {
			t.Fatal(err)
		}
		var back ProcessorRecord
		if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Controllers) != 2 {
			t.Errorf("json: %v, %d controllers", err, len(back.Controllers))
		}
	}
	rec, _ := BuildProcessorRecord(yonyou, nil, "en")
	var md bytes.Buffer
	WriteProcessorRecord(&md, rec, "markdown")
	if !strings.Contains(md.String(), "No processing on behalf of controllers is recorded.") {
		t.Errorf("an empty record:\n%s", md.String())
	}
	if err := WriteProcessorRecord(&md, rec, "csv"); err == nil {
		t.Error("csv accepted")
	}
}
