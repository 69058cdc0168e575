// Package keep is the table of what Custos keeps in its own database and
// for how long: the organisation's promise about Custos's own records,
// written once. The server's sweeps, the configuration's limits, the
// command line (custos retention records) and docs/retention.md all read
// it from here.
//
// A record whose period can be configured has a legal minimum: a period
// below it is refused when the configuration is read, so that no
// deployment deletes what the law requires it to keep.
package keep

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Record is one kind of record Custos keeps about people or their requests.
type Record struct {
	ID   string `json:"id"`
	What string `json:"what"`
	// Kept says how long, in words; Ends what ends it and how often.
	Kept string `json:"kept"`
	Ends string `json:"ends"`
	// Setting names the flag (and CUSTOS_ variable) that sets the period;
	// empty when it is fixed.
	Setting string `json:"setting,omitempty"`
	// Default is the period when Setting is not given.
	Default string `json:"default,omitempty"`
	// Minimum is the shortest period Setting accepts, and Basis the law that sets it.
	Minimum *manifest.Period `json:"minimum,omitempty"`
	Basis   string           `json:"basis,omitempty"`
}

// Forever is the value of a setting that keeps records without end.
const Forever = "forever"

// Requests is the record of rights requests: the request, its history,
// its one-time code and its recipient notices. It shows that the
// organisation answered, and PIPL art. 56 has processing records kept
// at least three years.
var Requests = Record{
	ID:      "requests",
	What:    "rights requests: the request, its history, its one-time code and its notices to recipients",
	Kept:    "from the day the request closed (completed, refused, cancelled, withdrawn, forwarded), or the day it took effect when later",
	Ends:    "deleted hourly once the period has passed, except a person's requests while a legal hold names them",
	Setting: "request-retention",
	Default: "3 years",
	Minimum: &manifest.Period{Count: 3, Unit: "years"},
	Basis:   "PIPL art. 56: records of processing are kept at least three years; the Civil Code's limitation period (art. 188) is three years",
}

// Trail is the audit trail with its decision records: who did what, when,
// from where and why. PIPL art. 56 has records of processing kept at
// least three years. A hash chain cannot lose its beginning and still
// verify, so it is cut only at a signed checkpoint, which vouches for
// what was cut.
var Trail = Record{
	ID:   "trail",
	What: "the audit trail, with its decision records",
	Kept: "the period, counted from each entry; without end by default",
	Ends: "cut hourly up to the last signed checkpoint older than the period, keeping the trail's first entry and its key rotations; " +
		"a legal hold keeps the entries from its period's start, or the whole trail when it has no start (datastore holds excepted); " +
		"nothing is cut without signed checkpoints to a file",
	Setting: "audit-retention",
	Default: Forever,
	Minimum: &manifest.Period{Count: 3, Unit: "years"},
	Basis:   "PIPL art. 56: records of processing are kept at least three years",
}

// Records lists every record Custos keeps, in the order of the documentation.
var Records = []Record{
	{ID: "sessions", What: "console sessions", Kept: "until they end: 30 minutes idle, or their absolute limit",
		Ends: "removed every five minutes"},
	{ID: "codes", What: "one-time codes, privacy-center sign-ins", Kept: "until used or expired",
		Ends: "removed when used, and when the person is erased"},
	{ID: "messages", What: "messages (outbox: codes, notices)", Kept: "until sent or given up, then the period",
		Ends: "key destroyed and row deleted hourly (custos outbox purge)", Setting: "outbox-retention", Default: "168h"},
	{ID: "bundles", What: "export bundles", Kept: "downloadable for 7 days",
		Ends: "deleted hourly once expired; unreadable before that when the person is erased (their key is destroyed)"},
	{ID: "vault", What: "vault values", Kept: "their category's retention period in the manifest",
		Ends: "deleted hourly (custos vault expire)"},
	Requests,
	{ID: "ledger", What: "the consent ledger",
		Kept: "without end: append-only and hash-chained, it proves what was agreed, and its events are the evidence of the consents in force",
		Ends: "not deleted; a person's erasure destroys their key, so what identifies them is unreadable"},
	Trail,
	{ID: "policies", What: "policy versions: each manifest as published, with its impact assessments",
		Kept: "without end: a person may ask which version they agreed to, and PIPL art. 56 has impact assessments kept at least three years",
		Ends: "not deleted: the organisation's own documents, no personal information"},
	{ID: "retention", What: "retention runs, erasure certificates, legal holds", Kept: "without end",
		Ends: "not deleted: counts and names only, no personal information"},
}

// Period is a configured period: Forever, or a count of days, months or years.
type Period struct {
	manifest.Period
	Forever bool
}

// String spells p as Parse reads it.
func (p Period) String() string {
	if p.Forever {
		return Forever
	}
	if p.Count == 1 {
		return "1 " + strings.TrimSuffix(p.Unit, "s")
	}
	return fmt.Sprintf("%d %s", p.Count, p.Unit)
}

// Cutoff is the instant before which a record kept p has been kept its
// whole period at now (manifest.Period.KeptFrom); ok is false for Forever.
func (p Period) Cutoff(now time.Time) (time.Time, bool) {
	if p.Forever {
		return time.Time{}, false
	}
	return p.KeptFrom(now)
}

// Parse reads a period: "forever", or a positive count and a unit
// (days, months, years; singular, plural or their first letter), with or
// without a space between: "3 years", "36months", "3y".
func Parse(s string) (Period, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == Forever {
		return Period{Forever: true}, nil
	}
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return Period{}, fmt.Errorf("%q is not a period such as 3 years, 18 months, 400 days or forever", s)
	}
	n, err := strconv.Atoi(s[:i])
	if err != nil || n <= 0 || n > 36600 {
		return Period{}, fmt.Errorf("%q is not a period: the count must be between 1 and 36600", s)
	}
	var unit string
	switch strings.TrimSpace(s[i:]) {
	case "d", "day", "days":
		unit = "days"
	case "mo", "month", "months":
		unit = "months"
	case "y", "year", "years":
		unit = "years"
	default:
		return Period{}, fmt.Errorf("%q is not a period: the unit is days, months or years", s)
	}
	return Period{Period: manifest.Period{Count: n, Unit: unit}}, nil
}

// ParseMessages reads how long settled messages stay in the outbox
// (--outbox-retention, an organisation's own): a positive Go duration
// such as 168h. The period is counted in hours, not in the days of Parse,
// because a message holds a person's address and, for a code, a secret:
// the shorter the better.
func ParseMessages(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a positive duration such as 72h or 168h", s)
	}
	return d, nil
}

// Check reports whether p may be configured for r: not below its minimum.
func (r Record) Check(p Period) error {
	if r.Minimum == nil || p.Forever || atLeast(p.Period, *r.Minimum) {
		return nil
	}
	return fmt.Errorf("%s is shorter than the %d %s the law requires for %s (%s)", p, r.Minimum.Count, r.Minimum.Unit, r.noun(), r.Basis)
}

// atLeast reports whether p lasts at least min whenever it starts:
// months and years compare exactly; a count of days must cover min's
// longest span (a month 31 days, a year 366), and a count of months or
// years must, at its shortest (28 days, 365), cover a count of days.
func atLeast(p, min manifest.Period) bool {
	months := func(q manifest.Period) int {
		if q.Unit == "years" {
			return 12 * q.Count
		}
		return q.Count
	}
	switch {
	case p.Unit != "days" && min.Unit != "days":
		return months(p) >= months(min)
	case p.Unit == "days" && min.Unit == "days":
		return p.Count >= min.Count
	case p.Unit == "days":
		longest := min.Count * 31
		if min.Unit == "years" {
			longest = min.Count * 366
		}
		return p.Count >= longest
	default:
		shortest := p.Count * 28
		if p.Unit == "years" {
			shortest = p.Count * 365
		}
		return shortest >= min.Count
	}
}

// Markdown is the table of Records as docs/retention.md shows it.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| record | kept | what ends it | setting |\n| --- | --- | --- | --- |\n")
	for _, r := range Records {
		setting := "fixed"
		if r.Setting != "" {
			setting = fmt.Sprintf("`--%s` (default %s", r.Setting, r.Default)
			if r.Minimum != nil {
				setting += fmt.Sprintf(", at least %d %s: %s", r.Minimum.Count, r.Minimum.Unit, r.Basis)
			}
			setting += ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.What, r.Kept, r.Ends, setting)
	}
	return b.String()
}

// noun names the record in a sentence: its description up to a colon or
// comma ("rights requests", "the audit trail").
func (r Record) noun() string {
	if i := strings.IndexAny(r.What, ":,"); i > 0 {
		return r.What[:i]
	}
	return r.What
}
