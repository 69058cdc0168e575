// Package console is the admin console: operators sign in to work the
// rights-request queue, see consent and request pictures, publish policy
// versions and check the audit chain.
package console

import (
	"log/slog"
	"net/http"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/store"
)

// Options are what the console runs on.
type Options struct {
	Consent *consent.Service
	// Requests is nil when rights requests are disabled (no data keyset).
	Requests *dsr.Service
	Store    *store.Store
	// Key keys the console's session tokens (32 bytes).
	Key    []byte
	Logger *slog.Logger
	// Demo seeds demo operator accounts.
	Demo bool
}

// New returns the console, to be mounted at /console/.
func New(opt Options) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("admin console"))
	})
	return mux, nil
}
