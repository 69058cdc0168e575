// Package hold keeps legal holds as records: a court order, an
// authority's request or a dispute that forbids erasing some of an
// organisation's data until it is lifted or expires. A retention sweep
// and a rights request both ask this package what is held, so one rule
// decides whether data may be erased.
package hold

import (
	"strings"
	"time"
)

// Scope is what a hold covers. Fields combine (all given must match); at least one is set.
type Scope struct {
	SubjectID  string     `json:"subject_id,omitempty"`
	Datastore  string     `json:"datastore,omitempty"`  // a datastore id of the organisation's dataset annotation
	Collection string     `json:"collection,omitempty"` // needs Datastore
	Category   string     `json:"category,omitempty"`   // covers this category and those below it (basic covers basic.phone)
	From       *time.Time `json:"from,omitempty"`       // data whose retention clock lies in [From, To)
	To         *time.Time `json:"to,omitempty"`
}

// Hold is a legal hold placed on an organisation's data.
type Hold struct {
	ID        string     `json:"id"`
	Scope     Scope      `json:"scope"`
	Reason    string     `json:"reason"`          // why, for operators (not personal data; bounded length, validated text)
	Authority string     `json:"authority"`       // reference of the court order / authority request / case
	Basis     string     `json:"basis,omitempty"` // id of a manifest legal_holds entry (court_order, dispute, …) when given
	PlacedBy  string     `json:"placed_by"`       // operator id
	PlacedAt  time.Time  `json:"placed_at"`
	Expires   *time.Time `json:"expires,omitempty"`
	LiftedAt  *time.Time `json:"lifted_at,omitempty"`
	LiftedBy  string     `json:"lifted_by,omitempty"`
}

// Active reports whether h holds at now: not lifted and not expired.
func (h Hold) Active(now time.Time) bool {
	if h.LiftedAt != nil {
		return false
	}
	return h.Expires == nil || now.Before(*h.Expires)
}

// CoversCategory reports whether the scope's category is cat or above it (empty category: true).
func (s Scope) CoversCategory(cat string) bool {
	return s.Category == "" || cat == s.Category || strings.HasPrefix(cat, s.Category+".")
}

// Kind names what the scope narrows by, for the audit trail and lists:
// the fields given, joined by "+" (subject, datastore, collection,
// category, period). It never carries the values, which may identify a
// case or a person.
func (s Scope) Kind() string {
	var k []string
	if s.SubjectID != "" {
		k = append(k, "subject")
	}
	if s.Datastore != "" {
		k = append(k, "datastore")
	}
	if s.Collection != "" {
		k = append(k, "collection")
	}
	if s.Category != "" {
		k = append(k, "category")
	}
	if s.From != nil || s.To != nil {
		k = append(k, "period")
	}
	return strings.Join(k, "+")
}

// Empty reports whether the scope narrows by nothing.
func (s Scope) Empty() bool { return s.Kind() == "" }

// CoversSubject reports whether the scope covers subject: its subject is
// that one, or it names none (it then covers every subject's data of its
// datastore, category or period).
func (s Scope) CoversSubject(subject string) bool {
	return s.SubjectID == "" || s.SubjectID == subject
}

// Retention returns what the holds of hs active at now keep of a
// category's values from a retention sweep of Custos's own data (the
// vault): the subjects whose values stay, or whole when a hold over
// everyone's data of the category keeps them all. Holds naming a
// datastore cover the organisation's databases, not Custos's own. A
// hold's period is not narrowed further: a sweep keeps everything of the
// category that such a hold may reach.
func Retention(hs []Hold, category string, now time.Time) (subjects []string, whole bool) {
	for _, h := range hs {
		if !h.Active(now) || h.Scope.Datastore != "" || !h.Scope.CoversCategory(category) {
			continue
		}
		if h.Scope.SubjectID == "" {
			return nil, true
		}
		subjects = append(subjects, h.Scope.SubjectID)
	}
	return subjects, false
}

// Trail returns what the holds of hs active at now keep of the entries
// of Custos's audit trail older than cutoff, each entry counted from its
// own time: all of them (whole) when one of the holds has no start to its
// period (a hold on a person, a category or everything, or on everything
// before a time: a person's entries lie anywhere in the one chain);
// otherwise those from from on, the earliest start of the holds' periods
// that begin before cutoff (zero when none does). n counts the holds that
// keep any of those entries. As for the vault, holds naming a datastore
// cover the organisation's databases, not Custos's own records.
func Trail(hs []Hold, cutoff, now time.Time) (from time.Time, whole bool, n int) {
	for _, h := range hs {
		if !h.Active(now) || h.Scope.Datastore != "" {
			continue
		}
		switch start := h.Scope.From; {
		case start == nil:
			whole = true
			n++
		case start.Before(cutoff):
			n++
			if from.IsZero() || start.Before(from) {
				from = *start
			}
		}
	}
	if whole {
		from = time.Time{}
	}
	return from, whole, n
}
