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
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/receipt"
	"github.com/custos-privacy/custos/internal/store"
)

// Store is the persistence the service needs.
type Store interface {
	CreateSubject(ctx context.Context, sub store.Subject, entries ...audit.Entry) error
	AddIdentities(ctx context.Context, subjectID string, ids []store.Identity, entries ...audit.Entry) error
	ReplaceIdentities(ctx context.Context, subjectID string, id store.Identity, entries ...audit.Entry) error
	UpdateSubject(ctx context.Context, id string, p store.SubjectPatch, entries ...audit.Entry) error
	Subject(ctx context.Context, id string) (store.Subject, error)
	SubjectByIdentity(ctx context.Context, hash []byte) (string, error)
	SubjectState(ctx context.Context, id string) (store.Subject, []store.ConsentState, error)
	Wards(ctx context.Context, guardianID string) ([]string, error)
	AppendConsents(ctx context.Context, events []store.ConsentEvent, entries []audit.Entry) error
	ConsentEvents(ctx context.Context, subjectID string, after int64, limit int) ([]store.ConsentEvent, error)
	ConsentEvent(ctx context.Context, subjectID, eventID string) (store.ConsentEvent, error)
	PublishPolicy(ctx context.Context, pv store.PolicyVersion, basedOn int64, entries ...audit.Entry) (store.PolicyVersion, bool, error)
	PolicyVersions(ctx context.Context) ([]store.PolicyVersion, error)
	CurrentPolicy(ctx context.Context) (store.PolicyVersion, error)
	PolicyVersion(ctx context.Context, version string) (store.PolicyVersion, error)
	NoticeTargets(ctx context.Context, after string, limit int, keys []string) ([]store.NoticeTarget, error)
	NoticesCursor(ctx context.Context, seq int64) (string, bool, error)
	QueueNotices(ctx context.Context, seq int64, from, to string, done bool, ds []notify.Delivery, entries ...audit.Entry) error
	AppendAudit(ctx context.Context, entries ...audit.Entry) error
	EnqueueAudit(ctx context.Context, entries ...audit.Entry) error
	ChangesSince(ctx context.Context, after int64, limit int) ([]store.Change, int64, error)
	AuditHead(ctx context.Context) (audit.Chain, error)
	OnApply(fn func([]*store.Write)) (remove func())
}

// Actor is who performs an operation, in which role, from where: the audit
// trail's actor.
type Actor = audit.Actor

// Options configure a Service.
type Options struct {
	Hasher *identity.Hasher
	// Keys seal what is kept about a person under their own key
	// (identities, the messages they are sent).
	Keys   *keystore.Store
	Signer *receipt.Signer
	Logger *slog.Logger
	// CheckSample is the share of allowed decisions recorded in the audit
	// trail; denials are always recorded.
	CheckSample float64
	// CacheSize bounds the subjects kept in memory for decisions, and the
	// identities kept resolved to them (default 200,000 each).
	CacheSize int
	Now       func() time.Time
	// MinorDiscovered is called when a subject turns out to be a minor
	// whose information was collected without a guardian's consent, under a
	// manifest that promises to delete it (minors.delete_if_discovered).
	// The server opens an erasure request with it.
	MinorDiscovered func(ctx context.Context, subjectID, language string) error
	// CheckPolicy, when not nil, may refuse a manifest about to be
	// published (PublishOptions.Check): the server checks the
	// organisation's entrustments with it.
	CheckPolicy func(ctx context.Context, m *manifest.Manifest) error
}

// Service is the consent ledger and decision point.
type Service struct {
	// unhook takes the service off the store's committed writes (Close).
	unhook func()
	st     Store
	opt    Options
	log    *slog.Logger
	now    func() time.Time
	cache  *cache
	ids    *idCache
	policy sync.RWMutex // guards cur
	cur    *current
	// parsed holds the published manifests by sequence number, each
	// parsed once; its own lock keeps readers off the policy lock.
	parsedMu sync.Mutex
	parsed   map[int64]*manifest.Manifest

	// allowed is told of allowed decisions (OnAllowed).
	allowed atomic.Pointer[func(subjectID, purpose string, act check.Act)]

	changeMu   sync.Mutex
	changeSeq  atomic.Int64 // written under changeMu; Behind reads it without
	changeSubs []func(Change)
}

// current is the policy version in force, and the one announced to come
// into force next, if any.
type current struct {
	labels   map[int64]string // every published version's label by sequence
	versions []store.PolicyVersion
	version  store.PolicyVersion
	manifest *manifest.Manifest
	compiled *check.Policy
	// nextAt is when the next version comes into force; zero when none is
	// announced. Every instance switches on its own clock at that instant.
	nextAt time.Time
	// banners are the banner configurations built for this state, by
	// language.
	banners sync.Map
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
	s := &Service{st: st, opt: opt, log: opt.Logger, now: opt.Now, cache: newCache(opt.CacheSize), ids: newIDCache(opt.CacheSize), parsed: map[int64]*manifest.Manifest{}}
	head, err := st.AuditHead(ctx)
	if err != nil {
		return nil, err
	}
	s.changeSeq.Store(head.Seq)
	s.unhook = st.OnApply(s.applied)
	if err := s.reloadPolicy(ctx); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close takes the service off the store's committed writes, for a service
// that is given up while the store goes on (an organisation's server that
// could not be assembled). The store stays open.
func (s *Service) Close() {
	if s.unhook != nil {
		s.unhook()
	}
}

// CacheStats reports the decision cache's lookups that found the subject
// (hits), those that went to the database (misses), and how many subjects
// it holds now.
func (s *Service) CacheStats() (hits, misses uint64, size int) { return s.cache.stats() }

// applied sees every batch this process commits and drops cached state of
// the subjects it touched, before the writers are answered.
func (s *Service) applied(batch []*store.Write) {
	for _, w := range batch {
		for _, e := range w.Events {
			s.cache.apply(e.SubjectID, e.Purpose, check.Consent{Action: check.ParseAction(e.Action), ByGuardian: e.GuardianID != "", VersionSeq: e.VersionSeq})
		}
		for _, e := range w.Audit {
			if id, ok := subjectOf(e.Object); ok && changesSubject(e.Action) {
				s.cache.invalidate(id)
				if e.Action == ActionIdentityReplace {
					s.ids.forget(id)
				}
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

// Change is a state change another instance (or this one) made: the
// audited action and its object, such as key.revoke on key:<id>.
type Change struct {
	Action string
	Object string
}

// OnChange registers fn for state changes seen by Poll (made by any instance).
func (s *Service) OnChange(fn func(Change)) {
	s.changeMu.Lock()
	s.changeSubs = append(s.changeSubs, fn)
	s.changeMu.Unlock()
}

// Poll picks up changes other instances made since the last poll: their
// subjects leave the cache, a new policy version is loaded. Run calls it;
// one instance's writes reach another's decisions within one interval, or
// as soon as a wake-up says so.
func (s *Service) Poll(ctx context.Context) error {
	s.changeMu.Lock()
	defer s.changeMu.Unlock()
	for {
		changes, last, err := s.st.ChangesSince(ctx, s.changeSeq.Load(), 1000)
		if err != nil {
			return err
		}
		reload := false
		for _, c := range changes {
			if id, ok := subjectOf(c.Object); ok {
				s.cache.invalidate(id)
				if c.Action == ActionIdentityReplace {
					s.ids.forget(id)
				}
			}
			if c.Action == ActionPolicyPublish {
				reload = true
			}
			for _, fn := range s.changeSubs {
				fn(Change{Action: c.Action, Object: c.Object})
			}
		}
		if reload {
			if err := s.reloadPolicy(ctx); err != nil {
				return err
			}
		}
		// Fewer than asked for: there are no more changes after last.
		more := len(changes) >= 1000
		s.changeSeq.Store(last)
		if !more {
			return nil
		}
	}
}

// Behind reports whether the trail holds a change past what Poll has read:
// head is the sequence number of the organisation's last change
// (store.Store.ChangeHeads), so a deployment can ask once for all its
// organisations and wake only the feeds that have something to read.
func (s *Service) Behind(head int64) bool { return head > s.changeSeq.Load() }

// wakeGap is the least time between two polls woken by notifications:
// it bounds the polls a busy database costs each instance, and adds at
// most itself to the time another instance's write takes to be seen.
const wakeGap = 50 * time.Millisecond

// Run polls for other instances' changes until ctx ends: every interval,
// and at once when wake receives (store.Store.Listen: another instance
// committed). Wake-ups that come while a poll runs make one more poll,
// not one each. The ticker stays as the safety net for a wake-up lost
// with its connection; a nil wake leaves the ticker alone. With every <= 0
// there is no ticker: the caller wakes it when there is something to read
// (a deployment that asks ChangeHeads on its own ticker for all its
// organisations at once).
func (s *Service) Run(ctx context.Context, every time.Duration, wake <-chan struct{}) {
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-wake:
			// Under a steady stream of commits every instance would poll
			// once per commit, and the polls cost the writers; waiting
			// out wakeGap since the last poll takes a burst's commits in
			// one.
			if d := wakeGap - time.Since(last); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			}
		}
		last = time.Now()
		if err := s.Poll(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("poll for changes failed", "err", err)
		}
	}
}

// Audit actions.
const (
	ActionSubjectCreate   = "subject.create"
	ActionMinorDiscovered = "subject.minor_discovered"
	ActionSubjectRead     = "subject.read"
	ActionSubjectUpdate   = "subject.update"
	ActionIdentityAdd     = "subject.identity_add"
	ActionIdentityReplace = "subject.identity_replace"
	ActionRestrict        = "subject.restrict"
	ActionUnrestrict      = "subject.unrestrict"
	ActionConsentGrant    = "consent.grant"
	ActionConsentWithdraw = "consent.withdraw"
	ActionConsentRejected = "consent.rejected"
	ActionObject          = "objection.object"
	ActionLift            = "objection.lift"
	ActionOverride        = "objection.override"
	ActionAccept          = "policy.accept"
	ActionPolicyInForce   = "policy.in_force"
	ActionPolicyNotices   = "policy.notices"
	ActionConsentRead     = "consent.read"
	ActionReceipt         = "consent.receipt"
	ActionPolicyPublish   = "policy.publish"
	ActionCheckAllow      = "check.allow"
	ActionCheckDeny       = "check.deny"
)

func (s *Service) entry(a Actor, action, object, purpose, outcome, detail string) audit.Entry {
	return audit.NewEntry(s.now(), a, action, object, purpose, outcome, detail)
}

// Policy returns the version in force and its manifest, or ErrNotFound
// before anything is published. A version announced for a later instant
// comes into force here the first time Policy is called at or after it,
// on every instance alike: no instance waits for another to tell it.
func (s *Service) Policy() (store.PolicyVersion, *manifest.Manifest, *check.Policy, error) {
	cur := s.state()
	if cur == nil {
		return store.PolicyVersion{}, nil, nil, errNoPolicy
	}
	return cur.version, cur.manifest, cur.compiled, nil
}

var errNoPolicy = fault.New(fault.Unavailable, "no_policy", "no policy version is published yet")

// state returns what is in force now, bringing an announced version into
// force once its instant has come; nil before anything is published.
func (s *Service) state() *current {
	s.policy.RLock()
	cur := s.cur
	s.policy.RUnlock()
	if cur == nil || cur.nextAt.IsZero() || s.now().Before(cur.nextAt) {
		return cur
	}
	next, err := s.advance(cur)
	if err != nil {
		// The version in force stays in force; the next call tries again.
		s.log.Error("cannot bring the announced policy version into force", "err", err)
		return cur
	}
	return next
}

// advance brings the announced version into force, once.
func (s *Service) advance(seen *current) (*current, error) {
	s.policy.Lock()
	defer s.policy.Unlock()
	if s.cur != seen { // another caller advanced meanwhile
		return s.cur, nil
	}
	next, err := s.build(seen.versions, s.now())
	if err != nil {
		return nil, err
	}
	s.cur = next
	s.cache.clear() // snapshots hold values derived from the policy (minor status, jurisdiction)
	s.log.Info("policy version in force", "version", next.version.Version, "seq", next.version.Seq)
	return next, nil
}

func (s *Service) reloadPolicy(ctx context.Context) error {
	versions, err := s.st.PolicyVersions(ctx)
	if err != nil {
		return err
	}
	if len(versions) == 0 {
		return store.ErrNotFound
	}
	s.policy.Lock()
	defer s.policy.Unlock()
	if s.cur != nil && len(s.cur.versions) == len(versions) && s.cur.versions[len(versions)-1].Seq == versions[len(versions)-1].Seq {
		return nil // nothing published since; an announced version comes into force in Policy
	}
	next, err := s.build(versions, s.now())
	if err != nil {
		return err
	}
	changed := s.cur == nil || s.cur.version.Seq != next.version.Seq
	s.cur = next
	s.cache.clear()
	if changed {
		s.log.Info("policy version in force", "version", next.version.Version, "seq", next.version.Seq)
	}
	return nil
}

// build works out, from every published version, the one in force at now
// and what decisions need of the history before it. The caller holds the
// write lock.
func (s *Service) build(versions []store.PolicyVersion, now time.Time) (*current, error) {
	in := -1
	for i, v := range versions {
		if !v.EffectiveAt.After(now) {
			in = i
		}
	}
	if in < 0 {
		// Nothing is in force yet: the first version is announced. Serve
		// it all the same; a policy that has never been in force has no
		// earlier one to fall back on.
		in = 0
	}
	c := &current{labels: map[int64]string{}, versions: versions, version: versions[in]}
	for _, v := range versions {
		c.labels[v.Seq] = v.Version
	}
	for _, v := range versions[in+1:] {
		if v.EffectiveAt.After(now) {
			c.nextAt = v.EffectiveAt
			break
		}
	}
	m, err := s.parse(c.version)
	if err != nil {
		return nil, err
	}
	c.manifest = m
	c.compiled = check.Compile(m, History(versions[:in+1]))
	return c, nil
}

// parse returns the manifest of a published version, parsed once.
func (s *Service) parse(v store.PolicyVersion) (*manifest.Manifest, error) {
	s.parsedMu.Lock()
	defer s.parsedMu.Unlock()
	if m, ok := s.parsed[v.Seq]; ok {
		return m, nil
	}
	m, err := manifest.Parse("policy "+v.Version, []byte(v.Manifest))
	if err != nil {
		return nil, fmt.Errorf("load published policy %s: %w", v.Version, err)
	}
	s.parsed[v.Seq] = m
	return m, nil
}

func (s *Service) versionLabels() map[int64]string {
	if cur := s.state(); cur != nil {
		return cur.labels
	}
	return nil
}

// manifestAt returns the manifest of a published version.
func (s *Service) manifestAt(seq int64) (*manifest.Manifest, error) {
	cur := s.state()
	if cur == nil {
		return nil, store.ErrNotFound
	}
	for _, v := range cur.versions {
		if v.Seq == seq {
			return s.parse(v)
		}
	}
	return nil, store.ErrNotFound
}

// History is what decisions need of the versions that have been in force
// (oldest first, the one in force last): per ledger key, the last version
// whose material change made consents stale, and per purpose on another
// basis, the last version that needs express acceptance, from its
// effective instant.
func History(inForce []store.PolicyVersion) check.History {
	h := check.History{Reconsent: map[string]int64{}, Accept: map[string]check.Acceptance{}}
	for _, v := range inForce {
		h.Seq = v.Seq
		for _, p := range v.Reconsent {
			h.Reconsent[p] = v.Seq
		}
		for _, p := range v.Accept {
			h.Accept[p] = check.Acceptance{Seq: v.Seq, Since: v.EffectiveAt}
		}
	}
	return h
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func sampled(rate float64) bool {
	return rate >= 1 || rate > 0 && rand.Float64() < rate
}
