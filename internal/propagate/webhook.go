package propagate

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/store"
)

// Notice is the JSON body posted to a recipient's webhook.
type Notice struct {
	Type       string   `json:"type"` // custos.request.<action>
	Task       string   `json:"task"`
	Request    string   `json:"request"`
	Recipient  string   `json:"recipient"`
	Action     string   `json:"action"`
	Categories []string `json:"categories"`
	// SubjectRef names the subject to this recipient alone: see SubjectRef.
	SubjectRef string `json:"subject_ref"`
	OccurredAt string `json:"occurred_at"` // RFC 3339, when this notice was issued
	// Certificates are the ids of the signed erasure certificates of what
	// the request erased in the organisation's own databases, so that the
	// recipient can ask for them as evidence; absent when there are none.
	Certificates []string `json:"certificates,omitempty"`
	// AckToken lets the recipient acknowledge this notice itself: POST to
	// AckPath on the organisation's Custos server, no key needed. Absent
	// when the server has no acknowledgement key.
	AckToken string `json:"ack_token,omitempty"`
	AckPath  string `json:"ack_path,omitempty"`
	// AckURL is AckPath as a full link, when the server knows where it is
	// reached from outside (--public-url).
	AckURL string `json:"ack_url,omitempty"`
}

// SubjectRef is the pseudonym under which recipient knows subject:
// hex(HMAC-SHA256(secret, recipient + "\x00" + subject)). Two recipients
// get different values for one subject, so they cannot join their data on
// it, and none learns the subject id.
func SubjectRef(secret []byte, recipient, subject string) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(recipient + "\x00" + subject))
	return hex.EncodeToString(mac.Sum(nil))
}

// webhook posts t to endpoint, signed as Standard Webhooks specifies with
// the task id as webhook-id, so that a receiver drops the duplicates that
// retries produce. It returns nil when the recipient took the notice.
func (p *Propagator) webhook(ctx context.Context, log *slog.Logger, t store.RecipientTask, endpoint string) *outcome {
	if endpoint == "" {
		return &outcome{reason: "recipient has no webhook endpoint in the manifest", final: true}
	}
	if reason := checkEndpoint(endpoint); reason != "" {
		return &outcome{reason: reason, final: true}
	}
	subject, err := p.SubjectOf(ctx, t.RequestID)
	if err != nil {
		log.Error("propagate: look up the request's subject", "error", err)
		return &outcome{reason: "could not look up the request's subject"}
	}
	cats := t.Categories
	if cats == nil {
		cats = []string{}
	}
	var certs []string
	if p.CertificatesOf != nil {
		if certs, err = p.CertificatesOf(ctx, t.RequestID); err != nil {
			log.Error("propagate: look up the request's certificates", "error", err)
			return &outcome{reason: "could not look up the request's certificates"}
		}
	}
	fields := p.NoticeFields(t, subject)
	body, err := json.Marshal(Notice{Type: "custos.request." + t.Action, Task: t.ID, Request: t.RequestID, Recipient: t.Recipient,
		Action: t.Action, Categories: cats, SubjectRef: SubjectRef(p.Secret, t.Recipient, subject), OccurredAt: p.now().UTC().Format(time.RFC3339),
		Certificates: certs, AckToken: fields["ack_token"], AckPath: fields["ack_path"], AckURL: fields["ack_url"]})
	if err != nil {
		return &outcome{reason: "could not encode the notice", final: true}
	}

	ctx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return &outcome{reason: "endpoint is not a valid URL", final: true}
	}
	ts := strconv.FormatInt(p.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "custos-propagate")
	req.Header.Set("webhook-id", t.ID)
	req.Header.Set("webhook-timestamp", ts)
	key, err := notify.WebhookKey(string(p.Secret))
	if err != nil {
		return &outcome{reason: "the signing secret is unusable: " + err.Error(), final: true}
	}
	req.Header.Set("webhook-signature", notify.SignWebhook(key, t.ID, ts, body))
	resp, err := p.client().Do(req)
	if err != nil {
		return &outcome{reason: postFailure(err)}
	}
	defer resp.Body.Close()
	// The reply is read only so the connection can be reused: it may echo
	// what it was sent and is never recorded.
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return replyOutcome(resp.StatusCode)
}

// replyOutcome says what a recipient's reply status means for the notice.
//
// A 2xx took it. Most other replies are retried with backoff until
// MaxAttempts, because the organisation can still put them right, and the
// manifest in force is read again on every attempt:
//   - 400, 401 and 403 are how a Standard Webhooks receiver refuses a
//     signature it cannot verify: a secret not yet shared, or rotated on
//     one side only;
//   - 404 and 405 mean the endpoint in the manifest is wrong or not yet
//     deployed, which a corrected manifest fixes;
//   - 408, 429, 3xx (redirects are never followed) and 5xx are passing.
//
// Only replies that no retry of the same notice can change are final:
// 410 Gone (the recipient says the endpoint is gone for good), 413 (the
// notice will not get smaller) and 422 (the recipient understood the
// notice and refuses its content).
func replyOutcome(code int) *outcome {
	if code >= 200 && code < 300 {
		return nil
	}
	o := &outcome{status: code, reason: fmt.Sprintf("recipient replied %d", code)}
	switch code {
	case http.StatusGone, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		o.final = true
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		o.reason += " (it may not verify the signature: check the signing secret it was given)"
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		o.reason += " (check the endpoint in the manifest)"
	}
	return o
}

// postFailure describes a failed post without the URL, which *url.Error
// repeats and which may carry a token in its query or user info.
func postFailure(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return "post: timed out"
		}
		err = ue.Err
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return "post: " + ne.Op + ": " + ne.Err.Error()
	}
	return "post: " + err.Error()
}

// checkEndpoint returns why endpoint may not be posted to, or "". Notices
// name requests and pseudonyms, so they travel over TLS; plain HTTP is let
// through only to this machine, for tests and local relays.
func checkEndpoint(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "endpoint is not an absolute URL"
	}
	switch {
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return ""
	default:
		return "endpoint refused: notices go over https only (plain http only to localhost)"
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (p *Propagator) client() *http.Client {
	c := http.Client{Timeout: attemptTimeout}
	if p.Client != nil {
		c = *p.Client
	}
	// A redirect would take the notice somewhere the manifest does not name.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
