package console

import (
	"net/http"
	"net/url"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
)

var errNoRequests = fault.New(fault.Unavailable, "requests_disabled", "rights requests are disabled on this server (no data keyset)")

// dueSoonDays is how many days before its deadline a request is shown
// as due soon.
const dueSoonDays = 3

// row is one request in the queue.
type row struct {
	dsr.View
	// Deadline is the end of the due date in China time, for the countdown.
	DueAt time.Time
	Class string // overdue, due-soon or empty
}

func rowOf(v dsr.View) row {
	rw := row{View: v}
	if d, err := time.ParseInLocation("2006-01-02", v.DueDate, calendar.China); err == nil {
		rw.DueAt = d.AddDate(0, 0, 1)
	}
	switch {
	case v.DaysLeft < 0:
		rw.Class = "overdue"
	case v.DaysLeft <= dueSoonDays:
		rw.Class = "due-soon"
	}
	return rw
}

func (c *console) queue(w http.ResponseWriter, r *http.Request, s *session) error {
	if c.opt.Requests == nil {
		return errNoRequests
	}
	var states []string // the open ones
	closed := r.URL.Query().Get("view") == "closed"
	if closed {
		states = dsr.ClosedStates
	}
	page, err := c.opt.Requests.ListPage(r.Context(), dsr.Filter{States: states, Limit: 500, After: r.URL.Query().Get("cursor")})
	if err != nil {
		return err
	}
	rows := make([]row, len(page.Requests))
	for i, v := range page.Requests {
		rows[i] = rowOf(v)
	}
	var overdue int64
	if !closed {
		// Counted over every open request, not the page shown: the
		// overdue ones may be on any page.
		counts, err := c.opt.Requests.Counts(r.Context())
		if err != nil {
			return err
		}
		overdue = counts.Due(-1)
	}
	var assist []dsr.Assistance
	if !closed {
		if assist, err = c.opt.Requests.AssistanceTasks(r.Context(), dsr.AssistanceOpen); err != nil {
			return err
		}
	}
	return c.render(w, r, s, "queue", "console.queue.title", map[string]any{"Rows": rows, "Closed": closed, "Overdue": overdue, "Assist": assist, "Next": page.Next})
}

// assisted records a task to assist a controller as done, with what was
// done.
func (c *console) assisted(w http.ResponseWriter, r *http.Request, s *session) error {
	if c.opt.Requests == nil {
		return errNoRequests
	}
	if _, err := c.opt.Requests.FinishAssistance(r.Context(), s.actor, r.PathValue("task_id"), r.PostFormValue("note")); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/requests?done=assisted", http.StatusSeeOther)
	return nil
}

// ground is a refusal ground offered in the refusal form.
type ground struct{ ID, Text string }

// grounds lists the grounds a request of right under jurisdiction may be
// refused on, the policy's and its law's, in the page's language.
func (c *console) grounds(lang, right, jurisdiction string) []ground {
	_, m, _, err := c.opt.Consent.Policy()
	if err != nil {
		return nil
	}
	var out []ground
	for _, g := range m.RefusalGroundsFor(right, jurisdiction) {
		t, _ := m.RefusalGround(right, jurisdiction, g.ID)
		text := t.In(lang)
		if text == "" {
			text = g.ID
		}
		out = append(out, ground{ID: g.ID, Text: text})
	}
	return out
}

func (c *console) request(w http.ResponseWriter, r *http.Request, s *session) error {
	if c.opt.Requests == nil {
		return errNoRequests
	}
	v, err := c.opt.Requests.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	open := false
	for _, st := range dsr.OpenStates {
		open = open || st == v.State
	}
	lang := c.page(r, s, "").Lang
	return c.render(w, r, s, "request", "console.request.title", map[string]any{
		"R": rowOf(v), "Open": open, "Grounds": c.grounds(lang, v.Type, v.Jurisdiction),
		"Unverified": v.State == dsr.StateReceived || v.State == dsr.StateAwaitingVerification,
		"Verified":   v.State == dsr.StateVerified,
		// The fee form follows the policy's fee rule, as AskFee does.
		"CanAskFee": c.opt.Requests.CanAskFee(v), "AwaitingFee": v.State == dsr.StateAwaitingFee,
		"Currencies": feeCurrencies, "RetryTransmission": dsr.HasFailedTransmission(v),
	})
}

// act runs a workflow step and sends the browser back to the request.
func (c *console) act(step func(r *http.Request, s *session, id string) error, done string) func(http.ResponseWriter, *http.Request, *session) error {
	return func(w http.ResponseWriter, r *http.Request, s *session) error {
		if c.opt.Requests == nil {
			return errNoRequests
		}
		id := r.PathValue("id")
		if err := step(r, s, id); err != nil {
			return err
		}
		http.Redirect(w, r, "/console/requests/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
		return nil
	}
}

func (c *console) verify(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.act(func(r *http.Request, s *session, id string) error {
		_, err := c.opt.Requests.OperatorVerify(r.Context(), s.actor, id, r.PostFormValue("evidence"))
		return err
	}, "verified")(w, r, s)
}

func (c *console) approve(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.act(func(r *http.Request, s *session, id string) error {
		_, err := c.opt.Requests.Approve(r.Context(), s.actor, id)
		return err
	}, "approved")(w, r, s)
}

func (c *console) refuse(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.act(func(r *http.Request, s *session, id string) error {
		_, err := c.opt.Requests.Refuse(r.Context(), s.actor, id, r.PostFormValue("ground"), r.PostFormValue("explanation"))
		return err
	}, "refused")(w, r, s)
}

func (c *console) extend(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.act(func(r *http.Request, s *session, id string) error {
		_, err := c.opt.Requests.Extend(r.Context(), s.actor, id, r.PostFormValue("reason"))
		return err
	}, "extended")(w, r, s)
}

func (c *console) complete(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.act(func(r *http.Request, s *session, id string) error {
		_, err := c.opt.Requests.Complete(r.Context(), s.actor, id, dsr.CompleteInput{
			Explanation: r.PostFormValue("explanation"), LegalHold: r.PostFormValue("legal_hold"),
		})
		return err
	}, "completed")(w, r, s)
}

func (c *console) ack(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.act(func(r *http.Request, s *session, id string) error {
		_, err := c.opt.Requests.Acknowledge(r.Context(), s.actor, id, r.PathValue("recipient"))
		return err
	}, "acknowledged")(w, r, s)
}

// feeCurrencies are offered in the fee form, the first chosen unless
// changed: fees are mostly asked in renminbi.
var feeCurrencies = []string{"CNY", "HKD", "EUR", "USD"}

func (c *console) askFee(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.act(func(r *http.Request, s *session, id string) error {
		_, err := c.opt.Requests.AskFee(r.Context(), s.actor, id, dsr.FeeInput{
			Amount: r.PostFormValue("amount"), Currency: r.PostFormValue("currency"), Reason: r.PostFormValue("reason"),
		})
		return err
	}, "fee_asked")(w, r, s)
}

func (c *console) feePaid(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.act(func(r *http.Request, s *session, id string) error {
		_, err := c.opt.Requests.FeePaid(r.Context(), s.actor, id)
		return err
	}, "fee_paid")(w, r, s)
}

func (c *console) waiveFee(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.act(func(r *http.Request, s *session, id string) error {
		_, err := c.opt.Requests.WaiveFee(r.Context(), s.actor, id)
		return err
	}, "fee_waived")(w, r, s)
}

func (c *console) retryTransmission(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.act(func(r *http.Request, s *session, id string) error {
		_, err := c.opt.Requests.RetryTransmission(r.Context(), s.actor, id)
		return err
	}, "transmission_retried")(w, r, s)
}
