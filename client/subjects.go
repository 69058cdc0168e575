package client

import (
	"context"
	"encoding/json"
	"net/url"
	"time"
)

// Identity kinds the server knows; any other lower-case kind
// ([a-z][a-z0-9_]{0,31}) is accepted and normalised like KindUserID.
const (
	// KindEmail is an email address, matched case-insensitively.
	KindEmail = "email"
	// KindPhone is a phone number, normalised to E.164 (+8613800138000).
	KindPhone = "phone"
	// KindDeviceID is a device identifier.
	KindDeviceID = "device_id"
	// KindUserID is another system's user id.
	KindUserID = "user_id"
	// KindUsername is a user name.
	KindUsername = "username"
)

// IdentityInput is an identity of a subject: an email address, phone
// number, device id, user name or a custom kind. The server stores a keyed
// hash of the normalised value, and the value itself (sealed) only with
// Keep.
type IdentityInput struct {
	// Kind is KindEmail, KindPhone, … or a custom kind.
	Kind string `json:"kind"`
	// Value is the identity as the person gave it; the server normalises it.
	Value string `json:"value"`
	// Keep asks the server to keep the value, sealed, so that it can send
	// one-time codes and notices to it later.
	Keep bool `json:"keep,omitempty"`
}

// SubjectInput registers a subject.
type SubjectInput struct {
	// SubjectID is the application's own opaque id for the person
	// ("u-1042"); an email address or phone number is refused
	// (CodeSubjectIDIsPI): register those as Identities.
	SubjectID string `json:"subject_id"`
	// Identities are the person's email addresses, phone numbers, ….
	Identities []IdentityInput `json:"identities,omitempty"`
	// BirthDate (YYYY-MM-DD) tells the subject's age; or AgeBand does.
	BirthDate string `json:"birth_date,omitempty"`
	// AgeBand is under_N, N_M (e.g. 14_17) or adult.
	AgeBand string `json:"age_band,omitempty"`
	// GuardianID is the subject id of a minor's guardian.
	GuardianID string `json:"guardian_id,omitempty"`
	// Jurisdiction is one of the manifest's jurisdictions, whose rules
	// then apply; empty for the general rules.
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Language is the language notices reach the subject in: zh-CN or en.
	Language string `json:"language,omitempty"`
}

// IdentityView is an identity as the server shows it: its kind, and a
// masked value when disclosed to an operator (GetSubject) and kept.
type IdentityView struct {
	// Kind is the identity's kind.
	Kind string `json:"kind"`
	// Masked is the value with most of it hidden (+86138****8000).
	Masked string `json:"masked,omitempty"`
}

// Subject is a registered subject, as an admin or operator key is shown
// it: by GetSubject, SetRestriction and, after a write, SubjectWritten.
type Subject struct {
	// SubjectID is the application's id for the person.
	SubjectID string `json:"subject_id"`
	// BirthDate is YYYY-MM-DD, when known.
	BirthDate string `json:"birth_date,omitempty"`
	// AgeBand is the age band, when known.
	AgeBand string `json:"age_band,omitempty"`
	// GuardianID is a minor's registered guardian.
	GuardianID string `json:"guardian_id,omitempty"`
	// Jurisdiction is the manifest jurisdiction whose rules apply.
	Jurisdiction string `json:"jurisdiction,omitempty"`
	// Language is the language notices reach the subject in.
	Language string `json:"language,omitempty"`
	// Restricted is set while processing is restricted to storage.
	Restricted bool `json:"restricted"`
	// Minor is the policy's answer to "is this a minor?" under the rules
	// of the subject's jurisdiction.
	Minor bool `json:"minor"`
	// AgeStatus is what is known of the age: adult, minor or unknown.
	AgeStatus string `json:"age_status"`
	// Arrangement is "refuse_relatives" when the person barred close
	// relatives' requests after their death.
	Arrangement string `json:"arrangement,omitempty"`
	// Identities are the kinds registered (masked values for an operator).
	Identities []IdentityView `json:"identities"`
	// CreatedAt is when the subject was registered.
	CreatedAt time.Time `json:"created_at"`
	// UpdatedAt is when the subject last changed.
	UpdatedAt time.Time `json:"updated_at"`
}

// SubjectPatch changes a subject; nil fields are left as they are, and a
// pointer to "" clears a field. Ptr makes the pointers.
type SubjectPatch struct {
	// BirthDate is YYYY-MM-DD.
	BirthDate *string `json:"birth_date,omitempty"`
	// AgeBand is under_N, N_M or adult.
	AgeBand *string `json:"age_band,omitempty"`
	// GuardianID is a registered subject, the minor's guardian.
	GuardianID *string `json:"guardian_id,omitempty"`
	// Jurisdiction is one of the manifest's jurisdictions.
	Jurisdiction *string `json:"jurisdiction,omitempty"`
	// Language is zh-CN or en.
	Language *string `json:"language,omitempty"`
	// Arrangement is "" or "refuse_relatives" (PIPL art. 49).
	Arrangement *string `json:"arrangement,omitempty"`
}

// Ptr returns a pointer to v, for the optional fields of SubjectPatch.
func Ptr[T any](v T) *T { return &v }

// SubjectWritten is the server's answer to a call that registers or
// changes a subject. Every key is told the subject's id; only an admin or
// operator key, which may read subjects, is shown the subject itself. A
// service key may register and change subjects but not read them, so the
// answer to its write holds the id alone and Subject is nil.
type SubjectWritten struct {
	// SubjectID is the id of the subject written.
	SubjectID string `json:"subject_id"`
	// Subject is the subject as it now stands, for an admin or operator
	// key; nil for a service key.
	Subject *Subject `json:"-"`
}

// UnmarshalJSON reads either answer: {"subject_id": …} alone, or the
// whole subject.
func (s *SubjectWritten) UnmarshalJSON(b []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	var v Subject
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = SubjectWritten{SubjectID: v.SubjectID}
	if len(fields) > 1 {
		s.Subject = &v
	}
	return nil
}

// CreateSubject registers a subject with its identities. A subject id or
// identity already registered is CodeSubjectConflict (ErrConflict).
func (c *Client) CreateSubject(ctx context.Context, in SubjectInput) (SubjectWritten, error) {
	var out SubjectWritten
	err := c.do(ctx, call{op: "CreateSubject", method: "POST", path: pathOf("subjects"), body: in}, &out)
	return out, err
}

// GetSubject discloses a subject, with its kept identities masked, to an
// operator or admin key. The disclosure is audited with purpose, the
// reason for looking (e.g. "support ticket 4411").
func (c *Client) GetSubject(ctx context.Context, subjectID, purpose string) (Subject, error) {
	if err := need("GetSubject", "subject id", subjectID); err != nil {
		return Subject{}, err
	}
	var q url.Values
	if purpose != "" {
		q = url.Values{"purpose": {purpose}}
	}
	var out Subject
	err := c.do(ctx, call{op: "GetSubject", method: "GET", path: pathOf("subjects", subjectID), query: q}, &out)
	return out, err
}

// UpdateSubject changes a subject's age facts, guardian, jurisdiction,
// language or arrangement.
func (c *Client) UpdateSubject(ctx context.Context, subjectID string, p SubjectPatch) (SubjectWritten, error) {
	if err := need("UpdateSubject", "subject id", subjectID); err != nil {
		return SubjectWritten{}, err
	}
	var out SubjectWritten
	err := c.do(ctx, call{op: "UpdateSubject", method: "PATCH", path: pathOf("subjects", subjectID), body: p}, &out)
	return out, err
}

// AddIdentities registers 1 to 32 more identities for a subject.
func (c *Client) AddIdentities(ctx context.Context, subjectID string, ids ...IdentityInput) (SubjectWritten, error) {
	if err := need("AddIdentities", "subject id", subjectID); err != nil {
		return SubjectWritten{}, err
	}
	var out SubjectWritten
	err := c.do(ctx, call{op: "AddIdentities", method: "POST", path: pathOf("subjects", subjectID, "identities"), body: identitiesInput{ids}}, &out)
	return out, err
}

// SetRestriction restricts processing of a subject's data to storage
// (every check then answers "restricted", but for statutory bases), or
// lifts the restriction. reason (at most 200 bytes) is audited. It needs
// an operator or admin key; being a PUT, it is retried.
func (c *Client) SetRestriction(ctx context.Context, subjectID string, restricted bool, reason string) (Subject, error) {
	if err := need("SetRestriction", "subject id", subjectID); err != nil {
		return Subject{}, err
	}
	var out Subject
	err := c.do(ctx, call{op: "SetRestriction", method: "PUT", path: pathOf("subjects", subjectID, "restriction"), body: restrictionInput{restricted, reason}}, &out)
	return out, err
}

// Bodies of single-purpose calls, named so that tests can hold them
// against the server's OpenAPI document.
type (
	identitiesInput struct {
		Identities []IdentityInput `json:"identities"`
	}
	restrictionInput struct {
		Restricted bool   `json:"restricted"`
		Reason     string `json:"reason"`
	}
	overrideInput struct {
		Grounds string `json:"grounds"`
	}
	codeInput struct {
		Code string `json:"code"`
	}
	evidenceInput struct {
		Evidence string `json:"evidence"`
	}
	reasonInput struct {
		Reason string `json:"reason"`
	}
	refuseInput struct {
		Ground      string `json:"ground"`
		Explanation string `json:"explanation"`
	}
)
