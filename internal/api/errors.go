package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/text"
	"github.com/custos-privacy/custos/internal/yamlnode"
)

// ErrorBody is the shape of every error response. Field names the request
// field (or query or path parameter) at fault; Allowed lists the values it
// takes (or, for unknown_field, the fields the body takes), at most
// fault.MaxAllowed of them.
type ErrorBody struct {
	Error struct {
		Code    string   `json:"code"`
		Message string   `json:"message"`
		Field   string   `json:"field,omitempty"`
		Allowed []string `json:"allowed,omitempty"`
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
	body.Error.Code, body.Error.Message, body.Error.Field, body.Error.Allowed = fe.Code, fe.Message, fe.Field, fe.Allowed
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors. The body is read whole (the route's size limit bounds it) so an
// unknown field can be placed: at the top level the error lists the fields
// the route takes.
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return err // a *http.MaxBytesError becomes body_too_large
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		// The decoder's message can quote the body; keep only its kind.
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ):
			return fault.New(fault.BadRequest, "invalid_json", "field %q has the wrong type", typ.Field).At(typ.Field)
		case errors.As(err, &syn):
			return fault.New(fault.BadRequest, "invalid_json", "the body is not valid JSON (offset %d)", syn.Offset)
		}
		if name, ok := unknownField(err); ok {
			return unknownFieldError(name, b, reflect.TypeOf(v))
		}
		return fault.New(fault.BadRequest, "invalid_json", "the body is not the expected JSON object")
	}
	if dec.More() {
		return fault.New(fault.BadRequest, "invalid_json", "the body has data after the JSON object")
	}
	if field, ok := text.JSON(b); !ok {
		return invalidText(field)
	}
	return nil
}

// invalidText refuses a body whose text breaks the rule of package text,
// naming the field when its name may be repeated; the value never is.
func invalidText(field string) error {
	if field == "" {
		return fault.New(fault.Invalid, "invalid_text", "the body holds a control character or invalid UTF-8")
	}
	return fault.New(fault.Invalid, "invalid_text", "field %q holds a control character or invalid UTF-8", field).At(field)
}

// unknownField returns the name in encoding/json's "unknown field" error.
func unknownField(err error) (string, bool) {
	const p = "json: unknown field "
	rest, ok := strings.CutPrefix(err.Error(), p)
	if !ok {
		return "", false
	}
	name, err := strconv.Unquote(rest)
	return name, err == nil
}

// renamedFields are fields an earlier version of the API took, with the
// name that replaced them, so a client written for it is told what to send.
var renamedFields = map[string]string{"id": "subject_id"}

// unknownFieldError names the unknown field, suggests the field meant, and,
// when the field is at the top level of the body, lists the fields the
// route takes. A name that is not shaped like a field name is not repeated.
func unknownFieldError(name string, body []byte, t reflect.Type) error {
	if !text.Nameable(name) { // an email address or a phone number is not repeated
		return fault.New(fault.BadRequest, "unknown_field", "the request body has a field this route does not take")
	}
	top, all := jsonFields(t)
	msg := "unknown field " + strconv.Quote(name) + " in the request body"
	hint := yamlnode.Closest(name, all)
	if to, ok := renamedFields[name]; ok && slices.Contains(top, to) {
		hint = to
	}
	if hint != "" {
		msg += " (did you mean " + strconv.Quote(hint) + "?)"
	}
	e := fault.New(fault.BadRequest, "unknown_field", "%s", msg).At(name)
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) == nil {
		if _, atTop := obj[name]; atTop {
			return e.Allowing(top)
		}
	}
	return e
}

// jsonFields lists the JSON names of a body type's fields: those of the
// type itself in declaration order, and all of them, nested structs
// included (for suggestions).
func jsonFields(t reflect.Type) (top, all []string) {
	seen := map[reflect.Type]bool{}
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == timeType || seen[t] {
			return
		}
		seen[t] = true
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" || !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				walk(f.Type, depth)
				continue
			}
			if name == "" {
				name = f.Name
			}
			if depth == 0 {
				top = append(top, name)
			}
			all = append(all, name)
			walk(f.Type, depth+1)
		}
	}
	walk(t, 0)
	return top, all
}

// NotFound answers as the API does for a path it does not have: for the
// hosts of an organisation that is disabled or not served, so that they
// tell nothing of it.
func NotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body ErrorBody
		body.Error.Code, body.Error.Message = errNoRoute.Code, errNoRoute.Message
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusNotFound, body)
	})
}
