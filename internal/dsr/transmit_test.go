package dsr_test

import (
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/dsr"
)

// TestPortabilityTransmission: a portability request that names a third
// party ends with the export ready and a tracked transmission to that party.
func TestPortabilityTransmission(t *testing.T) {
	start := time.Date(2026, 5, 11, 10, 0, 0, 0, time.UTC)
	e := newEnv(t, yonyouManifest, start)
	e.subject("yy-4001", "port@example.com", "", nil)
	v := e.submitOperator(map[string]any{"type": "portability", "jurisdiction": "EU", "subject_id": "yy-4001",
		"details": map[string]any{"transmit_to": map[string]string{"name": "Acme Cloud", "endpoint": "https://acme.example/import"}}})
	e.must(200, "POST", "/v1/requests/"+v.ID+"/approve", e.op, "", nil)
	var done dsr.View
	e.must(200, "POST", "/v1/requests/"+v.ID+"/complete", e.op, `{}`, &done)
	if done.State != dsr.StateCompleted || done.Download == "" {
		t.Fatalf("complete = %+v", done)
	}
	found := false
	for _, r := range done.Recipients {
		if r.Recipient == "third_party:Acme Cloud" && r.Action == "portability" && r.Method == "manual" && r.State == "pending" {
			found = true
		}
	}
	if !found {
		t.Errorf("no transmission task to the named third party: %+v", done.Recipients)
	}
	var acked dsr.View
	e.must(200, "POST", "/v1/requests/"+v.ID+"/recipients/third_party:Acme%20Cloud/ack", e.op, "", &acked)
	for _, r := range acked.Recipients {
		if r.Recipient == "third_party:Acme Cloud" && r.State != "acknowledged" {
			t.Errorf("after acknowledgement the task is %s", r.State)
		}
	}
	e.must(404, "POST", "/v1/requests/"+v.ID+"/recipients/nobody/ack", e.op, "", nil)
	e.noPI("port@example.com")
}
