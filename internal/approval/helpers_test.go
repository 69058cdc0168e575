package approval_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/approval"
	"github.com/custos-privacy/custos/internal/clocktest"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/store/storetest"
)

// backends runs fn on a fresh SQLite database and on a fresh PostgreSQL
// schema: the rules that matter most are kept by the database.
func backends(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	storetest.Backends(t, func(t *testing.T, dsn string) { fn(t, storetest.Open(t, dsn)) })
}

// requests stands for the rights-request service: it records the
// deletions asked for, and refuses the subjects listed in held with a
// legal hold, as a policy would.
type requests struct {
	mu      sync.Mutex
	deleted []string // subjects, in the order their deletion completed
	held    map[string]bool
	n       int
}

func (r *requests) SubmitOperator(_ context.Context, a consent.Actor, in dsr.Input) (dsr.View, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if in.Type != "deletion" || in.Verification != "operator" || a.ID == "" {
		return dsr.View{}, errors.New("not a deletion verified by an operator")
	}
	r.n++
	return dsr.View{ID: "rq_" + in.SubjectID, State: dsr.StateVerified, SubjectID: in.SubjectID}, nil
}

func (r *requests) Approve(_ context.Context, _ consent.Actor, id string) (dsr.View, error) {
	return dsr.View{ID: id, State: dsr.StateInProgress}, nil
}

func (r *requests) Complete(_ context.Context, _ consent.Actor, id string, _ dsr.CompleteInput) (dsr.View, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sub := id[len("rq_"):]
	if r.held[sub] {
		return dsr.View{}, fault.New(fault.Conflict, "legal_hold", "a legal hold keeps this subject's data")
	}
	r.deleted = append(r.deleted, sub)
	return dsr.View{ID: id, State: dsr.StateCompleted}, nil
}

func (r *requests) done() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.deleted...)
}

// subjects stands for the consent service: the subjects it knows have
// one consent event each.
type subjects map[string]bool

func (s subjects) Subject(_ context.Context, _ consent.Actor, id, _ string) (consent.SubjectView, error) {
	if !s[id] {
		return consent.SubjectView{}, fault.New(fault.NotFound, "subject_not_found", "no such subject")
	}
	return consent.SubjectView{ID: id, Identities: []consent.IdentityView{}}, nil
}

func (s subjects) History(_ context.Context, _ consent.Actor, id string, _ int64, _ int) ([]consent.ConsentEvent, error) {
	return []consent.ConsentEvent{{ID: "ev_" + id, Purpose: "analytics", Action: "grant"}}, nil
}

// env is an approval service on a store with accounts whose passwords
// were set by one another:
//
//	admin  set by the CLI
//	puppet set by admin;  chain set by puppet (so, through it, by admin)
//	made   set by admin;  own and other set by themselves
//	audit  an auditor, set by itself
type env struct {
	t     *testing.T
	ctx   context.Context
	st    *store.Store
	svc   *approval.Service
	clock *clocktest.Clock
	reqs  *requests
	ops   map[string]approval.Operator // by username
}

// start is the tests' time: a working day in China, mid-morning.
var start = time.Date(2026, 10, 13, 2, 0, 0, 0, time.UTC)

func newEnv(t *testing.T, st *store.Store) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, ctx: ctx, st: st, clock: clocktest.New(start), reqs: &requests{held: map[string]bool{}}, ops: map[string]approval.Operator{}}
	for _, o := range []store.Operator{
		{ID: "op_admin", Username: "admin", Role: "admin", PasswordSetBy: "cli"},
		{ID: "op_puppet", Username: "puppet", Role: "operator", PasswordSetBy: "admin"},
		{ID: "op_chain", Username: "chain", Role: "operator", PasswordSetBy: "puppet"},
		{ID: "op_made", Username: "made", Role: "operator", PasswordSetBy: "admin"},
		{ID: "op_own", Username: "own", Role: "operator", PasswordSetBy: "own"},
		{ID: "op_other", Username: "other", Role: "admin", PasswordSetBy: "other"},
		{ID: "op_audit", Username: "audit", Role: "auditor", PasswordSetBy: "audit"},
	} {
		o.DisplayName, o.PasswordHash, o.CreatedAt, o.UpdatedAt = o.Username, "$argon2id$unused", start, start
		if err := st.CreateOperator(ctx, o); err != nil {
			t.Fatal(err)
		}
		e.ops[o.Username] = approval.Operator{ID: o.ID, Role: o.Role, Place: "test"}
	}
	e.svc = e.service(st)
	return e
}

// service is an approval service on st (the env's store, or one wrapped
// to fail) with the env's clock, subjects and requests.
func (e *env) service(st approval.Store) *approval.Service {
	return approval.New(st, approval.Options{Requests: e.reqs, Subjects: subjects{"u-1": true, "u-2": true},
		Logger: slog.New(slog.DiscardHandler), Now: e.clock.Now})
}

// ask records an approval asked for by the user, which must succeed.
func (e *env) ask(user string, in approval.Input) approval.Approval {
	e.t.Helper()
	if in.Reason == "" {
		in.Reason = "retention ended"
	}
	a, err := e.svc.Request(e.ctx, e.ops[user], in)
	if err != nil {
		e.t.Fatalf("request by %s: %v", user, err)
	}
	return a
}

// get reads an approval, which must exist.
func (e *env) get(id string) approval.Approval {
	e.t.Helper()
	a, err := e.svc.Get(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// code is the fault code of err, "" for none, "!" plus the text for an
// error that is not a fault.
func code(err error) string {
	if err == nil {
		return ""
	}
	if fe, ok := fault.As(err); ok {
		return fe.Code
	}
	return "!" + err.Error()
}

// audited lists the audit entries about an approval as action/outcome,
// with the refusal reason when there is one.
func (e *env) audited(id string) []string {
	e.t.Helper()
	entries, err := e.st.AuditEntries(e.ctx, store.AuditFilter{Limit: 100000})
	if err != nil {
		e.t.Fatal(err)
	}
	out := []string{}
	for _, en := range entries {
		if en.Object != "approval:"+id {
			continue
		}
		s := en.Action + "/" + en.Outcome
		var d struct{ Reason string }
		json.Unmarshal([]byte(en.Detail), &d)
		if d.Reason != "" {
			s += ":" + d.Reason
		}
		out = append(out, s)
	}
	return out
}
