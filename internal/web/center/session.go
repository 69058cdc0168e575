package center

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/web"
)

// SessionTTL is how long a session lasts after its last change, and
// SessionMaxAge how long it lasts at most, however often it is used: a
// copied cookie cannot be kept alive by refreshing it.
const (
	SessionTTL    = 30 * time.Minute
	SessionMaxAge = 8 * time.Hour
)

// maxRequests bounds the requests a session remembers, so the cookie
// stays well under browsers' 4 KB limit.
const maxRequests = 8

// session is what the signed cookie carries. It is signed, not
// encrypted: it holds nothing the person does not already know (their
// subject id is opaque; the access tokens are their own).
type session struct {
	// Subject is the signed-in subject, empty until a sign-in code was
	// entered.
	Subject string `json:"s,omitempty"`
	// Challenge is a sign-in waiting for its code.
	Challenge string `json:"c,omitempty"`
	// Requests maps the person's requests to their access tokens.
	Requests map[string]string `json:"r,omitempty"`
	// Issued is when the session began (Unix seconds); Expires when it
	// ends unless used again.
	Issued  int64 `json:"i"`
	Expires int64 `json:"e"`
}

func cookieName(r *http.Request) string { return web.CookieName(r, "custos_center") }

// session reads the visitor's session; an absent, forged or expired
// cookie is an empty session.
func (c *center) session(r *http.Request) session {
	ck, err := r.Cookie(cookieName(r))
	if err != nil {
		return session{}
	}
	payload, sig, ok := strings.Cut(ck.Value, ".")
	if !ok {
		return session{}
	}
	got, err1 := base64.RawURLEncoding.DecodeString(sig)
	raw, err2 := base64.RawURLEncoding.DecodeString(payload)
	if err1 != nil || err2 != nil || !hmac.Equal(got, c.sign(raw)) {
		return session{}
	}
	var s session
	now := time.Now().Unix()
	if json.Unmarshal(raw, &s) != nil || now > s.Expires || now > s.Issued+int64(SessionMaxAge/time.Second) {
		return session{}
	}
	return s
}

func (c *center) sign(raw []byte) []byte {
	m := hmac.New(sha256.New, c.opt.Key)
	m.Write([]byte("custos center session\x00"))
	m.Write(raw)
	return m.Sum(nil)
}

// save writes the session back with a fresh expiry (or clears the cookie
// when the session holds nothing).
func (c *center) save(w http.ResponseWriter, r *http.Request, s session) {
	ck := &http.Cookie{Name: cookieName(r), Path: "/", HttpOnly: true, Secure: web.IsHTTPS(r), SameSite: http.SameSiteLaxMode}
	if s.Subject == "" && s.Challenge == "" && len(s.Requests) == 0 {
		ck.MaxAge = -1
		http.SetCookie(w, ck)
		return
	}
	now := time.Now().Unix()
	if s.Issued == 0 {
		s.Issued = now
	}
	s.Expires = min(now+int64(SessionTTL/time.Second), s.Issued+int64(SessionMaxAge/time.Second))
	raw, _ := json.Marshal(s)
	ck.Value = base64.RawURLEncoding.EncodeToString(raw) + "." + base64.RawURLEncoding.EncodeToString(c.sign(raw))
	ck.MaxAge = int(s.Expires - now)
	http.SetCookie(w, ck)
}

// remember adds a request's access token to the session, forgetting
// another one when full.
func (s *session) remember(id, token string) {
	if s.Requests == nil {
		s.Requests = map[string]string{}
	}
	if len(s.Requests) >= maxRequests {
		for k := range s.Requests {
			if k != id {
				delete(s.Requests, k)
				break
			}
		}
	}
	s.Requests[id] = token
}
