package calendar

import (
	"fmt"
	"time"
)

// China is the time zone that decides which civil day an instant falls on.
// Mainland China has kept UTC+8 without daylight saving time since 1991, so
// a fixed zone is exact for every date the calendar covers and needs no
// tzdata on the host.
var China = time.FixedZone("CST", 8*3600)

// Date is a civil date with no time of day and no zone.
//
// Functions in this package expect a valid date; an out-of-range day or
// month (2026-02-30) is normalised the way time.Date does (to 2026-03-02).
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// ParseDate parses a date in the form 2006-01-02.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != len(time.DateOnly) {
		return Date{}, fmt.Errorf("calendar: parse date %q: want YYYY-MM-DD", s)
	}
	return dateOf(t), nil
}

// MustParseDate is ParseDate for constants; it panics on a malformed date.
func MustParseDate(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// FromTime returns the civil date in China of the instant t.
func FromTime(t time.Time) Date { return dateOf(t.In(China)) }

// dateOf takes the date fields of t as they are in t's own location.
func dateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// time returns midnight UTC at the start of d. UTC keeps the arithmetic
// free of zone transitions.
func (d Date) time() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// normal returns d with an out-of-range month or day carried over.
func (d Date) normal() Date { return dateOf(d.time()) }

// String formats d as 2006-01-02.
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// AddDays returns the date n days after d (before it when n is negative).
func (d Date) AddDays(n int) Date {
	return dateOf(time.Date(d.Year, d.Month, d.Day+n, 0, 0, 0, 0, time.UTC))
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.time().Weekday() }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int { return d.time().Compare(e.time()) }

// Before reports whether d is earlier than e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is later than e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// MarshalText formats d as 2006-01-02, so dates read naturally in JSON.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a date in the form 2006-01-02.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// DaysUntil returns the number of days from today to due: 0 on the due date,
// negative once the deadline has passed.
func DaysUntil(today, due Date) int {
	// Unix seconds rather than a Duration, which saturates after 292 years.
	return int((due.time().Unix() - today.time().Unix()) / secondsPerDay)
}

const secondsPerDay = 24 * 60 * 60

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
