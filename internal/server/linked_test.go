package server_test

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// Monday 28 September 2026, 10:00 in China: the count runs across the
// Mid-Autumn and National Day holidays (1-7 October off, Saturday 10
// October a make-up working day).
var linkedNow = time.Date(2026, 9, 28, 10, 0, 0, 0, calendar.China)

// publicCall makes an unauthenticated call on host, with the requester's
// access token when one is given.
func (d *deployment) publicCall(t *testing.T, host, method, path, body, token string) (int, []byte) {
	t.Helper()
	req := httptest.NewRequest(method, "http://"+host+path, strings.NewReader(body))
	req.Host = host
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Request-Token", token)
	}
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, b
}

// tenantOf returns the organisation's tenant.
func (d *deployment) tenantOf(t *testing.T, id string) *tenant {
	t.Helper()
	for _, tn := range d.tenants {
		if tn.org == id {
			return tn
		}
	}
	t.Fatalf("no tenant %s", id)
	return nil
}

// codeFor sends every organisation's queued codes and returns the last one
// the development sink holds for address ("": only send).
func (d *deployment) codeFor(t *testing.T, address string) string {
	t.Helper()
	for _, id := range append([]string{store.DefaultOrg}, d.orgIDs()...) {
		srv := d.srv.Org(id)
		srv.Requests().Drain()
		if _, _, err := srv.Dispatcher().RunOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if address == "" {
		return ""
	}
	code := ""
	for _, m := range sinkMessages(t, filepath.Join(d.dir, "outbox")) {
		if m.To == address {
			if c := codePattern.FindString(m.Text); c != "" {
				code = c
			}
		}
	}
	if code == "" {
		t.Fatalf("no code was sent to the requester")
	}
	return code
}

func (d *deployment) orgIDs() []string {
	var out []string
	for _, tn := range d.tenants[1:] {
		out = append(out, tn.org)
	}
	return out
}

// submitAndVerify files a public request at host for the identity and
// proves it with the code; it returns the verified view and the token.
func (d *deployment) submitAndVerify(t *testing.T, host, kind, email string) (dsr.View, string) {
	t.Helper()
	code, b := d.publicCall(t, host, "POST", "/v1/public/requests",
		`{"type": "`+kind+`", "language": "zh-CN", "identity": {"kind": "email", "value": "`+email+`"}}`, "")
	if code != http.StatusAccepted {
		t.Fatalf("submit at %s: %d %s", host, code, b)
	}
	var acc dsr.Accepted
	json.Unmarshal(b, &acc)
	otp := d.codeFor(t, email)
	code, b = d.publicCall(t, host, "POST", "/v1/public/requests/"+acc.ID+"/verify", `{"code": "`+otp+`"}`, acc.AccessToken)
	if code != http.StatusOK {
		t.Fatalf("verify at %s: %d %s", host, code, b)
	}
	var v dsr.View
	json.Unmarshal(b, &v)
	return v, acc.AccessToken
}

// requests lists an organisation's requests through its API.
func (d *deployment) requests(t *testing.T, tn *tenant) []dsr.View {
	t.Helper()
	var list struct {
		Requests []dsr.View `json:"requests"`
	}
	if err := json.Unmarshal(d.must(t, tn, "GET", "/v1/requests", "", http.StatusOK), &list); err != nil {
		t.Fatal(err)
	}
	return list.Requests
}

// assistance lists an organisation's assistance tasks through its API.
func (d *deployment) assistance(t *testing.T, tn *tenant, state string) []dsr.Assistance {
	t.Helper()
	var list struct {
		Tasks []dsr.Assistance `json:"tasks"`
	}
	if err := json.Unmarshal(d.must(t, tn, "GET", "/v1/assistance?state="+state, "", http.StatusOK), &list); err != nil {
		t.Fatal(err)
	}
	return list.Tasks
}

// identities counts the identities an organisation keeps for a subject.
func (d *deployment) identities(t *testing.T, tn *tenant, subject string) int {
	t.Helper()
	var sub struct {
		Identities []json.RawMessage `json:"identities"`
	}
	if err := json.Unmarshal(d.must(t, tn, "GET", "/v1/subjects/"+subject, "", http.StatusOK), &sub); err != nil {
		t.Fatal(err)
	}
	return len(sub.Identities)
}

func openOnly(vs []dsr.View) []dsr.View {
	var out []dsr.View
	for _, v := range vs {
		if slices.Contains(dsr.OpenStates, v.State) {
			out = append(out, v)
		}
	}
	return out
}

// TestYonyouEnterpriseControlledData: an employee of an enterprise
// customer of Yonyou Cloud asks, at Yonyou Cloud's privacy center, for
// access to their data. Yonyou Cloud processes it for the enterprise under
// an entrustment, so the request lands in the enterprise's queue on the
// enterprise's deadline (10 working days, against Yonyou's 30); Yonyou
// keeps a task to assist by the entrustment's deadline and nothing in its
// own queue; the enterprise's export holds the enterprise-controlled data;
// and the employee is told who the controller is.
func TestYonyouEnterpriseControlledData(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			yonyou := filepath.Join("..", "..", "examples", "yonyou-cloud")
			admin := consent.Actor{ID: "test", Role: "admin", Place: "test"}
			var entrustment string
			d := startOrgs(t, backend, filepath.Join(yonyou, "custos.yaml"),
				[]orgSpec{{id: "example-mfg", name: "示例制造有限公司", host: "privacy.manufacturing.test", manifest: filepath.Join(yonyou, "enterprise.yaml")}},
				func(reg *org.Registry) {
					e, err := reg.Entrust(t.Context(), admin, org.EntrustInput{Controller: "example-mfg", Processor: store.DefaultOrg,
						Categories: []string{"basic.name", "basic.phone", "basic.email"}, Purposes: []string{"hr-management", "staff-directory"},
						Instructions: "Run the HR application as the administrator configures it.", Assist: "5 working_days", StartsOn: "2026-01-01"})
					if err != nil {
						t.Fatal(err)
					}
					entrustment = e.ID
				}, server.WithClock(func() time.Time { return linkedNow }))
			ours, mfg := d.tenants[0], d.tenantOf(t, "example-mfg")
			const email = "wang.fang@manufacturing.example"
			d.must(t, mfg, "POST", "/v1/subjects",
				`{"subject_id": "emp-7", "language": "zh-CN", "birth_date": "1991-04-02", "identities": [{"kind": "email", "value": "`+email+`", "keep": true}]}`, http.StatusCreated)
			d.must(t, mfg, "POST", "/v1/subjects/emp-7/consents",
				`{"grant": ["staff-directory"], "method": "api", "language": "zh-CN", "notice_hash": "`+strings.Repeat("b", 64)+`"}`, http.StatusCreated)

			v, token := d.submitAndVerify(t, ours.host, "access", email)

			// The employee is told who controls the data and where the
			// request went; not of Yonyou's own task.
			if v.State != dsr.StateForwarded || len(v.Flags.Routes) != 1 {
				t.Fatalf("verified at Yonyou: state %s, routes %+v", v.State, v.Flags.Routes)
			}
			route := v.Flags.Routes[0]
			if route.ID != "example-mfg" || route.Name != "示例制造有限公司" || route.Role != "controller" || route.Request == "" ||
				route.DueDate != "2026-10-16" || route.Assistance != "" || !slices.Equal(route.Hosts, []string{"privacy.manufacturing.test"}) {
				t.Errorf("route = %+v", route)
			}
			if !strings.Contains(v.Explanation, "示例制造有限公司") || !strings.Contains(v.Explanation, "处理者") {
				t.Errorf("explanation = %q", v.Explanation)
			}
			code, b := d.publicCall(t, ours.host, "GET", "/v1/public/requests/"+v.ID, "", token)
			if code != http.StatusOK || !bytes.Contains(b, []byte(route.Request)) {
				t.Errorf("the requester's status at Yonyou: %d %s", code, b)
			}
			// Yonyou's privacy center shows who controls the data, where the
			// request went, by when, and the controller's privacy center.
			br := &browser{d: d, host: ours.host, cookies: map[string]string{}}
			br.do("GET", "/privacy/", nil)
			if code, _ := br.do("POST", "/privacy/requests/follow", url.Values{"request": {v.ID}, "token": {token}}); code != http.StatusSeeOther {
				t.Fatalf("follow the request: %d", code)
			}
			code, page := br.do("GET", "/privacy/requests/"+v.ID+"?lang=en", nil)
			page = strings.ReplaceAll(page, "<wbr>", "")
			for _, want := range []string{`id="routes"`, "Who controls your information", "示例制造有限公司", "Controller (we process for it)",
				route.Request, "2026-10-16", "https://privacy.manufacturing.test/privacy/", "Passed to the controller"} {
				if code != http.StatusOK || !strings.Contains(page, want) {
					t.Errorf("the center's status page (%d) lacks %q", code, want)
				}
			}
			if strings.Contains(page, "as_") {
				t.Error("the center's status page shows Yonyou's assistance task")
			}

			// Yonyou's own queue holds nothing open; its assistance task
			// is due in 5 working days: 29, 30 September, 8, 9 October and
			// Saturday 10 October, a make-up working day.
			if open := openOnly(d.requests(t, ours)); len(open) != 0 {
				t.Errorf("Yonyou's queue holds %+v", open)
			}
			tasks := d.assistance(t, ours, "open")
			if len(tasks) != 1 {
				t.Fatalf("Yonyou's assistance tasks = %+v", tasks)
			}
			if tk := tasks[0]; tk.Controller != "example-mfg" || tk.ControllerRequest != route.Request ||
				tk.Entrustment != entrustment || tk.DueDate != "2026-10-10" || tk.Request != v.ID {
				t.Errorf("assistance task = %+v", tk)
			}

			// The enterprise's queue holds it, on its own deadline of 10
			// working days: 29, 30 September, 8, 9, 10 (make-up) and 12-16
			// October.
			open := openOnly(d.requests(t, mfg))
			if len(open) != 1 || open[0].ID != route.Request || open[0].State != dsr.StateVerified || open[0].DueDate != "2026-10-16" ||
				open[0].SubjectID != "emp-7" || open[0].Flags.From == nil || open[0].Flags.From.ID != store.DefaultOrg || open[0].Flags.From.Request != v.ID {
				t.Fatalf("the enterprise's queue = %+v", open)
			}
			d.must(t, mfg, "POST", "/v1/requests/"+route.Request+"/approve", "", http.StatusOK)
			var done dsr.View
			json.Unmarshal(d.must(t, mfg, "POST", "/v1/requests/"+route.Request+"/complete", "{}", http.StatusOK), &done)
			if done.State != dsr.StateCompleted || done.Download == "" {
				t.Fatalf("completed = %+v", done)
			}
			u := strings.TrimPrefix(done.Download, "https://"+mfg.host)
			code, zipped := d.publicCall(t, mfg.host, "GET", u, "", "")
			if code != http.StatusOK {
				t.Fatalf("download: %d %s", code, zipped)
			}
			zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
			if err != nil {
				t.Fatal(err)
			}
			var all bytes.Buffer
			for _, f := range zr.File {
				rc, _ := f.Open()
				io.Copy(&all, rc)
				rc.Close()
			}
			for _, want := range []string{"emp-7", "staff-directory"} {
				if !strings.Contains(all.String(), want) {
					t.Errorf("the enterprise's export lacks %q", want)
				}
			}

			// Yonyou records its assistance as given, saying what it did,
			// once.
			finish := "/v1/assistance/" + tasks[0].ID + "/done"
			d.must(t, ours, "POST", finish, `{"note": " "}`, http.StatusUnprocessableEntity)
			var tk dsr.Assistance
			json.Unmarshal(d.must(t, ours, "POST", finish, `{"note": "HR records exported for the administrator"}`, http.StatusOK), &tk)
			if tk.State != store.AssistanceDone || tk.DoneAt == nil {
				t.Errorf("finish = %+v", tk)
			}
			d.must(t, ours, "POST", finish, `{"note": "again"}`, http.StatusConflict)
			if open := d.assistance(t, ours, "open"); len(open) != 0 {
				t.Errorf("open tasks after assisting = %+v", open)
			}
			// The enterprise knows nothing of Yonyou's tasks.
			if ts := d.assistance(t, mfg, ""); len(ts) != 0 {
				t.Errorf("the enterprise sees %+v", ts)
			}
			d.must(t, mfg, "POST", finish, `{"note": "x"}`, http.StatusNotFound)

			// The enterprise ends the entrustment and has the data deleted:
			// Yonyou erases the particulars of the request it passed on,
			// once, and keeps its own trail; the enterprise's request is
			// the enterprise's.
			// A second request leaves a task open when it ends.
			if second, _ := d.submitAndVerify(t, ours.host, "deletion", email); second.State != dsr.StateForwarded {
				t.Fatalf("a second request: %+v", second)
			}
			ended, err := org.New(d.srv.Store()).EndEntrustment(t.Context(), admin, entrustment, "delete")
			if err != nil {
				t.Fatal(err)
			}
			for i, want := range []struct{ erased, closed int }{{2, 1}, {0, 0}} {
				got, err := d.srv.Requests().EndEntrustment(t.Context(), admin, ended)
				if err != nil || got.RequestsErased != want.erased || got.TasksClosed != want.closed || got.Action != "delete" || got.Controller != "example-mfg" {
					t.Errorf("end, run %d = %+v, %v; want %+v", i+1, got, err, want)
				}
			}
			if open := d.assistance(t, ours, "open"); len(open) != 0 {
				t.Errorf("open tasks after the end = %+v", open)
			}
			if gone, err := d.srv.Keystore().Destroyed(t.Context(), keystore.Request(v.ID)); err != nil || !gone {
				t.Errorf("the passed request's key: destroyed %v, %v", gone, err)
			}
			if gone, _ := d.srv.Org("example-mfg").Keystore().Destroyed(t.Context(), keystore.Request(route.Request)); gone {
				t.Error("the enterprise's own request lost its key")
			}

			// An identity nobody holds, here or at the enterprise, is sent
			// no code and answered the same way; a guessed code fails.
			const stranger = "nobody@manufacturing.example"
			code, b = d.publicCall(t, ours.host, "POST", "/v1/public/requests",
				`{"type": "access", "language": "zh-CN", "identity": {"kind": "email", "value": "`+stranger+`"}}`, "")
			var acc dsr.Accepted
			if json.Unmarshal(b, &acc); code != http.StatusAccepted || acc.AccessToken == "" {
				t.Fatalf("submit for a stranger: %d %s", code, b)
			}
			d.codeFor(t, "") // sends what was queued
			for _, m := range sinkMessages(t, filepath.Join(d.dir, "outbox")) {
				if m.To == stranger {
					t.Errorf("a code went to an identity nobody holds")
				}
			}
			if code, b := d.publicCall(t, ours.host, "POST", "/v1/public/requests/"+acc.ID+"/verify", `{"code": "123456"}`, acc.AccessToken); code != http.StatusUnprocessableEntity {
				t.Errorf("a guessed code for a stranger: %d %s", code, b)
			}
		})
	}
}

// TestDeepinAffiliates: UnionTech and Wuhan Deepin Technology are
// affiliates sharing the deepin ID. A deletion request made at UnionTech's
// privacy center reaches both, one person and two controllers: each keeps
// its own request, on its own deadline, and completes it by itself.
func TestDeepinAffiliates(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			d, uniontech, wuhan := startDeepin(t, backend)
			const email = "lin.wei@example.com"
			for _, p := range []struct {
				tn *tenant
				id string
			}{{uniontech, "deepin-1001"}, {wuhan, "wd-88"}} {
				d.must(t, p.tn, "POST", "/v1/subjects",
					`{"subject_id": "`+p.id+`", "language": "zh-CN", "birth_date": "1990-01-01", "identities": [{"kind": "email", "value": "`+email+`", "keep": true}]}`, http.StatusCreated)
			}

			v, _ := d.submitAndVerify(t, uniontech.host, "deletion", email)
			// 15 working days from 28 September: 23 October.
			if v.State != dsr.StateVerified || v.DueDate != "2026-10-23" {
				t.Fatalf("UnionTech's request = %+v", v)
			}
			if len(v.Flags.Routes) != 1 {
				t.Fatalf("routes = %+v", v.Flags.Routes)
			}
			route := v.Flags.Routes[0]
			if route.ID != "wuhan-deepin" || route.Role != "affiliate" || route.Request == "" || route.DueDate != "2026-10-23" || route.Assistance != "" {
				t.Errorf("route = %+v", route)
			}
			theirs := openOnly(d.requests(t, wuhan))
			if len(theirs) != 1 || theirs[0].ID != route.Request || theirs[0].SubjectID != "wd-88" || theirs[0].Type != "deletion" {
				t.Fatalf("Wuhan Deepin's queue = %+v", theirs)
			}
			if ours := openOnly(d.requests(t, uniontech)); len(ours) != 1 || ours[0].ID != v.ID || ours[0].SubjectID != "deepin-1001" {
				t.Fatalf("UnionTech's queue = %+v", ours)
			}

			// UnionTech completes its own: Wuhan Deepin's stays open, on
			// its own deadline, until Wuhan Deepin completes it.
			d.must(t, uniontech, "POST", "/v1/requests/"+v.ID+"/approve", "", http.StatusOK)
			d.must(t, uniontech, "POST", "/v1/requests/"+v.ID+"/complete", "{}", http.StatusOK)
			// A deletion leaves the subject's record without its
			// identities.
			if n := d.identities(t, uniontech, "deepin-1001"); n != 0 {
				t.Errorf("UnionTech's subject keeps %d identities after its deletion", n)
			}
			if n := d.identities(t, wuhan, "wd-88"); n != 1 {
				t.Errorf("Wuhan Deepin's subject has %d identities before its own deletion", n)
			}
			if open := openOnly(d.requests(t, wuhan)); len(open) != 1 || open[0].DueDate != "2026-10-23" {
				t.Fatalf("Wuhan Deepin's queue after UnionTech completed = %+v", open)
			}
			d.must(t, wuhan, "POST", "/v1/requests/"+route.Request+"/approve", "", http.StatusOK)
			d.must(t, wuhan, "POST", "/v1/requests/"+route.Request+"/complete", "{}", http.StatusOK)
			if n := d.identities(t, wuhan, "wd-88"); n != 0 {
				t.Errorf("Wuhan Deepin's subject keeps %d identities after its deletion", n)
			}
			// Nothing was forwarded the other way, and the person's
			// address appears in no log line.
			if strings.Contains(d.logs.String(), email) {
				t.Error("the log names the requester's address")
			}
		})
	}
}

// startDeepin starts deepin's deployment on backend: UnionTech (the
// default organisation) and Wuhan Deepin Technology, affiliates in one
// group, both under deepin's policy.
func startDeepin(t *testing.T, backend string) (d *deployment, uniontech, wuhan *tenant) {
	t.Helper()
	deepin := filepath.Join("..", "..", "examples", "deepin", "custos.yaml")
	admin := consent.Actor{ID: "test", Role: "admin", Place: "test"}
	d = startOrgs(t, backend, deepin,
		[]orgSpec{{id: "wuhan-deepin", name: "武汉深之度科技有限公司", host: "privacy.deepin-wuhan.test", manifest: deepin}},
		func(reg *org.Registry) {
			for _, id := range []string{store.DefaultOrg, "wuhan-deepin"} {
				if _, err := reg.SetGroup(t.Context(), admin, id, "deepin"); err != nil {
					t.Fatal(err)
				}
			}
		}, server.WithClock(func() time.Time { return linkedNow }))
	return d, d.tenants[0], d.tenantOf(t, "wuhan-deepin")
}

// TestDeepinAffiliatesOperatorRequest: a request an operator takes for a
// subject reaches the affiliates that hold the same person, as one made
// at the privacy center does, found by the identity kept for the subject.
func TestDeepinAffiliatesOperatorRequest(t *testing.T) {
	d, uniontech, wuhan := startDeepin(t, "sqlite")
	const email = "lin.wei@example.com"
	d.must(t, uniontech, "POST", "/v1/subjects",
		`{"subject_id": "deepin-1001", "language": "zh-CN", "birth_date": "1990-01-01", "identities": [{"kind": "email", "value": "`+email+`", "keep": true}]}`, http.StatusCreated)
	d.must(t, wuhan, "POST", "/v1/subjects",
		`{"subject_id": "wd-88", "language": "zh-CN", "birth_date": "1990-01-01", "identities": [{"kind": "email", "value": "`+email+`"}]}`, http.StatusCreated)
	// Someone Wuhan Deepin does not hold: nothing goes there.
	d.must(t, uniontech, "POST", "/v1/subjects",
		`{"subject_id": "deepin-1002", "language": "zh-CN", "birth_date": "1990-01-01", "identities": [{"kind": "email", "value": "other@example.com", "keep": true}]}`, http.StatusCreated)

	var v dsr.View
	body := d.must(t, uniontech, "POST", "/v1/requests",
		`{"type": "deletion", "language": "zh-CN", "subject_id": "deepin-1001", "verification": "operator", "evidence": "deepin ID signed in, ticket 7"}`, http.StatusCreated)
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if v.State != dsr.StateVerified || len(v.Flags.Routes) != 1 || v.Flags.Routes[0].ID != "wuhan-deepin" || v.Flags.Routes[0].Role != "affiliate" || v.Flags.Routes[0].DueDate != "2026-10-23" {
		t.Fatalf("the operator's request = %+v", v)
	}
	theirs := openOnly(d.requests(t, wuhan))
	if len(theirs) != 1 || theirs[0].ID != v.Flags.Routes[0].Request || theirs[0].SubjectID != "wd-88" || theirs[0].Type != "deletion" {
		t.Fatalf("Wuhan Deepin's queue = %+v", theirs)
	}

	body = d.must(t, uniontech, "POST", "/v1/requests",
		`{"type": "access", "language": "zh-CN", "subject_id": "deepin-1002", "verification": "operator", "evidence": "ticket 8"}`, http.StatusCreated)
	v = dsr.View{}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Flags.Routes) != 0 || len(openOnly(d.requests(t, wuhan))) != 1 {
		t.Errorf("a person Wuhan Deepin does not hold was routed there: %+v", v.Flags.Routes)
	}
	for _, h := range v.History {
		if strings.HasPrefix(h.Note, dsr.NoteNotPassedOn) {
			t.Errorf("a request that was looked for at Wuhan Deepin says it was not: %+v", h)
		}
	}

	// Without an address kept, the affiliates cannot be asked; the
	// operator is told which, on the request's history.
	d.must(t, uniontech, "POST", "/v1/subjects",
		`{"subject_id": "deepin-1003", "language": "zh-CN", "birth_date": "1990-01-01", "identities": [{"kind": "email", "value": "wang.fang@example.com"}]}`, http.StatusCreated)
	body = d.must(t, uniontech, "POST", "/v1/requests",
		`{"type": "deletion", "language": "zh-CN", "subject_id": "deepin-1003", "verification": "operator", "evidence": "ticket 9"}`, http.StatusCreated)
	v = dsr.View{}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	var told []string
	for _, h := range v.History {
		if h.From == dsr.StateVerified && h.To == dsr.StateVerified {
			told = append(told, h.Note)
		}
	}
	if want := []string{dsr.NoteNotPassedOn + "wuhan-deepin"}; len(v.Flags.Routes) != 0 || !slices.Equal(told, want) {
		t.Errorf("a request about a person with no address kept: routes %+v, notes %q, want %q", v.Flags.Routes, told, want)
	}
	if strings.Contains(d.logs.String(), email) {
		t.Error("the log names the subject's address")
	}
}
