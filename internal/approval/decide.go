package approval

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

// Decide approves or rejects a pending approval on by's authority. The
// decider must be a second operator: not the requester, nor holding an
// account whose password the requester set or that set the requester's
// (the store checks both in the decision's transaction; a refusal is
// audited with its reason). An approved destruction then runs at once.
//
// A decision sent is carried through, decision and run alike, whether or
// not the caller waits for the answer: neither depends on ctx's
// cancellation. The approval is returned as it stands afterwards; a
// destruction that did not finish is left approved, to be resumed.
func (s *Service) Decide(ctx context.Context, by Operator, id string, approve bool, note string) (Approval, error) {
	if !by.canAct() {
		return Approval{}, ErrRole
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), decisionTimeout)
	defer cancel()
	a, err := s.load(ctx, id)
	if err != nil {
		return Approval{}, err
	}
	// A destruction that could not run must not be approved: the approval
	// would stand with nothing done.
	if approve && a.Kind == KindDestruction && s.requests == nil {
		return Approval{}, ErrNoRequests
	}
	action := "approval.reject"
	if approve {
		action = "approval.approve"
	}
	now := s.now()
	entries := []audit.Entry{s.entry(by, action, id, nil)}
	var also []store.TxFn
	if approve && a.Kind == KindHoldLift {
		// The hold is lifted with the decision, or not at all.
		var p Params
		json.Unmarshal([]byte(a.Params), &p)
		also = append(also, s.st.LiftLegalHoldFn(p.Hold, id, by.ID, now))
		entries = append(entries, audit.NewEntry(now, by.actor(), "hold.lift", "hold:"+p.Hold, "console", audit.OutcomeOK,
			map[string]any{"approval": id, "scope": p.Scope}))
	}
	err = s.st.DecideApprovalThen(ctx, id, by.ID, approve, note, now, also, entries...)
	if reason := refusal(err); reason != "" {
		e := s.entry(by, action, id, map[string]any{"reason": reason})
		e.Outcome = audit.OutcomeDenied
		if aerr := s.st.AppendAudit(ctx, e); aerr != nil {
			s.log.Error("approval: audit a refused decision", "approval", id, "err", aerr)
		}
	}
	if err != nil {
		return Approval{}, mapErr(err)
	}
	if approve && a.Kind == KindDestruction {
		if err := s.run(ctx, by, id); err != nil {
			return Approval{}, err
		}
		// The run may outlast the decision's deadline.
		return s.Get(context.WithoutCancel(ctx), id)
	}
	return s.Get(ctx, id)
}

// refusal names why the store refused a decision as not a second
// operator's, for the audit trail; "" for anything else.
func refusal(err error) string {
	switch {
	case errors.Is(err, store.ErrSelfApproval):
		return "self_approval"
	case errors.Is(err, store.ErrPasswordSetByRequester):
		return "password_set_by_requester"
	}
	return ""
}

// Resume carries on an approved destruction whose run stopped before
// the end, from the first subject not yet dealt with, on by's authority.
// While another run holds the destruction, ErrState.
func (s *Service) Resume(ctx context.Context, by Operator, id string) (Approval, error) {
	if !by.canAct() {
		return Approval{}, ErrRole
	}
	a, err := s.load(ctx, id)
	if err != nil {
		return Approval{}, err
	}
	if a.Kind != KindDestruction || a.State != StateApproved {
		return Approval{}, ErrState
	}
	if s.requests == nil {
		return Approval{}, ErrNoRequests
	}
	if err := s.run(ctx, by, id); err != nil {
		return Approval{}, err
	}
	return s.Get(context.WithoutCancel(ctx), id)
}

// run claims the destruction's run and carries it out, detached from
// ctx: a dropped connection does not stop it, RunTimeout does. A run that
// stops is logged and releases its lease so that it can be resumed at
// once; only a claim refused (another run holds it) is an error. The
// approval is read under the claim, so the progress it resumes from is
// the last run's, whoever made it.
func (s *Service) run(ctx context.Context, by Operator, id string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), RunTimeout)
	defer cancel()
	now := s.now()
	if err := s.st.ClaimApproval(ctx, id, now, now.Add(RunTimeout+time.Minute)); err != nil {
		return mapErr(err)
	}
	a, err := s.st.Approval(ctx, id)
	if err == nil {
		err = s.destroy(ctx, by, a)
	}
	if err != nil {
		s.log.Error("approval: batch destruction stopped", "approval", id, "err", err)
		if rerr := s.st.ReleaseApproval(context.WithoutCancel(ctx), id); rerr != nil {
			s.log.Error("approval: release batch destruction", "approval", id, "err", rerr)
		}
	}
	return nil
}

// destroy erases the subjects through deletion requests, verified by the
// two operators' decision, so each erasure follows the usual workflow
// (legal holds, recipients told, history kept). What was done is stored
// after each subject, so a run that stops is resumed where it stopped;
// the approval is marked executed only when every subject is dealt with.
func (s *Service) destroy(ctx context.Context, by Operator, a store.Approval) error {
	var p Params
	json.Unmarshal([]byte(a.Params), &p)
	var out []Outcome
	json.Unmarshal([]byte(a.Result), &out)
	done := map[string]bool{}
	for _, o := range out {
		done[o.Subject] = true
	}
	actor := by.actor()
	for _, sub := range p.Subjects {
		if done[sub] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		o := Outcome{Subject: sub}
		v, err := s.requests.SubmitOperator(ctx, actor, dsr.Input{Type: "deletion", Language: "zh-CN", SubjectID: sub,
			Verification: "operator", Evidence: "batch destruction " + a.ID + " approved by a second operator"})
		if err == nil {
			o.Request = v.ID
			if v.State == dsr.StateVerified {
				_, err = s.requests.Approve(ctx, actor, v.ID)
			}
		}
		if err == nil {
			_, err = s.requests.Complete(ctx, actor, v.ID, dsr.CompleteInput{})
		}
		if err != nil {
			if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal {
				o.Error = fe.Code
			} else if ctx.Err() != nil {
				return err // stopped: this subject is retried on resume
			} else {
				s.log.Error("approval: batch destruction", "approval", a.ID, "subject", sub, "err", err)
				o.Error = "internal"
			}
		}
		out = append(out, o)
		done[sub] = true
		b, _ := json.Marshal(out)
		if err := s.st.RecordApprovalProgress(ctx, a.ID, string(b)); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(out)
	return s.st.ExecuteApproval(ctx, a.ID, "", string(b), s.now(), s.entry(by, "approval.execute", a.ID, map[string]any{"subjects": len(p.Subjects)}))
}

// Discontinue carries out an approved discontinuation: run erases what
// the approved plan covers and returns what it did, which is kept with
// the approval, then marked executed (once: a second call is ErrState).
// The run itself checks that the plan is still the one approved.
func (s *Service) Discontinue(ctx context.Context, by Operator, id string, run func(ctx context.Context, p Params) (any, error)) (Approval, error) {
	if !by.canAct() {
		return Approval{}, ErrRole
	}
	a, err := s.load(ctx, id)
	if err != nil {
		return Approval{}, err
	}
	if a.Kind != KindDiscontinue || a.State != StateApproved {
		return Approval{}, ErrState
	}
	var p Params
	json.Unmarshal([]byte(a.Params), &p)
	out, err := run(ctx, p)
	if err != nil {
		return Approval{}, err
	}
	b, _ := json.Marshal(out)
	if err := s.st.ExecuteApproval(context.WithoutCancel(ctx), id, "", string(b), s.now(),
		s.entry(by, "approval.execute", id, map[string]any{"service": p.Service})); err != nil {
		return Approval{}, mapErr(err)
	}
	return s.Get(context.WithoutCancel(ctx), id)
}
