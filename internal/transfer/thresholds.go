package transfer

import (
	"fmt"
	"math"
	"time"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Thresholds are the yearly numbers of people at which exports from CN
// need a stronger mechanism (manifest storage.transfer_thresholds).
type Thresholds struct {
	// ContractFrom: from this many people whose other personal
	// information goes abroad, a standard contract or certification.
	ContractFrom int64 `json:"contract_from"`
	// AssessmentAbove: above this many, a security assessment.
	AssessmentAbove int64 `json:"assessment_above"`
	// SensitiveAssessmentFrom: from this many people whose sensitive
	// personal information goes abroad, a security assessment; from one,
	// a standard contract or certification.
	SensitiveAssessmentFrom int64 `json:"sensitive_assessment_from"`
}

// CAC are the thresholds of the CAC Provisions on Promoting and
// Regulating Cross-Border Data Flows (2024), arts. 5, 7 and 8.
var CAC = Thresholds{ContractFrom: 100_000, AssessmentAbove: 1_000_000, SensitiveAssessmentFrom: 10_000}

// ThresholdsOf returns the manifest's thresholds, CAC where it sets none.
func ThresholdsOf(m *manifest.Manifest) Thresholds {
	t := CAC
	if mt := m.Storage.Thresholds; mt != nil {
		if mt.ContractFrom > 0 {
			t.ContractFrom = int64(mt.ContractFrom)
		}
		if mt.AssessmentAbove > 0 {
			t.AssessmentAbove = int64(mt.AssessmentAbove)
		}
		if mt.SensitiveAssessmentFrom > 0 {
			t.SensitiveAssessmentFrom = int64(mt.SensitiveAssessmentFrom)
		}
	}
	return t
}

// rank orders mechanisms by what they suffice for: a security assessment
// covers every volume, a standard contract or certification the middle
// band, anything else (an exemption, consent, a foreign mechanism) only
// the exempt band.
func rank(mechanism string) int {
	switch mechanism {
	case MechanismAssessment:
		return 2
	case MechanismContract, "certification":
		return 1
	}
	return 0
}

// Sufficient reports whether the declared mechanism covers the one needed.
func Sufficient(declared, needed string) bool { return rank(declared) >= rank(needed) }

// People are numbers of distinct people counted in a year.
type People struct {
	People    int64 `json:"people"`
	Sensitive int64 `json:"sensitive"` // whose sensitive personal information went abroad
	Ordinary  int64 `json:"ordinary"`  // whose other personal information went abroad
}

// Needed returns the mechanism a flow needs when the organisation has
// provided abroad, this year, the personal information of the people in
// total: the thresholds count the organisation's exports as a whole, so
// every flow from CN of the same kind of information needs what the
// total calls for. Flows from elsewhere answer "" (not CN law).
func (t Thresholds) Needed(f Flow, total People) string {
	if f.From != DefaultFrom {
		return ""
	}
	need := MechanismExempt
	raise := func(m string) {
		if rank(m) > rank(need) {
			need = m
		}
	}
	if f.Ordinary() {
		switch {
		case total.Ordinary > t.AssessmentAbove:
			raise(MechanismAssessment)
		case total.Ordinary >= t.ContractFrom:
			raise(MechanismContract)
		}
	}
	if f.Sensitive() {
		switch {
		case total.Sensitive >= t.SensitiveAssessmentFrom:
			raise(MechanismAssessment)
		case total.Sensitive > 0:
			raise(MechanismContract)
		}
	}
	return need
}

// Limit is one threshold: Kind of information (ordinary, sensitive),
// the mechanism it calls for, and the number of people at which it is
// crossed.
type Limit struct {
	Kind      string `json:"kind"`
	Mechanism string `json:"mechanism"`
	At        int64  `json:"at"`
}

// Name is the limit's stable name, as alerts are stored: ordinary.standard_contract.
func (l Limit) Name() string { return l.Kind + "." + l.Mechanism }

// Limits are the thresholds as limits crossed at a number of people.
func (t Thresholds) Limits() []Limit {
	return []Limit{
		{"ordinary", MechanismContract, t.ContractFrom},
		{"ordinary", MechanismAssessment, t.AssessmentAbove + 1},
		{"sensitive", MechanismContract, 1},
		{"sensitive", MechanismAssessment, t.SensitiveAssessmentFrom},
	}
}

// China is the time zone the calendar year is counted in.
var China = time.FixedZone("CST", 8*3600)

// YearOf is the calendar year of t in China.
func YearOf(t time.Time) int { return t.In(China).Year() }

// yearBounds returns the start of year and of the next, in China.
func yearBounds(year int) (time.Time, time.Time) {
	return time.Date(year, 1, 1, 0, 0, 0, 0, China), time.Date(year+1, 1, 1, 0, 0, 0, 0, China)
}

// minElapsed keeps the first days of a year from projecting a handful
// of people into a flood.
const minElapsed = 7 * 24 * time.Hour

// Project returns n people counted by now in year, projected at the
// year's rate so far to 31 December. A past year projects to what it
// counted.
func Project(n int64, year int, now time.Time) int64 {
	start, end := yearBounds(year)
	if !now.Before(end) || n == 0 {
		return n
	}
	elapsed := max(now.Sub(start), minElapsed)
	p := math.Ceil(float64(n) * float64(end.Sub(start)) / float64(elapsed))
	return max(n, int64(p))
}

// Problems returns a manifest problem for every flow whose declared
// mechanism no longer suffices for the people counted this year, placed
// at the flow's entry (FILE:LINE:COL when m was read from a file).
func Problems(m *manifest.Manifest, reg *Register, total People) manifest.Problems {
	var ps manifest.Problems
	for _, f := range reg.Flows {
		need := reg.Thresholds.Needed(f, total)
		if need == "" || Sufficient(f.Mechanism, need) {
			continue
		}
		count := fmt.Sprintf("%d people's personal information", total.Ordinary)
		if f.Sensitive() && total.Sensitive > 0 {
			count = fmt.Sprintf("%d people's personal information, %d of them sensitive,", max(total.Ordinary, total.Sensitive), total.Sensitive)
		}
		if f.Kind == KindCrossBorder {
			declared := f.Mechanism
			ps = append(ps, m.ProblemAt(f.path+".mechanism", "cross-border transfer %q rests on %s, but %s went abroad this year: it needs %s (CAC Provisions on Cross-Border Data Flows, 2024)",
				f.ID, declared, count, need))
			continue
		}
		ps = append(ps, m.ProblemAt(f.path, "%s goes abroad with no storage.cross_border entry declaring its mechanism, and %s went abroad this year: it needs %s (CAC Provisions on Cross-Border Data Flows, 2024)",
			f.ID, count, need))
	}
	return ps
}
