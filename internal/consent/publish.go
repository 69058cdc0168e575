package consent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/policy"
	"github.com/custos-privacy/custos/internal/store"
)

// Published is the outcome of a publication.
type Published struct {
	Version   string   `json:"version"`
	Seq       int64    `json:"seq"`
	Created   bool     `json:"created"`
	Material  bool     `json:"material"`
	Reconsent []string `json:"reconsent"`
	// Accept lists purposes on other bases that people must accept again
	// (the manifest asks for express consent after a material change).
	Accept []string `json:"accept"`
	// EffectiveAt is when the version comes into force; Upcoming is true
	// while it is announced and not yet in force.
	EffectiveAt time.Time `json:"effective_at"`
	Upcoming    bool      `json:"upcoming"`
}

// PublishOptions say when a version comes into force.
type PublishOptions struct {
	// EffectiveAt is when the version comes into force. Zero means the
	// manifest's policy.effective date, at 00:00 China time, when that is
	// later than now; otherwise at once.
	EffectiveAt time.Time
	// Now is the time of publication (zero: the clock).
	Now time.Time
	// Check, when not nil, may refuse the manifest before anything is
	// recorded: what else in the deployment depends on the policy (the
	// entrustments a controller made must stay within it).
	Check func(ctx context.Context, m *manifest.Manifest) error
}

// PublishStore is what publishing needs.
type PublishStore interface {
	CurrentPolicy(ctx context.Context) (store.PolicyVersion, error)
	PolicyVersion(ctx context.Context, version string) (store.PolicyVersion, error)
	PublishPolicy(ctx context.Context, pv store.PolicyVersion, basedOn int64, entries ...audit.Entry) (store.PolicyVersion, bool, error)
}

// Publish records manifest source (already validated by the caller or not)
// as a new policy version, in force at once or announced for a later
// instant. Against the version published before it computes what changed:
// a material change to consent purposes makes their earlier consents stale
// (decisions answer reconsent_required until the subject consents again),
// under express_consent purposes on other bases need the version accepted,
// and the notices of the change are queued for every subject it affects.
// A manifest promising notice_days of notice before a material change
// cannot take effect sooner.
func Publish(ctx context.Context, st PublishStore, a Actor, name string, source []byte, opt PublishOptions, entry func() audit.Entry) (Published, error) {
	m, err := manifest.Parse(name, source)
	if err != nil {
		return Published{}, fault.New(fault.Invalid, "invalid_manifest", "%v", err)
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	sum := sha256Hex(source)
	// A label is published once: the same content again is a no-op, other
	// content a conflict, whatever has been published since.
	switch pv, err := st.PolicyVersion(ctx, m.Policy.Version); {
	case err == nil && pv.SHA256 == sum:
		return published(pv, false, now), nil
	case err == nil:
		return Published{}, errVersionExists(m.Policy.Version)
	case !errors.Is(err, store.ErrNotFound):
		return Published{}, err
	}
	if opt.Check != nil {
		if err := opt.Check(ctx, m); err != nil {
			return Published{}, err
		}
	}
	for attempt := 0; ; attempt++ {
		cur, err := st.CurrentPolicy(ctx)
		var basedOn int64
		diff := &policy.Diff{Changes: []policy.Change{}, Reconsent: []string{}}
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return Published{}, err
		default:
			basedOn = cur.Seq
			if cur.SHA256 == sum {
				return published(cur, false, now), nil
			}
			old, err := manifest.Parse("policy "+cur.Version, []byte(cur.Manifest))
			if err != nil {
				return Published{}, fmt.Errorf("parse current policy %s: %w", cur.Version, err)
			}
			diff = policy.Compare(old, m)
		}
		effective, err := effectiveAt(m, diff, opt.EffectiveAt, now, basedOn > 0)
		if err != nil {
			return Published{}, err
		}
		diffJSON, err := json.Marshal(diff)
		if err != nil {
			return Published{}, err
		}
		e := entry()
		e.Action, e.Object, e.Outcome = ActionPolicyPublish, "policy:"+m.Policy.Version, audit.OutcomeOK
		detail, _ := json.Marshal(map[string]any{"material": diff.Material, "reconsent": diff.Reconsent, "accept": nonNil(diff.Accept),
			"changes": len(diff.Changes), "effective_at": effective.UTC()})
		e.Detail = string(detail)
		pv, created, err := st.PublishPolicy(ctx, store.PolicyVersion{Version: m.Policy.Version, SHA256: sum, Manifest: string(source),
			PublishedAt: now, EffectiveAt: effective, Material: diff.Material, Reconsent: diff.Reconsent, Accept: diff.Accept, Diff: string(diffJSON),
			NoticesPending: diff.Material && basedOn > 0}, basedOn, e)
		switch {
		case errors.Is(err, store.ErrStalePublish) && attempt < 3:
			continue
		case errors.Is(err, store.ErrConflict):
			return Published{}, errVersionExists(m.Policy.Version)
		case errors.Is(err, store.ErrEffectiveOrder):
			return Published{}, fault.New(fault.Invalid, "effective_before_previous", "version %s would take effect before a version published earlier; versions take effect in the order they are published", m.Policy.Version).At("effective_at")
		case err != nil:
			return Published{}, err
		}
		return published(pv, created, now), nil
	}
}

func errVersionExists(label string) error {
	return fault.New(fault.Conflict, "version_exists", "policy version %s is already published with other content; give the manifest a new policy.version", label)
}

func published(pv store.PolicyVersion, created bool, now time.Time) Published {
	return Published{Version: pv.Version, Seq: pv.Seq, Created: created, Material: pv.Material, Reconsent: nonNil(pv.Reconsent),
		Accept: nonNil(pv.Accept), EffectiveAt: pv.EffectiveAt.UTC(), Upcoming: pv.EffectiveAt.After(now)}
}

// effectiveAt works out and checks when a version comes into force.
func effectiveAt(m *manifest.Manifest, diff *policy.Diff, asked, now time.Time, hasPrevious bool) (time.Time, error) {
	at := asked
	if at.IsZero() && m.Policy.Effective != "" {
		if d, err := time.ParseInLocation(time.DateOnly, string(m.Policy.Effective), calendar.China); err == nil && d.After(now) {
			at = d
		}
	}
	if at.Before(now) {
		at = now
	}
	u := m.Policy.Updates
	if at.After(now) && u.EffectiveOnPost && hasPrevious {
		return time.Time{}, fault.New(fault.Invalid, "effective_on_posting", "the policy says a new version takes effect when posted (policy.updates.effective_on_posting): it cannot be announced for %s", at.UTC().Format(time.RFC3339)).At("effective_at")
	}
	if diff.Material && u.NoticeDays > 0 && hasPrevious {
		if earliest := now.AddDate(0, 0, u.NoticeDays); at.Before(earliest) {
			return time.Time{}, fault.New(fault.Invalid, "notice_period_too_short",
				"version %s changes the policy materially and the policy promises %d days' notice (policy.updates.notice_days): it can take effect at %s at the earliest",
				m.Policy.Version, u.NoticeDays, earliest.UTC().Format(time.RFC3339)).At("effective_at")
		}
	}
	return at, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Publish records a new policy version in force at once, or at the
// manifest's effective date (see PublishWith).
func (s *Service) Publish(ctx context.Context, a Actor, name string, source []byte) (Published, error) {
	return s.PublishWith(ctx, a, name, source, PublishOptions{})
}

// PublishWith records a new policy version and loads it here at once
// (other instances pick it up on their next poll); an announced version
// comes into force on every instance at its effective instant.
func (s *Service) PublishWith(ctx context.Context, a Actor, name string, source []byte, opt PublishOptions) (Published, error) {
	if opt.Now.IsZero() {
		opt.Now = s.now()
	}
	if opt.Check == nil {
		opt.Check = s.opt.CheckPolicy
	}
	p, err := Publish(ctx, s.st, a, name, source, opt, func() audit.Entry { return s.entry(a, "", "", "", "", "") })
	if err != nil {
		return Published{}, err
	}
	if err := s.reloadPolicy(ctx); err != nil {
		return Published{}, err
	}
	return p, nil
}
