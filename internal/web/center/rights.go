package center

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/web"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// historyNotes are the rights service's fixed history notes, by message key.
var historyNotes = map[string]string{
	dsr.NoteReceived:           "note.received",
	dsr.NoteVerifiedByCode:     "note.verified_code",
	dsr.NoteVerifiedByOperator: "note.verified_operator",
	dsr.NoteWithdrawn:          "note.withdrawn",
	dsr.NoteTooManyCodes:       "note.too_many_codes",
	dsr.NoteForwarded:          "note.forwarded",
	dsr.NoteTransmitted:        "note.transmitted",
	dsr.NoteTransmissionRetry:  "note.transmission_retried",
}

// rightView is one right the manifest offers.
type rightView struct {
	Right         string
	How           string
	Conditions    string
	Jurisdictions []jurisdictionView
	// Purposes are offered for withdraw_consent and objection.
	Purposes []purposeOption
	// Channels, where the policy's term for the right depends on the
	// channel the request comes through, are the ones to pick from; the
	// form's default is the center itself (no via: the right's general
	// deadline).
	Channels []dsr.ChannelChoice
	// Contact, when set, replaces the form: a relative acting for a
	// deceased person is not the person on file, so a one-time code cannot
	// verify them; their evidence is checked by a person.
	Contact []contactView
}

type contactView struct{ Kind, Value, Label string }

// purposeOption is a purpose a request may name.
type purposeOption struct{ ID, Name string }

type jurisdictionView struct{ ID, Name string }

type rightsData struct {
	Rights []rightView
	Right  *rightView
	// Identity is the request form's identity fields.
	Identity identityForm
	Request  dsr.View
	ID       string
	Open     bool // still open, so it may be withdrawn
	Cancel   bool // a scheduled account cancellation, still to take effect
	Export   bool // the request type produces an export bundle
	Bundle   bool // and one may be downloaded now
	// Undelivered is set when a transmission to another service failed.
	Undelivered bool
	Ground      string
	// Deadline is the time the policy gives to answer, in words.
	Deadline string
}

// offered lists the rights the manifest offers, each with the
// jurisdictions it is offered in.
func offered(m *manifest.Manifest, lang string) []rightView {
	var out []rightView
	names := map[string]string{}
	var all []string
	for _, j := range m.Jurisdiction {
		names[j.ID] = j.Name.In(lang)
		all = append(all, j.ID)
	}
	for _, o := range m.Rights.Offered {
		i := slices.IndexFunc(out, func(v rightView) bool { return v.Right == o.Right })
		if i < 0 {
			rv := rightView{Right: o.Right, How: o.How.In(lang), Conditions: o.Conditions.In(lang)}
			if o.Right == "deceased" {
				rv.Contact = contacts(m, lang)
			}
			out = append(out, rv)
			i = len(out) - 1
		}
		js := o.Jurisdictions
		if len(js) == 0 {
			js = all
		}
		for _, j := range js {
			if !slices.ContainsFunc(out[i].Jurisdictions, func(v jurisdictionView) bool { return v.ID == j }) {
				out[i].Jurisdictions = append(out[i].Jurisdictions, jurisdictionView{ID: j, Name: names[j]})
			}
		}
	}
	return out
}

func (c *center) requestsAvailable(w http.ResponseWriter, r *http.Request, p *web.Page) bool {
	if c.opt.Requests == nil {
		c.r.Error(w, r, p, http.StatusServiceUnavailable, "err.requests_unavailable")
		return false
	}
	return true
}

func (c *center) requestTypes(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "rights.title")
	if !c.requestsAvailable(w, r, p) {
		return
	}
	m := c.manifest()
	if m == nil {
		c.fail(w, r, p, fault.New(fault.Unavailable, "no_policy", "no policy"))
		return
	}
	p.Data = rightsData{Rights: offered(m, p.Lang)}
	c.r.Render(w, http.StatusOK, "rights", p)
}

func (c *center) requestForm(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "request.title")
	if !c.requestsAvailable(w, r, p) {
		return
	}
	c.renderRequestForm(w, r, p, r.URL.Query().Get("type"), "email", http.StatusOK)
}

func (c *center) renderRequestForm(w http.ResponseWriter, r *http.Request, p *web.Page, right, kind string, status int) {
	m := c.manifest()
	if m == nil {
		c.fail(w, r, p, fault.New(fault.Unavailable, "no_policy", "no policy"))
		return
	}
	rights := offered(m, p.Lang)
	i := slices.IndexFunc(rights, func(v rightView) bool { return v.Right == right })
	if i < 0 {
		c.r.Error(w, r, p, http.StatusNotFound, "err.right_not_offered")
		return
	}
	rv := rights[i]
	if rv.Contact != nil {
		c.r.Error(w, r, p, http.StatusNotFound, "err.right_not_offered")
		return
	}
	if right == "withdraw_consent" || right == "objection" {
		// Consent is withdrawn anywhere; an objection also reaches purposes
		// on legitimate interests or a public task, wherever they rest on them.
		for _, mp := range m.Purposes {
			bases := mp.AllBases()
			if slices.Contains(bases, "consent") || right == "objection" && slices.ContainsFunc(bases, manifest.ObjectableBasis) {
				rv.Purposes = append(rv.Purposes, purposeOption{ID: mp.ID, Name: mp.Name.In(p.Lang)})
			}
		}
	}
	rv.Channels = dsr.ChannelChoices(m, right, p.Lang)
	p.Title = p.T("request.title_for", p.T("right."+right))
	p.Data = rightsData{Right: &rv, Identity: c.identityForm(p, kind)}
	c.r.Render(w, status, "request_form", p)
}

func (c *center) submitRequest(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "request.title")
	if !c.requestsAvailable(w, r, p) {
		return
	}
	right, kind := r.PostFormValue("type"), r.PostFormValue("kind")
	if kind != "phone" {
		kind = "email"
	}
	in := dsr.Input{Type: right, Jurisdiction: r.PostFormValue("jurisdiction"), Language: p.Lang,
		Identity: &consent.IdentityInput{Kind: kind, Value: strings.TrimSpace(r.PostFormValue("identity"))},
		Via:      r.PostFormValue("via")}
	if purposes := r.PostForm["purpose"]; len(purposes) > 0 && len(purposes) <= 64 {
		in.Details, _ = json.Marshal(dsr.Details{Purposes: purposes})
	}
	if name, endpoint := strings.TrimSpace(r.PostFormValue("transmit_name")), strings.TrimSpace(r.PostFormValue("transmit_endpoint")); right == "portability" && (name != "" || endpoint != "") {
		in.Details, _ = json.Marshal(dsr.Details{TransmitTo: &dsr.ThirdParty{Name: name, Endpoint: endpoint}})
	}
	acc, err := c.opt.Requests.SubmitPublic(r.Context(), actor(r, ""), in)
	if err != nil {
		if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal {
			// Show the form again, without the identity typed: it is not echoed.
			c.log.Info("privacy center: request refused", "code", fe.Code)
			key := "err." + fe.Code
			if !c.r.Catalog().Has(key) {
				key = "err.generic"
			}
			p.Alert = p.T(key)
			c.renderRequestForm(w, r, p, right, kind, fault.Status(fe.Kind))
			return
		}
		c.fail(w, r, p, err)
		return
	}
	s := c.session(r)
	s.remember(acc.ID, acc.AccessToken)
	c.save(w, r, s)
	c.log.Info("privacy center: request received", "request", acc.ID, "type", right)
	redirect(w, r, "/privacy/requests/"+acc.ID+"/verify")
}

// token is the session's access token for a request, "" when it has none.
func (c *center) token(r *http.Request, id string) string {
	return c.session(r).Requests[id]
}

func (c *center) verifyForm(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "verify.title")
	if !c.requestsAvailable(w, r, p) {
		return
	}
	id := r.PathValue("id")
	if c.token(r, id) == "" {
		c.r.Error(w, r, p, http.StatusNotFound, "err.request_not_found")
		return
	}
	p.Notice = p.T("verify.sent")
	p.Data = rightsData{ID: id}
	c.r.Render(w, http.StatusOK, "verify", p)
}

func (c *center) verifyRequest(w http.ResponseWriter, r *http.Request) {
	p, id, ok := c.ownRequest(w, r, "verify.title")
	if !ok {
		return
	}
	_, err := c.opt.Requests.Verify(r.Context(), actor(r, ""), id, c.token(r, id), strings.TrimSpace(r.PostFormValue("code")))
	if fe, ok := fault.As(err); ok && fe.Code == "invalid_code" {
		c.log.Info("privacy center: request code refused", "request", id)
		p.Alert = p.T("err.invalid_code")
		p.Data = rightsData{ID: id}
		c.r.Render(w, http.StatusBadRequest, "verify", p)
		return
	}
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.log.Info("privacy center: request verified", "request", id)
	redirect(w, r, "/privacy/requests/"+id+"?done=verified")
}

// followRequest puts a request's access token (as shown when it was made)
// into the session, so its status can be followed in a new browser
// without the token ever being in a URL.
// ownRequest starts a page about the request in the path, for a session
// holding that request's access token; otherwise it answers and ok is false.
func (c *center) ownRequest(w http.ResponseWriter, r *http.Request, titleKey string) (p *web.Page, id string, ok bool) {
	p = c.page(r, titleKey)
	if !c.requestsAvailable(w, r, p) {
		return p, "", false
	}
	id = r.PathValue("id")
	if err := c.opt.Requests.Authorize(r.Context(), id, c.token(r, id)); err != nil {
		c.fail(w, r, p, err)
		return p, "", false
	}
	return p, id, true
}

func (c *center) followRequest(w http.ResponseWriter, r *http.Request) {
	p := c.page(r, "status.title")
	if !c.requestsAvailable(w, r, p) {
		return
	}
	id, token := strings.TrimSpace(r.PostFormValue("request")), strings.TrimSpace(r.PostFormValue("token"))
	if len(id) > 64 || len(token) > 128 || c.opt.Requests.Authorize(r.Context(), id, token) != nil {
		c.log.Info("privacy center: follow refused")
		c.r.Error(w, r, p, http.StatusNotFound, "err.request_not_found")
		return
	}
	s := c.session(r)
	s.remember(id, token)
	c.save(w, r, s)
	redirect(w, r, "/privacy/requests/"+id)
}

func (c *center) requestStatus(w http.ResponseWriter, r *http.Request) {
	p, id, ok := c.ownRequest(w, r, "status.title")
	if !ok {
		return
	}
	v, err := c.opt.Requests.Status(r.Context(), id)
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	switch r.URL.Query().Get("done") {
	case "verified":
		p.Notice = p.T("status.verified")
	case "withdrawn":
		p.Notice = p.T("status.withdrawn")
	}
	d := rightsData{ID: id, Request: v}
	d.Open = slices.Contains(dsr.OpenStates, v.State)
	d.Cancel = d.Open && v.Type == "cancel_account" && v.EffectiveAt != nil
	d.Export = v.State == dsr.StateCompleted && (v.Type == "access" || v.Type == "copy" || v.Type == "portability")
	if d.Export {
		if d.Bundle, err = c.opt.Requests.HasBundle(r.Context(), id); err != nil {
			c.fail(w, r, p, err)
			return
		}
	}
	if v.RefusalGround != "" {
		if m := c.manifest(); m != nil {
			if t, ok := m.RefusalGround(v.Type, v.Jurisdiction, v.RefusalGround); ok {
				d.Ground = t.In(p.Lang)
			}
		}
	}
	d.Deadline = dsr.DeadlineWords(v.Deadline, p.Lang)
	d.Undelivered = slices.ContainsFunc(v.Transmissions, func(t dsr.TransmissionState) bool { return t.State == dsr.TransmissionFailed })
	// The history's notes are the rights service's, in English, for
	// operators: the fixed ones are shown in the page's language, a
	// refusal by its ground, and what an operator wrote to the person
	// (what is needed from them, why the deadline was extended) as
	// written. Any other note (a summary of what systems did, a merge
	// into another request) is not the person's to read here.
	d.Request.History = slices.Clone(v.History)
	for i, h := range d.Request.History {
		note := ""
		switch {
		case historyNotes[h.Note] != "":
			note = p.T(historyNotes[h.Note])
		case h.To == dsr.StateRefused && h.Note == v.RefusalGround:
			note = d.Ground
		case strings.HasPrefix(h.Note, dsr.NoteForwardedIn):
			note = p.T("note.forwarded_in")
		case strings.HasPrefix(h.Note, dsr.NoteVerifiedByCode+" at "):
			note = p.T("note.verified_code")
		case strings.HasPrefix(h.Note, dsr.NoteRecomputed):
			note = p.T("note.recomputed")
		case strings.HasPrefix(h.Note, dsr.NoteTransmissionFailed):
			// Why, in the operators' words, is for them; the person was
			// told in theirs by message.
			note = p.T("note.transmission_failed")
		case h.From != h.To && (h.To == dsr.StateAwaitingSubject || h.To == dsr.StateExtended):
			note = h.Note
		}
		d.Request.History[i].Note = note
	}
	p.Data = d
	c.r.Render(w, http.StatusOK, "status", p)
}

func (c *center) withdrawRequest(w http.ResponseWriter, r *http.Request) {
	p, id, ok := c.ownRequest(w, r, "status.title")
	if !ok {
		return
	}
	if _, err := c.opt.Requests.Withdraw(r.Context(), actor(r, ""), id); err != nil {
		c.fail(w, r, p, err)
		return
	}
	c.log.Info("privacy center: request withdrawn", "request", id)
	redirect(w, r, "/privacy/requests/"+id+"?done=withdrawn")
}

// downloadBundle fetches the request's export for the session holding its
// access token, or with the download link (or its token) from the
// completion message.
func (c *center) downloadBundle(w http.ResponseWriter, r *http.Request) {
	p, id, ok := c.ownRequest(w, r, "status.title")
	if !ok {
		return
	}
	var zip []byte
	var err error
	if link := strings.TrimSpace(r.PostFormValue("link")); link != "" {
		if u, err := url.Parse(link); err == nil && u.Query().Get("token") != "" {
			link = u.Query().Get("token")
		}
		zip, err = c.opt.Requests.Download(r.Context(), actor(r, ""), id, link)
	} else {
		zip, err = c.opt.Requests.DownloadForRequester(r.Context(), actor(r, ""), id, c.token(r, id))
	}
	if err != nil {
		c.fail(w, r, p, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="personal-information.zip"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(zip)
}
