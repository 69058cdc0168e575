// Package notify sends messages to data subjects (one-time codes, the state
// of their requests) through an outbox: a message is first written to the
// outbox with its address sealed, then a Dispatcher sends what is due,
// retrying with backoff and recording every attempt. A crash between the
// two loses nothing; at worst a message is sent twice.
//
// The address is personal information. It is sealed in the outbox, opened
// only to hand the message to a Sender, and never written to logs or to the
// delivery's LastError.
package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/custos-privacy/custos/internal/ids"
	"maps"
	"net/mail"
	"strings"
	"time"
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

// Delivery is one message in the outbox. The address is personal
// information: it is stored sealed (AEAD), opened only to send.
type Delivery struct {
	ID        string            // "dl_…"
	Channel   string            // ChannelEmail or ChannelSMS
	ToSealed  []byte            // sealed address; associated data is AddressAD(ID)
	Template  string            // one of Templates()
	Lang      string            // LangZH or LangEN
	Data      map[string]string // template values (request id, due date, reason…), never the address
	Attempts  int               // attempts made so far, successful or not
	NextAt    time.Time         // when the next attempt is due
	Status    string            // StatusPending, StatusSent or StatusDead
	LastError string            // short, never containing the address or the message body
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
}

// Sealer seals and opens addresses; internal/seal.Sealer satisfies it.
type Sealer interface {
	Seal(plaintext, ad []byte) ([]byte, error)
	Open(ciphertext, ad []byte) ([]byte, error)
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

// AddressAD is the associated data an address is sealed with: it binds the
// ciphertext to its delivery, so a sealed address copied to another row does
// not open there.
func AddressAD(id string) []byte { return []byte("outbox:" + id) }

// NewDelivery builds a pending delivery due now, with a new id and the
// address sealed. The address must be normalised (identity.Normalize): a
// bare email address, or an E.164 phone number for SMS. The
// template is rendered once here, so missing values fail now rather than at
// every attempt. Data["request"], if set, is copied to Request; the
// caller sets Subject.
//
// Errors never contain the address.
func NewDelivery(sealer Sealer, channel, to, template, lang string, data map[string]string) (Delivery, error) {
	if sealer == nil {
		return Delivery{}, errors.New("notify: new delivery: no sealer")
	}
	if err := validAddress(channel, to); err != nil {
		return Delivery{}, err
	}
	if !hasTemplate(template, lang) {
		return Delivery{}, fmt.Errorf("%w: no template %q in language %q", ErrInvalid, template, lang)
	}
	for k, v := range data {
		// Data is stored in the clear; the address belongs only in ToSealed.
		if strings.Contains(strings.ToLower(v), strings.ToLower(to)) {
			return Delivery{}, fmt.Errorf("%w: template value %q contains the address", ErrInvalid, k)
		}
	}
	if _, err := Render(template, lang, data); err != nil {
		return Delivery{}, err
	}
	id := ids.New("dl_")
	sealed, err := sealer.Seal([]byte(to), AddressAD(id))
	if err != nil {
		return Delivery{}, fmt.Errorf("notify: new delivery: seal address: %w", err)
	}
	if bytes.Contains(sealed, []byte(to)) {
		// A sealer that returns its input would put the address in the clear.
		return Delivery{}, errors.New("notify: new delivery: sealer returned the address in the clear")
	}
	d := Delivery{
		ID:       id,
		Channel:  channel,
		ToSealed: sealed,
		Template: template,
		Lang:     lang,
		Data:     maps.Clone(data),
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
