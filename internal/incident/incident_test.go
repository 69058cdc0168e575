package incident_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/incident"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

func starter(t *testing.T) *manifest.Manifest {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "..", "examples", "starter", "custos.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse("custos.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestClocks: which clocks run, by jurisdiction and level, and their
// stages as time passes.
func TestClocks(t *testing.T) {
	disc := *at("2026-06-01T00:00:00Z")
	set := incident.Settings{NoticeWithin: 24 * time.Hour}
	tests := []struct {
		name     string
		jur      []string
		severity map[string]string
		set      incident.Settings
		now      string
		reported *time.Time
		want     map[string]string // clock → stage
	}{
		{"CN not assessed: provisional report", []string{"CN"}, nil, set, "2026-06-01T01:00:00Z", nil,
			map[string]string{"cn_regulator": "running", "cn_subjects": "running"}},
		{"CN general: no report", []string{"CN"}, map[string]string{"CN": "general"}, set, "2026-06-01T01:00:00Z", nil,
			map[string]string{"cn_subjects": "running"}},
		{"CN serious, in the last hour", []string{"CN"}, map[string]string{"CN": "serious"}, set, "2026-06-01T03:30:00Z", nil,
			map[string]string{"cn_regulator": "warning", "cn_subjects": "running"}},
		{"CN critical infrastructure: one hour", []string{"CN"}, map[string]string{"CN": "relatively_serious"},
			incident.Settings{NoticeWithin: 24 * time.Hour, CriticalInfra: true}, "2026-06-01T01:00:01Z", nil,
			map[string]string{"cn_regulator": "overdue", "cn_subjects": "running"}},
		{"CN reported in time", []string{"CN"}, map[string]string{"CN": "extremely_serious"}, set, "2026-06-02T00:00:01Z", at("2026-06-01T02:00:00Z"),
			map[string]string{"cn_regulator": "met", "cn_subjects": "overdue"}},
		{"EU no risk: nothing to the authority", []string{"EU"}, map[string]string{"EU": "no_risk"}, set, "2026-06-01T01:00:00Z", nil,
			map[string]string{}},
		{"EU risk: 72 hours", []string{"EU"}, map[string]string{"EU": "risk"}, set, "2026-06-03T19:00:00Z", nil,
			map[string]string{"eu_authority": "warning"}},
		{"EU high risk: the people too", []string{"CN", "EU"}, map[string]string{"CN": "general", "EU": "high_risk"}, set, "2026-06-04T00:00:01Z", at("2026-06-04T00:00:02Z"),
			map[string]string{"cn_subjects": "overdue", "eu_authority": "met_late", "eu_subjects": "overdue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := incident.Incident{DiscoveredAt: disc, Jurisdictions: tt.jur, Severity: tt.severity, ReportedAt: tt.reported}
			got := map[string]string{}
			for _, c := range incident.Clocks(i, tt.set, *at(tt.now)) {
				got[c.Name] = c.Stage
				if c.Provisional != (tt.severity == nil && c.Party == "regulator") {
					t.Errorf("%s provisional = %v", c.Name, c.Provisional)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("clocks (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCanMove(t *testing.T) {
	tests := []struct {
		from, to string
		want     bool
	}{
		{"open", "assessed", true}, {"open", "notified", false}, {"open", "closed", true},
		{"assessed", "assessed", true}, {"assessed", "notified", true}, {"notified", "assessed", false},
		{"notified", "closed", true}, {"closed", "open", false}, {"closed", "assessed", false},
	}
	for _, tt := range tests {
		if got := incident.CanMove(tt.from, tt.to); got != tt.want {
			t.Errorf("CanMove(%s, %s) = %v", tt.from, tt.to, got)
		}
	}
}

type env struct {
	ctx   context.Context
	st    *store.Store
	clock *clocktest.Clock
	svc   *incident.Service
}

func newEnv(t *testing.T, m *manifest.Manifest) *env {
	st := storetest.SQLite(t)
	c := clocktest.New(*at("2026-06-01T02:00:00Z"))
	return &env{ctx: context.Background(), st: st, clock: c, svc: incident.New(st, incident.Options{Now: c.Now,
		Policy: func(context.Context) (*manifest.Manifest, error) { return m, nil }})}
}

var admin = incident.Operator{ID: "op_a", Role: "admin", Place: "test"}

// TestOpenChecks: an incident is opened only by an admin, with a
// description, a discovery not in the future, categories the policy
// knows and a sensible window; the refusal names the field.
func TestOpenChecks(t *testing.T) {
	e := newEnv(t, starter(t))
	ok := incident.OpenInput{Description: incident.Text{EN: "leak"}, DiscoveredAt: *at("2026-06-01T01:00:00Z"), Categories: []string{"basic.email"}}
	tests := []struct {
		name  string
		by    incident.Operator
		edit  func(in *incident.OpenInput)
		code  string
		field string
	}{
		{name: "operator", by: incident.Operator{ID: "op_b", Role: "operator"}, edit: func(*incident.OpenInput) {}, code: "role_forbidden"},
		{name: "no description", edit: func(in *incident.OpenInput) { in.Description = incident.Text{EN: "  "} }, code: "description_required", field: "description"},
		{name: "no discovery", edit: func(in *incident.OpenInput) { in.DiscoveredAt = time.Time{} }, code: "discovered_at_required", field: "discovered_at"},
		{name: "discovered tomorrow", edit: func(in *incident.OpenInput) { in.DiscoveredAt = *at("2026-06-02T00:00:00Z") }, code: "invalid_time", field: "discovered_at"},
		{name: "began after discovery", edit: func(in *incident.OpenInput) { in.BeganAt = at("2026-06-01T01:30:00Z") }, code: "invalid_time", field: "began_at"},
		{name: "window backwards", edit: func(in *incident.OpenInput) {
			in.Window = incident.Window{From: at("2026-01-01T00:00:00Z"), To: at("2025-01-01T00:00:00Z")}
		}, code: "invalid_period", field: "window.to"},
		{name: "no categories", edit: func(in *incident.OpenInput) { in.Categories = nil }, code: "categories_required", field: "categories"},
		{name: "unknown category", edit: func(in *incident.OpenInput) { in.Categories = []string{"made.up"} }, code: "unknown_category", field: "categories"},
		{name: "unknown datastore", edit: func(in *incident.OpenInput) { in.Datastores = []string{"crm"} }, code: "unknown_datastore", field: "datastores"},
		{name: "description with a control character", edit: func(in *incident.OpenInput) { in.Description.EN = "a\x00b" }, code: "invalid_text", field: "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.edit(&in)
			by := tt.by
			if by.ID == "" {
				by = admin
			}
			_, err := e.svc.Open(e.ctx, by, in)
			fe, isFault := fault.As(err)
			if !isFault || fe.Code != tt.code || fe.Field != tt.field {
				t.Fatalf("Open = %v, want %s at %q", err, tt.code, tt.field)
			}
		})
	}
	if is, err := e.svc.List(e.ctx, true); err != nil || len(is) != 0 {
		t.Errorf("refused incidents were kept: %v, %v", is, err)
	}
}

// TestLifecycle: an incident moves open → assessed → notified → closed,
// refuses steps out of order, and every step is audited with counts and
// levels only.
func TestLifecycle(t *testing.T) {
	e := newEnv(t, starter(t))
	i, err := e.svc.Open(e.ctx, admin, incident.OpenInput{Description: incident.Text{ZH: "泄露 li.lei@example.com"}, DiscoveredAt: *at("2026-06-01T01:00:00Z"),
		Categories: []string{"basic.email"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"CN", "EU"}, i.Jurisdictions); diff != "" {
		t.Errorf("jurisdictions (-want +got):\n%s", diff)
	}
	if _, err := e.svc.Notify(e.ctx, admin, i.ID, incident.NotifyInput{Regulator: true}); !errors.Is(err, incident.ErrState) {
		t.Errorf("notify before assessing: %v, want ErrState", err)
	}
	_, err = e.svc.Assess(e.ctx, admin, i.ID, incident.AssessInput{Severity: map[string]string{"CN": "serious"}})
	if fe, _ := fault.As(err); fe.Code != "invalid_severity" || fe.Field != "severity.EU" {
		t.Errorf("assess without the EU level: %v", err)
	}
	a, err := e.svc.Assess(e.ctx, admin, i.ID, incident.AssessInput{Severity: map[string]string{"CN": "serious", "EU": "risk"}})
	if err != nil {
		t.Fatal(err)
	}
	if a.State != incident.StateAssessed || a.Affected == nil || a.Affected.Subjects != 0 {
		t.Errorf("assessed = %+v", a)
	}
	// Notices need what PIPL art. 57 asks for.
	_, err = e.svc.Notify(e.ctx, admin, i.ID, incident.NotifyInput{Subjects: true})
	if fe, _ := fault.As(err); fe.Code != "notice_incomplete" {
		t.Errorf("notices without cause and harm: %v", err)
	}
	e.clock.Set(*at("2026-06-01T03:00:00Z"))
	n, err := e.svc.Notify(e.ctx, admin, i.ID, incident.NotifyInput{Regulator: true})
	if err != nil {
		t.Fatal(err)
	}
	if n.State != incident.StateNotified || n.ReportedAt == nil || !n.ReportedAt.Equal(*at("2026-06-01T03:00:00Z")) {
		t.Errorf("notified = %+v", n)
	}
	if _, err := e.svc.Assess(e.ctx, admin, i.ID, incident.AssessInput{Severity: map[string]string{"CN": "general", "EU": "risk"}}); err != nil {
		t.Errorf("a reassessment after the report: %v", err)
	}
	if _, err := e.svc.Close(e.ctx, admin, i.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Close(e.ctx, admin, i.ID); !errors.Is(err, incident.ErrState) {
		t.Errorf("closing twice: %v", err)
	}
	if _, err := e.svc.Get(e.ctx, "in_none"); !errors.Is(err, incident.ErrNotFound) {
		t.Errorf("unknown incident: %v", err)
	}
	es, err := e.st.AuditEntries(e.ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, x := range es {
		if x.Object != "incident:"+i.ID {
			continue
		}
		actions = append(actions, x.Action)
		if strings.Contains(x.Detail, "li.lei") || strings.Contains(x.Detail, "泄露") {
			t.Errorf("audit entry %s carries the description: %s", x.Action, x.Detail)
		}
	}
	want := []string{"incident.open", "incident.assess", "incident.notify", "incident.assess", "incident.close"}
	if diff := cmp.Diff(want, reverse(actions)); diff != "" && cmp.Diff(want, actions) != "" {
		t.Errorf("audited steps (-want +got):\n%s", diff)
	}
}

func reverse(xs []string) []string {
	out := make([]string, len(xs))
	for k, x := range xs {
		out[len(xs)-1-k] = x
	}
	return out
}

// reportIncident is an incident as a report shows it, fixed for goldens.
func reportIncident() incident.Incident {
	return incident.Incident{ID: "in_golden", State: incident.StateNotified,
		Description: incident.Text{ZH: "订单数据库的一份备份可从互联网访问。", EN: "A backup of the order database was reachable from the internet."},
		Cause:       incident.Text{ZH: "存储桶访问权限配置错误。", EN: "A storage bucket was open to everyone."},
		Harm:        incident.Text{ZH: "订单和发票信息可能被他人获取。", EN: "Others may have obtained order and invoice details."},
		Measures:    incident.Text{ZH: "已关闭访问并更换全部密钥。", EN: "We closed access and rotated every key."},
		Advice:      incident.Text{ZH: "请警惕冒充我们的电话和邮件。", EN: "Be wary of calls and emails pretending to be us."},
		Remedies:    incident.Text{ZH: "您可以向我们或监管部门投诉。", EN: "You may complain to us or to the regulator."},
		BeganAt:     at("2026-05-30T00:00:00Z"), DiscoveredAt: *at("2026-06-01T01:00:00Z"), ContainedAt: at("2026-06-01T01:40:00Z"),
		Categories: []string{"financial.orders", "financial.invoice"}, Datastores: []string{"shop"},
		Window:        incident.Window{From: at("2024-01-01T00:00:00Z"), To: at("2026-01-01T00:00:00Z")},
		Jurisdictions: []string{"CN", "EU"}, Severity: map[string]string{"CN": "relatively_serious", "EU": "high_risk"},
		Affected:   &incident.Affected{Subjects: 2, Rows: 3, Unknown: 1, Unwindowed: []string{"shop.notes"}, SelectedAt: *at("2026-06-01T02:00:00Z")},
		ReportedAt: at("2026-06-01T03:00:00Z"), NotifiedAt: at("2026-06-01T03:10:00Z"), OpenedBy: "op_a",
		Timeline: []incident.Event{
			{At: *at("2026-06-01T01:20:00Z"), Action: "incident.open", By: "op_a"},
			{At: *at("2026-06-01T02:00:00Z"), Action: "incident.assess", By: "op_a", Detail: "CN relatively_serious, EU high_risk; 2 subjects"},
			{At: *at("2026-06-01T03:00:00Z"), Action: "incident.notify", By: "op_a", Detail: "regulator"},
			{At: *at("2026-06-01T03:10:00Z"), Action: "incident.notify", By: "op_a", Detail: "2 notices queued, 0 people without an address"},
		}}
}

// TestDocumentsGolden: the regulator report (Markdown and HTML) and the
// public announcement in both languages, as files a reviewer reads.
func TestDocumentsGolden(t *testing.T) {
	m := starter(t)
	i := reportIncident()
	clocks := incident.Clocks(i, incident.SettingsOf(m), *at("2026-06-01T04:00:00Z"))
	dl := map[string]int{"sent": 1, "pending": 1}
	for _, c := range []struct{ kind, format string }{{"report", "md"}, {"report", "html"}, {"announcement", "md"}} {
		for _, lang := range []string{"zh-CN", "en"} {
			name := c.kind + "." + lang + "." + c.format
			t.Run(name, func(t *testing.T) {
				got, err := incident.Render(incident.NewDocument(i, m, clocks, dl, lang), c.kind, c.format)
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", name)
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("%s (-want +got):\n%s", path, diff)
				}
			})
		}
	}
	if _, err := incident.Render(incident.NewDocument(i, m, clocks, dl, "en"), "announcement", "html"); err == nil {
		t.Error("an HTML announcement rendered")
	}
}

// TestEvidenceFiles: the evidence of the incidents discovered in the
// period: their records and each one's reports in both languages;
// nothing of an incident discovered outside it.
func TestEvidenceFiles(t *testing.T) {
	e := newEnv(t, starter(t))
	in := incident.OpenInput{Description: incident.Text{EN: "lost laptop"}, Categories: []string{"basic.email"}}
	var ids []string
	for _, disc := range []string{"2026-05-01T00:00:00Z", "2026-05-20T00:00:00Z", "2026-06-01T00:00:00Z"} {
		in.DiscoveredAt = *at(disc)
		i, err := e.svc.Open(e.ctx, admin, in)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, i.ID)
	}
	files, err := e.svc.EvidenceFiles(e.ctx, *at("2026-05-01T00:00:00Z"), *at("2026-06-01T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range files {
		names = append(names, name)
	}
	want := []string{"incidents.json",
		ids[0] + "-report.en.md", ids[0] + "-report.zh-CN.md",
		ids[1] + "-report.en.md", ids[1] + "-report.zh-CN.md"}
	if diff := cmp.Diff(want, names, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	var doc struct {
		Incidents []struct {
			ID     string           `json:"id"`
			Clocks []incident.Clock `json:"clocks"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal(files["incidents.json"], &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Incidents) != 2 || doc.Incidents[0].ID != ids[0] || len(doc.Incidents[0].Clocks) == 0 {
		t.Errorf("incidents.json = %s", files["incidents.json"])
	}
	if !strings.Contains(string(files[ids[1]+"-report.en.md"]), "lost laptop") {
		t.Errorf("the report lacks the description:\n%s", files[ids[1]+"-report.en.md"])
	}
}

// plainSealer only flips bits: enough for a test that reads no payload.
type plainSealer struct{}

func flip(b []byte) []byte {
	out := make([]byte, len(b))
	for k, c := range b {
		out[k] = c ^ 0xff
	}
	return out
}

func (plainSealer) Seal(_ context.Context, _ string, p, _ []byte) ([]byte, error) {
	return flip(p), nil
}
func (plainSealer) Open(_ context.Context, _ string, c, _ []byte) ([]byte, error) {
	return flip(c), nil
}

// TestEscalateOncePerStage: each clock is escalated when it enters its
// warning window and again when it is overdue, once per stage, to every
// address the policy names, even from a service started afresh; met
// clocks and closed incidents are not escalated.
func TestEscalateOncePerStage(t *testing.T) {
	m := starter(t)
	m.Security.Incident.Escalate = []string{"sec@example.com", "dpo@example.com"}
	e := newEnv(t, m)
	svc := func() *incident.Service {
		return incident.New(e.st, incident.Options{Now: e.clock.Now, Sealer: plainSealer{},
			Policy: func(context.Context) (*manifest.Manifest, error) { return m, nil }})
	}
	i, err := svc().Open(e.ctx, admin, incident.OpenInput{Description: incident.Text{EN: "leak"}, DiscoveredAt: *at("2026-06-01T00:00:00Z"), Categories: []string{"basic.email"}})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		now  string
		want []string // clock/stage escalated
	}{
		{"2026-06-01T02:00:00Z", nil},
		{"2026-06-01T03:30:00Z", []string{"cn_regulator/warning"}},
		{"2026-06-01T03:45:00Z", nil},
		{"2026-06-01T04:00:01Z", []string{"cn_regulator/overdue"}},
		{"2026-06-01T18:00:00Z", []string{"cn_subjects/warning"}},
		{"2026-06-03T06:00:00Z", []string{"cn_subjects/overdue", "eu_authority/warning"}},
	}
	for _, s := range steps {
		e.clock.Set(*at(s.now))
		es, err := svc().Escalate(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, x := range es {
			got = append(got, x.Clock+"/"+x.Stage)
			if x.Messages != 2 || x.Incident != i.ID {
				t.Errorf("%s: escalation %+v, want 2 messages for %s", s.now, x, i.ID)
			}
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("%s: escalated (-want +got):\n%s", s.now, diff)
		}
	}
	if _, err := svc().Notify(e.ctx, admin, i.ID, incident.NotifyInput{Regulator: true}); !errors.Is(err, incident.ErrState) {
		t.Fatalf("notify before assessing: %v", err)
	}
	if _, err := svc().Close(e.ctx, admin, i.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(*at("2026-06-05T00:00:00Z"))
	if es, err := svc().Escalate(e.ctx); err != nil || len(es) != 0 {
		t.Errorf("a closed incident escalated: %+v, %v", es, err)
	}
	ds, err := e.st.Outbox().Due(e.ctx, *at("2100-01-01T00:00:00Z"), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 10 {
		t.Errorf("outbox holds %d escalation messages, want 10 (5 stages × 2 addresses)", len(ds))
	}
}
