package center

import (
	"net/http"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/web"
)

// Method is how consents given here are recorded.
const Method = "privacy_center"

// ledgerView is one subject's choices: the signed-in person's, or a minor's.
type ledgerView struct {
	consent.Choices
	Ward bool // managed by the signed-in guardian
}

// signalView is a browser signal the request carries, and what the
// manifest's signals statement makes of it.
type signalView struct {
	Name    string // GPC or DNT
	Refuses []string
}

type consentsData struct {
	Version    string
	NoticeHash string
	Signals    []signalView
	Self       ledgerView
	Wards      []ledgerView
}

func (c *center) consents(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "consents.title")
	s := c.session(r)
	if s.Subject == "" {
		redirect(w, r, "/privacy/signin?next=/privacy/consents")
		return
	}
	switch r.URL.Query().Get("done") {
	case "grant":
		p.Notice = p.T("consents.granted")
	case "withdraw":
		p.Notice = p.T("consents.withdrawn")
	case "object":
		p.Notice = p.T("consents.objected")
	case "lift":
		p.Notice = p.T("consents.lifted")
	case "accept":
		p.Notice = p.T("consents.accepted")
	}
	if !c.showConsents(w, r, p, s.Subject, http.StatusOK) {
		return
	}
	c.save(w, r, s) // sliding expiry
}

// showConsents renders the consent page; false when it answered with an error.
func (c *center) showConsents(w http.ResponseWriter, r *http.Request, p *web.Page, subject string, status int) bool {
	v, m, _, err := c.opt.Consent.Policy()
	if err != nil {
		c.fail(w, r, p, err)
		return false
	}
	hash, err := c.noticeHash(v.Seq, m, p.Lang)
	if err != nil {
		c.fail(w, r, p, err)
		return false
	}
	signals := consent.RequestSignals(r.Header)
	d := consentsData{Version: v.Version, NoticeHash: hash}
	for _, sig := range signals {
		sv := signalView{Name: p.T("signal." + sig)}
		if rule, ok := m.SignalRule(sig); ok && rule.Honoured() {
			for _, id := range rule.Refuses {
				if mp, ok := m.Purpose(id); ok {
					sv.Refuses = append(sv.Refuses, mp.Name.In(p.Lang))
				}
			}
		}
		d.Signals = append(d.Signals, sv)
	}
	self, err := c.opt.Consent.Choices(r.Context(), subject, p.Lang, signals)
	if err != nil {
		c.signedOut(w, r, p, err)
		return false
	}
	d.Self = ledgerView{Choices: self}
	wards, err := c.opt.Consent.Wards(r.Context(), subject)
	if err != nil {
		c.fail(w, r, p, err)
		return false
	}
	for _, id := range wards {
		ch, err := c.opt.Consent.Choices(r.Context(), id, p.Lang, signals)
		if err != nil || !ch.Guardian {
			continue // erased meanwhile, or not in a guardian's care
		}
		d.Wards = append(d.Wards, ledgerView{Choices: ch, Ward: true})
	}
	p.Data = d
	c.r.Render(w, status, "consents", p)
	return true
}

// signedOut ends a session whose subject is gone (erased, say).
func (c *center) signedOut(w http.ResponseWriter, r *http.Request, p *web.Page, err error) {
	if fe, ok := fault.As(err); ok && fe.Kind == fault.NotFound {
		c.save(w, r, session{})
		redirect(w, r, "/privacy/signin")
		return
	}
	c.fail(w, r, p, err)
}

// target is whom a consent form is for: the signed-in person, or a ward
// the guardian decides for (with the guardian's id to record).
func (c *center) target(w http.ResponseWriter, r *http.Request, p *web.Page, s session) (subject, guardian string, ok bool) {
	ward := r.PostFormValue("for")
	if ward == "" || ward == s.Subject {
		return s.Subject, "", true
	}
	wards, err := c.opt.Consent.Wards(r.Context(), s.Subject)
	if err != nil {
		c.fail(w, r, p, err)
		return "", "", false
	}
	if !slices.Contains(wards, ward) {
		c.log.Info("privacy center: choice for a subject not in the guardian's care", "subject", s.Subject)
		c.r.Error(w, r, p, http.StatusForbidden, "error.forbidden")
		return "", "", false
	}
	return ward, s.Subject, true
}

// formNotice checks the form was shown against the policy in force: what
// was read is what is recorded. It answers the page itself when not.
func (c *center) formNotice(w http.ResponseWriter, r *http.Request, p *web.Page, s session) (string, bool) {
	v, m, _, err := c.opt.Consent.Policy()
	if err != nil {
		c.fail(w, r, p, err)
		return "", false
	}
	hash, err := c.noticeHash(v.Seq, m, p.Lang)
	if err != nil {
		c.fail(w, r, p, err)
		return "", false
	}
	if r.PostFormValue("notice_hash") != hash {
		// The policy changed since the page was shown.
		p.Alert = p.T("err.notice_changed")
		c.showConsents(w, r, p, s.Subject, http.StatusConflict)
		return "", false
	}
	return hash, true
}

// choiceForm is a posted choice on the consents page, checked: the person
// signed in, the form shown against the policy in force, and whom it is
// for (the person, or a ward with the guardian as method).
type choiceForm struct {
	p        *web.Page
	s        session
	hash     string // notice hash of the policy text the form was shown with
	target   string // the subject the choice is for
	method   string // Method, or guardian
	guardian string
}

// form reads and checks a choice form; ok is false when it answered the
// request itself. valid checks the form's own fields first.
func (c *center) form(w http.ResponseWriter, r *http.Request, valid func() bool) (choiceForm, bool) {
	f := choiceForm{p: c.page(r, "consents.title"), s: c.session(r), method: Method}
	if f.s.Subject == "" {
		redirect(w, r, "/privacy/signin?next=/privacy/consents")
		return f, false
	}
	if !valid() {
		c.r.Error(w, r, f.p, http.StatusBadRequest, "err.consent_form")
		return f, false
	}
	var ok bool
	if f.hash, ok = c.formNotice(w, r, f.p, f.s); !ok {
		return f, false
	}
	if f.target, f.guardian, ok = c.target(w, r, f.p, f.s); !ok {
		return f, false
	}
	if f.guardian != "" {
		f.method = "guardian"
	}
	return f, true
}

// recordConsent records one decision on one purpose or act: one ledger
// event (a browser signal may turn a grant into a withdrawal).
func (c *center) recordConsent(w http.ResponseWriter, r *http.Request) {
	key, action := r.PostFormValue("purpose"), r.PostFormValue("action")
	f, ok := c.form(w, r, func() bool { return key != "" && (action == "grant" || action == "withdraw") })
	if !ok {
		return
	}
	in := consent.ConsentInput{Method: f.method, GuardianID: f.guardian, Language: f.p.Lang, NoticeHash: f.hash, Signals: consent.RequestSignals(r.Header)}
	if action == "grant" {
		in.Grant = []string{key}
		// A separate consent is its own act: its own form and its own box.
		in.Separate = r.PostFormValue("separate") == "yes"
	} else {
		in.Withdraw = []string{key}
	}
	evs, err := c.opt.Consent.Record(r.Context(), actor(r, f.s.Subject), f.target, in)
	if fe, ok := fault.As(err); ok && fe.Code == "separate_consent_required" {
		f.p.Alert = f.p.T("err.separate_unchecked")
		c.showConsents(w, r, f.p, f.s.Subject, http.StatusBadRequest)
		return
	}
	if err != nil {
		c.fail(w, r, f.p, err)
		return
	}
	c.log.Info("privacy center: consent recorded", "subject", f.target, "key", key, "action", action, "events", len(evs))
	c.save(w, r, f.s)
	done := action
	if action == "grant" && !slices.ContainsFunc(evs, func(e consent.ConsentEvent) bool { return e.Action == "grant" }) {
		done = "withdraw" // a browser signal turned the grant into a withdrawal
	}
	redirect(w, r, "/privacy/consents?done="+done+"#p-"+f.target+"-"+anchor(key))
}

// recordObjection records an objection to one purpose, or lifts it.
func (c *center) recordObjection(w http.ResponseWriter, r *http.Request) {
	purpose, action := r.PostFormValue("purpose"), r.PostFormValue("action")
	f, ok := c.form(w, r, func() bool { return purpose != "" && (action == "object" || action == "lift") })
	if !ok {
		return
	}
	in := consent.ObjectionInput{Method: f.method, GuardianID: f.guardian, Language: f.p.Lang}
	if action == "object" {
		in.Object = []string{purpose}
	} else {
		in.Lift = []string{purpose}
	}
	if _, err := c.opt.Consent.Object(r.Context(), actor(r, f.s.Subject), f.target, in); err != nil {
		c.fail(w, r, f.p, err)
		return
	}
	c.log.Info("privacy center: objection recorded", "subject", f.target, "purpose", purpose, "action", action)
	c.save(w, r, f.s)
	redirect(w, r, "/privacy/consents?done="+action+"#o-"+f.target+"-"+anchor(purpose))
}

// recordAcceptance records that the signed-in person (or, for a ward, their
// guardian) accepts the version in force.
func (c *center) recordAcceptance(w http.ResponseWriter, r *http.Request) {
	version := r.PostFormValue("version")
	f, ok := c.form(w, r, func() bool { return version != "" })
	if !ok {
		return
	}
	in := consent.AcceptanceInput{Version: version, Method: f.method, GuardianID: f.guardian, Language: f.p.Lang, NoticeHash: f.hash}
	if _, err := c.opt.Consent.Accept(r.Context(), actor(r, f.s.Subject), f.target, in); err != nil {
		c.fail(w, r, f.p, err)
		return
	}
	c.log.Info("privacy center: version accepted", "subject", f.target, "version", version)
	c.save(w, r, f.s)
	redirect(w, r, "/privacy/consents?done=accept#a-"+f.target)
}

// anchor turns a ledger key into an id fragment (recipient:x → recipient-x).
func anchor(key string) string { return strings.ReplaceAll(key, ":", "-") }
