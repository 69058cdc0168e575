package incident

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/ids"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/text"
)

// MaxText bounds each free text of an incident, in characters.
const MaxText = 4000

// Errors, with the codes pages, commands and the API show.
var (
	ErrNotFound = fault.New(fault.NotFound, "incident_not_found", "no such incident")
	// ErrState: the step does not follow from the incident's state.
	ErrState = fault.New(fault.Conflict, "incident_state", "the incident is not in a state this step follows from")
	// ErrRole: only admins open, assess, notify and close incidents.
	ErrRole = fault.New(fault.Forbidden, "role_forbidden", "only admins open, assess, notify and close incidents")
	// ErrBusy: someone changed the incident meanwhile; read it again.
	ErrBusy = fault.New(fault.Conflict, "incident_changed", "the incident changed meanwhile: read it again and retry")
	// ErrNoSender: notices need the data keyset that seals the outbox.
	ErrNoSender = fault.New(fault.Unavailable, "notices_unavailable", "notices cannot be queued here: no data keyset seals the outbox")
)

// Store is the persistence incidents need.
type Store interface {
	CreateIncident(ctx context.Context, r store.IncidentRow, entries ...audit.Entry) error
	UpdateIncident(ctx context.Context, r store.IncidentRow, from string, prev time.Time, also []store.TxFn, entries ...audit.Entry) error
	Incident(ctx context.Context, id string) (store.IncidentRow, error)
	Incidents(ctx context.Context, f store.IncidentFilter) ([]store.IncidentRow, error)
	ClearIncidentSubjectsFn(incidentID string) store.TxFn
	AddIncidentSubjects(ctx context.Context, incidentID string, subjects []string) error
	IncidentSubjects(ctx context.Context, incidentID, after string, pending bool, limit int) ([]store.IncidentSubject, error)
	CountIncidentSubjects(ctx context.Context, incidentID string) (int, error)
	QueueIncidentNotices(ctx context.Context, incidentID string, ds []notify.Delivery, entries ...audit.Entry) error
	IncidentDeliveries(ctx context.Context, incidentID string) (map[string]int, error)
	RecordIncidentEscalation(ctx context.Context, incidentID string, e store.IncidentEscalation, ds []notify.Delivery, entries ...audit.Entry) error
	IncidentEscalations(ctx context.Context, incidentID string) ([]store.IncidentEscalation, error)
	Subject(ctx context.Context, id string) (store.Subject, error)
	SubjectByIdentity(ctx context.Context, hash []byte) (string, error)
	VaultSubjects(ctx context.Context, field string, from, to time.Time, fn func(subjectID string) error) error
}

// Identities opens a subject's kept identity values (an address to write
// to); consent.Service satisfies it.
type Identities interface {
	OpenIdentity(ctx context.Context, subjectID, kind string, sealed []byte) ([]byte, error)
}

// Options are what a Service runs with besides its store.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Policy returns the policy in force: jurisdictions, notice contents,
	// the incident settings, the contact.
	Policy func(context.Context) (*manifest.Manifest, error)
	// Datastores are the organisation's databases, annotated; without
	// them only Custos's own records (the vault) are searched.
	Datastores []execute.Store
	// Hasher maps identity values read in the databases to subjects.
	Hasher *identity.Hasher
	// Identities and Sealer send notices; without them notify refuses.
	Identities Identities
	Sealer     notify.Sealer
}

// Service keeps incidents.
type Service struct {
	st  Store
	opt Options
}

// New returns the service.
func New(st Store, opt Options) *Service {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{st: st, opt: opt}
}

// Operator is who acts on incidents: an operator's account or an API key.
type Operator struct {
	ID    string
	Role  string
	Place string
	// Actor is how the audit trail names the caller when it is not an
	// operator's account (an API key); "" for "operator:<ID>".
	Actor string
}

func (o Operator) actor() audit.Actor {
	id := o.Actor
	if id == "" {
		id = "operator:" + o.ID
	}
	return audit.Actor{ID: id, Role: o.Role, Place: o.Place}
}

func (o Operator) canAct() bool { return o.ID != "" && o.Role == operator.RoleAdmin }

// OpenInput is an incident as first recorded.
type OpenInput struct {
	Description  Text       `json:"description"`
	Cause        Text       `json:"cause"`
	BeganAt      *time.Time `json:"began_at,omitempty"`
	DiscoveredAt time.Time  `json:"discovered_at"`
	ContainedAt  *time.Time `json:"contained_at,omitempty"`
	Categories   []string   `json:"categories"`
	Datastores   []string   `json:"datastores,omitempty"`
	Window       Window     `json:"window"`
}

// AssessInput is an incident's assessment: its severity on each scale
// that applies and what it means for the people. A text's language left
// empty keeps what was recorded in it.
type AssessInput struct {
	Severity    map[string]string `json:"severity"`
	Cause       Text              `json:"cause,omitzero"`
	Harm        Text              `json:"harm,omitzero"`
	Measures    Text              `json:"measures,omitzero"`
	Advice      Text              `json:"advice,omitzero"`
	Remedies    Text              `json:"remedies,omitzero"`
	ContainedAt *time.Time        `json:"contained_at,omitempty"`
}

// NotifyInput says who has been or is now told: the regulator (its report
// made, recorded now), the people (their notices queued now), or both.
type NotifyInput struct {
	Regulator bool `json:"regulator"`
	Subjects  bool `json:"subjects"`
}

func invalid(field, code, format string, args ...any) error {
	return fault.New(fault.Invalid, code, format, args...).At(field)
}

var name = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)

func checkText(field string, t Text, required bool) error {
	if required && t.Empty() {
		return invalid(field, field+"_required", "give %s in at least one language", field)
	}
	for _, s := range []string{t.ZH, t.EN} {
		if utf8.RuneCountInString(s) > MaxText || !text.Valid(s, true) {
			return invalid(field, "invalid_text", "%s is text of at most %d characters", field, MaxText)
		}
	}
	return nil
}

func clean(t Text) Text { return Text{ZH: strings.TrimSpace(t.ZH), EN: strings.TrimSpace(t.EN)} }

func (s *Service) policy(ctx context.Context) (*manifest.Manifest, error) {
	if s.opt.Policy == nil {
		return nil, nil
	}
	m, err := s.opt.Policy(ctx)
	if err != nil {
		return nil, fmt.Errorf("incident: policy: %w", err)
	}
	return m, nil
}

// scaled lists the policy's jurisdictions that have a severity scale; a
// policy naming none is CN's.
func scaled(m *manifest.Manifest) []string {
	var out []string
	if m != nil {
		for _, j := range m.Jurisdiction {
			if _, ok := Scales[j.ID]; ok && !slices.Contains(out, j.ID) {
				out = append(out, j.ID)
			}
		}
		if len(m.Jurisdiction) > 0 {
			return out
		}
	}
	return []string{JurisdictionCN}
}

// Open records a new incident. Its clocks start at its discovery.
func (s *Service) Open(ctx context.Context, by Operator, in OpenInput) (Incident, error) {
	if !by.canAct() {
		return Incident{}, ErrRole
	}
	now := s.opt.Now().UTC().Truncate(time.Microsecond)
	in.Description, in.Cause = clean(in.Description), clean(in.Cause)
	if err := checkText("description", in.Description, true); err != nil {
		return Incident{}, err
	}
	if err := checkText("cause", in.Cause, false); err != nil {
		return Incident{}, err
	}
	switch {
	case in.DiscoveredAt.IsZero():
		return Incident{}, invalid("discovered_at", "discovered_at_required", "give when the incident was discovered: every clock runs from then")
	case in.DiscoveredAt.After(now):
		return Incident{}, invalid("discovered_at", "invalid_time", "the discovery cannot lie in the future")
	case in.BeganAt != nil && in.BeganAt.After(in.DiscoveredAt):
		return Incident{}, invalid("began_at", "invalid_time", "an incident begins before it is discovered")
	case in.ContainedAt != nil && in.BeganAt != nil && in.ContainedAt.Before(*in.BeganAt):
		return Incident{}, invalid("contained_at", "invalid_time", "an incident is contained after it begins")
	case in.Window.From != nil && in.Window.To != nil && !in.Window.To.After(*in.Window.From):
		return Incident{}, invalid("window.to", "invalid_period", "the window's end must come after its start")
	case len(in.Categories) == 0:
		return Incident{}, invalid("categories", "categories_required", "name the categories of personal information the incident reached")
	}
	for field, list := range map[string][]string{"categories": in.Categories, "datastores": in.Datastores} {
		for _, v := range list {
			if !name.MatchString(v) {
				return Incident{}, invalid(field, "invalid_name", "%s are ids of 1 to 128 letters, digits and . _ : -", field)
			}
		}
	}
	m, err := s.policy(ctx)
	if err != nil {
		return Incident{}, err
	}
	if m != nil {
		for _, c := range in.Categories {
			if _, ok := m.Category(c); !ok {
				return Incident{}, invalid("categories", "unknown_category", "a category is not one the policy knows")
			}
		}
	}
	known := map[string]bool{}
	for _, d := range s.opt.Datastores {
		known[d.DS.ID] = true
	}
	for _, d := range in.Datastores {
		if !known[d] {
			return Incident{}, invalid("datastores", "unknown_datastore", "a datastore is not one the dataset annotation names")
		}
	}
	i := Incident{ID: ids.New("in_"), State: StateOpen, Description: in.Description, Cause: in.Cause,
		BeganAt: utc(in.BeganAt), DiscoveredAt: in.DiscoveredAt.UTC().Truncate(time.Microsecond), ContainedAt: utc(in.ContainedAt),
		Categories: sorted(in.Categories), Datastores: sorted(in.Datastores), Window: Window{From: utc(in.Window.From), To: utc(in.Window.To)},
		Jurisdictions: scaled(m), OpenedBy: by.ID}
	detail := map[string]any{"categories": len(i.Categories), "datastores": len(i.Datastores), "jurisdictions": i.Jurisdictions}
	i.Timeline = []Event{{At: now, Action: "incident.open", By: by.ID}}
	row, err := toRow(i, now)
	if err != nil {
		return Incident{}, err
	}
	row.CreatedAt = now
	if err := s.st.CreateIncident(ctx, row, s.entry(by, "incident.open", i.ID, detail)); err != nil {
		return Incident{}, err
	}
	return s.Get(ctx, i.ID)
}

// Assess records the incident's severity on each scale that applies and
// what it means for the people, and selects the people affected: the
// count is kept with the incident, the subjects for its notices.
func (s *Service) Assess(ctx context.Context, by Operator, id string, in AssessInput) (Incident, error) {
	if !by.canAct() {
		return Incident{}, ErrRole
	}
	i, row, err := s.get(ctx, id)
	if err != nil {
		return Incident{}, err
	}
	// A notified incident may be assessed again (its level revised); it
	// stays notified.
	if i.State != StateNotified && !CanMove(i.State, StateAssessed) {
		return Incident{}, ErrState
	}
	for _, j := range i.Jurisdictions {
		lv, ok := in.Severity[j]
		if !ok || !slices.Contains(Scales[j], lv) {
			return Incident{}, fault.New(fault.Invalid, "invalid_severity", "rate the incident on the %s scale", j).At("severity." + j).Allowing(Scales[j])
		}
	}
	for j := range in.Severity {
		if !i.Applies(j) {
			return Incident{}, invalid("severity."+j, "invalid_severity", "the policy's jurisdictions give no such scale")
		}
	}
	for field, t := range map[string]*Text{"cause": &in.Cause, "harm": &in.Harm, "measures": &in.Measures, "advice": &in.Advice, "remedies": &in.Remedies} {
		*t = clean(*t)
		if err := checkText(field, *t, false); err != nil {
			return Incident{}, err
		}
	}
	if in.ContainedAt != nil && in.ContainedAt.After(s.opt.Now()) {
		return Incident{}, invalid("contained_at", "invalid_time", "containment cannot lie in the future")
	}
	// Each language given replaces that language's text; one left empty
	// keeps what was recorded.
	keep := func(dst *Text, v Text) {
		if v.ZH != "" {
			dst.ZH = v.ZH
		}
		if v.EN != "" {
			dst.EN = v.EN
		}
	}
	keep(&i.Cause, in.Cause)
	keep(&i.Harm, in.Harm)
	keep(&i.Measures, in.Measures)
	keep(&i.Advice, in.Advice)
	keep(&i.Remedies, in.Remedies)
	if in.ContainedAt != nil {
		i.ContainedAt = utc(in.ContainedAt)
	}
	i.Severity = map[string]string{}
	for _, j := range i.Jurisdictions {
		i.Severity[j] = in.Severity[j]
	}
	if i.State != StateNotified {
		// The selection is made afresh, before anyone is told.
		if err := s.st.UpdateIncident(ctx, row, i.State, row.UpdatedAt, []store.TxFn{s.st.ClearIncidentSubjectsFn(i.ID)}); err != nil {
			return Incident{}, busy(err)
		}
		if row, err = s.st.Incident(ctx, i.ID); err != nil {
			return Incident{}, err
		}
	}
	aff, err := s.Select(ctx, i)
	if err != nil {
		return Incident{}, err
	}
	i.Affected = &aff
	now := s.opt.Now().UTC().Truncate(time.Microsecond)
	from := i.State
	i.State = StateAssessed
	if from == StateNotified {
		i.State = StateNotified
	}
	detail := map[string]any{"severity": i.Severity, "subjects": aff.Subjects, "rows": aff.Rows, "unmatched_rows": aff.Unknown}
	i.Timeline = append(i.Timeline, Event{At: now, Action: "incident.assess", By: by.ID, Detail: levels(i.Severity) + fmt.Sprintf("; %d subjects", aff.Subjects)})
	return s.save(ctx, by, i, row, from, "incident.assess", detail, nil)
}

// Close closes the incident: its clocks stop running, its record stays.
func (s *Service) Close(ctx context.Context, by Operator, id string) (Incident, error) {
	if !by.canAct() {
		return Incident{}, ErrRole
	}
	i, row, err := s.get(ctx, id)
	if err != nil {
		return Incident{}, err
	}
	if !CanMove(i.State, StateClosed) {
		return Incident{}, ErrState
	}
	now := s.opt.Now().UTC().Truncate(time.Microsecond)
	from := i.State
	i.State, i.ClosedAt = StateClosed, &now
	i.Timeline = append(i.Timeline, Event{At: now, Action: "incident.close", By: by.ID})
	return s.save(ctx, by, i, row, from, "incident.close", map[string]any{"from": from}, nil)
}

func levels(sev map[string]string) string {
	var parts []string
	for _, j := range sortedKeys(sev) {
		parts = append(parts, j+" "+sev[j])
	}
	return strings.Join(parts, ", ")
}

func (s *Service) save(ctx context.Context, by Operator, i Incident, row store.IncidentRow, from, action string, detail map[string]any, also []store.TxFn, more ...audit.Entry) (Incident, error) {
	now := s.opt.Now().UTC().Truncate(time.Microsecond)
	if !now.After(row.UpdatedAt) {
		now = row.UpdatedAt.Add(time.Microsecond) // updated_at tells one version from the next
	}
	nr, err := toRow(i, now)
	if err != nil {
		return Incident{}, err
	}
	entries := append([]audit.Entry{s.entry(by, action, i.ID, detail)}, more...)
	if err := s.st.UpdateIncident(ctx, nr, from, row.UpdatedAt, also, entries...); err != nil {
		return Incident{}, busy(err)
	}
	return s.Get(ctx, i.ID)
}

func busy(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return ErrBusy
	}
	return err
}

// Get returns one incident.
func (s *Service) Get(ctx context.Context, id string) (Incident, error) {
	i, _, err := s.get(ctx, id)
	return i, err
}

func (s *Service) get(ctx context.Context, id string) (Incident, store.IncidentRow, error) {
	row, err := s.st.Incident(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Incident{}, row, ErrNotFound
	}
	if err != nil {
		return Incident{}, row, err
	}
	i, err := fromRow(row)
	return i, row, err
}

// List returns the incidents, the latest discovered first: those not
// closed, or all of them.
func (s *Service) List(ctx context.Context, all bool) ([]Incident, error) {
	return s.list(ctx, store.IncidentFilter{Open: !all})
}

func (s *Service) list(ctx context.Context, f store.IncidentFilter) ([]Incident, error) {
	rows, err := s.st.Incidents(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]Incident, 0, len(rows))
	for _, r := range rows {
		i, err := fromRow(r)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, nil
}

// Settings returns what the policy in force says about incidents.
func (s *Service) Settings(ctx context.Context) Settings {
	m, err := s.policy(ctx)
	if err != nil {
		return SettingsOf(nil)
	}
	return SettingsOf(m)
}

// Clocks returns the incident's clocks at now, under the policy in force.
func (s *Service) Clocks(ctx context.Context, i Incident) []Clock {
	return Clocks(i, s.Settings(ctx), s.opt.Now())
}

func (s *Service) entry(by Operator, action, id string, detail map[string]any) audit.Entry {
	return audit.NewEntry(s.opt.Now(), by.actor(), action, "incident:"+id, "incident_response", audit.OutcomeOK, detail)
}

func toRow(i Incident, now time.Time) (store.IncidentRow, error) {
	b, err := json.Marshal(i)
	if err != nil {
		return store.IncidentRow{}, fmt.Errorf("incident: encode: %w", err)
	}
	return store.IncidentRow{ID: i.ID, State: i.State, DiscoveredAt: i.DiscoveredAt, Record: string(b), UpdatedAt: now}, nil
}

func fromRow(r store.IncidentRow) (Incident, error) {
	var i Incident
	if err := json.Unmarshal([]byte(r.Record), &i); err != nil {
		return Incident{}, fmt.Errorf("incident %s: decode: %w", r.ID, err)
	}
	i.ID, i.State = r.ID, r.State
	return i, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

func sorted(xs []string) []string {
	out := slices.Clone(xs)
	sort.Strings(out)
	return slices.Compact(out)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
