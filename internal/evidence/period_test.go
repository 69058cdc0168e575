package evidence_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/evidence"
)

func TestParsePeriod(t *testing.T) {
	day := func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, calendar.China) }
	tests := []struct {
		in       string
		from, to time.Time
		err      string
	}{
		{"2026-01-01..2026-12-31", day(2026, 1, 1), day(2027, 1, 1), ""},
		{"2026-03-05..2026-03-05", day(2026, 3, 5), day(2026, 3, 6), ""},
		{"2024-02-29..2024-02-29", day(2024, 2, 29), day(2024, 3, 1), ""},
		{"2026-01-01", time.Time{}, time.Time{}, "want FIRST..LAST"},
		{"2026-12-31..2026-01-01", time.Time{}, time.Time{}, "comes before"},
		{"2026-02-30..2026-03-01", time.Time{}, time.Time{}, "first day is not a date"},
		{"2026-01-01..tomorrow", time.Time{}, time.Time{}, "last day is not a date"},
		{"2000-01-01..2026-01-01", time.Time{}, time.Time{}, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			from, to, err := evidence.ParsePeriod(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil || !from.Equal(tt.from) || !to.Equal(tt.to) {
				t.Errorf("got %v..%v (%v), want %v..%v", from, to, err, tt.from, tt.to)
			}
		})
	}
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2026-01-01..2026-12-31", "..", "2026-01-01..", "x..y", "2026-13-01..2026-13-02"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		from, to, err := evidence.ParsePeriod(s)
		if err != nil {
			// The messages are fixed: none depends on (or quotes) the input.
			if !strings.HasPrefix(err.Error(), "period: ") || len(err.Error()) > 120 {
				t.Errorf("error %q is not one of the fixed messages", err)
			}
			return
		}
		if !to.After(from) || to.Sub(from) > evidence.MaxPeriod {
			t.Errorf("%q: period %v..%v is empty or too long", s, from, to)
		}
	})
}
