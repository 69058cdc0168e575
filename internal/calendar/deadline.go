package calendar

import (
	"errors"
	"fmt"
	"time"
)

// Units of a deadline, as in the manifest's Deadline and Extension.
const (
	CalendarDays = "calendar_days"
	WorkingDays  = "working_days"
	Months       = "months"
)

// maxCount bounds a rule's count. No legal response period runs for
// decades, and the bound keeps a bad rule from looping over centuries of
// days or running dates past year 9999.
const maxCount = 10000

// ErrRule is wrapped by the error for a rule that cannot be counted.
var ErrRule = errors.New("invalid deadline rule")

// Rule is a period of Count units (CalendarDays, WorkingDays or Months).
type Rule struct {
	Count int
	Unit  string
}

// String formats r as "15 working_days".
func (r Rule) String() string { return fmt.Sprintf("%d %s", r.Count, r.Unit) }

// Due is a computed due date: the last day on which the response is in time.
type Due struct {
	Date Date
	// Provisional is true when the date rests on days whose working-day
	// arrangement is not published yet.
	Provisional bool
	// CalendarVersion is the version of the calendar data the date rests
	// on; empty for calendar days and months, which do not use it.
	CalendarVersion string
}

// DueDate returns the due date of a request received on received.
//
// Every unit counts from the day after receipt, so the period ends at the
// end of its last day:
//   - calendar_days: received plus Count days;
//   - months: the same day of the month Count months later, or the last
//     day of that month when it is shorter (31 January + 1 month is 28 or
//     29 February), as Regulation 1182/71 counts the periods of GDPR
//     art. 12(3);
//   - working_days: AddWorkingDays on the PRC calendar.
//
// A period is not carried past a weekend or holiday it ends on: Regulation
// 1182/71 art. 3(4) would carry it to the next working day of the member
// state concerned, which this calendar does not hold, and ending earlier
// is the safe side of a deadline.
func (c *Calendar) DueDate(received Date, r Rule) (Due, error) {
	due, err := c.count(received, r)
	if err != nil {
		return Due{}, fmt.Errorf("calendar: due date: %w", err)
	}
	return due, nil
}

// Extend returns the due date after an extension of r, counted from the
// original due date by the rules of DueDate. Provisional covers only the
// days of the extension: an original due date that was provisional makes
// the extended one provisional too.
func (c *Calendar) Extend(due Date, r Rule) (Due, error) {
	ext, err := c.count(due, r)
	if err != nil {
		return Due{}, fmt.Errorf("calendar: extend: %w", err)
	}
	return ext, nil
}

// Shift moves due later by pausedDays, the whole calendar days a request's
// clock was paused while waiting on the subject; pausedDays of 0 or less
// leaves it unchanged.
//
// Shift is the pause rule for calendar_days and months deadlines. A
// working_days deadline is instead counted again with DueAfterPause:
// calendar days added to its due date can land on a holiday, and they buy
// a full week of working days for a pause that may have spanned a week of
// holidays in which the count lost only a few.
func (c *Calendar) Shift(due Date, pausedDays int) Date {
	if pausedDays <= 0 {
		return due
	}
	return due.AddDays(pausedDays)
}

// DueAfterPause returns the due date of a request whose clock was paused
// for pausedDays whole calendar days: the rule counted from received moved
// later by the pause. For working_days this is the pause rule; it is exact
// for a clock stopped from receipt, as while the subject's identity is
// checked, and ends on a working day. For calendar_days it equals Shift of
// the unpaused due date.
func (c *Calendar) DueAfterPause(received Date, r Rule, pausedDays int) (Due, error) {
	due, err := c.count(received.AddDays(max(pausedDays, 0)), r)
	if err != nil {
		return Due{}, fmt.Errorf("calendar: due after pause: %w", err)
	}
	return due, nil
}

// count applies r from the day after from.
func (c *Calendar) count(from Date, r Rule) (Due, error) {
	if r.Count <= 0 || r.Count > maxCount {
		return Due{}, fmt.Errorf("%w: count %d is outside 1..%d", ErrRule, r.Count, maxCount)
	}
	from = from.normal()
	switch r.Unit {
	case CalendarDays:
		return Due{Date: from.AddDays(r.Count)}, nil
	case Months:
		return Due{Date: addMonths(from, r.Count)}, nil
	case WorkingDays:
		d, provisional := c.AddWorkingDays(from, r.Count)
		return Due{Date: d, Provisional: provisional, CalendarVersion: c.version}, nil
	}
	return Due{}, fmt.Errorf("%w: unknown unit %q", ErrRule, r.Unit)
}

// addMonths returns the same day of the month n months after d, or the
// last day of that month when it has fewer days.
func addMonths(d Date, n int) Date {
	m := int(d.Month) - 1 + n
	y, month := d.Year+m/12, time.Month(m%12+1)
	return Date{Year: y, Month: month, Day: min(d.Day, daysIn(y, month))}
}
