// Package identity turns the identifiers people are known by (email
// addresses, phone numbers, device and account ids) into canonical forms and
// keyed hashes, so that the database can find a person without holding those
// identifiers in clear.
package identity

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Built-in identity kinds with their own normalisation rules. Any other kind
// that ValidKind accepts is normalised like KindUserID.
const (
	KindEmail    = "email"
	KindPhone    = "phone"
	KindDeviceID = "device_id"
	KindUserID   = "user_id"
	KindUsername = "username"
)

// Stable codes carried by *Error, for API responses.
const (
	CodeInvalidIdentity = "invalid_identity"
	CodeInvalidKind     = "invalid_identity_kind"
)

// Limits on normalised values.
const (
	maxEmailBytes = 254 // RFC 5321 path limit minus the angle brackets
	maxIDLen      = 128
	maxKindLen    = 32
)

// Why a value was rejected. The reasons are fixed texts so that an error can
// never carry the value it rejects: identities are personal data.
const (
	reasonEmpty        = "is empty"
	reasonTooLong      = "is too long"
	reasonEncoding     = "is not valid UTF-8"
	reasonControl      = "contains a control character"
	reasonSpace        = "contains a space"
	reasonAt           = "must contain exactly one @"
	reasonLocal        = "has an empty local part"
	reasonDomain       = "needs a domain with a dot"
	reasonPhoneChars   = "may contain only digits, a leading + and separators"
	reasonPhonePrefix  = "needs a country code (+ or 00) unless it is a mainland China mobile number"
	reasonPhoneDigits  = "must have 8 to 15 digits"
	reasonCountryCode  = "has a country code starting with 0"
	reasonDeviceIDChar = "may contain only 0-9, a-z, -, _, : and ."
)

// reasons lists every reason, so that tests can check that an error's text is
// one of a closed set.
var reasons = []string{
	reasonEmpty, reasonTooLong, reasonEncoding, reasonControl, reasonSpace,
	reasonAt, reasonLocal, reasonDomain, reasonPhoneChars, reasonPhonePrefix,
	reasonPhoneDigits, reasonCountryCode, reasonDeviceIDChar,
}

// Error reports an identity that cannot be normalised. Its text names the
// kind and the rule that failed, never the value.
type Error struct {
	// Code is CodeInvalidIdentity or CodeInvalidKind.
	Code string
	// Kind is the identity kind, or "" when the kind itself is malformed.
	Kind string
	// Reason is a fixed description of the rule that failed.
	Reason string
}

func (e *Error) Error() string {
	if e.Code == CodeInvalidKind {
		return "identity: malformed kind"
	}
	return "identity: invalid " + e.Kind + ": " + e.Reason
}

func invalid(kind, reason string) error {
	return &Error{Code: CodeInvalidIdentity, Kind: kind, Reason: reason}
}

// ValidKind reports whether kind is a well-formed identity kind: a lower-case
// letter followed by up to 31 lower-case letters, digits or underscores.
func ValidKind(kind string) bool {
	if kind == "" || len(kind) > maxKindLen || kind[0] < 'a' || kind[0] > 'z' {
		return false
	}
	for i := 1; i < len(kind); i++ {
		c := kind[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Normalize returns the canonical form of an identity value of the given
// kind, the form that is hashed and stored. Normalising a normalised value
// returns it unchanged. Errors are *Error and never contain the value.
func Normalize(kind, value string) (string, error) {
	if !ValidKind(kind) {
		return "", &Error{Code: CodeInvalidKind}
	}
	if !utf8.ValidString(value) {
		return "", invalid(kind, reasonEncoding)
	}
	switch kind {
	case KindEmail:
		return normalizeEmail(value)
	case KindPhone:
		return normalizePhone(value)
	case KindDeviceID:
		return normalizeDeviceID(value)
	default:
		return normalizeUserID(kind, value)
	}
}

func normalizeEmail(value string) (string, error) {
	// Mailbox local parts are case-sensitive in theory, but no provider a
	// person would give us treats them so, and a lookup that misses because
	// of case is a missed access or erasure request.
	v := strings.ToLower(strings.TrimSpace(value))
	if v == "" {
		return "", invalid(KindEmail, reasonEmpty)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return "", invalid(KindEmail, reasonControl)
		}
		if unicode.IsSpace(r) {
			return "", invalid(KindEmail, reasonSpace)
		}
	}
	// Checked after lower-casing, which can change the length in bytes.
	if len(v) > maxEmailBytes {
		return "", invalid(KindEmail, reasonTooLong)
	}
	local, domain, ok := strings.Cut(v, "@")
	if !ok || strings.Contains(domain, "@") {
		return "", invalid(KindEmail, reasonAt)
	}
	if local == "" {
		return "", invalid(KindEmail, reasonLocal)
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") ||
		strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "", invalid(KindEmail, reasonDomain)
	}
	return v, nil
}

// normalizePhone returns an E.164 number. Mainland China mobile numbers are
// accepted without a country code because that is how people in the PRC write
// them; every other number must say which country it belongs to.
func normalizePhone(value string) (string, error) {
	var b strings.Builder
	b.Grow(len(value))
	for _, r := range value {
		switch {
		case unicode.IsSpace(r), r == '-', r == '.', r == '(', r == ')':
		case r == '+' && b.Len() == 0:
			b.WriteByte('+')
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			return "", invalid(KindPhone, reasonPhoneChars)
		}
	}
	v := b.String()
	var digits string
	switch {
	case v == "":
		return "", invalid(KindPhone, reasonEmpty)
	case v[0] == '+':
		digits = v[1:]
	case strings.HasPrefix(v, "00"):
		digits = v[2:]
	case isPRCMobile(v):
		digits = "86" + v
	default:
		return "", invalid(KindPhone, reasonPhonePrefix)
	}
	if len(digits) < 8 || len(digits) > 15 {
		return "", invalid(KindPhone, reasonPhoneDigits)
	}
	if digits[0] == '0' {
		return "", invalid(KindPhone, reasonCountryCode)
	}
	return "+" + digits, nil
}

// isPRCMobile reports whether digits is an 11-digit mainland China mobile
// number (1[3-9]x xxxx xxxx).
func isPRCMobile(digits string) bool {
	return len(digits) == 11 && digits[0] == '1' && digits[1] >= '3' && digits[1] <= '9'
}

func normalizeDeviceID(value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", invalid(KindDeviceID, reasonEmpty)
	}
	if len(v) > maxIDLen {
		return "", invalid(KindDeviceID, reasonTooLong)
	}
	// Lower-case ASCII only: strings.ToLower would map characters such as
	// the Kelvin sign to ASCII letters and let them through.
	out := []byte(v)
	for i, c := range out {
		switch {
		case c >= 'A' && c <= 'Z':
			out[i] = c + ('a' - 'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_', c == ':', c == '.':
		default:
			return "", invalid(KindDeviceID, reasonDeviceIDChar)
		}
	}
	return string(out), nil
}

// normalizeUserID keeps case: account ids and usernames are compared exactly
// by the systems that issue them.
func normalizeUserID(kind, value string) (string, error) {
	v := strings.TrimSpace(value)
	if v == "" {
		return "", invalid(kind, reasonEmpty)
	}
	if len(v) > maxIDLen {
		return "", invalid(kind, reasonTooLong)
	}
	for _, r := range v {
		if unicode.IsControl(r) {
			return "", invalid(kind, reasonControl)
		}
	}
	return v, nil
}
