package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// FileName is the file a FileSender appends to, in its Dir.
const FileName = "outbox.jsonl"

// FileSender appends each message as one JSON line to Dir/outbox.jsonl,
// in place of sending it.
//
// It is for development and tests only: the file holds addresses and
// one-time codes in the clear. It is created with mode 0600 (and brought
// back to 0600 if found wider), in a directory created 0700.
type FileSender struct {
	Dir string

	mu sync.Mutex
}

// FileLine is one line of a FileSender's file.
type FileLine struct {
	Time       time.Time `json:"time"`
	DeliveryID string    `json:"id"`
	Channel    string    `json:"channel"`
	To         string    `json:"to"`
	Subject    string    `json:"subject,omitempty"`
	Text       string    `json:"text"`
	HTML       string    `json:"html,omitempty"`
}

// Send implements Sender.
func (s *FileSender) Send(ctx context.Context, m Message) error {
	line, err := json.Marshal(FileLine{
		Time: time.Now().UTC(), DeliveryID: m.DeliveryID, Channel: m.Channel,
		To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML,
	})
	if err != nil {
		return fmt.Errorf("notify: file sender: encode: %w", err)
	}
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("notify: file sender: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, FileName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("notify: file sender: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("notify: file sender: %w", err)
	}
	if _, err := f.Write(line); err != nil {
		f.Close()
		return fmt.Errorf("notify: file sender: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("notify: file sender: %w", err)
	}
	return nil
}

// MultiSender routes a message by its channel: email to Email (an
// SMTPSender, or a FileSender in development), sms to SMS (a WebhookSender,
// or a FileSender).
type MultiSender struct {
	Email Sender
	SMS   Sender
}

// Send implements Sender. A channel with no sender configured is an error
// the Dispatcher retries, so deliveries wait for the configuration to be
// completed rather than being given up.
func (s MultiSender) Send(ctx context.Context, m Message) error {
	var to Sender
	switch m.Channel {
	case ChannelEmail:
		to = s.Email
	case ChannelSMS:
		to = s.SMS
	default:
		return fmt.Errorf("notify: unknown channel %q: %w", m.Channel, ErrPermanent)
	}
	if to == nil {
		return fmt.Errorf("notify: no sender configured for channel %s", m.Channel)
	}
	return to.Send(ctx, m)
}
