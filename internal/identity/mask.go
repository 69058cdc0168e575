package identity

import (
	"strings"
	"unicode/utf8"
)

// minMaskedRunes is the shortest value Mask shows any part of: showing two
// characters at each end must still hide at least half of it.
const minMaskedRunes = 8

// Mask returns a normalised identity with most of it hidden, for showing to
// the person it belongs to or to an operator ("+86138****8000",
// "a***@example.com"). It is not a pseudonym: the visible parts are real.
func Mask(kind, normalized string) string {
	switch kind {
	case KindPhone:
		if m, ok := maskPhone(normalized); ok {
			return m
		}
	case KindEmail:
		if local, domain, ok := strings.Cut(normalized, "@"); ok && local != "" {
			_, n := utf8.DecodeRuneInString(local)
			return local[:n] + "***@" + domain
		}
	}
	return maskMiddle(normalized)
}

// maskPhone keeps the country code and carrier prefix and the last four
// digits, the parts people use to recognise their own number.
func maskPhone(v string) (string, bool) {
	const tail = 4
	if len(v) < 9 || v[0] != '+' {
		return "", false
	}
	for i := 1; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return "", false
		}
	}
	// At least four digits before the tail are hidden; the prefix shown is
	// never more than "+" and five digits.
	head := min(len(v)-tail-4, 6)
	return v[:head] + "****" + v[len(v)-tail:], true
}

func maskMiddle(v string) string {
	r := []rune(v)
	if len(r) < minMaskedRunes {
		return "***"
	}
	return string(r[:2]) + "***" + string(r[len(r)-2:])
}
