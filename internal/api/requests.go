package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
)

var errNoRequests = fault.New(fault.Unavailable, "requests_unavailable", "rights requests need the data keyset; see custos secrets init")

func (a *API) requestRoutes() []route {
	staff := []string{RoleAdmin, RoleOperator}
	readers := []string{RoleAdmin, RoleOperator, RoleAuditor}
	return []route{
		{"POST", "/v1/public/requests", Public, "Submit a rights request as a member of the public (a one-time code is sent to the identity on file)", "submitPublicRequest", "PublicRequestInput", "Accepted", 202, a.submitPublic},
		{"POST", "/v1/public/requests/{id}/verify", Public, "Verify a public request with the one-time code (X-Request-Token: the access token)", "verifyPublicRequest", "CodeInput", "RequestView", 200, a.verifyPublic},
		{"GET", "/v1/public/requests/{id}", Public, "A request's status, as its requester sees it (X-Request-Token: the access token)", "publicRequestStatus", "", "RequestView", 200, a.publicStatus},
		{"POST", "/v1/public/requests/{id}/withdraw", Public, "Withdraw a request or a scheduled account cancellation (X-Request-Token: the access token)", "withdrawPublicRequest", "", "RequestView", 200, a.withdrawPublic},
		{"GET", "/v1/public/requests/{id}/bundle", Public, "Download an export bundle (zip) with the link's token", "downloadBundle", "", "", 200, a.downloadBundle},

		{"POST", "/v1/requests", staff, "Take a request on a subject's behalf", "submitRequest", "RequestInput", "RequestView", 201, a.submitOperator},
		{"GET", "/v1/requests", readers, "Requests, soonest due first (state=, due_by=, subject_id=, type=), a page at a time (limit=, cursor= the next_cursor of the page before)", "listRequests", "", "RequestList", 200, a.listRequests},
		{"GET", "/v1/requests/{id}", readers, "A request with its history", "getRequest", "", "RequestView", 200, a.getRequest},
		{"POST", "/v1/requests/{id}/verify", staff, "Record the operator's verification of identity", "verifyRequest", "EvidenceInput", "RequestView", 200, a.verifyOperator},
		{"POST", "/v1/requests/{id}/approve", staff, "Start work on a verified request", "approveRequest", "", "RequestView", 200, a.approveRequest},
		{"POST", "/v1/requests/{id}/await", staff, "Wait on the subject (the clock follows the policy)", "awaitSubject", "ReasonInput", "RequestView", 200, a.awaitRequest},
		{"POST", "/v1/requests/{id}/resume", staff, "Continue after the subject answered", "resumeRequest", "", "RequestView", 200, a.resumeRequest},
		{"POST", "/v1/requests/{id}/extend", staff, "Extend the deadline, with a reason the subject is told", "extendRequest", "ReasonInput", "RequestView", 200, a.extendRequest},
		{"POST", "/v1/requests/{id}/fee", staff, "Ask a fee the policy allows before carrying out the request: it waits in awaiting_fee, the clock follows the policy and the subject is told the amount and why", "askFee", "FeeInput", "RequestView", 200, a.askFee},
		{"POST", "/v1/requests/{id}/fee/paid", staff, "Record that the fee asked was paid, and resume the request", "feePaid", "", "RequestView", 200, a.feePaid},
		{"POST", "/v1/requests/{id}/fee/waive", staff, "Give up the fee asked and resume the request; the subject is told", "waiveFee", "", "RequestView", 200, a.waiveFee},
		{"POST", "/v1/requests/{id}/refuse", staff, "Refuse on a statutory ground, with an explanation", "refuseRequest", "RefuseInput", "RequestView", 200, a.refuseRequest},
		{"POST", "/v1/requests/{id}/withdraw", staff, "Record the subject's withdrawal of a request (or of a scheduled cancellation)", "withdrawRequest", "", "RequestView", 200, a.withdrawOperator},
		{"GET", "/v1/requests/{id}/correction", staff, "What completing a correction request would change in the organisation's databases (values masked)", "previewCorrection", "", "CorrectionPreview", 200, a.previewCorrection},
		{"POST", "/v1/requests/{id}/complete", staff, "Carry out and close a request", "completeRequest", "CompleteInput", "RequestView", 200, a.completeRequest},
		{"POST", "/v1/requests/{id}/transmission/retry", staff, "Send a failed transmission to the third party again: it is due at once, its attempts counted from zero (409 no_failed_transmission when none failed)", "retryTransmission", "", "RequestView", 200, a.retryTransmission},
		{"POST", "/v1/requests/{id}/recipients/{recipient}/ack", staff, "Record that a recipient acknowledged its deletion, correction or restriction notice", "ackRecipient", "", "RequestView", 200, a.ackRecipient},
		{"GET", "/v1/requests/{id}/recipients/{recipient}/ack-link", staff, "The link with which a recipient told by hand acknowledges its notice itself (the token is the credential: its reading is audited)", "recipientAckLink", "", "AckLink", 200, a.recipientAckLink},
		{"GET", "/v1/certificates/{certificate_id}", readers, "A signed erasure certificate: what an erasure changed, by collection, names and counts only (verify it offline with /v1/keys/receipts)", "getCertificate", "", "Certificate", 200, a.getCertificate},
		{"GET", "/v1/assistance", readers, "This organisation's tasks to assist the controllers it processes for with their rights requests, soonest due first (state=open|done)", "listAssistance", "", "AssistanceList", 200, a.listAssistance},
		{"POST", "/v1/assistance/{task_id}/done", staff, "Record this organisation's assistance with a controller's request as given, with what was done", "finishAssistance", "AssistanceInput", "Assistance", 200, a.finishAssistance},
		{"POST", "/v1/calendar", []string{RoleAdmin}, "Load newer PRC holiday data (one holiday-cn year file); provisional due dates are recomputed", "loadCalendar", "CalendarFile", "CalendarLoaded", 200, a.loadCalendar},
	}
}

// PublicRequestInput is a rights request from the public. The fields of an
// operator's request that name the subject or record how they were
// verified (subject_id, verification, evidence, requester_id) are not the
// public's to give: sent here they are unknown fields, refused as in every
// other body, rather than dropped without a word.
type PublicRequestInput struct {
	Type         string                 `json:"type"`
	Jurisdiction string                 `json:"jurisdiction,omitempty"`
	Language     string                 `json:"language"`
	Identity     *consent.IdentityInput `json:"identity,omitempty"`
	Details      json.RawMessage        `json:"details,omitempty"`
	// Via is the channel the person is using, where the policy's terms
	// depend on it (account_cancellation.terms): a contact channel id, or
	// self_service for the product's own account cancellation. Empty: the
	// right's general deadline applies.
	Via string `json:"via,omitempty"`
}

// CodeInput carries a one-time code.
type CodeInput struct {
	Code string `json:"code"`
}

// EvidenceInput records how an operator verified identity.
type EvidenceInput struct {
	Evidence string `json:"evidence"`
}

// ReasonInput carries a reason.
type ReasonInput struct {
	Reason string `json:"reason"`
}

// RefuseInput refuses a request.
type RefuseInput struct {
	Ground      string `json:"ground"`
	Explanation string `json:"explanation"`
}

// RequestList is a page of requests.
type RequestList struct {
	Requests []dsr.View `json:"requests"`
	// NextCursor, sent back as cursor=, lists the next page; absent on the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

// CalendarLoaded reports a calendar load.
type CalendarLoaded struct {
	Version     string `json:"version"`
	Recomputed  int    `json:"recomputed"`
	Provisional string `json:"note"`
}

func (a *API) dsr() (*dsr.Service, error) {
	if a.opt.Requests == nil {
		return nil, errNoRequests
	}
	return a.opt.Requests, nil
}

func (a *API) submitPublic(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	var in PublicRequestInput
	if err := decode(r, &in); err != nil {
		return err
	}
	acc, err := d.SubmitPublic(r.Context(), who, dsr.Input{Type: in.Type, Jurisdiction: in.Jurisdiction, Language: in.Language, Identity: in.Identity, Details: in.Details, Via: in.Via})
	if err != nil {
		return err
	}
	return writeJSON(w, 202, acc)
}

func (a *API) verifyPublic(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	var in CodeInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if _, err := d.Verify(r.Context(), who, r.PathValue("id"), requestToken(r), in.Code); err != nil {
		return err
	}
	v, err := d.Status(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

// requestToken is the requester's access token, from X-Request-Token or ?token=.
func requestToken(r *http.Request) string {
	if t := r.Header.Get("X-Request-Token"); t != "" {
		return t
	}
	return r.URL.Query().Get("token")
}

func (a *API) publicStatus(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	if err := d.Authorize(r.Context(), r.PathValue("id"), requestToken(r)); err != nil {
		return err
	}
	v, err := d.Status(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (a *API) withdrawPublic(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	if err := d.Authorize(r.Context(), r.PathValue("id"), requestToken(r)); err != nil {
		return err
	}
	if _, err := d.Withdraw(r.Context(), who, r.PathValue("id")); err != nil {
		return err
	}
	v, err := d.Status(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (a *API) downloadBundle(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	zip, err := d.Download(r.Context(), who, r.PathValue("id"), r.URL.Query().Get("token"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="personal-information.zip"`)
	_, err = w.Write(zip)
	return err
}

func (a *API) submitOperator(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	var in dsr.Input
	if err := decode(r, &in); err != nil {
		return err
	}
	v, err := d.SubmitOperator(r.Context(), who, in)
	if err != nil {
		return err
	}
	return writeJSON(w, 201, v)
}

func (a *API) listRequests(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := dsr.Filter{SubjectID: q.Get("subject_id"), Kind: q.Get("type"), DueBy: q.Get("due_by")}
	if st := q.Get("state"); st != "" {
		f.States = []string{st}
	}
	if f.DueBy != "" {
		if _, err := time.Parse(time.DateOnly, f.DueBy); err != nil {
			return fault.New(fault.BadRequest, "invalid_due_by", "due_by is a date YYYY-MM-DD").At("due_by")
		}
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			return fault.New(fault.BadRequest, "invalid_limit", "limit is 1 to 1000").At("limit")
		}
		f.Limit = n
	}
	f.After = q.Get("cursor")
	p, err := d.ListPage(r.Context(), f)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, RequestList{Requests: p.Requests, NextCursor: p.Next})
}

// AssistanceList is an organisation's tasks to assist controllers.
type AssistanceList struct {
	Tasks []dsr.Assistance `json:"tasks"`
}

// AssistanceInput says what was done to assist a controller.
type AssistanceInput struct {
	Note string `json:"note"`
}

func (a *API) listAssistance(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	ts, err := d.AssistanceTasks(r.Context(), r.URL.Query().Get("state"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, AssistanceList{Tasks: ts})
}

func (a *API) finishAssistance(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	var in AssistanceInput
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := d.FinishAssistance(r.Context(), who, r.PathValue("task_id"), in.Note)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, t)
}

func (a *API) getRequest(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	v, err := d.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (a *API) previewCorrection(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	p, err := d.PreviewCorrection(r.Context(), who, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, p)
}

func (a *API) getCertificate(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	c, err := d.Certificate(r.Context(), r.PathValue("certificate_id"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, c)
}

func (a *API) verifyOperator(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return actWith(a, w, r, func(d *dsr.Service, in EvidenceInput) (dsr.View, error) {
		return d.OperatorVerify(r.Context(), who, r.PathValue("id"), in.Evidence)
	})
}

// actWith decodes a request body of type T and acts with it.
func actWith[T any](a *API, w http.ResponseWriter, r *http.Request, fn func(*dsr.Service, T) (dsr.View, error)) error {
	var in T
	if err := decode(r, &in); err != nil {
		return err
	}
	return a.act(w, r, func(d *dsr.Service) (dsr.View, error) { return fn(d, in) })
}

func (a *API) act(w http.ResponseWriter, r *http.Request, fn func(*dsr.Service) (dsr.View, error)) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	v, err := fn(d)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, v)
}

func (a *API) approveRequest(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return a.act(w, r, func(d *dsr.Service) (dsr.View, error) { return d.Approve(r.Context(), who, r.PathValue("id")) })
}

func (a *API) resumeRequest(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return a.act(w, r, func(d *dsr.Service) (dsr.View, error) { return d.Resume(r.Context(), who, r.PathValue("id")) })
}

func (a *API) awaitRequest(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return actWith(a, w, r, func(d *dsr.Service, in ReasonInput) (dsr.View, error) {
		return d.AwaitSubject(r.Context(), who, r.PathValue("id"), in.Reason)
	})
}

func (a *API) extendRequest(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return actWith(a, w, r, func(d *dsr.Service, in ReasonInput) (dsr.View, error) {
		return d.Extend(r.Context(), who, r.PathValue("id"), in.Reason)
	})
}

func (a *API) askFee(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return actWith(a, w, r, func(d *dsr.Service, in dsr.FeeInput) (dsr.View, error) {
		return d.AskFee(r.Context(), who, r.PathValue("id"), in)
	})
}

func (a *API) feePaid(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return a.act(w, r, func(d *dsr.Service) (dsr.View, error) { return d.FeePaid(r.Context(), who, r.PathValue("id")) })
}

func (a *API) retryTransmission(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return a.act(w, r, func(d *dsr.Service) (dsr.View, error) {
		return d.RetryTransmission(r.Context(), who, r.PathValue("id"))
	})
}

func (a *API) waiveFee(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return a.act(w, r, func(d *dsr.Service) (dsr.View, error) { return d.WaiveFee(r.Context(), who, r.PathValue("id")) })
}

func (a *API) refuseRequest(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return actWith(a, w, r, func(d *dsr.Service, in RefuseInput) (dsr.View, error) {
		return d.Refuse(r.Context(), who, r.PathValue("id"), in.Ground, in.Explanation)
	})
}

func (a *API) completeRequest(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return actWith(a, w, r, func(d *dsr.Service, in dsr.CompleteInput) (dsr.View, error) {
		return d.Complete(r.Context(), who, r.PathValue("id"), in)
	})
}

func (a *API) loadCalendar(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	n, err := d.LoadCalendar(r.Context(), who, body)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, CalendarLoaded{Version: d.Calendar().Version(), Recomputed: n, Provisional: "provisional due dates of open requests were recomputed"})
}

func (a *API) withdrawOperator(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return a.act(w, r, func(d *dsr.Service) (dsr.View, error) { return d.Withdraw(r.Context(), who, r.PathValue("id")) })
}

func (a *API) recipientAckLink(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	d, err := a.dsr()
	if err != nil {
		return err
	}
	l, err := d.AckLinkFor(r.Context(), who, r.PathValue("id"), r.PathValue("recipient"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, 200, l)
}

func (a *API) ackRecipient(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	return a.act(w, r, func(d *dsr.Service) (dsr.View, error) {
		return d.Acknowledge(r.Context(), who, r.PathValue("id"), r.PathValue("recipient"))
	})
}
