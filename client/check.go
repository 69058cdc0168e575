package client

import (
	"context"
	"time"
)

// CheckInput asks whether a subject's data may be processed for purposes
// and, optionally, for one act: provision to a recipient, a cross-border
// transfer or public disclosure. Name the subject by SubjectID or by one
// of their Identity values.
type CheckInput struct {
	// SubjectID names the subject.
	SubjectID string `json:"subject_id,omitempty"`
	// Identity names the subject by an identity instead (Keep is ignored).
	Identity *IdentityInput `json:"identity,omitempty"`
	// Purposes are 1 to 64 purpose ids of the policy in force.
	Purposes []string `json:"purposes"`
	// Recipient is a recipient id: may the data be provided to it?
	Recipient string `json:"recipient,omitempty"`
	// Transfer is a cross-border transfer id: may the data go abroad?
	Transfer string `json:"transfer,omitempty"`
	// Disclosure asks whether the data may be publicly disclosed.
	Disclosure bool `json:"disclosure,omitempty"`
}

// Decision is the answer for one purpose. Reason says why: "consent",
// "legal_basis:contract", "separate_consent" or "objection_overridden"
// when allowed; "no_consent", "withdrawn", "reconsent_required",
// "restricted", "objected", "unknown_purpose", … when not (the server's
// documentation lists every reason with its rule).
type Decision struct {
	// Purpose is the purpose asked about.
	Purpose string `json:"purpose"`
	// Allowed says whether the data may be processed for it.
	Allowed bool `json:"allowed"`
	// Reason is the rule that decided.
	Reason string `json:"reason"`
}

// CheckResult is the decision for each purpose asked, in order.
type CheckResult struct {
	// SubjectID is the subject decided for (found by identity, if so
	// asked); empty for an identity no one registered.
	SubjectID string `json:"subject_id,omitempty"`
	// KnownSubject is false when no subject has the id or identity; every
	// purpose then answers as for a person of whom nothing is recorded.
	KnownSubject bool `json:"known_subject"`
	// PolicyVersion is the version in force that decided.
	PolicyVersion string `json:"policy_version"`
	// Decisions answer the purposes asked, in order.
	Decisions []Decision `json:"decisions"`
}

// Allowed reports whether the result allows purpose; a purpose not asked
// about is not allowed.
func (r CheckResult) Allowed(purpose string) bool {
	d, ok := r.Decision(purpose)
	return ok && d.Allowed
}

// Decision returns the decision for purpose, if it was asked about.
func (r CheckResult) Decision(purpose string) (Decision, bool) {
	for _, d := range r.Decisions {
		if d.Purpose == purpose {
			return d, true
		}
	}
	return Decision{}, false
}

// Check asks the decision point whether the subject's data may be processed
// for each purpose. Ask before processing, every time: the answer follows
// withdrawals, restrictions and policy changes at once. A check is a POST
// and, like every POST, is not retried.
func (c *Client) Check(ctx context.Context, in CheckInput) (CheckResult, error) {
	var out CheckResult
	err := c.do(ctx, call{op: "Check", method: "POST", path: pathOf("check"), body: in}, &out)
	return out, err
}

// PolicyVersion describes a published version of the policy.
type PolicyVersion struct {
	// Version is the manifest's version label, e.g. "3.1".
	Version string `json:"version"`
	// Seq orders the versions as published.
	Seq int64 `json:"seq"`
	// SHA256 is the hex SHA-256 of the manifest published.
	SHA256 string `json:"sha256"`
	// PublishedAt is when it was published.
	PublishedAt time.Time `json:"published_at"`
	// EffectiveAt is when it takes (or took) effect.
	EffectiveAt time.Time `json:"effective_at"`
	// Material says the version changed the policy materially.
	Material bool `json:"material"`
	// Reconsent lists the purposes and acts whose consents it made stale.
	Reconsent []string `json:"reconsent"`
	// Accept lists the purposes that wait for an express acceptance.
	Accept []string `json:"accept"`
	// State is in_force, upcoming (announced) or superseded.
	State string `json:"state"`
	// InForce says State is in_force.
	InForce bool `json:"in_force"`
}

// CurrentPolicy returns the policy version in force.
func (c *Client) CurrentPolicy(ctx context.Context) (PolicyVersion, error) {
	var out PolicyVersion
	err := c.do(ctx, call{op: "CurrentPolicy", method: "GET", path: pathOf("policy")}, &out)
	return out, err
}

// PolicyVersions returns every published version, announced ones included.
func (c *Client) PolicyVersions(ctx context.Context) ([]PolicyVersion, error) {
	var out struct {
		Versions []PolicyVersion `json:"versions"`
	}
	err := c.do(ctx, call{op: "PolicyVersions", method: "GET", path: pathOf("policy", "versions")}, &out)
	return out.Versions, err
}
