package consent

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/store"
)

var errNotAnonymous = fault.New(fault.Conflict, "visitor_not_anonymous", "this visitor id belongs to a registered subject; record its consent through the authenticated API")

// RecordAnonymous records consent for an anonymous visitor: a subject with
// no identities, no age and no guardian, named by a random id the visitor's
// browser made up. The subject is created on its first valid write, so a
// refused write leaves nothing behind. A subject that has since been given
// identities or an age is no longer anonymous and is refused, so a public
// caller cannot write to a known person's ledger.
func (s *Service) RecordAnonymous(ctx context.Context, a Actor, visitorID string, in ConsentInput) ([]ConsentEvent, error) {
	return s.anonymous(ctx, a, visitorID, strings.Join(append(slices.Clone(in.Grant), in.Withdraw...), ","), func(w *writeCtx) error {
		return w.consents(in)
	})
}

// anonymous runs a ledger write for an anonymous visitor, creating the
// visitor's subject first when the write is valid.
func (s *Service) anonymous(ctx context.Context, a Actor, visitorID, asked string, plan func(*writeCtx) error) ([]ConsentEvent, error) {
	if err := ValidateSubjectID(visitorID); err != nil {
		return nil, err
	}
	sub, err := s.st.Subject(ctx, visitorID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		ver, m, pol, err := s.Policy()
		if err != nil {
			return nil, err
		}
		// Validate before creating, as for the visitor about to exist; any
		// refusal goes through write, which audits it.
		w := &writeCtx{ctx: ctx, s: s, subject: visitorID, ver: ver, m: m, pol: pol, assume: snapshotOf(store.Subject{ID: visitorID, CreatedAt: s.now()}, nil, pol)}
		if err := plan(w); err != nil {
			return nil, s.refused(ctx, a, visitorID, asked, err)
		}
		detail, _ := json.Marshal(map[string]any{"identities": 0, "anonymous": true})
		err = s.st.CreateSubject(ctx, store.Subject{ID: visitorID, CreatedAt: s.now()}, s.entry(a, ActionSubjectCreate, "subject:"+visitorID, "", audit.OutcomeOK, string(detail)))
		if err != nil && !errors.Is(err, store.ErrConflict) { // a conflict: a concurrent first write made it
			return nil, err
		}
		if errors.Is(err, store.ErrConflict) {
			if sub, err = s.st.Subject(ctx, visitorID); err != nil {
				return nil, err
			}
			if !anonymous(sub) {
				return nil, errNotAnonymous
			}
		}
	case err != nil:
		return nil, err
	case !anonymous(sub):
		return nil, errNotAnonymous
	}
	return s.write(ctx, a, visitorID, asked, plan)
}

func anonymous(sub store.Subject) bool {
	return len(sub.Identities) == 0 && sub.BirthDate == "" && sub.AgeBand == "" && sub.GuardianID == "" && sub.Jurisdiction == ""
}

// ConsentVersions returns, oldest first, the labels of the published
// versions under which a consent to every one of purposes is still valid:
// those from the last version whose material change touched one of them.
// A banner re-asks a visitor whose stored choice was made under a version
// not in the list.
func (s *Service) ConsentVersions(purposes []string) ([]string, error) {
	cur := s.state()
	if cur == nil {
		return nil, errNoPolicy
	}
	return cur.consentVersions(purposes), nil
}

func (cur *current) consentVersions(purposes []string) []string {
	var epoch int64
	for _, p := range purposes {
		if r, ok := cur.compiled.Rule(p); ok && r.Epoch > epoch {
			epoch = r.Epoch
		}
	}
	var out []string
	for _, v := range cur.versions {
		if v.Seq >= epoch {
			out = append(out, v.Version)
		}
	}
	return out
}
