package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/custos-privacy/custos/internal/webhooktest"
)

type capturedRequest struct {
	header http.Header
	body   []byte
}

// gateway is an httptest SMS gateway that records requests and answers with
// status, echoing the request body as some gateways do.
func gateway(t *testing.T, status int) (*httptest.Server, func() []capturedRequest) {
	t.Helper()
	var mu sync.Mutex
	var got []capturedRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, capturedRequest{r.Header.Clone(), body})
		mu.Unlock()
		if status == http.StatusFound {
			http.Redirect(w, r, "/elsewhere", status)
			return
		}
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []capturedRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]capturedRequest(nil), got...)
	}
}

func TestWebhookSenderSigns(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	tests := []struct {
		name   string
		secret string
		key    []byte
	}{
		{"whsec_ secret", "whsec_" + base64.StdEncoding.EncodeToString(key), key},
		{"raw secret", "a shared secret", []byte("a shared secret")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, requests := gateway(t, http.StatusAccepted)
			s := &WebhookSender{URL: srv.URL + "/sms", Secret: tt.secret}
			m := Message{Channel: ChannelSMS, To: testPhone, Text: "您的验证码是 482915，10 分钟内有效。", DeliveryID: "dl_test1"}
			before := time.Now().Unix()
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			after := time.Now().Unix()
			reqs := requests()
			if len(reqs) != 1 {
				t.Fatalf("gateway got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			var body map[string]string
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"id": "dl_test1", "channel": "sms", "to": testPhone, "text": m.Text}
			if d := cmp.Diff(want, body); d != "" {
				t.Errorf("body (-want +got):\n%s", d)
			}
			if got := r.header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			id, ts := r.header.Get("webhook-id"), r.header.Get("webhook-timestamp")
			if id != "dl_test1" {
				t.Errorf("webhook-id = %q, want the delivery id", id)
			}
			sec, err := strconv.ParseInt(ts, 10, 64)
			if err != nil || sec < before || sec > after {
				t.Errorf("webhook-timestamp = %q, want Unix seconds in [%d, %d]", ts, before, after)
			}
			mac := hmac.New(sha256.New, tt.key)
			mac.Write([]byte(id + "." + ts + "." + string(r.body)))
			wantSig := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
			if got := r.header.Get("webhook-signature"); got != wantSig {
				t.Errorf("webhook-signature = %q, want %q", got, wantSig)
			}
			if strings.HasPrefix(tt.secret, "whsec_") {
				// as a gateway using the reference library checks it
				webhooktest.Verify(t, tt.secret, r.header, r.body)
			}
		})
	}
}

func TestWebhookSenderStatus(t *testing.T) {
	tests := []struct {
		status    int
		want      string // in the error; "" for success
		permanent bool
	}{
		{http.StatusOK, "", false},
		{http.StatusNoContent, "", false},
		{http.StatusBadRequest, "gateway replied 400", true},
		{http.StatusUnprocessableEntity, "gateway replied 422", true},
		{http.StatusUnauthorized, "gateway replied 401", false},
		{http.StatusTooManyRequests, "gateway replied 429", false},
		{http.StatusServiceUnavailable, "gateway replied 503", false},
		{http.StatusFound, "gateway replied 302", false},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			srv, requests := gateway(t, tt.status)
			s := &WebhookSender{URL: srv.URL, Secret: "k"}
			err := s.Send(context.Background(), Message{Channel: ChannelSMS, To: testPhone, Text: "code " + testCode, DeliveryID: "dl_1"})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Send = %v, want nil", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Send = %v, want an error containing %q", err, tt.want)
			}
			if errors.Is(err, ErrPermanent) != tt.permanent {
				t.Errorf("errors.Is(ErrPermanent) = %v, want %v", !tt.permanent, tt.permanent)
			}
			if err != nil && (strings.Contains(err.Error(), "138") || strings.Contains(err.Error(), testCode)) {
				t.Errorf("error quotes the reply: %v", err)
			}
			// A redirect is not followed: the number goes nowhere else.
			if n := len(requests()); n != 1 {
				t.Errorf("gateway got %d requests, want 1", n)
			}
		})
	}
}

func TestWebhookSenderRefuses(t *testing.T) {
	srv, requests := gateway(t, http.StatusOK)
	tests := []struct {
		name string
		s    *WebhookSender
		want string
	}{
		{"plain http to a remote host", &WebhookSender{URL: "http://sms.example.net/send", Secret: "k"}, "must be https"},
		{"relative URL", &WebhookSender{URL: "/send", Secret: "k"}, "not an absolute URL"},
		{"no secret", &WebhookSender{URL: srv.URL}, "no signing secret"},
		{"bad whsec_", &WebhookSender{URL: srv.URL, Secret: "whsec_***"}, "not followed by base64"},
		{"unreachable, URL with a token", &WebhookSender{URL: "http://127.0.0.1:1/send?token=tok_abc", Secret: "k"}, "notify: webhook: post"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.Send(context.Background(), Message{Channel: ChannelSMS, To: testPhone, Text: "x"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Send = %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "tok_abc") {
				t.Errorf("error quotes the URL: %v", err)
			}
		})
	}
	if n := len(requests()); n != 0 {
		t.Errorf("gateway got %d requests, want none", n)
	}
}
