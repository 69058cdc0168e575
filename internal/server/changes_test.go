package server_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/custos-privacy/custos/internal/server"
)

// TestAnotherInstanceReachesEveryOrganisation: a consent recorded for an
// organisation other than the deployment's own, by a second instance on
// the same database, reaches the running server's decisions for that
// organisation. No organisation's change feed polls on its own: the
// deployment's one query for every organisation's last change wakes it.
func TestAnotherInstanceReachesEveryOrganisation(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			d := startDeployment(t, backend)
			d.serve(t)
			ours, acme := d.tenants[0], d.tenants[1]
			allowed := func(tn *tenant) bool { return d.marketingAllowed(t, tn) }
			if allowed(acme) || allowed(ours) {
				t.Fatal("marketing is allowed before any consent to it")
			}

			other, err := server.New(t.Context(), d.cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			req := httptest.NewRequest("POST", "http://"+acme.host+"/v1/subjects/u-1/consents",
				strings.NewReader(`{"grant": ["marketing"], "method": "api", "language": "en", "notice_hash": "`+strings.Repeat("a", 64)+`"}`))
			req.Host = acme.host
			req.Header.Set("Authorization", "Bearer "+acme.key)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			other.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b, _ := io.ReadAll(rec.Body)
				t.Fatalf("the other instance's grant: %d %s", rec.Code, b)
			}

			eventually(t, "the other instance's grant reaches acme's decisions", func() bool { return allowed(acme) })
			if allowed(ours) {
				t.Error("acme's grant reached the deployment's own organisation")
			}
		})
	}
}
