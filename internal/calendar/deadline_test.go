package calendar

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDueDate(t *testing.T) {
	tests := []struct {
		name     string
		received string
		rule     Rule
		want     string
		// provisional and versioned say whether the due date should be
		// provisional and carry the calendar's version.
		provisional, versioned bool
	}{
		// The hand counts are in TestAddWorkingDays.
		{"15 working days before National Day", "2026-09-25", Rule{15, WorkingDays}, "2026-10-22", false, true},
		{"15 working days from the eve of National Day", "2026-09-30", Rule{15, WorkingDays}, "2026-10-27", false, true},
		{"15 working days into 2027", "2026-12-20", Rule{15, WorkingDays}, "2027-01-08", true, true},

		// Day 1 is 26 September, day 30 is 25 October, a Sunday: the period
		// is not carried to the next working day.
		{"30 calendar days", "2026-09-25", Rule{30, CalendarDays}, "2026-10-25", false, false},
		{"30 calendar days into unpublished 2027", "2026-12-20", Rule{30, CalendarDays}, "2027-01-19", false, false},
		{"1 calendar day", "2026-02-28", Rule{1, CalendarDays}, "2026-03-01", false, false},

		{"1 month from 31 January", "2026-01-31", Rule{1, Months}, "2026-02-28", false, false},
		{"1 month from 31 January of a leap year", "2028-01-31", Rule{1, Months}, "2028-02-29", false, false},
		{"1 month from 31 March", "2026-03-31", Rule{1, Months}, "2026-04-30", false, false},
		{"1 month from a holiday", "2026-10-01", Rule{1, Months}, "2026-11-01", false, false},
		{"1 month across a year", "2026-12-15", Rule{1, Months}, "2027-01-15", false, false},
		{"3 months from 31 January", "2026-01-31", Rule{3, Months}, "2026-04-30", false, false},
		{"6 months from 31 August", "2026-08-31", Rule{6, Months}, "2027-02-28", false, false},
		{"25 months", "2026-01-15", Rule{25, Months}, "2028-02-15", false, false},
	}
	c := Builtin()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.DueDate(MustParseDate(tt.received), tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			want := Due{Date: MustParseDate(tt.want), Provisional: tt.provisional}
			if tt.versioned {
				want.CalendarVersion = builtinVersion
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("DueDate(%s, %v) (-want +got):\n%s", tt.received, tt.rule, diff)
			}
		})
	}
}

func TestExtend(t *testing.T) {
	tests := []struct {
		name                   string
		received               string
		rule, ext              Rule
		wantDue, wantExt       string
		provisional, versioned bool
	}{
		// Art. 12(3) GDPR: one month, extendable by two. The extension runs
		// from the end of the first period, 28 February, so it ends on
		// 28 April, two days before three months from receipt would.
		{"1 month + 2 months from 31 January", "2026-01-31", Rule{1, Months}, Rule{2, Months}, "2026-02-28", "2026-04-28", false, false},
		{"1 month + 2 months mid-month", "2026-03-15", Rule{1, Months}, Rule{2, Months}, "2026-04-15", "2026-06-15", false, false},
		// 28-30 Oct = 1-3; 2-6 Nov = 4-8; 9-13 Nov = 9-13; 16, 17 Nov = 14-15.
		{"15 + 15 working days over National Day", "2026-09-30", Rule{15, WorkingDays}, Rule{15, WorkingDays}, "2026-10-27", "2026-11-17", false, true},
		// 23-27 Nov, 30 Nov, 1-4 Dec, 7-11 Dec = 15 → 11 Dec. Then 14-18,
		// 21-24 Dec = 9; 25 Dec = 10 (2027's New Year's Day arrangement is
		// unpublished); 28-31 Dec = 14; Friday 1 Jan 2027 = 15.
		{"working-day extension into 2027", "2026-11-20", Rule{15, WorkingDays}, Rule{15, WorkingDays}, "2026-12-11", "2027-01-01", true, true},
		{"30 + 30 calendar days", "2026-09-25", Rule{30, CalendarDays}, Rule{30, CalendarDays}, "2026-10-25", "2026-11-24", false, false},
		{"1 month + 30 calendar days", "2026-01-31", Rule{1, Months}, Rule{30, CalendarDays}, "2026-02-28", "2026-03-30", false, false},
	}
	c := Builtin()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, err := c.DueDate(MustParseDate(tt.received), tt.rule)
			if err != nil {
				t.Fatal(err)
			}
			if due.Date.String() != tt.wantDue {
				t.Fatalf("DueDate(%s, %v) = %s, want %s", tt.received, tt.rule, due.Date, tt.wantDue)
			}
			got, err := c.Extend(due.Date, tt.ext)
			if err != nil {
				t.Fatal(err)
			}
			want := Due{Date: MustParseDate(tt.wantExt), Provisional: tt.provisional}
			if tt.versioned {
				want.CalendarVersion = builtinVersion
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Extend(%s, %v) (-want +got):\n%s", due.Date, tt.ext, diff)
			}
		})
	}
}

func TestRuleErrors(t *testing.T) {
	tests := []Rule{
		{0, WorkingDays},
		{-1, CalendarDays},
		{maxCount + 1, WorkingDays},
		{1, ""},
		{1, "weeks"},
		{1, "Working_Days"},
		{1, "days"},
	}
	c := Builtin()
	from := MustParseDate("2026-09-30")
	for _, r := range tests {
		t.Run(r.String(), func(t *testing.T) {
			if got, err := c.DueDate(from, r); !errors.Is(err, ErrRule) || got != (Due{}) {
				t.Errorf("DueDate = %v, %v; want ErrRule", got, err)
			}
			if got, err := c.Extend(from, r); !errors.Is(err, ErrRule) || got != (Due{}) {
				t.Errorf("Extend = %v, %v; want ErrRule", got, err)
			}
			if got, err := c.DueAfterPause(from, r, 3); !errors.Is(err, ErrRule) || got != (Due{}) {
				t.Errorf("DueAfterPause = %v, %v; want ErrRule", got, err)
			}
		})
	}
}

func TestShift(t *testing.T) {
	tests := []struct {
		due    string
		paused int
		want   string
	}{
		{"2026-10-22", 0, "2026-10-22"},
		{"2026-10-22", -3, "2026-10-22"},
		{"2026-10-22", 7, "2026-10-29"},
		{"2026-09-30", 1, "2026-10-01"}, // lands on a holiday and stays there
		{"2026-12-28", 5, "2027-01-02"},
	}
	c := Builtin()
	for _, tt := range tests {
		if got := c.Shift(MustParseDate(tt.due), tt.paused); got.String() != tt.want {
			t.Errorf("Shift(%s, %d) = %s, want %s", tt.due, tt.paused, got, tt.want)
		}
	}
}

// TestDueAfterPause pins the pause rule for working days: the count starts
// again from receipt moved later by the pause.
func TestDueAfterPause(t *testing.T) {
	tests := []struct {
		name     string
		received string
		rule     Rule
		paused   int
		want     string
	}{
		// Unpaused, 15 working days from 25 Sep end on 22 Oct. Paused 7 days
		// from receipt (26 Sep - 2 Oct), the clock loses the working days
		// 28-30 Sep and restarts on 3 Oct: 8, 9, 10 Oct = 1-3; 12-16 = 4-8;
		// 19-23 = 9-13; 26, 27 Oct = 14-15. Shift(22 Oct, 7) would give
		// 29 Oct, two working days the clock never lost.
		{"working days over National Day", "2026-09-25", Rule{15, WorkingDays}, 7, "2026-10-27"},
		{"working days, no pause", "2026-09-25", Rule{15, WorkingDays}, 0, "2026-10-22"},
		{"working days, negative pause", "2026-09-25", Rule{15, WorkingDays}, -2, "2026-10-22"},
		// Paused 2 days from Friday: the weekend it covers was not counted
		// anyway, so the due date stays put.
		{"working days over a weekend", "2026-03-06", Rule{15, WorkingDays}, 2, "2026-03-27"},
		{"calendar days", "2026-09-25", Rule{30, CalendarDays}, 7, "2026-11-01"},
	}
	c := Builtin()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			received := MustParseDate(tt.received)
			got, err := c.DueAfterPause(received, tt.rule, tt.paused)
			if err != nil {
				t.Fatal(err)
			}
			if got.Date.String() != tt.want || got.Provisional {
				t.Errorf("DueAfterPause(%s, %v, %d) = %s, provisional %v; want %s", tt.received, tt.rule, tt.paused, got.Date, got.Provisional, tt.want)
			}
			if tt.rule.Unit == CalendarDays {
				due, err := c.DueDate(received, tt.rule)
				if err != nil {
					t.Fatal(err)
				}
				if shifted := c.Shift(due.Date, tt.paused); shifted != got.Date {
					t.Errorf("calendar days: Shift gives %s, DueAfterPause %s; want them equal", shifted, got.Date)
				}
			}
		})
	}
}
