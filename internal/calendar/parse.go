package calendar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// ErrInvalid is wrapped by every error about malformed holiday data.
var ErrInvalid = errors.New("calendar: invalid holiday data")

// The PRC's national holiday rules date from December 1949; a file for an
// earlier year, or one past the four-digit dates the format uses, is a
// mistake rather than data.
const (
	minYear = 1949
	maxYear = 9999
)

// eveFrom is the first day of December that a year's file may list for the
// year before. The New Year's Day arrangement of a year can start in the
// last days of December before it (the 2019 file lists 2018-12-29..31), and
// that year's notice is the only source for them.
const eveFrom = 25

// yearFile is one year's data in the holiday-cn format. The JSON tags give
// the canonical form that Version hashes.
type yearFile struct {
	Year   int      `json:"year"`
	Papers []string `json:"papers"`
	Days   []day    `json:"days"` // sorted by date
}

// day is one listed date: a day off, or a weekend day worked in exchange.
type day struct {
	Name     string `json:"name"`
	Date     Date   `json:"date"`
	IsOffDay bool   `json:"isOffDay"`
}

// published reports whether the year has official data. holiday-cn ships
// an empty file for a year the State Council has not announced yet.
func (f *yearFile) published() bool { return len(f.Papers) > 0 || len(f.Days) > 0 }

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// parseFiles parses year files, refusing two files for one year.
func parseFiles(files [][]byte) (map[int]*yearFile, error) {
	years := make(map[int]*yearFile, len(files))
	for i, b := range files {
		f, err := parseYear(b)
		if err != nil {
			return nil, fmt.Errorf("%w (file %d)", err, i+1)
		}
		if _, dup := years[f.Year]; dup {
			return nil, invalidf("year %d: more than one file (file %d)", f.Year, i+1)
		}
		years[f.Year] = f
	}
	return years, nil
}

// parseYear parses one year file strictly: exact field names, each once,
// all required fields present and none null, nothing after the object.
// encoding/json alone would match field names case-insensitively and let a
// repeated field silently replace the first.
func parseYear(b []byte) (*yearFile, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	var (
		f                           yearFile
		rawDays                     json.RawMessage
		hasYear, hasPapers, hasDays bool
		unknown                     string
	)
	err := readObject(dec, func(key string, raw json.RawMessage) error {
		switch key {
		case "$schema", "$id":
			var s string
			return json.Unmarshal(raw, &s)
		case "year":
			err := json.Unmarshal(raw, &f.Year)
			hasYear = err == nil
			return err
		case "papers":
			hasPapers = true
			return json.Unmarshal(raw, &f.Papers)
		case "days":
			hasDays, rawDays = true, raw
			return nil
		}
		if unknown == "" {
			unknown = key
		}
		return nil
	})
	if err == nil {
		err = atEnd(dec)
	}
	switch {
	case err != nil && hasYear:
		return nil, invalidf("year %d: %v", f.Year, err)
	case err != nil:
		return nil, invalidf("%v", err)
	case !hasYear:
		return nil, invalidf("missing field \"year\"")
	case f.Year < minYear || f.Year > maxYear:
		return nil, invalidf("year %d: outside %d..%d", f.Year, minYear, maxYear)
	case unknown != "":
		return nil, invalidf("year %d: unknown field %q", f.Year, unknown)
	case !hasPapers:
		return nil, invalidf("year %d: missing field \"papers\"", f.Year)
	case !hasDays:
		return nil, invalidf("year %d: missing field \"days\"", f.Year)
	}
	for _, p := range f.Papers {
		if p == "" {
			return nil, invalidf("year %d: empty entry in \"papers\"", f.Year)
		}
	}
	if f.Days, err = parseDays(f.Year, rawDays); err != nil {
		return nil, err
	}
	return &f, nil
}

// atEnd checks that nothing but white space follows the value just read.
func atEnd(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the object")
	}
	return nil
}

// parseDays parses and checks the days of the file for year.
func parseDays(year int, raw json.RawMessage) ([]day, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, invalidf("year %d: \"days\" is not an array", year)
	}
	var days []day
	seen := map[Date]bool{}
	for i := 1; dec.More(); i++ {
		d, err := parseDay(year, i, dec)
		if err != nil {
			return nil, err
		}
		if seen[d.Date] {
			return nil, invalidf("year %d: day %s: listed twice", year, d.Date)
		}
		seen[d.Date] = true
		days = append(days, d)
	}
	slices.SortFunc(days, func(a, b day) int { return a.Date.Compare(b.Date) })
	return days, nil
}

// parseDay reads entry i of the "days" of the file for year. Its errors
// name the entry by its date, or by its position until the date is known.
func parseDay(year, i int, dec *json.Decoder) (day, error) {
	var (
		name, date *string
		off        *bool
		unknown    string
	)
	err := readObject(dec, func(key string, raw json.RawMessage) error {
		switch key {
		case "name":
			return json.Unmarshal(raw, &name)
		case "date":
			return json.Unmarshal(raw, &date)
		case "isOffDay":
			return json.Unmarshal(raw, &off)
		}
		if unknown == "" {
			unknown = key
		}
		return nil
	})
	where := fmt.Sprintf("#%d", i)
	if date != nil {
		where = *date
	}
	if err != nil {
		return day{}, invalidf("year %d: day %s: %v", year, where, err)
	}
	if date == nil {
		return day{}, invalidf("year %d: day %s: missing field \"date\"", year, where)
	}
	d, err := ParseDate(*date)
	if err != nil {
		return day{}, invalidf("year %d: day #%d: date %q is not a valid YYYY-MM-DD date", year, i, *date)
	}
	inYear := d.Year == year
	onEve := d.Year == year-1 && d.Month == time.December && d.Day >= eveFrom
	switch {
	case unknown != "":
		return day{}, invalidf("year %d: day %s: unknown field %q", year, where, unknown)
	case !inYear && !onEve:
		return day{}, invalidf("year %d: day %s: outside the year", year, where)
	case name == nil:
		return day{}, invalidf("year %d: day %s: missing field \"name\"", year, where)
	case off == nil:
		return day{}, invalidf("year %d: day %s: missing field \"isOffDay\"", year, where)
	}
	return day{Name: *name, Date: d, IsOffDay: *off}, nil
}

// readObject reads one JSON object from dec and hands each member to field.
// It rejects a repeated member and a null value, which encoding/json would
// accept without a trace.
func readObject(dec *json.Decoder, field func(key string, raw json.RawMessage) error) error {
	tok, err := dec.Token()
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string) // Token returns member names as strings
		if seen[key] {
			return fmt.Errorf("field %q given twice", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err
		}
		if bytes.Equal(raw, []byte("null")) {
			return fmt.Errorf("field %q is null", key)
		}
		if err := field(key, raw); err != nil {
			return fmt.Errorf("field %q: %v", key, err)
		}
	}
	_, err = dec.Token()
	return err
}
