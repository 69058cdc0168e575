package calendar

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr bool
	}{
		{in: "2026-10-01", want: Date{2026, time.October, 1}},
		{in: "2028-02-29", want: Date{2028, time.February, 29}},
		{in: "2026-02-29", wantErr: true},
		{in: "2026-02-30", wantErr: true},
		{in: "2026-13-01", wantErr: true},
		{in: "2026-1-1", wantErr: true},
		{in: "2026/10/01", wantErr: true},
		{in: "2026-10-01T00:00:00Z", wantErr: true},
		{in: " 2026-10-01", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDate(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseDate(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseDate(%q) (-want +got):\n%s", tt.in, diff)
			}
			if err == nil && got.String() != tt.in {
				t.Errorf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

func TestDateArithmetic(t *testing.T) {
	d := MustParseDate
	tests := []struct {
		name    string
		from    Date
		days    int
		want    Date
		weekday time.Weekday
	}{
		{"next day", d("2026-09-30"), 1, d("2026-10-01"), time.Thursday},
		{"across a year", d("2026-12-20"), 15, d("2027-01-04"), time.Monday},
		{"leap day", d("2028-02-28"), 1, d("2028-02-29"), time.Tuesday},
		{"backwards", d("2026-03-01"), -1, d("2026-02-28"), time.Saturday},
		{"zero", d("2026-10-10"), 0, d("2026-10-10"), time.Saturday},
		{"unnormalised input", Date{2026, time.February, 30}, 1, d("2026-03-03"), time.Tuesday},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.from.AddDays(tt.days)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("AddDays(%d) (-want +got):\n%s", tt.days, diff)
			}
			if got.Weekday() != tt.weekday {
				t.Errorf("%s Weekday() = %v, want %v", got, got.Weekday(), tt.weekday)
			}
			if n := DaysUntil(tt.from, got); n != tt.days {
				t.Errorf("DaysUntil(%s, %s) = %d, want %d", tt.from, got, n, tt.days)
			}
		})
	}
}

func TestCompare(t *testing.T) {
	d := MustParseDate
	tests := []struct {
		a, b                Date
		cmp                 int
		before, after, zero bool
	}{
		{a: d("2026-10-01"), b: d("2026-10-02"), cmp: -1, before: true},
		{a: d("2026-10-02"), b: d("2026-10-01"), cmp: 1, after: true},
		{a: d("2026-10-01"), b: d("2026-10-01"), cmp: 0},
		{a: d("2025-12-31"), b: d("2026-01-01"), cmp: -1, before: true},
		{a: d("2026-11-01"), b: d("2026-10-31"), cmp: 1, after: true},
		{a: Date{}, b: d("0001-01-01"), cmp: -1, before: true, zero: true},
	}
	for _, tt := range tests {
		t.Run(tt.a.String()+" vs "+tt.b.String(), func(t *testing.T) {
			if got := tt.a.Compare(tt.b); got != tt.cmp {
				t.Errorf("Compare = %d, want %d", got, tt.cmp)
			}
			if got := tt.a.Before(tt.b); got != tt.before {
				t.Errorf("Before = %v, want %v", got, tt.before)
			}
			if got := tt.a.After(tt.b); got != tt.after {
				t.Errorf("After = %v, want %v", got, tt.after)
			}
			if got := tt.a.IsZero(); got != tt.zero {
				t.Errorf("IsZero = %v, want %v", got, tt.zero)
			}
		})
	}
}

func TestFromTime(t *testing.T) {
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		newYork = time.FixedZone("EDT", -4*3600) // no tzdata on the host
	}
	tests := []struct {
		name string
		in   time.Time
		want Date
	}{
		{"last second of 30 September in Beijing", time.Date(2026, 9, 30, 15, 59, 59, 0, time.UTC), MustParseDate("2026-09-30")},
		{"midnight in Beijing", time.Date(2026, 9, 30, 16, 0, 0, 0, time.UTC), MustParseDate("2026-10-01")},
		{"evening in New York is the next morning in Beijing", time.Date(2026, 9, 30, 20, 0, 0, 0, newYork), MustParseDate("2026-10-01")},
		{"already in China time", time.Date(2026, 1, 1, 0, 0, 0, 0, China), MustParseDate("2026-01-01")},
		{"new year's eve UTC", time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC), MustParseDate("2027-01-01")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FromTime(tt.in)); diff != "" {
				t.Errorf("FromTime(%v) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestDaysUntil(t *testing.T) {
	d := MustParseDate
	tests := []struct {
		name       string
		today, due Date
		want       int
	}{
		{"due today", d("2026-10-22"), d("2026-10-22"), 0},
		{"due tomorrow", d("2026-10-21"), d("2026-10-22"), 1},
		{"a day overdue", d("2026-10-23"), d("2026-10-22"), -1},
		{"across February of a leap year", d("2028-02-01"), d("2028-03-01"), 29},
		{"across February of a common year", d("2026-02-01"), d("2026-03-01"), 28},
		{"across a year", d("2026-12-20"), d("2027-01-08"), 19},
		{"far past", d("2026-01-01"), d("1700-01-01"), -119_069},
		{"past the range of a Duration", d("1700-01-01"), d("2026-01-01"), 119_069},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DaysUntil(tt.today, tt.due); got != tt.want {
				t.Errorf("DaysUntil(%s, %s) = %d, want %d", tt.today, tt.due, got, tt.want)
			}
		})
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		Due Date `json:"due"`
	}
	b, err := json.Marshal(doc{Due: MustParseDate("2026-10-22")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"due":"2026-10-22"}`; got != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	var got doc
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(doc{Due: MustParseDate("2026-10-22")}, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"due":"2026-02-30"}`), &got); err == nil {
		t.Error("Unmarshal of 2026-02-30 succeeded, want error")
	}
}
