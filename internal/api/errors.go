package api

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/custos-privacy/custos/internal/fault"
)

// ErrorBody is the shape of every error response.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, rt route, err error) {
	fe, ok := fault.As(err)
	var tooBig *http.MaxBytesError
	switch {
	case ok:
	case errors.As(err, &tooBig):
		fe = fault.New(fault.TooLarge, "body_too_large", "the request body exceeds %d bytes", tooBig.Limit)
	default:
		// The cause stays in the log: a database error can quote stored
		// values, so it never reaches the response.
		a.log.Error("internal error", "route", rt.Path, "op", rt.Op, "err", err)
		fe = fault.New(fault.Internal, "internal", "internal error")
	}
	status := fault.Status(fe.Kind)
	if fe.Kind == fault.Unauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="custos"`)
	}
	var body ErrorBody
	body.Error.Code, body.Error.Message, body.Error.Field = fe.Code, fe.Message, fe.Field
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}

// decode reads a JSON body strictly: unknown fields and trailing data are errors.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return err
		}
		// The decoder's message can quote the body; keep only its kind.
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ):
			return fault.New(fault.BadRequest, "invalid_json", "field %q has the wrong type", typ.Field).At(typ.Field)
		case errors.As(err, &syn):
			return fault.New(fault.BadRequest, "invalid_json", "the body is not valid JSON (offset %d)", syn.Offset)
		case isUnknownField(err):
			return fault.New(fault.BadRequest, "unknown_field", "the body has a field this route does not take")
		}
		return fault.New(fault.BadRequest, "invalid_json", "the body is not the expected JSON object")
	}
	if dec.More() {
		return fault.New(fault.BadRequest, "invalid_json", "the body has data after the JSON object")
	}
	return nil
}

func isUnknownField(err error) bool {
	const p = "json: unknown field "
	return len(err.Error()) > len(p) && err.Error()[:len(p)] == p
}
