package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryPolicy says how often and how patiently a call is tried again.
//
// Only calls that are safe to repeat are retried: GET, HEAD, PUT and
// DELETE. The API takes no idempotency key, so a POST (recording a
// consent, submitting a request, a check) is sent once: repeating one whose
// answer was lost could record it twice.
//
// A retriable call is tried again after a network error or an answer of
// 429, 502, 503 or 504. The n-th wait is drawn at random between zero and
// min(MaxDelay, BaseDelay·2ⁿ⁻¹) ("full jitter"), so that many clients
// failing at once do not come back at once. A Retry-After header is
// honoured: the wait is at least what the server asks for, and when the
// server asks for more than MaxDelay the client stops and returns the
// answer (its Error.RetryAfter says how long to wait). No wait outlasts the
// call's context: when the context would end first, the last answer is
// returned at once.
type RetryPolicy struct {
	// MaxAttempts is the number of tries, the first included; 1 turns
	// retries off.
	MaxAttempts int
	// BaseDelay is the cap on the first wait; each later cap doubles.
	BaseDelay time.Duration
	// MaxDelay caps every wait, and is the longest Retry-After honoured.
	MaxDelay time.Duration
}

// DefaultRetryPolicy is used when WithRetry is not given: up to four tries,
// waiting at most 0.2 s, 0.4 s and 0.8 s between them (unless the server
// asks for longer, up to 5 s).
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, BaseDelay: 200 * time.Millisecond, MaxDelay: 5 * time.Second}

func (p RetryPolicy) validate() error {
	if p.MaxAttempts < 1 || p.BaseDelay < 0 || p.MaxDelay < p.BaseDelay {
		return errors.New("custos: a retry policy needs MaxAttempts ≥ 1 and 0 ≤ BaseDelay ≤ MaxDelay")
	}
	return nil
}

// backoff is the wait after the attempt-th try (1-based), with full jitter.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	ceiling := p.MaxDelay
	if attempt-1 < 32 { // beyond that the shift overflows; the cap has long applied
		if d := p.BaseDelay << (attempt - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// retriable says whether a method may be sent again without changing the
// outcome (RFC 9110 §9.2.2).
func retriable(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// retryableStatus: rate limited, or a gateway or server that may answer
// better in a moment. 500 is not among them: Custos answers it for a fault
// that a retry would meet again.
func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryableTransport: a refused or reset connection may work next time; a
// certificate that does not verify will not.
func retryableTransport(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return !errors.As(err, &unknownAuthority) && !errors.As(err, &hostname) && !errors.As(err, &invalid) && !errors.As(err, &verify)
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date (RFC 9110
// §10.2.3); zero when absent or unreadable.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.ParseInt(h, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		if s > 86400*365 {
			s = 86400 * 365
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
