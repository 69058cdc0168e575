package api

import (
	"net/http"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/hold"
)

// Legal holds keep what they cover from erasure until a second operator
// approves their lift (through the approvals on the console or the
// command line) or they expire. Auditors read them.
func (a *API) holdRoutes() []route {
	staff := []string{RoleAdmin, RoleOperator}
	read := []string{RoleAdmin, RoleOperator, RoleAuditor}
	return []route{
		{"GET", "/v1/holds", read, "Legal holds, newest first: those active now, or all with ?all=true", "listHolds", "", "Holds", 200, a.listHolds},
		{"POST", "/v1/holds", staff, "Place a legal hold: what it covers is kept from erasure until it is lifted or expires", "placeHold", "HoldInput", "Hold", 201, a.placeHold},
		{"GET", "/v1/holds/{id}", read, "One legal hold", "getHold", "", "Hold", 200, a.getHold},
		{"POST", "/v1/holds/{id}/lift", staff, "Ask to lift a legal hold: a second operator decides the approval this creates", "liftHold", "ReasonInput", "HoldLift", 202, a.liftHold},
	}
}

// HoldLift is a lift asked for: the approval a second operator decides.
type HoldLift struct {
	Hold     string `json:"hold"`
	Approval string `json:"approval"`
	State    string `json:"state"`
}

var errNoHolds = fault.New(fault.Unavailable, "holds_unavailable", "legal holds are not served here")

func (a *API) holds() (*hold.Service, error) {
	if a.opt.Holds == nil {
		return nil, errNoHolds
	}
	return a.opt.Holds, nil
}

// holdOperator is the caller as package hold names it: the key's id.
func holdOperator(who consent.Actor) hold.Operator {
	return hold.Operator{ID: who.ID, Role: who.Role, Place: who.Place, Actor: who.ID}
}

// queryAll reads the list routes' all parameter: true lists closed
// records too.
func queryAll(r *http.Request) (bool, error) { return boolParam("all", r.URL.Query().Get("all")) }

// boolParam reads the value of a true-or-false query parameter, name;
// absent is false.
func boolParam(name, value string) (bool, error) {
	switch value {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, fault.New(fault.BadRequest, "invalid_query", "%s is true or false", name).At(name)
}

func (a *API) listHolds(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	hs, err := a.holds()
	if err != nil {
		return err
	}
	all, err := queryAll(r)
	if err != nil {
		return err
	}
	list, err := hs.List(r.Context(), all)
	if err != nil {
		return err
	}
	return writeJSON(w, 200, map[string]any{"holds": list})
}

func (a *API) placeHold(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	hs, err := a.holds()
	if err != nil {
		return err
	}
	var in hold.Input
	if err := decode(r, &in); err != nil {
		return err
	}
	h, err := hs.Place(r.Context(), holdOperator(who), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/holds/"+h.ID)
	return writeJSON(w, 201, h)
}

func (a *API) getHold(w http.ResponseWriter, r *http.Request, _ consent.Actor) error {
	hs, err := a.holds()
	if err != nil {
		return err
	}
	h, err := hs.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, 200, h)
}

func (a *API) liftHold(w http.ResponseWriter, r *http.Request, who consent.Actor) error {
	hs, err := a.holds()
	if err != nil {
		return err
	}
	var in ReasonInput
	if err := decode(r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	ap, err := hs.RequestLift(r.Context(), holdOperator(who), id, in.Reason)
	if err != nil {
		return err
	}
	return writeJSON(w, 202, HoldLift{Hold: id, Approval: ap, State: "pending"})
}
