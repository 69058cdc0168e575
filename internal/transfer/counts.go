package transfer

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// FlowCount is one flow's people in a year, and the mechanism the
// organisation's total calls for.
type FlowCount struct {
	Flow      string `json:"flow"`
	Recipient string `json:"recipient,omitempty"`
	People
	Projected  int64  `json:"projected"`
	Declared   string `json:"declared"`
	Needed     string `json:"needed,omitempty"`
	Sufficient bool   `json:"sufficient"`
}

// Counts are the year's people: in total (each person once, whatever
// the flows) and per flow, with the alerts sent.
type Counts struct {
	Year      int         `json:"year"`
	Total     People      `json:"total"`
	Projected People      `json:"projected"`
	Flows     []FlowCount `json:"flows"`
	Alerts    []Alert     `json:"alerts"`
}

// Alert is a threshold projected to be crossed by 31 December at the
// year's rate so far, or crossed.
type Alert struct {
	Year      int       `json:"year"`
	Limit     string    `json:"limit"` // ordinary.standard_contract, sensitive.security_assessment, …
	Mechanism string    `json:"mechanism"`
	Kind      string    `json:"kind"` // projected or crossed
	People    int64     `json:"people"`
	At        time.Time `json:"at"`
	Threshold int64     `json:"threshold,omitempty"`
	Projected int64     `json:"projected,omitempty"`
	Flows     []string  `json:"flows,omitempty"` // the flows whose mechanism will not do
}

// Alert kinds.
const (
	AlertProjected = "projected"
	AlertCrossed   = "crossed"
)

// Counts returns the year's counts (the current year when year is 0).
func (s *Service) Counts(ctx context.Context, year int) (Counts, error) {
	now := s.now()
	if year == 0 {
		year = YearOf(now)
	}
	if year < 2000 || year > YearOf(now)+1 {
		return Counts{}, invalid("year", "invalid_year", "year is a calendar year up to this one")
	}
	sn := s.refresh()
	tot, rows, err := s.numbers(ctx, year, now)
	if err != nil {
		return Counts{}, err
	}
	total := People{People: tot.People, Sensitive: tot.Sensitive, Ordinary: tot.Ordinary}
	c := Counts{Year: year, Total: total, Flows: []FlowCount{}, Alerts: []Alert{},
		Projected: People{People: Project(total.People, year, now), Sensitive: Project(total.Sensitive, year, now), Ordinary: Project(total.Ordinary, year, now)}}
	byFlow := map[string]store.TransferCount{}
	for _, r := range rows {
		byFlow[r.Flow] = r
	}
	for _, f := range sn.reg.Flows {
		r := byFlow[f.ID]
		delete(byFlow, f.ID)
		need := sn.reg.Thresholds.Needed(f, total)
		c.Flows = append(c.Flows, FlowCount{Flow: f.ID, Recipient: f.Recipient, People: People{People: r.People, Sensitive: r.Sensitive, Ordinary: r.Ordinary},
			Projected: Project(r.People, year, now), Declared: f.Mechanism, Needed: need, Sufficient: need == "" || Sufficient(f.Mechanism, need)})
	}
	for _, r := range rows {
		if _, gone := byFlow[r.Flow]; gone {
			// A flow an earlier manifest had: its people still count.
			c.Flows = append(c.Flows, FlowCount{Flow: r.Flow, People: People{People: r.People, Sensitive: r.Sensitive, Ordinary: r.Ordinary},
				Projected: Project(r.People, year, now), Sufficient: true})
		}
	}
	as, err := s.st.TransferAlerts(ctx, year)
	if err != nil {
		return Counts{}, err
	}
	for _, a := range as {
		c.Alerts = append(c.Alerts, Alert{Year: a.Year, Limit: a.Level, Mechanism: mechanismOf(a.Level), Kind: a.Kind, People: a.People, At: a.At})
	}
	return c, nil
}

func mechanismOf(limit string) string {
	for _, m := range []string{MechanismAssessment, MechanismContract} {
		if len(limit) > len(m) && limit[len(limit)-len(m):] == m {
			return m
		}
	}
	return ""
}

// Evaluate compares this year's counts and their projection with the
// thresholds. A threshold projected to be crossed, or crossed, by people
// whose flows declare a mechanism that will not do raises an alert,
// once per year, kind and threshold: it is stored, audited
// (transfer.alert, with the numbers only) and sent through Options.Alert.
// It returns the alerts raised now, and tells Options.Observe each
// flow's numbers.
func (s *Service) Evaluate(ctx context.Context) ([]Alert, error) {
	s.evalMu.Lock()
	defer s.evalMu.Unlock()
	now := s.now()
	s.lastEval = now
	s.dirty.Store(false)
	c, err := s.Counts(ctx, 0)
	if err != nil {
		return nil, err
	}
	sn := s.reg.Load()
	if s.opt.Observe != nil {
		for _, f := range c.Flows {
			fl, _ := sn.reg.Flow(f.Flow)
			if fl.Sensitive() {
				s.opt.Observe(f.Flow, true, f.Sensitive, Project(f.Sensitive, c.Year, now))
			}
			if fl.Ordinary() || fl.ID == "" {
				s.opt.Observe(f.Flow, false, f.Ordinary, Project(f.Ordinary, c.Year, now))
			}
		}
	}
	var raised []Alert
	for _, l := range sn.reg.Thresholds.Limits() {
		n, p := c.Total.Ordinary, c.Projected.Ordinary
		if l.Kind == "sensitive" {
			n, p = c.Total.Sensitive, c.Projected.Sensitive
		}
		kind := ""
		switch {
		case n >= l.At:
			kind = AlertCrossed
		case p >= l.At && l.At > 1:
			kind = AlertProjected
		default:
			continue
		}
		var flows []string
		for _, f := range sn.reg.Flows {
			carries := f.Ordinary()
			if l.Kind == "sensitive" {
				carries = f.Sensitive()
			}
			if carries && f.From == DefaultFrom && !Sufficient(f.Mechanism, l.Mechanism) {
				flows = append(flows, f.ID)
			}
		}
		if len(flows) == 0 {
			continue
		}
		a := Alert{Year: c.Year, Limit: l.Name(), Mechanism: l.Mechanism, Kind: kind, People: n, Threshold: l.At, Projected: p, Flows: flows, At: now.UTC().Truncate(time.Microsecond)}
		e := audit.NewEntry(now, audit.System("transfers"), "transfer.alert", "transfers:"+fmt.Sprint(c.Year), "", audit.OutcomeOK,
			map[string]any{"limit": a.Limit, "kind": kind, "people": n, "projected": p, "threshold": l.At, "flows": len(flows)})
		sent, err := s.st.RecordTransferAlert(ctx, store.TransferAlert{Year: c.Year, Level: a.Limit, Kind: kind, People: n, At: a.At}, e)
		if err != nil {
			return raised, err
		}
		if !sent {
			continue
		}
		raised = append(raised, a)
		if s.opt.Alert != nil {
			if err := s.opt.Alert(ctx, a); err != nil {
				s.log.Error("transfer alert not sent", "limit", a.Limit, "kind", kind, "err", err)
			}
		}
	}
	return raised, nil
}

// Problems returns a manifest problem for each flow whose declared
// mechanism no longer suffices for this year's people.
func (s *Service) Problems(ctx context.Context) (manifest.Problems, error) {
	c, err := s.Counts(ctx, 0)
	if err != nil {
		return nil, err
	}
	sn := s.reg.Load()
	if sn.m == nil {
		return nil, nil
	}
	return Problems(sn.m, sn.reg, c.Total), nil
}

// EvidenceFiles returns the register and the counts of every year from
// from to to, keyed by relative path (register.json, counts-2026.json),
// for the transfers part of a compliance archive. They hold
// numbers and the manifest's ids, never a person.
func (s *Service) EvidenceFiles(ctx context.Context, from, to time.Time) (map[string][]byte, error) {
	reg, err := s.Register(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	if out["register.json"], err = json.MarshalIndent(reg, "", "  "); err != nil {
		return nil, err
	}
	if to.Before(from) {
		from, to = to, from
	}
	for y := YearOf(from); y <= YearOf(to); y++ {
		c, err := s.Counts(ctx, y)
		if err != nil {
			return nil, err
		}
		b, err := json.MarshalIndent(c, "", "  ")
		if err != nil {
			return nil, err
		}
		out[fmt.Sprintf("counts-%d.json", y)] = b
	}
	return out, nil
}

// Packet renders the filing packet of year (the current one when 0) in
// lang: see RenderPacket.
func (s *Service) Packet(ctx context.Context, lang string, year int) ([]byte, error) {
	c, err := s.Counts(ctx, year)
	if err != nil {
		return nil, err
	}
	sn := s.reg.Load()
	if sn.m == nil {
		return nil, s.noPolicy()
	}
	return RenderPacket(sn.m, sn.reg, c, lang)
}

// cacheFor bounds how long the year's numbers are reused when this
// service wrote nothing: what other instances wrote shows after it.
const cacheFor = 10 * time.Second

type cachedCounts struct {
	gen  uint64
	at   time.Time
	tot  store.TransferCount
	rows []store.TransferCount
}

// numbers reads the year's total and per-flow counts, or reuses those
// read since this service last wrote, within cacheFor: counting a
// year's distinct people reads every row of the year.
func (s *Service) numbers(ctx context.Context, year int, now time.Time) (store.TransferCount, []store.TransferCount, error) {
	gen := s.gen.Load()
	s.cacheMu.Lock()
	c, ok := s.cache[year]
	s.cacheMu.Unlock()
	if ok && c.gen == gen && now.Sub(c.at) < cacheFor && !now.Before(c.at) {
		return c.tot, c.rows, nil
	}
	tot, err := s.st.TransferTotal(ctx, year)
	if err != nil {
		return store.TransferCount{}, nil, err
	}
	rows, err := s.st.TransferCounts(ctx, year)
	if err != nil {
		return store.TransferCount{}, nil, err
	}
	s.cacheMu.Lock()
	if s.cache == nil {
		s.cache = map[int]cachedCounts{}
	}
	s.cache[year] = cachedCounts{gen: gen, at: now, tot: tot, rows: rows}
	s.cacheMu.Unlock()
	return tot, rows, nil
}
