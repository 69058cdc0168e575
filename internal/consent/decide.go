package consent

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/store"
)

// CheckInput asks about one subject, named by id or by an identity, and
// optionally about one act done for the purposes: providing the data to a
// recipient, transferring it abroad, or disclosing it publicly.
type CheckInput struct {
	SubjectID string         `json:"subject_id,omitempty"`
	Identity  *IdentityInput `json:"identity,omitempty"`
	Purposes  []string       `json:"purposes"`
	// Recipient is a recipient id: may the data be provided to it?
	Recipient string `json:"recipient,omitempty"`
	// Transfer is a cross-border transfer id: may the data go abroad under it?
	Transfer string `json:"transfer,omitempty"`
	// Disclosure asks whether the data may be publicly disclosed.
	Disclosure bool `json:"disclosure,omitempty"`
}

// act reads the act a check asks about; unknown ids are the caller's
// mistake, not a decision.
func (in CheckInput) act(pol *check.Policy) (check.Act, error) {
	var a check.Act
	n := 0
	if in.Recipient != "" {
		a, n = check.Act{Kind: check.ActRecipient, ID: in.Recipient}, n+1
		if !pol.HasAct(a) {
			return a, invalid("unknown_recipient", "recipient", "recipient %q is not in the policy in force", in.Recipient).Allowing(actIDs(pol, check.ActRecipient))
		}
	}
	if in.Transfer != "" {
		a, n = check.Act{Kind: check.ActTransfer, ID: in.Transfer}, n+1
		if !pol.HasAct(a) {
			return a, invalid("unknown_transfer", "transfer", "cross-border transfer %q is not in the policy in force", in.Transfer).Allowing(actIDs(pol, check.ActTransfer))
		}
	}
	if in.Disclosure {
		a, n = check.Act{Kind: check.ActDisclosure}, n+1
	}
	if n > 1 {
		return a, fault.New(fault.Invalid, "one_act", "ask about one act at a time: recipient, transfer or disclosure").At("recipient")
	}
	return a, nil
}

// CheckResult is the answer: one decision per purpose, in the order asked.
type CheckResult struct {
	SubjectID     string           `json:"subject_id,omitempty"`
	KnownSubject  bool             `json:"known_subject"`
	PolicyVersion string           `json:"policy_version"`
	Decisions     []check.Decision `json:"decisions"`
}

// maxCheckPurposes bounds one check.
const maxCheckPurposes = 64

// Check decides for every purpose asked whether the subject's data may be
// processed for it. Denials are always recorded in the audit trail, allowed
// decisions at the configured sampling rate; the records are queued, not
// waited for, so the hot path does not wait on a disk.
func (s *Service) Check(ctx context.Context, a Actor, in CheckInput) (CheckResult, error) {
	if len(in.Purposes) == 0 || len(in.Purposes) > maxCheckPurposes {
		return CheckResult{}, invalid("invalid_purposes", "purposes", "give 1 to %d purposes", maxCheckPurposes)
	}
	_, _, pol, err := s.Policy()
	if err != nil {
		return CheckResult{}, err
	}
	act, err := in.act(pol)
	if err != nil {
		return CheckResult{}, err
	}
	id, err := s.resolve(ctx, in)
	if err != nil {
		return CheckResult{}, err
	}
	var subj *check.Subject
	if id != "" {
		subj, err = s.snapshot(ctx, id, pol)
		if err != nil {
			return CheckResult{}, err
		}
	}
	res := CheckResult{SubjectID: id, KnownSubject: subj != nil, PolicyVersion: pol.Version, Decisions: make([]check.Decision, len(in.Purposes))}
	now := s.now()
	var entries []audit.Entry
	allowed := s.allowed.Load()
	for i, p := range in.Purposes {
		d := pol.DecideAct(subj, p, act, now)
		res.Decisions[i] = d
		if allowed != nil && d.Allowed && id != "" {
			(*allowed)(id, p, act)
		}
		if !d.Allowed || sampled(s.opt.CheckSample) {
			action, outcome := ActionCheckAllow, audit.OutcomeOK
			if !d.Allowed {
				action, outcome = ActionCheckDeny, audit.OutcomeDenied
			}
			object := "subject:" + id
			if id == "" {
				object = "subject:unknown"
			}
			fields := map[string]string{"reason": d.Reason}
			if act.Kind != check.ActNone {
				fields["act"] = check.ActKey(act)
			}
			detail, _ := json.Marshal(fields)
			entries = append(entries, s.entry(a, action, object, p, outcome, string(detail)))
		}
	}
	if len(entries) > 0 {
		if err := s.st.EnqueueAudit(ctx, entries...); err != nil {
			return CheckResult{}, err
		}
	}
	if id == "" {
		res.SubjectID = ""
	}
	return res, nil
}

// OnAllowed has fn told of every allowed decision about a named subject
// (the register of transfers counts the people whose information goes
// abroad from them). fn runs on the decision path: it must not wait.
func (s *Service) OnAllowed(fn func(subjectID, purpose string, act check.Act)) {
	if fn == nil {
		s.allowed.Store(nil)
		return
	}
	s.allowed.Store(&fn)
}

func (s *Service) resolve(ctx context.Context, in CheckInput) (string, error) {
	switch {
	case in.SubjectID != "" && in.Identity != nil:
		return "", invalid("invalid_subject", "subject_id", "name the subject by subject_id or by identity, not both")
	case in.SubjectID != "":
		if err := ValidateSubjectID(in.SubjectID); err != nil {
			return "", err
		}
		return in.SubjectID, nil
	case in.Identity != nil:
		norm, err := identity.Normalize(in.Identity.Kind, in.Identity.Value)
		if err != nil {
			return "", fault.New(fault.Invalid, "invalid_identity", "not a valid %s", kindName(in.Identity.Kind)).At("identity")
		}
		h := s.opt.Hasher.Hash(in.Identity.Kind, norm)
		if id, ok := s.ids.get(h); ok {
			return id, nil
		}
		id, err := s.st.SubjectByIdentity(ctx, h)
		if errors.Is(err, store.ErrNotFound) {
			return "", nil // an unknown person: decisions as for no consent
		}
		if err != nil {
			return "", err
		}
		s.ids.put(h, id)
		return id, nil
	}
	return "", invalid("invalid_subject", "subject_id", "name the subject by subject_id or by identity")
}

// snapshot returns the subject's decision state, from the cache or the
// database; nil for an unknown subject.
func (s *Service) snapshot(ctx context.Context, id string, pol *check.Policy) (*check.Subject, error) {
	if subj, ok := s.cache.get(id); ok {
		if !subj.Known {
			return nil, nil
		}
		return subj, nil
	}
	gen := s.cache.generation()
	sub, states, err := s.st.SubjectState(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		s.cache.put(id, &check.Subject{}, gen) // remember absence too
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	subj := snapshotOf(sub, states, pol)
	// A snapshot derives values (minor status) from the policy: cache it
	// only if that policy is still the one in force.
	if _, _, cur, err := s.Policy(); err == nil && cur == pol {
		s.cache.put(id, subj, gen)
	}
	return subj, nil
}

// snapshotOf builds a decision snapshot under pol: the subject's
// jurisdiction and age facts are read against that policy's rules.
func snapshotOf(sub store.Subject, states []store.ConsentState, pol *check.Policy) *check.Subject {
	jur := pol.Jurisdiction(sub.Jurisdiction)
	var birth time.Time
	if sub.BirthDate != "" {
		birth, _ = time.Parse(time.DateOnly, sub.BirthDate)
	}
	until, unknown := pol.Age(birth, sub.AgeBand, jur)
	subj := &check.Subject{Known: true, Restricted: sub.Restricted, Jurisdiction: jur, MinorUntil: until, AgeUnknown: unknown,
		GuardianID: sub.GuardianID, CreatedAt: sub.CreatedAt, Consents: make(map[string]check.Consent, len(states))}
	for _, c := range states {
		subj.Consents[c.Purpose] = check.Consent{Action: check.ParseAction(c.Action), ByGuardian: c.ByGuardian, VersionSeq: c.VersionSeq}
	}
	return subj
}

// Snapshot returns the cached decision state of a subject, or nil; for
// benchmarks that call check.Decide directly.
func (s *Service) Snapshot(id string) *check.Subject {
	subj, _ := s.cache.peek(id)
	return subj
}
