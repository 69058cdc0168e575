// Package api serves Custos's JSON API under /v1, plus health, readiness,
// metrics and the OpenAPI document. Every route declares the roles it
// allows; handlers return errors and one place turns them into responses.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custos-privacy/custos/internal/apikey"
	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/hold"
	"github.com/custos-privacy/custos/internal/incident"
	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/ratelimit"
	"github.com/custos-privacy/custos/internal/receipt"
	"github.com/custos-privacy/custos/internal/retention"
	"github.com/custos-privacy/custos/internal/transfer"
	"github.com/custos-privacy/custos/internal/vault"
)

// Roles: a caller's role is its key's.
const (
	RoleAdmin    = apikey.RoleAdmin
	RoleOperator = apikey.RoleOperator
	RoleAuditor  = apikey.RoleAuditor
	RoleService  = apikey.RoleService
)

// Roles lists every role.
var Roles = apikey.Roles

// Public marks a route that needs no key.
var Public []string

// Pinger tells whether a dependency answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Options configure the API.
type Options struct {
	Service  *consent.Service
	Requests *dsr.Service // nil without a data keyset
	// Vault keeps the values the manifest declares; nil without a data keyset.
	Vault *vault.Service
	// Orgs is the deployment's registry of organisations, given to the
	// deployment's own organisation's API only.
	Orgs *org.Registry
	// Keys authenticates callers and manages the API keys.
	Keys *apikey.Service
	// Holds places and lists legal holds; nil answers 503.
	Holds *hold.Service
	// Incidents keeps security incidents; nil answers 503.
	Incidents *incident.Service
	// Retention plans and runs retention sweeps; nil (no dataset) answers 503.
	Retention *retention.Service
	// Transfers keeps the register and counts of cross-border transfers;
	// nil answers 503.
	Transfers *transfer.Service
	// Trail lists and verifies the audit trail.
	Trail *audit.Trail
	// Health is the database, which must answer for the API to be ready.
	Health       Pinger
	Signer       *receipt.Signer
	Logger       *slog.Logger
	Registry     *prometheus.Registry
	MaxBodyBytes int64
	// BannerOrigins are the sites whose pages may record consents through
	// the banner (scheme://host[:port]); empty allows any.
	BannerOrigins []string
	TrustProxy    bool
	Version       string
}

// API is the HTTP interface.
type API struct {
	opt     Options
	svc     *consent.Service
	log     *slog.Logger
	keys    *apikey.Service
	metrics *metrics
	routes  []route
	handled []Handled // routes as patterns, "/" last
	mux     *http.ServeMux
	// ackLimit limits recipients' acknowledgements per address.
	ackLimit *ratelimit.Bucket
}

// route is one entry of the route table.
type route struct {
	Method  string
	Path    string
	Roles   []string // nil: public
	Summary string
	Op      string // operationId
	Body    string // request schema name, if any
	Resp    string // response schema name
	Status  int    // success status
	h       func(http.ResponseWriter, *http.Request, consent.Actor) error
}

// New builds the API.
func New(opt Options) *API {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = 1 << 20
	}
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
	}
	a := &API{opt: opt, svc: opt.Service, keys: opt.Keys, log: opt.Logger, mux: http.NewServeMux()}
	a.metrics = newMetrics(opt.Registry)
	opt.Registry.MustRegister(newRequestsCollector(a))
	if a.svc != nil {
		opt.Registry.MustRegister(newCacheCollector(a.svc))
	}
	a.routes = append(append(append(a.table(), a.requestRoutes()...), a.bannerRoutes()...), a.orgRoutes()...)
	a.routes = append(a.routes, a.holdRoutes()...)
	a.routes = append(a.routes, a.incidentRoutes()...)
	a.routes = append(a.routes, a.retentionRoutes()...)
	a.routes = append(a.routes, a.transferRoutes()...)
	a.routes = append(a.routes, a.acknowledgementRoutes()...)
	for _, rt := range a.routes {
		a.handled = append(a.handled, Handled{rt.Method + " " + rt.Path, a.wrap(rt)})
	}
	a.handled = append(a.handled, Handled{"/", a.wrap(route{Op: "notFound", h: func(http.ResponseWriter, *http.Request, consent.Actor) error {
		return errNoRoute
	}})})
	for _, h := range a.handled {
		a.mux.Handle(h.Pattern, h.Handler)
	}
	return a
}

// Handled is one pattern of the API (as http.ServeMux reads it) and what
// serves it.
type Handled struct {
	Pattern string
	Handler http.Handler
}

// Handlers returns every pattern of the API and its handler, "/" (every
// path the API does not have) last: for a server that routes the API's
// paths beside others of its own, on one mux.
func (a *API) Handlers() []Handled { return slices.Clone(a.handled) }

// table is every route, with the roles allowed to call it.
func (a *API) table() []route {
	all := Roles
	writers := []string{RoleAdmin, RoleOperator, RoleService}
	staff := []string{RoleAdmin, RoleOperator}
	audit := []string{RoleAdmin, RoleAuditor}
	admin := []string{RoleAdmin}
	return []route{
		{"GET", "/healthz", Public, "Liveness", "health", "", "Status", 200, a.health},
		{"GET", "/readyz", Public, "Readiness: the database answers and a policy is in force", "ready", "", "Status", 200, a.ready},
		{"GET", "/metrics", Public, "Prometheus metrics", "metrics", "", "", 200, a.metricsHandler},
		{"GET", "/openapi.json", Public, "This document", "openapi", "", "", 200, a.openapi},
		{"GET", "/v1/keys/receipts", Public, "Public keys that verify consent receipts (JWK Set)", "receiptKeys", "", "JWKS", 200, a.receiptKeys},

		{"POST", "/v1/subjects", writers, "Register a subject with identities", "createSubject", "SubjectInput", subjectWritten, 201, a.createSubject},
		{"GET", "/v1/subjects/{subject_id}", staff, "Disclose a subject (audited, with ?purpose=)", "getSubject", "", "Subject", 200, a.getSubject},
		{"PATCH", "/v1/subjects/{subject_id}", writers, "Change birth date, age band or guardian", "updateSubject", "SubjectPatch", subjectWritten, 200, a.updateSubject},
		{"POST", "/v1/subjects/{subject_id}/identities", writers, "Add identities", "addIdentities", "IdentitiesInput", subjectWritten, 200, a.addIdentities},
		{"PUT", "/v1/subjects/{subject_id}/restriction", staff, "Restrict processing to storage, or lift it", "setRestriction", "RestrictionInput", "Subject", 200, a.setRestriction},
		{"POST", "/v1/subjects/{subject_id}/consents", writers, "Record consent decisions (honours Sec-GPC / DNT)", "recordConsent", "ConsentInput", "ConsentEvents", 201, a.recordConsent},
		{"GET", "/v1/subjects/{subject_id}/consents", []string{RoleAdmin, RoleOperator, RoleService, RoleAuditor}, "Consent history, oldest first", "listConsents", "", "ConsentPage", 200, a.listConsents},
		{"GET", "/v1/subjects/{subject_id}/consents/{event}/receipt", writers, "Signed consent receipt (JWS, Kantara CR v1.1)", "consentReceipt", "", "Receipt", 200, a.consentReceipt},
		{"POST", "/v1/subjects/{subject_id}/objections", writers, "Record objections to purposes on legitimate interests or a public task, or lift them", "recordObjection", "ObjectionInput", "ConsentEvents", 201, a.recordObjection},
		{"POST", "/v1/subjects/{subject_id}/objections/{purpose}/override", staff, "Record compelling grounds that override an objection (never for direct marketing)", "overrideObjection", "OverrideInput", "ConsentEvents", 201, a.overrideObjection},
		{"POST", "/v1/subjects/{subject_id}/acceptances", writers, "Record the acceptance of a policy version (by the subject, or a minor's guardian)", "recordAcceptance", "AcceptanceInput", "ConsentEvents", 201, a.recordAcceptance},
		{"PUT", "/v1/subjects/{subject_id}/vault/{field}", writers, "Keep a value of a vault field the manifest declares, sealed under the subject's key; answers its token, never the value", "putVault", "VaultInput", "VaultWritten", 200, a.putVault},
		{"GET", "/v1/subjects/{subject_id}/vault/{field}", writers, "Read a vault value for a purpose (?purpose=), in clear or masked as the manifest says for the caller's role (audited)", "getVault", "", "VaultValue", 200, a.getVault},
		{"DELETE", "/v1/subjects/{subject_id}/vault/{field}", writers, "Delete a vault value", "deleteVault", "", "", 204, a.deleteVault},
		{"POST", "/v1/check", writers, "May this subject's data be processed for these purposes (and provided to a recipient, transferred abroad or disclosed)?", "check", "CheckInput", "CheckResult", 200, a.check},

		{"GET", "/v1/policy", all, "The policy version in force", "currentPolicy", "", "PolicyVersion", 200, a.currentPolicy},
		{"GET", "/v1/policy/versions", all, "Every published policy version", "listPolicyVersions", "", "PolicyVersions", 200, a.listPolicyVersions},
		{"POST", "/v1/policy/versions", admin, "Publish a manifest (YAML body) as a new policy version, in force at once or announced (?effective_at=RFC 3339)", "publishPolicy", "Manifest", "Published", 201, a.publishPolicy},

		{"GET", "/v1/audit", audit, "Audit trail entries, oldest first", "listAudit", "", "AuditPage", 200, a.listAudit},
		{"GET", "/v1/audit/verify", audit, "Verify the audit chain", "verifyAudit", "", "AuditReport", 200, a.verifyAudit},

		{"GET", "/v1/keys", admin, "List API keys (never their secrets)", "listKeys", "", "Keys", 200, a.listKeys},
		{"POST", "/v1/keys", admin, "Create an API key; the secret is shown once", "createKey", "KeyInput", "CreatedKey", 201, a.createKey},
		{"DELETE", "/v1/keys/{id}", admin, "Revoke an API key", "revokeKey", "", "Key", 200, a.revokeKey},
	}
}

// Handler returns the API with its middleware.
func (a *API) Handler() http.Handler { return a.mux }

// wrap applies, in order: security headers, authentication and the role
// check, the body limit, the handler, error mapping, metrics and the
// request log (which carries no PI: route pattern, status, key id, time).
func (a *API) wrap(rt route) http.Handler {
	pattern := rt.Path
	if pattern == "" {
		pattern = "unmatched"
	}
	obs := a.metrics.route(rt.Method, pattern)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h := sw.Header()
		for k, v := range securityHeaders {
			h[k] = v
		}
		actor, err := a.authenticate(r, rt)
		if err == nil {
			r.Body = http.MaxBytesReader(sw, r.Body, a.opt.MaxBodyBytes)
			err = rt.h(sw, r, actor)
		}
		if err != nil {
			if fe, ok := fault.As(err); ok && fe.Kind == fault.TooMany && h.Get("Retry-After") == "" {
				h.Set("Retry-After", retryAfter)
			}
			a.writeError(sw, r, rt, err)
		}
		d := time.Since(start)
		obs.observe(sw.status, d)
		level := slog.LevelDebug
		if sw.status >= 500 {
			level = slog.LevelError
		}
		if a.log.Enabled(r.Context(), level) { // skip building the attributes on the hot path
			a.log.Log(r.Context(), level, "request", "method", r.Method, "route", pattern, "status", sw.status, "key", actor.ID, "duration_ms", float64(d.Microseconds())/1000)
		}
	})
}

// retryAfter is the Retry-After, in seconds, of a 429 whose handler did
// not choose one (the banner's does), so that every 429 tells a client
// when to come back. The rights service's limits count a source address's
// and an identity's requests and code attempts over a sliding hour and do
// not say when the oldest leaves it: an hour is the wait sure to be enough.
const retryAfter = "3600"

// securityHeaders go on every response. The slices are shared and never
// changed; handlers only add headers of their own.
var securityHeaders = http.Header{
	"X-Content-Type-Options":  {"nosniff"},
	"Content-Security-Policy": {"default-src 'none'; frame-ancestors 'none'"},
	"Referrer-Policy":         {"no-referrer"},
	"Cache-Control":           {"no-store"},
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = 200
	}
	return w.ResponseWriter.Write(b)
}
