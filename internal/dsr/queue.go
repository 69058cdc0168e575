package dsr

import (
	"context"
	"math"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/store"
)

// ClosedStates are the states a request ends in: nothing more is done.
var ClosedStates = []string{StateCompleted, StateRefused, StateCancelled, StateWithdrawn, StateForwarded}

// Queue lists the requests in the given states (the open ones when none
// are given), soonest due first, at most limit (500 when limit is not
// positive): what an operator's queue shows.
func (s *Service) Queue(ctx context.Context, states []string, limit int) ([]View, error) {
	if limit <= 0 {
		limit = 500
	}
	return s.List(ctx, Filter{States: states, Limit: limit})
}

// Counts summarises the requests for a dashboard, from one count query
// rather than a capped list.
type Counts struct {
	// ByState counts the requests in every state that has some.
	ByState map[string]int64
	// DaysLeft counts the open requests by calendar days left until their
	// due date, as View.DaysLeft counts them: 0 on the due date, negative
	// once it has passed. A due date that does not parse counts as
	// overdue (math.MinInt32), so that somebody looks at it.
	DaysLeft map[int]int64
}

// Open is how many requests are open.
func (c Counts) Open() int64 {
	var n int64
	for _, k := range c.DaysLeft {
		n += k
	}
	return n
}

// Due counts the open requests with at most days left: overdue ones for
// -1, those due within three days for 3 (overdue ones included).
func (c Counts) Due(days int) int64 {
	var n int64
	for d, k := range c.DaysLeft {
		if d <= days {
			n += k
		}
	}
	return n
}

// Counts counts the requests by state, and the open ones by days left
// on today's date.
func (s *Service) Counts(ctx context.Context) (Counts, error) {
	rc, err := s.st.RequestCounts(ctx, OpenStates)
	if err != nil {
		return Counts{}, err
	}
	out := Counts{ByState: map[string]int64{}}
	for _, c := range rc.ByState {
		out.ByState[c.State] = c.N
	}
	out.DaysLeft = daysLeft(calendar.FromTime(s.now()), rc.OpenDue)
	return out, nil
}

// daysLeft turns counts per due date into counts per number of calendar
// days left on today, as View.DaysLeft counts them: 0 on the due date,
// negative once it has passed. A date that does not parse counts as
// overdue (math.MinInt32), so that it is looked at.
func daysLeft(today calendar.Date, due []store.DueCount) map[int]int64 {
	out := map[int]int64{}
	for _, c := range due {
		date, err := calendar.ParseDate(c.DueDate)
		if err != nil {
			out[math.MinInt32] += c.N
			continue
		}
		out[calendar.DaysUntil(today, date)] += c.N
	}
	return out
}
