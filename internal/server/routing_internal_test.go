package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRouteTable: one mux over the deployment's patterns serves each
// organisation's own handlers, path values and all, and a pattern an
// organisation does not have answers as a path that does not exist.
func TestRouteTable(t *testing.T) {
	says := func(who string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, who+" "+r.PathValue("id"))
		})
	}
	var dep, org routeTable
	dep.handle("GET /things/{id}", says("deployment thing"))
	dep.handle("/demo/shop/", says("deployment shop"))
	dep.handle("/", says("deployment other"))
	org.handle("GET /things/{id}", says("org thing"))
	org.handle("/", says("org other"))

	s := &Server{routing: dep}
	s.orgs.current.Store(&hosting{hosts: map[string][]http.Handler{
		"org.example":  org.alignedTo(dep),
		"gone.example": dep.gone(),
	}})
	h := dep.serve(s.byHost)
	for _, tt := range []struct {
		method, host, path string
		status             int
		body               string
	}{
		{"GET", "custos.example", "/things/7", 200, "deployment thing 7"},
		{"GET", "org.example", "/things/7", 200, "org thing 7"},
		{"GET", "ORG.example:443", "/things/8", 200, "org thing 8"},
		{"GET", "custos.example", "/demo/shop/", 200, "deployment shop "},
		{"GET", "org.example", "/demo/shop/", 404, `"not_found"`},
		{"GET", "org.example", "/elsewhere", 200, "org other "},
		{"POST", "org.example", "/things/7", 200, "org other "}, // another method is a path the organisation does not have
		{"GET", "gone.example", "/things/7", 404, `"not_found"`},
		{"GET", "gone.example", "/elsewhere", 404, `"not_found"`},
	} {
		r := httptest.NewRequest(tt.method, "http://"+tt.host+tt.path, nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.status {
			t.Errorf("%s %s%s: status %d, want %d", tt.method, tt.host, tt.path, w.Code, tt.status)
		}
		if body := w.Body.String(); !strings.Contains(body, tt.body) {
			t.Errorf("%s %s%s: body %q, want %q in it", tt.method, tt.host, tt.path, body, tt.body)
		}
	}
}
