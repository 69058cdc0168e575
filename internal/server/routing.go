package server

import (
	"net/http"

	"github.com/custos-privacy/custos/internal/org"
)

// routeTable is every pattern a server answers (as http.ServeMux reads
// them), in order, with what serves each for this server. Every server of
// a deployment has the same patterns, so the deployment matches a path
// once, on one mux, and only then picks the organisation's handler: a
// hundred organisations cost one route tree, not a hundred.
type routeTable struct {
	patterns []string
	handlers []http.Handler
}

func (t *routeTable) handle(pattern string, h http.Handler) {
	t.patterns = append(t.patterns, pattern)
	t.handlers = append(t.handlers, h)
}

// serve is a mux over t's patterns whose i-th pattern is served by the
// i-th of the handlers pick gives for the request.
func (t routeTable) serve(pick func(*http.Request) []http.Handler) http.Handler {
	mux := http.NewServeMux()
	for i, p := range t.patterns {
		mux.Handle(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pick(r)[i].ServeHTTP(w, r)
		}))
	}
	return mux
}

// own is t served by its own handlers.
func (t routeTable) own() http.Handler {
	return t.serve(func(*http.Request) []http.Handler { return t.handlers })
}

// alignedTo returns t's handlers in the order of to's patterns; a pattern
// t does not have (the demo's shop, for an organisation that is not the
// demo) answers as a path that does not exist.
func (t routeTable) alignedTo(to routeTable) []http.Handler {
	mine := make(map[string]http.Handler, len(t.patterns))
	for i, p := range t.patterns {
		mine[p] = t.handlers[i]
	}
	out := make([]http.Handler, len(to.patterns))
	for i, p := range to.patterns {
		if h, ok := mine[p]; ok {
			out[i] = h
		} else {
			out[i] = orgGone
		}
	}
	return out
}

// gone is a handler for each of t's patterns that answers every path as
// one that does not exist.
func (t routeTable) gone() []http.Handler {
	out := make([]http.Handler, len(t.patterns))
	for i := range out {
		out[i] = orgGone
	}
	return out
}

// byHost picks the handlers of the organisation whose host the request
// came to, as the organisations served are at that moment, and the
// deployment's own for any other host.
func (s *Server) byHost(r *http.Request) []http.Handler {
	if h, ok := s.orgs.current.Load().hosts[org.Host(r.Host)]; ok {
		return h
	}
	return s.routing.handlers
}
