package server_test

import (
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/incident"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// incidentShop is the starter's shop with rows that put people inside
// and outside an incident's window: u-1's invoice and u-2's order fall
// in 2025, u-3's order in 2019, and u-9, whom Custos does not know, has
// an order in 2025.
const incidentShop = `
INSERT INTO users VALUES ('u-3', 'zhang.san@example.com', '+8613800000003', '2019-01-01 00:00:00');
INSERT INTO invoices VALUES ('i-2', 'o-2', 'u-1', 'Li Lei', '91310000', '2025-07-01 08:00:00');
INSERT INTO orders VALUES ('o-3', 'u-3', 900, 'pay-3', '2019-04-01 12:00:00');
INSERT INTO orders VALUES ('o-4', 'u-9', 500, 'pay-4', '2025-02-01 12:00:00');
`

// startIncidentServer runs the starter manifest, told to escalate to
// security@qingyun.example.cn, on the starter's shop with incidentShop.
func startIncidentServer(t *testing.T) (*example, *sql.DB) {
	t.Helper()
	dir := t.TempDir()
	if _, err := secrets.Init(filepath.Join(dir, "secrets"), false); err != nil {
		t.Fatal(err)
	}
	shopPath := filepath.Join(dir, "shop.db")
	schema, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter", "shop.sql"))
	if err != nil {
		t.Fatal(err)
	}
	shop, err := sql.Open("sqlite", "file:"+shopPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shop.Close() })
	if _, err := shop.Exec(string(schema) + incidentShop); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SHOP_DSN", "file:"+shopPath)
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter", "custos.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src = []byte(strings.Replace(string(src), "    response_team: true\n",
		"    response_team: true\n    notice_within: 48h\n    escalate: [security@qingyun.example.cn]\n", 1))
	manifestPath := filepath.Join(dir, "custos.yaml")
	if err := os.WriteFile(manifestPath, src, 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CUSTOS_DB":          filepath.Join(dir, "custos.db"),
		"CUSTOS_MANIFEST":    manifestPath,
		"CUSTOS_DATASET":     filepath.Join("..", "..", "examples", "starter", "dataset.yaml"),
		"CUSTOS_SECRETS_DIR": filepath.Join(dir, "secrets"),
		"CUSTOS_NOTIFY_DIR":  filepath.Join(dir, "outbox"),
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), env["CUSTOS_DB"])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	st.Close()
	logs := &lockedBuffer{}
	clk := clocktest.New(time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC))
	srv, err := server.New(t.Context(), cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), server.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	e := &example{t: t, h: srv.Handler(), srv: srv, clock: clk, keys: map[string]string{}, log: logs}
	for _, role := range []string{api.RoleAdmin, api.RoleOperator} {
		k, err := api.CreateKey(t.Context(), srv.Store(), testActor, role, role)
		if err != nil {
			t.Fatal(err)
		}
		e.keys[role] = k.Secret
	}
	for _, body := range []string{
		`{"subject_id": "u-1", "jurisdiction": "CN", "language": "zh-CN", "identities": [{"kind": "email", "value": "li.lei@example.com", "keep": true}]}`,
		`{"subject_id": "u-2", "jurisdiction": "EU", "language": "en", "identities": [{"kind": "email", "value": "han.meimei@example.com", "keep": true}]}`,
		`{"subject_id": "u-3", "jurisdiction": "CN", "language": "zh-CN", "identities": [{"kind": "email", "value": "zhang.san@example.com", "keep": true}]}`,
	} {
		e.run(step{as: api.RoleAdmin, method: "POST", path: "/v1/subjects", body: body, status: http.StatusCreated})
	}
	return e, shop
}

// incidentView is the part of an incident's answer the tests read.
type incidentView struct {
	ID       string            `json:"id"`
	State    string            `json:"state"`
	Severity map[string]string `json:"severity"`
	Affected *struct {
		Subjects int   `json:"subjects"`
		Rows     int64 `json:"rows"`
		Unknown  int64 `json:"unmatched_rows"`
	} `json:"affected"`
	Clocks     []incident.Clock `json:"clocks"`
	Deliveries map[string]int   `json:"deliveries"`
}

func (e *example) incident(role, method, path string, body any, want int) (incidentView, string) {
	e.t.Helper()
	code, b := e.call(role, method, path, body, nil)
	if code != want {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, code, want, b)
	}
	var v incidentView
	if want < 300 {
		if err := json.Unmarshal([]byte(b), &v); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return v, b
}

// snapshot is who the incident reached, read from the shop by the
// test's own query: the people with an order or invoice in 2024–2025
// whom Custos knows.
func snapshot(t *testing.T, shop *sql.DB, known []string) []string {
	t.Helper()
	rows, err := shop.Query(`SELECT user_id FROM orders WHERE completed_at >= '2024-01-01' AND completed_at < '2026-01-01'
		UNION SELECT user_id FROM invoices WHERE issued_at >= '2024-01-01' AND issued_at < '2026-01-01' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(known, id) {
			out = append(out, id)
		}
	}
	return out
}

var incidentOpen = map[string]any{
	"description":   map[string]string{"zh-CN": "订单数据库的一份备份可从互联网访问", "en": "A backup of the order database was reachable from the internet"},
	"discovered_at": "2026-06-01T01:00:00Z",
	"began_at":      "2026-05-30T00:00:00Z",
	"categories":    []string{"financial"},
	"datastores":    []string{"shop"},
	"window":        map[string]string{"from": "2024-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
}

var incidentAssessment = map[string]any{
	"severity": map[string]string{"CN": "relatively_serious", "EU": "high_risk"},
	"cause":    map[string]string{"zh-CN": "存储桶访问权限配置错误", "en": "a storage bucket open to everyone"},
	"harm":     map[string]string{"zh-CN": "订单和发票信息可能被他人获取", "en": "others may have obtained order and invoice details"},
	"measures": map[string]string{"zh-CN": "已关闭访问并更换全部密钥", "en": "we closed access and rotated every key"},
	"advice":   map[string]string{"zh-CN": "请警惕冒充我们的电话和邮件", "en": "be wary of calls and emails pretending to be us"},
	"remedies": map[string]string{"zh-CN": "您可以向我们或监管部门投诉", "en": "you may complain to us or to the regulator"},
}

// TestIncidentSelectsNotifiesAndCounts: an incident on the starter's
// shop selects exactly the people whose financial data lies in its
// window (checked against the shop read independently), shows only
// their count, tells each in their language with what the policy
// promises and nobody else, runs the CN and EU clocks on the API and
// the metrics, and escalates a clock nearing its deadline once.
func TestIncidentSelectsNotifiesAndCounts(t *testing.T) {
	e, shop := startIncidentServer(t)
	ctx := t.Context()

	e.incident(api.RoleOperator, "POST", "/v1/incidents", incidentOpen, http.StatusForbidden)
	opened, _ := e.incident(api.RoleAdmin, "POST", "/v1/incidents", incidentOpen, http.StatusCreated)
	id := opened.ID
	// Both scales apply to the starter; before the assessment the
	// regulators' clocks run provisionally.
	clocks := map[string]int64{}
	for _, c := range opened.Clocks {
		clocks[c.Name] = c.SecondsLeft
	}
	if diff := cmp.Diff(map[string]int64{"cn_regulator": 3 * 3600, "cn_subjects": 47 * 3600, "eu_authority": 71 * 3600}, clocks); diff != "" {
		t.Errorf("clocks on opening (-want +got):\n%s", diff)
	}
	_, metrics := e.call(api.RoleAdmin, "GET", "/metrics", nil, nil)
	for _, want := range []string{
		`custos_incident_deadline_seconds{clock="cn_regulator",incident="` + id + `"} 10800`,
		`custos_incident_deadline_seconds{clock="eu_authority",incident="` + id + `"} 255600`,
		`custos_incidents_open 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s:\n%s", want, grepLines(metrics, "custos_incident"))
		}
	}

	// 1. The assessment selects the people whose data was there.
	assessed, body := e.incident(api.RoleAdmin, "POST", "/v1/incidents/"+id+"/assess", incidentAssessment, http.StatusOK)
	want := snapshot(t, shop, []string{"u-1", "u-2", "u-3"})
	if diff := cmp.Diff([]string{"u-1", "u-2"}, want); diff != "" {
		t.Fatalf("the test's own snapshot is off (-want +got):\n%s", diff)
	}
	var selected []string
	if err := e.srv.Incidents().Subjects(ctx, id, func(s string) error { selected = append(selected, s); return nil }); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, selected); diff != "" {
		t.Errorf("selected subjects (-want +got):\n%s", diff)
	}
	if a := assessed.Affected; a == nil || a.Subjects != 2 || a.Unknown != 1 || a.Rows != 3 {
		t.Errorf("affected = %+v, want 2 subjects, 3 rows, 1 unmatched (u-9's order)", a)
	}
	for _, pi := range []string{"u-1", "u-2", "u-9", "li.lei@example.com", "han.meimei@example.com", "pay-"} {
		if strings.Contains(body, pi) {
			t.Errorf("the assessment's answer names %q: %s", pi, body)
		}
	}
	// The EU high risk adds the people's clock; the CN level keeps the regulator's.
	var names []string
	for _, c := range assessed.Clocks {
		names = append(names, c.Name)
		if c.Provisional {
			t.Errorf("clock %s is provisional after the assessment", c.Name)
		}
	}
	if diff := cmp.Diff([]string{"cn_regulator", "cn_subjects", "eu_authority", "eu_subjects"}, names); diff != "" {
		t.Errorf("clocks after the assessment (-want +got):\n%s", diff)
	}

	// 4. The CN regulator's clock enters its last hour: one escalation,
	// however often the job runs.
	e.clock.Set(time.Date(2026, 6, 1, 4, 30, 0, 0, time.UTC))
	for range 2 {
		if _, err := e.srv.EscalateIncidents(ctx); err != nil {
			t.Fatal(err)
		}
	}
	deliveries := func(template string) []notify.Delivery {
		t.Helper()
		ds, err := e.srv.Store().Outbox().Due(ctx, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 1000)
		if err != nil {
			t.Fatal(err)
		}
		var out []notify.Delivery
		for _, d := range ds {
			if d.Template == template {
				out = append(out, d)
			}
		}
		return out
	}
	esc := deliveries(incident.TemplateEscalation)
	if len(esc) != 1 {
		t.Fatalf("escalations queued: %d, want 1", len(esc))
	}
	p, err := notify.OpenPayload(ctx, e.srv.Keystore(), esc[0])
	if err != nil || p.To != "security@qingyun.example.cn" || p.Data["clock"] != "cn_regulator" || p.Data["stage"] != "warning" {
		t.Errorf("escalation = %+v, %v", p, err)
	}
	_, metrics = e.call(api.RoleAdmin, "GET", "/metrics", nil, nil)
	if want := `custos_incident_deadline_seconds{clock="cn_regulator",incident="` + id + `"} 1800`; !strings.Contains(metrics, want) {
		t.Errorf("/metrics lacks %s:\n%s", want, grepLines(metrics, "custos_incident"))
	}
	checkConsoleIncident(t, e, id)

	// 2. The notices: one per person, in their language, with the
	// promised contents; u-3 gets none.
	notified, _ := e.incident(api.RoleAdmin, "POST", "/v1/incidents/"+id+"/notify", map[string]bool{"regulator": true, "subjects": true}, http.StatusOK)
	if notified.State != incident.StateNotified || notified.Deliveries[notify.StatusPending] != 2 {
		t.Errorf("after notify: state %s, deliveries %v", notified.State, notified.Deliveries)
	}
	got := map[string]string{}
	for _, d := range deliveries(incident.TemplateNotice) {
		p, err := notify.OpenPayload(ctx, e.srv.Keystore(), d)
		if err != nil {
			t.Fatal(err)
		}
		got[d.Subject] = d.Lang + " " + p.To
		for _, k := range []string{"what_happened", "impact", "measures", "self_protection", "remedies", "cause", "categories", "contact"} {
			if p.Data[k] == "" {
				t.Errorf("the notice to %s lacks %s", d.Subject, k)
			}
		}
		r, err := notify.Render(d.Template, d.Lang, p.Data)
		if err != nil {
			t.Fatal(err)
		}
		wantText := map[string]string{"zh-CN": "已关闭访问并更换全部密钥", "en": "we closed access and rotated every key"}[d.Lang]
		if !strings.Contains(r.Text, wantText) || !strings.Contains(r.Text, "privacy@qingyun.example.cn") {
			t.Errorf("the %s notice lacks the measures or the contact:\n%s", d.Lang, r.Text)
		}
	}
	if diff := cmp.Diff(map[string]string{"u-1": "zh-CN li.lei@example.com", "u-2": "en han.meimei@example.com"}, got); diff != "" {
		t.Errorf("notices (-want +got):\n%s", diff)
	}
	// The regulators' clocks are met; the metrics show only what runs.
	_, metrics = e.call(api.RoleAdmin, "GET", "/metrics", nil, nil)
	if strings.Contains(metrics, `clock="cn_regulator"`) {
		t.Errorf("a met clock is still counted down:\n%s", grepLines(metrics, "custos_incident"))
	}
	// 3. The report renders for the regulator.
	code, report := e.call(api.RoleOperator, "GET", "/v1/incidents/"+id+"/report?lang=en&format=html", nil, nil)
	if code != http.StatusOK || !strings.Contains(report, "high risk") || !strings.Contains(report, "people affected (known to Custos): 2") {
		t.Errorf("report: %d\n%s", code, report)
	}
	e.incident(api.RoleAdmin, "POST", "/v1/incidents/"+id+"/close", nil, http.StatusOK)
	e.incident(api.RoleAdmin, "POST", "/v1/incidents/"+id+"/assess", incidentAssessment, http.StatusConflict)
	for _, pi := range []string{"li.lei@example.com", "han.meimei@example.com", "security@qingyun"} {
		if strings.Contains(e.log.String(), pi) {
			t.Errorf("the log carries %q", pi)
		}
	}
}

// checkConsoleIncident: the console's Incidents page lists the incident
// with its clocks counting down, and its page shows the affected count.
func checkConsoleIncident(t *testing.T, e *example, id string) {
	t.Helper()
	ops, err := operator.New(e.srv.Store(), operator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ops.Create(t.Context(), consent.Actor{ID: "test", Role: "admin"}, operator.SetByCLI, "admin", "Admin", "admin", "admin-long-password-1"); err != nil {
		t.Fatal(err)
	}
	b := &browser{d: &deployment{h: e.srv.Handler()}, host: "custos.test", cookies: map[string]string{}}
	if code := b.signIn(t, "admin", "admin-long-password-1"); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	code, page := b.do("GET", "/console/incidents", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /console/incidents: %d", code)
	}
	for _, want := range []string{`href="/console/incidents/` + id + `"`, `data-clock="cn_regulator"`, `data-seconds="1800"`, `data-clock="eu_authority"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the Incidents page lacks %q:\n%s", want, page)
		}
	}
	code, page = b.do("GET", "/console/incidents/"+id, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /console/incidents/%s: %d", id, code)
	}
	for _, want := range []string{`data-affected="2"`, `action="/console/incidents/` + id + `/close"`, `name="csrf"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the incident's page lacks %q", want)
		}
	}
	for _, pi := range []string{"u-1", "li.lei@example.com"} {
		if strings.Contains(page, pi) {
			t.Errorf("the incident's page names %q", pi)
		}
	}
	// The admin's assessment form: the same levels, the measures revised;
	// the selection is made again and finds the same people.
	code, _ = b.do("POST", "/console/incidents/"+id+"/assess", url.Values{"severity_CN": {"relatively_serious"}, "severity_EU": {"high_risk"},
		"measures_en": {"we closed access and rotated every key"}})
	if code != http.StatusSeeOther {
		t.Fatalf("assess from the console: %d", code)
	}
	code, page = b.do("GET", "/console/incidents/"+id+"?done=incidentassessed", nil)
	if code != http.StatusOK || !strings.Contains(page, "The assessment is recorded") || !strings.Contains(page, `data-affected="2"`) {
		t.Errorf("after the console's assessment: %d\n%s", code, page)
	}
}
