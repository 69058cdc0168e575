package audit

import (
	"encoding/json"
	"time"
)

// Actor is who acts, in which role, from where: what every audit entry
// records of them.
type Actor struct {
	ID    string // API key id, "cli:<user>", "subject:<id>", "system", an operator's id
	Role  string
	Place string // source address and host, or where a job ran
}

// System is the actor of what Custos does on its own (scheduled jobs, a
// published manifest), at place.
func System(place string) Actor { return Actor{ID: "system", Role: "system", Place: place} }

// NewEntry builds the audit entry of an act: the one place entries are
// made, so that every one says who, in which role, from where, when, what
// and why in the same way. An empty outcome is OutcomeOK. detail is a small
// object without personal data: nil is {}, a string or json.RawMessage is
// taken as JSON already, anything else is marshalled.
func NewEntry(at time.Time, a Actor, action, object, purpose, outcome string, detail any) Entry {
	if outcome == "" {
		outcome = OutcomeOK
	}
	return Entry{At: at, Actor: a.ID, Role: a.Role, Place: a.Place, Action: action, Object: object, Purpose: purpose, Outcome: outcome, Detail: detailJSON(detail)}
}

func detailJSON(detail any) string {
	switch d := detail.(type) {
	case nil:
		return "{}"
	case string:
		if d == "" {
			return "{}"
		}
		return d
	case json.RawMessage:
		if len(d) == 0 {
			return "{}"
		}
		return string(d)
	}
	b, err := json.Marshal(detail)
	if err != nil || string(b) == "null" {
		return "{}"
	}
	return string(b)
}
