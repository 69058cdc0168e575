package approval

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/ids"
	"github.com/custos-privacy/custos/internal/store"
)

// Input is a request for a batch action.
type Input struct {
	Kind  string // KindExport or KindDestruction
	Scope string // ScopeSubjects or ScopeLedger; a destruction is always of subjects
	// Subjects are subject ids, for ScopeSubjects.
	Subjects []string
	// From and To are dates (YYYY-MM-DD, China time) for ScopeLedger,
	// both days included; To may not be after today.
	From, To string
	// Reason says why the batch is needed; the second operator reads it.
	Reason string
	// Service and Plan are, for KindDiscontinue, the service to end and
	// the hash of the erasure planned.
	Service, Plan string
}

var (
	serviceID = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
	planHash  = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func invalid(code, format string, args ...any) error {
	return fault.New(fault.Invalid, code, format, args...)
}

// params checks a request and returns what the approval will cover.
func (s *Service) params(in Input) (Params, error) {
	switch in.Kind {
	case KindExport, KindDestruction:
	case KindDiscontinue:
		if !serviceID.MatchString(in.Service) || !planHash.MatchString(in.Plan) {
			return Params{}, invalid("invalid_discontinuation", "name the service and the hash of its planned erasure")
		}
		return Params{Scope: ScopeService, Service: in.Service, Plan: in.Plan}, nil
	default:
		return Params{}, invalid("invalid_kind", "choose a batch export or a batch destruction")
	}
	p := Params{Scope: in.Scope}
	if in.Kind == KindDestruction {
		p.Scope = ScopeSubjects // the ledger is never destroyed
	}
	switch p.Scope {
	case ScopeSubjects:
		for _, id := range in.Subjects {
			if err := consent.ValidateSubjectID(id); err != nil {
				// The id may be personal data (an email typed by mistake):
				// the message does not repeat it.
				return Params{}, invalid("invalid_subject", "subject %d of the list is not a subject id", len(p.Subjects)+1)
			}
			p.Subjects = append(p.Subjects, id)
		}
		if len(p.Subjects) == 0 || len(p.Subjects) > MaxBatch {
			return Params{}, invalid("invalid_subjects", "name between 1 and %d subject ids", MaxBatch)
		}
	case ScopeLedger:
		from, err1 := time.ParseInLocation(time.DateOnly, in.From, calendar.China)
		to, err2 := time.ParseInLocation(time.DateOnly, in.To, calendar.China)
		if err1 != nil || err2 != nil || to.Before(from) {
			return Params{}, invalid("invalid_period", "give the period as two dates, the first not after the second")
		}
		if today := s.now().In(calendar.China).Format(time.DateOnly); to.Format(time.DateOnly) > today {
			return Params{}, invalid("future_period", "the period cannot end after today (%s)", today)
		}
		p.From, p.To = from.Format(time.DateOnly), to.Format(time.DateOnly)
	default:
		return Params{}, invalid("invalid_scope", "choose the subjects or the consent ledger for a period")
	}
	return p, nil
}

// Request records a pending approval asked for by by, for another
// operator to decide on. The request is audited (approval.request) with
// its size, never the subject ids.
func (s *Service) Request(ctx context.Context, by Operator, in Input) (Approval, error) {
	if !by.canAct() {
		return Approval{}, ErrRole
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" {
		return Approval{}, invalid("reason_required", "say why the batch is needed")
	}
	p, err := s.params(in)
	if err != nil {
		return Approval{}, err
	}
	b, _ := json.Marshal(p)
	a := store.Approval{ID: ids.New("ap_"), Kind: in.Kind, Params: string(b), Reason: reason, RequestedBy: by.ID, State: StatePending, CreatedAt: s.now()}
	detail := map[string]any{"kind": a.Kind, "scope": p.Scope, "subjects": len(p.Subjects), "from": p.From, "to": p.To}
	if p.Service != "" {
		detail["service"] = p.Service
	}
	if err := s.st.CreateApproval(ctx, a, s.entry(by, "approval.request", a.ID, detail)); err != nil {
		return Approval{}, err
	}
	return s.Get(ctx, a.ID)
}
