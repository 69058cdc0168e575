package center

import (
	"errors"
	"net/http"
	"strings"

	"github.com/custos-privacy/custos/internal/signin"
)

// signinData is what the sign-in forms show. The rules of signing in (the
// codes, their limits, the pending sign-ins every instance shares) are the
// signin package's; these handlers only ask and answer.
type signinData struct {
	Next      string
	Error     string
	Available bool
	Identity  identityForm
}

func (c *center) signinForm(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "signin.title")
	p.Data = signinData{Next: safeNext(r.URL.Query().Get("next")), Available: c.opt.Signins != nil, Identity: c.identityForm(p, "email")}
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
	if kind != "email" && kind != "phone" {
		kind = "email"
	}
	data := signinData{Next: safeNext(r.PostFormValue("next")), Available: c.opt.Signins != nil, Identity: c.identityForm(p, kind)}
	if !data.Available {
		c.r.Error(w, r, p, http.StatusServiceUnavailable, "err.signin_unavailable")
		return
	}
	if !data.Identity.Offers(kind) {
		// A form from before the channel went away, or not from this page:
		// no code can reach this kind, so none is asked for.
		p.Alert = p.T("err.no_message_channel")
		p.Data = data
		c.r.Render(w, http.StatusServiceUnavailable, "signin", p)
		return
	}
	id, err := c.opt.Signins.Start(r.Context(), actor(r, "").Place, kind, value, p.Lang)
	switch {
	case errors.Is(err, signin.ErrInvalidIdentity):
		// The value is not echoed back: the form starts empty again.
		p.Alert = p.T("err.invalid_identity")
		p.Data = data
		c.r.Render(w, http.StatusBadRequest, "signin", p)
		return
	case errors.Is(err, signin.ErrRateLimited):
		c.log.Info("privacy center: sign-in rate limited")
		p.Alert = p.T("err.rate_limited")
		p.Data = data
		c.r.Render(w, http.StatusTooManyRequests, "signin", p)
		return
	case err != nil:
		c.fail(w, r, p, err)
		return
	}
	s := c.session(r)
	s.Subject, s.Challenge = "", id
	c.save(w, r, s)
	redirect(w, r, "/privacy/signin/code?next="+urlQueryEscape(data.Next))
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
	if c.opt.Signins == nil {
		c.r.Error(w, r, p, http.StatusServiceUnavailable, "err.signin_unavailable")
		return
	}
	subject, err := c.opt.Signins.Verify(r.Context(), actor(r, "").Place, s.Challenge, strings.TrimSpace(r.PostFormValue("code")))
	switch {
	case errors.Is(err, signin.ErrRateLimited):
		p.Alert = p.T("err.rate_limited")
		p.Data = signinData{Next: next}
		c.r.Render(w, http.StatusTooManyRequests, "signin_code", p)
		return
	case errors.Is(err, signin.ErrTooManyAttempts), errors.Is(err, signin.ErrNoSignin):
		s.Challenge = ""
		c.save(w, r, s)
		p.Title = p.T("signin.title")
		p.Alert = p.T("err.signin_again")
		p.Data = signinData{Next: next, Available: true, Identity: c.identityForm(p, "email")}
		c.r.Render(w, http.StatusBadRequest, "signin", p)
		return
	case errors.Is(err, signin.ErrWrongCode):
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
