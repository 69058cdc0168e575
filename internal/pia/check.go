package pia

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/manifest"
)

// Status is where one assessment stands.
type Status struct {
	ID         string   `json:"id"`
	Activities []string `json:"activities"`
	Date       string   `json:"date"`
	Risk       string   `json:"risk"`
	// Current is false when the assessment is due for review; Due says why.
	Current bool     `json:"current"`
	Due     []string `json:"due,omitempty"`
	// Digest is the fingerprint of the activities as they are now; Recorded
	// the one the assessment was made against.
	Digest   string `json:"digest"`
	Recorded string `json:"recorded,omitempty"`
}

// Statuses says, for each assessment of m, whether it is current at today.
func Statuses(m *manifest.Manifest, today time.Time) []Status {
	var out []Status
	for _, a := range m.Assessments {
		s := Status{ID: a.ID, Activities: a.Activities, Date: string(a.Date), Risk: a.Risk, Current: true, Recorded: a.Digest}
		if len(a.Activities) > 0 {
			s.Digest = Digest(m, a.Activities)
			if a.Digest != "" && a.Digest != s.Digest {
				s.Due = append(s.Due, fmt.Sprintf("material change since %s", a.Date))
			}
		}
		if a.Review != nil && a.Review.Count > 0 {
			if due, ok := reviewDue(a.Date, *a.Review); ok && !today.In(calendar.China).Before(due) {
				s.Due = append(s.Due, fmt.Sprintf("older than its review period of %d %s (due %s)", a.Review.Count, a.Review.Unit, due.Format(time.DateOnly)))
			}
		}
		s.Current = len(s.Due) == 0
		out = append(out, s)
	}
	return out
}

// reviewDue is the first day an assessment made on date is due again.
func reviewDue(date manifest.Date, p manifest.Period) (time.Time, bool) {
	d, err := time.ParseInLocation(time.DateOnly, string(date), calendar.China)
	if err != nil {
		return time.Time{}, false
	}
	switch p.Unit {
	case "days":
		return d.AddDate(0, 0, p.Count), true
	case "months":
		return d.AddDate(0, p.Count, 0), true
	case "years":
		return d.AddDate(p.Count, 0, 0), true
	}
	return time.Time{}, false
}

// Check reports, at the manifest's own lines, each activity that needs an
// assessment and has no current one (naming the activity and the reasons),
// each assessment due for review (a material change since it was made, or
// its review period passed) and each that covers activities without a
// digest. These are for the organisation to act on; they do not make the
// manifest invalid (see custos validate --require-assessments).
func Check(m *manifest.Manifest, today time.Time) manifest.Problems {
	var ps manifest.Problems
	statuses := Statuses(m, today)
	covered := map[string]bool{}
	for i, s := range statuses {
		path := fmt.Sprintf("assessments[%d]", i)
		if !s.Current {
			at := path
			if slices.ContainsFunc(s.Due, func(d string) bool { return strings.HasPrefix(d, "material") }) {
				at = path + ".digest"
			}
			ps = append(ps, m.ProblemAt(at, "assessment %s is due for review: %s (activities: %s; custos pia draft --activity %s writes the current digest once it is reviewed)",
				s.ID, strings.Join(s.Due, "; "), strings.Join(s.Activities, ", "), s.Activities[0]))
			continue
		}
		for _, a := range s.Activities {
			covered[a] = true
		}
		if todo := drafted(m.Assessments[i]); len(todo) > 0 {
			ps = append(ps, m.ProblemAt(path, "assessment %s is still a draft: %s say TODO; the assessor writes them", s.ID, strings.Join(todo, ", ")))
		}
		if len(s.Activities) > 0 && s.Recorded == "" {
			ps = append(ps, m.ProblemAt(path, "assessment %s has no digest, so a material change to %s cannot be told: add the digest custos pia draft writes for them",
				s.ID, strings.Join(s.Activities, ", ")))
		}
	}
	ts := Triggers(m)
	for _, act := range Activities(ts) {
		if covered[act] {
			continue
		}
		if slices.ContainsFunc(statuses, func(s Status) bool { return slices.Contains(s.Activities, act) }) {
			continue // its assessment is due, and said so above
		}
		var why []string
		for _, t := range ts {
			if t.Activity == act {
				why = append(why, t.Describe("en"))
			}
		}
		ps = append(ps, m.ProblemAt(activityPath(m, act), "activity %s needs a personal-information protection impact assessment and none covers it: %s (custos pia draft --activity %s)",
			act, strings.Join(why, "; "), act))
	}
	slices.SortStableFunc(ps, func(a, b manifest.Problem) int {
		if a.Pos.Line != b.Pos.Line {
			return a.Pos.Line - b.Pos.Line
		}
		return a.Pos.Col - b.Pos.Col
	})
	return ps
}

// drafted lists the fields of a an assessor has yet to write: those still
// saying TODO, as custos pia draft leaves them.
func drafted(a manifest.Assessment) []string {
	var out []string
	for _, f := range []struct {
		name string
		text manifest.Text
	}{{"subject", a.Subject}, {"assessor", a.Assessor}, {"scope", a.Scope}, {"lawfulness", a.Lawfulness}, {"impact", a.Impact}, {"measures", a.Measures}, {"conclusion", a.Conclusion}} {
		for _, v := range f.text {
			if strings.Contains(v, "TODO") {
				out = append(out, f.name)
				break
			}
		}
	}
	return out
}

// activityPath is where an activity is written in the manifest.
func activityPath(m *manifest.Manifest, activity string) string {
	if activity == manifest.PublicDisclosureActivity {
		return "sharing.public_disclosure"
	}
	for i, p := range m.Purposes {
		if p.ID == activity {
			return fmt.Sprintf("purposes[%d].id", i)
		}
	}
	return "purposes"
}
