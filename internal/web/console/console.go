// Package console is the admin console: operators sign in to work the
// rights-request queue, see consent and request pictures, publish policy
// versions and check the audit chain.
package console

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/custos-privacy/custos/internal/approval"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/incident"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/policy"
	"github.com/custos-privacy/custos/internal/promise"
	"github.com/custos-privacy/custos/internal/ratelimit"
	"github.com/custos-privacy/custos/internal/transfer"
	"github.com/custos-privacy/custos/internal/web"
)

//go:embed pages partials
var pages embed.FS

// Options are what the console runs on: the domain services it shows
// and acts through. The console keeps no rules of its own beyond who may
// open which page.
type Options struct {
	Consent *consent.Service
	// Stats are the consent ledger's aggregates, for the dashboard.
	Stats *consent.Stats
	// Requests is nil when rights requests are disabled (no data keyset).
	Requests *dsr.Service
	// Operators are the accounts that sign in, and their sessions.
	Operators *operator.Service
	// Approvals run batch exports and destructions past a second operator.
	Approvals *approval.Service
	// Holds are the organisation's legal holds; nil serves no holds page.
	Holds *hold.Service
	// Transfers are the register and counts of cross-border transfers;
	// nil serves no transfers page.
	Transfers *transfer.Service
	// Incidents are the organisation's security incidents; nil serves no
	// incidents pages.
	Incidents *incident.Service
	// Trail is the audit trail, for its head and its verification.
	Trail  *audit.Trail
	Logger *slog.Logger
	// Demo seeds demo operator accounts.
	Demo bool
	// Deployment is what the running server has configured, for the
	// promise map's live status.
	Deployment promise.Deployment
	// Orgs is the deployment's registry of organisations, given to the
	// deployment's own organisation's console only: its admins see the
	// organisations, groups and entrustments; every other console answers
	// its page as a page that does not exist.
	Orgs *org.Registry
	// Retention is the retention sweep; nil without a dataset annotation
	// or with the sweep off, and the page then says how to configure it.
	Retention Retention
}

type console struct {
	opt Options
	ops *operator.Service
	r   *web.Renderer
	log *slog.Logger
	// signins counts sign-in attempts per client address.
	signins *ratelimit.Window
}

// Sign-in attempts allowed per client address within signInPeriod.
const (
	signInLimit  = 20
	signInPeriod = 15 * time.Minute
)

// Roles allowed on a route.
var (
	anyone   = []string{operator.RoleAdmin, operator.RoleOperator, operator.RoleAuditor}
	workers  = []string{operator.RoleAdmin, operator.RoleOperator}
	adminsOn = []string{operator.RoleAdmin}
)

// renderer parses the console's pages once per process: every
// organisation's console renders the same pages with its own data.
// Operators read ids; the pages give the words beside them: a request's
// right and its deadline rule as the policy says them.
var renderer = sync.OnceValues(func() (*web.Renderer, error) {
	funcs := template.FuncMap{"deadline": dsr.DeadlineWords, "right": func(right, lang string) string { return policy.Right(lang, right) }}
	return web.NewRenderer(pages, web.NewCatalog(messages), funcs, slog.New(slog.DiscardHandler))
})

// New returns the console, to be mounted at /console/.
func New(opt Options) (http.Handler, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	r, err := renderer()
	if err != nil {
		return nil, err
	}
	r = r.WithLogger(opt.Logger)
	if opt.Consent == nil || opt.Stats == nil || opt.Operators == nil || opt.Approvals == nil || opt.Trail == nil {
		return nil, errors.New("console: the consent, statistics, operator, approval and audit services are all needed")
	}
	ops := opt.Operators
	if opt.Demo {
		if err := ops.SeedDemo(context.Background(), audit.System("demo")); err != nil {
			return nil, err
		}
	}
	c := &console{opt: opt, ops: ops, r: r, log: opt.Logger, signins: ratelimit.New(signInPeriod)}
	mux := http.NewServeMux()
	c.routes(mux)
	deny := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		c.r.Refuse(w, req, c.page(req, nil, ""), web.Refused(req))
	})
	return web.CSRF(mux, deny), nil
}

func (c *console) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /console/signin", c.signInPage)
	mux.HandleFunc("POST /console/signin", c.signIn)
	mux.Handle("POST /console/signout", c.handle(anyone, c.signOut))
	mux.Handle("GET /console/account", c.handle(anyone, c.account))
	mux.Handle("POST /console/account/password", c.handle(anyone, c.changePassword))

	mux.Handle("GET /console/{$}", c.handle(anyone, c.dashboard))
	mux.Handle("GET /console/dataflow", c.handle(anyone, c.dataflow))

	mux.Handle("GET /console/requests", c.handle(anyone, c.queue))
	mux.Handle("GET /console/requests/{id}", c.handle(anyone, c.request))
	mux.Handle("POST /console/requests/{id}/verify", c.handle(workers, c.verify))
	mux.Handle("POST /console/requests/{id}/approve", c.handle(workers, c.approve))
	mux.Handle("POST /console/requests/{id}/refuse", c.handle(workers, c.refuse))
	mux.Handle("POST /console/requests/{id}/extend", c.handle(workers, c.extend))
	mux.Handle("POST /console/requests/{id}/complete", c.handle(workers, c.complete))
	mux.Handle("POST /console/requests/{id}/recipients/{recipient}/ack", c.handle(workers, c.ack))
	mux.Handle("POST /console/requests/{id}/fee", c.handle(workers, c.askFee))
	mux.Handle("POST /console/requests/{id}/fee/paid", c.handle(workers, c.feePaid))
	mux.Handle("POST /console/requests/{id}/fee/waive", c.handle(workers, c.waiveFee))
	mux.Handle("POST /console/requests/{id}/transmission/retry", c.handle(workers, c.retryTransmission))
	mux.Handle("POST /console/assistance/{task_id}/done", c.handle(workers, c.assisted))

	mux.Handle("GET /console/approvals", c.handle(anyone, c.approvals))
	mux.Handle("POST /console/approvals", c.handle(workers, c.requestApproval))
	mux.Handle("POST /console/approvals/{id}/approve", c.handle(workers, c.decide(true)))
	mux.Handle("POST /console/approvals/{id}/reject", c.handle(workers, c.decide(false)))
	mux.Handle("POST /console/approvals/{id}/download", c.handle(workers, c.download))
	mux.Handle("POST /console/approvals/{id}/resume", c.handle(workers, c.resume))

	mux.Handle("GET /console/holds", c.handle(anyone, c.holds))
	mux.Handle("POST /console/holds", c.handle(workers, c.placeHold))
	mux.Handle("POST /console/holds/{id}/lift", c.handle(workers, c.liftHold))
	mux.Handle("GET /console/transfers", c.handle(anyone, c.transfers))

	mux.Handle("GET /console/incidents", c.handle(anyone, c.incidents))
	mux.Handle("POST /console/incidents", c.handle(adminsOn, c.openIncident))
	mux.Handle("GET /console/incidents/{id}", c.handle(anyone, c.incidentPage))
	mux.Handle("GET /console/incidents/{id}/{kind}", c.handle(anyone, c.incidentDocument))
	mux.Handle("POST /console/incidents/{id}/assess", c.handle(adminsOn, c.assessIncident))
	mux.Handle("POST /console/incidents/{id}/notify", c.handle(adminsOn, c.notifyIncident))
	mux.Handle("POST /console/incidents/{id}/close", c.handle(adminsOn, c.closeIncident))

	mux.Handle("GET /console/retention", c.handle(anyone, c.retention))
	mux.Handle("POST /console/retention/run", c.handle(adminsOn, c.runRetention))

	mux.Handle("GET /console/policies", c.handle(anyone, c.policies))
	mux.Handle("GET /console/promises", c.handle(anyone, c.promises))
	mux.Handle("POST /console/policies", c.handle(adminsOn, c.publish))
	mux.Handle("GET /console/audit", c.handle(anyone, c.audit))
	mux.Handle("POST /console/audit/verify", c.handle(anyone, c.verifyAudit))

	mux.Handle("GET /console/operators", c.handle(adminsOn, c.operators))
	mux.Handle("GET /console/orgs", c.handle(adminsOn, c.orgs))
	mux.Handle("POST /console/operators", c.handle(adminsOn, c.createOperator))
	mux.Handle("POST /console/operators/{username}/disable", c.handle(adminsOn, c.disableOperator(true)))
	mux.Handle("POST /console/operators/{username}/enable", c.handle(adminsOn, c.disableOperator(false)))
	mux.Handle("POST /console/operators/{username}/password", c.handle(adminsOn, c.resetPassword))

	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.r.Error(w, r, c.page(r, nil, ""), http.StatusNotFound, "error.notfound")
	})
}

// me is the signed-in operator's account as the pages show it: never
// its password hash.
type me struct {
	ID, Username, DisplayName, Role string
	// PasswordSetBy says who last set the password (see operator.Service).
	PasswordSetBy string
}

// session is the signed-in operator of a request.
type session struct {
	op    me
	token string
	actor consent.Actor
}

func (s *session) is(roles ...string) bool { return slices.Contains(roles, s.op.Role) }

// by is the signed-in operator as the approval workflow knows them.
func (s *session) by() approval.Operator {
	return approval.Operator{ID: s.op.ID, Role: s.op.Role, Place: s.actor.Place}
}

const cookieName = "custos_console"

// handle checks the session and the role before h runs; it turns h's
// errors into pages. Without a session, pages send the browser to sign in.
func (c *console) handle(roles []string, h func(http.ResponseWriter, *http.Request, *session) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.session(r)
		if err != nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
				return
			}
			c.r.Error(w, r, c.page(r, nil, ""), http.StatusUnauthorized, "console.signin.required")
			return
		}
		if !slices.Contains(roles, s.op.Role) {
			c.r.Error(w, r, c.page(r, s, ""), http.StatusForbidden, "error.forbidden")
			return
		}
		if err := h(w, r, s); err != nil {
			c.fail(w, r, s, err)
		}
	})
}

func (c *console) session(r *http.Request) (*session, error) {
	ck, err := r.Cookie(web.CookieName(r, cookieName))
	if err != nil {
		return nil, operator.ErrNoSession
	}
	op, err := c.ops.Session(r.Context(), ck.Value)
	if err != nil {
		return nil, err
	}
	m := me{ID: op.ID, Username: op.Username, DisplayName: op.DisplayName, Role: op.Role, PasswordSetBy: op.PasswordSetBy}
	return &session{op: m, token: ck.Value, actor: consent.Actor{ID: "operator:" + op.ID, Role: op.Role, Place: place(r)}}, nil
}

// worded are the faults the console says in the page's language rather
// than with the fault's English message. An expired export is gone for
// good, which no fault kind says: it answers 410.
var worded = map[string]struct {
	status int
	key    string
}{
	approval.ErrNotFound.Code:      {http.StatusNotFound, "error.notfound"},
	approval.ErrSelfApproval.Code:  {http.StatusForbidden, "console.approvals.self"},
	approval.ErrPasswordSetBy.Code: {http.StatusForbidden, "console.approvals.setby"},
	approval.ErrExpired.Code:       {http.StatusGone, "console.approvals.expired"},
	approval.ErrState.Code:         {http.StatusConflict, "console.approvals.state"},
	hold.ErrNotFound.Code:          {http.StatusNotFound, "error.notfound"},
}

// fail shows an error. Faults carry messages written for users; anything
// else is logged with its cause and shown as a plain server failure.
func (c *console) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	p := c.page(r, s, "")
	fe, ok := fault.As(err)
	if !ok || fe.Kind == fault.Internal {
		c.log.Error("console", "path", r.URL.Path, "err", err)
		c.r.Error(w, r, p, http.StatusInternalServerError, "error.internal")
		return
	}
	if m, ok := worded[fe.Code]; ok {
		c.r.Error(w, r, p, m.status, m.key)
		return
	}
	p.Title = p.T("error.title")
	p.Alert = fe.Message
	c.r.Render(w, fault.Status(fe.Kind), "problem", p)
}

// page starts a console page with its navigation for the operator's role.
func (c *console) page(r *http.Request, s *session, titleKey string) *web.Page {
	lang := web.Lang(r, "zh-CN")
	p := c.r.Page(r, lang, "")
	p.Area, p.Site = "console", "Custos"
	if titleKey != "" {
		p.Title = p.T(titleKey)
	}
	if s == nil {
		return p
	}
	links := []struct{ href, key string }{
		{"/console/", "console.nav.dashboard"},
		{"/console/requests", "console.nav.requests"},
		{"/console/approvals", "console.nav.approvals"},
		{"/console/holds", "console.nav.holds"},
		{"/console/incidents", "console.nav.incidents"},
		{"/console/retention", "console.nav.retention"},
		{"/console/transfers", "console.nav.transfers"},
		{"/console/dataflow", "console.nav.dataflow"},
		{"/console/policies", "console.nav.policies"},
		{"/console/promises", "console.nav.promises"},
		{"/console/audit", "console.nav.audit"},
		{"/console/account", "console.nav.account"},
	}
	if s.op.Role == operator.RoleAdmin {
		links = append(links, struct{ href, key string }{"/console/operators", "console.nav.operators"})
		if c.opt.Orgs != nil {
			links = append(links, struct{ href, key string }{"/console/orgs", "console.nav.orgs"})
		}
	}
	for _, l := range links {
		p.Nav = append(p.Nav, web.Link{Href: l.href, Label: p.T(l.key), Current: r.URL.Path == l.href})
	}
	return p
}

// view is what every page's data carries besides its own.
type view struct {
	Me   me
	Can  map[string]bool
	Data any
}

func (c *console) render(w http.ResponseWriter, r *http.Request, s *session, name, titleKey string, data any) error {
	p := c.page(r, s, titleKey)
	if n := r.URL.Query().Get("done"); n != "" && c.r.Catalog().Has("console.done."+n) {
		p.Notice = p.T("console.done." + n)
	}
	p.Data = c.viewOf(s, data)
	c.r.Render(w, http.StatusOK, name, p)
	return nil
}

// viewOf wraps a page's own data with the operator and what their role may do.
func (c *console) viewOf(s *session, data any) view {
	return view{Me: s.op, Can: map[string]bool{"work": s.is(workers...), "admin": s.is(adminsOn...)}, Data: data}
}

func place(r *http.Request) string { return web.ClientAddr(r) }

func (c *console) signInPage(w http.ResponseWriter, r *http.Request) {
	if _, err := c.session(r); err == nil {
		http.Redirect(w, r, "/console/", http.StatusSeeOther)
		return
	}
	p := c.page(r, nil, "console.signin.title")
	if r.URL.Query().Get("done") == "password" {
		p.Notice = p.T("console.done.password")
	}
	c.r.Render(w, http.StatusOK, "signin", p)
}

// signIn checks a sign-in. Each attempt costs a memory-hungry password
// hash, so a client address gets signInLimit attempts per signInPeriod
// (429 past it), and the operator service caps the hashes run at once
// (503 when a request gives up waiting).
func (c *console) signIn(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, nil, "console.signin.title")
	if !c.signins.Allow(ratelimit.Client(web.ClientAddr(r)), signInLimit, time.Now()) {
		w.Header().Set("Retry-After", "900")
		p.Alert = p.T("console.signin.toomany")
		c.r.Render(w, http.StatusTooManyRequests, "signin", p)
		return
	}
	username, password := r.PostFormValue("username"), r.PostFormValue("password")
	token, _, err := c.ops.SignIn(r.Context(), place(r), username, password)
	if err != nil {
		status := http.StatusUnauthorized
		p.Alert = p.T("console.signin.failed")
		switch {
		case errors.Is(err, operator.ErrSignIn):
		case errors.Is(err, operator.ErrBusy):
			status = http.StatusServiceUnavailable
			p.Alert = p.T("console.signin.busy")
			w.Header().Set("Retry-After", "5")
		default:
			c.log.Error("console: sign in", "err", err)
			status = http.StatusInternalServerError
		}
		c.r.Render(w, status, "signin", p)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: web.CookieName(r, cookieName), Value: token, Path: "/", HttpOnly: true,
		Secure: web.IsHTTPS(r), SameSite: http.SameSiteStrictMode, MaxAge: int(c.ops.Options().Absolute / time.Second),
	})
	http.Redirect(w, r, "/console/requests", http.StatusSeeOther)
}

func (c *console) signOut(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.ops.SignOut(r.Context(), place(r), s.token); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: web.CookieName(r, cookieName), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: web.IsHTTPS(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
	return nil
}
