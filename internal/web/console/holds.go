package console

import (
	"net/http"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/hold"
)

// holdRow is one legal hold in the list, with the words the page shows.
type holdRow struct {
	hold.Hold
	State     string // active, lifted, expired
	ScopeKind string
	PlacedBy  string // username, "" for an account since removed or an API key
}

func (s *session) holder() hold.Operator {
	return hold.Operator{ID: s.op.ID, Role: s.op.Role, Place: s.actor.Place}
}

func (c *console) holdService() (*hold.Service, error) {
	if c.opt.Holds == nil {
		return nil, fault.New(fault.NotFound, "not_found", "no such page")
	}
	return c.opt.Holds, nil
}

func (c *console) holds(w http.ResponseWriter, r *http.Request, s *session) error {
	hs, err := c.holdService()
	if err != nil {
		return err
	}
	all := r.URL.Query().Get("all") == "1"
	list, err := hs.List(r.Context(), all)
	if err != nil {
		return err
	}
	ops, err := c.ops.List(r.Context())
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, o := range ops {
		names[o.ID] = o.Username
	}
	now := time.Now()
	rows := make([]holdRow, len(list))
	for i, h := range list {
		state := "active"
		switch {
		case h.LiftedAt != nil:
			state = "lifted"
		case !h.Active(now):
			state = "expired"
		}
		rows[i] = holdRow{Hold: h, State: state, ScopeKind: h.Scope.Kind(), PlacedBy: names[h.PlacedBy]}
	}
	return c.render(w, r, s, "holds", "console.holds.title", map[string]any{"Rows": rows, "All": all})
}

// formDate reads a date field (China time) of the form; nil when empty.
func formDate(r *http.Request, field string) (*time.Time, error) {
	v := r.PostFormValue(field)
	if v == "" {
		return nil, nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, calendar.China)
	if err != nil {
		return nil, fault.New(fault.Invalid, "invalid_date", "give the date as YYYY-MM-DD").At(field)
	}
	return &t, nil
}

func (c *console) placeHold(w http.ResponseWriter, r *http.Request, s *session) error {
	hs, err := c.holdService()
	if err != nil {
		return err
	}
	in := hold.Input{Scope: hold.Scope{SubjectID: r.PostFormValue("subject_id"), Datastore: r.PostFormValue("datastore"),
		Collection: r.PostFormValue("collection"), Category: r.PostFormValue("category")},
		Reason: r.PostFormValue("reason"), Authority: r.PostFormValue("authority"), Basis: r.PostFormValue("basis")}
	if in.Scope.From, err = formDate(r, "from"); err != nil {
		return err
	}
	if in.Scope.To, err = formDate(r, "to"); err != nil {
		return err
	}
	if in.Expires, err = formDate(r, "expires"); err != nil {
		return err
	}
	if _, err := hs.Place(r.Context(), s.holder(), in); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/holds?done=placed", http.StatusSeeOther)
	return nil
}

// liftHold asks for the hold's lift: an approval that a second operator
// decides on the approvals page.
func (c *console) liftHold(w http.ResponseWriter, r *http.Request, s *session) error {
	hs, err := c.holdService()
	if err != nil {
		return err
	}
	if _, err := hs.RequestLift(r.Context(), s.holder(), r.PathValue("id"), r.PostFormValue("reason")); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/approvals?done=liftrequested", http.StatusSeeOther)
	return nil
}
