package client

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Error is an answer other than success from the server. Code is the
// API's stable snake_case code (e.g. "subject_not_found",
// "unknown_purpose"); Message is the server's explanation, which never
// quotes personal data or internal detail. A gateway's answer that is not
// the API's error body has the status and an empty Code.
//
// Test for a class of error with errors.Is and the Err sentinels (which
// follow the API's one table of error kinds to statuses), or for one code
// with an ErrorCode:
//
//	if errors.Is(err, client.ErrNotFound) { … }
//	if errors.Is(err, client.CodeUnknownPurpose) { … }
type Error struct {
	// Op is the client method that failed, e.g. "GetSubject".
	Op string
	// Status is the HTTP status.
	Status int
	// Code is the stable error code; empty when the body was not the API's.
	Code string
	// Message explains the error, in English.
	Message string
	// Field names the request field (or parameter) at fault, when the
	// server says.
	Field string
	// Allowed lists the values Field takes, when it is one of a fixed set
	// (purposes, jurisdictions, request types, …); at most 20.
	Allowed []string
	// RetryAfter is the wait the server asked for (Retry-After), if any.
	RetryAfter time.Duration
}

// Error returns "custos Op: code: message (HTTP status)". It holds no
// URL, id or token: only what the server said.
func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = "http_" + fmt.Sprint(e.Status)
	}
	return fmt.Sprintf("custos %s: %s: %s (HTTP %d)", e.Op, code, e.Message, e.Status)
}

// Is reports whether e belongs to the class of an Err sentinel or has the
// code of an ErrorCode.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case class:
		return e.Status == t.status
	case ErrorCode:
		return e.Code == string(t)
	}
	return false
}

// class is an error kind of the API, known to clients by its status.
type class struct {
	status int
	name   string
}

// Error names the class.
func (c class) Error() string { return "custos: " + c.name }

// Classes of errors, one per kind in the API's table of kinds and
// statuses. Match them with errors.Is.
var (
	// ErrBadRequest: the request is malformed (400), e.g. invalid_json,
	// unknown_field, invalid_cursor.
	ErrBadRequest error = class{http.StatusBadRequest, "bad request"}
	// ErrUnauthorized: no API key, or an unknown or revoked one (401,
	// code unauthenticated).
	ErrUnauthorized error = class{http.StatusUnauthorized, "unauthorized"}
	// ErrForbidden: the key's role may not call this route (403, code
	// forbidden).
	ErrForbidden error = class{http.StatusForbidden, "forbidden"}
	// ErrNotFound: no such subject, event, request or route (404, e.g.
	// subject_not_found, request_not_found).
	ErrNotFound error = class{http.StatusNotFound, "not found"}
	// ErrConflict: the request clashes with what is stored (409, e.g.
	// subject_conflict, invalid_transition).
	ErrConflict error = class{http.StatusConflict, "conflict"}
	// ErrTooLarge: the request body is over the server's limit (413).
	ErrTooLarge error = class{http.StatusRequestEntityTooLarge, "request too large"}
	// ErrInvalid: well-formed but against a rule of the API or the
	// policy (422, e.g. unknown_purpose, subject_id_is_pi).
	ErrInvalid error = class{http.StatusUnprocessableEntity, "invalid"}
	// ErrRateLimited: too many requests (429, e.g. rate_limited); see
	// Error.RetryAfter.
	ErrRateLimited error = class{http.StatusTooManyRequests, "rate limited"}
	// ErrInternal: the server failed (500, code internal); the cause is in
	// the server's log.
	ErrInternal error = class{http.StatusInternalServerError, "internal server error"}
	// ErrUnavailable: the server cannot answer now, or lacks a feature's
	// configuration (503, e.g. not_ready, requests_unavailable).
	ErrUnavailable error = class{http.StatusServiceUnavailable, "unavailable"}
	// ErrGone: the subject's information was erased (410, code
	// subject_erased); nothing is kept for them, nor kept again.
	ErrGone error = class{http.StatusGone, "gone"}
)

// ErrorCode is one of the API's stable error codes. It is an error so
// that errors.Is(err, client.ErrorCode("…")) matches an *Error with that
// code; the constants below name the ones a service most often handles.
type ErrorCode string

// Error names the code.
func (c ErrorCode) Error() string { return "custos: error code " + string(c) }

// Error codes a service most often meets. Every code the API answers is
// in its documentation; any of them can be matched as ErrorCode("code").
const (
	// CodeUnauthenticated: no API key, or an unknown or revoked one.
	CodeUnauthenticated ErrorCode = "unauthenticated"
	// CodeForbidden: the key's role may not call the route.
	CodeForbidden ErrorCode = "forbidden"
	// CodeSubjectNotFound: no subject has the id.
	CodeSubjectNotFound ErrorCode = "subject_not_found"
	// CodeSubjectConflict: the subject id or one of the identities is
	// already registered, or the guardian does not exist.
	CodeSubjectConflict ErrorCode = "subject_conflict"
	// CodeSubjectIDIsPI: the subject id is an email address or phone number.
	CodeSubjectIDIsPI ErrorCode = "subject_id_is_pi"
	// CodeUnknownPurpose: the purpose is not in the policy in force.
	CodeUnknownPurpose ErrorCode = "unknown_purpose"
	// CodeConsentNotApplicable: the purpose or act does not rest on consent
	// for this subject.
	CodeConsentNotApplicable ErrorCode = "consent_not_applicable"
	// CodeSeparateConsentRequired: the purpose or act needs a separate
	// consent (ConsentInput.Separate).
	CodeSeparateConsentRequired ErrorCode = "separate_consent_required"
	// CodeNoticeHashRequired: a grant or acceptance lacks the notice hash.
	CodeNoticeHashRequired ErrorCode = "notice_hash_required"
	// CodeRequestNotFound: no such rights request (or, on the public
	// routes, a wrong access token).
	CodeRequestNotFound ErrorCode = "request_not_found"
	// CodeInvalidTransition: the request's state does not allow the action.
	CodeInvalidTransition ErrorCode = "invalid_transition"
	// CodeRateLimited: too many requests.
	CodeRateLimited ErrorCode = "rate_limited"
	// CodeSubjectErased: the subject's information was erased.
	CodeSubjectErased ErrorCode = "subject_erased"
	// CodePurposeNotAllowed: a vault field is read for a purpose the
	// manifest does not collect its category for; Error.Allowed lists
	// those it does.
	CodePurposeNotAllowed ErrorCode = "purpose_not_allowed"
	// CodeNotAllowed: the decision point does not allow processing the
	// subject's data for the purpose now (consent withdrawn, processing
	// restricted, …); the message gives the reason.
	CodeNotAllowed ErrorCode = "not_allowed"
	// CodeInvalidValue: a vault value is not of its field's kind.
	CodeInvalidValue ErrorCode = "invalid_value"
)

// readError turns a non-2xx answer into an *Error, reading the API's
// error body when there is one. Any other body is not quoted: a proxy's
// page can echo the request.
func readError(op string, res *http.Response) *Error {
	defer res.Body.Close()
	e := &Error{Op: op, Status: res.StatusCode, RetryAfter: parseRetryAfter(res.Header.Get("Retry-After"), time.Now())}
	var body struct {
		Error struct {
			Code    string   `json:"code"`
			Message string   `json:"message"`
			Field   string   `json:"field"`
			Allowed []string `json:"allowed"`
		} `json:"error"`
	}
	raw, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if json.Unmarshal(raw, &body) == nil && body.Error.Code != "" {
		e.Code, e.Message, e.Field, e.Allowed = body.Error.Code, body.Error.Message, body.Error.Field, body.Error.Allowed
	} else {
		e.Message = http.StatusText(res.StatusCode)
	}
	io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20)) // let the connection be reused
	return e
}
