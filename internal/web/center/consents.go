package center

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/web"
)

// Method is how consents given here are recorded: "privacy_center" once
// the ledger knows that method, "api" until then.
var Method = func() string {
	if slices.Contains(consent.Methods, "privacy_center") {
		return "privacy_center"
	}
	return "api"
}()

// purposeState is one consent-based purpose as the ledger holds it for a subject.
type purposeState struct {
	ID          string
	Name        string
	Description string
	Separate    bool
	Signals     bool
	Granted     bool
	ByGuardian  bool
	// Stale is a grant made before the policy changed this purpose: it no
	// longer counts and must be given again.
	Stale bool
}

// ledgerView is one subject's consents: the signed-in person's, or a minor's.
type ledgerView struct {
	Subject  string
	Minor    bool
	Ward     bool // managed by the signed-in guardian
	Ordinary []purposeState
	Separate []purposeState
}

type consentsData struct {
	Version    string
	NoticeHash string
	GPC        bool
	GPCHonour  bool
	Self       ledgerView
	Wards      []ledgerView
}

// gpc reports the Global Privacy Control header.
func gpc(r *http.Request) bool { return r.Header.Get("Sec-GPC") == "1" }

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
	}
	if !c.showConsents(w, r, p, s.Subject, http.StatusOK) {
		return
	}
	c.save(w, r, s) // sliding expiry
}

// showConsents renders the consent page; false when it answered with an error.
func (c *center) showConsents(w http.ResponseWriter, r *http.Request, p *web.Page, subject string, status int) bool {
	v, m, pol, err := c.opt.Consent.Policy()
	if err != nil {
		c.fail(w, r, p, err)
		return false
	}
	hash, err := c.noticeHash(v, m, p.Lang)
	if err != nil {
		c.fail(w, r, p, err)
		return false
	}
	d := consentsData{Version: v.Version, NoticeHash: hash, GPC: gpc(r), GPCHonour: m.Cookies == nil || m.Cookies.GPC != "ignore"}
	self, err := c.ledger(r, subject, m, pol, p.Lang)
	if err != nil {
		c.signedOut(w, r, p, err)
		return false
	}
	d.Self = self
	wards, err := c.opt.Store.Wards(r.Context(), subject)
	if err != nil {
		c.fail(w, r, p, err)
		return false
	}
	for _, id := range wards {
		lv, err := c.ledger(r, id, m, pol, p.Lang)
		if err != nil {
			continue // erased meanwhile
		}
		if !lv.Minor {
			continue // of age: their choices are their own
		}
		lv.Ward = true
		d.Wards = append(d.Wards, lv)
	}
	p.Data = d
	c.r.Render(w, status, "consents", p)
	return true
}

// signedOut ends a session whose subject is gone (erased, say).
func (c *center) signedOut(w http.ResponseWriter, r *http.Request, p *web.Page, err error) {
	if errors.Is(err, store.ErrNotFound) {
		c.save(w, r, session{})
		redirect(w, r, "/privacy/signin")
		return
	}
	c.fail(w, r, p, err)
}

// ledger reads a subject's current consents from the ledger.
// m and pol are the manifest and rules of one policy version, the page's.
func (c *center) ledger(r *http.Request, subject string, m *manifest.Manifest, pol *check.Policy, lang string) (ledgerView, error) {
	sub, states, err := c.opt.Store.SubjectState(r.Context(), subject)
	if err != nil {
		return ledgerView{}, err
	}
	byPurpose := map[string]store.ConsentState{}
	for _, st := range states {
		byPurpose[st.Purpose] = st
	}
	lv := ledgerView{Subject: subject}
	snap := &check.Subject{Known: true, GuardianID: sub.GuardianID, Consents: map[string]check.Consent{}}
	if pol.GuardianAge > 0 && sub.BirthDate != "" {
		if b, err := time.Parse(time.DateOnly, sub.BirthDate); err == nil {
			snap.MinorUntil = b.AddDate(pol.GuardianAge, 0, 0)
		}
	}
	lv.Minor = time.Now().Before(snap.MinorUntil) || pol.GuardianAge > 0 && len(sub.AgeBand) > 6 && sub.AgeBand[:6] == "under_"
	for _, mp := range m.Purposes {
		rule, ok := pol.Rule(mp.ID)
		if !ok || !rule.Consent {
			continue
		}
		ps := purposeState{ID: mp.ID, Name: mp.Name.In(lang), Description: mp.Description.In(lang), Separate: rule.Separate, Signals: rule.Signals}
		if st, ok := byPurpose[mp.ID]; ok {
			ps.Granted, ps.ByGuardian = st.Granted, st.ByGuardian
			ps.Stale = st.Granted && st.VersionSeq < rule.Epoch
		}
		if ps.Separate {
			lv.Separate = append(lv.Separate, ps)
		} else {
			lv.Ordinary = append(lv.Ordinary, ps)
		}
	}
	return lv, nil
}

// recordConsent records one decision on one purpose: one ledger event, or
// none when a browser signal overrides a grant.
func (c *center) recordConsent(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "consents.title")
	s := c.session(r)
	if s.Subject == "" {
		redirect(w, r, "/privacy/signin?next=/privacy/consents")
		return
	}
	v, m, pol, err := c.opt.Consent.Policy()
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	purpose, action := r.PostFormValue("purpose"), r.PostFormValue("action")
	rule, ok := pol.Rule(purpose)
	if !ok || !rule.Consent || action != "grant" && action != "withdraw" {
		c.r.Error(w, r, p, http.StatusBadRequest, "err.consent_form")
		return
	}
	hash, err := c.noticeHash(v, m, p.Lang)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	if r.PostFormValue("notice_hash") != hash {
		// The policy changed since the page was shown: what was read is not
		// what would be recorded.
		p.Alert = p.T("err.notice_changed")
		c.showConsents(w, r, p, s.Subject, http.StatusConflict)
		return
	}
	in := consent.ConsentInput{Method: Method, Language: p.Lang, NoticeHash: hash}
	target := s.Subject
	if ward := r.PostFormValue("for"); ward != "" && ward != s.Subject {
		wards, err := c.opt.Store.Wards(r.Context(), s.Subject)
		if err != nil {
			c.fail(w, r, p, err)
			return
		}
		if !slices.Contains(wards, ward) {
			c.log.Info("privacy center: consent for a subject not in the guardian's care", "subject", s.Subject)
			c.r.Error(w, r, p, http.StatusForbidden, "error.forbidden")
			return
		}
		target, in.Method, in.GuardianID = ward, "guardian", s.Subject
	}
	if action == "grant" {
		if rule.Separate {
			// A separate consent is its own act: its own form and its own box.
			if r.PostFormValue("separate") != "yes" {
				p.Alert = p.T("err.separate_unchecked")
				c.showConsents(w, r, p, s.Subject, http.StatusBadRequest)
				return
			}
			in.Separate = true
		}
		in.Grant = []string{purpose}
	} else {
		in.Withdraw = []string{purpose}
	}
	if gpc(r) {
		in.Signals = append(in.Signals, consent.SignalGPC)
	}
	evs, err := c.opt.Consent.Record(r.Context(), actor(r, s.Subject), target, in)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.log.Info("privacy center: consent recorded", "subject", target, "purpose", purpose, "action", action, "events", len(evs))
	c.save(w, r, s)
	done := action
	if action == "grant" && !slices.ContainsFunc(evs, func(e consent.ConsentEvent) bool { return e.Action == store.ActionGrant }) {
		done = "withdraw" // a browser signal turned the grant into a withdrawal
	}
	redirect(w, r, "/privacy/consents?done="+done+"#p-"+target+"-"+purpose)
}
