package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Methods of collecting a choice, for ConsentInput.Method and the like.
const (
	// MethodBanner: a consent banner on a web page.
	MethodBanner = "banner"
	// MethodAppDialog: a dialog in an application.
	MethodAppDialog = "app_dialog"
	// MethodAPI: another system, on the person's instruction.
	MethodAPI = "api"
	// MethodPaper: a signed form.
	MethodPaper = "paper"
	// MethodPrivacyCenter: the person chose in Custos's privacy center.
	MethodPrivacyCenter = "privacy_center"
	// MethodGuardian: a guardian decides for a minor (GuardianID).
	MethodGuardian = "guardian"
)

// NoticeHash returns the lowercase hex SHA-256 of the exact notice text
// shown to the person, for ConsentInput.NoticeHash and
// AcceptanceInput.NoticeHash.
func NoticeHash(notice string) string {
	sum := sha256.Sum256([]byte(notice))
	return hex.EncodeToString(sum[:])
}

// ConsentInput records a person's choices. Grant and Withdraw name
// purposes, or an act that asks for a separate consent of its own:
// "recipient:<id>", "transfer:<id>" or "disclosure".
type ConsentInput struct {
	// Grant lists what the person agreed to.
	Grant []string `json:"grant,omitempty"`
	// Withdraw lists what the person withdrew their consent from.
	Withdraw []string `json:"withdraw,omitempty"`
	// Method is how the choice was collected (MethodBanner, …).
	Method string `json:"method"`
	// Language is the language of the notice shown: zh-CN or en.
	Language string `json:"language"`
	// NoticeHash is NoticeHash(the notice text shown); a grant needs it.
	NoticeHash string `json:"notice_hash"`
	// Separate says the grant was asked on its own, as the policy requires
	// for sensitive data and for acts; it then names one purpose or act.
	Separate bool `json:"separate,omitempty"`
	// GuardianID is the guardian deciding for a minor (MethodGuardian).
	GuardianID string `json:"guardian_id,omitempty"`
	// Evidence references stored evidence, e.g. {"form":"f-2024-11"}: a
	// small JSON object that must not carry personal data.
	Evidence json.RawMessage `json:"evidence,omitempty"`
	// GPC relays the browser's Global Privacy Control signal (Sec-GPC: 1)
	// seen on the person's request: the server then refuses the purposes
	// the manifest ties to it. It is sent as the header, not in the body.
	GPC bool `json:"-"`
	// DNT relays the browser's Do Not Track signal (DNT: 1), likewise.
	DNT bool `json:"-"`
}

// Actions of ledger events (ConsentEvent.Action).
const (
	// ActionGrant: consent given.
	ActionGrant = "grant"
	// ActionWithdraw: consent withdrawn (by the person, a signal or a request).
	ActionWithdraw = "withdraw"
	// ActionObject: an objection to a purpose.
	ActionObject = "object"
	// ActionLift: an objection lifted.
	ActionLift = "lift"
	// ActionOverride: compelling grounds recorded against an objection.
	ActionOverride = "override"
	// ActionAccept: a policy version accepted.
	ActionAccept = "accept"
)

// ConsentEvent is one event of a subject's ledger: a grant, withdrawal,
// objection, lifted objection, override or acceptance. Purpose is set for
// consents and objections; Recipient, Transfer or Disclosure for the
// separate consent to an act.
type ConsentEvent struct {
	// ID names the event, e.g. for ConsentReceipt.
	ID string `json:"id"`
	// Seq orders the ledger.
	Seq int64 `json:"seq"`
	// Purpose is the purpose consented to or objected to.
	Purpose string `json:"purpose,omitempty"`
	// Recipient is the recipient of a separate consent to provision.
	Recipient string `json:"recipient,omitempty"`
	// Transfer is the cross-border transfer of a separate consent.
	Transfer string `json:"transfer,omitempty"`
	// Disclosure marks a separate consent to public disclosure.
	Disclosure bool `json:"disclosure,omitempty"`
	// Action is ActionGrant, ActionWithdraw, ActionObject, ActionLift,
	// ActionOverride or ActionAccept.
	Action string `json:"action"`
	// PolicyVersion is the version in force when it was recorded (for an
	// acceptance, the version accepted).
	PolicyVersion string `json:"policy_version"`
	// Method is how the choice was collected.
	Method string `json:"method"`
	// Language is the language of the notice shown.
	Language string `json:"language"`
	// NoticeHash is the hash of the notice shown.
	NoticeHash string `json:"notice_hash"`
	// Separate says the consent was asked on its own.
	Separate bool `json:"separate"`
	// GuardianID is the guardian who decided for a minor.
	GuardianID string `json:"guardian_id,omitempty"`
	// Signal is "gpc" or "dnt" when a browser signal made the event.
	Signal string `json:"signal,omitempty"`
	// Evidence is the reference recorded with the choice.
	Evidence json.RawMessage `json:"evidence,omitempty"`
	// At is when the event was recorded.
	At time.Time `json:"at"`
}

// RecordConsent appends a subject's grants and withdrawals to the ledger,
// as the policy in force allows (CodeUnknownPurpose,
// CodeConsentNotApplicable, CodeSeparateConsentRequired, … otherwise), and
// returns the events recorded.
func (c *Client) RecordConsent(ctx context.Context, subjectID string, in ConsentInput) ([]ConsentEvent, error) {
	if err := need("RecordConsent", "subject id", subjectID); err != nil {
		return nil, err
	}
	h := http.Header{}
	if in.GPC {
		h.Set("Sec-GPC", "1")
	}
	if in.DNT {
		h.Set("DNT", "1")
	}
	return c.events(ctx, call{op: "RecordConsent", method: "POST", path: pathOf("subjects", subjectID, "consents"), header: h, body: in})
}

// ObjectionInput records objections to purposes resting on legitimate
// interests or a public task, or lifts them.
type ObjectionInput struct {
	// Object lists the purposes objected to.
	Object []string `json:"object,omitempty"`
	// Lift lists the purposes whose objection the person lifts.
	Lift []string `json:"lift,omitempty"`
	// Method is how the objection was collected.
	Method string `json:"method"`
	// Language is the language of the notice shown: zh-CN or en.
	Language string `json:"language"`
	// GuardianID is the guardian objecting for a minor.
	GuardianID string `json:"guardian_id,omitempty"`
	// Evidence references stored evidence; no personal data.
	Evidence json.RawMessage `json:"evidence,omitempty"`
}

// RecordObjection records objections (or lifts them). A purpose resting on
// consent is withdrawn instead (code objection_not_applicable).
func (c *Client) RecordObjection(ctx context.Context, subjectID string, in ObjectionInput) ([]ConsentEvent, error) {
	if err := need("RecordObjection", "subject id", subjectID); err != nil {
		return nil, err
	}
	return c.events(ctx, call{op: "RecordObjection", method: "POST", path: pathOf("subjects", subjectID, "objections"), body: in})
}

// OverrideObjection records an operator's compelling legitimate grounds
// that override a subject's objection to purpose. Never for direct
// marketing (code override_not_allowed); code no_objection when none is in
// force. It needs an operator or admin key.
func (c *Client) OverrideObjection(ctx context.Context, subjectID, purpose, grounds string) ([]ConsentEvent, error) {
	if err := need("OverrideObjection", "subject id", subjectID); err != nil {
		return nil, err
	}
	if err := need("OverrideObjection", "purpose", purpose); err != nil {
		return nil, err
	}
	return c.events(ctx, call{op: "OverrideObjection", method: "POST", path: pathOf("subjects", subjectID, "objections", purpose, "override"), body: overrideInput{grounds}})
}

// AcceptanceInput records that a subject (or a minor's guardian) accepted
// a published policy version.
type AcceptanceInput struct {
	// Version is the label of the version accepted: the one in force or
	// one announced.
	Version string `json:"version"`
	// Method is how the acceptance was collected.
	Method string `json:"method"`
	// Language is the language of the policy text shown: zh-CN or en.
	Language string `json:"language"`
	// NoticeHash is NoticeHash(the policy text shown).
	NoticeHash string `json:"notice_hash"`
	// GuardianID is the guardian accepting for a minor (MethodGuardian).
	GuardianID string `json:"guardian_id,omitempty"`
	// Evidence references stored evidence; no personal data.
	Evidence json.RawMessage `json:"evidence,omitempty"`
}

// RecordAcceptance records the acceptance of a policy version.
func (c *Client) RecordAcceptance(ctx context.Context, subjectID string, in AcceptanceInput) ([]ConsentEvent, error) {
	if err := need("RecordAcceptance", "subject id", subjectID); err != nil {
		return nil, err
	}
	return c.events(ctx, call{op: "RecordAcceptance", method: "POST", path: pathOf("subjects", subjectID, "acceptances"), body: in})
}

func (c *Client) events(ctx context.Context, cl call) ([]ConsentEvent, error) {
	var out struct {
		Events []ConsentEvent `json:"events"`
	}
	err := c.do(ctx, cl, &out)
	return out.Events, err
}

// ListOptions pages through a list.
type ListOptions struct {
	// Cursor is the NextCursor of the page before; empty for the first.
	Cursor string
	// Limit is the page size, 1 to 1000; 0 means the server's 100.
	Limit int
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	if o.Limit != 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	return q
}

// ConsentPage is one page of a subject's ledger.
type ConsentPage struct {
	// Items are the events of the page, oldest first.
	Items []ConsentEvent `json:"items"`
	// NextCursor fetches the next page; empty on the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

// ListConsents returns one page of a subject's ledger, oldest first.
func (c *Client) ListConsents(ctx context.Context, subjectID string, opt ListOptions) (ConsentPage, error) {
	if err := need("ListConsents", "subject id", subjectID); err != nil {
		return ConsentPage{}, err
	}
	var out ConsentPage
	err := c.do(ctx, call{op: "ListConsents", method: "GET", path: pathOf("subjects", subjectID, "consents"), query: opt.query()}, &out)
	return out, err
}

// ConsentHistory iterates over a subject's whole ledger, oldest first,
// fetching pages as it goes. It stops at the first error, which it yields.
func (c *Client) ConsentHistory(ctx context.Context, subjectID string) iter.Seq2[ConsentEvent, error] {
	return func(yield func(ConsentEvent, error) bool) {
		opt := ListOptions{Limit: 1000}
		for {
			page, err := c.ListConsents(ctx, subjectID, opt)
			if err != nil {
				yield(ConsentEvent{}, err)
				return
			}
			for _, e := range page.Items {
				if !yield(e, nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			opt.Cursor = page.NextCursor
		}
	}
}
