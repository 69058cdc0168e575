// Package calendar computes legal deadlines for data-subject requests: in
// calendar days, in months, and in working days on the PRC working-day
// calendar, whose holidays and make-up working days the State Council
// announces a year at a time.
//
// The calendar data is the holiday-cn project's (see data/README.md). A
// deadline that reaches into a year not yet announced is computed on a
// Monday-to-Friday week and marked provisional, to be recomputed once a
// newer calendar is loaded with Calendar.With.
package calendar

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"
)

//go:embed data/*.json
var dataFS embed.FS

//go:embed data/LICENSE
var dataLicense string

// Calendar is a set of year files of the PRC working-day calendar. It is
// immutable and safe for concurrent use; With returns a new one.
type Calendar struct {
	years   map[int]*yearFile
	days    map[Date]bool // every listed date: true for a day off, false for a make-up working day
	version string
}

var builtin = sync.OnceValue(func() *Calendar {
	names, err := fs.Glob(dataFS, "data/*.json")
	if err != nil {
		panic(err)
	}
	files := make([][]byte, 0, len(names))
	for _, name := range names {
		b, err := dataFS.ReadFile(name)
		if err != nil {
			panic(err)
		}
		files = append(files, b)
	}
	c, err := Parse(files...)
	if err != nil {
		// The embedded files are checked by the package's tests.
		panic(err)
	}
	return c
})

// Builtin returns the calendar embedded in the binary.
func Builtin() *Calendar { return builtin() }

// DataLicense returns the licence of the embedded calendar data, to ship
// with notices for the binary.
func DataLicense() string { return dataLicense }

// Parse builds a calendar from one or more year files in the holiday-cn
// format. It is strict: malformed JSON, unknown or repeated fields, a date
// outside its year, a date listed twice, two files for one year or two
// files that disagree about a date are errors wrapping ErrInvalid.
func Parse(files ...[]byte) (*Calendar, error) {
	if len(files) == 0 {
		return nil, invalidf("no year files")
	}
	years, err := parseFiles(files)
	if err != nil {
		return nil, err
	}
	return build(years)
}

// With returns a new calendar holding c's years plus the given year files.
// A file replaces c's data for its year wholesale, so a year announced
// after the binary was built can be loaded at run time. c is unchanged.
func (c *Calendar) With(files ...[]byte) (*Calendar, error) {
	add, err := parseFiles(files)
	if err != nil {
		return nil, err
	}
	years := maps.Clone(c.years)
	maps.Copy(years, add)
	return build(years)
}

func build(years map[int]*yearFile) (*Calendar, error) {
	c := &Calendar{years: years, days: map[Date]bool{}}
	owner := map[Date]int{}
	for _, y := range slices.Sorted(maps.Keys(years)) {
		for _, d := range years[y].Days {
			if off, ok := c.days[d.Date]; ok && off != d.IsOffDay {
				return nil, invalidf("year %d and year %d disagree about %s", owner[d.Date], y, d.Date)
			}
			c.days[d.Date], owner[d.Date] = d.IsOffDay, y
		}
	}
	c.version = version(years)
	return c, nil
}

// version names the data: the latest announced year, then a hash of the
// canonical form of every year file, so reformatting a file keeps the
// version and changing any date, name or paper changes it.
func version(years map[int]*yearFile) string {
	h := sha256.New()
	latest := "none"
	for _, y := range slices.Sorted(maps.Keys(years)) {
		b, err := json.Marshal(years[y])
		if err != nil {
			panic(err) // plain strings, ints and bools always marshal
		}
		h.Write(b)
		h.Write([]byte{'\n'})
		if years[y].published() {
			latest = strconv.Itoa(y)
		}
	}
	return "holiday-cn@" + latest + "+sha256:" + hex.EncodeToString(h.Sum(nil))[:12]
}

// Version identifies the calendar data, e.g.
// "holiday-cn@2026+sha256:0123456789ab". Store it with a computed due date
// to know which data the date rests on.
func (c *Calendar) Version() string { return c.version }

// Published reports whether the calendar holds the official arrangement for
// year.
func (c *Calendar) Published(year int) bool {
	f := c.years[year]
	return f != nil && f.published()
}

// WorkingDay reports whether d is a working day in mainland China. known
// is false when the arrangement for d has not been published: then working
// is true from Monday to Friday. The last days of December count as
// unpublished until the next year is, since its New Year's Day arrangement
// may give them off or make one of them a make-up working day.
func (c *Calendar) WorkingDay(d Date) (working, known bool) {
	d = d.normal()
	if off, ok := c.days[d]; ok {
		return !off, true
	}
	wd := d.Weekday()
	working = wd != time.Saturday && wd != time.Sunday
	known = c.Published(d.Year)
	if d.Month == time.December && d.Day >= eveFrom {
		known = known && c.Published(d.Year+1)
	}
	return working, known
}

// AddWorkingDays returns the date n working days after received. The count
// starts the day after receipt, whatever day received is. provisional is
// true when any day from the day after receipt to the due date is not
// known, so the due date may move once its year is published. An n of 0
// or less returns received.
func (c *Calendar) AddWorkingDays(received Date, n int) (due Date, provisional bool) {
	due = received.normal()
	for n > 0 {
		due = due.AddDays(1)
		working, known := c.WorkingDay(due)
		if !known {
			provisional = true
		}
		if working {
			n--
		}
	}
	return due, provisional
}
