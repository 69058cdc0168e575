// Package center is the public privacy center: the policy and its
// versions, a person's consents, and their rights requests.
//
// Nothing here trusts the browser with state that matters: the consents
// shown are read from the ledger on every page, and the session cookie
// carries only who signed in (and the access tokens of the person's own
// requests), signed with the center's key.
package center

import (
	"embed"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/signin"
	"github.com/custos-privacy/custos/internal/web"
)

//go:embed pages partials
var files embed.FS

// Options are what the privacy center runs on.
type Options struct {
	Consent *consent.Service
	// Requests is nil when rights requests are disabled (no data keyset).
	Requests *dsr.Service
	// Signins signs people in by one-time code; nil when no code can be
	// sent (no data keyset), and signing in is unavailable.
	Signins *signin.Service
	// Key signs the visitor's session cookie (32 bytes).
	Key    []byte
	Logger *slog.Logger
}

type center struct {
	opt     Options
	log     *slog.Logger
	r       *web.Renderer
	notices sync.Map // noticeKey → notice hash
}

// renderer parses the center's pages once per process: every
// organisation's center renders the same pages with its own data.
var renderer = sync.OnceValues(func() (*web.Renderer, error) {
	return web.NewRenderer(files, web.NewCatalog(messages), funcs(), slog.New(slog.DiscardHandler))
})

// New returns the privacy center, to be mounted at /privacy/.
func New(opt Options) (http.Handler, error) {
	if opt.Consent == nil {
		return nil, errors.New("privacy center: needs the consent service")
	}
	if len(opt.Key) < 32 {
		return nil, errors.New("privacy center: the session key must be at least 32 bytes")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	r, err := renderer()
	if err != nil {
		return nil, err
	}
	c := &center{opt: opt, log: opt.Logger.With("component", "privacy_center"), r: r.WithLogger(opt.Logger)}
	mux := http.NewServeMux()
	c.routes(mux)
	deny := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		f := web.Refused(req)
		c.log.Info("form refused", "path", req.URL.Path, "status", f.Status, "field", f.Field)
		c.r.Refuse(w, req, c.page(req, "error.title"), f)
	})
	return web.CSRF(mux, deny), nil
}

func (c *center) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /privacy/{$}", c.home)

	mux.HandleFunc("GET /privacy/policy", c.policyCurrent)
	mux.HandleFunc("GET /privacy/policy/versions", c.policyVersions)
	mux.HandleFunc("GET /privacy/policy/versions/{version}", c.policyVersion)
	mux.HandleFunc("GET /privacy/policy/diff", c.policyDiff)

	mux.HandleFunc("GET /privacy/signin", c.signinForm)
	mux.HandleFunc("POST /privacy/signin", c.signinStart)
	mux.HandleFunc("GET /privacy/signin/code", c.signinCodeForm)
	mux.HandleFunc("POST /privacy/signin/code", c.signinVerify)
	mux.HandleFunc("POST /privacy/signout", c.signout)

	mux.HandleFunc("GET /privacy/consents", c.consents)
	mux.HandleFunc("POST /privacy/consents", c.recordConsent)
	mux.HandleFunc("POST /privacy/objections", c.recordObjection)
	mux.HandleFunc("POST /privacy/acceptances", c.recordAcceptance)

	mux.HandleFunc("GET /privacy/requests", c.requestTypes)
	mux.HandleFunc("GET /privacy/requests/new", c.requestForm)
	mux.HandleFunc("POST /privacy/requests", c.submitRequest)
	mux.HandleFunc("POST /privacy/requests/follow", c.followRequest)
	mux.HandleFunc("GET /privacy/requests/{id}/verify", c.verifyForm)
	mux.HandleFunc("POST /privacy/requests/{id}/verify", c.verifyRequest)
	mux.HandleFunc("GET /privacy/requests/{id}", c.requestStatus)
	mux.HandleFunc("POST /privacy/requests/{id}/withdraw", c.withdrawRequest)
	mux.HandleFunc("POST /privacy/requests/{id}/download", c.downloadBundle)

	mux.HandleFunc("/privacy/", func(w http.ResponseWriter, req *http.Request) {
		c.r.Error(w, req, c.page(req, "error.title"), http.StatusNotFound, "error.notfound")
	})
}

// page starts a page: language, navigation, the prevailing language.
func (c *center) page(r *http.Request, titleKey string) *web.Page {
	m := c.manifest()
	def := ""
	if m != nil {
		def = m.DefaultLanguage()
	}
	lang := web.Lang(r, def)
	p := c.r.Page(r, lang, "")
	p.Title = p.T(titleKey)
	p.Area = "privacy"
	if m != nil {
		p.Site = controllerName(m).In(lang)
		p.Prevailing = m.Policy.Prevailing
	}
	for _, l := range []struct{ href, key string }{
		{"/privacy/", "nav.home"}, {"/privacy/policy", "nav.policy"},
		{"/privacy/consents", "nav.consents"}, {"/privacy/requests", "nav.requests"},
	} {
		href := l.href
		if r.URL.Query().Get("lang") != "" {
			href = web.WithLang(href, lang)
		}
		cur := r.URL.Path == l.href || l.href != "/privacy/" && len(r.URL.Path) > len(l.href) && r.URL.Path[:len(l.href)+1] == l.href+"/"
		p.Nav = append(p.Nav, web.Link{Href: href, Label: p.T(l.key), Current: cur})
	}
	return p
}

// manifest is the manifest in force, or nil before one is published.
func (c *center) manifest() *manifest.Manifest {
	_, m, _, err := c.opt.Consent.Policy()
	if err != nil {
		return nil
	}
	return m
}

func controllerName(m *manifest.Manifest) manifest.Text {
	if len(m.Controllers) > 0 {
		return m.Controllers[0].Name
	}
	return m.Policy.Title
}

// actor is the person using the center, as the services record them. The
// place is the client's address: rate limits and the audit trail use it.
func actor(r *http.Request, subjectID string) consent.Actor {
	addr := web.ClientAddr(r)
	host := r.Host
	if len(host) > 100 {
		host = host[:100]
	}
	id := "privacy_center"
	if subjectID != "" {
		id = "subject:" + subjectID
	}
	return consent.Actor{ID: id, Role: "public", Place: addr + " " + host}
}

func (c *center) home(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "home.title")
	s := c.session(r)
	p.Data = map[string]any{"SignedIn": s.Subject != "", "Requests": c.opt.Requests != nil}
	c.r.Render(w, http.StatusOK, "home", p)
}

// fail answers an error from a service: known kinds become a message the
// person can act on, anything else a generic 500 with the cause logged
// (never shown: a database error may quote personal information).
func (c *center) fail(w http.ResponseWriter, r *http.Request, p *web.Page, err error) {
	fe, ok := fault.As(err)
	if !ok || fe.Kind == fault.Internal {
		c.log.Error("privacy center", "path", r.URL.Path, "err", err)
		c.r.Error(w, r, p, http.StatusInternalServerError, "error.internal")
		return
	}
	status := fault.Status(fe.Kind)
	c.log.Info("privacy center: refused", "path", r.URL.Path, "code", fe.Code)
	key := "err." + fe.Code
	if !c.r.Catalog().Has(key) {
		key = "err.generic"
	}
	c.r.Error(w, r, p, status, key)
}

// redirect sends the browser on with See Other, keeping the language asked for.
func redirect(w http.ResponseWriter, r *http.Request, path string) {
	if l := r.URL.Query().Get("lang"); l != "" {
		path = web.WithLang(path, l)
	} else if l := r.PostFormValue("lang"); l != "" {
		path = web.WithLang(path, l)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}
