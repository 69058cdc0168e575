package server_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/apikey"
	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/config"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/server"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/testdb"
)

// tenant is one organisation of a test deployment, as its API's callers
// reach it: on its host, with its admin key.
type tenant struct {
	org, host, key string
	// ids of its objects, by the path parameter that names them
	ids map[string]string
	// marks are strings only its objects carry: none may appear in an
	// answer to another organisation.
	marks []string
}

type deployment struct {
	h       http.Handler
	srv     *server.Server
	tenants []*tenant // the default organisation, then acme
	logs    *lockedBuffer
	cfg     config.Config
	dir     string // the deployment's files: secrets, database, outbox
}

// startDeployment runs the starter manifest for the deployment's own
// organisation and for acme, served on acme.test, with its own secrets;
// each gets the same subject id (u-1) and objects of every kind.
func startDeployment(t *testing.T, backend string) *deployment {
	t.Helper()
	starter := filepath.Join("..", "..", "examples", "starter", "custos.yaml")
	d := startOrgs(t, backend, starter, []orgSpec{{id: "acme", name: "Acme Ltd", host: "acme.test", manifest: starter}}, nil)
	// Each organisation's checkpoints go to a file of its own.
	for _, f := range []string{"checkpoints.jsonl", "checkpoints.acme.jsonl"} {
		if _, err := os.Stat(filepath.Join(d.dir, f)); err != nil {
			t.Errorf("checkpoints: %v", err)
		}
	}
	for _, tn := range d.tenants {
		d.populate(t, tn)
	}
	return d
}

// marketingAllowed asks tn's API whether u-1's data may be used for
// marketing.
func (d *deployment) marketingAllowed(t *testing.T, tn *tenant) bool {
	t.Helper()
	var dec struct {
		Decisions []struct {
			Allowed bool `json:"allowed"`
		} `json:"decisions"`
	}
	b := d.must(t, tn, "POST", "/v1/check", `{"subject_id": "u-1", "purposes": ["marketing"]}`, http.StatusOK)
	if err := json.Unmarshal(b, &dec); err != nil || len(dec.Decisions) != 1 {
		t.Fatalf("%s: check: %s", tn.org, b)
	}
	return dec.Decisions[0].Allowed
}

// orgSpec is an organisation of a test deployment besides its own;
// dataset, when set, is an annotation of its own databases, put in its
// directory as custos operators are told to.
type orgSpec struct{ id, name, host, manifest, dataset string }

// startOrgs runs a deployment whose own organisation (on custos.test)
// publishes manifest, with the organisations of specs registered, each
// with its own secrets, published manifest and admin key, as custos orgs
// create, custos policy publish --org and custos keys create --org make
// them. setup, when set, changes the registry (groups, entrustments)
// before the server starts; opts go to the server.
func startOrgs(t testing.TB, backend, manifest string, specs []orgSpec, setup func(*org.Registry), opts ...server.Option) *deployment {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	secretsDir := filepath.Join(dir, "secrets")
	if _, err := secrets.Init(secretsDir, false); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"CUSTOS_DB":          filepath.Join(dir, "custos.db"),
		"CUSTOS_MANIFEST":    manifest,
		"CUSTOS_SECRETS_DIR": secretsDir,
		"CUSTOS_NOTIFY_DIR":  filepath.Join(dir, "outbox"),
		"CUSTOS_CHECKPOINTS": filepath.Join(dir, "checkpoints.jsonl"),
		// For the tests that serve (deployment.serve): a free port, and
		// the registry's changes followed within a few milliseconds.
		"CUSTOS_ADDR":          "127.0.0.1:0",
		"CUSTOS_POLL_INTERVAL": "50ms",
	}
	if backend == "postgres" {
		env["CUSTOS_DB"], env["CUSTOS_KEYSTORE"] = testdb.Postgres(t), testdb.Postgres(t)
	}
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	keys, err := server.LoadKeys(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := server.OpenStore(ctx, cfg, keys, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	admin := consent.Actor{ID: "test", Role: "admin", Place: "test"}
	reg := org.New(st)
	for _, sp := range specs {
		if _, err := reg.Create(ctx, admin, sp.id, sp.name, sp.host); err != nil {
			t.Fatal(err)
		}
	}
	if setup != nil {
		setup(reg)
	}
	st.Close()
	var tenants []*tenant
	for _, sp := range specs {
		tenants = append(tenants, prepareOrg(t, cfg, sp))
	}

	logs := &lockedBuffer{}
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(logs, nil)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	for _, sp := range specs {
		if srv.Org(sp.id) == nil {
			t.Fatalf("%s is not served:\n%s", sp.id, logs)
		}
	}
	ourKey, err := apikey.New(srv.Store(), apikey.Options{}).Create(ctx, admin, "our admin", apikey.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	return &deployment{h: srv.Handler(), srv: srv, logs: logs, cfg: cfg, dir: dir,
		tenants: append([]*tenant{{org: store.DefaultOrg, host: "custos.test", key: ourKey.Secret}}, tenants...)}
}

// prepareOrg makes a registered organisation's secrets, publishes its
// manifest and makes its admin key, as custos secrets init, custos policy
// publish --org and custos keys create --org do.
func prepareOrg(t testing.TB, cfg config.Config, sp orgSpec) *tenant {
	t.Helper()
	if _, err := secrets.Init(cfg.OrgSecretsDir(sp.id), false); err != nil {
		t.Fatal(err)
	}
	if sp.dataset != "" {
		b, err := os.ReadFile(sp.dataset)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(cfg.OrgSecretsDir(sp.id), config.OrgDatasetFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return publishOrg(t, cfg, sp)
}

// publishOrg publishes a registered organisation's manifest and makes its
// admin key, through a store of its own beside any server running.
func publishOrg(t testing.TB, cfg config.Config, sp orgSpec) *tenant {
	t.Helper()
	ctx := t.Context()
	admin := consent.Actor{ID: "test", Role: "admin", Place: "test"}
	orgCfg, err := cfg.ForOrg(sp.id)
	if err != nil {
		t.Fatal(err)
	}
	svcs, err := server.OpenServices(ctx, orgCfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer svcs.Close()
	source, err := os.ReadFile(sp.manifest)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svcs.Consent.Publish(ctx, admin, sp.manifest, source); err != nil {
		t.Fatal(err)
	}
	key, err := apikey.New(svcs.Store, apikey.Options{}).Create(ctx, admin, sp.id+" admin", apikey.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	return &tenant{org: sp.id, host: sp.host, key: key.Secret}
}

// populate gives an organisation one object of every kind the API names
// by a path parameter, and notes their ids and marks.
func (d *deployment) populate(t *testing.T, tn *tenant) {
	t.Helper()
	own := "only-" + tn.org // a subject only this organisation has
	email := tn.org + "-person@example.com"
	for _, body := range []string{
		`{"subject_id": "u-1", "jurisdiction": "CN", "language": "en", "birth_date": "1990-01-01", "identities": [{"kind": "email", "value": "` + email + `", "keep": true}]}`,
		`{"subject_id": "` + own + `", "jurisdiction": "CN", "language": "en", "birth_date": "1990-01-01"}`,
	} {
		d.must(t, tn, "POST", "/v1/subjects", body, http.StatusCreated)
	}
	var ev struct {
		Events []struct {
			ID string `json:"id"`
		} `json:"events"`
	}
	grant := `{"grant": ["analytics"], "method": "api", "language": "en", "notice_hash": "` + strings.Repeat("a", 64) + `"}`
	json.Unmarshal(d.must(t, tn, "POST", "/v1/subjects/"+own+"/consents", grant, http.StatusCreated), &ev)
	d.must(t, tn, "POST", "/v1/subjects/u-1/consents", grant, http.StatusCreated)
	d.must(t, tn, "PUT", "/v1/subjects/"+own+"/vault/email", `{"value": "`+email+`"}`, http.StatusOK)
	var rq struct {
		ID string `json:"id"`
	}
	json.Unmarshal(d.must(t, tn, "POST", "/v1/requests",
		`{"type": "access", "language": "en", "jurisdiction": "CN", "subject_id": "`+own+`", "verification": "operator", "evidence": "ticket `+tn.org+`"}`,
		http.StatusCreated), &rq)
	var key struct {
		ID string `json:"id"`
	}
	json.Unmarshal(d.must(t, tn, "POST", "/v1/keys", `{"name": "svc-`+tn.org+`", "role": "service"}`, http.StatusCreated), &key)
	var hl struct {
		ID string `json:"id"`
	}
	json.Unmarshal(d.must(t, tn, "POST", "/v1/holds",
		`{"scope": {"subject_id": "`+own+`"}, "reason": "dispute of `+tn.org+`", "authority": "case `+tn.org+`"}`, http.StatusCreated), &hl)
	var inc struct {
		ID string `json:"id"`
	}
	json.Unmarshal(d.must(t, tn, "POST", "/v1/incidents",
		`{"description": {"en": "breach of `+tn.org+`"}, "discovered_at": "`+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+`", "categories": ["basic.email"]}`,
		http.StatusCreated), &inc)
	if len(ev.Events) == 0 || rq.ID == "" || key.ID == "" || hl.ID == "" || inc.ID == "" {
		t.Fatalf("%s: event %v, request %q, key %q, hold %q", tn.org, ev.Events, rq.ID, key.ID, hl.ID)
	}
	// An assistance task, as a request passed to a controller leaves
	// (TestYonyouEnterpriseControlledData makes one the long way).
	st := d.srv.Org(tn.org).Store()
	task := store.AssistanceTask{ID: "as_" + tn.org, Entrustment: "en_" + tn.org, Controller: "ctl-" + tn.org, ControllerRequest: "rq_ctl",
		RequestID: rq.ID, Kind: "access", DueDate: "2026-10-10", State: store.AssistanceOpen, CreatedAt: time.Now()}
	if err := st.Submit(t.Context(), &store.Write{Fn: st.AssistanceTaskFn(task)}); err != nil {
		t.Fatal(err)
	}
	// A notice to a recipient, and the token it carries for the recipient
	// to acknowledge it.
	notice := store.RecipientTask{ID: "rt_" + tn.org, RequestID: rq.ID, Recipient: "crm-" + tn.org, Action: "deletion", Method: "manual",
		Categories: []string{"contact"}, State: "pending", NextAt: time.Now(), UpdatedAt: time.Now()}
	if err := st.Submit(t.Context(), &store.Write{Fn: st.RecipientTaskFn(notice)}); err != nil {
		t.Fatal(err)
	}
	ackToken := d.srv.Org(tn.org).Requests().AckToken(notice.ID)
	if ackToken == "" {
		t.Fatalf("%s: no acknowledgement key", tn.org)
	}
	// An erasure certificate, as a deletion carried out in the
	// organisation's databases leaves (dsr's TestDeletionIssuesACertificate).
	cert, err := certificate.Sign(certificate.Certificate{ID: "cert_" + tn.org, Kind: certificate.KindRequest, Request: rq.ID,
		PlanHash: strings.Repeat("0c", 32), Started: time.Now(), Finished: time.Now(),
		Targets: []certificate.Target{{Datastore: "shop-" + tn.org, Collection: "customer", Action: certificate.ActionDelete, Rows: 1}}},
		ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)), "kid-"+tn.org)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutCertificate(t.Context(), cert); err != nil {
		t.Fatal(err)
	}
	tn.ids = map[string]string{
		"subject_id": own, "event": ev.Events[0].ID, "field": "email", "purpose": "marketing",
		"id": rq.ID, "recipient": notice.Recipient, "key_id": key.ID, "org_id": tn.org, "task_id": task.ID, "hold_id": hl.ID, "incident_id": inc.ID, "certificate_id": cert.ID,
		"token": ackToken,
	}
	tn.marks = []string{own, rq.ID, notice.ID, "crm-" + tn.org, key.ID, "svc-" + tn.org, email, ev.Events[0].ID, "ticket " + tn.org, task.ID, hl.ID, "case " + tn.org, cert.ID, "shop-" + tn.org, inc.ID, "breach of " + tn.org}
}

func (d *deployment) call(tn *tenant, host, method, path, body string) (int, []byte) {
	req := httptest.NewRequest(method, "http://"+host+path, strings.NewReader(body))
	req.Host = host
	if tn != nil {
		req.Header.Set("Authorization", "Bearer "+tn.key)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	d.h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, b
}

func (d *deployment) must(t *testing.T, tn *tenant, method, path, body string, want int) []byte {
	t.Helper()
	code, b := d.call(tn, tn.host, method, path, body)
	if code != want {
		t.Fatalf("%s %s %s: %d, want %d: %s", tn.org, method, path, code, want, b)
	}
	return b
}

// routes reads the API's route table from its own OpenAPI document: a
// route added later is in it, and so in this suite.
func (d *deployment) routes(t *testing.T) [][2]string {
	t.Helper()
	code, b := d.call(nil, "custos.test", "GET", "/openapi.json", "")
	if code != http.StatusOK {
		t.Fatalf("openapi.json: %d", code)
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	for path, ops := range doc.Paths {
		for method := range ops {
			if m := strings.ToUpper(method); slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, m) {
				out = append(out, [2]string{m, path})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][1]+out[i][0] < out[j][1]+out[j][0] })
	if len(out) < 40 {
		t.Fatalf("the route table has %d routes; reading it broke", len(out))
	}
	return out
}

var param = regexp.MustCompile(`\{([a-z_]+)\}`)

// fill puts tn's ids into path's parameters; ok is false for a parameter
// the suite has no object for.
func fill(path string, tn *tenant) (string, bool) {
	ok := true
	out := param.ReplaceAllStringFunc(path, func(p string) string {
		name := p[1 : len(p)-1]
		if name == "id" && strings.HasPrefix(path, "/v1/keys/") {
			name = "key_id"
		}
		if name == "id" && strings.HasPrefix(path, "/v1/holds/") {
			name = "hold_id"
		}
		if name == "id" && strings.HasPrefix(path, "/v1/incidents/") {
			name = "incident_id"
		}
		v, found := tn.ids[name]
		ok = ok && found
		return v
	})
	return out, ok
}

// TestOrganisationsIsolatedOverTheRouteTable: for every route of the API,
// an organisation's admin reaching for another organisation's object (its
// id in the path) gets 404 and nothing of it, while the same route works
// on the organisation's own; lists, the audit trail and decisions show
// only the organisation's own; a key of one organisation is unknown on
// another's host; a disabled organisation's host answers as a path that
// does not exist.
func TestOrganisationsIsolatedOverTheRouteTable(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			d := startDeployment(t, backend)
			ours, acme := d.tenants[0], d.tenants[1]
			// One pool of key-store connections serves every organisation.
			if d.srv.Org("acme").Keystore().DB() != d.srv.Keystore().DB() {
				t.Error("acme's key store has a pool of its own")
			}
			routes := d.routes(t)
			for _, pair := range [][2]*tenant{{ours, acme}, {acme, ours}} {
				me, other := pair[0], pair[1]
				for _, rt := range routes {
					method, path := rt[0], rt[1]
					name := me.org + " " + method + " " + path
					theirs, ok := fill(path, other)
					if !ok {
						t.Errorf("%s: the suite has no object for a parameter of this route: give populate one", name)
						continue
					}
					body := ""
					if method != "GET" && method != "DELETE" {
						body = "{}"
					}
					if strings.HasPrefix(path, "/v1/orgs") {
						// The registry is the deployment's, its operator's
						// alone (tried below): every other organisation's
						// hosts answer as for a path that does not exist.
						if me.org != store.DefaultOrg {
							if code, b := d.call(me, me.host, method, theirs, body); code != http.StatusNotFound {
								t.Errorf("%s: %d, want 404: %s", name, code, b)
							}
						}
						continue
					}
					code, b := d.call(me, me.host, method, theirs, body)
					leaked := ""
					for _, m := range other.marks {
						if bytes.Contains(b, []byte(m)) {
							leaked = m
						}
					}
					switch {
					case leaked != "":
						t.Errorf("%s for %s's object: the answer (%d) names %q: %s", name, other.org, code, leaked, b)
					case theirs != path && code != http.StatusNotFound && code != http.StatusUnprocessableEntity && code != http.StatusBadRequest:
						// A body the route refuses before looking is no
						// disclosure; anything else but 404 is.
						t.Errorf("%s for %s's object: %d, want 404: %s", name, other.org, code, b)
					case theirs == path && code < 400 && !strings.HasPrefix(path, "/v1/public/") && path != "/openapi.json" && path != "/metrics":
						// A route without parameters answers with the
						// organisation's own only; checked by the marks.
					}
					// The same route works on the organisation's own.
					if method == "GET" && theirs != path && !strings.HasPrefix(path, "/v1/public/") {
						mine, _ := fill(path, me)
						if code, b := d.call(me, me.host, method, mine+purposeQuery(path), ""); code != http.StatusOK {
							t.Errorf("%s on its own object: %d: %s", name, code, b)
						}
					}
				}
				// Another organisation's incident is not found, by its id
				// or in the list.
				if code, b := d.call(me, me.host, "GET", "/v1/incidents/"+other.ids["incident_id"], ""); code != http.StatusNotFound || !bytes.Contains(b, []byte(`"incident_not_found"`)) {
					t.Errorf("%s reading %s's incident: %d %s, want 404 incident_not_found", me.org, other.org, code, b)
				}
				if _, b := d.call(me, me.host, "GET", "/v1/incidents?all=true", ""); bytes.Contains(b, []byte(other.ids["incident_id"])) || !bytes.Contains(b, []byte(me.ids["incident_id"])) {
					t.Errorf("%s's incidents: %s", me.org, b)
				}
				// A key is unknown on another organisation's host.
				if code, _ := d.call(me, other.host, "GET", "/v1/keys", ""); code != http.StatusUnauthorized {
					t.Errorf("%s's key on %s's host: %d, want 401", me.org, other.org, code)
				}
			}
			// Decisions: the same subject id, granted in one organisation
			// only, is refused in the other, whose cached state the grant
			// must not reach.
			decide := func(tn *tenant, want bool) {
				t.Helper()
				if got := d.marketingAllowed(t, tn); got != want {
					t.Errorf("%s: marketing for u-1 allowed = %v, want %v", tn.org, got, want)
				}
			}
			decide(acme, false)
			decide(ours, false)
			d.must(t, ours, "POST", "/v1/subjects/u-1/consents",
				`{"grant": ["marketing"], "method": "api", "language": "en", "notice_hash": "`+strings.Repeat("a", 64)+`"}`, http.StatusCreated)
			decide(ours, true)
			decide(acme, false)
			// Each trail verifies on its own, with its own entries.
			for _, tn := range d.tenants {
				b := d.must(t, tn, "GET", "/v1/audit/verify", "", http.StatusOK)
				if !bytes.Contains(b, []byte(`"ok":true`)) {
					t.Errorf("%s's trail: %s", tn.org, b)
				}
			}
			// The deployment's operator registers an organisation through
			// the API.
			d.must(t, ours, "POST", "/v1/orgs", `{"id": "beta", "name": "Beta Ltd", "hosts": ["Beta.test"]}`, http.StatusCreated)
			d.must(t, ours, "PUT", "/v1/orgs/beta/hosts", `{"hosts": ["beta.test", "www.beta.test"]}`, http.StatusOK)
			if b := d.must(t, ours, "GET", "/v1/orgs", "", http.StatusOK); !bytes.Contains(b, []byte(`"id":"beta","name":"Beta Ltd","status":"active","hosts":["beta.test","www.beta.test"]`)) {
				t.Errorf("the registry: %s", b)
			}
			if code, b := d.call(ours, ours.host, "POST", "/v1/orgs", `{"id": "gamma", "name": "Gamma", "hosts": ["acme.test"]}`); code != http.StatusConflict || !bytes.Contains(b, []byte("host_taken")) {
				t.Errorf("a host acme holds: %d %s", code, b)
			}
			// Disabled (with its open requests, by force), acme's host
			// answers as a path that does not exist, from the next start.
			if _, _, err := org.New(d.srv.Store()).Disable(t.Context(), consent.Actor{ID: "test", Role: "admin"}, "acme", true); err != nil {
				t.Fatal(err)
			}
			srv, err := server.New(t.Context(), d.cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			d.h = srv.Handler()
			_, unknown := d.call(nil, ours.host, "GET", "/v1/nothing-here", "")
			for _, path := range []string{"/v1/policy", "/privacy/", "/banner.js", "/v1/keys"} {
				code, b := d.call(acme, acme.host, "GET", path, "")
				if code != http.StatusNotFound || !bytes.Equal(b, unknown) {
					t.Errorf("disabled acme's %s: %d %s, want 404 %s", path, code, b, unknown)
				}
			}
			if code, _ := d.call(ours, ours.host, "GET", "/v1/policy", ""); code != http.StatusOK {
				t.Errorf("the deployment's own beside a disabled organisation: %d", code)
			}
		})
	}
}

// purposeQuery is what a route needs besides its path to answer 200.
func purposeQuery(path string) string {
	if strings.HasSuffix(path, "/vault/{field}") || path == "/v1/subjects/{subject_id}" {
		return "?purpose=account_registration"
	}
	return ""
}

// browser is a console user of one host: cookies kept by hand, no
// redirects followed.
type browser struct {
	d       *deployment
	host    string
	cookies map[string]string
}

func (b *browser) do(method, path string, form url.Values) (int, string) {
	var body io.Reader
	if form != nil {
		if c, ok := b.cookies["custos_csrf"]; ok {
			form.Set("csrf", c)
		}
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://"+b.host+path, body)
	req.Host = b.host
	req.Header.Set("Accept-Language", "en")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	rec := httptest.NewRecorder()
	b.d.h.ServeHTTP(rec, req)
	for _, c := range rec.Result().Cookies() {
		b.cookies[c.Name] = c.Value
	}
	out, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(out)
}

func (b *browser) signIn(t *testing.T, user, pw string) int {
	t.Helper()
	b.do("GET", "/console/signin", nil)
	code, _ := b.do("POST", "/console/signin", url.Values{"username": {user}, "password": {pw}})
	return code
}

// TestConsoleIsolated: each organisation's console answers on its own
// hosts with its own operators; the same user name is two accounts; an
// operator's session is nothing on another organisation's host; every
// console page shows only the organisation's own, and another's request
// is not found.
func TestConsoleIsolated(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			d := startDeployment(t, backend)
			ours, acme := d.tenants[0], d.tenants[1]
			pw := map[string]string{ours.org: "our-long-password-1", acme.org: "acme-long-password-1"}
			for _, tn := range d.tenants {
				srv := d.srv.Org(tn.org)
				ops, err := operator.New(srv.Store(), operator.Options{})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := ops.Create(t.Context(), consent.Actor{ID: "test", Role: "admin"}, operator.SetByCLI, "admin", "Admin", "admin", pw[tn.org]); err != nil {
					t.Fatal(err)
				}
			}
			for _, pair := range [][2]*tenant{{ours, acme}, {acme, ours}} {
				me, other := pair[0], pair[1]
				b := &browser{d: d, host: me.host, cookies: map[string]string{}}
				if code := b.signIn(t, "admin", pw[other.org]); code == http.StatusSeeOther {
					t.Errorf("%s's console took %s's admin's password", me.org, other.org)
				}
				if code := b.signIn(t, "admin", pw[me.org]); code != http.StatusSeeOther {
					t.Fatalf("%s: sign in: %d", me.org, code)
				}
				pages := []string{"/console/", "/console/dataflow", "/console/requests", "/console/requests/" + me.ids["id"],
					"/console/approvals", "/console/retention", "/console/policies", "/console/promises", "/console/audit", "/console/operators", "/console/account"}
				for _, p := range pages {
					code, body := b.do("GET", p, nil)
					if code != http.StatusOK {
						t.Errorf("%s %s: %d", me.org, p, code)
					}
					for _, m := range other.marks {
						if strings.Contains(body, m) {
							t.Errorf("%s %s shows %s's %q", me.org, p, other.org, m)
						}
					}
				}
				// The registry is the deployment's operator's page alone.
				code, body := b.do("GET", "/console/orgs", nil)
				switch me.org {
				case store.DefaultOrg:
					if code != http.StatusOK || !strings.Contains(body, `data-org="acme"`) || !strings.Contains(body, "acme.test") {
						t.Errorf("the deployment's console, organisations: %d", code)
					}
				default:
					if code != http.StatusNotFound || strings.Contains(body, "custos.test") {
						t.Errorf("%s's console, the deployment's organisations: %d, want 404", me.org, code)
					}
				}
				// The queue shows the organisation's own assistance tasks;
				// another's cannot be closed.
				if _, body := b.do("GET", "/console/requests", nil); !strings.Contains(body, me.ids["task_id"]) {
					t.Errorf("%s's queue does not show its assistance task", me.org)
				}
				if code, _ := b.do("POST", "/console/assistance/"+other.ids["task_id"]+"/done", url.Values{"note": {"done"}}); code != http.StatusNotFound {
					t.Errorf("%s's console closed %s's assistance task: %d", me.org, other.org, code)
				}
				if code, body := b.do("GET", "/console/requests/"+other.ids["id"], nil); code != http.StatusNotFound || strings.Contains(body, other.ids["subject_id"]) {
					t.Errorf("%s's console, %s's request: %d", me.org, other.org, code)
				}
				for _, action := range []string{"approve", "refuse", "extend", "complete", "verify"} {
					// 404, or the form refused before any lookup.
					code, body := b.do("POST", "/console/requests/"+other.ids["id"]+"/"+action, url.Values{"reason": {"x"}, "ground": {"x"}})
					if code != http.StatusNotFound && code != http.StatusUnprocessableEntity {
						t.Errorf("%s's console, %s %s's request: %d, want 404", me.org, action, other.org, code)
					}
					for _, m := range other.marks {
						// The id was the caller's to give; all else is not.
						if m != other.ids["id"] && strings.Contains(body, m) {
							t.Errorf("%s's console, %s %s's request, shows %q", me.org, action, other.org, m)
						}
					}
				}
				// The session, carried to the other organisation's host,
				// is nobody's there.
				stolen := &browser{d: d, host: other.host, cookies: b.cookies}
				if code, _ := stolen.do("GET", "/console/requests", nil); code == http.StatusOK {
					t.Errorf("%s's session opened %s's console", me.org, other.org)
				}
			}
		})
	}
}

// TestOrganisationWithoutPolicyIsNotServed: an organisation registered
// but without a published manifest is not served; the log says why and
// how to mend it, and its host answers as an unknown path.
func TestOrganisationWithoutPolicyIsNotServed(t *testing.T) {
	d := startDeployment(t, "sqlite")
	if _, err := org.New(d.srv.Store()).Create(t.Context(), consent.Actor{ID: "test", Role: "admin"}, "beta", "Beta Ltd", "beta.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.Init(d.cfg.OrgSecretsDir("beta"), false); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	srv, err := server.New(t.Context(), d.cfg, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.Org("beta") != nil {
		t.Error("beta is served without a policy")
	}
	if !strings.Contains(logs.String(), "custos policy publish --org beta") {
		t.Errorf("the log does not say how to mend it:\n%s", logs)
	}
	d.h = srv.Handler()
	if code, _ := d.call(nil, "beta.test", "GET", "/v1/policy", ""); code != http.StatusNotFound {
		t.Errorf("beta's host: %d, want 404", code)
	}
	if srv.Org("acme") == nil {
		t.Error("acme is no longer served beside beta")
	}
}

// BenchmarkOrganisationHeap serves 1 and 30 organisations of the starter
// manifest and reports the live heap each organisation adds (heap-MB/org,
// from the difference): what a deployment of many organisations costs in
// memory before any of them has data.
func BenchmarkOrganisationHeap(b *testing.B) {
	m := filepath.Join("..", "..", "examples", "starter", "custos.yaml")
	live := func() int64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapAlloc)
	}
	// serve returns the heap a deployment of n organisations holds; the
	// deployments stay up until the benchmark ends.
	serve := func(n int) int64 {
		var specs []orgSpec
		for i := range n {
			specs = append(specs, orgSpec{id: fmt.Sprintf("org-%d", i), name: "Org", host: fmt.Sprintf("o%d.test", i), manifest: m})
		}
		before := live()
		d := startOrgs(b, "sqlite", m, specs, nil)
		after := live()
		runtime.KeepAlive(d)
		return after - before
	}
	for range b.N {
		one, many := serve(1), serve(30)
		b.ReportMetric(float64(many-one)/29/(1<<20), "heap-MB/org")
	}
}
