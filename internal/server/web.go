package server

import (
	"net/http"

	"github.com/custos-privacy/custos/internal/approval"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/promise"
	"github.com/custos-privacy/custos/internal/signin"
	"github.com/custos-privacy/custos/internal/web"
	"github.com/custos-privacy/custos/internal/web/banner"
	"github.com/custos-privacy/custos/internal/web/center"
	"github.com/custos-privacy/custos/internal/web/console"
)

// routes puts the API and the pages in one table: the privacy center is
// under /privacy/, the admin console under /console/, the consent banner
// is /banner.js, and every other path is the JSON API's (so an unknown
// path gets the API's JSON 404).
func (s *Server) routes(keys Keys) (routeTable, error) {
	// Sign-in codes go to addresses only the rights-request service can
	// open: without a data keyset there is no signing in.
	var signins *signin.Service
	if s.requests != nil && keys.Hasher != nil {
		si, err := signin.New(s.st, keys.CenterKey, signin.Options{Hasher: keys.Hasher, Codes: s.requests})
		if err != nil {
			return routeTable{}, err
		}
		signins = si
	}
	pc, err := center.New(center.Options{
		Consent: s.svc, Requests: s.requests, Signins: signins, Key: keys.CenterKey, Logger: s.log,
	})
	if err != nil {
		return routeTable{}, err
	}
	ops, err := operator.New(s.st, operator.Options{Gate: s.passwords})
	if err != nil {
		return routeTable{}, err
	}
	// Nil without a sweep: the console then says how to configure one.
	var sweep console.Retention
	if s.retentionJob != nil {
		sweep = consoleRetention{j: s.retentionJob, log: s.log}
	}
	cons, err := console.New(console.Options{
		Consent: s.svc, Requests: s.requests, Logger: s.log, Demo: s.cfg.Demo,
		Stats: consent.NewStats(s.st), Operators: ops, Trail: s.trail,
		Approvals: approval.New(s.st, approval.Options{Subjects: s.svc, Requests: s.requests, Logger: s.log}),
		Holds:     hold.New(s.st, hold.Options{Logger: s.log}),
		Transfers: s.transfers,
		Incidents: s.incidents,
		// Notices reach people only by email through an SMTP relay; the
		// notice directory is a development sink.
		Deployment: promise.Deployment{MessageChannel: s.dispatcher != nil && s.cfg.SMTPAddr != "", Dataset: s.dataset},
		Orgs:       s.registry,
		Retention:  sweep,
	})
	if err != nil {
		return routeTable{}, err
	}
	page := func(h http.Handler) http.Handler { return web.TrustProxy(web.Secure(h), s.cfg.TrustProxy) }

	var t routeTable
	// The API's own patterns, then the pages'; every other path is the
	// API's (its "/", last of its handlers).
	for _, h := range s.api.Handlers() {
		t.handle(h.Pattern, h.Handler)
	}
	t.handle("/static/", page(web.Static()))
	t.handle("/privacy/", page(pc))
	t.handle("/console/", page(cons))
	t.handle("GET /{$}", page(http.RedirectHandler("/privacy/", http.StatusSeeOther)))
	// The banner script is loaded by other sites: page headers would not
	// protect it; it carries its own type, caching and CORS.
	t.handle("/banner.js", banner.Handler())
	if s.cfg.Demo {
		// A sample shop page with the banner and two tagged scripts.
		t.handle("/demo/shop/", page(banner.DemoShop()))
	}
	return t, nil
}
