package dsr

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/calendar"
	"github.com/custos-privacy/custos/internal/certificate"
	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/egress"
	"github.com/custos-privacy/custos/internal/fault"
	"github.com/custos-privacy/custos/internal/identity"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/ratelimit"
	"github.com/custos-privacy/custos/internal/store"
	"github.com/custos-privacy/custos/internal/vault"
)

// Store is the persistence requests need.
type Store interface {
	CreateRequest(ctx context.Context, r store.Request, ev store.RequestEvent, also []store.TxFn, entries ...audit.Entry) error
	RequestEventFn(ev store.RequestEvent) store.TxFn
	UpdateRequest(ctx context.Context, r *store.Request, ev store.RequestEvent, also []store.TxFn, entries ...audit.Entry) error
	Request(ctx context.Context, id string) (store.Request, error)
	RequestEvents(ctx context.Context, id string) ([]store.RequestEvent, error)
	Requests(ctx context.Context, f store.RequestFilter) ([]store.Request, error)
	RequestCounts(ctx context.Context, openStates []string) (store.RequestCounts, error)
	PutOTPFn(o store.OTP) store.TxFn
	DeleteOTPFn(requestID string) store.TxFn
	OTP(ctx context.Context, requestID string) (store.OTP, error)
	CountOTPAttempt(ctx context.Context, requestID string) (int, error)
	OutboxFn(d notify.Delivery) store.TxFn
	Outbox() notify.Outbox
	EraseSubjectFn(subjectID string, shred store.Shredder) store.TxFn
	Scrub(ctx context.Context) error
	PutBundleFn(b store.Bundle) store.TxFn
	BundleByToken(ctx context.Context, tokenHash []byte) (store.Bundle, error)
	LatestBundle(ctx context.Context, requestID string) (store.Bundle, error)
	DeleteExpiredBundles(ctx context.Context, now time.Time, entry func(n int64) audit.Entry) (int64, error)
	DeleteExpiredRequests(ctx context.Context, f store.RequestExpiry, entry func(n int64) audit.Entry) (int64, error)
	CountDownload(ctx context.Context, id string, entries ...audit.Entry) error
	RecipientTaskFn(t store.RecipientTask) store.TxFn
	PutTransmissionFn(t store.Transmission) store.TxFn
	Transmissions(ctx context.Context, requestID string) ([]store.Transmission, error)
	DueTransmissions(ctx context.Context, now time.Time, limit int) ([]store.Transmission, error)
	MarkTransmissionFn(m store.TransmissionMark) store.TxFn
	RetryTransmissionFn(id string, now time.Time) store.TxFn
	MarkTransmission(ctx context.Context, m store.TransmissionMark, entries ...audit.Entry) error
	RecipientTasks(ctx context.Context, requestID string) ([]store.RecipientTask, error)
	ConsentEvents(ctx context.Context, subjectID string, after int64, limit int) ([]store.ConsentEvent, error)
	RecipientTask(ctx context.Context, id string) (store.RecipientTask, error)
	AckRecipientTask(ctx context.Context, requestID, recipient, by string, at time.Time, entries ...audit.Entry) error
	AckRecipientTaskByID(ctx context.Context, id, by string, at time.Time, entries ...audit.Entry) error
	Subject(ctx context.Context, id string) (store.Subject, error)
	SubjectByIdentity(ctx context.Context, hash []byte) (string, error)
	AssistanceTaskFn(t store.AssistanceTask) store.TxFn
	AssistanceTasks(ctx context.Context, state string) ([]store.AssistanceTask, error)
	FinishAssistanceTask(ctx context.Context, id, note string, at time.Time, entries ...audit.Entry) (store.AssistanceTask, error)
	AppendAudit(ctx context.Context, entries ...audit.Entry) error
	LegalHolds(ctx context.Context, f store.HoldFilter) ([]store.LegalHold, error)
	Org() string
	PutCertificate(ctx context.Context, c certificate.Certificate, entries ...audit.Entry) error
	Certificate(ctx context.Context, id string) (certificate.Certificate, error)
	Certificates(ctx context.Context, f store.CertificateFilter) ([]certificate.Certificate, error)
}

// Options configure the service.
type Options struct {
	Hasher   *identity.Hasher
	Keys     *keystore.Store
	Calendar *calendar.Calendar
	Logger   *slog.Logger
	Now      func() time.Time
	// CodeTTL is how long a one-time code is valid (default 15 min);
	// MaxAttempts how many tries it allows (default 5).
	CodeTTL     time.Duration
	MaxAttempts int
	// Per-hour request limits for the public intake, per claimed identity
	// and per source address (defaults 5 and 30).
	PerIdentity, PerAddress int
	// Executors carry requests out on systems beyond Custos's own data
	// (the organisation's databases); they run after the built-in one.
	Executors []Executor
	// Delivers reports whether messages on a channel (email, sms) reach
	// people; nil means every channel does. A one-time code is never
	// queued for a channel that cannot carry it: the caller is told.
	Delivers func(channel string) bool
	// Vault is the vault of sensitive values: exports carry the person's
	// values and corrections of its fields go through it. nil when the
	// server keeps none.
	Vault Vault
	// Certificates signs the certificates of erasures carried out in the
	// organisation's databases (the receipt key); nil issues none.
	Certificates *certificate.Signer
	// Instance names the host in the certificates it signs.
	Instance string
	// TransmitSecret signs the transmissions of portability exports to
	// the third parties people name (Standard Webhooks; notify.WebhookKey
	// reads it): the deployment's webhook secret, with which receivers
	// verify them. Without it transmissions wait.
	TransmitSecret []byte
	// TransmitAttempts bounds the attempts at a transmission (default
	// 10); TransmitBackoff is the wait after a failed attempt (default
	// propagate.DefaultBackoff).
	TransmitAttempts int
	TransmitBackoff  func(attempt int) time.Duration
	// Egress shapes the client transmissions are posted with. The server
	// leaves it zero; tests let it reach a receiver on 127.0.0.1.
	Egress egress.Options
	// AckKey checks the acknowledgement tokens recipients' notices carry
	// (propagate.AckToken); nil refuses every token. PriorAckKeys are the
	// keys before the last rotations of the identity key, which still
	// check the tokens of notices sent under them.
	AckKey       []byte
	PriorAckKeys [][]byte
	// PublicURL is where the server is reached from outside, for the full
	// acknowledgement links staff hand recipients (AckLinkFor).
	PublicURL string
}

// Vault is the vault as rights requests reach it; *vault.Service is one.
type Vault interface {
	// Export opens the subject's values for the request's export.
	Export(ctx context.Context, a audit.Actor, subjectID, requestID string) ([]vault.Exported, error)
	// Put keeps a corrected value.
	Put(ctx context.Context, a audit.Actor, subjectID, field, value string) (vault.Written, error)
}

// Delivers reports whether one-time codes and notices on channel (email,
// sms) reach people here.
func (s *Service) Delivers(channel string) bool {
	return s.opt.Delivers == nil || s.opt.Delivers(channel)
}

// undeliverable is the error for a code that no channel can carry.
func undeliverable(channel string) error {
	return fault.New(fault.Unavailable, "no_message_channel",
		"one-time codes cannot be sent by %s here: this service has no message channel for it; use the organisation's other contact channels", channel)
}

// Service runs requests.
type Service struct {
	st      Store
	consent *consent.Service
	opt     Options
	log     *slog.Logger
	now     func() time.Time
	cal     atomic.Pointer[calendar.Calendar]
	limits  *ratelimit.Window
	codeKey []byte
	codes   codeQueue
	// linkSet is this organisation and those a request made here may
	// concern (links.go). The server replaces it whole when the registry
	// changes while serving; each use reads it once.
	linkSet atomic.Pointer[linkSet]
	// egressClient posts transmissions; made once, on first use.
	egressOnce   sync.Once
	egressClient *egress.Client
}

// New builds the service.
func New(st Store, cs *consent.Service, opt Options) (*Service, error) {
	if opt.Hasher == nil || opt.Keys == nil {
		return nil, fmt.Errorf("requests need the identity key and the data keyset")
	}
	if opt.Calendar == nil {
		opt.Calendar = calendar.Builtin()
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.CodeTTL <= 0 {
		opt.CodeTTL = 15 * time.Minute
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 5
	}
	if opt.PerIdentity <= 0 {
		opt.PerIdentity = 5
	}
	if opt.PerAddress <= 0 {
		opt.PerAddress = 30
	}
	s := &Service{st: st, consent: cs, opt: opt, log: opt.Logger, now: opt.Now, limits: ratelimit.New(time.Hour)}
	s.cal.Store(opt.Calendar)
	s.codeKey = make([]byte, 32)
	rand.Read(s.codeKey)
	return s, nil
}

// Calendar returns the working-day calendar in force.
func (s *Service) Calendar() *calendar.Calendar { return s.cal.Load() }

// LoadCalendar adds newer calendar data at run time and recomputes the due
// dates of open requests that were provisional.
func (s *Service) LoadCalendar(ctx context.Context, a consent.Actor, files ...[]byte) (int, error) {
	next, err := s.Calendar().With(files...)
	if err != nil {
		return 0, fault.New(fault.Invalid, "invalid_calendar", "%v", err)
	}
	s.cal.Store(next)
	open, err := s.st.Requests(ctx, store.RequestFilter{States: OpenStates, Limit: 100000})
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range open {
		r := &open[i]
		if !r.DueProvisional {
			continue
		}
		if err := s.recompute(r); err != nil {
			return n, err
		}
		ev := store.RequestEvent{RequestID: r.ID, At: s.now(), Actor: a.ID, From: r.State, To: r.State, Note: NoteRecomputed + next.Version()}
		if err := s.st.UpdateRequest(ctx, r, ev, nil, s.entry(a, "request.recompute", r, "")); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (s *Service) entry(a consent.Actor, action string, r *store.Request, detail string) audit.Entry {
	object := "request:" + r.ID
	if r.SubjectID != "" {
		// The entry names the subject; the request goes in the detail.
		object = "subject:" + r.SubjectID
		d := map[string]any{}
		if detail != "" {
			json.Unmarshal([]byte(detail), &d)
		}
		d["request"] = r.ID
		return audit.NewEntry(s.now(), a, action, object, "rights_request", audit.OutcomeOK, d)
	}
	return audit.NewEntry(s.now(), a, action, object, "rights_request", audit.OutcomeOK, detail)
}

// codeHash binds a code to its request, so a code cannot be replayed on another.
func (s *Service) codeHash(requestID, code string) []byte {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte(requestID + "\x00" + code))
	return m.Sum(nil)
}

// AddExecutor adds a system requests are carried out on, after Custos's
// own data (before it, for erasure: see Complete).
func (s *Service) AddExecutor(ex Executor) { s.opt.Executors = append(s.opt.Executors, ex) }
