package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
)

const csrfKey ctxKey = iota + 100

// MaxFormBytes bounds a form body.
const MaxFormBytes = 1 << 20

// CSRFField is the name of the hidden form field that carries the token.
const CSRFField = "csrf"

// CookieName is name, with the __Host- prefix when the browser came over
// TLS: the prefix pins the cookie to this host and path / and requires
// Secure, which a browser refuses on plain HTTP.
func CookieName(r *http.Request, name string) string {
	if IsHTTPS(r) {
		return "__Host-" + name
	}
	return name
}

// CSRF protects forms twice over. Unsafe requests must come from this
// origin (Sec-Fetch-Site / Origin, as http.CrossOriginProtection checks)
// and must carry, in the csrf form field or the X-CSRF-Token header, the
// token of the browser's SameSite=Strict csrf cookie (double submit).
// Safe requests get the cookie if they have none. Requests that fail are
// passed to deny.
func CSRF(next http.Handler, deny http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := CookieName(r, "custos_csrf")
		token := ""
		if c, err := r.Cookie(name); err == nil && len(c.Value) == 43 {
			token = c.Value
		}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			if token == "" {
				token = newToken()
				http.SetCookie(w, &http.Cookie{
					Name: name, Value: token, Path: "/", HttpOnly: true,
					Secure: IsHTTPS(r), SameSite: http.SameSiteStrictMode,
				})
			}
		default:
			r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
			if err := cop.Check(r); err != nil {
				deny.ServeHTTP(w, r)
				return
			}
			sent := r.Header.Get("X-CSRF-Token")
			if sent == "" {
				sent = r.PostFormValue(CSRFField)
			}
			if token == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
				deny.ServeHTTP(w, r)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), csrfKey, token)))
	})
}

// CSRFToken is the token forms of this request must carry.
func CSRFToken(r *http.Request) string {
	t, _ := r.Context().Value(csrfKey).(string)
	return t
}

func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
