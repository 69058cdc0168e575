package incident

import (
	"time"

	"github.com/custos-privacy/custos/internal/manifest"
)

// Clocks, by name.
const (
	// ClockCNRegulator: an incident rated relatively serious or graver is
	// reported to the regulator within 4 hours of its discovery, 1 hour for
	// an operator of critical information infrastructure.
	ClockCNRegulator = "cn_regulator"
	// ClockCNSubjects: the people are told promptly (PIPL art. 57), within
	// the policy's notice_within.
	ClockCNSubjects = "cn_subjects"
	// ClockEUAuthority: the supervisory authority within 72 hours of
	// awareness unless the breach is unlikely to result in a risk (GDPR
	// art. 33(1)).
	ClockEUAuthority = "eu_authority"
	// ClockEUSubjects: the people without undue delay when the risk is
	// high (GDPR art. 34(1)), within the policy's notice_within.
	ClockEUSubjects = "eu_subjects"
)

// Stages of a clock.
const (
	StageRunning = "running" // before its warning window
	StageWarning = "warning" // within the last quarter of its period
	StageOverdue = "overdue" // past its deadline, not met
	StageMet     = "met"     // met by its deadline
	StageLate    = "met_late"
)

// Legal periods.
const (
	CNRegulatorPeriod     = 4 * time.Hour
	CNCriticalInfraPeriod = time.Hour
	EUAuthorityPeriod     = 72 * time.Hour
)

// Settings are what the policy in force says about incidents.
type Settings struct {
	NoticeWithin  time.Duration
	CriticalInfra bool
	Escalate      []string
}

// SettingsOf reads the settings from the policy (defaults when it says nothing).
func SettingsOf(m *manifest.Manifest) Settings {
	if m == nil || m.Security.Incident == nil {
		return Settings{NoticeWithin: manifest.DefaultNoticeWithin}
	}
	in := m.Security.Incident
	return Settings{NoticeWithin: in.NoticeTarget(), CriticalInfra: in.CriticalInfra, Escalate: in.Escalate}
}

// Clock is one deadline an incident runs against.
type Clock struct {
	Name         string     `json:"clock"`
	Jurisdiction string     `json:"jurisdiction"`
	Party        string     `json:"party"` // regulator or subjects
	Source       string     `json:"source"`
	Period       string     `json:"period"` // e.g. 72h0m0s
	Deadline     time.Time  `json:"deadline"`
	MetAt        *time.Time `json:"met_at,omitempty"`
	SecondsLeft  int64      `json:"seconds_left"` // negative: overdue; at MetAt once met
	Stage        string     `json:"stage"`
	// Provisional: the incident is not assessed yet, and the clock runs
	// because the assessment may find that it applies.
	Provisional bool `json:"provisional,omitempty"`

	period time.Duration
}

// Warning is the warning window of a clock of period p: its last quarter.
func Warning(p time.Duration) time.Duration { return p / 4 }

// Clocks returns the clocks that apply to the incident at now, in a fixed
// order: CN regulator, CN subjects, EU authority, EU subjects.
func Clocks(i Incident, s Settings, now time.Time) []Clock {
	if s.NoticeWithin <= 0 {
		s.NoticeWithin = manifest.DefaultNoticeWithin
	}
	var out []Clock
	add := func(name, jur, party, source string, p time.Duration, provisional bool) {
		c := Clock{Name: name, Jurisdiction: jur, Party: party, Source: source, period: p, Period: p.String(),
			Deadline: i.DiscoveredAt.Add(p), Provisional: provisional}
		met := i.ReportedAt
		if party == "subjects" {
			met = i.NotifiedAt
		}
		c.MetAt = met
		at := now
		if met != nil {
			at = *met
		}
		left := c.Deadline.Sub(at)
		c.SecondsLeft = int64(left / time.Second)
		switch {
		case met != nil && left >= 0:
			c.Stage = StageMet
		case met != nil:
			c.Stage = StageLate
		case left < 0:
			c.Stage = StageOverdue
		case left <= Warning(p):
			c.Stage = StageWarning
		default:
			c.Stage = StageRunning
		}
		out = append(out, c)
	}
	if i.Applies(JurisdictionCN) {
		lv := i.Level(JurisdictionCN)
		if lv == "" || severeCN(lv) {
			p := CNRegulatorPeriod
			if s.CriticalInfra {
				p = CNCriticalInfraPeriod
			}
			add(ClockCNRegulator, JurisdictionCN, "regulator", "国家网络安全事件报告管理办法 (2025)", p, lv == "")
		}
		add(ClockCNSubjects, JurisdictionCN, "subjects", "PIPL art. 57", s.NoticeWithin, false)
	}
	if i.Applies(JurisdictionEU) {
		lv := i.Level(JurisdictionEU)
		if lv != EUNoRisk {
			add(ClockEUAuthority, JurisdictionEU, "regulator", "GDPR art. 33(1)", EUAuthorityPeriod, lv == "")
		}
		if lv == EUHighRisk {
			add(ClockEUSubjects, JurisdictionEU, "subjects", "GDPR art. 34(1)", s.NoticeWithin, false)
		}
	}
	return out
}
