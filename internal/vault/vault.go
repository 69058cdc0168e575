// Package vault keeps the application's sensitive personal information —
// the fields the manifest declares under vault — each value sealed under
// its person's own key, so that erasing the person (which destroys the
// key) leaves nothing readable anywhere, backups included.
//
// A read names its purpose. It is answered only for a purpose the manifest
// collects the field's category for, and only when the decision point
// allows processing the person's data for it now; the value is shown in
// clear to the roles the manifest names for that purpose and masked to
// everyone else. Every write, read and refusal is audited with who, in
// which role, from where, for what purpose and which field; never the
// value.
package vault

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// Store is the persistence the vault needs.
type Store interface {
	PutVault(ctx context.Context, v store.VaultValue, entries ...audit.Entry) error
	VaultValue(ctx context.Context, subjectID, field string) (store.VaultValue, error)
	VaultValues(ctx context.Context, subjectID string) ([]store.VaultValue, error)
	DeleteVault(ctx context.Context, subjectID, field string, entries ...audit.Entry) error
	ExpireVaultKeeping(ctx context.Context, field string, cutoff time.Time, keep []string, entry func(n int) audit.Entry) (int, error)
	LegalHolds(ctx context.Context, f store.HoldFilter) ([]store.LegalHold, error)
	AppendAudit(ctx context.Context, entries ...audit.Entry) error
}

// Decisions is the decision point: the policy in force, and whether a
// subject's data may be processed for a purpose now. *consent.Service is one.
type Decisions interface {
	Policy() (store.PolicyVersion, *manifest.Manifest, *check.Policy, error)
	Check(ctx context.Context, a audit.Actor, in consent.CheckInput) (consent.CheckResult, error)
}

// Keys seal values under their owner's key; *keystore.Store is one.
type Keys interface {
	Seal(ctx context.Context, owner string, plaintext, associatedData []byte) ([]byte, error)
	Open(ctx context.Context, owner string, ciphertext, associatedData []byte) ([]byte, error)
}

// Options configure a Service.
type Options struct {
	// Keys seal each value under its subject's key (keystore.Subject).
	Keys Keys
	// TokenKey keys the tokens that stand for values in joins; at least
	// identity.MinKeySize bytes, derived from the identity key.
	TokenKey []byte
	// RotatedTokenKeys are the token keys of identity keys added by
	// rotation, oldest first: a token is moved under each (Retoken).
	RotatedTokenKeys [][]byte
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Service is the vault.
type Service struct {
	st     Store
	d      Decisions
	keys   Keys
	tokens *identity.Hasher
	later  [][]byte // Options.RotatedTokenKeys
	now    func() time.Time
}

// New builds the vault.
func New(st Store, d Decisions, opt Options) (*Service, error) {
	if opt.Keys == nil {
		return nil, errors.New("vault: a key store is required to seal values")
	}
	h, err := identity.NewHasher(opt.TokenKey)
	if err != nil {
		return nil, fmt.Errorf("vault: token key: %w", err)
	}
	for _, k := range opt.RotatedTokenKeys {
		if len(k) < identity.MinKeySize {
			return nil, errors.New("vault: a rotated token key is too short")
		}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{st: st, d: d, keys: opt.Keys, tokens: h, later: opt.RotatedTokenKeys, now: opt.Now}, nil
}

// Audit actions.
const (
	ActionPut    = "vault.put"
	ActionRead   = "vault.read"
	ActionDelete = "vault.delete"
)

// Value is a vault field as a read shows it: in clear, or masked.
type Value struct {
	SubjectID string `json:"subject_id"`
	Field     string `json:"field"`
	// Value is the value in its normal form, or masked when Masked.
	Value  string `json:"value"`
	Masked bool   `json:"masked"`
	// Token stands for the value in joins: equal values of a field have
	// equal tokens.
	Token     string    `json:"token"`
	Purpose   string    `json:"purpose"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Written is the answer to a write: the value's token, never the value.
type Written struct {
	SubjectID string    `json:"subject_id"`
	Field     string    `json:"field"`
	Token     string    `json:"token"`
	UpdatedAt time.Time `json:"updated_at"`
}

var (
	errSubjectNotFound = fault.New(fault.NotFound, "subject_not_found", "no such subject")
	errErased          = fault.New(fault.Gone, "subject_erased", "the subject's information was erased: nothing is kept for them, and nothing new is")
	errNoValue         = fault.New(fault.NotFound, "vault_value_not_found", "the subject has no value for this field")
)

// sealAD binds a sealed value to its subject and field, so that a
// ciphertext copied to another row does not open.
func sealAD(subjectID, field string) []byte {
	return []byte("vault\x00" + subjectID + "\x00" + field)
}

// field returns the declaration of a field in the policy in force.
func (s *Service) field(name string) (*manifest.Manifest, manifest.VaultField, error) {
	_, m, _, err := s.d.Policy()
	if err != nil {
		return nil, manifest.VaultField{}, err
	}
	f, ok := m.VaultField(name)
	if !ok {
		e := fault.New(fault.NotFound, "unknown_vault_field", "the policy in force keeps no vault field of that name").At("field")
		if manifest.ValidVaultField(name) {
			e = fault.New(fault.NotFound, "unknown_vault_field", "the policy in force keeps no vault field %q", name).At("field")
		}
		return nil, f, e.Allowing(m.VaultFields())
	}
	return m, f, nil
}

// storeErr turns the store's kinds into the caller's.
func storeErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNoSubject):
		return errSubjectNotFound
	case errors.Is(err, store.ErrErased), errors.Is(err, keystore.ErrDestroyed):
		return errErased
	case errors.Is(err, store.ErrNotFound):
		return errNoValue
	}
	return err
}

func (s *Service) entry(a audit.Actor, action, subjectID, purpose, outcome string, detail any) audit.Entry {
	return audit.NewEntry(s.now(), a, action, "subject:"+subjectID, purpose, outcome, detail)
}

// Put keeps value as the subject's field, in its normal form, sealed
// under the subject's key, replacing what was there. An erased subject's
// key is destroyed, so nothing can be sealed for them: 410 subject_erased.
func (s *Service) Put(ctx context.Context, a audit.Actor, subjectID, field, value string) (Written, error) {
	if err := consent.ValidateSubjectID(subjectID); err != nil {
		return Written{}, err
	}
	_, f, err := s.field(field)
	if err != nil {
		return Written{}, err
	}
	norm, err := normalise(f.Mask, value)
	if err != nil {
		return Written{}, err
	}
	sealed, err := s.keys.Seal(ctx, keystore.Subject(subjectID), []byte(norm), sealAD(subjectID, field))
	if err != nil {
		return Written{}, storeErr(err)
	}
	v := store.VaultValue{SubjectID: subjectID, Field: field, Sealed: sealed, Token: token(s.tokens, s.later, field, norm), UpdatedAt: s.now()}
	err = s.st.PutVault(ctx, v, s.entry(a, ActionPut, subjectID, "", audit.OutcomeOK, map[string]string{"field": field}))
	if err != nil {
		return Written{}, storeErr(err)
	}
	return Written{SubjectID: subjectID, Field: field, Token: v.Token, UpdatedAt: v.UpdatedAt.UTC()}, nil
}

// Get reads the subject's field for purpose. The purpose must be one the
// manifest collects the field's category for (else 422
// purpose_not_allowed, listing those that are) and one the decision point
// allows for the subject now (else 403 not_allowed with the decision's
// reason). The value is in clear when the manifest lets the caller's role
// read it so for the purpose, masked otherwise. The read is in the audit
// trail before the value is returned; so is a refusal.
func (s *Service) Get(ctx context.Context, a audit.Actor, subjectID, field, purpose string) (Value, error) {
	if err := consent.ValidateSubjectID(subjectID); err != nil {
		return Value{}, err
	}
	m, f, err := s.field(field)
	if err != nil {
		return Value{}, err
	}
	allowed := m.CollectedFor(f.Category)
	refuse := func(reason string, e error) (Value, error) {
		if err := s.st.AppendAudit(ctx, s.entry(a, ActionRead, subjectID, purpose, audit.OutcomeDenied, map[string]string{"field": field, "reason": reason})); err != nil {
			return Value{}, err
		}
		return Value{}, e
	}
	switch {
	case purpose == "":
		return Value{}, fault.New(fault.Invalid, "purpose_required", "say what the value is read for: ?purpose= one of the purposes its category is collected for").At("purpose").Allowing(allowed)
	case !slices.Contains(allowed, purpose):
		return refuse("purpose_not_allowed", fault.New(fault.Invalid, "purpose_not_allowed",
			"the policy does not collect %s for the purpose given", f.Category).At("purpose").Allowing(allowed))
	}
	row, err := s.st.VaultValue(ctx, subjectID, field)
	if err != nil {
		return Value{}, storeErr(err)
	}
	res, err := s.d.Check(ctx, a, consent.CheckInput{SubjectID: subjectID, Purposes: []string{purpose}})
	if err != nil {
		return Value{}, err
	}
	if d := res.Decisions[0]; !d.Allowed {
		return refuse(d.Reason, fault.New(fault.Forbidden, "not_allowed",
			"the subject's data may not be processed for %s now: %s", purpose, d.Reason).At("purpose"))
	}
	plain, err := s.keys.Open(ctx, keystore.Subject(subjectID), row.Sealed, sealAD(subjectID, field))
	if err != nil {
		return Value{}, storeErr(err)
	}
	defer clear(plain)
	v := Value{SubjectID: subjectID, Field: field, Token: row.Token, Purpose: purpose, UpdatedAt: row.UpdatedAt}
	shown := "masked"
	if f.ClearFor(purpose, a.Role) {
		v.Value, shown = string(plain), "clear"
	} else {
		v.Value, v.Masked = Mask(f.Mask, string(plain)), true
	}
	if err := s.st.AppendAudit(ctx, s.entry(a, ActionRead, subjectID, purpose, audit.OutcomeOK, map[string]string{"field": field, "shown": shown})); err != nil {
		return Value{}, err
	}
	return v, nil
}

// Delete removes the subject's value of field, if any; deleting what is
// not there succeeds, so a retried delete does too. Any well-formed field
// may be deleted, also one a later policy no longer declares.
func (s *Service) Delete(ctx context.Context, a audit.Actor, subjectID, field string) error {
	if err := consent.ValidateSubjectID(subjectID); err != nil {
		return err
	}
	if !manifest.ValidVaultField(field) {
		return fault.New(fault.Invalid, "invalid_vault_field", "a vault field is 1 to 64 lower-case letters, digits and _").At("field")
	}
	return storeErr(s.st.DeleteVault(ctx, subjectID, field, s.entry(a, ActionDelete, subjectID, "", audit.OutcomeOK, map[string]string{"field": field})))
}
