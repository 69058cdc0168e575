package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"mime"
	"net/http"

	"github.com/custos-privacy/custos/internal/text"
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
// Safe requests get the cookie if they have none.
//
// CSRF also reads every unsafe request's form, once, for all the pages:
// a body over MaxFormBytes, a form that cannot be parsed, and a name or
// value that breaks the text rule (package text) are refused before any
// handler runs. Requests refused are passed to deny, which answers as
// Refused says.
func CSRF(next http.Handler, deny http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := CookieName(r, "custos_csrf")
		token := ""
		if c, err := r.Cookie(name); err == nil && len(c.Value) == 43 {
			token = c.Value
		}
		refuse := func(f Refusal) {
			deny.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), refusalKey, f)))
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
				refuse(Refusal{})
				return
			}
			if err := parseForm(r); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					refuse(Refusal{Status: http.StatusRequestEntityTooLarge, Key: "error.too_large"})
				} else {
					refuse(Refusal{Status: http.StatusBadRequest, Key: "error.bad_form"})
				}
				return
			}
			sent := r.Header.Get("X-CSRF-Token")
			if sent == "" {
				sent = r.PostFormValue(CSRFField)
			}
			if token == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
				refuse(Refusal{})
				return
			}
			if field, ok := formText(r); !ok {
				refuse(Refusal{Status: http.StatusUnprocessableEntity, Key: "error.invalid_text", Field: field})
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), csrfKey, token)))
	})
}

// parseForm reads the body's form whole, multipart ones included (the
// console's manifest upload), within the MaxFormBytes the body is held to.
func parseForm(r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return r.ParseMultipartForm(MaxFormBytes)
	}
	return r.ParseForm()
}

// formText checks the form's names and values, and the names of uploaded
// files, against the text rule.
func formText(r *http.Request) (field string, ok bool) {
	if field, ok := text.Values(r.PostForm); !ok {
		return field, false
	}
	if r.MultipartForm == nil {
		return "", true
	}
	for name, files := range r.MultipartForm.File {
		for _, f := range files {
			if !text.Valid(f.Filename, false) {
				if !text.Nameable(name) {
					name = ""
				}
				return name, false
			}
		}
	}
	return "", true
}

const refusalKey ctxKey = iota + 200

// Refusal is why CSRF refused a request, and what its deny handler
// answers: the status and the message key of the error page, with the
// field at fault when there is one to name.
type Refusal struct {
	Status int
	Key    string
	Field  string
}

// Refused is the refusal of a request CSRF passed to its deny handler:
// by default a bad or missing token (403).
func Refused(r *http.Request) Refusal {
	f, _ := r.Context().Value(refusalKey).(Refusal)
	if f.Status == 0 {
		f = Refusal{Status: http.StatusForbidden, Key: "error.csrf"}
	}
	return f
}

// Refuse renders the error page of a refusal.
func (r *Renderer) Refuse(w http.ResponseWriter, req *http.Request, p *Page, f Refusal) {
	key, args := f.Key, []any(nil)
	if key == "error.invalid_text" {
		key, args = "error.invalid_text_unnamed", nil
		if f.Field != "" {
			key, args = "error.invalid_text", []any{f.Field}
		}
	}
	r.Error(w, req, p, f.Status, key, args...)
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
