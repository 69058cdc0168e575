// Package propagate tells recipients of personal information about rights
// requests that concern them: when a deletion, correction, restriction,
// cancellation or portability transmission completes, each recipient task
// the request left behind is sent to the recipient's webhook or queued as an
// email notice, retried with backoff, and recorded and audited per attempt.
// Acknowledgements come back later through the API.
package propagate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/store"
)

const (
	defaultMaxAttempts = 10
	defaultBatch       = 100
	defaultEvery       = time.Minute
	backoffBase        = time.Minute
	backoffCap         = 6 * time.Hour
	// attemptTimeout bounds one attempt, so a recipient that hangs delays
	// the rest of a pass by this much at most.
	attemptTimeout = 30 * time.Second
	// emailDeferral is how long an email task waits when no email sender
	// is configured, so that it does not fill every pass's batch.
	emailDeferral = time.Hour
)

// Task states, as the store records them.
const (
	StatePending = "pending"
	StateSent    = "sent"
	StateDead    = "dead"
)

// Tasks is what the propagator needs from the store.
type Tasks interface {
	DueRecipientTasks(ctx context.Context, now time.Time, limit int) ([]store.RecipientTask, error)
	MarkRecipientTask(ctx context.Context, id, state string, attempts int, next time.Time, lastError string, entries ...audit.Entry) error
}

// Propagator sends due recipient tasks. Store, Recipients, SubjectOf and
// Secret are required.
type Propagator struct {
	Store Tasks
	// Recipients resolves a recipient id in the manifest in force to its
	// webhook endpoint or notice address; ok is false for an unknown id.
	Recipients func(id string) (endpoint, email string, ok bool)
	// SubjectOf returns the subject id of a request. Recipients receive a
	// per-recipient pseudonym of it (see SubjectRef), never the id itself.
	SubjectOf func(ctx context.Context, requestID string) (string, error)
	// CertificatesOf returns the ids of a request's erasure certificates,
	// which webhook notices carry; nil sends none.
	CertificatesOf func(ctx context.Context, requestID string) ([]string, error)
	// Secret signs webhooks (Standard Webhooks: notify.WebhookKey reads it)
	// and, as it is written, keys subject pseudonyms.
	Secret []byte
	// AckKey makes each notice's acknowledgement token (see AckToken); the
	// request service checks them with the same key. Nil sends notices
	// without one: they are then acknowledged by staff only.
	AckKey []byte
	// BaseURL is where the organisation's Custos server is reached from
	// outside (https://privacy.example.com), without a trailing slash:
	// notices then carry the full link to acknowledge them (ack_url).
	// Empty sends the path alone.
	BaseURL string
	Client  *http.Client // default: a client with a 30s timeout; redirects are never followed
	// Email queues an email notice for a task. Nil leaves email tasks pending.
	// An error wrapping notify.ErrPermanent ends the task; others are retried.
	Email       func(ctx context.Context, recipient, email string, t store.RecipientTask) error
	Logger      *slog.Logger
	Now         func() time.Time                // default time.Now
	MaxAttempts int                             // attempts before a task is dead; default 10
	Backoff     func(attempt int) time.Duration // wait after the given failed attempt (1-based); default DefaultBackoff
	Batch       int                             // tasks per pass; default 100
}

// DefaultBackoff waits 1m·2^(attempt-1), capped at six hours, less up to a
// quarter at random so that tasks that failed together (a recipient's
// outage) do not all come back at the same moment. Successive ranges do not
// overlap, so waits grow until the cap.
func DefaultBackoff(attempt int) time.Duration {
	d := backoffCap
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 9 { // 1m·2^9 already exceeds the cap
		d = min(backoffBase<<(attempt-1), backoffCap)
	}
	return d - rand.N(d/4+1)
}

// RunOnce is the propagation job: one pass over the tasks due now, at most
// Batch of them. sent counts tasks handed over, failed those rescheduled
// and dead those given up. err reports a store that could not be read or
// updated, or a cancelled ctx, and may come with non-zero counts.
func (p *Propagator) RunOnce(ctx context.Context) (sent, failed, dead int, err error) {
	if p.Store == nil || p.Recipients == nil || p.SubjectOf == nil || len(p.Secret) == 0 {
		return 0, 0, 0, errors.New("propagate: needs a store, recipients, a subject lookup and a signing secret")
	}
	due, err := p.Store.DueRecipientTasks(ctx, p.now(), p.batch())
	if err != nil {
		return 0, 0, 0, fmt.Errorf("propagate: read due tasks: %w", err)
	}
	var errs []error
	for _, t := range due {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		state, err := p.attempt(ctx, t)
		switch state {
		case StateSent:
			sent++
		case StateDead:
			dead++
		case StatePending:
			failed++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return sent, failed, dead, errors.Join(errs...)
}

// Run calls RunOnce every interval (a minute if every <= 0) until ctx is
// done, and returns ctx.Err(). A full batch is followed at once by another
// pass, so a backlog drains without waiting for the ticker.
func (p *Propagator) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = defaultEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			sent, failed, dead, err := p.RunOnce(ctx)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				p.logger().Error("propagate: pass", "error", err)
				break
			}
			if n := sent + failed + dead; n > 0 {
				p.logger().Debug("propagate: pass", "sent", sent, "failed", failed, "dead", dead)
			}
			if sent+failed+dead < p.batch() {
				break
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// outcome is what one attempt came to.
type outcome struct {
	status int    // HTTP status, 0 when there was no reply
	reason string // why it failed, without addresses, credentials or reply bodies
	final  bool   // the failure will not go away by retrying
}

// attempt makes one attempt at t and records it. It returns the task's new
// state ("" when no attempt was made) and an error recording it.
func (p *Propagator) attempt(ctx context.Context, t store.RecipientTask) (string, error) {
	n := t.Attempts + 1
	log := p.logger().With("task_id", t.ID, "request_id", t.RequestID, "recipient_id", t.Recipient, "method", t.Method, "attempt", n)
	endpoint, email, known := p.Recipients(t.Recipient)
	var o *outcome
	switch {
	case !known:
		o = &outcome{reason: "recipient is not in the manifest in force", final: true}
	case t.Method == "webhook":
		o = p.webhook(ctx, log, t, endpoint)
	case t.Method == "email":
		if p.Email == nil {
			err := p.Store.MarkRecipientTask(ctx, t.ID, StatePending, t.Attempts, p.now().Add(emailDeferral), "no email sender is configured")
			if err != nil {
				return "", fmt.Errorf("propagate: record task %s: %w", t.ID, err)
			}
			log.Warn("propagate: email notice deferred: no email sender is configured")
			return "", nil
		}
		o = p.email(ctx, log, t, email)
	default:
		o = &outcome{reason: fmt.Sprintf("method %q is not sent automatically", t.Method), final: true}
	}

	now := p.now()
	state, next := StateSent, now
	switch {
	case o == nil:
	case o.final:
		state = StateDead
	case n >= p.maxAttempts():
		state = StateDead
		o.reason = fmt.Sprintf("%s; gave up after %d attempts", o.reason, n)
	default:
		state, next = StatePending, now.Add(p.backoff(n))
	}
	status, reason, outcomeName := 0, "", audit.OutcomeOK
	if o != nil {
		status, reason, outcomeName = o.status, o.reason, audit.OutcomeError
	}
	detail, _ := json.Marshal(struct {
		Task      string `json:"task"`
		Recipient string `json:"recipient"`
		Method    string `json:"method"`
		Attempt   int    `json:"attempt"`
		State     string `json:"state"`
		Status    int    `json:"status,omitempty"`
	}{t.ID, t.Recipient, t.Method, n, state, status})
	entry := audit.NewEntry(now, audit.System("scheduler"), "recipient.notice", "request:"+t.RequestID, "", outcomeName, json.RawMessage(detail))
	if err := p.Store.MarkRecipientTask(ctx, t.ID, state, n, next, reason, entry); err != nil {
		log.Error("propagate: record attempt", "state", state, "error", err)
		return state, fmt.Errorf("propagate: record task %s: %w", t.ID, err)
	}
	switch state {
	case StateSent:
		log.Info("propagate: notice sent", "status", status)
	case StateDead:
		log.Warn("propagate: notice abandoned", "status", status, "reason", reason)
	default:
		log.Info("propagate: notice failed, will retry", "status", status, "reason", reason, "next_at", next)
	}
	return state, nil
}

// NoticeFields are what a notice of t says (the values of the
// recipient_notice email template; the webhook body carries the same), for
// a request that concerns subject.
func (p *Propagator) NoticeFields(t store.RecipientTask, subject string) map[string]string {
	f := map[string]string{"task": t.ID, "action": t.Action, "categories": strings.Join(t.Categories, ", "),
		"subject_ref": SubjectRef(p.Secret, t.Recipient, subject), "ack_token": "", "ack_path": "", "ack_url": ""}
	if len(p.AckKey) > 0 {
		tok := AckToken(p.AckKey, t.ID)
		f["ack_token"], f["ack_path"] = tok, AckPath+tok
		if p.BaseURL != "" {
			f["ack_url"] = strings.TrimSuffix(p.BaseURL, "/") + AckPath + tok
		}
	}
	return f
}

// email hands t to the email sender.
func (p *Propagator) email(ctx context.Context, log *slog.Logger, t store.RecipientTask, addr string) *outcome {
	if addr == "" {
		return &outcome{reason: "recipient has no notice email in the manifest", final: true}
	}
	ctx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	if err := p.Email(ctx, t.Recipient, addr, t); err != nil {
		// The sender's error may quote the address: it is logged only
		// without it, and the task records a neutral reason.
		if strings.Contains(err.Error(), addr) {
			log.Error("propagate: queue email notice failed")
		} else {
			log.Error("propagate: queue email notice failed", "error", err)
		}
		return &outcome{reason: "could not queue the email notice", final: errors.Is(err, notify.ErrPermanent)}
	}
	return nil
}

func (p *Propagator) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Propagator) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (p *Propagator) batch() int {
	if p.Batch > 0 {
		return p.Batch
	}
	return defaultBatch
}

func (p *Propagator) maxAttempts() int {
	if p.MaxAttempts > 0 {
		return p.MaxAttempts
	}
	return defaultMaxAttempts
}

func (p *Propagator) backoff(attempt int) time.Duration {
	if p.Backoff != nil {
		return p.Backoff(attempt)
	}
	return DefaultBackoff(attempt)
}
