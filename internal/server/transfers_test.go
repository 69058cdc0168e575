package server_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type transferCounts struct {
	Year  int `json:"year"`
	Total struct {
		People int64 `json:"people"`
	} `json:"total"`
	Flows []struct {
		Flow       string `json:"flow"`
		People     int64  `json:"people"`
		Needed     string `json:"needed"`
		Sufficient bool   `json:"sufficient"`
	} `json:"flows"`
}

// TestTransfersCountedPerOrganisation: the people whose notes went to
// Singapore are counted from the application's reports, the decision
// point's allowed decisions on the transfer and the separate consents to
// it, each person once; another
// organisation's key sees none of them, on its own host or on ours; no
// answer or log line names a subject.
func TestTransfersCountedPerOrganisation(t *testing.T) {
	starter := filepath.Join("..", "..", "examples", "starter", "custos.yaml")
	d := startOrgs(t, "sqlite", starter, []orgSpec{{id: "acme", name: "Acme Ltd", host: "acme.test", manifest: starter}}, nil)
	ours, acme := d.tenants[0], d.tenants[1]
	grant := func(key string) string {
		return `{"grant": ["` + key + `"], "separate": true, "method": "app_dialog", "language": "zh-CN", "notice_hash": "` + strings.Repeat("a", 64) + `"}`
	}
	// xfer-person-1 consents to the transfer; xfer-person-2 to its
	// purpose, is checked for it, and is reported too.
	for id, key := range map[string]string{"xfer-person-1": "transfer:sg-sync-relay", "xfer-person-2": "sync_acceleration"} {
		d.must(t, ours, "POST", "/v1/subjects", `{"subject_id": "`+id+`", "jurisdiction": "CN", "language": "zh-CN", "birth_date": "1990-01-01"}`, http.StatusCreated)
		d.must(t, ours, "POST", "/v1/subjects/"+id+"/consents", grant(key), http.StatusCreated)
	}
	b := d.must(t, ours, "POST", "/v1/check", `{"subject_id": "xfer-person-2", "purposes": ["sync_acceleration"]}`, http.StatusOK)
	if !strings.Contains(string(b), `"allowed":true`) {
		t.Fatalf("check: %s", b)
	}
	b = d.must(t, ours, "POST", "/v1/transfers", `{"flow": "sg-sync-relay", "subject_ids": ["xfer-person-2", "xfer-person-3", "xfer-person-3"]}`, http.StatusOK)
	if !strings.Contains(string(b), `"subjects":2`) {
		t.Errorf("report: %s", b)
	}
	// Counts from consents and decisions are written within a second.
	var c transferCounts
	deadline := time.Now().Add(10 * time.Second)
	for {
		json.Unmarshal(d.must(t, ours, "GET", "/v1/transfers/counts", "", http.StatusOK), &c)
		if c.Total.People == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if c.Total.People != 3 || len(c.Flows) != 1 || c.Flows[0].Flow != "sg-sync-relay" || c.Flows[0].People != 3 || !c.Flows[0].Sufficient {
		t.Errorf("our counts = %+v, want 3 people on sg-sync-relay", c)
	}
	tests := []struct {
		name   string
		tn     *tenant
		host   string
		method string
		path   string
		body   string
		status int
		has    string
	}{
		{"acme's counts are its own", acme, acme.host, "GET", "/v1/transfers/counts", "", http.StatusOK, `"total":{"people":0,`},
		{"acme's register", acme, acme.host, "GET", "/v1/transfers/register", "", http.StatusOK, `"id":"sg-sync-relay"`},
		{"acme's key on our host", acme, ours.host, "GET", "/v1/transfers/counts", "", http.StatusUnauthorized, ""},
		{"a year", ours, ours.host, "GET", "/v1/transfers/counts?year=2020", "", http.StatusOK, `"total":{"people":0,`},
		{"a bad year", ours, ours.host, "GET", "/v1/transfers/counts?year=last", "", http.StatusBadRequest, `"code":"invalid_query"`},
		{"an unknown flow", ours, ours.host, "POST", "/v1/transfers", `{"flow": "moon", "subject_ids": ["xfer-person-1"]}`, http.StatusUnprocessableEntity, `"code":"unknown_transfer"`},
		{"an email for a subject id", ours, ours.host, "POST", "/v1/transfers", `{"flow": "sg-sync-relay", "subject_ids": ["li.na@example.com"]}`, http.StatusUnprocessableEntity, `"code":"subject_id_is_pi"`},
		{"by recipient", ours, ours.host, "POST", "/v1/transfers", `{"recipient": "sync-relay-sg", "subject_ids": ["xfer-person-1"]}`, http.StatusOK, `"added":0`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, b := d.call(tt.tn, tt.host, tt.method, tt.path, tt.body)
			if code != tt.status || !strings.Contains(string(b), tt.has) {
				t.Errorf("%d %s; want %d with %s", code, b, tt.status, tt.has)
			}
			for _, pi := range []string{"xfer-person", "li.na@example.com"} {
				if strings.Contains(string(b), pi) {
					t.Errorf("the answer names %q: %s", pi, b)
				}
			}
		})
	}
	if strings.Contains(d.logs.String(), "xfer-person") || strings.Contains(d.logs.String(), "li.na@example.com") {
		t.Errorf("the log names a subject:\n%s", d.logs)
	}
}

// TestTransferAlertReachesTheContact: with the starter's relay on the
// exemption and a threshold of two people, three reported people raise
// one alert: on the counts, in the audit trail, in the metrics, and as
// an email to the contact's addresses that names no subject.
func TestTransferAlertReachesTheContact(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter", "custos.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "mechanism: standard_contract", "mechanism: exemption", 1)
	edited = strings.Replace(edited, "  cross_border:\n", "  transfer_thresholds: {contract_from: 2}\n  cross_border:\n", 1)
	small := filepath.Join(t.TempDir(), "custos.yaml")
	if err := os.WriteFile(small, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startOrgs(t, "sqlite", small, nil, nil)
	ours := d.tenants[0]
	d.must(t, ours, "POST", "/v1/transfers", `{"flow": "sg-sync-relay", "subject_ids": ["xfer-a", "xfer-b", "xfer-c"]}`, http.StatusOK)
	var c struct {
		Alerts []struct {
			Limit, Kind string
		} `json:"alerts"`
	}
	deadline := time.Now().Add(15 * time.Second)
	for len(c.Alerts) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		json.Unmarshal(d.must(t, ours, "GET", "/v1/transfers/counts", "", http.StatusOK), &c)
	}
	if len(c.Alerts) != 1 || c.Alerts[0].Limit != "ordinary.standard_contract" || c.Alerts[0].Kind != "crossed" {
		t.Fatalf("alerts = %+v", c.Alerts)
	}
	b := d.must(t, ours, "GET", "/v1/transfers/register", "", http.StatusOK)
	if !strings.Contains(string(b), `rests on exemption, but 3 people`) {
		t.Errorf("the register shows no problem: %s", b)
	}
	b = d.must(t, ours, "GET", "/v1/audit", "", http.StatusOK)
	for _, action := range []string{"transfer.report", "transfer.alert"} {
		if !strings.Contains(string(b), `"action":"`+action+`"`) {
			t.Errorf("the audit trail has no %s", action)
		}
	}
	_, metrics := d.call(ours, ours.host, "GET", "/metrics", "")
	if !strings.Contains(string(metrics), `custos_transfer_people{flow="sg-sync-relay",sensitive="false"} 3`) {
		t.Errorf("/metrics lacks the people of sg-sync-relay")
	}
	d.codeFor(t, "")
	var sent []string
	for _, m := range sinkMessages(t, filepath.Join(d.dir, "outbox")) {
		if strings.Contains(m.Text, "sg-sync-relay") {
			sent = append(sent, m.To)
			if strings.Contains(m.Text, "xfer-") {
				t.Errorf("the alert names a subject:\n%s", m.Text)
			}
		}
	}
	if strings.Join(sent, ",") != "privacy@qingyun.example.cn,dpo@qingyun.example.cn" {
		t.Errorf("the alert went to %v", sent)
	}
	if strings.Contains(d.logs.String(), "xfer-") {
		t.Errorf("the log names a subject:\n%s", d.logs)
	}
}
