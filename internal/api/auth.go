package api

import (
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
)

var (
	errNoKey     = fault.New(fault.Unauthorized, "unauthenticated", "an API key is required: Authorization: Bearer cus_…")
	errForbidden = fault.New(fault.Forbidden, "forbidden", "this key's role may not call this route")
	errNoRoute   = fault.New(fault.NotFound, "not_found", "no such route")
)

// authenticate finds the caller's key and checks the route allows its role.
func (a *API) authenticate(r *http.Request, rt route) (consent.Actor, error) {
	actor := consent.Actor{ID: "anonymous", Role: "public", Place: a.place(r)}
	if rt.Roles == nil {
		return actor, nil // public route: credentials, if any, are not ours to judge
	}
	secret := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return actor, errNoKey
		}
		secret = strings.TrimSpace(tok)
	} else {
		secret = r.Header.Get("X-API-Key")
	}
	if secret == "" {
		return actor, errNoKey
	}
	k, err := a.keys.Authenticate(r.Context(), secret)
	if err != nil {
		return actor, err // apikey.ErrUnknown for a bad, unknown or revoked key
	}
	actor.ID, actor.Role = k.ID, k.Role
	if !slices.Contains(rt.Roles, k.Role) {
		return actor, errForbidden
	}
	return actor, nil
}

// place is where a request came from: the peer address (or, behind a
// trusted proxy, the last X-Forwarded-For hop: the one the proxy added,
// where earlier hops are the client's own claim) and the Host asked for.
func (a *API) place(r *http.Request) string {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if a.opt.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			hops := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); ip != nil {
				addr = ip.String()
			}
		}
	}
	host := r.Host
	if len(host) > 100 {
		host = host[:100]
	}
	return addr + " " + host
}
