// Package approval holds the two-operator rule for batch actions: a
// batch export of subjects' data or of the consent ledger, and a batch
// destruction, run only after a second operator approves them. The
// console and the command line both go through it, so the same checks
// run and the same steps are audited whichever is used.
//
// The guarantees that must hold under concurrency live in the store, in
// the same transaction as the change: a decision by the requester or by
// an account whose password the requester set (or the other way round)
// is refused, a decision is taken once, an export is downloaded once and
// only within its validity, and one run at a time holds a destruction.
// This package owns the rest: what may be asked for, who may act, and
// the workflow of a destruction's run and an export's download.
package approval

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/store"
)

// Kinds of batch action.
const (
	KindExport      = store.ApprovalBatchExport
	KindDestruction = store.ApprovalBatchDestruction
	// KindHoldLift lifts a legal hold (asked for through package hold);
	// the hold is lifted in the decision's transaction.
	KindHoldLift = store.ApprovalHoldLift
	// KindDiscontinue erases what a discontinued service alone collected
	// (package retention), once approved.
	KindDiscontinue = store.ApprovalDiscontinue
)

// States of an approval.
const (
	StatePending  = store.ApprovalPending
	StateApproved = store.ApprovalApproved
	StateRejected = store.ApprovalRejected
	StateExecuted = store.ApprovalExecuted
)

// Scopes of a batch: the subjects listed, or the consent ledger for a
// period (exports only).
const (
	ScopeSubjects = "subjects"
	ScopeLedger   = "ledger"
	// ScopeService: a discontinued service's data (KindDiscontinue).
	ScopeService = "service"
)

// MaxBatch bounds how many subjects one approval covers.
const MaxBatch = 1000

// ExportValidity is how long after its approval an export may be
// downloaded; the store enforces it when the download is counted.
const ExportValidity = store.ExportValidity

// RunTimeout bounds a destruction's run; the run's lease lasts a minute
// longer, after which a run that stopped without releasing it may be
// resumed.
const RunTimeout = 30 * time.Minute

// decisionTimeout bounds recording a decision, once it is sent.
const decisionTimeout = time.Minute

// Errors, with the codes pages and commands show.
var (
	ErrNotFound = fault.New(fault.NotFound, "approval_not_found", "no such approval")
	// ErrSelfApproval: the requester tried to decide on their own request.
	ErrSelfApproval = fault.New(fault.Forbidden, "self_approval", "you cannot decide on your own request")
	// ErrPasswordSetBy: the decider's password was set by the requester,
	// or the requester's by the decider, so one person may hold both.
	ErrPasswordSetBy = fault.New(fault.Forbidden, "password_set_by_requester",
		"you cannot decide on this request: your password was set by the requester (or theirs by you); change your password first, or let another operator decide")
	// ErrExpired: an export approved ExportValidity or longer ago.
	ErrExpired = fault.New(fault.Conflict, "approval_expired", "the export was approved more than 7 days ago and has expired; ask for a new one")
	// ErrState: the approval is not in a state that allows the step
	// (decided already, downloaded already, a run in progress).
	ErrState = fault.New(fault.Conflict, "approval_state", "the approval's state does not allow this (it may have been decided or downloaded already)")
	// ErrNotRequester: only the operator who asked for an export gets it.
	ErrNotRequester = fault.New(fault.Forbidden, "not_requester", "only the operator who asked for the export may download it")
	// ErrRole: auditors read approvals but do not act on them.
	ErrRole = fault.New(fault.Forbidden, "role_forbidden", "only admins and operators ask for, decide on and carry out batch actions")
	// ErrNoRequests: destructions go through rights requests, which this
	// server cannot take (no data keyset).
	ErrNoRequests = fault.New(fault.Unavailable, "requests_disabled", "rights requests are disabled on this server (no data keyset)")
	// ErrNoSubjects: this process cannot read subjects (no keys loaded).
	ErrNoSubjects = fault.New(fault.Unavailable, "subjects_unavailable", "subjects cannot be read here (no keys loaded)")
)

// Store is the persistence approvals need.
type Store interface {
	CreateApproval(ctx context.Context, a store.Approval, entries ...audit.Entry) error
	Approval(ctx context.Context, id string) (store.Approval, error)
	Approvals(ctx context.Context, limit int) ([]store.Approval, error)
	DecideApprovalThen(ctx context.Context, id, decidedBy string, approve bool, note string, at time.Time, also []store.TxFn, entries ...audit.Entry) error
	LiftLegalHoldFn(id, approvalID, by string, at time.Time) store.TxFn
	ExecuteApproval(ctx context.Context, id, by, result string, at time.Time, entries ...audit.Entry) error
	ClaimApproval(ctx context.Context, id string, now, until time.Time, entries ...audit.Entry) error
	RecordApprovalProgress(ctx context.Context, id, result string) error
	ReleaseApproval(ctx context.Context, id string, entries ...audit.Entry) error
	CountApprovals(ctx context.Context, state string) (int64, error)
	LedgerCount(ctx context.Context, from, to time.Time) (int64, int64, error)
	StreamLedgerEvents(ctx context.Context, from, to time.Time, maxSeq int64, fn func(store.ConsentEvent) error) error
	Operators(ctx context.Context) ([]store.Operator, error)
	AppendAudit(ctx context.Context, entries ...audit.Entry) error
}

// Subjects reads what a subjects export holds (the consent service).
type Subjects interface {
	Subject(ctx context.Context, a consent.Actor, id, purpose string) (consent.SubjectView, error)
	History(ctx context.Context, a consent.Actor, subjectID string, after int64, limit int) ([]consent.ConsentEvent, error)
}

// Requests erases subjects through deletion requests (the rights-request
// service), so that a destruction follows the usual workflow.
type Requests interface {
	SubmitOperator(ctx context.Context, a consent.Actor, in dsr.Input) (dsr.View, error)
	Approve(ctx context.Context, a consent.Actor, id string) (dsr.View, error)
	Complete(ctx context.Context, a consent.Actor, id string, in dsr.CompleteInput) (dsr.View, error)
}

// Options are what a Service runs with besides its store.
type Options struct {
	// Subjects is nil where subjects cannot be read: exports of
	// subjects are then refused before their download is counted.
	Subjects Subjects
	// Requests is nil when rights requests are disabled: destructions
	// are then refused before they are approved.
	Requests Requests
	Logger   *slog.Logger
	Now      func() time.Time
}

// Service runs the two-operator workflow.
type Service struct {
	st       Store
	subjects Subjects
	requests Requests
	log      *slog.Logger
	now      func() time.Time
}

// New returns the service.
func New(st Store, opt Options) *Service {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	s := &Service{st: st, log: opt.Logger, now: opt.Now}
	// The server hands over its services whether or not they are enabled:
	// a nil pointer in an interface must read as "not there".
	if !isNil(opt.Subjects) {
		s.subjects = opt.Subjects
	}
	if !isNil(opt.Requests) {
		s.requests = opt.Requests
	}
	return s
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// Operator is who acts on approvals: a signed-in operator's account and
// role, and where they act from (a client address, a command-line host).
type Operator struct {
	ID    string
	Role  string
	Place string
}

// actor is how the audit trail names the operator.
func (o Operator) actor() consent.Actor {
	return consent.Actor{ID: "operator:" + o.ID, Role: o.Role, Place: o.Place}
}

// canAct reports whether the operator's role may ask for, decide on and
// carry out batch actions; auditors only read.
func (o Operator) canAct() bool {
	return o.ID != "" && slices.Contains([]string{operator.RoleAdmin, operator.RoleOperator}, o.Role)
}

// Params are what a batch covers: the subjects, or for a ledger export
// the period [From, To] as dates in China time, both days included.
type Params struct {
	Scope    string   `json:"scope"`
	Subjects []string `json:"subjects,omitempty"`
	From     string   `json:"from,omitempty"`
	To       string   `json:"to,omitempty"`
	// Hold is the legal hold a KindHoldLift lifts; Scope is then the
	// hold's scope kind (subject, datastore+category, …).
	Hold string `json:"hold,omitempty"`
	// Service and Plan are, for KindDiscontinue, the service ended and
	// the hash of the erasure planned (retention.Discontinuation.Hash).
	Service string `json:"service,omitempty"`
	Plan    string `json:"plan,omitempty"`
}

// Outcome is what a destruction did for one subject: the deletion
// request it went through, or the code of the error that stopped it.
type Outcome struct {
	Subject string `json:"subject"`
	Request string `json:"request,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Approval is a batch action as operators see it.
type Approval struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Params Params `json:"params"`
	Reason string `json:"reason"`
	State  string `json:"state"`
	// RequestedBy and DecidedBy are usernames ("" for an account since
	// removed, or before the decision); RequesterID is for comparisons.
	RequestedBy string    `json:"requested_by"`
	DecidedBy   string    `json:"decided_by,omitempty"`
	RequesterID string    `json:"-"`
	Note        string    `json:"note,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
	ExecutedAt  time.Time `json:"executed_at,omitzero"`
	// Expired: an approved export past its download window.
	Expired bool `json:"expired,omitempty"`
	// Running: a destruction's run holds the lease now.
	Running bool `json:"running,omitempty"`
	// Outcomes are what a destruction has done, subject by subject.
	Outcomes []Outcome `json:"outcomes,omitempty"`
	// Records is how many records a downloaded export held.
	Records int64 `json:"records,omitempty"`
}

// Done is how many subjects a destruction has dealt with.
func (a Approval) Done() int { return len(a.Outcomes) }

// view turns a stored approval into what operators see, with usernames
// from names (operator id → username).
func (s *Service) view(a store.Approval, names map[string]string, now time.Time) Approval {
	v := Approval{ID: a.ID, Kind: a.Kind, Reason: a.Reason, State: a.State, RequestedBy: names[a.RequestedBy], DecidedBy: names[a.DecidedBy],
		RequesterID: a.RequestedBy, Note: a.Note, CreatedAt: a.CreatedAt, DecidedAt: a.DecidedAt, ExecutedAt: a.ExecutedAt,
		Expired: a.Expired(now), Running: a.Kind == KindDestruction && now.Before(a.LeaseUntil)}
	json.Unmarshal([]byte(a.Params), &v.Params)
	switch a.Kind {
	case KindDestruction:
		json.Unmarshal([]byte(a.Result), &v.Outcomes)
	case KindExport:
		var r struct{ Records int64 }
		json.Unmarshal([]byte(a.Result), &r)
		v.Records = r.Records
	}
	return v
}

// names maps operator ids to usernames.
func (s *Service) names(ctx context.Context) (map[string]string, error) {
	ops, err := s.st.Operators(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(ops))
	for _, o := range ops {
		names[o.ID] = o.Username
	}
	return names, nil
}

// List returns the approvals, newest first, at most limit (200 when
// limit is not positive).
func (s *Service) List(ctx context.Context, limit int) ([]Approval, error) {
	list, err := s.st.Approvals(ctx, limit)
	if err != nil {
		return nil, err
	}
	names, err := s.names(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := make([]Approval, len(list))
	for i, a := range list {
		out[i] = s.view(a, names, now)
	}
	return out, nil
}

// Get returns one approval.
func (s *Service) Get(ctx context.Context, id string) (Approval, error) {
	a, err := s.load(ctx, id)
	if err != nil {
		return Approval{}, err
	}
	names, err := s.names(ctx)
	if err != nil {
		return Approval{}, err
	}
	return s.view(a, names, s.now()), nil
}

// Pending counts the approvals waiting for a decision.
func (s *Service) Pending(ctx context.Context) (int64, error) {
	return s.st.CountApprovals(ctx, StatePending)
}

func (s *Service) load(ctx context.Context, id string) (store.Approval, error) {
	a, err := s.st.Approval(ctx, id)
	if err != nil {
		return store.Approval{}, mapErr(err)
	}
	return a, nil
}

// mapErr turns the store's refusals into this package's faults; other
// errors (the store's own, already naming the operation) pass as they are.
func mapErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrSelfApproval):
		return ErrSelfApproval
	case errors.Is(err, store.ErrPasswordSetByRequester):
		return ErrPasswordSetBy
	case errors.Is(err, store.ErrApprovalExpired):
		return ErrExpired
	case errors.Is(err, store.ErrApprovalState):
		return ErrState
	}
	return err
}

// entry is an audit entry for a step taken by by. The purpose is the
// console's whichever way the step came: the place tells a command line
// from a browser.
func (s *Service) entry(by Operator, action, id string, detail map[string]any) audit.Entry {
	return audit.NewEntry(s.now(), by.actor(), action, "approval:"+id, "console", audit.OutcomeOK, detail)
}
