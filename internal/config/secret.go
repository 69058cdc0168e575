package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
)

const redacted = "[redacted]"

// Secret holds a secret setting. Every way of printing or encoding it (fmt
// verbs, JSON, text, slog) gives "[redacted]", or "" when it is unset, so a
// Config can be logged or dumped whole without leaking it. Reveal is the only
// way to the value.
type Secret struct {
	value  string
	source string
}

// NewSecret returns a Secret holding a copy of value; source says where it
// came from, for display.
func NewSecret(value []byte, source string) Secret {
	return Secret{value: string(value), source: source}
}

// Reveal returns a copy of the secret value, or nil when it is unset.
func (s Secret) Reveal() []byte {
	if s.value == "" {
		return nil
	}
	return []byte(s.value)
}

// IsSet reports whether the secret has a value.
func (s Secret) IsSet() bool { return s.value != "" }

// Source says where the value came from: "env CUSTOS_X", "file /path",
// "secrets dir", or "" when it is unset.
func (s Secret) Source() string { return s.source }

// String returns "[redacted]", or "" when the secret is unset.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return redacted
}

// GoString returns the same as String, for %#v.
func (s Secret) GoString() string { return s.String() }

// Format prints String for every verb: without it %x or %d would print the
// bytes of a Secret nested in a struct.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprint(f, strconv.Quote(s.String()))
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalJSON encodes the secret as the JSON string "[redacted]" or "".
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// MarshalText returns "[redacted]" or "".
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// LogValue keeps the secret out of structured logs.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }
