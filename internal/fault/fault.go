// Package fault carries errors meant for callers: a kind that decides the
// HTTP status and exit code, a stable snake_case code, and a message that
// never quotes personal information or internal detail.
package fault

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// Kind classifies an error for callers.
type Kind int

// Kinds.
const (
	Internal     Kind = iota // 500; the cause is logged, never shown
	Invalid                  // 422: well-formed but breaks a rule
	BadRequest               // 400: malformed
	NotFound                 // 404
	Conflict                 // 409
	Unauthorized             // 401
	Forbidden                // 403
	TooLarge                 // 413
	TooMany                  // 429
	Unavailable              // 503
	Gone                     // 410: was there, and was erased
)

// statuses maps kinds to HTTP statuses: the one table, for the API and
// the pages alike.
var statuses = map[Kind]int{
	Internal:     http.StatusInternalServerError,
	Invalid:      http.StatusUnprocessableEntity,
	BadRequest:   http.StatusBadRequest,
	NotFound:     http.StatusNotFound,
	Conflict:     http.StatusConflict,
	Unauthorized: http.StatusUnauthorized,
	Forbidden:    http.StatusForbidden,
	TooLarge:     http.StatusRequestEntityTooLarge,
	TooMany:      http.StatusTooManyRequests,
	Unavailable:  http.StatusServiceUnavailable,
	Gone:         http.StatusGone,
}

// Status is the HTTP status of a kind.
func Status(k Kind) int {
	if s, ok := statuses[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is a caller-facing error.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Field   string // request field at fault, if any
	// Allowed are the values the field takes, when it names one of a
	// fixed set (a purpose, a jurisdiction, a request type): at most
	// MaxAllowed of them, in the manifest's order.
	Allowed []string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// New returns a caller-facing error.
func New(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// At returns a copy of e naming the request field at fault.
func (e *Error) At(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// MaxAllowed bounds the values an error lists: enough for any enum, and a
// manifest with hundreds of recipients does not make a page of an error.
const MaxAllowed = 20

// Allowing returns a copy of e that lists the values its field takes, both
// in Allowed and at the end of the message, so a person reading the message
// and a program reading the body learn the same. Beyond MaxAllowed values
// the message says how many more there are. The values are identifiers
// from the manifest or the code, never personal information.
func (e *Error) Allowing(values []string) *Error {
	c := *e
	n := min(len(values), MaxAllowed)
	c.Allowed = slices.Clone(values[:n])
	if n == 0 {
		return &c
	}
	c.Message += ": want one of " + strings.Join(c.Allowed, ", ")
	if more := len(values) - n; more > 0 {
		c.Message += fmt.Sprintf(" (and %d more)", more)
	}
	return &c
}

// As extracts a caller-facing error from err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
