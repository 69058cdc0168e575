// Package egress posts to addresses that people, not operators, give: the
// endpoint a portability request names. Such an address may point back
// into the organisation's own network (server-side request forgery), so
// only https is used, the address a name resolves to is checked when the
// connection is made (a name that resolved to a public address when it
// was checked and to a private one when dialled gets nowhere), redirects
// are not followed, and each post and the reply read are bounded.
package egress

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

const (
	// DefaultTimeout bounds one post, from dialling to the reply's end.
	DefaultTimeout = 30 * time.Second
	// replyLimit is how much of a reply is read: only so the connection
	// can be reused; replies are never kept.
	replyLimit = 64 << 10
)

// ErrRefused is the error of an address that may not be posted to.
var ErrRefused = errors.New("address refused")

// Options shape a Client.
type Options struct {
	// Timeout bounds one post (DefaultTimeout when zero).
	Timeout time.Duration
	// AllowLoopback lets posts reach this machine's loopback addresses.
	// It is for tests, whose receivers listen on 127.0.0.1; the server
	// never sets it.
	AllowLoopback bool
	// RootCAs are the certificate authorities trusted (the system's when
	// nil); tests give their receiver's.
	RootCAs *x509.CertPool
}

// Client posts only where Allowed says it may.
type Client struct {
	http *http.Client
}

// New returns a Client.
func New(o Options) *Client {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	d := &net.Dialer{Timeout: min(timeout, 10*time.Second), Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return ErrRefused
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !Allowed(ip, o.AllowLoopback) {
			return ErrRefused
		}
		return nil
	}}
	tr := &http.Transport{
		// No proxy: a proxy would resolve the name itself, out of reach of
		// the check above.
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          10,
		IdleConnTimeout:       90 * time.Second,
	}
	if o.RootCAs != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: o.RootCAs, MinVersion: tls.VersionTLS12}
	}
	return &Client{http: &http.Client{Transport: tr, Timeout: timeout,
		// A redirect would take the post where the person did not say.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Allowed reports whether ip may be posted to: not loopback (unless
// allowLoopback), private, link-local, multicast, unspecified, nor in the
// shared address space of carrier-grade NAT or "this network".
func Allowed(ip netip.Addr, allowLoopback bool) bool {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid():
		return false
	case ip.IsLoopback():
		return allowLoopback
	case ip.IsPrivate(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(), ip.IsMulticast(), ip.IsUnspecified():
		return false
	}
	for _, p := range refusedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

var refusedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: may embed a private IPv4 address
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("fec0::/10"),       // site-local (deprecated)
	netip.MustParsePrefix("2002::/16"),       // 6to4: may embed a private IPv4 address
	netip.MustParsePrefix("2001::/32"),       // Teredo
	netip.MustParsePrefix("100::/64"),        // discard
}

// CheckURL returns why raw may not be posted to, wrapping ErrRefused, or
// nil: an absolute https URL with a host and no user information.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%w: not an absolute URL", ErrRefused)
	case u.Scheme != "https":
		return fmt.Errorf("%w: only https is used", ErrRefused)
	case u.User != nil:
		return fmt.Errorf("%w: user information in the URL", ErrRefused)
	}
	return nil
}

// Host is the host of raw, without port, path or query ("" when raw is
// not a URL): what may be shown and recorded of an address that may carry
// a token.
func Host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// Reply is what a post came to.
type Reply struct {
	// Status is the receiver's HTTP status; 0 when there was no reply.
	Status int
	// Err says why there was no reply, without the URL (which may carry a
	// token); it wraps ErrRefused when the address was refused.
	Err error
}

// Post posts body to rawURL with the headers given and returns the
// receiver's status. Only up to 64 KiB of the reply is read, and none of
// it is returned: it may echo what it was sent.
func (c *Client) Post(ctx context.Context, rawURL string, header http.Header, body []byte) Reply {
	if err := CheckURL(rawURL); err != nil {
		return Reply{Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return Reply{Err: fmt.Errorf("%w: not a valid URL", ErrRefused)}
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Reply{Err: describe(err)}
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, replyLimit))
	return Reply{Status: resp.StatusCode}
}

// describe says why a post failed without the URL, which *url.Error
// repeats.
func describe(err error) error {
	if errors.Is(err, ErrRefused) {
		return fmt.Errorf("%w: it resolves to a loopback, private, link-local, multicast or unspecified address", ErrRefused)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return errors.New("timed out")
		}
		err = ue.Err
	}
	var ne *net.OpError
	if errors.As(err, &ne) {
		return fmt.Errorf("%s: %v", ne.Op, ne.Err)
	}
	return err
}
