package calendar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// builtinVersion pins the embedded data: updating a year file must come
// with a deliberate change here (see data/README.md).
const builtinVersion = "holiday-cn@2026+sha256:73780198cf2c"

// file2027 stands for the State Council's 2027 notice, not yet published
// when the data was copied. Only New Year's Day matters to the tests.
const file2027 = `{
	"year": 2027,
	"papers": ["https://www.gov.cn/zhengce/content/2027-notice.htm"],
	"days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]
}`

// TestBuiltinMatchesFiles walks every date listed in the 2025 and 2026
// files, decoded here without the package's parser, and checks WorkingDay
// agrees with it.
func TestBuiltinMatchesFiles(t *testing.T) {
	c := Builtin()
	for _, tt := range []struct {
		year, days int
	}{{2025, 33}, {2026, 39}} {
		t.Run(fmt.Sprint(tt.year), func(t *testing.T) {
			b, err := dataFS.ReadFile(fmt.Sprintf("data/%d.json", tt.year))
			if err != nil {
				t.Fatal(err)
			}
			var f struct {
				Days []struct {
					Date     string
					IsOffDay bool
				}
			}
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			if len(f.Days) != tt.days {
				t.Fatalf("%d.json lists %d days, want %d", tt.year, len(f.Days), tt.days)
			}
			for _, fd := range f.Days {
				working, known := c.WorkingDay(MustParseDate(fd.Date))
				if working == fd.IsOffDay || !known {
					t.Errorf("WorkingDay(%s) = %v, %v; the file has isOffDay %v", fd.Date, working, known, fd.IsOffDay)
				}
			}
		})
	}
}

// TestWorkingDayNotable writes out the holiday arrangements of 2025 and
// 2026, so a change in the data shows up here as well as in the version.
func TestWorkingDayNotable(t *testing.T) {
	tests := []struct {
		date           string
		working, known bool
		why            string
	}{
		{"2025-01-01", false, true, "New Year's Day, Wednesday"},
		{"2025-01-26", true, true, "Sunday made a working day for the Spring Festival"},
		{"2025-01-27", true, true, "ordinary Monday before the Spring Festival"},
		{"2025-01-28", false, true, "Spring Festival"},
		{"2025-01-29", false, true, "Spring Festival"},
		{"2025-01-30", false, true, "Spring Festival"},
		{"2025-01-31", false, true, "Spring Festival"},
		{"2025-02-01", false, true, "Spring Festival"},
		{"2025-02-02", false, true, "Spring Festival"},
		{"2025-02-03", false, true, "Spring Festival, Monday"},
		{"2025-02-04", false, true, "Spring Festival, Tuesday"},
		{"2025-02-05", true, true, "first working day after the Spring Festival"},
		{"2025-02-08", true, true, "Saturday made a working day for the Spring Festival"},
		{"2025-02-09", false, true, "ordinary Sunday"},
		{"2025-04-04", false, true, "Qingming, Friday"},
		{"2025-04-27", true, true, "Sunday made a working day for Labour Day"},
		{"2025-05-01", false, true, "Labour Day"},
		{"2025-05-05", false, true, "Labour Day, Monday"},
		{"2025-06-02", false, true, "Dragon Boat Festival, Monday"},
		{"2025-09-28", true, true, "Sunday made a working day for National Day"},
		{"2025-10-01", false, true, "National Day and Mid-Autumn"},
		{"2025-10-02", false, true, "National Day and Mid-Autumn"},
		{"2025-10-03", false, true, "National Day and Mid-Autumn"},
		{"2025-10-04", false, true, "National Day and Mid-Autumn"},
		{"2025-10-05", false, true, "National Day and Mid-Autumn"},
		{"2025-10-06", false, true, "National Day and Mid-Autumn"},
		{"2025-10-07", false, true, "National Day and Mid-Autumn"},
		{"2025-10-08", false, true, "National Day and Mid-Autumn, Wednesday"},
		{"2025-10-09", true, true, "first working day after National Day"},
		{"2025-10-11", true, true, "Saturday made a working day for National Day"},
		{"2025-10-12", false, true, "ordinary Sunday"},

		{"2026-01-01", false, true, "New Year's Day"},
		{"2026-01-02", false, true, "New Year's Day, Friday"},
		{"2026-01-03", false, true, "New Year's Day, Saturday"},
		{"2026-01-04", true, true, "Sunday made a working day for New Year's Day"},
		{"2026-02-13", true, true, "ordinary Friday"},
		{"2026-02-14", true, true, "Saturday made a working day for the Spring Festival"},
		{"2026-02-15", false, true, "Spring Festival"},
		{"2026-02-16", false, true, "Spring Festival"},
		{"2026-02-17", false, true, "Spring Festival"},
		{"2026-02-18", false, true, "Spring Festival"},
		{"2026-02-19", false, true, "Spring Festival"},
		{"2026-02-20", false, true, "Spring Festival"},
		{"2026-02-21", false, true, "Spring Festival"},
		{"2026-02-22", false, true, "Spring Festival"},
		{"2026-02-23", false, true, "Spring Festival, Monday"},
		{"2026-02-24", true, true, "first working day after the Spring Festival"},
		{"2026-02-28", true, true, "Saturday made a working day for the Spring Festival"},
		{"2026-04-06", false, true, "Qingming, Monday"},
		{"2026-05-05", false, true, "Labour Day, Tuesday"},
		{"2026-05-09", true, true, "Saturday made a working day for Labour Day"},
		{"2026-06-19", false, true, "Dragon Boat Festival, Friday"},
		{"2026-09-20", true, true, "Sunday made a working day for National Day"},
		{"2026-09-25", false, true, "Mid-Autumn, Friday"},
		{"2026-09-26", false, true, "Mid-Autumn"},
		{"2026-09-27", false, true, "Mid-Autumn"},
		{"2026-09-28", true, true, "ordinary Monday between the holidays"},
		{"2026-09-30", true, true, "last working day before National Day"},
		{"2026-10-01", false, true, "National Day"},
		{"2026-10-02", false, true, "National Day"},
		{"2026-10-03", false, true, "National Day"},
		{"2026-10-04", false, true, "National Day"},
		{"2026-10-05", false, true, "National Day, Monday"},
		{"2026-10-06", false, true, "National Day, Tuesday"},
		{"2026-10-07", false, true, "National Day, Wednesday"},
		{"2026-10-08", true, true, "first working day after National Day"},
		{"2026-10-10", true, true, "Saturday made a working day for National Day"},
		{"2026-10-11", false, true, "ordinary Sunday"},
		{"2026-12-24", true, true, "ordinary Thursday"},

		// A file may list the end of December before its year.
		{"2018-12-29", true, true, "Saturday made a working day for New Year's Day 2019"},
		{"2018-12-31", false, true, "Monday off for New Year's Day 2019"},
		{"2006-12-31", true, true, "Sunday made a working day for New Year's Day 2007"},

		// Unpublished: Monday to Friday, not known.
		{"2026-12-31", true, false, "Thursday; 2027's New Year's Day arrangement is not published"},
		{"2027-01-01", true, false, "Friday of an unpublished year"},
		{"2027-01-02", false, false, "Saturday of an unpublished year"},
		{"2006-10-02", true, false, "Monday of a year before the data"},
	}
	c := Builtin()
	for _, tt := range tests {
		t.Run(tt.date, func(t *testing.T) {
			working, known := c.WorkingDay(MustParseDate(tt.date))
			if working != tt.working || known != tt.known {
				t.Errorf("WorkingDay(%s) = %v, %v; want %v, %v (%s)", tt.date, working, known, tt.working, tt.known, tt.why)
			}
		})
	}
}

func TestPublished(t *testing.T) {
	c := Builtin()
	for year := 2000; year <= 2030; year++ {
		want := year >= 2007 && year <= 2026
		if got := c.Published(year); got != want {
			t.Errorf("Published(%d) = %v, want %v", year, got, want)
		}
	}
}

func TestAddWorkingDays(t *testing.T) {
	tests := []struct {
		name        string
		received    string
		n           int
		want        string
		provisional bool
	}{
		// Received on the Friday of Mid-Autumn, a day off. Counting from the
		// day after: 26-27 Sep off; 28, 29, 30 Sep = 1-3; 1-7 Oct off;
		// 8, 9 Oct = 4-5; Saturday 10 Oct (make-up) = 6; 12-16 Oct = 7-11;
		// 19, 20, 21, 22 Oct = 12-15.
		{"before National Day, on Mid-Autumn", "2026-09-25", 15, "2026-10-22", false},
		// 1-7 Oct off; 8, 9 Oct = 1-2; Saturday 10 Oct = 3; 12-16 Oct = 4-8;
		// 19-23 Oct = 9-13; 26, 27 Oct = 14-15.
		{"last working day before National Day", "2026-09-30", 15, "2026-10-27", false},
		// Received on a holiday: no working day falls between it and
		// 30 Sep, so the count runs as for 30 Sep.
		{"on a National Day holiday", "2026-10-03", 15, "2026-10-27", false},
		// Friday; Saturday 19 Sep off; Sunday 20 Sep (make-up) = 1;
		// 21-24 Sep = 2-5; 25-27 Sep off; 28-30 Sep = 6-8; 1-7 Oct off;
		// 8, 9 Oct = 9-10; Saturday 10 Oct = 11; 12-15 Oct = 12-15.
		{"Friday before a make-up Sunday", "2026-09-18", 15, "2026-10-15", false},
		// An ordinary Friday: 9-13, 16-20, 23-27 March.
		{"ordinary Friday", "2026-03-06", 15, "2026-03-27", false},
		// Friday; Saturday 14 Feb (make-up) = 1; 15-23 Feb off;
		// 24-27 Feb = 2-5; Saturday 28 Feb (make-up) = 6; 2-6 Mar = 7-11;
		// 9-12 Mar = 12-15.
		{"Friday before the Spring Festival", "2026-02-13", 15, "2026-03-12", false},
		// 1-4 Jan 2026: 1-3 off, Sunday 4 Jan (make-up) = 1.
		{"one day over New Year 2026", "2025-12-31", 1, "2026-01-04", false},
		// 2-4, 7-11, 14-18, 21, 22 Dec: all before the last days of
		// December, which 2027's arrangement could still change.
		{"December, clear of the new year", "2026-12-01", 15, "2026-12-22", false},
		{"December, reaching the new year's eve", "2026-12-01", 18, "2026-12-25", true},
		// Sunday; 21-25 Dec = 1-5; 28-31 Dec = 6-9; 2027 is unpublished,
		// so Friday 1 Jan = 10 and 4-8 Jan = 11-15, on weekdays only.
		{"into unpublished 2027", "2026-12-20", 15, "2027-01-08", true},
		{"a year before the data", "2006-06-01", 5, "2006-06-08", true},
		{"zero days", "2026-10-03", 0, "2026-10-03", false},
		{"negative days", "2026-10-03", -5, "2026-10-03", false},
	}
	c := Builtin()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			due, provisional := c.AddWorkingDays(MustParseDate(tt.received), tt.n)
			if due.String() != tt.want || provisional != tt.provisional {
				t.Errorf("AddWorkingDays(%s, %d) = %s, %v; want %s, %v", tt.received, tt.n, due, provisional, tt.want, tt.provisional)
			}
		})
	}
}

// TestWithNewYear loads 2027 at run time: a provisional due date becomes
// final and moves past the New Year's Day holiday.
func TestWithNewYear(t *testing.T) {
	old := Builtin()
	received := MustParseDate("2026-12-20")
	rule := Rule{Count: 15, Unit: WorkingDays}

	before, err := old.DueDate(received, rule)
	if err != nil {
		t.Fatal(err)
	}
	want := Due{Date: MustParseDate("2027-01-08"), Provisional: true, CalendarVersion: builtinVersion}
	if diff := cmp.Diff(want, before); diff != "" {
		t.Errorf("before: DueDate (-want +got):\n%s", diff)
	}

	next, err := old.With([]byte(file2027))
	if err != nil {
		t.Fatal(err)
	}
	after, err := next.DueDate(received, rule)
	if err != nil {
		t.Fatal(err)
	}
	// 21-25, 28-31 Dec = 1-9; Friday 1 Jan is now a holiday;
	// 4-8 Jan = 10-14; Monday 11 Jan = 15.
	want = Due{Date: MustParseDate("2027-01-11"), Provisional: false, CalendarVersion: next.Version()}
	if diff := cmp.Diff(want, after); diff != "" {
		t.Errorf("after: DueDate (-want +got):\n%s", diff)
	}
	if next.Version() == old.Version() {
		t.Errorf("Version() unchanged after adding 2027: %s", next.Version())
	}
	if !strings.HasPrefix(next.Version(), "holiday-cn@2027+sha256:") {
		t.Errorf("Version() = %s, want it to name 2027", next.Version())
	}
	if !next.Published(2027) || !next.Published(2026) {
		t.Errorf("Published(2027), Published(2026) = %v, %v; want both", next.Published(2027), next.Published(2026))
	}

	// The old calendar is untouched.
	if old.Version() != builtinVersion || old.Published(2027) {
		t.Errorf("old calendar changed: version %s, Published(2027) %v", old.Version(), old.Published(2027))
	}
	if got, _ := old.AddWorkingDays(received, 15); got != before.Date {
		t.Errorf("old calendar now gives %s, want %s", got, before.Date)
	}
}

// TestWithReplacesYear checks a file replaces its year wholesale rather
// than being merged into it.
func TestWithReplacesYear(t *testing.T) {
	bare := `{"year": 2026, "papers": ["https://example.gov.cn/withdrawn"], "days": [{"name": "国庆节", "date": "2026-10-01", "isOffDay": true}]}`
	c, err := Builtin().With([]byte(bare))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		date           string
		working, known bool
	}{
		{"2026-10-01", false, true}, // still listed
		{"2026-10-02", true, true},  // Friday, no longer listed
		{"2026-10-10", false, true}, // Saturday, no longer a make-up day
		{"2025-10-02", false, true}, // other years untouched
	}
	for _, tt := range tests {
		working, known := c.WorkingDay(MustParseDate(tt.date))
		if working != tt.working || known != tt.known {
			t.Errorf("WorkingDay(%s) = %v, %v; want %v, %v", tt.date, working, known, tt.working, tt.known)
		}
	}
}

func TestVersion(t *testing.T) {
	c := Builtin()
	if got := c.Version(); got != builtinVersion {
		t.Fatalf("Builtin().Version() = %s, want %s; update builtinVersion after checking the data change", got, builtinVersion)
	}

	raw, err := dataFS.ReadFile("data/2026.json")
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		same bool
	}{
		{"same data reformatted", compact.String(), true},
		{"same file again", string(raw), true},
		{"a day renamed", strings.Replace(string(raw), "中秋节", "中秋", 1), false},
		{"a day off made a working day", strings.Replace(string(raw), `"2026-10-07",
            "isOffDay": true`, `"2026-10-07",
            "isOffDay": false`, 1), false},
		{"a paper added", strings.Replace(string(raw), `"papers": [`, `"papers": ["https://www.gov.cn/corrigendum",`, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.same && tt.file == string(raw) {
				t.Fatal("the replacement did not apply; fix the test")
			}
			next, err := c.With([]byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if same := next.Version() == c.Version(); same != tt.same {
				t.Errorf("Version() = %s, was %s; want same %v", next.Version(), c.Version(), tt.same)
			}
		})
	}
}

func TestDataLicense(t *testing.T) {
	if got := DataLicense(); !strings.HasPrefix(got, "MIT License") || !strings.Contains(got, "NateScarlet") {
		t.Errorf("DataLicense() = %.60q…, want the MIT licence naming NateScarlet", got)
	}
}
