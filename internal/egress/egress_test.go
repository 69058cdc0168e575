package egress_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/egress"
)

func TestAllowed(t *testing.T) {
	for _, c := range []struct {
		ip       string
		loopback bool
		want     bool
	}{
		{"93.184.215.14", false, true},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", false, true},
		{"127.0.0.1", false, false},
		{"127.0.0.1", true, true},
		{"::1", false, false},
		{"::1", true, true},
		{"::ffff:127.0.0.1", false, false},
		{"10.1.2.3", true, false},
		{"172.16.0.1", false, false},
		{"192.168.1.1", false, false},
		{"fd00::1", false, false},
		{"169.254.169.254", false, false},
		{"fe80::1", false, false},
		{"224.0.0.1", false, false},
		{"ff02::1", false, false},
		{"0.0.0.0", true, false},
		{"::", true, false},
		{"100.64.0.1", false, false},
		{"::ffff:10.0.0.1", false, false},
		{"64:ff9b::a00:1", false, false},
		{"255.255.255.255", false, false},
	} {
		if got := egress.Allowed(netip.MustParseAddr(c.ip), c.loopback); got != c.want {
			t.Errorf("Allowed(%s, loopback %v) = %v, want %v", c.ip, c.loopback, got, c.want)
		}
	}
}

// TestPostRefuses: every way to an address that is not the public
// internet's, or not over https, is refused before anything is sent.
func TestPostRefuses(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	strict := egress.New(egress.Options{RootCAs: pool(srv), Timeout: 2 * time.Second})
	for _, c := range []struct{ name, url string }{
		{"loopback without the test option", srv.URL + "/import?token=t0ken"},
		{"loopback by name", "https://localhost" + port + "/import"},
		{"private IPv4", "https://10.0.0.1/import"},
		{"private IPv4 by its mapped IPv6 form", "https://[::ffff:10.0.0.1]/import"},
		{"link-local metadata address", "https://169.254.169.254/latest/meta-data"},
		{"unique local IPv6", "https://[fd12::1]/import"},
		{"unspecified", "https://0.0.0.0" + port + "/import"},
		{"plain http", strings.Replace(srv.URL, "https:", "http:", 1) + "/import"},
		{"user information", "https://user:pass@example.com/import"},
		{"not a URL", "acme.example/import"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := strict.Post(context.Background(), c.url, nil, []byte("{}"))
			if r.Status != 0 || !errors.Is(r.Err, egress.ErrRefused) {
				t.Errorf("Post = %d, %v; want refused", r.Status, r.Err)
			}
			if r.Err != nil && (strings.Contains(r.Err.Error(), "t0ken") || strings.Contains(r.Err.Error(), "/import")) {
				t.Errorf("the error repeats the URL: %v", r.Err)
			}
		})
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d posts reached the receiver", n)
	}
}

// TestPostRedirectNotFollowed: a receiver that redirects is answered with
// its redirect, and the place it redirects to gets nothing.
func TestPostRedirectNotFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	target := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer target.Close()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/steal", http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	c := egress.New(egress.Options{AllowLoopback: true, RootCAs: pool(srv, target)})
	r := c.Post(context.Background(), srv.URL, nil, []byte("{}"))
	if r.Status != http.StatusTemporaryRedirect || r.Err != nil {
		t.Errorf("Post = %d, %v; want the 307 itself", r.Status, r.Err)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// TestPostBounded: a receiver that does not answer in time is given up,
// and a long reply is not read to its end.
func TestPostBounded(t *testing.T) {
	slow := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	c := egress.New(egress.Options{AllowLoopback: true, RootCAs: pool(slow), Timeout: 300 * time.Millisecond})
	start := time.Now()
	r := c.Post(context.Background(), slow.URL, nil, []byte("{}"))
	if r.Status != 0 || r.Err == nil || errors.Is(r.Err, egress.ErrRefused) {
		t.Errorf("Post to a receiver that hangs = %d, %v", r.Status, r.Err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Post took %v with a 300ms timeout", d)
	}

	long := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 1<<10))
		for i := 0; i < 1<<20; i++ { // a gigabyte, if anyone read it
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	defer long.Close()
	c = egress.New(egress.Options{AllowLoopback: true, RootCAs: pool(long), Timeout: 10 * time.Second})
	r = c.Post(context.Background(), long.URL, nil, []byte("{}"))
	if r.Status != http.StatusOK {
		t.Errorf("Post to a receiver with a long reply = %d, %v", r.Status, r.Err)
	}
}

func pool(srvs ...*httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	for _, s := range srvs {
		p.AddCert(s.Certificate())
	}
	return p
}

// FuzzCheckURL: whatever CheckURL lets through is an https URL with a
// host and no user information, and Host never gives more than a host.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://acme.example/import?token=x", "http://acme.example", "https://u:p@acme.example/",
		"https://[::1]:8443/x", "//acme.example/x", "https:///x", "HTTPS://ACME.EXAMPLE", "https://acme.example#frag", "https://%2e%2e/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		h := egress.Host(raw)
		if strings.ContainsAny(h, "/?#@") {
			t.Errorf("Host(%q) = %q", raw, h)
		}
		if egress.CheckURL(raw) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
			t.Errorf("CheckURL let %q through", raw)
		}
	})
}
