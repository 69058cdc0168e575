package transfer

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/check"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/manifest"
	"github.com/custos-privacy/custos/internal/store"
)

// Sources of a count: where the service learnt that a person's
// information went abroad.
const (
	SourceConsent  = "consent"  // a separate consent to the transfer was given
	SourceDecision = "decision" // the decision point allowed processing for a transfer's purpose
	SourceReport   = "report"   // the application reported the transfer (POST /v1/transfers)
)

// Store is the persistence the service needs.
type Store interface {
	RecordTransfers(ctx context.Context, people []store.TransferPerson, entries ...audit.Entry) (int64, error)
	TransferCounts(ctx context.Context, year int) ([]store.TransferCount, error)
	TransferTotal(ctx context.Context, year int) (store.TransferCount, error)
	RecordTransferAlert(ctx context.Context, a store.TransferAlert, entries ...audit.Entry) (bool, error)
	TransferAlerts(ctx context.Context, year int) ([]store.TransferAlert, error)
}

// Options are what a Service runs with besides its store.
type Options struct {
	// Key keys the hashes that stand for people: the organisation's own,
	// derived like its other keys. Required.
	Key []byte
	// Manifest returns the manifest in force. Required.
	Manifest func() (*manifest.Manifest, error)
	// Alert tells the organisation's contact or admins of a threshold
	// projected or crossed; it is called once per alert and year.
	Alert func(ctx context.Context, a Alert) error
	// Observe is told, at each evaluation, each flow's people and their
	// projection to 31 December (metrics).
	Observe func(flow string, sensitive bool, people, projected int64)
	// FlushEvery is how long people counted from consents and decisions
	// wait in memory before they are written (default 1s): what a crash
	// may lose. Reports through Report are written before they return.
	FlushEvery time.Duration
	// EvaluateEvery spaces the threshold evaluations after flushes
	// (default one minute); Evaluate runs one at once.
	EvaluateEvery time.Duration
	// Remember is how many people (per flow) the service remembers as
	// counted this year, so that a decision about one of them costs no
	// write (default 1<<18, some 30 MB at most). Past it the memory is
	// cleared: the table's key still counts each person once, at the
	// price of writing them again. It bounds the memory, whatever the
	// number of people.
	Remember int
	Logger   *slog.Logger
	Now      func() time.Time
}

// Service counts the people whose information goes abroad.
type Service struct {
	st  Store
	opt Options
	log *slog.Logger
	now func() time.Time

	reg   atomic.Pointer[snapshot]
	mu    sync.Mutex
	year  int
	seen  map[string]struct{} // flow + "\x00" + subject, this year, counted or pending
	queue []store.TransferPerson

	kick      chan struct{}
	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	// gen counts this service's writes; the year's numbers are read
	// again after each, and at least every cacheFor for other instances'.
	gen      atomic.Uint64
	dirty    atomic.Bool // written since the last evaluation
	cacheMu  sync.Mutex
	cache    map[int]cachedCounts
	flushMu  sync.Mutex // one flush at a time: Flush returns once what was queued before it is written
	evalMu   sync.Mutex
	lastEval time.Time
}

// snapshot is the register of the manifest in force, with the flows
// each decision and each ledger key reaches.
type snapshot struct {
	m         *manifest.Manifest
	reg       *Register
	byPurpose map[string][]int // purpose → cross_border flows serving it
}

// ErrNoPolicy: no policy is in force, so there is no register.
var ErrNoPolicy = fault.New(fault.Unavailable, "no_policy", "no policy is published: there is no register of transfers")

// MaxSubjects bounds one report.
const MaxSubjects = 1000

// New returns the service and starts its writer; Close stops it.
func New(st Store, opt Options) (*Service, error) {
	if len(opt.Key) == 0 || opt.Manifest == nil {
		return nil, errors.New("transfer: a key and the manifest are required")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.FlushEvery <= 0 {
		opt.FlushEvery = time.Second
	}
	if opt.EvaluateEvery == 0 {
		opt.EvaluateEvery = time.Minute
	}
	if opt.Remember <= 0 {
		opt.Remember = 1 << 18
	}
	s := &Service{st: st, opt: opt, log: opt.Logger, now: opt.Now, seen: map[string]struct{}{},
		kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	s.refresh()
	go s.run()
	return s, nil
}

// refresh rebuilds the register when the manifest in force changed.
func (s *Service) refresh() *snapshot {
	m, err := s.opt.Manifest()
	cur := s.reg.Load()
	if err != nil || m == nil {
		if cur == nil {
			cur = &snapshot{reg: &Register{Thresholds: CAC}, byPurpose: map[string][]int{}}
			s.reg.Store(cur)
		}
		return cur
	}
	if cur != nil && cur.m == m {
		return cur
	}
	sn := &snapshot{m: m, reg: Build(m), byPurpose: map[string][]int{}}
	for i, f := range sn.reg.Flows {
		if f.Kind != KindCrossBorder {
			continue
		}
		for _, p := range f.Purposes {
			sn.byPurpose[p] = append(sn.byPurpose[p], i)
		}
	}
	s.reg.Store(sn)
	return sn
}

// Register returns the register of the manifest in force.
func (s *Service) Register(context.Context) (*Register, error) {
	sn := s.refresh()
	if sn.m == nil {
		return nil, s.noPolicy()
	}
	return sn.reg, nil
}

// noPolicy is why there is no manifest: the source's error, or ErrNoPolicy.
func (s *Service) noPolicy() error {
	if _, err := s.opt.Manifest(); err != nil {
		return err
	}
	return ErrNoPolicy
}

// Person is the keyed hash that stands for a subject in a year's counts.
func (s *Service) Person(subjectID string, year int) string {
	m := hmac.New(sha256.New, s.opt.Key)
	m.Write([]byte(strconv.Itoa(year)))
	m.Write([]byte{0})
	m.Write([]byte(subjectID))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Decided is told of each allowed decision (the decision point's hook).
// It never waits on the database: a person new to a flow this year is
// queued in memory and written with others shortly after.
func (s *Service) Decided(subjectID, purpose string, act check.Act) {
	if subjectID == "" {
		return
	}
	sn := s.reg.Load()
	switch act.Kind {
	case check.ActTransfer:
		if f, ok := sn.reg.Flow(act.ID); ok {
			s.queueOne(f, subjectID, SourceDecision)
		}
	case check.ActRecipient:
		for _, f := range sn.reg.Flows {
			if f.Recipient == act.ID && (len(f.Purposes) == 0 || slices.Contains(f.Purposes, purpose)) {
				s.queueOne(f, subjectID, SourceDecision)
			}
		}
	case check.ActNone:
		for _, i := range sn.byPurpose[purpose] {
			s.queueOne(sn.reg.Flows[i], subjectID, SourceDecision)
		}
	}
}

// ConsentsCommitted is told of committed writes (the store's OnApply
// hook): each separate consent granted to a transfer (ledger key
// transfer:<id>) or to a transfer's purpose counts its person.
func (s *Service) ConsentsCommitted(writes []*store.Write) {
	sn := s.reg.Load()
	for _, w := range writes {
		for _, e := range w.Events {
			if e.Action != store.ActionGrant {
				continue
			}
			if id, ok := strings.CutPrefix(e.Purpose, "transfer:"); ok {
				if f, ok := sn.reg.Flow(id); ok {
					s.queueOne(f, e.SubjectID, SourceConsent)
				}
				continue
			}
			if !e.Separate {
				continue
			}
			for _, i := range sn.byPurpose[e.Purpose] {
				s.queueOne(sn.reg.Flows[i], e.SubjectID, SourceConsent)
			}
		}
	}
}

func (s *Service) queueOne(f Flow, subjectID, source string) {
	now := s.now()
	year := YearOf(now)
	key := f.ID + "\x00" + subjectID
	s.mu.Lock()
	if year != s.year || len(s.seen) >= s.opt.Remember {
		s.year, s.seen = year, map[string]struct{}{}
	}
	if _, ok := s.seen[key]; ok {
		s.mu.Unlock()
		return
	}
	s.seen[key] = struct{}{}
	s.mu.Unlock()
	// The hash is made outside the lock: decisions on other threads do not wait for it.
	p := store.TransferPerson{Year: year, Flow: f.ID, Person: s.Person(subjectID, year),
		Sensitive: f.Sensitive(), Ordinary: f.Ordinary(), Source: source, At: now.UTC().Truncate(time.Microsecond)}
	s.mu.Lock()
	s.queue = append(s.queue, p)
	full := len(s.queue) >= 4096
	s.mu.Unlock()
	if full {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

func (s *Service) run() {
	defer close(s.done)
	t := time.NewTicker(s.opt.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		case <-s.kick:
		}
		ctx := context.Background()
		s.refresh()
		if _, err := s.Flush(ctx); err != nil {
			s.log.Error("transfer counts not written; kept for the next try", "err", err)
		} else if s.dirty.Load() && s.opt.EvaluateEvery > 0 {
			s.evalMu.Lock()
			due := s.now().Sub(s.lastEval) >= s.opt.EvaluateEvery
			s.evalMu.Unlock()
			if due {
				if _, err := s.Evaluate(ctx); err != nil {
					s.log.Error("transfer thresholds not evaluated", "err", err)
				}
			}
		}
	}
}

// Flush writes the people queued in memory and returns how many it
// wrote; those it could not write stay queued.
func (s *Service) Flush(ctx context.Context) (int, error) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	q := s.queue
	s.queue = nil
	s.mu.Unlock()
	if len(q) == 0 {
		return 0, nil
	}
	const batch = 2048
	for start := 0; start < len(q); start += batch {
		part := q[start:min(start+batch, len(q))]
		_, err := s.st.RecordTransfers(ctx, part)
		s.gen.Add(1)
		s.dirty.Store(true)
		if err != nil {
			s.mu.Lock()
			s.queue = append(slices.Clone(q[start:]), s.queue...)
			s.mu.Unlock()
			return start, err
		}
	}
	return len(q), nil
}

// Close writes what is queued and stops the writer; call it before the
// store is closed.
func (s *Service) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.done
		_, err = s.Flush(context.Background())
	})
	return err
}

// Actor is who reports a transfer: an API key or an operator.
type Actor struct {
	ID, Role, Place string
}

// ReportInput is a transfer the application reports having made.
type ReportInput struct {
	Flow       string     `json:"flow,omitempty"`      // a flow id of the register
	Recipient  string     `json:"recipient,omitempty"` // or the recipient's id
	Subjects   []string   `json:"subject_ids"`
	OccurredAt *time.Time `json:"occurred_at,omitempty"`
}

// ReportResult is what a report counted: how many of its people were
// new to the flow this year.
type ReportResult struct {
	Flow     string `json:"flow"`
	Year     int    `json:"year"`
	Subjects int    `json:"subjects"`
	Added    int64  `json:"added"`
}

func invalid(field, code, format string, args ...any) error {
	return fault.New(fault.Invalid, code, format, args...).At(field)
}

// Report counts the people of a transfer the application made. It is
// written, with its audit entry (transfer.report: the flow and counts,
// never the subjects), before it returns.
func (s *Service) Report(ctx context.Context, by Actor, in ReportInput) (ReportResult, error) {
	sn := s.refresh()
	var f Flow
	var ok bool
	switch {
	case in.Flow != "" && in.Recipient != "":
		return ReportResult{}, invalid("flow", "one_transfer", "name the flow or the recipient, not both")
	case in.Flow != "":
		if f, ok = sn.reg.Flow(in.Flow); !ok {
			return ReportResult{}, fault.New(fault.Invalid, "unknown_transfer", "the flow is not in the register of the policy in force").At("flow").Allowing(sn.reg.IDs())
		}
	case in.Recipient != "":
		for _, c := range sn.reg.Flows {
			if c.Recipient == in.Recipient {
				f, ok = c, true
				break
			}
		}
		if !ok {
			return ReportResult{}, fault.New(fault.Invalid, "unknown_transfer", "no transfer of the register goes to the recipient").At("recipient")
		}
	default:
		return ReportResult{}, invalid("flow", "transfer_required", "name the flow (or the recipient) the transfer went by")
	}
	if len(in.Subjects) == 0 || len(in.Subjects) > MaxSubjects {
		return ReportResult{}, invalid("subject_ids", "invalid_subjects", "give 1 to %d subject ids", MaxSubjects)
	}
	for _, id := range in.Subjects {
		if err := consent.ValidateSubjectID(id); err != nil {
			return ReportResult{}, err
		}
	}
	now := s.now()
	at := now
	if in.OccurredAt != nil {
		at = *in.OccurredAt
		if at.After(now.Add(5*time.Minute)) || YearOf(at) < YearOf(now)-1 {
			return ReportResult{}, invalid("occurred_at", "invalid_time", "occurred_at lies in the future or before last year")
		}
	}
	year := YearOf(at)
	people := make([]store.TransferPerson, 0, len(in.Subjects))
	seen := map[string]bool{}
	for _, id := range in.Subjects {
		if seen[id] {
			continue
		}
		seen[id] = true
		people = append(people, store.TransferPerson{Year: year, Flow: f.ID, Person: s.Person(id, year), Sensitive: f.Sensitive(), Ordinary: f.Ordinary(),
			Source: SourceReport, At: at.UTC().Truncate(time.Microsecond)})
	}
	res := ReportResult{Flow: f.ID, Year: year, Subjects: len(people)}
	e := audit.NewEntry(now, audit.Actor{ID: by.ID, Role: by.Role, Place: by.Place}, "transfer.report", "transfer:"+f.ID, "", audit.OutcomeOK,
		map[string]any{"year": year, "subjects": len(people)})
	added, err := s.st.RecordTransfers(ctx, people, e)
	s.gen.Add(1)
	s.dirty.Store(true)
	if err != nil {
		return ReportResult{}, err
	}
	res.Added = added
	if year == YearOf(now) {
		s.mu.Lock()
		if s.year == year {
			for id := range seen {
				s.seen[f.ID+"\x00"+id] = struct{}{}
			}
		}
		s.mu.Unlock()
	}
	return res, nil
}
