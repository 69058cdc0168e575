// Package incident keeps security incidents as records with the clocks
// the law runs from their discovery: the facts (what happened, when it
// began, was discovered and contained, its cause), the personal
// information and datastores it touched and over which time, its
// severity on each applicable jurisdiction's scale, and the state it has
// reached (open, assessed, notified, closed). The people affected are
// selected from the organisation's databases through the dataset
// annotation, never typed in; they are told through the outbox in their
// language, the regulator gets a report, and operators are escalated to
// when a deadline nears or passes.
package incident

import (
	"slices"
	"strings"
	"time"
)

// States an incident moves through, in order; a step back is refused.
const (
	StateOpen     = "open"
	StateAssessed = "assessed"
	StateNotified = "notified"
	StateClosed   = "closed"
)

// Jurisdictions with a severity scale of their own.
const (
	JurisdictionCN = "CN"
	JurisdictionEU = "EU"
)

// CN levels: the national cybersecurity incident reporting measures
// (国家网络安全事件报告管理办法, 2025) grade incidents 特别重大, 重大,
// 较大 and 一般.
const (
	CNExtremelySerious  = "extremely_serious"
	CNSerious           = "serious"
	CNRelativelySerious = "relatively_serious"
	CNGeneral           = "general"
)

// EU levels: GDPR art. 33 (a breach unlikely to result in a risk need not
// be notified) and art. 34 (a high risk is told to the people).
const (
	EUNoRisk   = "no_risk"
	EURisk     = "risk"
	EUHighRisk = "high_risk"
)

// Scales lists each jurisdiction's levels, gravest first.
var Scales = map[string][]string{
	JurisdictionCN: {CNExtremelySerious, CNSerious, CNRelativelySerious, CNGeneral},
	JurisdictionEU: {EUHighRisk, EURisk, EUNoRisk},
}

// Text is free text in both languages notices and reports are written in.
type Text struct {
	ZH string `json:"zh-CN,omitempty"`
	EN string `json:"en,omitempty"`
}

// In returns the text in lang ("zh-CN" or "en"), else in the other language.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" || t.ZH == "" {
		return t.EN
	}
	return t.ZH
}

// Empty reports whether neither language is given.
func (t Text) Empty() bool { return strings.TrimSpace(t.ZH) == "" && strings.TrimSpace(t.EN) == "" }

// Window is the stretch of time [From, To) whose data the incident
// reached; a nil bound leaves that side open.
type Window struct {
	From *time.Time `json:"from,omitempty"`
	To   *time.Time `json:"to,omitempty"`
}

// Affected is what a selection of the affected people found: counts, and
// where the window could not narrow, never a person.
type Affected struct {
	Subjects int   `json:"subjects"`       // distinct subjects known to Custos
	Rows     int64 `json:"rows"`           // rows read that hold an affected category
	Unknown  int64 `json:"unmatched_rows"` // of those, rows whose identities Custos does not know
	// Unwindowed names the collections ("datastore.collection") without a
	// time field: every row of them counts, whatever the window.
	Unwindowed []string  `json:"unwindowed,omitempty"`
	Vault      int       `json:"vault_subjects"` // subjects whose vault values of an affected category count
	SelectedAt time.Time `json:"selected_at"`
}

// Event is a step of an incident's timeline.
type Event struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"` // incident.open, incident.assess, …
	By     string    `json:"by"`
	Detail string    `json:"detail,omitempty"` // counts and levels, never a person
}

// Incident is a security incident as Custos keeps it.
type Incident struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Description is what happened; Cause why; Harm its possible harm to
	// the people; Measures what was done; Advice what the people can do to
	// protect themselves; Remedies what they can claim.
	Description Text `json:"description"`
	Cause       Text `json:"cause"`
	Harm        Text `json:"harm,omitzero"`
	Measures    Text `json:"measures,omitzero"`
	Advice      Text `json:"advice,omitzero"`
	Remedies    Text `json:"remedies,omitzero"`

	BeganAt      *time.Time `json:"began_at,omitempty"`
	DiscoveredAt time.Time  `json:"discovered_at"` // awareness: every clock runs from here
	ContainedAt  *time.Time `json:"contained_at,omitempty"`

	Categories []string `json:"categories"`           // affected category ids (a parent covers its children)
	Datastores []string `json:"datastores,omitempty"` // affected datastore ids; empty: every datastore annotated
	Window     Window   `json:"window"`

	// Jurisdictions are those of the policy when the incident was opened
	// that have a severity scale: the scales and clocks that apply.
	Jurisdictions []string          `json:"jurisdictions"`
	Severity      map[string]string `json:"severity,omitempty"` // jurisdiction → level

	Affected   *Affected  `json:"affected,omitempty"`
	ReportedAt *time.Time `json:"reported_at,omitempty"` // the regulator's report made
	NotifiedAt *time.Time `json:"notified_at,omitempty"` // the people's notices queued
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	OpenedBy   string     `json:"opened_by"`
	Timeline   []Event    `json:"timeline"`
}

// Level returns the incident's level on a jurisdiction's scale, "" when
// not assessed there.
func (i Incident) Level(jurisdiction string) string { return i.Severity[jurisdiction] }

// Applies reports whether the jurisdiction's rules apply to the incident.
func (i Incident) Applies(jurisdiction string) bool {
	return slices.Contains(i.Jurisdictions, jurisdiction)
}

// CoversCategory reports whether cat is one of the incident's categories
// or below one (basic covers basic.email).
func (i Incident) CoversCategory(cat string) bool {
	for _, c := range i.Categories {
		if cat == c || strings.HasPrefix(cat, c+".") {
			return true
		}
	}
	return false
}

// CoversDatastore reports whether the incident reached the datastore.
func (i Incident) CoversDatastore(id string) bool {
	return len(i.Datastores) == 0 || slices.Contains(i.Datastores, id)
}

// next lists the states each state may move to.
var next = map[string][]string{
	StateOpen:     {StateAssessed, StateClosed},
	StateAssessed: {StateAssessed, StateNotified, StateClosed},
	StateNotified: {StateNotified, StateClosed},
}

// CanMove reports whether an incident in state from may move to to.
func CanMove(from, to string) bool { return slices.Contains(next[from], to) }

// severe reports whether a CN level is relatively serious or graver: the
// levels reported to the regulator.
func severeCN(level string) bool {
	return level == CNRelativelySerious || level == CNSerious || level == CNExtremelySerious
}
