package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
)

// serve runs the deployment's server, as custos serve does, until the
// test ends: its background work follows the registry.
func (d *deployment) serve(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- d.srv.Serve(ctx, func(string) { close(ready) }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the server did not stop within 30 s")
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not listen within 10 s")
	}
}

// eventually calls ok until it holds, for a few poll intervals of the
// deployment's 50 ms.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRegistryChangesReachRunningServer: an organisation registered
// through the admin API while the server runs is served on its host, with
// its own key, once it has its secrets and a policy (until then it is
// logged once, and its host answers 404); disabled, it is no longer
// served, and its host answers as before it existed; enabled, it is back.
func TestRegistryChangesReachRunningServer(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			starter := filepath.Join("..", "..", "examples", "starter", "custos.yaml")
			d := startOrgs(t, backend, starter, nil, nil)
			d.serve(t)
			ours := d.tenants[0]
			sp := orgSpec{id: "acme", name: "Acme Ltd", host: "acme.test", manifest: filepath.Join("..", "..", "examples", "deepin", "custos.yaml")}
			// What a path that does not exist answers: so do all of a
			// disabled organisation's, as at start.
			goneCode, goneBody := d.publicCall(t, ours.host, "GET", "/v1/no-such-path", "", "")

			// Registered, with its secrets, before its policy is published.
			if _, err := secrets.Init(d.cfg.OrgSecretsDir(sp.id), false); err != nil {
				t.Fatal(err)
			}
			d.must(t, ours, "POST", "/v1/orgs", `{"id": "acme", "name": "Acme Ltd", "hosts": ["acme.test"]}`, http.StatusCreated)
			unserved := func() int { return strings.Count(d.logs.String(), `msg="organisation not served`) }
			eventually(t, "the organisation without a policy is logged", func() bool { return unserved() > 0 })
			if code, _ := d.publicCall(t, sp.host, "GET", "/privacy/", "", ""); code != http.StatusNotFound {
				t.Errorf("its privacy center before its policy: %d, want 404", code)
			}
			time.Sleep(300 * time.Millisecond) // several polls
			if n := unserved(); n != 1 {
				t.Errorf("the organisation without a policy was logged %d times, want once", n)
			}

			acme := publishOrg(t, d.cfg, sp)
			d.tenants = append(d.tenants, acme)
			eventually(t, "the new organisation is served", func() bool { return d.srv.Org("acme") != nil })
			d.must(t, acme, "GET", "/v1/requests", "", http.StatusOK)
			if code, _ := d.call(ours, acme.host, "GET", "/v1/requests", ""); code != http.StatusUnauthorized {
				t.Errorf("the deployment's key on acme's host: %d, want 401", code)
			}
			if code, _ := d.call(acme, ours.host, "GET", "/v1/requests", ""); code != http.StatusUnauthorized {
				t.Errorf("acme's key on the deployment's host: %d, want 401", code)
			}
			code, page := d.publicCall(t, acme.host, "GET", "/privacy/", "", "")
			if code != http.StatusOK || !strings.Contains(string(page), "统信软件技术有限公司") {
				t.Errorf("acme's privacy center: %d, without its controller's name", code)
			}
			d.must(t, acme, "POST", "/v1/subjects", `{"subject_id": "a-1", "language": "en", "birth_date": "1990-01-01"}`, http.StatusCreated)

			// A person waits for an answer: disabling is refused, saying
			// so, until the deployment's admin insists.
			d.must(t, acme, "POST", "/v1/requests",
				`{"type": "access", "language": "en", "subject_id": "a-1", "verification": "operator", "evidence": "ticket 1"}`, http.StatusCreated)
			if code, body := d.call(ours, ours.host, "POST", "/v1/orgs/acme/disable", ""); code != http.StatusConflict || !strings.Contains(string(body), `"org_open_requests"`) {
				t.Errorf("disable with a request open: %d %s, want 409 org_open_requests", code, body)
			}
			if code, body := d.call(ours, ours.host, "POST", "/v1/orgs/acme/disable?force=yes", ""); code != http.StatusBadRequest {
				t.Errorf("disable?force=yes: %d %s, want 400", code, body)
			}
			if d.srv.Org("acme") == nil {
				t.Fatal("refused, yet acme is no longer served")
			}

			// Disabled: not served, its host answers 404 everywhere, and
			// its key opens nothing anywhere.
			d.must(t, ours, "POST", "/v1/orgs/acme/disable?force=true", "", http.StatusOK)
			eventually(t, "the disabled organisation is no longer served", func() bool { return d.srv.Org("acme") == nil })
			for _, path := range []string{"/v1/subjects/a-1", "/privacy/"} {
				if code, body := d.call(acme, acme.host, "GET", path, ""); code != http.StatusNotFound || strings.Contains(string(body), "a-1") {
					t.Errorf("GET %s on the disabled organisation's host: %d %s, want 404", path, code, body)
				}
			}
			if code, body := d.publicCall(t, acme.host, "GET", "/v1/requests", "", ""); code != goneCode || string(body) != string(goneBody) {
				t.Errorf("the disabled organisation's host: %d %s; a path that does not exist: %d %s", code, body, goneCode, goneBody)
			}
			eventually(t, "the log says the organisation stopped being served", func() bool {
				return strings.Contains(d.logs.String(), `msg="organisation no longer served" org=acme`)
			})

			// Enabled again: served again, with what it kept.
			d.must(t, ours, "POST", "/v1/orgs/acme/enable", "", http.StatusOK)
			eventually(t, "the re-enabled organisation is served", func() bool { return d.srv.Org("acme") != nil })
			d.must(t, acme, "GET", "/v1/subjects/a-1", "", http.StatusOK)

			// Its hosts move.
			d.must(t, ours, "PUT", "/v1/orgs/acme/hosts", `{"hosts": ["privacy.acme.test"]}`, http.StatusOK)
			eventually(t, "the new host is acme's", func() bool {
				code, _ := d.call(acme, "privacy.acme.test", "GET", "/v1/subjects/a-1", "")
				return code == http.StatusOK
			})
			if code, _ := d.call(acme, acme.host, "GET", "/v1/subjects/a-1", ""); code != http.StatusUnauthorized {
				t.Errorf("acme's key on its former host, now the deployment's: %d, want 401", code)
			}
		})
	}
}

// TestGroupSetWhileServing: two organisations served without a group;
// once both are put in one group while the server runs, a deletion asked
// at one reaches the other (as TestDeepinAffiliates, where the group is
// there at start); out of the group again, requests stay home.
func TestGroupSetWhileServing(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			deepin := filepath.Join("..", "..", "examples", "deepin", "custos.yaml")
			admin := consent.Actor{ID: "test", Role: "admin", Place: "test"}
			d := startOrgs(t, backend, deepin,
				[]orgSpec{{id: "wuhan-deepin", name: "武汉深之度科技有限公司", host: "privacy.deepin-wuhan.test", manifest: deepin}},
				nil, server.WithClock(func() time.Time { return linkedNow }))
			d.serve(t)
			uniontech, wuhan := d.tenants[0], d.tenantOf(t, "wuhan-deepin")
			const email = "lin.wei@example.com"
			for _, p := range []struct {
				tn *tenant
				id string
			}{{uniontech, "deepin-1001"}, {wuhan, "wd-88"}} {
				d.must(t, p.tn, "POST", "/v1/subjects",
					`{"subject_id": "`+p.id+`", "language": "zh-CN", "birth_date": "1990-01-01", "identities": [{"kind": "email", "value": "`+email+`", "keep": true}]}`, http.StatusCreated)
			}
			// Before the group: a request stays where it was made.
			if v, _ := d.submitAndVerify(t, uniontech.host, "access", email); len(v.Flags.Routes) != 0 {
				t.Fatalf("routes before the group = %+v", v.Flags.Routes)
			}

			reg := org.New(d.srv.Store())
			for _, id := range []string{store.DefaultOrg, "wuhan-deepin"} {
				if _, err := reg.SetGroup(t.Context(), admin, id, "deepin"); err != nil {
					t.Fatal(err)
				}
			}
			eventually(t, "the group reaches the rights services", func() bool {
				return strings.Contains(d.logs.String(), `wuhan-deepin (affiliate)`) &&
					strings.Contains(d.logs.String(), `default (affiliate)`)
			})
			v, _ := d.submitAndVerify(t, uniontech.host, "deletion", email)
			if len(v.Flags.Routes) != 1 || v.Flags.Routes[0].ID != "wuhan-deepin" || v.Flags.Routes[0].Role != "affiliate" || v.Flags.Routes[0].Request == "" {
				t.Fatalf("routes after the group = %+v", v.Flags.Routes)
			}
			theirs := openOnly(d.requests(t, wuhan))
			if len(theirs) != 1 || theirs[0].ID != v.Flags.Routes[0].Request || theirs[0].SubjectID != "wd-88" || theirs[0].Type != "deletion" {
				t.Fatalf("Wuhan Deepin's queue = %+v", theirs)
			}

			// Out of the group again: the next request stays home.
			if _, err := reg.SetGroup(t.Context(), admin, "wuhan-deepin", ""); err != nil {
				t.Fatal(err)
			}
			eventually(t, "leaving the group reaches the rights services", func() bool {
				return strings.Contains(d.logs.String(), `links=[]`)
			})
			if v, _ := d.submitAndVerify(t, uniontech.host, "access", email); len(v.Flags.Routes) != 0 {
				t.Errorf("routes after leaving the group = %+v", v.Flags.Routes)
			}
			if strings.Contains(d.logs.String(), email) {
				t.Error("the log names the requester's address")
			}
		})
	}
}

// TestEntrustmentWhileServing: an entrustment made while the server runs
// sends a request made at the processor's privacy center to the
// controller's queue (as TestYonyouEnterpriseControlledData, where it is
// there at start); once it ends, the next request stays at the processor.
func TestEntrustmentWhileServing(t *testing.T) {
	yonyou := filepath.Join("..", "..", "examples", "yonyou-cloud")
	admin := consent.Actor{ID: "test", Role: "admin", Place: "test"}
	d := startOrgs(t, "sqlite", filepath.Join(yonyou, "custos.yaml"),
		[]orgSpec{{id: "example-mfg", name: "示例制造有限公司", host: "privacy.manufacturing.test", manifest: filepath.Join(yonyou, "enterprise.yaml")}},
		nil, server.WithClock(func() time.Time { return linkedNow }))
	d.serve(t)
	ours, mfg := d.tenants[0], d.tenantOf(t, "example-mfg")
	const email = "wang.fang@manufacturing.example"
	d.must(t, mfg, "POST", "/v1/subjects",
		`{"subject_id": "emp-7", "language": "zh-CN", "birth_date": "1991-04-02", "identities": [{"kind": "email", "value": "`+email+`", "keep": true}]}`, http.StatusCreated)

	reg := org.New(d.srv.Store())
	e, err := reg.Entrust(t.Context(), admin, org.EntrustInput{Controller: "example-mfg", Processor: store.DefaultOrg,
		Categories: []string{"basic.name", "basic.phone", "basic.email"}, Purposes: []string{"hr-management", "staff-directory"},
		Instructions: "Run the HR application as the administrator configures it.", Assist: "5 working_days", StartsOn: "2026-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the entrustment reaches the processor's rights service", func() bool {
		return strings.Contains(d.logs.String(), `example-mfg (controller)`)
	})
	v, _ := d.submitAndVerify(t, ours.host, "access", email)
	if len(v.Flags.Routes) != 1 || v.Flags.Routes[0].ID != "example-mfg" || v.Flags.Routes[0].Role != "controller" || v.Flags.Routes[0].Request == "" {
		t.Fatalf("routes under the entrustment = %+v", v.Flags.Routes)
	}
	if theirs := openOnly(d.requests(t, mfg)); len(theirs) != 1 || theirs[0].ID != v.Flags.Routes[0].Request {
		t.Fatalf("the controller's queue = %+v", theirs)
	}

	if _, err := reg.EndEntrustment(t.Context(), admin, e.ID, "delete"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the end reaches the processor's rights service", func() bool {
		return strings.Contains(d.logs.String(), `links=[]`)
	})
	// The processor now holds the person itself, so that the code goes
	// out from it: the request is its alone.
	d.must(t, ours, "POST", "/v1/subjects",
		`{"subject_id": "c-1", "language": "zh-CN", "birth_date": "1991-04-02", "identities": [{"kind": "email", "value": "`+email+`", "keep": true}]}`, http.StatusCreated)
	if v, _ := d.submitAndVerify(t, ours.host, "access", email); len(v.Flags.Routes) != 0 {
		t.Errorf("routes after the entrustment ended = %+v", v.Flags.Routes)
	}
	if n := len(d.requests(t, mfg)); n != 1 {
		t.Errorf("the controller holds %d requests after the entrustment ended, want the one from before", n)
	}
}

// TestRelinkWhileTakingRequests: the links of rights services in use
// change while public requests come in (run with -race: a link read by
// a request or by the code sent behind it must not overlap the change).
func TestRelinkWhileTakingRequests(t *testing.T) {
	deepin := filepath.Join("..", "..", "examples", "deepin", "custos.yaml")
	admin := consent.Actor{ID: "test", Role: "admin", Place: "test"}
	d := startOrgs(t, "sqlite", deepin,
		[]orgSpec{{id: "wuhan-deepin", name: "武汉深之度科技有限公司", host: "privacy.deepin-wuhan.test", manifest: deepin}},
		nil, server.WithClock(func() time.Time { return linkedNow }))
	d.serve(t)
	uniontech := d.tenants[0]
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		n, tries := 0, 0
		for {
			select {
			case <-stop:
				done <- n
				return
			default:
			}
			// From an address of its own each, to stay under the limits.
			req := httptest.NewRequest("POST", "http://"+uniontech.host+"/v1/public/requests",
				strings.NewReader(fmt.Sprintf(`{"type": "access", "language": "zh-CN", "identity": {"kind": "email", "value": "p%d@example.com"}}`, tries)))
			req.Header.Set("Content-Type", "application/json")
			req.RemoteAddr = fmt.Sprintf("10.%d.%d.1:1234", tries/256%256, tries%256)
			tries++
			rec := httptest.NewRecorder()
			d.h.ServeHTTP(rec, req)
			if rec.Code == http.StatusAccepted {
				n++
			}
		}
	}()
	reg := org.New(d.srv.Store())
	for i, group := range []string{"deepin", "", "deepin", ""} {
		for _, id := range []string{store.DefaultOrg, "wuhan-deepin"} {
			if _, err := reg.SetGroup(t.Context(), admin, id, group); err != nil {
				t.Fatal(err)
			}
		}
		want := 2 * (i + 1) // one line per organisation each time
		eventually(t, "the links change", func() bool {
			return strings.Count(d.logs.String(), `msg="requests reach linked organisations"`) >= want
		})
	}
	close(stop)
	if n := <-done; n == 0 {
		t.Error("no request was taken while the links changed")
	}
}
