package webhooktest

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/notify"
)

// recorder stands in for a test so that a rejection can be observed
// rather than failing this test.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// TestVerify: the reference library accepts what notify.SignWebhook signs
// with the key notify.WebhookKey reads, and the helper reports what it
// rejects.
func TestVerify(t *testing.T) {
	scriptPath(t) // skip here, not inside the recorder, when node is missing
	const secret = "whsec_dGVzdC1zaWduaW5nLXNlY3JldC1rZXk="
	key, err := notify.WebhookKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"type":"custos.request.deletion","note":"中文 ✓"}`)
	sign := func(key []byte, at time.Time) http.Header {
		ts := strconv.FormatInt(at.Unix(), 10)
		h := http.Header{}
		h.Set("webhook-id", "rt_1")
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", notify.SignWebhook(key, "rt_1", ts, body))
		return h
	}
	for _, tc := range []struct {
		name       string
		header     http.Header
		wantReject bool
	}{
		{"signed now", sign(key, time.Now()), false},
		{"another key", sign([]byte("other-key"), time.Now()), true},
		// what a signer that skipped the base64 would send
		{"the secret's text used as the key", sign([]byte(secret), time.Now()), true},
		{"signed an hour ago", sign(key, time.Now().Add(-time.Hour)), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{TB: t}
			Verify(r, secret, tc.header, body)
			if got := len(r.errors) > 0; got != tc.wantReject {
				t.Errorf("rejected = %v, want %v (%v)", got, tc.wantReject, r.errors)
			}
		})
	}
}
