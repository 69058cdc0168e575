package hold

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/ids"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/text"
)

// KindLift is the kind of approval that lifts a hold: the approvals
// workflow decides it, and lifts the hold in the decision's transaction.
const KindLift = store.ApprovalHoldLift

// Bounds of the text a hold keeps.
const (
	MaxReason    = 1000 // characters
	MaxAuthority = 200
)

// Errors, with the codes pages, commands and the API show.
var (
	ErrNotFound = fault.New(fault.NotFound, "hold_not_found", "no such legal hold")
	// ErrNotActive: the hold was lifted or has expired; there is nothing to lift.
	ErrNotActive = fault.New(fault.Conflict, "hold_not_active", "the legal hold has been lifted or has expired")
	// ErrLiftPending: a lift of the hold already waits for a decision.
	ErrLiftPending = fault.New(fault.Conflict, "hold_lift_pending", "a lift of this legal hold already waits for a second operator's decision")
	// ErrRole: auditors read holds but neither place nor lift them.
	ErrRole = fault.New(fault.Forbidden, "role_forbidden", "only admins and operators place legal holds and ask to lift them")
)

// Store is the persistence holds need.
type Store interface {
	CreateLegalHold(ctx context.Context, h store.LegalHold, entries ...audit.Entry) error
	LegalHold(ctx context.Context, id string) (store.LegalHold, error)
	LegalHolds(ctx context.Context, f store.HoldFilter) ([]store.LegalHold, error)
	CreateApproval(ctx context.Context, a store.Approval, entries ...audit.Entry) error
	Approvals(ctx context.Context, limit int) ([]store.Approval, error)
	CurrentPolicy(ctx context.Context) (store.PolicyVersion, error)
}

// Options are what a Service runs with besides its store.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
}

// Service places, lists and asks to lift legal holds.
type Service struct {
	st  Store
	log *slog.Logger
	now func() time.Time
}

// New returns the service.
func New(st Store, opt Options) *Service {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Service{st: st, log: opt.Logger, now: opt.Now}
}

// Operator is who acts on holds: an operator's account (console,
// command line) or an API key, its role, and where it acts from.
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

func (o Operator) canAct() bool {
	return o.ID != "" && slices.Contains([]string{operator.RoleAdmin, operator.RoleOperator}, o.Role)
}

// Input is a hold to place.
type Input struct {
	Scope     Scope      `json:"scope"`
	Reason    string     `json:"reason"`
	Authority string     `json:"authority"`
	Basis     string     `json:"basis,omitempty"`
	Expires   *time.Time `json:"expires,omitempty"`
}

func invalid(field, code, format string, args ...any) error {
	return fault.New(fault.Invalid, code, format, args...).At(field)
}

// name is what a datastore, collection, category or basis id looks like.
var name = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$`)

// check validates a hold's input against the rules and, when the
// organisation has published one, its policy in force (the basis).
func (s *Service) check(ctx context.Context, in *Input) error {
	sc := &in.Scope
	switch {
	case sc.Empty():
		return invalid("scope", "scope_required", "a hold covers a subject, a datastore, a category or a period: give at least one")
	case sc.Collection != "" && sc.Datastore == "":
		return invalid("scope.collection", "invalid_scope", "a collection is named within its datastore: give the datastore too")
	case sc.From != nil && sc.To != nil && !sc.To.After(*sc.From):
		return invalid("scope.to", "invalid_period", "the period's end must come after its start")
	}
	if sc.SubjectID != "" {
		if err := consent.ValidateSubjectID(sc.SubjectID); err != nil {
			return err
		}
	}
	for field, v := range map[string]string{"scope.datastore": sc.Datastore, "scope.collection": sc.Collection, "scope.category": sc.Category, "basis": in.Basis} {
		if v != "" && !name.MatchString(v) {
			return invalid(field, "invalid_name", "%s is 1 to 128 letters, digits and . _ : -", field)
		}
	}
	in.Reason, in.Authority = strings.TrimSpace(in.Reason), strings.TrimSpace(in.Authority)
	switch {
	case in.Reason == "":
		return invalid("reason", "reason_required", "say why the data must be kept")
	case utf8.RuneCountInString(in.Reason) > MaxReason || !text.Valid(in.Reason, true):
		return invalid("reason", "invalid_reason", "the reason is text of at most %d characters", MaxReason)
	case in.Authority == "":
		return invalid("authority", "authority_required", "give the reference of the court order, authority request or case")
	case utf8.RuneCountInString(in.Authority) > MaxAuthority || !text.Valid(in.Authority, false):
		return invalid("authority", "invalid_authority", "the authority's reference is one line of at most %d characters", MaxAuthority)
	case in.Expires != nil && !in.Expires.After(s.now()):
		return invalid("expires", "invalid_expiry", "a hold's expiry must lie in the future")
	}
	if in.Basis == "" {
		return nil
	}
	pv, err := s.st.CurrentPolicy(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil // nothing published yet to check against
	}
	if err != nil {
		return err
	}
	m, err := manifest.Parse("policy "+pv.Version, []byte(pv.Manifest))
	if err != nil {
		return err
	}
	var allowed []string
	for _, h := range m.LegalHolds {
		allowed = append(allowed, h.ID)
	}
	if !slices.Contains(allowed, in.Basis) {
		return fault.New(fault.Invalid, "invalid_legal_hold", "basis is not one of the policy's legal holds").At("basis").Allowing(allowed)
	}
	return nil
}

// Place records a hold placed by by. It holds from now until lifted or
// until it expires. The step is audited (hold.place) with the hold's id,
// scope kind and basis, never the subject, the reason or the authority.
func (s *Service) Place(ctx context.Context, by Operator, in Input) (Hold, error) {
	if !by.canAct() {
		return Hold{}, ErrRole
	}
	if err := s.check(ctx, &in); err != nil {
		return Hold{}, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	h := Hold{ID: ids.New("hl_"), Scope: in.Scope, Reason: in.Reason, Authority: in.Authority, Basis: in.Basis, PlacedBy: by.ID, PlacedAt: now, Expires: in.Expires}
	detail := map[string]any{"scope": h.Scope.Kind(), "basis": h.Basis, "expires": h.Expires != nil}
	if err := s.st.CreateLegalHold(ctx, toStore(h), s.entry(by, "hold.place", h.ID, detail)); err != nil {
		return Hold{}, err
	}
	return s.Get(ctx, h.ID)
}

// Get returns one hold.
func (s *Service) Get(ctx context.Context, id string) (Hold, error) {
	h, err := s.st.LegalHold(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Hold{}, ErrNotFound
	}
	if err != nil {
		return Hold{}, err
	}
	return FromStore(h), nil
}

// List returns the holds, newest first: those active now, or all of them
// (lifted and expired too).
func (s *Service) List(ctx context.Context, all bool) ([]Hold, error) {
	f := store.HoldFilter{}
	if !all {
		f.ActiveAt = s.now()
	}
	return s.list(ctx, f)
}

// Active returns the holds active at now: what a retention sweep honours.
func (s *Service) Active(ctx context.Context, now time.Time) ([]Hold, error) {
	return s.list(ctx, store.HoldFilter{ActiveAt: now})
}

// ForSubject returns the holds active at now that cover the subject's
// data: those naming it, and those naming no subject (a datastore, a
// category, a period of everyone's data).
func (s *Service) ForSubject(ctx context.Context, subjectID string, now time.Time) ([]Hold, error) {
	return s.list(ctx, store.HoldFilter{ActiveAt: now, Subject: subjectID})
}

func (s *Service) list(ctx context.Context, f store.HoldFilter) ([]Hold, error) {
	hs, err := s.st.LegalHolds(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]Hold, len(hs))
	for i, h := range hs {
		out[i] = FromStore(h)
	}
	return out, nil
}

// LiftParams are what a lift approval carries.
type LiftParams struct {
	Hold  string `json:"hold"`
	Scope string `json:"scope"` // the hold's scope kind, for the second operator
}

// RequestLift asks for the hold to be lifted: a pending approval of kind
// KindLift that a second operator decides through the approvals
// workflow, with the same rules as batch actions (not the requester, nor
// an account whose password the requester set, or that set theirs).
// Until then the hold holds. It returns the approval's id. The step is
// audited (hold.lift_request).
func (s *Service) RequestLift(ctx context.Context, by Operator, id, reason string) (string, error) {
	if !by.canAct() {
		return "", ErrRole
	}
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return "", invalid("reason", "reason_required", "say why the hold may be lifted")
	case utf8.RuneCountInString(reason) > MaxReason || !text.Valid(reason, true):
		return "", invalid("reason", "invalid_reason", "the reason is text of at most %d characters", MaxReason)
	}
	h, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	if !h.Active(s.now()) {
		return "", ErrNotActive
	}
	aps, err := s.st.Approvals(ctx, 1000)
	if err != nil {
		return "", err
	}
	for _, a := range aps {
		var p LiftParams
		if a.Kind == KindLift && a.State == store.ApprovalPending && json.Unmarshal([]byte(a.Params), &p) == nil && p.Hold == id {
			return "", ErrLiftPending
		}
	}
	b, _ := json.Marshal(LiftParams{Hold: id, Scope: h.Scope.Kind()})
	a := store.Approval{ID: ids.New("ap_"), Kind: KindLift, Params: string(b), Reason: reason, RequestedBy: by.ID, State: store.ApprovalPending, CreatedAt: s.now()}
	e := s.entry(by, "hold.lift_request", id, map[string]any{"approval": a.ID, "scope": h.Scope.Kind()})
	if err := s.st.CreateApproval(ctx, a, e); err != nil {
		return "", err
	}
	return a.ID, nil
}

func (s *Service) entry(by Operator, action, id string, detail map[string]any) audit.Entry {
	return audit.NewEntry(s.now(), by.actor(), action, "hold:"+id, "console", audit.OutcomeOK, detail)
}

// FromStore turns a stored hold into a Hold.
func FromStore(h store.LegalHold) Hold {
	out := Hold{ID: h.ID, Scope: Scope{SubjectID: h.SubjectID, Datastore: h.Datastore, Collection: h.Collection, Category: h.Category,
		From: timePtr(h.From), To: timePtr(h.To)}, Reason: h.Reason, Authority: h.Authority, Basis: h.Basis,
		PlacedBy: h.PlacedBy, PlacedAt: h.PlacedAt, Expires: timePtr(h.Expires), LiftedAt: timePtr(h.LiftedAt), LiftedBy: h.LiftedBy}
	return out
}

func toStore(h Hold) store.LegalHold {
	return store.LegalHold{ID: h.ID, SubjectID: h.Scope.SubjectID, Datastore: h.Scope.Datastore, Collection: h.Scope.Collection, Category: h.Scope.Category,
		From: timeOf(h.Scope.From), To: timeOf(h.Scope.To), Reason: h.Reason, Authority: h.Authority, Basis: h.Basis, PlacedBy: h.PlacedBy, PlacedAt: h.PlacedAt,
		Expires: timeOf(h.Expires), LiftedAt: timeOf(h.LiftedAt), LiftedBy: h.LiftedBy}
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Erasure returns, of hs, the holds active at now that stop an erasure
// of the subject's data: every hold naming the subject, and every hold
// naming no subject, whose datastore, category or period an erasure of
// all the subject's data would reach. A rights request cannot tell which
// of a person's data lies in a held period or category, so it keeps all
// of it rather than erase part of what is held.
func Erasure(hs []Hold, subjectID string, now time.Time) []Hold {
	var out []Hold
	for _, h := range hs {
		if h.Active(now) && h.Scope.CoversSubject(subjectID) {
			out = append(out, h)
		}
	}
	return out
}
