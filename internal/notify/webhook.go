package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const webhookTimeout = 30 * time.Second

// WebhookSender posts text messages as JSON to an SMS gateway,
// {"id","channel","to","text"}, signed as Standard Webhooks specifies
// (https://www.standardwebhooks.com): headers webhook-id (the delivery id,
// the same on every attempt so the gateway can drop duplicates),
// webhook-timestamp (Unix seconds) and webhook-signature,
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
//
// Any 2xx reply means sent. Redirects are not followed, so the address is
// never posted anywhere but URL.
type WebhookSender struct {
	URL string // https, or http to a gateway on localhost
	// Secret is the signing key: "whsec_" followed by the base64 key, as
	// the convention writes it, or else the key's bytes as they are.
	Secret string
	Client *http.Client // default: a client with a 30s timeout
}

// LogValue shows the sender's settings without the secret.
func (w *WebhookSender) LogValue() slog.Value {
	sec := ""
	if w.Secret != "" {
		sec = "[redacted]"
	}
	return slog.GroupValue(slog.String("url", w.URL), slog.String("secret", sec))
}

type webhookBody struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	To      string `json:"to"`
	Text    string `json:"text"`
}

// Send implements Sender. A failure reports the gateway's status code, not
// its reply, which may quote the number. 400 and 422 (the gateway refuses
// this message) are permanent; other statuses are retried.
func (w *WebhookSender) Send(ctx context.Context, m Message) error {
	if err := checkWebhookURL(w.URL); err != nil {
		return err
	}
	key, err := WebhookKey(w.Secret)
	if err != nil {
		return err
	}
	id := m.DeliveryID
	if id == "" {
		var r [12]byte
		rand.Read(r[:])
		id = "msg_" + hex.EncodeToString(r[:])
	}
	channel := m.Channel
	if channel == "" {
		channel = ChannelSMS
	}
	body, err := json.Marshal(webhookBody{ID: id, Channel: channel, To: m.To, Text: m.Text})
	if err != nil {
		return fmt.Errorf("notify: webhook: encode: %w", err)
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify: webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", SignWebhook(key, id, ts, body))

	resp, err := w.client().Do(req)
	if err != nil {
		// *url.Error repeats the URL, which may hold a gateway token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("notify: webhook: post: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity:
		return fmt.Errorf("notify: webhook: gateway replied %d: %w", resp.StatusCode, ErrPermanent)
	default:
		return fmt.Errorf("notify: webhook: gateway replied %d", resp.StatusCode)
	}
}

// SignWebhook returns the webhook-signature header value for a message:
// "v1," + base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)).
func SignWebhook(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// WebhookKey turns a signing secret into the HMAC key of Standard
// Webhooks: "whsec_" followed by base64 is the key those bytes encode, as
// the specification and its reference libraries read it; any other value
// is used as it is. Every signed message Custos sends (SMS gateway posts,
// recipient notices, portability transmissions) reads its secret here.
func WebhookKey(secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("notify: webhook: no signing secret")
	}
	if enc, ok := strings.CutPrefix(secret, "whsec_"); ok {
		key, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || len(key) == 0 {
			return nil, errors.New("notify: webhook: secret is whsec_ but not followed by base64")
		}
		return key, nil
	}
	return []byte(secret), nil
}

func checkWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("notify: webhook: URL is not an absolute URL")
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return errors.New("notify: webhook: URL must be https (http only to localhost): messages carry phone numbers and codes")
	}
	return nil
}

func (w *WebhookSender) client() *http.Client {
	c := http.Client{Timeout: webhookTimeout}
	if w.Client != nil {
		c = *w.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
