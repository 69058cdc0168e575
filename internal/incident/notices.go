package incident

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/store"
)

// Templates of the messages incidents send.
const (
	TemplateNotice     = "incident_notice"
	TemplateEscalation = "incident_escalation"
)

// noticeBatch is how many notices are queued in one transaction.
const noticeBatch = 200

// Notify records who has been told: the regulator (its report made, now)
// and the people (their notices queued now, each in their language, with
// what the policy promises a notice says). The first telling moves the
// incident to notified.
func (s *Service) Notify(ctx context.Context, by Operator, id string, in NotifyInput) (Incident, error) {
	if !by.canAct() {
		return Incident{}, ErrRole
	}
	if !in.Regulator && !in.Subjects {
		return Incident{}, invalid("subjects", "nothing_to_notify", "say who is told: the regulator, the people or both")
	}
	i, row, err := s.get(ctx, id)
	if err != nil {
		return Incident{}, err
	}
	if !CanMove(i.State, StateNotified) {
		return Incident{}, ErrState
	}
	now := s.opt.Now().UTC().Truncate(time.Microsecond)
	detail := map[string]any{"regulator": in.Regulator, "subjects": in.Subjects}
	var parts []string
	if in.Regulator {
		if i.ReportedAt == nil {
			i.ReportedAt = &now
		}
		parts = append(parts, "regulator")
	}
	if in.Subjects {
		m, err := s.policy(ctx)
		if err != nil {
			return Incident{}, err
		}
		if err := s.noticeComplete(i, m); err != nil {
			return Incident{}, err
		}
		n, unreachable, err := s.queueNotices(ctx, by, i, m)
		if err != nil {
			return Incident{}, err
		}
		if i.NotifiedAt == nil {
			i.NotifiedAt = &now
		}
		detail["queued"], detail["unreachable"] = n, unreachable
		parts = append(parts, fmt.Sprintf("%d notices queued, %d people without an address", n, unreachable))
	}
	from := i.State
	i.State = StateNotified
	i.Timeline = append(i.Timeline, Event{At: now, Action: "incident.notify", By: by.ID, Detail: strings.Join(parts, "; ")})
	return s.save(ctx, by, i, row, from, "incident.notify", detail, nil)
}

// noticeComplete refuses notices that would not say what the law and the
// policy promise: PIPL art. 57 asks for the categories, the cause, the
// possible harm, the measures taken and what the person can do; the
// policy's security.incident.contents may promise remedies too.
func (s *Service) noticeComplete(i Incident, m *manifest.Manifest) error {
	if i.Affected == nil {
		return fault.New(fault.Conflict, "incident_not_assessed", "assess the incident first: its assessment selects the people to tell")
	}
	need := []struct {
		field string
		t     Text
	}{{"description", i.Description}, {"cause", i.Cause}, {"harm", i.Harm}, {"measures", i.Measures}, {"advice", i.Advice}}
	if m != nil && m.Security.Incident != nil && slices.Contains(m.Security.Incident.Contents, "remedies") {
		need = append(need, struct {
			field string
			t     Text
		}{"remedies", i.Remedies})
	}
	for _, n := range need {
		if n.t.Empty() {
			return invalid(n.field, "notice_incomplete", "a notice must say this (PIPL art. 57, the policy's incident contents): give %s when assessing", n.field)
		}
	}
	return nil
}

// NoticeData is what the notice to the people says, in lang: the same
// for everyone the incident affects.
func NoticeData(i Incident, m *manifest.Manifest, lang string) map[string]string {
	d := map[string]string{
		"incident":   i.ID,
		"categories": categoryNames(i.Categories, m, lang),
		"contact":    contactOf(m, lang),
	}
	promised := []string{"what_happened", "impact", "measures", "self_protection", "remedies"}
	if m != nil && m.Security.Incident != nil && len(m.Security.Incident.Contents) > 0 {
		promised = m.Security.Incident.Contents
	}
	texts := map[string]Text{"what_happened": i.Description, "impact": i.Harm, "measures": i.Measures, "self_protection": i.Advice, "remedies": i.Remedies}
	for k, t := range texts {
		// PIPL art. 57 asks for all but the remedies whatever the policy lists.
		if k == "remedies" && !slices.Contains(promised, k) && t.Empty() {
			continue
		}
		if v := t.In(lang); v != "" {
			d[k] = v
		}
	}
	if v := i.Cause.In(lang); v != "" {
		d["cause"] = v
	}
	return d
}

func categoryNames(cats []string, m *manifest.Manifest, lang string) string {
	sep := ", "
	if lang == notify.LangZH {
		sep = "、"
	}
	var out []string
	for _, c := range cats {
		name := c
		if m != nil {
			if cat, ok := m.Category(c); ok {
				if n := cat.Name.In(lang); n != "" {
					name = n
				}
			}
		}
		out = append(out, name)
	}
	return strings.Join(out, sep)
}

// contactOf is how the people reach the organisation: the department
// and its first email, else first channel, as the policy names them.
func contactOf(m *manifest.Manifest, lang string) string {
	if m == nil {
		return "-"
	}
	var parts []string
	if d := m.Contact.Department.In(lang); d != "" {
		parts = append(parts, d)
	}
	var ch string
	for _, c := range m.Contact.Channels {
		if c.Kind == "email" {
			ch = c.Value
			break
		}
	}
	if ch == "" && len(m.Contact.Channels) > 0 {
		ch = m.Contact.Channels[0].Value
	}
	if ch != "" {
		parts = append(parts, ch)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// queueNotices queues a notice to every selected subject not told yet,
// batch by batch: to their kept email address, else their phone, in
// their language. Subjects without a kept address are counted: an
// announcement reaches them.
func (s *Service) queueNotices(ctx context.Context, by Operator, i Incident, m *manifest.Manifest) (queued, unreachable int, err error) {
	if s.opt.Sealer == nil || s.opt.Identities == nil {
		return 0, 0, ErrNoSender
	}
	prevailing := notify.LangZH
	if m != nil && m.DefaultLanguage() == notify.LangEN {
		prevailing = notify.LangEN
	}
	data := map[string]map[string]string{}
	for _, l := range notify.Languages() {
		data[l] = NoticeData(i, m, l)
	}
	after := ""
	for {
		subs, err := s.st.IncidentSubjects(ctx, i.ID, after, true, noticeBatch)
		if err != nil {
			return queued, unreachable, err
		}
		if len(subs) == 0 {
			return queued, unreachable, nil
		}
		after = subs[len(subs)-1].SubjectID
		var ds []notify.Delivery
		for _, x := range subs {
			d, ok, err := s.notice(ctx, x.SubjectID, prevailing, data)
			if err != nil {
				return queued, unreachable, err
			}
			if !ok {
				unreachable++
				continue
			}
			ds = append(ds, d)
		}
		e := s.entry(by, "incident.notice", i.ID, map[string]any{"queued": len(ds)})
		if len(ds) > 0 {
			if err := s.st.QueueIncidentNotices(ctx, i.ID, ds, e); err != nil {
				return queued, unreachable, err
			}
		}
		queued += len(ds)
	}
}

func (s *Service) notice(ctx context.Context, subjectID, prevailing string, data map[string]map[string]string) (notify.Delivery, bool, error) {
	sub, err := s.st.Subject(ctx, subjectID)
	if errors.Is(err, store.ErrNotFound) {
		return notify.Delivery{}, false, nil
	}
	if err != nil {
		return notify.Delivery{}, false, err
	}
	lang := sub.Language
	if lang != notify.LangZH && lang != notify.LangEN {
		lang = prevailing
	}
	for _, kind := range []string{"email", "phone"} {
		for _, idn := range sub.Identities {
			if idn.Kind != kind || len(idn.Sealed) == 0 {
				continue
			}
			raw, err := s.opt.Identities.OpenIdentity(ctx, subjectID, kind, idn.Sealed)
			if err != nil {
				continue // erased meanwhile, or its key is gone
			}
			ch := notify.ChannelEmail
			if kind == "phone" {
				ch = notify.ChannelSMS
			}
			d, err := notify.NewDelivery(ctx, s.opt.Sealer, ch, string(raw), TemplateNotice, lang, data[lang])
			if err != nil {
				s.opt.Logger.Warn("incident notice not queued", "subject", subjectID, "err", err)
				return notify.Delivery{}, false, nil
			}
			d.Subject = subjectID
			return d, true, nil
		}
	}
	return notify.Delivery{}, false, nil
}

// Deliveries counts the incident's notices by outbox status: pending,
// sent, dead, and none (no notice queued: no address kept, or not yet).
func (s *Service) Deliveries(ctx context.Context, id string) (map[string]int, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	return s.st.IncidentDeliveries(ctx, id)
}

// Subjects calls fn with the id of every subject the incident affects, in
// id order, a batch at a time: for notices and exports of ids, never of
// identities.
func (s *Service) Subjects(ctx context.Context, id string, fn func(subjectID string) error) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	after := ""
	for {
		subs, err := s.st.IncidentSubjects(ctx, id, after, false, noticeBatch)
		if err != nil || len(subs) == 0 {
			return err
		}
		for _, x := range subs {
			if err := fn(x.SubjectID); err != nil {
				return err
			}
		}
		after = subs[len(subs)-1].SubjectID
	}
}

// Escalation is one escalation sent by Escalate.
type Escalation struct {
	Incident string `json:"incident"`
	Clock    string `json:"clock"`
	Stage    string `json:"stage"`
	Messages int    `json:"messages"`
}

// Escalate tells the operators the policy names (security.incident.escalate)
// of every clock of an incident not closed that has entered its warning
// window or passed its deadline: once per clock and stage, recorded with
// the messages in one transaction, so that a restart or a second instance
// does not send it again. The scheduler and `custos incidents escalate`
// both run it.
func (s *Service) Escalate(ctx context.Context) ([]Escalation, error) {
	m, err := s.policy(ctx)
	if err != nil {
		return nil, err
	}
	set := SettingsOf(m)
	if len(set.Escalate) == 0 {
		return nil, nil
	}
	if s.opt.Sealer == nil {
		return nil, ErrNoSender
	}
	lang := notify.LangZH
	if m != nil && m.DefaultLanguage() == notify.LangEN {
		lang = notify.LangEN
	}
	open, err := s.list(ctx, store.IncidentFilter{Open: true})
	if err != nil {
		return nil, err
	}
	now := s.opt.Now()
	var out []Escalation
	for _, i := range open {
		sent, err := s.st.IncidentEscalations(ctx, i.ID)
		if err != nil {
			return out, err
		}
		for _, c := range Clocks(i, set, now) {
			if c.Stage != StageWarning && c.Stage != StageOverdue {
				continue
			}
			if slices.ContainsFunc(sent, func(e store.IncidentEscalation) bool { return e.Clock == c.Name && e.Stage == c.Stage }) {
				continue
			}
			data := map[string]string{"incident": i.ID, "clock": c.Name, "source": c.Source, "stage": c.Stage,
				"deadline": c.Deadline.UTC().Format("2006-01-02 15:04 UTC")}
			var ds []notify.Delivery
			for _, to := range set.Escalate {
				d, err := notify.NewDelivery(ctx, s.opt.Sealer, notify.ChannelEmail, to, TemplateEscalation, lang, data)
				if err != nil {
					return out, fmt.Errorf("incident: escalation: %w", err)
				}
				ds = append(ds, d)
			}
			e := audit.NewEntry(now, audit.System("scheduler"), "incident.escalate", "incident:"+i.ID, "incident_response", audit.OutcomeOK,
				map[string]any{"clock": c.Name, "stage": c.Stage, "messages": len(ds)})
			err := s.st.RecordIncidentEscalation(ctx, i.ID, store.IncidentEscalation{Clock: c.Name, Stage: c.Stage, SentAt: now.UTC()}, ds, e)
			if errors.Is(err, store.ErrConflict) {
				continue // another instance sent it
			}
			if err != nil {
				return out, err
			}
			out = append(out, Escalation{Incident: i.ID, Clock: c.Name, Stage: c.Stage, Messages: len(ds)})
		}
	}
	return out, nil
}

// Escalations lists the escalations sent for an incident.
func (s *Service) Escalations(ctx context.Context, id string) ([]store.IncidentEscalation, error) {
	return s.st.IncidentEscalations(ctx, id)
}
