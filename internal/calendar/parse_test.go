package calendar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"
)

// yearJSON builds a year file around the given "days" entries.
func yearJSON(year int, days ...string) string {
	return fmt.Sprintf(`{"year": %d, "papers": ["https://www.gov.cn/notice"], "days": [%s]}`, year, strings.Join(days, ", "))
}

func TestParseRejects(t *testing.T) {
	const ok = `{"name": "国庆节", "date": "2026-10-01", "isOffDay": true}`
	tests := []struct {
		name  string
		files []string
		// want are fragments the error must contain, such as the year and
		// the date at fault.
		want []string
	}{
		{"no files", nil, []string{"no year files"}},
		{"empty file", []string{""}, []string{"unexpected EOF", "file 1"}},
		{"not JSON", []string{"year: 2026"}, []string{"invalid character"}},
		{"an array", []string{"[]"}, []string{"not a JSON object"}},
		{"truncated", []string{`{"year": 2026, "papers": [`}, []string{"year 2026", "unexpected EOF"}},
		{"two objects", []string{yearJSON(2026) + " {}"}, []string{"year 2026", "data after the object"}},
		{"garbage after the object", []string{yearJSON(2026) + " x"}, []string{"data after the object"}},
		{"missing year", []string{`{"papers": [], "days": []}`}, []string{`missing field "year"`}},
		{"missing papers", []string{`{"year": 2026, "days": []}`}, []string{"year 2026", `missing field "papers"`}},
		{"missing days", []string{`{"year": 2026, "papers": []}`}, []string{"year 2026", `missing field "days"`}},
		{"unknown field", []string{`{"year": 2026, "papers": [], "days": [], "holidays": []}`}, []string{"year 2026", `unknown field "holidays"`}},
		{"field in another case", []string{`{"year": 2026, "Year": 2025, "papers": [], "days": []}`}, []string{"year 2026", `unknown field "Year"`}},
		{"field twice", []string{`{"year": 2026, "papers": [], "days": [], "days": []}`}, []string{"year 2026", `field "days" given twice`}},
		{"null papers", []string{`{"year": 2026, "papers": null, "days": []}`}, []string{"year 2026", `field "papers" is null`}},
		{"empty paper", []string{`{"year": 2026, "papers": [""], "days": []}`}, []string{"year 2026", "empty entry"}},
		{"paper not a string", []string{`{"year": 2026, "papers": [1], "days": []}`}, []string{"year 2026", `field "papers"`}},
		{"fractional year", []string{`{"year": 2026.5, "papers": [], "days": []}`}, []string{`field "year"`, "2026.5"}},
		{"year as a string", []string{`{"year": "2026", "papers": [], "days": []}`}, []string{`field "year"`}},
		{"year before 1949", []string{`{"year": 1900, "papers": [], "days": []}`}, []string{"year 1900", "outside 1949..9999"}},
		{"year past 9999", []string{`{"year": 10000, "papers": [], "days": []}`}, []string{"year 10000", "outside"}},
		{"days not an array", []string{`{"year": 2026, "papers": [], "days": {}}`}, []string{"year 2026", `"days" is not an array`}},
		{"day not an object", []string{yearJSON(2026, "1")}, []string{"year 2026", "day #1", "not a JSON object"}},
		{"day with an unknown field", []string{yearJSON(2026, ok, `{"isWorkDay": false, "name": "国庆节", "date": "2026-10-10", "isOffDay": false}`)}, []string{"year 2026", "day 2026-10-10", `unknown field "isWorkDay"`}},
		{"day missing isOffDay", []string{yearJSON(2026, `{"name": "国庆节", "date": "2026-10-02"}`)}, []string{"year 2026", "day 2026-10-02", `missing field "isOffDay"`}},
		{"day missing name", []string{yearJSON(2026, `{"date": "2026-10-02", "isOffDay": true}`)}, []string{"year 2026", "day 2026-10-02", `missing field "name"`}},
		{"day missing date", []string{yearJSON(2026, ok, `{"name": "国庆节", "isOffDay": true}`)}, []string{"year 2026", "day #2", `missing field "date"`}},
		{"null isOffDay", []string{yearJSON(2026, `{"name": "国庆节", "date": "2026-10-02", "isOffDay": null}`)}, []string{"year 2026", "day 2026-10-02", `field "isOffDay" is null`}},
		{"isOffDay as a string", []string{yearJSON(2026, `{"name": "国庆节", "date": "2026-10-02", "isOffDay": "true"}`)}, []string{"year 2026", "day 2026-10-02", `field "isOffDay"`}},
		{"date field twice", []string{yearJSON(2026, `{"name": "国庆节", "date": "2026-10-02", "date": "2026-10-03", "isOffDay": true}`)}, []string{"year 2026", `field "date" given twice`}},
		{"impossible date", []string{yearJSON(2026, `{"name": "春节", "date": "2026-02-30", "isOffDay": true}`)}, []string{"year 2026", "day #1", `"2026-02-30" is not a valid`}},
		{"unpadded date", []string{yearJSON(2026, `{"name": "元旦", "date": "2026-1-1", "isOffDay": true}`)}, []string{"year 2026", `"2026-1-1"`}},
		{"date with a time", []string{yearJSON(2026, `{"name": "元旦", "date": "2026-01-01T00:00:00+08:00", "isOffDay": true}`)}, []string{"year 2026", "not a valid"}},
		{"date in the next year", []string{yearJSON(2026, `{"name": "元旦", "date": "2027-01-01", "isOffDay": true}`)}, []string{"year 2026", "day 2027-01-01", "outside the year"}},
		{"date early in the year before", []string{yearJSON(2026, `{"name": "元旦", "date": "2025-12-24", "isOffDay": true}`)}, []string{"year 2026", "day 2025-12-24", "outside the year"}},
		{"date two years before", []string{yearJSON(2026, `{"name": "元旦", "date": "2024-12-31", "isOffDay": true}`)}, []string{"year 2026", "day 2024-12-31", "outside the year"}},
		{"date listed twice", []string{yearJSON(2026, ok, `{"name": "国庆节", "date": "2026-10-01", "isOffDay": false}`)}, []string{"year 2026", "day 2026-10-01", "listed twice"}},
		{"two files for a year", []string{yearJSON(2026), yearJSON(2025), yearJSON(2026, ok)}, []string{"year 2026", "more than one file", "file 3"}},
		{"error in the second file", []string{yearJSON(2025), `{"year": 2026}`}, []string{"year 2026", "file 2"}},
		{"files disagree about a date", []string{
			yearJSON(2026, `{"name": "元旦", "date": "2026-12-31", "isOffDay": false}`),
			yearJSON(2027, `{"name": "元旦", "date": "2026-12-31", "isOffDay": true}`),
		}, []string{"year 2026 and year 2027 disagree about 2026-12-31"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := make([][]byte, len(tt.files))
			for i, f := range tt.files {
				files[i] = []byte(f)
			}
			c, err := Parse(files...)
			if err == nil {
				t.Fatalf("Parse succeeded (version %s), want an error", c.Version())
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Parse error %q does not wrap ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse error %q does not contain %q", err, w)
				}
			}
			// With is as strict, and leaves the calendar it extends alone.
			if len(files) > 0 {
				if _, err := Builtin().With(files...); err == nil {
					t.Error("With succeeded, want an error")
				}
			}
		})
	}
	if Builtin().Version() != builtinVersion {
		t.Errorf("Builtin().Version() = %s after failed With calls, want %s", Builtin().Version(), builtinVersion)
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		date      string
		working   bool
		published bool
	}{
		{"holiday-cn header fields", `{"$schema": "https://example.org/schema.json", "$id": "https://example.org/2026.json", "year": 2026, "papers": [], "days": [{"name": "国庆节", "date": "2026-10-01", "isOffDay": true}]}`, "2026-10-01", false, true},
		{"fields in any order", `{"days": [{"isOffDay": false, "date": "2026-10-10", "name": "国庆节"}], "papers": [], "year": 2026}`, "2026-10-10", true, true},
		{"the end of the year before", yearJSON(2026, `{"name": "元旦", "date": "2025-12-25", "isOffDay": true}`), "2025-12-25", false, true},
		{"a make-up day on a weekday, as 3 Feb 2020", yearJSON(2020, `{"name": "春节", "date": "2020-02-03", "isOffDay": false}`), "2020-02-03", true, true},
		{"an empty name", yearJSON(2026, `{"name": "", "date": "2026-10-01", "isOffDay": true}`), "2026-10-01", false, true},
		{"an unpublished year", `{"year": 2027, "papers": [], "days": []}` + "\n", "2027-01-01", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			d := MustParseDate(tt.date)
			working, known := c.WorkingDay(d)
			if working != tt.working || known != tt.published {
				t.Errorf("WorkingDay(%s) = %v, %v; want %v, %v", tt.date, working, known, tt.working, tt.published)
			}
		})
	}
}

// TestBuiltinFiles checks every embedded file parses on its own, so a bad
// file is named rather than failing Builtin as a whole.
func TestBuiltinFiles(t *testing.T) {
	names, err := fs.Glob(dataFS, "data/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 21 {
		t.Errorf("%d embedded year files, want 21 (2007-2027)", len(names))
	}
	for _, name := range names {
		b, err := dataFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	// A few real files, compacted: large seeds slow the fuzzer down while
	// it minimises each new input.
	for _, year := range []int{2019, 2020, 2026, 2027} {
		b, err := dataFS.ReadFile(fmt.Sprintf("data/%d.json", year))
		if err != nil {
			f.Fatal(err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil {
			f.Fatal(err)
		}
		f.Add(compact.Bytes(), year, 10, 1)
	}
	f.Add([]byte(file2027), 2027, 1, 1)
	f.Add([]byte(yearJSON(2026, `{"name": "元旦", "date": "2025-12-31", "isOffDay": true}`)), 2025, 12, 31)
	f.Add([]byte(`{"year": 2026, "papers": [], "days": [{"date": "2026-02-30"}]}`), 2026, 2, 30)
	f.Add([]byte(`{"year": 9999, "papers": ["x"], "days": []}`), 9999, 12, 31)
	f.Add([]byte(`{"year":`), 0, 0, 0)

	f.Fuzz(func(t *testing.T, data []byte, year, month, dayOfMonth int) {
		c, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Parse error %q does not wrap ErrInvalid", err)
			}
			return
		}
		if !strings.HasPrefix(c.Version(), "holiday-cn@") {
			t.Fatalf("Version() = %q", c.Version())
		}
		again, err := Parse(data)
		if err != nil || again.Version() != c.Version() {
			t.Fatalf("second Parse = %v, %v; want version %s", again, err, c.Version())
		}
		// Any date, even a nonsensical one, has an answer.
		c.WorkingDay(Date{Year: year, Month: time.Month(month), Day: dayOfMonth})
		for y, file := range c.years {
			for _, d := range file.Days {
				working, known := c.WorkingDay(d.Date)
				if working == d.IsOffDay || !known {
					t.Fatalf("WorkingDay(%s) = %v, %v; the file has isOffDay %v", d.Date, working, known, d.IsOffDay)
				}
			}
			start := Date{Year: y - 1, Month: time.December, Day: 1}
			for d := start; d.Before(Date{Year: y + 1, Month: time.February, Day: 1}); d = d.AddDays(1) {
				c.WorkingDay(d)
			}
			due, _ := c.AddWorkingDays(start, 30)
			if !due.After(start) {
				t.Fatalf("AddWorkingDays(%s, 30) = %s, not after it", start, due)
			}
		}
	})
}
