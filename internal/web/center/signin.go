package center

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/ratelimit"
	"github.com/custos-privacy/custos/internal/store"
)

// Sign-in follows the public rights intake: a six-digit code goes to an
// email address or phone number the person registered, the answer is the
// same whether or not it is on file, and the limits count the claimed
// identity either way.
const (
	codeTTL       = 15 * time.Minute
	maxAttempts   = 5
	perIdentity   = 5  // sign-ins per claimed identity per hour
	perAddress    = 30 // sign-ins per source address per hour
	verifyPerAddr = 10 * maxAttempts
)

// signins keeps pending sign-ins in the database, so that the code can
// be entered on whichever instance the next request reaches. Codes are
// stored as HMACs under the center's key.
type signins struct {
	st  *store.Store
	key []byte
}

func (s *signins) hash(id, code string) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("custos center sign-in code\x00" + id + "\x00" + code))
	return m.Sum(nil)
}

// add records a sign-in for subject ("" when the identity is not on
// file, so that it fails like a wrong code) and returns its id.
func (s *signins) add(ctx context.Context, subject, code string, now time.Time) (string, error) {
	id := randomID()
	err := s.st.PutSignin(ctx, store.Signin{ID: id, SubjectID: subject, CodeHash: s.hash(id, code), ExpiresAt: now.Add(codeTTL), CreatedAt: now})
	return id, err
}

var (
	errBadCode     = errors.New("wrong or expired code")
	errTooManyTry  = errors.New("too many wrong codes")
	errNoChallenge = errors.New("no sign-in in progress")
)

// verify checks a code: every attempt is counted in the database before
// the constant-time comparison, and the sign-in ends after maxAttempts
// wrong ones or on success.
func (s *signins) verify(ctx context.Context, id, code string, now time.Time) (string, error) {
	si, err := s.st.SigninAttempt(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", errNoChallenge
	}
	if err != nil {
		return "", err
	}
	if si.Attempts > maxAttempts {
		return "", errors.Join(errTooManyTry, s.st.DeleteSignin(ctx, id))
	}
	good := hmac.Equal(si.CodeHash, s.hash(id, code))
	if !good || now.After(si.ExpiresAt) || si.SubjectID == "" {
		return "", errBadCode
	}
	if err := s.st.DeleteSignin(ctx, id); err != nil {
		return "", err
	}
	return si.SubjectID, nil
}

func randomID() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

type signinData struct {
	Kind, Next string
	Error      string
	Available  bool
}

func (c *center) signinForm(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "signin.title")
	p.Data = signinData{Kind: "email", Next: safeNext(r.URL.Query().Get("next")), Available: c.opt.Sealer != nil && c.opt.Hasher != nil}
	c.r.Render(w, http.StatusOK, "signin", p)
}

// safeNext keeps a return path inside the privacy center.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/privacy/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return "/privacy/consents"
	}
	return next
}

func (c *center) signinStart(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "signin.title")
	kind, value := r.PostFormValue("kind"), r.PostFormValue("identity")
	data := signinData{Kind: kind, Next: safeNext(r.PostFormValue("next")), Available: c.opt.Sealer != nil && c.opt.Hasher != nil}
	if !data.Available {
		c.r.Error(w, r, p, http.StatusServiceUnavailable, "err.signin_unavailable")
		return
	}
	if kind != "email" && kind != "phone" {
		kind, data.Kind = "email", "email"
	}
	norm, err := identity.Normalize(kind, value)
	if err != nil {
		// The value is not echoed back: the form starts empty again.
		p.Alert = p.T("err.invalid_identity")
		p.Data = data
		c.r.Render(w, http.StatusBadRequest, "signin", p)
		return
	}
	now := time.Now()
	hash := c.opt.Hasher.Hash(kind, norm)
	place := actor(r, "").Place
	if !c.limits.Allow("signin-addr:"+ratelimit.Client(place), perAddress, now) || !c.limits.Allow("signin-id:"+string(hash), perIdentity, now) {
		c.log.Info("privacy center: sign-in rate limited")
		p.Alert = p.T("err.rate_limited")
		p.Data = data
		c.r.Render(w, http.StatusTooManyRequests, "signin", p)
		return
	}
	code := dsr.NewCode()
	subject, err := c.sendCode(r.Context(), kind, hash, code, p.Lang)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	s := c.session(r)
	s.Subject = ""
	if s.Challenge, err = c.signins.add(r.Context(), subject, code, now); err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.save(w, r, s)
	redirect(w, r, "/privacy/signin/code?next="+urlQueryEscape(data.Next))
}

// sendCode queues the code to the identity when it is on file with a kept
// value, and returns the subject ("" otherwise). It takes about the same
// steps either way; the answer the person sees does not depend on it.
func (c *center) sendCode(ctx context.Context, kind string, hash []byte, code, lang string) (string, error) {
	if c.opt.Requests == nil {
		return "", nil // no data keyset: kept values cannot be opened
	}
	d, ok, err := c.opt.Requests.CodeDelivery(ctx, kind, hash, code, lang, codeTTL, nil)
	if err != nil || !ok {
		return "", err
	}
	if err := c.opt.Store.Outbox().Enqueue(ctx, d); err != nil {
		return "", err
	}
	c.log.Info("privacy center: sign-in code queued", "subject", d.Subject, "channel", d.Channel)
	return d.Subject, nil
}

func (c *center) signinCodeForm(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "signin.code_title")
	if c.session(r).Challenge == "" {
		redirect(w, r, "/privacy/signin")
		return
	}
	p.Notice = p.T("signin.sent")
	p.Data = signinData{Next: safeNext(r.URL.Query().Get("next"))}
	c.r.Render(w, http.StatusOK, "signin_code", p)
}

func (c *center) signinVerify(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "signin.code_title")
	s := c.session(r)
	next := safeNext(r.PostFormValue("next"))
	if s.Challenge == "" {
		redirect(w, r, "/privacy/signin")
		return
	}
	if !c.limits.Allow("signin-verify:"+ratelimit.Client(actor(r, "").Place), verifyPerAddr, time.Now()) {
		p.Alert = p.T("err.rate_limited")
		p.Data = signinData{Next: next}
		c.r.Render(w, http.StatusTooManyRequests, "signin_code", p)
		return
	}
	subject, err := c.signins.verify(r.Context(), s.Challenge, strings.TrimSpace(r.PostFormValue("code")), time.Now())
	switch {
	case errors.Is(err, errTooManyTry), errors.Is(err, errNoChallenge):
		s.Challenge = ""
		c.save(w, r, s)
		p.Title = p.T("signin.title")
		p.Alert = p.T("err.signin_again")
		p.Data = signinData{Kind: "email", Next: next, Available: true}
		c.r.Render(w, http.StatusBadRequest, "signin", p)
		return
	case errors.Is(err, errBadCode):
		c.log.Info("privacy center: sign-in code refused")
		p.Alert = p.T("err.invalid_code")
		p.Data = signinData{Next: next}
		c.r.Render(w, http.StatusBadRequest, "signin_code", p)
		return
	case err != nil:
		c.fail(w, r, p, err)
		return
	}
	// A sign-in starts the session's lifetime afresh.
	s.Challenge, s.Subject, s.Issued = "", subject, 0
	c.save(w, r, s)
	c.log.Info("privacy center: signed in", "subject", subject)
	redirect(w, r, next)
}

func (c *center) signout(w http.ResponseWriter, r *http.Request) {
	c.save(w, r, session{})
	redirect(w, r, "/privacy/")
}
