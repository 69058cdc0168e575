package client

import (
	"context"
	"errors"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Rights a request can exercise (RequestInput.Type), as far as the policy
// offers them in the subject's jurisdiction (code right_not_offered).
const (
	RightAccess          = "access"
	RightCopy            = "copy"
	RightPortability     = "portability"
	RightCorrection      = "correction"
	RightDeletion        = "deletion"
	RightRestriction     = "restriction"
	RightWithdrawConsent = "withdraw_consent"
	RightObjection       = "objection"
	RightCancelAccount   = "cancel_account"
	RightComplaint       = "complaint"
	RightDeceased        = "deceased"
	// RightExplainAutomatedDecision and RightExplainRules ask for an
	// explanation, answered in words (CompleteInput.Explanation).
	RightExplainAutomatedDecision = "explain_automated_decision"
	RightExplainRules             = "explain_rules"
)

// States of a request (Request.State).
const (
	StateReceived             = "received"
	StateAwaitingVerification = "awaiting_verification"
	StateVerified             = "verified"
	StateInProgress           = "in_progress"
	StateAwaitingSubject      = "awaiting_subject"
	StateAwaitingFee          = "awaiting_fee"
	StateExtended             = "extended"
	StateCompleted            = "completed"
	StateRefused              = "refused"
	StateCancelled            = "cancelled"
	StateWithdrawn            = "withdrawn"
)

// Verifications of an operator's request (RequestInput.Verification).
const (
	// VerificationOperator: the operator checked the person's identity and
	// records how in Evidence (a reference, not a copy of an ID).
	VerificationOperator = "operator"
	// VerificationOTP: a one-time code goes to the email or phone on file.
	VerificationOTP = "otp"
)

// RequestDetails are a request's particulars. The server keeps them sealed.
type RequestDetails struct {
	// Purposes to withdraw consent from or object to.
	Purposes []string `json:"purposes,omitempty"`
	// TransmitTo is a third party a portability export is to be sent to.
	TransmitTo *ThirdParty `json:"transmit_to,omitempty"`
	// Correction maps fields (birth_date, age_band, …) to corrected values.
	Correction map[string]string `json:"correction,omitempty"`
	// Relation is a relative's relation to a deceased person.
	Relation string `json:"relation,omitempty"`
	// Note is what the person asked, in their words, for the operator.
	Note string `json:"note,omitempty"`
}

// ThirdParty is where a subject asks their data to be transmitted.
type ThirdParty struct {
	// Name is the third party's name.
	Name string `json:"name"`
	// Endpoint is an https URL that accepts the export.
	Endpoint string `json:"endpoint,omitempty"`
}

// RequestInput is a rights request an operator takes on a subject's behalf.
type RequestInput struct {
	// Type is the right exercised (RightAccess, …).
	Type string `json:"type"`
	// Jurisdiction whose deadline applies; empty for the policy's first.
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Language of the messages to the subject: zh-CN or en.
	Language string `json:"language"`
	// SubjectID is the subject the request is about.
	SubjectID string `json:"subject_id"`
	// Verification is VerificationOperator (with Evidence) or VerificationOTP.
	Verification string `json:"verification"`
	// Evidence says how the operator checked who asks (a reference, such
	// as a ticket number, never a copy of an ID document).
	Evidence string `json:"evidence,omitempty"`
	// RequesterID is who asks when it is not the subject: a minor's
	// registered guardian, or a close relative of a deceased person.
	RequesterID string `json:"requester_id,omitempty"`
	// Details are the request's particulars, when it has any.
	Details *RequestDetails `json:"details,omitempty"`
	// Via is the channel the request came through, where the policy's
	// terms depend on it: a contact channel id, or self_service for the
	// product's own account cancellation.
	Via string `json:"via,omitempty"`
}

// PublicRequestInput is a rights request from a member of the public, who
// names an identity they registered (email or phone) to receive a
// one-time code at.
type PublicRequestInput struct {
	// Type is the right exercised (RightAccess, …).
	Type string `json:"type"`
	// Jurisdiction whose deadline applies; empty for the policy's first.
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Language of the messages to the requester: zh-CN or en.
	Language string `json:"language"`
	// Identity is an email address or phone number the person registered.
	Identity IdentityInput `json:"identity"`
	// Details are the request's particulars, when it has any.
	Details *RequestDetails `json:"details,omitempty"`
	// Via is the channel the person is using, where the policy's terms
	// depend on it: a contact channel id, or self_service for the
	// product's own account cancellation.
	Via string `json:"via,omitempty"`
}

// AcceptedRequest answers a public submission, in the same words whether
// or not the identity is on file.
type AcceptedRequest struct {
	// ID names the request.
	ID string `json:"id"`
	// State is StateAwaitingVerification.
	State string `json:"state"`
	// AccessToken lets the requester follow (PublicRequest) or withdraw
	// (WithdrawPublicRequest) the request. It is shown only here: keep it
	// as a secret.
	AccessToken string `json:"access_token"`
	// Message tells the requester what happens next, in their language.
	Message string `json:"message"`
}

// Request is a rights request. On the public routes, SubjectID, the Flags
// other than From, Routes and Fee, and the actors of History are left out.
type Request struct {
	// ID names the request.
	ID string `json:"id"`
	// Type is the right exercised.
	Type string `json:"type"`
	// Jurisdiction is the jurisdiction whose deadline applies.
	Jurisdiction string `json:"jurisdiction"`
	// State is where the request is in its workflow (StateVerified, …).
	State string `json:"state"`
	// SubjectID is the subject the request is about.
	SubjectID string `json:"subject_id,omitempty"`
	// Channel is how the request came: public or operator.
	Channel string `json:"channel"`
	// ReceivedAt is when it was received.
	ReceivedAt time.Time `json:"received_at"`
	// DueDate (YYYY-MM-DD, China time) is the legal deadline.
	DueDate string `json:"due_date"`
	// DueProvisional marks a due date counted on a year without published
	// holiday data; it is recomputed when the data comes.
	DueProvisional bool `json:"due_provisional"`
	// DaysLeft counts the days to DueDate; negative when overdue.
	DaysLeft int `json:"days_left"`
	// Deadline describes the rule, e.g. "15 working_days".
	Deadline string `json:"deadline"`
	// CalendarVersion is the holiday calendar DueDate was computed with.
	CalendarVersion string `json:"calendar_version"`
	// Extended says the deadline was extended.
	Extended bool `json:"extended"`
	// ClockPaused says the deadline's clock waits on the subject.
	ClockPaused bool `json:"clock_paused"`
	// Flags are observations about the request.
	Flags RequestFlags `json:"flags"`
	// DuplicateOf is the open request of the same type this one merged into.
	DuplicateOf string `json:"duplicate_of,omitempty"`
	// RefusalGround is the ground of a refusal.
	RefusalGround string `json:"refusal_ground,omitempty"`
	// Explanation is what the subject was told on refusal or completion.
	Explanation string `json:"explanation,omitempty"`
	// EffectiveAt is when a scheduled account cancellation takes effect.
	EffectiveAt *time.Time `json:"effective_at,omitempty"`
	// History lists the transitions, oldest first.
	History []RequestEvent `json:"history,omitempty"`
	// Download is the path of an export bundle (DownloadBundle), shown
	// once, on completion; it holds the bundle's token.
	Download string `json:"download,omitempty"`
	// Recipients are the recipients told of a deletion, correction or
	// restriction, with the state of each notice.
	Recipients []RecipientNotice `json:"recipients,omitempty"`
	// Transmissions are the portability exports sent to the third party
	// the person named, with the state of each.
	Transmissions []Transmission `json:"transmissions,omitempty"`
	// Propagation counts the notices by progress; nil without any.
	Propagation *Propagation `json:"propagation,omitempty"`
	// Certificates are the ids of the signed erasure certificates of what
	// the request erased in the organisation's databases, oldest first.
	Certificates []string `json:"certificates,omitempty"`
}

// RequestFlags are observations about a request.
type RequestFlags struct {
	// Repeated marks a request beyond the policy's count of free ones.
	Repeated bool `json:"repeated,omitempty"`
	// FeePolicy is the policy's fee rule, for a repeated request.
	FeePolicy string `json:"fee_policy,omitempty"`
	// Fee is the fee asked for the request, if any.
	Fee *Fee `json:"fee,omitempty"`
	// Evidence is the operator's evidence of who asked.
	Evidence string `json:"evidence,omitempty"`
	// Requester is who asked, when not the subject.
	Requester string `json:"requester,omitempty"`
	// Via is the channel the request came through, when it said.
	Via string `json:"via,omitempty"`
	// From is the organisation a request was passed from: the requester
	// applied there, and its code was proved there.
	From *RequestOrigin `json:"from,omitempty"`
	// Routes are the organisations a request made here was passed to,
	// because they control the person's data too (affiliates of a group,
	// or the controllers this organisation processes for).
	Routes []RequestRoute `json:"routes,omitempty"`
}

// RequestOrigin is where a request passed on was received.
type RequestOrigin struct {
	ID      string   `json:"id"` // the organisation
	Name    string   `json:"name"`
	Hosts   []string `json:"hosts,omitempty"` // where its privacy center answers
	Request string   `json:"request"`         // the request's id there
}

// RequestRoute is another organisation's request made from this one.
type RequestRoute struct {
	ID      string   `json:"id"` // the organisation
	Name    string   `json:"name"`
	Hosts   []string `json:"hosts,omitempty"` // where its privacy center answers
	Role    string   `json:"role"`            // affiliate or controller
	Request string   `json:"request"`         // the request's id there, "" if it could not be passed
	DueDate string   `json:"due_date"`
	// Assistance is this organisation's task to assist the controller
	// (not on the public routes).
	Assistance string `json:"assistance,omitempty"`
	// Error is why the request could not be passed (the right is not
	// offered there, say).
	Error string `json:"error,omitempty"`
}

// RequestEvent is one transition of a request.
type RequestEvent struct {
	// At is when the transition happened.
	At time.Time `json:"at"`
	// From is the state left ("" for the first).
	From string `json:"from"`
	// To is the state entered.
	To string `json:"to"`
	// Actor is the key id or operator who acted; empty on public routes.
	Actor string `json:"actor"`
	// Note says why, when there is something to say.
	Note string `json:"note,omitempty"`
}

// Propagation is how far a request's notices to recipients have got.
type Propagation struct {
	Pending      int `json:"pending"`
	Sent         int `json:"sent"`
	Acknowledged int `json:"acknowledged"`
	GivenUp      int `json:"given_up"`
	// Done is true once every notice is acknowledged or given up.
	Done bool `json:"done"`
}

// RecipientNotice is the notice of a request to one recipient.
type RecipientNotice struct {
	// Recipient is the manifest's recipient id ("sdk:<id>" for an SDK's
	// provider).
	Recipient string `json:"recipient"`
	// Name is the recipient's name in the manifest, in the request's
	// language.
	Name string `json:"name"`
	// Action is what the recipient is told of: deletion, correction or
	// restriction.
	Action string `json:"action"`
	// Method is how: webhook, email or manual.
	Method string `json:"method"`
	// Categories are the categories of data concerned.
	Categories []string `json:"categories"`
	// State is the notice's state: pending, sent, dead (given up) or
	// acknowledged.
	State string `json:"state"`
	// Progress is the state as people read it: pending, sent,
	// acknowledged or given_up.
	Progress string `json:"progress"`
	// AcknowledgedAt is when the notice was acknowledged; AcknowledgedBy
	// says by whom: "recipient" (through its notice's link) or "staff".
	AcknowledgedAt *time.Time `json:"acknowledged_at,omitempty"`
	AcknowledgedBy string     `json:"acknowledged_by,omitempty"`
}

// Transmission is a portability export on its way to the third party the
// person named.
type Transmission struct {
	// Recipient is the name the person gave the third party.
	Recipient string `json:"recipient"`
	// Host is the endpoint's host; the rest of the endpoint is not shown.
	Host string `json:"host"`
	// State is pending, delivered or failed.
	State string `json:"state"`
	// Attempts counts the posts made.
	Attempts int `json:"attempts"`
	// Status is the receiver's last HTTP status, 0 when it gave none.
	Status int `json:"status,omitempty"`
	// Reason is why the last attempt failed.
	Reason string `json:"reason,omitempty"`
	// UpdatedAt is when the state last changed.
	UpdatedAt time.Time `json:"updated_at"`
}

// RequestFilter narrows ListRequests; the zero value lists open requests.
type RequestFilter struct {
	// State keeps requests in one state.
	State string
	// SubjectID keeps one subject's requests.
	SubjectID string
	// Type keeps requests of one type.
	Type string
	// DueBy (YYYY-MM-DD) keeps requests due on or before that day.
	DueBy string
	// Limit is how many requests a page holds, 1 to 1000; 0 leaves it to
	// the server (500).
	Limit int
}

// CompleteInput carries out a request.
type CompleteInput struct {
	// Explanation is sent to the subject; required for requests answered
	// in words (explanations, complaint, deceased).
	Explanation string `json:"explanation,omitempty"`
	// LegalHold names a manifest legal hold that prevents deletion: the
	// data is restricted to storage instead, and the subject told why.
	LegalHold string `json:"legal_hold,omitempty"`
}

// SubmitRequest takes a rights request on a subject's behalf (operator or
// admin key).
func (c *Client) SubmitRequest(ctx context.Context, in RequestInput) (Request, error) {
	var out Request
	err := c.do(ctx, call{op: "SubmitRequest", method: "POST", path: pathOf("requests"), body: in}, &out)
	return out, err
}

// GetRequest returns a request with its history.
func (c *Client) GetRequest(ctx context.Context, id string) (Request, error) {
	if err := need("GetRequest", "request id", id); err != nil {
		return Request{}, err
	}
	var out Request
	err := c.do(ctx, call{op: "GetRequest", method: "GET", path: pathOf("requests", id)}, &out)
	return out, err
}

// ListRequests lists requests, soonest due first: the first page of
// ListRequestsPage. AllRequests goes on past it.
func (c *Client) ListRequests(ctx context.Context, f RequestFilter) ([]Request, error) {
	page, err := c.ListRequestsPage(ctx, f, "")
	return page.Requests, err
}

// RequestPage is one page of requests.
type RequestPage struct {
	// Requests are the page's, soonest due first.
	Requests []Request `json:"requests"`
	// Next fetches the next page (ListRequestsPage's after); empty on the
	// last.
	Next string `json:"next_cursor,omitempty"`
}

// ListRequestsPage lists one page of requests, soonest due first, after
// the page whose Next is after ("" for the first).
func (c *Client) ListRequestsPage(ctx context.Context, f RequestFilter, after string) (RequestPage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"state": f.State, "subject_id": f.SubjectID, "type": f.Type, "due_by": f.DueBy, "cursor": after} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.Limit != 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	var out RequestPage
	err := c.do(ctx, call{op: "ListRequests", method: "GET", path: pathOf("requests"), query: q}, &out)
	return out, err
}

// AllRequests iterates over every request f selects, soonest due first,
// fetching pages as it goes. It stops at the first error, which it yields.
func (c *Client) AllRequests(ctx context.Context, f RequestFilter) iter.Seq2[Request, error] {
	return func(yield func(Request, error) bool) {
		after := ""
		for {
			page, err := c.ListRequestsPage(ctx, f, after)
			if err != nil {
				yield(Request{}, err)
				return
			}
			for _, r := range page.Requests {
				if !yield(r, nil) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			after = page.Next
		}
	}
}

// act runs an operator action on a request: POST /v1/requests/{id}/….
func (c *Client) act(ctx context.Context, op, id string, body any, action ...string) (Request, error) {
	if err := need(op, "request id", id); err != nil {
		return Request{}, err
	}
	var out Request
	err := c.do(ctx, call{op: op, method: "POST", path: pathOf(append([]string{"requests", id}, action...)...), body: body}, &out)
	return out, err
}

// VerifyRequest records how an operator verified the requester's identity.
func (c *Client) VerifyRequest(ctx context.Context, id, evidence string) (Request, error) {
	return c.act(ctx, "VerifyRequest", id, evidenceInput{evidence}, "verify")
}

// ApproveRequest starts work on a verified request.
func (c *Client) ApproveRequest(ctx context.Context, id string) (Request, error) {
	return c.act(ctx, "ApproveRequest", id, nil, "approve")
}

// AwaitSubject waits on the subject (the deadline's clock follows the
// policy); reason is sent to them.
func (c *Client) AwaitSubject(ctx context.Context, id, reason string) (Request, error) {
	return c.act(ctx, "AwaitSubject", id, reasonInput{reason}, "await")
}

// ResumeRequest continues after the subject answered.
func (c *Client) ResumeRequest(ctx context.Context, id string) (Request, error) {
	return c.act(ctx, "ResumeRequest", id, nil, "resume")
}

// ExtendRequest extends the deadline once, as far as the policy allows,
// with a reason the subject is told.
func (c *Client) ExtendRequest(ctx context.Context, id, reason string) (Request, error) {
	return c.act(ctx, "ExtendRequest", id, reasonInput{reason}, "extend")
}

// Fee is a fee asked for a request.
type Fee struct {
	// Amount is a decimal with at most two places, in Currency (ISO 4217).
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
	// Reason is why, as the subject is told it.
	Reason string `json:"reason"`
	// Rule is the policy's fee rule that allows it.
	Rule string `json:"rule"`
	// State is asked, paid or waived.
	State string `json:"state"`
}

type feeInput struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
	Reason   string `json:"reason"`
}

// AskFee asks the subject a fee the policy allows before the request is
// carried out: the request waits in StateAwaitingFee and the subject is
// told the amount and reason.
func (c *Client) AskFee(ctx context.Context, id, amount, currency, reason string) (Request, error) {
	return c.act(ctx, "AskFee", id, feeInput{amount, currency, reason}, "fee")
}

// FeePaid records that the fee asked was paid and resumes the request.
func (c *Client) FeePaid(ctx context.Context, id string) (Request, error) {
	return c.act(ctx, "FeePaid", id, nil, "fee", "paid")
}

// RetryTransmission sends the request's failed transmission to the third
// party again: it is due at once, its attempts counted from zero. A
// request with no failed transmission answers no_failed_transmission.
func (c *Client) RetryTransmission(ctx context.Context, id string) (Request, error) {
	return c.act(ctx, "RetryTransmission", id, nil, "transmission", "retry")
}

// WaiveFee gives up the fee asked and resumes the request; the subject is told.
func (c *Client) WaiveFee(ctx context.Context, id string) (Request, error) {
	return c.act(ctx, "WaiveFee", id, nil, "fee", "waive")
}

// RefuseRequest refuses a request on one of the policy's refusal grounds,
// with an explanation the subject receives.
func (c *Client) RefuseRequest(ctx context.Context, id, ground, explanation string) (Request, error) {
	return c.act(ctx, "RefuseRequest", id, refuseInput{ground, explanation}, "refuse")
}

// WithdrawRequest records the subject's withdrawal of a request (or of a
// scheduled account cancellation) made by other means.
func (c *Client) WithdrawRequest(ctx context.Context, id string) (Request, error) {
	return c.act(ctx, "WithdrawRequest", id, nil, "withdraw")
}

// CompleteRequest carries out and closes a request. For access, copy and
// portability, Request.Download is then the bundle's path.
func (c *Client) CompleteRequest(ctx context.Context, id string, in CompleteInput) (Request, error) {
	return c.act(ctx, "CompleteRequest", id, in, "complete")
}

// AcknowledgeRecipient records that recipient acknowledged the request's
// deletion, correction or restriction notice.
func (c *Client) AcknowledgeRecipient(ctx context.Context, id, recipient string) (Request, error) {
	if err := need("AcknowledgeRecipient", "recipient", recipient); err != nil {
		return Request{}, err
	}
	return c.act(ctx, "AcknowledgeRecipient", id, nil, "recipients", recipient, "ack")
}

// AckLink is the link with which a recipient acknowledges its notice
// itself; the token is the credential.
type AckLink struct {
	Recipient string `json:"recipient"`
	Task      string `json:"task"`
	Token     string `json:"ack_token"`
	Path      string `json:"ack_path"`
	// URL is the full link, when the server is configured with its public
	// URL; "" otherwise.
	URL string `json:"ack_url,omitempty"`
}

// RecipientAckLink returns the link to hand a recipient told by hand (an
// SDK provider without an endpoint or a notice email) so that it can
// acknowledge its notice itself. Its reading is audited.
func (c *Client) RecipientAckLink(ctx context.Context, id, recipient string) (AckLink, error) {
	if err := need("RecipientAckLink", "request id", id); err != nil {
		return AckLink{}, err
	}
	if err := need("RecipientAckLink", "recipient", recipient); err != nil {
		return AckLink{}, err
	}
	var out AckLink
	err := c.do(ctx, call{op: "RecipientAckLink", method: "GET", path: pathOf("requests", id, "recipients", recipient, "ack-link")}, &out)
	return out, err
}

// SubmitPublicRequest submits a request as a member of the public; no API
// key is needed. If the identity is on file and kept, a one-time code is
// sent to it, for VerifyPublicRequest.
func (c *Client) SubmitPublicRequest(ctx context.Context, in PublicRequestInput) (AcceptedRequest, error) {
	var out AcceptedRequest
	err := c.do(ctx, call{op: "SubmitPublicRequest", method: "POST", path: pathOf("public", "requests"), body: in}, &out)
	return out, err
}

// VerifyPublicRequest verifies a public request with the one-time code,
// given the access token of the submission (a wrong token answers as an
// unknown request, CodeRequestNotFound, and uses up no attempt). After
// five wrong codes the request is cancelled.
func (c *Client) VerifyPublicRequest(ctx context.Context, id, accessToken, code string) (Request, error) {
	if err := need("VerifyPublicRequest", "request id", id); err != nil {
		return Request{}, err
	}
	var out Request
	err := c.do(ctx, call{op: "VerifyPublicRequest", method: "POST", path: pathOf("public", "requests", id, "verify"), body: codeInput{code},
		header: tokenHeader(accessToken)}, &out)
	return out, err
}

// PublicRequest returns a request's status as its requester sees it,
// given the access token of the submission. A wrong token answers as an
// unknown request (CodeRequestNotFound).
func (c *Client) PublicRequest(ctx context.Context, id, accessToken string) (Request, error) {
	if err := need("PublicRequest", "request id", id); err != nil {
		return Request{}, err
	}
	var out Request
	err := c.do(ctx, call{op: "PublicRequest", method: "GET", path: pathOf("public", "requests", id), header: tokenHeader(accessToken)}, &out)
	return out, err
}

// WithdrawPublicRequest withdraws a request (or a scheduled account
// cancellation) with the access token of the submission.
func (c *Client) WithdrawPublicRequest(ctx context.Context, id, accessToken string) (Request, error) {
	if err := need("WithdrawPublicRequest", "request id", id); err != nil {
		return Request{}, err
	}
	var out Request
	err := c.do(ctx, call{op: "WithdrawPublicRequest", method: "POST", path: pathOf("public", "requests", id, "withdraw"), header: tokenHeader(accessToken)}, &out)
	return out, err
}

func tokenHeader(token string) http.Header {
	return http.Header{"X-Request-Token": {token}}
}

// DownloadBundle fetches the export bundle (a zip) of a completed access,
// copy or portability request. download is Request.Download, the path the
// server returned, with its token; the caller closes the body. Every
// download is audited.
func (c *Client) DownloadBundle(ctx context.Context, download string) (io.ReadCloser, error) {
	u, err := url.Parse(download)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/v1/public/requests/") || !strings.HasSuffix(u.Path, "/bundle") {
		// Not quoted: the link holds the bundle's token.
		return nil, errors.New("custos DownloadBundle: not a bundle path this API returned")
	}
	res, err := c.send(ctx, call{op: "DownloadBundle", method: "GET", path: u.EscapedPath(), query: u.Query(),
		header: http.Header{"Accept": {"application/zip"}}})
	if err != nil {
		return nil, err
	}
	return res.Body, nil
}
