package dsr_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/custos-privacy/custos/internal/api"
	"github.com/custos-privacy/custos/internal/apikey"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/keystore/keystoretest"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/seal"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
	"github.com/custos-privacy/custos/internal/vault"
)

// Manifests the tests publish, relative to this package.
const (
	deepinManifest  = "../../examples/deepin/custos.yaml"
	smartManifest   = "../../examples/smart-device-app/custos.yaml"
	yonyouManifest  = "../../examples/yonyou-cloud/custos.yaml"
	geminiManifest  = "../../examples/opengemini/custos.yaml"
	starterManifest = "../../examples/starter/custos.yaml"
)

// noticeHash stands for the SHA-256 of a notice text shown to a subject.
const noticeHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

// chinaTime is a wall-clock instant in China, where the working-day
// calendar decides which civil day a request arrived on.
func chinaTime(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.China)
	if err != nil {
		panic(err)
	}
	return t
}

// lockedBuffer collects log lines written from several goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sender keeps every message the dispatcher hands over, in order.
type sender struct {
	mu   sync.Mutex
	msgs []notify.Message
}

func (s *sender) Send(_ context.Context, m notify.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *sender) byDelivery(id string) (notify.Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if m.DeliveryID == id {
			return m, true
		}
	}
	return notify.Message{}, false
}

func (s *sender) all() []notify.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// env is one Custos with its own database, keys, clock, manifest and API.
type env struct {
	t      *testing.T
	ctx    context.Context
	clock  *clocktest.Clock
	st     *store.Store
	hasher *identity.Hasher
	keys   *keystore.Store
	svc    *consent.Service
	req    *dsr.Service
	opt    dsr.Options // what req was built with
	h      http.Handler
	disp   *notify.Dispatcher
	sent   *sender
	log    *lockedBuffer
	admin  string // admin API key
	op     string // operator API key
	codes  []string
	bodies []string // every response body, in order
	// tokens are the access tokens public intake returned, by request id;
	// do sends the matching one with public status and withdrawal calls.
	tokens map[string]string
}

// newEnv builds an env at the instant now, with the manifest at path in force.
func newEnv(t *testing.T, manifestPath string, now time.Time, opts ...func(*dsr.Options)) *env {
	t.Helper()
	return newEnvOn(t, storetest.SQLite(t), manifestPath, now, opts...)
}

// newEnvOn is newEnv on the store st (storetest.Backends gives both
// databases).
func newEnvOn(t *testing.T, st *store.Store, manifestPath string, now time.Time, opts ...func(*dsr.Options)) *env {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	hasher, err := identity.NewHasher(key)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := seal.GenerateKeyset()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(ks)
	if err != nil {
		t.Fatal(err)
	}
	keys := keystoretest.New(t, sealer)
	logs := &lockedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := clocktest.New(now)
	svc, err := consent.New(ctx, st, consent.Options{Hasher: hasher, Keys: keys, Logger: logger, Now: c.Now})
	if err != nil {
		t.Fatalf("consent.New: %v", err)
	}
	system := consent.Actor{ID: "system", Role: "system", Place: "test"}
	src, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Publish(ctx, system, filepath.Base(filepath.Dir(manifestPath)), src); err != nil {
		t.Fatalf("Publish %s: %v", manifestPath, err)
	}
	vlt, err := vault.New(st, svc, vault.Options{Keys: keys, TokenKey: key, Now: c.Now})
	if err != nil {
		t.Fatalf("vault.New: %v", err)
	}
	o := dsr.Options{Hasher: hasher, Keys: keys, Logger: logger, Now: c.Now, Vault: vlt}
	for _, f := range opts {
		f(&o)
	}
	req, err := dsr.New(st, svc, o)
	if err != nil {
		t.Fatalf("dsr.New: %v", err)
	}
	sent := &sender{}
	// notify.NewDelivery stamps a delivery due at the wall-clock time, not
	// at the request service's clock, so the dispatcher runs at whichever
	// of the two is later: otherwise nothing queued while the test clock
	// stands before today would ever be due.
	dispNow := func() time.Time {
		if w := time.Now(); w.After(c.Now()) {
			return w
		}
		return c.Now()
	}
	e := &env{t: t, ctx: ctx, clock: c, st: st, hasher: hasher, keys: keys, svc: svc, req: req, opt: o, sent: sent, log: logs,
		disp: &notify.Dispatcher{Outbox: st.Outbox(), Sealer: keys, Sender: sent, Logger: logger, Now: dispNow},
		h: api.New(api.Options{Service: svc, Requests: req, Vault: vlt, Keys: apikey.New(st, apikey.Options{Changes: svc}), Trail: audit.NewTrail(st), Health: st,
			Logger: logger}).Handler()}
	for role, dst := range map[string]*string{api.RoleAdmin: &e.admin, api.RoleOperator: &e.op} {
		k, err := api.CreateKey(ctx, st, system, role+" key", role)
		if err != nil {
			t.Fatalf("CreateKey(%s): %v", role, err)
		}
		*dst = k.Secret
	}
	return e
}

// response is a recorded answer.
type response struct {
	Code   int
	Body   []byte
	Header http.Header
}

// do sends one request from the default address; a non-empty key is a
// bearer token.
func (e *env) do(method, path, key, body string) response {
	e.t.Helper()
	return e.doFrom("192.0.2.1:4711", method, path, key, body)
}

// doFrom sends one request from the given peer address.
func (e *env) doFrom(remote, method, path, key, body string) response {
	e.t.Helper()
	return e.doFromHost(remote, "", method, path, key, body)
}

// doFromHost is doFrom with the Host header set, when host is not empty.
func (e *env) doFromHost(remote, host, method, path, key, body string) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequestWithContext(e.ctx, method, path, rd)
	r.RemoteAddr = remote
	if host != "" {
		r.Host = host
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		r.Header.Set("Authorization", "Bearer "+key)
	}
	if rest, ok := strings.CutPrefix(path, "/v1/public/requests/"); ok {
		id, _, _ := strings.Cut(rest, "/")
		if tok := e.tokens[id]; tok != "" {
			r.Header.Set("X-Request-Token", tok)
		}
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	if method == "POST" && path == "/v1/public/requests" && w.Code == 202 {
		var acc dsr.Accepted
		if json.Unmarshal(w.Body.Bytes(), &acc) == nil && acc.ID != "" {
			if e.tokens == nil {
				e.tokens = map[string]string{}
			}
			e.tokens[acc.ID] = acc.AccessToken
		}
	}
	e.bodies = append(e.bodies, w.Body.String())
	return response{Code: w.Code, Body: w.Body.Bytes(), Header: w.Header()}
}

// must sends a request that must answer want, and decodes its body into out.
func (e *env) must(want int, method, path, key, body string, out any) response {
	e.t.Helper()
	res := e.do(method, path, key, body)
	if res.Code != want {
		e.t.Fatalf("%s %s = %d %s, want %d", method, path, res.Code, res.Body, want)
	}
	if out != nil {
		if err := json.Unmarshal(res.Body, out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, res.Body, err)
		}
	}
	return res
}

// errorCode is the stable code of an error body, "" for anything else.
func errorCode(body []byte) string {
	var eb api.ErrorBody
	json.Unmarshal(body, &eb)
	return eb.Error.Code
}

// mustJSON marshals v for a request body.
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// subject registers a subject whose email (and phone, if given) are kept,
// so that codes and notices can reach them.
func (e *env) subject(id, email, phone string, extra map[string]any) {
	e.t.Helper()
	in := map[string]any{"subject_id": id}
	var ids []map[string]any
	if email != "" {
		ids = append(ids, map[string]any{"kind": "email", "value": email, "keep": true})
	}
	if phone != "" {
		ids = append(ids, map[string]any{"kind": "phone", "value": phone, "keep": true})
	}
	in["identities"] = ids
	for k, v := range extra {
		in[k] = v
	}
	e.must(201, "POST", "/v1/subjects", e.op, mustJSON(in), nil)
}

// grant records consent for purposes, each asked on its own (a separate
// consent covers one purpose), so that purposes needing a separate consent
// are accepted too.
func (e *env) grant(subjectID string, extra map[string]any, purposes ...string) {
	e.t.Helper()
	for _, p := range purposes {
		in := map[string]any{"grant": []string{p}, "method": "app_dialog", "language": "en", "notice_hash": noticeHash, "separate": true}
		for k, v := range extra {
			in[k] = v
		}
		e.must(201, "POST", "/v1/subjects/"+subjectID+"/consents", e.op, mustJSON(in), nil)
	}
}

// submitPublic files a request from the public and returns its id.
func (e *env) submitPublic(kind, idKind, idValue string, extra map[string]any) string {
	e.t.Helper()
	in := map[string]any{"type": kind, "language": "en", "identity": map[string]string{"kind": idKind, "value": idValue}}
	for k, v := range extra {
		in[k] = v
	}
	var acc dsr.Accepted
	e.must(202, "POST", "/v1/public/requests", "", mustJSON(in), &acc)
	if acc.ID == "" || acc.State != dsr.StateAwaitingVerification {
		e.t.Fatalf("public intake answered %+v", acc)
	}
	return acc.ID
}

// submitOperator takes a request verified by the operator and returns its view.
func (e *env) submitOperator(in map[string]any) dsr.View {
	e.t.Helper()
	if _, ok := in["language"]; !ok {
		in["language"] = "en"
	}
	if _, ok := in["verification"]; !ok {
		in["verification"], in["evidence"] = "operator", "identity card checked at the counter, ref OP-1"
	}
	var v dsr.View
	e.must(201, "POST", "/v1/requests", e.op, mustJSON(in), &v)
	return v
}

// dispatch delivers what is due, once the one-time codes queued so far
// are in the outbox.
func (e *env) dispatch() {
	e.t.Helper()
	e.req.Drain()
	if _, _, err := e.disp.RunOnce(e.ctx); err != nil {
		e.t.Fatalf("RunOnce: %v", err)
	}
}

// code delivers what is due and returns the one-time code sent for a
// request; the test fails when none was sent.
func (e *env) code(requestID string) string {
	e.t.Helper()
	e.dispatch()
	ds, err := e.st.Deliveries(e.ctx, requestID)
	if err != nil {
		e.t.Fatal(err)
	}
	re := regexp.MustCompile(`\b(\d{6})\b`)
	code := ""
	for _, d := range ds {
		if d.Template != "otp" {
			continue
		}
		m, ok := e.sent.byDelivery(d.ID)
		if !ok {
			e.t.Fatalf("code delivery %s for %s was not sent", d.ID, requestID)
		}
		if g := re.FindStringSubmatch(m.Text); g != nil {
			code = g[1]
		}
	}
	if code == "" {
		e.t.Fatalf("no one-time code was sent for %s", requestID)
	}
	e.codes = append(e.codes, code)
	return code
}

// templates lists the templates queued for a request, in order, the
// one-time codes queued so far included.
func (e *env) templates(requestID string) []string {
	e.t.Helper()
	e.req.Drain()
	ds, err := e.st.Deliveries(e.ctx, requestID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		out = append(out, d.Template)
	}
	return out
}

// verify answers a public request's code; it must verify.
func (e *env) verify(requestID, code string) dsr.View {
	e.t.Helper()
	var v dsr.View
	e.must(200, "POST", "/v1/public/requests/"+requestID+"/verify", "", mustJSON(map[string]string{"code": code}), &v)
	return v
}

// act posts an operator action on a request that must succeed.
func (e *env) act(requestID, action string, body any) dsr.View {
	e.t.Helper()
	b := ""
	if body != nil {
		b = mustJSON(body)
	}
	var v dsr.View
	e.must(200, "POST", "/v1/requests/"+requestID+"/"+action, e.op, b, &v)
	return v
}

// get reads a request as an operator sees it.
func (e *env) get(requestID string) dsr.View {
	e.t.Helper()
	var v dsr.View
	e.must(200, "GET", "/v1/requests/"+requestID, e.op, "", &v)
	return v
}

// check asks the decision point about purposes and returns purpose → reason.
func (e *env) check(in map[string]any) (known bool, reasons map[string]string) {
	e.t.Helper()
	var res consent.CheckResult
	e.must(200, "POST", "/v1/check", e.op, mustJSON(in), &res)
	reasons = map[string]string{}
	for _, d := range res.Decisions {
		reasons[d.Purpose] = d.Reason
	}
	return res.KnownSubject, reasons
}

// noPI fails when a raw identity value or any one-time code sent shows up
// in a response body (export bundles excepted: they exist to carry it) or
// in the log.
func (e *env) noPI(values ...string) {
	e.t.Helper()
	logs := e.log.String()
	for _, v := range values {
		lv := strings.ToLower(v)
		for i, b := range e.bodies {
			if strings.HasPrefix(b, "PK") {
				continue
			}
			if strings.Contains(strings.ToLower(b), lv) {
				e.t.Errorf("response %d carries %q: %.300s", i, v, b)
			}
		}
		if strings.Contains(strings.ToLower(logs), lv) {
			e.t.Errorf("the log carries %q", v)
		}
	}
	for _, c := range e.codes {
		re := regexp.MustCompile(`(^|[^0-9])` + c + `([^0-9]|$)`)
		for i, b := range e.bodies {
			if !strings.HasPrefix(b, "PK") && re.MatchString(b) {
				e.t.Errorf("response %d carries the one-time code: %.300s", i, b)
			}
		}
		if re.MatchString(logs) {
			e.t.Errorf("the log carries a one-time code")
		}
	}
}

// cmpView compares request views on what a test computes by hand: the
// receipt instant, the history and the one-time download link are checked
// apart.
var cmpView = cmpopts.IgnoreFields(dsr.View{}, "ReceivedAt", "History", "Download")

// ignoreExplanation leaves out the words a request was closed with.
var ignoreExplanation = cmpopts.IgnoreFields(dsr.View{}, "Explanation")

// states lists the states a request went through.
// lastNote is the note of a request's latest history event.
func lastNote(v dsr.View) string {
	if len(v.History) == 0 {
		return ""
	}
	return v.History[len(v.History)-1].Note
}

func states(h []dsr.HistoryItem) []string {
	var out []string
	for _, it := range h {
		out = append(out, it.To)
	}
	return out
}

// subjectView discloses a subject to the operator.
func (e *env) subjectView(id string) consent.SubjectView {
	e.t.Helper()
	var v consent.SubjectView
	e.must(200, "GET", "/v1/subjects/"+id+"?purpose=rights_request", e.op, "", &v)
	return v
}

// ledger lists a subject's consent events as "action purpose", oldest first.
func (e *env) ledger(id string) []string {
	e.t.Helper()
	var p api.Page[consent.ConsentEvent]
	e.must(200, "GET", "/v1/subjects/"+id+"/consents?limit=100", e.op, "", &p)
	var out []string
	for _, ev := range p.Items {
		out = append(out, ev.Action+" "+ev.Purpose)
	}
	return out
}

// sortStrings compares string slices as sets.
var sortStrings = cmpopts.SortSlices(func(a, b string) bool { return a < b })
