// Package center is the public privacy center: the policy and its
// versions, a person's consents, and their rights requests.
package center

import (
	"log/slog"
	"net/http"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/store"
)

// Options are what the privacy center runs on.
type Options struct {
	Consent *consent.Service
	// Requests is nil when rights requests are disabled (no data keyset).
	Requests *dsr.Service
	Store    *store.Store
	// Key signs the visitor's session cookie (32 bytes).
	Key    []byte
	Logger *slog.Logger
}

// New returns the privacy center, to be mounted at /privacy/.
func New(opt Options) (http.Handler, error) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /privacy/{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("privacy center"))
	})
	return mux, nil
}
