package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultUserAgent is the User-Agent sent when WithUserAgent is not given.
const DefaultUserAgent = "custos-go-client/1"

// maxResponse bounds a JSON answer read into memory; the largest the API
// gives (a page of 1000 consent events) is far smaller.
const maxResponse = 32 << 20

// Client calls one Custos server. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	hc    *http.Client
	key   string
	ua    string
	retry RetryPolicy
	// sleep waits between attempts; tests replace it to observe the waits.
	sleep func(ctx context.Context, d time.Duration) error
	keys  keyCache
}

// Option configures a Client.
type Option func(*Client) error

// WithAPIKey authenticates every call with key, sent as
// "Authorization: Bearer key". Public calls (the public rights-request
// routes, ReceiptKeys) need none.
func WithAPIKey(key string) Option {
	return func(c *Client) error {
		if strings.ContainsAny(key, " \t\r\n") {
			return errors.New("custos: the API key contains white space")
		}
		c.key = key
		return nil
	}
}

// WithHTTPClient sends requests through hc instead of a client with a
// 30-second timeout. Use it for custom transports, proxies or TLS roots.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("custos: WithHTTPClient(nil)")
		}
		c.hc = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header, e.g. "billing-service/2.3".
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		c.ua = ua
		return nil
	}
}

// WithRetry replaces DefaultRetryPolicy. RetryPolicy{MaxAttempts: 1}
// turns retries off.
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) error {
		if err := p.validate(); err != nil {
			return err
		}
		c.retry = p
		return nil
	}
}

// New returns a client for the server at baseURL, e.g.
// "https://custos.internal:8080" or "https://gw.example.com/custos/".
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		// The URL is not quoted: a mistyped one may carry credentials.
		return nil, errors.New("custos: the base URL must be http(s)://host[:port][/path], without credentials, query or fragment")
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	c := &Client{
		base:  u,
		hc:    &http.Client{Timeout: 30 * time.Second},
		ua:    DefaultUserAgent,
		retry: DefaultRetryPolicy,
		sleep: sleepCtx,
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// call describes one API call.
type call struct {
	op     string // the method's name, for errors: never the URL, which holds ids and tokens
	method string
	path   string // escaped path under the base URL
	query  url.Values
	header http.Header
	body   any // marshalled as JSON when non-nil
}

// do runs a call, retrying as the policy and the method allow, and
// decodes a successful JSON answer into out (unless out is nil).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	res, err := c.send(ctx, cl)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(res.Body, maxResponse))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxResponse)).Decode(out); err != nil {
		// The decoder's message can quote the body, which may hold personal
		// data: keep only that the answer was not what was expected.
		if ctx.Err() != nil {
			return fmt.Errorf("custos %s: %w", cl.op, ctx.Err())
		}
		return fmt.Errorf("custos %s: the response is not the expected JSON (HTTP %d)", cl.op, res.StatusCode)
	}
	return nil
}

// send runs a call and returns a 2xx response, whose body the caller
// closes; any other outcome is an error.
func (c *Client) send(ctx context.Context, cl call) (*http.Response, error) {
	var body []byte
	if cl.body != nil {
		var err error
		if body, err = json.Marshal(cl.body); err != nil {
			return nil, fmt.Errorf("custos %s: encode the request: %w", cl.op, err)
		}
	}
	u := *c.base
	u.RawPath = c.base.EscapedPath() + cl.path
	u.Path, _ = url.PathUnescape(u.RawPath) // cl.path is built by pathOf: it unescapes
	if len(cl.query) > 0 {
		u.RawQuery = cl.query.Encode()
	}
	attempts := 1
	if retriable(cl.method) {
		attempts = c.retry.MaxAttempts
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("custos %s: %w", cl.op, err)
		}
		req, err := http.NewRequestWithContext(ctx, cl.method, u.String(), bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("custos %s: %w", cl.op, err)
		}
		if body == nil {
			req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		for k, v := range cl.header {
			req.Header[k] = v
		}
		if req.Header.Get("Accept") == "" {
			req.Header.Set("Accept", "application/json")
		}
		req.Header.Set("User-Agent", c.ua)
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		res, err := c.hc.Do(req)
		var wait time.Duration
		switch {
		case err != nil:
			err = transportError(cl.op, err)
			if ctx.Err() != nil || !retryableTransport(err) {
				return nil, err
			}
		case res.StatusCode >= 200 && res.StatusCode < 300:
			return res, nil
		default:
			apiErr := readError(cl.op, res)
			if !retryableStatus(res.StatusCode) {
				return nil, apiErr
			}
			err, wait = apiErr, apiErr.RetryAfter
		}
		if attempt >= attempts {
			return nil, err
		}
		backoff := c.retry.backoff(attempt)
		if wait > c.retry.MaxDelay {
			// The server asks for a longer pause than the policy waits:
			// give the caller the answer, with its RetryAfter, now.
			return nil, err
		}
		wait = max(wait, backoff)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, err // the context would end before the next attempt
		}
		if serr := c.sleep(ctx, wait); serr != nil {
			// Both match errors.Is: the context's end, and the last answer.
			return nil, fmt.Errorf("custos %s: %w while waiting to try again; the last answer: %w", cl.op, serr, err)
		}
	}
}

// transportError drops the URL from net/http's error: it holds subject
// ids, request ids and, for bundles, a download token.
func transportError(op string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("custos %s: %w", op, err)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pathOf joins escaped path segments under /v1.
func pathOf(segments ...string) string {
	var b strings.Builder
	b.WriteString("/v1")
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// need refuses an empty id before it becomes a different route.
func need(op, what, v string) error {
	if v == "" {
		return fmt.Errorf("custos %s: %s is empty", op, what)
	}
	return nil
}
