package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/custos-privacy/custos/internal/keystore"
)

const (
	defaultMaxAttempts = 8
	defaultBatch       = 100
	defaultEvery       = 30 * time.Second
	backoffBase        = 30 * time.Second
	backoffCap         = time.Hour
	// sendTimeout bounds one attempt, so a gateway that hangs delays the
	// rest of a pass by this much at most.
	sendTimeout     = time.Minute
	maxReasonLen    = 200
	redactedTo      = "[address]"
	redactedValue   = "[redacted]"
	redactedMessage = "[message]"
	minRedactedLine = 12
)

// Dispatcher sends due deliveries from an outbox and records the outcome.
// Only Outbox, Sealer and Sender are required.
type Dispatcher struct {
	Outbox      Outbox
	Sealer      Sealer
	Sender      Sender
	Logger      *slog.Logger
	MaxAttempts int                             // attempts before a delivery is dead; default 8
	Backoff     func(attempt int) time.Duration // wait after the given failed attempt (1-based); default DefaultBackoff
	Now         func() time.Time                // default time.Now
	Batch       int                             // deliveries per pass; default 100
	// Observe, if set, is told the outcome of every attempt: "sent",
	// "retry" (failed, tried again later) or "dead" (given up), by channel.
	Observe func(channel, outcome string)
}

// Outcomes of an attempt, as told to Observe.
const (
	OutcomeSent  = "sent"
	OutcomeRetry = "retry"
	OutcomeDead  = "dead"
)

func (d *Dispatcher) observe(channel, outcome string) {
	if d.Observe != nil {
		d.Observe(channel, outcome)
	}
}

// DefaultBackoff waits 30s·2^(attempt-1), capped at an hour, less up to a
// quarter at random so that deliveries that failed together (a gateway
// outage) do not all come back at the same moment. The ranges for
// successive attempts do not overlap, so waits always grow until the cap.
func DefaultBackoff(attempt int) time.Duration {
	d := backoffCap
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 8 { // 30s·2^7 already exceeds the cap
		d = min(backoffBase<<(attempt-1), backoffCap)
	}
	return d - rand.N(d/4+1)
}

// RunOnce is the delivery job: one pass over the deliveries due now, at most
// Batch of them. Each is sent or rescheduled independently; sent and failed
// count them. err reports an outbox that could not be read or updated, or a
// cancelled ctx, and may come with non-zero counts.
func (d *Dispatcher) RunOnce(ctx context.Context) (sent, failed int, err error) {
	if d.Outbox == nil || d.Sealer == nil || d.Sender == nil {
		return 0, 0, errors.New("notify: dispatcher needs an outbox, a sealer and a sender")
	}
	due, err := d.Outbox.Due(ctx, d.now(), d.batch())
	if err != nil {
		return 0, 0, fmt.Errorf("notify: read due deliveries: %w", err)
	}
	var errs []error
	for _, dl := range due {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		ok, err := d.deliver(ctx, dl)
		if ok {
			sent++
		} else {
			failed++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return sent, failed, errors.Join(errs...)
}

// Run calls RunOnce every interval (30s if every <= 0) until ctx is done,
// and returns ctx.Err(). A full batch is followed at once by another pass, so
// a backlog drains without waiting for the ticker.
func (d *Dispatcher) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		every = defaultEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			sent, failed, err := d.RunOnce(ctx)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err != nil {
				d.logger().Error("notify: delivery pass", "error", err)
				break
			}
			if sent+failed > 0 {
				d.logger().Debug("notify: delivery pass", "sent", sent, "failed", failed)
			}
			if sent+failed < d.batch() {
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

// deliver makes one attempt at dl and records it. ok says whether the
// message was sent; err is an outbox failure to record the outcome.
func (d *Dispatcher) deliver(ctx context.Context, dl Delivery) (ok bool, err error) {
	attempt := dl.Attempts + 1
	log := d.logger().With("delivery_id", dl.ID, "template", dl.Template, "channel", dl.Channel, "attempt", attempt)
	if dl.Subject != "" {
		log = log.With("subject_id", dl.Subject)
	}
	m, data, sendErr := d.send(ctx, dl)
	now := d.now()
	if sendErr == nil {
		if err := d.Outbox.MarkSent(ctx, dl.ID, now); err != nil {
			log.Error("notify: sent but not recorded as sent; it will be sent again", "error", err)
			return true, fmt.Errorf("notify: record delivery %s sent: %w", dl.ID, err)
		}
		log.Info("notify: sent")
		d.observe(dl.Channel, OutcomeSent)
		return true, nil
	}
	reason := failureReason(sendErr, m, data)
	dead := attempt >= d.maxAttempts() || errors.Is(sendErr, ErrPermanent)
	next := now
	if !dead {
		next = now.Add(d.backoff(attempt))
	}
	if err := d.Outbox.MarkFailed(ctx, dl.ID, attempt, next, dead, reason); err != nil {
		log.Error("notify: failure not recorded", "error", err, "reason", reason)
		return false, fmt.Errorf("notify: record delivery %s failed: %w", dl.ID, err)
	}
	if dead {
		log.Error("notify: delivery given up", "reason", reason)
		d.observe(dl.Channel, OutcomeDead)
	} else {
		log.Warn("notify: delivery failed; will retry", "reason", reason, "next_at", next)
		d.observe(dl.Channel, OutcomeRetry)
	}
	return false, nil
}

// send opens the payload, renders the message and hands it to the Sender.
// It returns as much of the message and its values as it got to, so that
// the failure reason can be scrubbed of them.
func (d *Dispatcher) send(ctx context.Context, dl Delivery) (Message, map[string]string, error) {
	m := Message{Channel: dl.Channel, DeliveryID: dl.ID}
	p, err := OpenPayload(ctx, d.Sealer, dl)
	switch {
	case errors.Is(err, keystore.ErrDestroyed):
		// The person was erased, or the message purged: nothing can bring
		// it back.
		return m, nil, fmt.Errorf("%w: the message's key was destroyed", ErrPermanent)
	case err != nil:
		// Not permanent: a keyset deployed without the key that sealed this
		// can be fixed within the retry window.
		return m, nil, errors.New("notify: payload cannot be opened")
	}
	m.To = p.To
	r, err := Render(dl.Template, dl.Lang, p.Data)
	if err != nil {
		return m, p.Data, fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	m.Subject, m.Text = r.Subject, r.Text
	if dl.Channel == ChannelSMS {
		m.Subject, m.Text = "", r.SMS
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	return m, p.Data, d.Sender.Send(sctx, m)
}

// failureReason turns a send error into the short LastError and log text.
// Senders are written not to quote the address or the message, but a mail
// server or gateway can echo either in its reply, so the address, the lines
// of the message and the one-time code are scrubbed here as well.
func failureReason(err error, m Message, data map[string]string) string {
	s := err.Error()
	for _, part := range []string{m.Subject, m.Text, m.HTML} {
		for line := range strings.Lines(part) {
			// Short lines (a lone "OK", a blank) say nothing about the person
			// and would match innocent text.
			if line = strings.TrimSpace(line); len(line) >= minRedactedLine {
				s = strings.ReplaceAll(s, line, redactedMessage)
			}
		}
	}
	if to := m.To; to != "" {
		s = replaceFold(s, to, redactedTo)
		if digits := strings.TrimPrefix(to, "+"); digits != to {
			s = replaceFold(s, digits, redactedTo)
		}
	}
	if code := data["code"]; code != "" {
		s = strings.ReplaceAll(s, code, redactedValue)
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxReasonLen {
		cut := maxReasonLen
		for cut > 0 && !utfStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func replaceFold(s, old, repl string) string {
	return regexp.MustCompile("(?i)"+regexp.QuoteMeta(old)).ReplaceAllLiteralString(s, repl)
}

func utfStart(b byte) bool { return b&0xC0 != 0x80 }

func (d *Dispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Dispatcher) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (d *Dispatcher) maxAttempts() int {
	if d.MaxAttempts > 0 {
		return d.MaxAttempts
	}
	return defaultMaxAttempts
}

func (d *Dispatcher) batch() int {
	if d.Batch > 0 {
		return d.Batch
	}
	return defaultBatch
}

func (d *Dispatcher) backoff(attempt int) time.Duration {
	if d.Backoff != nil {
		return d.Backoff(attempt)
	}
	return DefaultBackoff(attempt)
}
