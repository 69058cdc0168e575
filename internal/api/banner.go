package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/ratelimit"
)

// The consent banner (/banner.js) runs on anonymous visitors of other
// sites, so its two routes are public and answer CORS, with no credentials.
func (a *API) bannerRoutes() []route {
	lim := ratelimit.NewBucket(20, 2*time.Second) // a visitor saves a choice now and then; 20 at once, then one per 2s
	record := func(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
		if !a.cors(w, r) {
			return errOriginNotAllowed
		}
		if !lim.Allow(ratelimit.Client(who.Place), time.Now()) {
			w.Header().Set("Retry-After", "2")
			return errBannerRateLimited
		}
		return a.recordBannerConsent(w, r, who)
	}
	return []route{
		{"GET", "/v1/public/banner", Public, "Consent banner configuration: categories, purposes, vendors, policy version, notice hash (?lang=zh-CN|en; CORS, ETag)", "bannerConfig", "", "BannerConfig", 200, a.bannerConfig},
		{"OPTIONS", "/v1/public/banner", Public, "CORS preflight for the banner configuration", "bannerConfigPreflight", "", "", 204, a.bannerPreflight},
		{"POST", "/v1/public/banner/consents", Public, "Record an anonymous visitor's banner choice (honours Sec-GPC / DNT; CORS)", "recordBannerConsent", "BannerConsentInput", "BannerState", 201, record},
		{"OPTIONS", "/v1/public/banner/consents", Public, "CORS preflight for recording a banner choice", "bannerConsentsPreflight", "", "", 204, a.bannerPreflight},
	}
}

func init() {
	schemaTypes["BannerConfig"] = consent.BannerConfig{}
	schemaTypes["BannerConsentInput"] = consent.BannerChoice{}
	schemaTypes["BannerState"] = consent.BannerState{}
}

var errBannerRateLimited = fault.New(fault.TooMany, "rate_limited", "too many consent writes from this address; try again later")

func (a *API) bannerConfig(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	// The configuration is public; a page of an unlisted site simply may
	// not read it (no Access-Control-Allow-Origin).
	a.cors(w, r)
	b, err := a.svc.Banner(r.URL.Query().Get("lang"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("ETag", b.ETag)
	// Short: a new policy version must reach banners soon; revalidation is cheap.
	h.Set("Cache-Control", "public, max-age=60")
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, b.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(append(b.JSON, '\n'))
	return err
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

func (a *API) recordBannerConsent(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	var in consent.BannerChoice
	if err := decode(r, &in); err != nil {
		return err
	}
	state, err := a.svc.RecordBanner(r.Context(), who, in, consent.RequestSignals(r.Header))
	if err != nil {
		return err
	}
	for _, e := range state.Events {
		a.metrics.consents.WithLabelValues(e.Action).Inc()
	}
	return writeJSON(w, http.StatusCreated, state)
}

// errOriginNotAllowed refuses a consent write from a page on a site the
// configuration does not list (a browser says which in Origin).
var errOriginNotAllowed = fault.New(fault.Forbidden, "origin_not_allowed", "consents are not recorded from pages of this site")

// cors answers the banner's CORS, with no credentials (the visitor id
// travels in the body): any origin when no
// origins are configured, else only the listed ones (echoed, with Vary).
// It reports whether the request's origin, if it named one, is allowed.
func (a *API) cors(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Access-Control-Expose-Headers", "ETag, Retry-After")
	if len(a.opt.BannerOrigins) == 0 {
		h.Set("Access-Control-Allow-Origin", "*")
		return true
	}
	h.Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser's cross-origin request
	}
	if slices.Contains(a.opt.BannerOrigins, strings.ToLower(origin)) {
		h.Set("Access-Control-Allow-Origin", origin)
		return true
	}
	return false
}

func (a *API) bannerPreflight(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	if !a.cors(w, r) {
		return errOriginNotAllowed
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	h.Set("Cache-Control", "public, max-age=86400")
	w.WriteHeader(http.StatusNoContent)
	return nil
}
