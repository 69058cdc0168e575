// Package consent keeps the promises about consent at run time: subjects and
// their identities, the append-only consent ledger with the manifest's rules
// enforced at write time, policy versions that make consents stale, signed
// receipts, and the decision hot path.
package consent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/receipt"
	"github.com/custos-privacy/custos/internal/seal"
	"github.com/custos-privacy/custos/internal/store"
)

// Store is the persistence the service needs.
type Store interface {
	CreateSubject(ctx context.Context, sub store.Subject, entries ...audit.Entry) error
	AddIdentities(ctx context.Context, subjectID string, ids []store.Identity, entries ...audit.Entry) error
	UpdateSubject(ctx context.Context, id string, p store.SubjectPatch, entries ...audit.Entry) error
	Subject(ctx context.Context, id string) (store.Subject, error)
	SubjectByIdentity(ctx context.Context, hash []byte) (string, error)
	SubjectState(ctx context.Context, id string) (store.Subject, []store.ConsentState, error)
	AppendConsents(ctx context.Context, events []store.ConsentEvent, entries []audit.Entry) error
	ConsentEvents(ctx context.Context, subjectID string, after int64, limit int) ([]store.ConsentEvent, error)
	ConsentEvent(ctx context.Context, subjectID, eventID string) (store.ConsentEvent, error)
	PublishPolicy(ctx context.Context, pv store.PolicyVersion, basedOn int64, entries ...audit.Entry) (store.PolicyVersion, bool, error)
	PolicyVersions(ctx context.Context) ([]store.PolicyVersion, error)
	CurrentPolicy(ctx context.Context) (store.PolicyVersion, error)
	AppendAudit(ctx context.Context, entries ...audit.Entry) error
	EnqueueAudit(ctx context.Context, entries ...audit.Entry) error
	ChangesSince(ctx context.Context, after int64, limit int) ([]store.Change, int64, error)
	AuditHead(ctx context.Context) (audit.Chain, error)
	OnApply(fn func([]*store.Write))
}

// Actor is who performs an operation, in which role, from where.
type Actor struct {
	ID    string // API key id, "cli:<user>", "system"
	Role  string
	Place string // source address and host
}

// Options configure a Service.
type Options struct {
	Hasher *identity.Hasher
	Sealer *seal.Sealer
	Signer *receipt.Signer
	Logger *slog.Logger
	// CheckSample is the share of allowed decisions recorded in the audit
	// trail; denials are always recorded.
	CheckSample float64
	// CacheSize bounds the subjects kept in memory for decisions.
	CacheSize int
	Now       func() time.Time
}

// Service is the consent ledger and decision point.
type Service struct {
	st     Store
	opt    Options
	log    *slog.Logger
	now    func() time.Time
	cache  *cache
	ids    *idCache
	policy sync.RWMutex // guards cur
	cur    *current

	changeMu   sync.Mutex
	changeSeq  int64
	changeSubs []func(store.Change)
}

// current is the policy version in force.
type current struct {
	labels   map[int64]string // every published version's label by sequence
	versions []store.PolicyVersion
	version  store.PolicyVersion
	manifest *manifest.Manifest
	compiled *check.Policy
}

// New builds the service and loads the current policy version, if any.
func New(ctx context.Context, st Store, opt Options) (*Service, error) {
	if opt.Hasher == nil {
		return nil, errors.New("consent: an identity hasher is required")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.CacheSize <= 0 {
		opt.CacheSize = 200_000
	}
	s := &Service{st: st, opt: opt, log: opt.Logger, now: opt.Now, cache: newCache(opt.CacheSize), ids: newIDCache(opt.CacheSize)}
	head, err := st.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	s.changeSeq = head.Seq
	st.OnApply(s.applied)
	if err := s.reloadPolicy(ctx); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return s, nil
}

// applied sees every batch this process commits and drops cached state of
// the subjects it touched, before the writers are answered.
func (s *Service) applied(batch []*store.Write) {
	for _, w := range batch {
		for _, e := range w.Events {
			s.cache.apply(e.SubjectID, e.Purpose, check.Consent{Granted: e.Action == store.ActionGrant, ByGuardian: e.GuardianID != "", VersionSeq: e.VersionSeq})
		}
		for _, e := range w.Audit {
			if id, ok := subjectOf(e.Object); ok && changesSubject(e.Action) {
				s.cache.invalidate(id)
			}
		}
	}
}

// changesSubject reports whether an action changes a subject's attributes
// (consent events are folded into the cache instead).
func changesSubject(action string) bool {
	return len(action) > 8 && action[:8] == "subject." && action != ActionSubjectRead
}

func subjectOf(object string) (string, bool) {
	const p = "subject:"
	if len(object) > len(p) && object[:len(p)] == p {
		return object[len(p):], true
	}
	return "", false
}

// OnChange registers fn for state changes seen by Poll (made by any instance).
func (s *Service) OnChange(fn func(store.Change)) {
	s.changeMu.Lock()
	s.changeSubs = append(s.changeSubs, fn)
	s.changeMu.Unlock()
}

// Poll picks up changes other instances made since the last poll: their
// subjects leave the cache, a new policy version is loaded. Run it on a
// ticker; one instance's writes reach another's decisions within one
// interval.
func (s *Service) Poll(ctx context.Context) error {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	for {
		changes, last, err := s.st.ChangesSince(ctx, s.changeSeq, 1000)
		if err != nil {
			return err
		}
		reload := false
		for _, c := range changes {
			if id, ok := subjectOf(c.Object); ok {
				s.cache.invalidate(id)
			}
			if c.Action == ActionPolicyPublish {
				reload = true
			}
			for _, fn := range s.changeSubs {
				fn(c)
			}
		}
		if reload {
			if err := s.reloadPolicy(ctx); err != nil {
				return err
			}
		}
		more := last-s.changeSeq >= 1000
		s.changeSeq = last
		if !more {
			return nil
		}
	}
}

// Run polls for other instances' changes until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Poll(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("poll for changes failed", "err", err)
			}
		}
	}
}

// Audit actions.
const (
	ActionSubjectCreate   = "subject.create"
	ActionSubjectRead     = "subject.read"
	ActionSubjectUpdate   = "subject.update"
	ActionIdentityAdd     = "subject.identity_add"
	ActionRestrict        = "subject.restrict"
	ActionUnrestrict      = "subject.unrestrict"
	ActionConsentGrant    = "consent.grant"
	ActionConsentWithdraw = "consent.withdraw"
	ActionConsentRejected = "consent.rejected"
	ActionConsentRead     = "consent.read"
	ActionReceipt         = "consent.receipt"
	ActionPolicyPublish   = "policy.publish"
	ActionCheckAllow      = "check.allow"
	ActionCheckDeny       = "check.deny"
)

func (s *Service) entry(a Actor, action, object, purpose, outcome, detail string) audit.Entry {
	if detail == "" {
		detail = "{}"
	}
	return audit.Entry{At: s.now(), Actor: a.ID, Role: a.Role, Place: a.Place, Action: action, Object: object, Purpose: purpose, Outcome: outcome, Detail: detail}
}

// Policy returns the version in force and its manifest, or ErrNotFound
// before anything is published.
func (s *Service) Policy() (store.PolicyVersion, *manifest.Manifest, *check.Policy, error) {
	s.policy.RLock()
	defer s.policy.RUnlock()
	if s.cur == nil {
		return store.PolicyVersion{}, nil, nil, fault.New(fault.Unavailable, "no_policy", "no policy version is published yet")
	}
	return s.cur.version, s.cur.manifest, s.cur.compiled, nil
}

func (s *Service) reloadPolicy(ctx context.Context) error {
	versions, err := s.st.PolicyVersions(ctx)
	if err != nil {
		return err
	}
	if len(versions) == 0 {
		return store.ErrNotFound
	}
	last := versions[len(versions)-1]
	s.policy.RLock()
	same := s.cur != nil && s.cur.version.Seq == last.Seq
	s.policy.RUnlock()
	if same {
		return nil
	}
	m, err := manifest.Parse("policy "+last.Version, []byte(last.Manifest))
	if err != nil {
		return fmt.Errorf("load published policy %s: %w", last.Version, err)
	}
	compiled := check.Compile(m, last.Seq, Epochs(versions))
	s.policy.Lock()
	labels := map[int64]string{}
	for _, v := range versions {
		labels[v.Seq] = v.Version
	}
	s.cur = &current{labels: labels, versions: versions, version: last, manifest: m, compiled: compiled}
	s.policy.Unlock()
	s.cache.clear() // snapshots hold values (minor status) derived from the policy
	s.log.Info("policy version in force", "version", last.Version, "seq", last.Seq)
	return nil
}

func (s *Service) versionLabels() map[int64]string {
	s.policy.RLock()
	defer s.policy.RUnlock()
	if s.cur == nil {
		return nil
	}
	return s.cur.labels
}

// manifestAt parses the manifest of an earlier version.
func (s *Service) manifestAt(ctx context.Context, seq int64) (*manifest.Manifest, error) {
	s.policy.RLock()
	cur := s.cur
	s.policy.RUnlock()
	if cur == nil {
		return nil, store.ErrNotFound
	}
	if seq == cur.version.Seq {
		return cur.manifest, nil
	}
	for _, v := range cur.versions {
		if v.Seq == seq {
			return manifest.Parse("policy "+v.Version, []byte(v.Manifest))
		}
	}
	return nil, store.ErrNotFound
}

// Epochs computes, per purpose, the last version whose change made its consents stale.
func Epochs(versions []store.PolicyVersion) map[string]int64 {
	out := map[string]int64{}
	for _, v := range versions {
		for _, p := range v.Reconsent {
			if v.Seq > out[p] {
				out[p] = v.Seq
			}
		}
	}
	return out
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func sampled(rate float64) bool {
	return rate >= 1 || rate > 0 && rand.Float64() < rate
}
