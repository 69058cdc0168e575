package client

import (
	"context"
	"net/url"
	"time"
)

// The vault keeps the fields of personal information the manifest
// declares under vault (a mobile number, an email address, an identity
// number), each value sealed under its person's own key: erasing the
// person makes it unreadable everywhere, backups included. A read names
// its purpose and is answered in clear only to the roles the manifest
// names for that purpose, masked to everyone else. Every write and read is
// in the audit trail; the value never is.

// VaultWritten is the answer to PutVault: the value's token, never the
// value.
type VaultWritten struct {
	// SubjectID is the subject the value is kept for.
	SubjectID string `json:"subject_id"`
	// Field is the vault field.
	Field string `json:"field"`
	// Token stands for the value in joins: the same value of the same
	// field has the same token, so two records can be matched without
	// either holding the value.
	Token string `json:"token"`
	// UpdatedAt is when the value was kept.
	UpdatedAt time.Time `json:"updated_at"`
}

// VaultValue is a vault field as GetVault reads it.
type VaultValue struct {
	// SubjectID is the subject the value is kept for.
	SubjectID string `json:"subject_id"`
	// Field is the vault field.
	Field string `json:"field"`
	// Value is the value in its normal form (a phone number in E.164, an
	// email address in lower case), or masked ("+86138****8000") when
	// Masked.
	Value string `json:"value"`
	// Masked is true when the key's role may not read the value in clear
	// for the purpose given.
	Masked bool `json:"masked"`
	// Token stands for the value in joins (see VaultWritten.Token).
	Token string `json:"token"`
	// Purpose is the purpose the value was read for.
	Purpose string `json:"purpose"`
	// UpdatedAt is when the value was kept.
	UpdatedAt time.Time `json:"updated_at"`
}

// vaultInput is the body of PutVault.
type vaultInput struct {
	Value string `json:"value"`
}

// PutVault keeps value as the subject's field (one the manifest declares
// under vault), replacing what was there, and returns its token. The
// server normalises the value and refuses one that is not of the field's
// kind (CodeInvalidValue). For an erased subject it answers ErrGone
// (CodeSubjectErased): nothing new is kept for them.
func (c *Client) PutVault(ctx context.Context, subjectID, field, value string) (VaultWritten, error) {
	if err := need("PutVault", "subject id", subjectID); err != nil {
		return VaultWritten{}, err
	}
	if err := need("PutVault", "field", field); err != nil {
		return VaultWritten{}, err
	}
	var out VaultWritten
	err := c.do(ctx, call{op: "PutVault", method: "PUT", path: pathOf("subjects", subjectID, "vault", field), body: vaultInput{Value: value}}, &out)
	return out, err
}

// GetVault reads the subject's field for purpose, which must be one the
// manifest collects the field's category for (else ErrInvalid with
// CodePurposeNotAllowed, Error.Allowed listing those that are) and one
// the decision point allows for the subject now (else ErrForbidden with
// CodeNotAllowed and the decision's reason in the message). The value is
// masked unless the manifest lets the key's role read it in clear for the
// purpose. An erased subject is ErrGone (CodeSubjectErased).
func (c *Client) GetVault(ctx context.Context, subjectID, field, purpose string) (VaultValue, error) {
	if err := need("GetVault", "subject id", subjectID); err != nil {
		return VaultValue{}, err
	}
	if err := need("GetVault", "field", field); err != nil {
		return VaultValue{}, err
	}
	var out VaultValue
	err := c.do(ctx, call{op: "GetVault", method: "GET", path: pathOf("subjects", subjectID, "vault", field), query: url.Values{"purpose": {purpose}}}, &out)
	return out, err
}

// DeleteVault deletes the subject's value of field. Deleting a value that
// is not there succeeds, so a retried delete does too.
func (c *Client) DeleteVault(ctx context.Context, subjectID, field string) error {
	if err := need("DeleteVault", "subject id", subjectID); err != nil {
		return err
	}
	if err := need("DeleteVault", "field", field); err != nil {
		return err
	}
	return c.do(ctx, call{op: "DeleteVault", method: "DELETE", path: pathOf("subjects", subjectID, "vault", field)}, nil)
}
