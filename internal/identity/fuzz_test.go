package identity

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// FuzzNormalize checks that Normalize never panics, that its output is a
// fixed point, and that its errors cannot carry the value they reject.
//
//	go test ./internal/identity -run XXX -fuzz FuzzNormalize -fuzztime 60s
func FuzzNormalize(f *testing.F) {
	for _, s := range []struct{ kind, value string }{
		{"email", " Alice@Example.com "},
		{"email", "a@b.c"},
		{"email", "ǅ@x.y"},
		{"phone", "+86 138-0013-8000"},
		{"phone", "13800138000"},
		{"phone", "008613800138000"},
		{"phone", "(0)+1"},
		{"device_id", "AA:BB:CC:DD:EE:FF"},
		{"user_id", " U-1 "},
		{"username", "张三\u2028"},
		{"loyalty_card", "X"},
		{"Email", "a@b.c"},
	} {
		f.Add(s.kind, s.value)
	}
	f.Fuzz(func(t *testing.T, kind, value string) {
		got, err := Normalize(kind, value)
		if err != nil {
			checkError(t, kind, value, err)
			return
		}
		again, err := Normalize(kind, got)
		if err != nil {
			t.Fatalf("Normalize(%q, %q) = %q, which it then rejects: %v", kind, value, got, err)
		}
		if again != got {
			t.Fatalf("Normalize(%q, %q) = %q, but normalising that gives %q", kind, value, got, again)
		}
	})
}

// checkError asserts that err's text is one of the fixed messages for the
// kind, so it cannot depend on the value, and that it does not contain a value
// of four bytes or more. Containment is excused only where the value is part of
// the fixed wording: "mail" is rejected as an email, and "invalid email" holds it.
func checkError(t *testing.T, kind, value string, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Normalize(%q, %q) error %v is not an *Error", kind, value, err)
	}
	var allowed []string
	if ValidKind(kind) {
		for _, r := range reasons {
			allowed = append(allowed, (&Error{Code: CodeInvalidIdentity, Kind: kind, Reason: r}).Error())
		}
	} else {
		allowed = append(allowed, (&Error{Code: CodeInvalidKind}).Error())
	}
	msg := err.Error()
	if !slices.Contains(allowed, msg) {
		t.Fatalf("Normalize(%q, %q) error %q is not one of the fixed messages", kind, value, msg)
	}
	if len(value) >= 4 && strings.Contains(msg, value) && !strings.Contains(strings.Join(allowed, "\n"), value) {
		t.Fatalf("Normalize(%q, %q) error %q contains the value", kind, value, msg)
	}
}
