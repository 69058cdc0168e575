package server

import (
	"net/http"

	"github.com/custos-privacy/custos/internal/web"
	// banner: wired when the package lands
	"github.com/custos-privacy/custos/internal/web/center"
	"github.com/custos-privacy/custos/internal/web/console"
)

// routes puts the API and the pages on one mux: the JSON API keeps its
// paths, the privacy center is under /privacy/, the admin console under
// /console/, and the consent banner is /banner.js.
func (s *Server) routes(keys Keys) (http.Handler, error) {
	pc, err := center.New(center.Options{
		Consent: s.svc, Requests: s.requests, Store: s.st, Key: keys.CenterKey, Logger: s.log,
	})
	if err != nil {
		return nil, err
	}
	cons, err := console.New(console.Options{
		Consent: s.svc, Requests: s.requests, Store: s.st, Key: keys.ConsoleKey, Logger: s.log, Demo: s.cfg.Demo,
	})
	if err != nil {
		return nil, err
	}
	apiH := s.api.Handler()
	pages := http.NewServeMux()
	pages.Handle("/static/", web.Static())
	pages.Handle("/privacy/", pc)
	pages.Handle("/console/", cons)
	pages.Handle("GET /{$}", http.RedirectHandler("/privacy/", http.StatusSeeOther))
	// if s.cfg.Demo { pages.Handle("/demo/shop/", banner.DemoShop()) }

	mux := http.NewServeMux()
	for _, p := range []string{"/v1/", "/healthz", "/readyz", "/metrics", "/openapi.json"} {
		mux.Handle(p, apiH)
	}
	// The banner script is loaded by other sites: it gets no page headers
	// (they would not protect it) but its own caching and type.
	// mux.Handle("GET /banner.js", banner.Handler())
	mux.Handle("/", web.TrustProxy(web.Secure(pages), s.cfg.TrustProxy))
	return mux, nil
}
