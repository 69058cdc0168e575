// Package web holds what Custos' HTML faces share: the page layout and
// style sheet, the message catalogue for zh-CN and en, security headers,
// and CSRF protection for forms. The privacy center and the admin console
// build their pages on it.
package web

import (
	"embed"
	"io/fs"
	"net"
	"net/http"
	"path"
	"strings"
)

//go:embed static templates
var assets embed.FS

// Languages are the languages every page is offered in, the first the default.
var Languages = []string{"zh-CN", "en"}

// CSP is the Content-Security-Policy of every page: scripts and styles only
// from Custos itself, nothing inline, no framing.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'"

// Secure sets the security headers every HTML response carries.
func Secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
		if IsHTTPS(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// IsHTTPS tells whether the browser reached Custos over TLS, directly or
// through a proxy that said so. X-Forwarded-Proto is only believed when the
// server is told it runs behind a proxy; Secure does not read it otherwise.
func IsHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if trustProxy(r) {
		return strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
	}
	return false
}

// ClientAddr is the address a request came from: the peer, or behind a
// trusted proxy the last X-Forwarded-For hop (the one that proxy added;
// hops before it are whatever the client claimed).
func ClientAddr(r *http.Request) string {
	addr := r.RemoteAddr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	if trustProxy(r) {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			hops := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(hops[len(hops)-1])); ip != nil {
				addr = ip.String()
			}
		}
	}
	return addr
}

// Static serves the shared style sheet and scripts under /static/, and
// nothing else of the embedded files. A directory answers 404, not a
// listing.
func Static() http.Handler {
	files := http.FileServerFS(assets)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		fi, err := fs.Stat(assets, name)
		if err != nil || fi.IsDir() || !strings.HasPrefix(name, "static/") || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}
