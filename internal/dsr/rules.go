// Package dsr runs data-subject requests: intake, identity verification by
// one-time code, deadlines that match the law (PRC working days, months
// with extensions), the request workflow with refusal grounds, and
// fulfilment on Custos's own data.
package dsr

import (
	"fmt"
	"slices"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/manifest"
)

// States of a request.
const (
	StateReceived             = "received"
	StateAwaitingVerification = "awaiting_verification"
	StateVerified             = "verified"
	StateInProgress           = "in_progress"
	StateAwaitingSubject      = "awaiting_subject"
	StateExtended             = "extended"
	StateCompleted            = "completed"
	StateRefused              = "refused"
	StateCancelled            = "cancelled"
	StateWithdrawn            = "withdrawn"
	// StateForwarded: see links.go.
)

// OpenStates are the states of a request still being worked on.
var OpenStates = []string{StateReceived, StateAwaitingVerification, StateVerified, StateInProgress, StateAwaitingSubject, StateAwaitingFee, StateExtended}

// transitions lists the states each state may move to.
var transitions = map[string][]string{
	StateReceived:             {StateAwaitingVerification, StateVerified, StateRefused, StateCancelled, StateWithdrawn},
	StateAwaitingVerification: {StateVerified, StateForwarded, StateRefused, StateCancelled, StateWithdrawn},
	StateVerified:             {StateInProgress, StateRefused, StateCancelled, StateWithdrawn},
	StateInProgress:           {StateAwaitingSubject, StateAwaitingFee, StateExtended, StateCompleted, StateRefused, StateWithdrawn, StateCancelled},
	StateAwaitingSubject:      {StateInProgress, StateExtended, StateRefused, StateWithdrawn, StateCancelled},
	StateAwaitingFee:          {StateInProgress, StateRefused, StateWithdrawn, StateCancelled},
	StateExtended:             {StateAwaitingSubject, StateAwaitingFee, StateCompleted, StateRefused, StateWithdrawn, StateCancelled},
}

func canMove(from, to string) bool { return slices.Contains(transitions[from], to) }

// deadlineFor picks the manifest's deadline for a right in a jurisdiction.
// The most specific rule wins: one naming both the right and the
// jurisdiction, then the right only, then the jurisdiction only, then a
// rule naming neither. Among equally specific rules the shortest applies,
// since the organisation has promised each of them.
func deadlineFor(m *manifest.Manifest, cal *calendar.Calendar, right, jurisdiction string, received calendar.Date) (manifest.Deadline, bool) {
	best, bestRank := manifest.Deadline{}, -1
	var bestDue calendar.Date
	for _, d := range m.Rights.Deadlines {
		rightOK := len(d.Rights) == 0 || slices.Contains(d.Rights, right)
		jurOK := len(d.Jurisdictions) == 0 || slices.Contains(d.Jurisdictions, jurisdiction)
		if !rightOK || !jurOK {
			continue
		}
		rank := 0
		if len(d.Rights) > 0 {
			rank += 2
		}
		if len(d.Jurisdictions) > 0 {
			rank++
		}
		due, err := cal.DueDate(received, calendar.Rule{Count: d.Count, Unit: d.Unit})
		if err != nil {
			continue
		}
		if rank > bestRank || rank == bestRank && due.Date.Before(bestDue) {
			best, bestRank, bestDue = d, rank, due.Date
		}
	}
	return best, bestRank >= 0
}

// deadlineOf is the deadline a request is due by. An account cancellation
// applied for through a channel the policy gives its own term for
// (account_cancellation.terms) is due by that term: a term of 0 is due on
// the day of receipt, as the policy says it takes effect at once. Any
// other request is due by deadlineFor.
func deadlineOf(m *manifest.Manifest, cal *calendar.Calendar, right, jurisdiction, via string, received calendar.Date) (manifest.Deadline, bool) {
	if c := m.Rights.Cancellation; c != nil && right == "cancel_account" && via != "" {
		for _, t := range c.Terms {
			if t.Channel == via {
				return manifest.Deadline{ID: "term:" + via, Count: t.Count, Unit: t.Unit}, true
			}
		}
	}
	return deadlineFor(m, cal, right, jurisdiction, received)
}

// dueBy computes the due date of a request received on received under d;
// a deadline of 0 (a cancellation term that takes effect at once) falls
// on the day of receipt.
func dueBy(cal *calendar.Calendar, received calendar.Date, d manifest.Deadline) (calendar.Due, error) {
	if d.Count == 0 {
		return calendar.Due{Date: received}, nil
	}
	return cal.DueDate(received, calendar.Rule{Count: d.Count, Unit: d.Unit})
}

// channels lists what a request may say it came through (Input.Via): the
// policy's contact channels, and self_service where the policy describes
// the product's own account cancellation.
func channels(m *manifest.Manifest) []string {
	var out []string
	for _, c := range m.Contact.Channels {
		out = append(out, c.ID)
	}
	if c := m.Rights.Cancellation; c != nil && len(c.SelfService) > 0 {
		out = append(out, manifest.SelfServiceChannel)
	}
	return out
}

// offered reports whether the manifest offers right in jurisdiction.
func offered(m *manifest.Manifest, right, jurisdiction string) bool {
	if right == "deceased" {
		if m.Rights.Deceased == nil || !m.Rights.Deceased.Allowed {
			return false
		}
	}
	for _, r := range m.Rights.Offered {
		if r.Right == right && (len(r.Jurisdictions) == 0 || slices.Contains(r.Jurisdictions, jurisdiction)) {
			return true
		}
	}
	return false
}

// Jurisdictions lists the manifest's jurisdiction ids; requests default to the first.
func jurisdictions(m *manifest.Manifest) []string {
	var out []string
	for _, j := range m.Jurisdiction {
		out = append(out, j.ID)
	}
	return out
}

func describe(d manifest.Deadline) string {
	if d.Count == 0 {
		return "immediate"
	}
	s := fmt.Sprintf("%d %s", d.Count, d.Unit)
	if d.Extension != nil {
		s += fmt.Sprintf(" (+%d %s)", d.Extension.Count, d.Extension.Unit)
	}
	return s
}

// groundIDs lists the grounds a request of right under jurisdiction may be refused on.
func groundIDs(m *manifest.Manifest, right, jurisdiction string) []string {
	var ids []string
	for _, g := range m.RefusalGroundsFor(right, jurisdiction) {
		ids = append(ids, g.ID)
	}
	return ids
}

// offeredRights lists the request types the manifest offers in a
// jurisdiction, in its order.
func offeredRights(m *manifest.Manifest, jurisdiction string) []string {
	var out []string
	for _, r := range m.Rights.Offered {
		if !slices.Contains(out, r.Right) && offered(m, r.Right, jurisdiction) {
			out = append(out, r.Right)
		}
	}
	return out
}

// legalHoldIDs lists the manifest's legal holds.
func legalHoldIDs(m *manifest.Manifest) []string {
	var ids []string
	for _, h := range m.LegalHolds {
		ids = append(ids, h.ID)
	}
	return ids
}

// unpublishedYears lists the years whose working-day arrangement a due
// date counted over the days after from up to due rests on without its
// being published: a day's own year, or for the last days of December the
// next year too (calendar.WorkingDay).
func unpublishedYears(cal *calendar.Calendar, from, due calendar.Date) []int {
	var years []int
	for d := from.AddDays(1); !d.After(due); d = d.AddDays(1) {
		if _, known := cal.WorkingDay(d); known {
			continue
		}
		y := d.Year
		if cal.Published(y) {
			y++
		}
		if !slices.Contains(years, y) {
			years = append(years, y)
		}
	}
	return years
}
