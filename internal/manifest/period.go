package manifest

import (
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
)

// KeptFrom returns the instant from which values are still within period
// at now; those written before it are past it. Dates are China's, as the
// rest of Custos counts them (calendar.China), and the count follows the
// PRC Civil Code:
//   - art. 201: the day a value is written does not count; its period
//     starts the next day;
//   - art. 202: a period in months or years ends on the same day of the
//     month that many months on, or on the last day of that month when it
//     has no such day (written 31 January, kept one month: to 28 or 29
//     February; written 29 February, kept one year: to 28 February);
//   - art. 203: the last day ends at midnight. Its rule carrying a last
//     day that is a holiday to the next working day is not followed:
//     deletion needs no office open, and the earlier end is the person's
//     side of a retention period.
//
// A value written on day d with period p is kept through d+p and deleted
// from the start of the day after. KeptFrom inverts that: the start of
// the earliest day d whose d+p is today or later. For months the inverse
// is the same day of the month p months back, or the first of the month
// after when that month is too short (on 31 March, one month back, every
// value of February has ended: its d+1 month falls on or before 28 March).
func (p Period) KeptFrom(now time.Time) (time.Time, bool) {
	y, mo, d := now.In(calendar.China).Date()
	months := p.Count
	switch p.Unit {
	case "days":
		return time.Date(y, mo, d-p.Count, 0, 0, 0, 0, calendar.China), true
	case "years":
		months *= 12
	case "months":
	default:
		return time.Time{}, false
	}
	first := time.Date(y, mo-time.Month(months), 1, 0, 0, 0, 0, calendar.China)
	if last := first.AddDate(0, 1, -1).Day(); d > last {
		return first.AddDate(0, 1, 0), true
	}
	return first.AddDate(0, 0, d-1), true
}
