package vault

import (
	"encoding/base32"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/text"
)

// maxValueBytes bounds a value once normalised: the vault keeps contact
// details and identifiers, not documents.
const maxValueBytes = 1024

// kind is what the vault does with the values of one mask kind: puts them
// in their normal form (what is sealed and what the token is taken over,
// so that two spellings of one phone number give one token) and shows
// them masked. One entry per kind of manifest.VaultField.Mask.
type kind struct {
	normalise func(string) (string, error)
	mask      func(string) string
}

var kinds = map[string]kind{
	manifest.MaskPhone:    {identityForm(identity.KindPhone), func(v string) string { return identity.Mask(identity.KindPhone, v) }},
	manifest.MaskEmail:    {identityForm(identity.KindEmail), func(v string) string { return identity.Mask(identity.KindEmail, v) }},
	manifest.MaskIDNumber: {idNumberForm, maskIDNumber},
	manifest.MaskName:     {nameForm, maskName},
	manifest.MaskLast4:    {trimmed, maskLast4},
	manifest.MaskHidden:   {trimmed, func(string) string { return hidden }},
}

// hidden is what a masked read of a hidden value shows: nothing of it,
// not even its length.
const hidden = "***"

// normalise puts value in the normal form of the mask kind. Its errors
// never quote the value.
func normalise(mask, value string) (string, error) {
	k, ok := kinds[mask]
	if !ok {
		return "", errors.New("vault: unknown mask kind " + mask)
	}
	if !text.Valid(value, false) {
		return "", fault.New(fault.Invalid, "invalid_text", "the value holds a control character or invalid UTF-8").At("value")
	}
	v, err := k.normalise(value)
	if err != nil {
		return "", err
	}
	switch {
	case v == "":
		return "", errValueRequired
	case len(v) > maxValueBytes:
		return "", fault.New(fault.Invalid, "invalid_value", "the value is longer than %d bytes", maxValueBytes).At("value")
	}
	return v, nil
}

// Mask shows a normalised value the way mask kind says: enough for its
// owner or an operator to recognise it, not enough to use it.
func Mask(mask, value string) string {
	k, ok := kinds[mask]
	if !ok {
		return hidden
	}
	return k.mask(value)
}

var errValueRequired = fault.New(fault.Invalid, "value_required", "give the value to keep").At("value")

// identityForm normalises like an identity of that kind: a phone number
// in E.164 (+8613800138000), an email address in lower case.
func identityForm(kind string) func(string) (string, error) {
	return func(v string) (string, error) {
		if strings.TrimSpace(v) == "" {
			return "", errValueRequired
		}
		norm, err := identity.Normalize(kind, v)
		if err != nil {
			var ie *identity.Error
			reason := "it cannot be read"
			if errors.As(err, &ie) {
				reason = ie.Reason
			}
			return "", fault.New(fault.Invalid, "invalid_value", "the value is not a valid %s: it %s", kind, reason).At("value")
		}
		return norm, nil
	}
}

// idNumberForm: identity numbers are compared without case, spaces or
// hyphens ("1101 0519 9003 0712 3x" is 11010519900307123X).
func idNumberForm(v string) (string, error) {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(v)), nil
}

// nameForm collapses runs of white space: "Li  Na " is "Li Na".
func nameForm(v string) (string, error) { return strings.Join(strings.Fields(v), " "), nil }

func trimmed(v string) (string, error) { return strings.TrimSpace(v), nil }

// minShown is the shortest value of which a mask shows anything: showing
// two characters of it must still hide most of it.
const minShown = 8

// maskIDNumber keeps the first and last character ("1****************X"),
// as identity documents are printed masked in China.
func maskIDNumber(v string) string {
	r := []rune(v)
	if len(r) < minShown {
		return hidden
	}
	return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
}

// maskName keeps the first character, which for a Chinese name is the
// family name ("张**"); the length is not told.
func maskName(v string) string {
	r, n := utf8.DecodeRuneInString(v)
	if n == 0 || r == utf8.RuneError {
		return hidden
	}
	return string(r) + "**"
}

// maskLast4 keeps the last four characters (a card or account number).
func maskLast4(v string) string {
	r := []rune(v)
	if len(r) < minShown {
		return "****"
	}
	return "****" + string(r[len(r)-4:])
}

// tokenBytes is how much of the HMAC a token keeps: 160 bits, far from
// any collision among the values of one deployment.
const tokenBytes = 20

var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// token stands for a field's normalised value in joins: HMAC-SHA-256,
// under the deployment's token key, of the field, a zero byte and the
// value (the identity hash, with the field for the kind), cut to
// tokenBytes, then moved by Retoken under each key added by rotation. The
// same value of the same field gives the same token within a deployment;
// without the newest key nobody can test a guessed value against it.
func token(h *identity.Hasher, rotated [][]byte, field, normalised string) string {
	t := h.Hash(field, normalised)[:tokenBytes]
	for _, k := range rotated {
		t = identity.Rehash(k, t)[:tokenBytes]
	}
	return "vt_" + tokenEncoding.EncodeToString(t)
}

// Retoken moves a token under a token key added by rotation, as token
// computes it for a value written after: stored tokens follow the
// identity key without their values.
func Retoken(key []byte, tok string) (string, error) {
	raw, err := tokenEncoding.DecodeString(strings.TrimPrefix(tok, "vt_"))
	if err != nil || !strings.HasPrefix(tok, "vt_") || len(raw) != tokenBytes {
		return "", errors.New("vault: not a token")
	}
	return "vt_" + tokenEncoding.EncodeToString(identity.Rehash(key, raw)[:tokenBytes]), nil
}
