package evidence

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
)

// MaxPeriod bounds the period one archive covers.
const MaxPeriod = 10 * 366 * 24 * time.Hour

// ParsePeriod reads a period written FIRST..LAST, two civil dates
// (YYYY-MM-DD, China time) both included, as the instants [from, to): the
// start of FIRST and the start of the day after LAST. Its errors never
// quote more than the input's length.
func ParsePeriod(s string) (from, to time.Time, err error) {
	first, last, ok := strings.Cut(s, "..")
	if !ok || len(s) > 32 {
		return time.Time{}, time.Time{}, errors.New("period: want FIRST..LAST, two dates YYYY-MM-DD, e.g. 2026-01-01..2026-12-31")
	}
	from, err = time.ParseInLocation(time.DateOnly, first, calendar.China)
	if err != nil {
		return time.Time{}, time.Time{}, errors.New("period: the first day is not a date YYYY-MM-DD")
	}
	end, err := time.ParseInLocation(time.DateOnly, last, calendar.China)
	if err != nil {
		return time.Time{}, time.Time{}, errors.New("period: the last day is not a date YYYY-MM-DD")
	}
	if end.Before(from) {
		return time.Time{}, time.Time{}, errors.New("period: the last day comes before the first")
	}
	to = end.AddDate(0, 0, 1)
	if to.Sub(from) > MaxPeriod {
		return time.Time{}, time.Time{}, fmt.Errorf("period: longer than %d days", int(MaxPeriod/(24*time.Hour)))
	}
	return from, to, nil
}
