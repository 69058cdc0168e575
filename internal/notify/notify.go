// Package notify sends messages to data subjects (one-time codes, the state
// of their requests) through an outbox: a message is first written to the
// outbox with its address sealed, then a Dispatcher sends what is due,
// retrying with backoff and recording every attempt. A crash between the
// two loses nothing; at worst a message is sent twice.
//
// The address and the template values (a one-time code, a reason) are
// personal information. They are sealed in the outbox under a key of the
// delivery's own (internal/keystore), opened only to render the message
// and hand it to a Sender, never written to logs or to the delivery's
// LastError; once the delivery is settled and its retention has passed,
// Purge destroys the key, and with it the contents in every backup.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"strings"
	"time"

	"github.com/custos-privacy/custos/internal/ids"
	"github.com/custos-privacy/custos/internal/keystore"
)

// Channels a delivery can go through.
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// Delivery states.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	StatusDead    = "dead"
)

// Languages messages are written in.
const (
	LangZH = "zh-CN"
	LangEN = "en"
)

var (
	// ErrNotFound is returned by an Outbox for an unknown delivery id.
	ErrNotFound = errors.New("notify: delivery not found")
	// ErrDuplicate is returned by an Outbox asked to enqueue an id it holds.
	ErrDuplicate = errors.New("notify: delivery already enqueued")
	// ErrInvalid marks a delivery that cannot be built: unknown channel,
	// template or language, a malformed address, missing template values.
	ErrInvalid = errors.New("notify: invalid delivery")
	// ErrPermanent marks a send error that retrying will not cure (the
	// recipient was rejected, the template is gone): the Dispatcher gives the
	// delivery up at once rather than after MaxAttempts.
	ErrPermanent = errors.New("permanent failure")
)

// Delivery is one message in the outbox. Its address and template values
// are stored only sealed (Sealed), opened only to send.
type Delivery struct {
	ID        string    // "dl_…"
	Channel   string    // ChannelEmail or ChannelSMS
	Sealed    []byte    // the Payload, sealed under Owner(ID) with PayloadAD(ID); empty once purged
	Template  string    // one of Templates()
	Lang      string    // LangZH or LangEN
	Attempts  int       // attempts made so far, successful or not
	NextAt    time.Time // when the next attempt is due
	Status    string    // StatusPending, StatusSent or StatusDead
	LastError string    // short, never containing the address or the message body
	SentAt    time.Time
	Subject   string // subject id the message is for, for the record
	Request   string // request id it belongs to, if any
}

// Outbox stores deliveries until they are sent or given up. The store
// implements it; MemOutbox is an in-memory one for tests.
//
// Due may hand the same delivery to two dispatchers running at once, so run
// one Dispatcher per outbox, or have Due lease what it returns.
type Outbox interface {
	// Enqueue stores a new delivery; an id already held fails with ErrDuplicate.
	Enqueue(ctx context.Context, d Delivery) error
	// Due returns at most limit pending deliveries with NextAt <= now,
	// earliest first.
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// MarkSent records a successful attempt: Status sent, SentAt at,
	// Attempts one more. Unknown ids fail with ErrNotFound.
	MarkSent(ctx context.Context, id string, at time.Time) error
	// MarkFailed records a failed attempt: Attempts and NextAt as given,
	// Status dead if dead else pending, LastError reason. Unknown ids fail
	// with ErrNotFound.
	MarkFailed(ctx context.Context, id string, attempts int, next time.Time, dead bool, reason string) error
	// Settled returns the ids of at most limit deliveries sent or given up
	// before the given instant whose payload is still held.
	Settled(ctx context.Context, before time.Time, limit int) ([]string, error)
	// Forget drops the payloads of the deliveries; their record (channel,
	// template, attempts, status) stays.
	Forget(ctx context.Context, ids []string) error
}

// Destroyer destroys the keys of owners; internal/keystore.Store satisfies
// it.
type Destroyer interface {
	Destroy(ctx context.Context, owners ...string) (int, error)
}

// Purge destroys the contents of every delivery settled (sent or given up)
// before the given instant: first its key, so that the contents are
// unreadable in backups too, then the sealed payload. It returns how many
// deliveries it purged.
func Purge(ctx context.Context, o Outbox, keys Destroyer, before time.Time) (int, error) {
	n := 0
	for {
		ids, err := o.Settled(ctx, before, 500)
		if err != nil || len(ids) == 0 {
			return n, err
		}
		owners := make([]string, len(ids))
		for i, id := range ids {
			owners[i] = Owner(id)
		}
		if _, err := keys.Destroy(ctx, owners...); err != nil {
			return n, fmt.Errorf("notify: purge: %w", err)
		}
		if err := o.Forget(ctx, ids); err != nil {
			return n, fmt.Errorf("notify: purge: %w", err)
		}
		n += len(ids)
	}
}

// Sealer seals and opens values under the key of their owner;
// internal/keystore.Store satisfies it.
type Sealer interface {
	Seal(ctx context.Context, owner string, plaintext, ad []byte) ([]byte, error)
	Open(ctx context.Context, owner string, ciphertext, ad []byte) ([]byte, error)
}

// Payload is what a delivery keeps sealed: where it goes and the values
// its template is rendered with (a one-time code among them).
type Payload struct {
	To   string            `json:"to"`
	Data map[string]string `json:"data"`
}

// Owner is the key a delivery's payload is sealed under: its own, so that
// it can be destroyed alone once the message is settled, and so that a
// message can outlive its subject's key (the notice that an erasure is
// done).
func Owner(id string) string { return keystore.Delivery(id) }

// OpenPayload opens a delivery's payload.
func OpenPayload(ctx context.Context, sealer Sealer, d Delivery) (Payload, error) {
	var p Payload
	raw, err := sealer.Open(ctx, Owner(d.ID), d.Sealed, PayloadAD(d.ID))
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, errors.New("notify: payload is not JSON")
	}
	return p, nil
}

// Message is a rendered delivery, ready to send. For SMS only To and Text
// are used.
type Message struct {
	Channel, To, Subject, Text, HTML string
	DeliveryID                       string
}

// Sender hands a message to a mail server or gateway. Errors must not quote
// the address or the message; wrap ErrPermanent when a retry cannot help.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// PayloadAD is the associated data a payload is sealed with: it binds the
// ciphertext to its delivery, so a payload copied to another row does not
// open there.
func PayloadAD(id string) []byte { return []byte("outbox:" + id) }

// NewDelivery builds a pending delivery due now, with a new id and its
// address and data sealed under a new key of its own. The address must be
// normalised (identity.Normalize): a bare email address, or an E.164 phone
// number for SMS. The template is rendered once here, so missing values
// fail now rather than at every attempt. Data["request"], if set, is
// copied to Request; the caller sets Subject.
//
// Errors never contain the address.
func NewDelivery(ctx context.Context, sealer Sealer, channel, to, template, lang string, data map[string]string) (Delivery, error) {
	if sealer == nil {
		return Delivery{}, errors.New("notify: new delivery: no sealer")
	}
	if err := validAddress(channel, to); err != nil {
		return Delivery{}, err
	}
	if !hasTemplate(template, lang) {
		return Delivery{}, fmt.Errorf("%w: no template %q in language %q", ErrInvalid, template, lang)
	}
	if _, err := Render(template, lang, data); err != nil {
		return Delivery{}, err
	}
	id := ids.New("dl_")
	raw, err := json.Marshal(Payload{To: to, Data: maps.Clone(data)})
	if err != nil {
		return Delivery{}, fmt.Errorf("notify: new delivery: %w", err)
	}
	sealed, err := sealer.Seal(ctx, Owner(id), raw, PayloadAD(id))
	if err != nil {
		return Delivery{}, fmt.Errorf("notify: new delivery: seal payload: %w", err)
	}
	if bytes.Contains(sealed, []byte(to)) {
		// A sealer that returns its input would put the address in the clear.
		return Delivery{}, errors.New("notify: new delivery: sealer returned the address in the clear")
	}
	d := Delivery{
		ID:       id,
		Channel:  channel,
		Sealed:   sealed,
		Template: template,
		Lang:     lang,
		NextAt:   time.Now(),
		Status:   StatusPending,
		Request:  data["request"],
	}
	return d, nil
}

// validAddress checks an address for its channel. It is strict because the
// address ends up in an SMTP envelope and header, where a stray CR or LF
// would let it add headers or recipients.
func validAddress(channel, to string) error {
	switch channel {
	case ChannelEmail:
		a, err := mail.ParseAddress(to)
		if err != nil || a.Address != to || a.Name != "" || strings.ContainsAny(to, " \t\r\n<>") {
			return fmt.Errorf("%w: email address is malformed", ErrInvalid)
		}
	case ChannelSMS:
		if !isE164(to) {
			return fmt.Errorf("%w: phone number is not E.164", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: unknown channel %q", ErrInvalid, channel)
	}
	return nil
}

func isE164(s string) bool {
	if len(s) < 8 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	for _, c := range s[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
