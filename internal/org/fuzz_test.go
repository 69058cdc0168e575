package org

import (
	"strings"
	"testing"
)

// FuzzHosts: whatever a Host header or a registry request carries, Host
// and normaliseHosts do not panic; what normaliseHosts accepts is lower
// case, has no port, scheme or path, is accepted again unchanged, and is
// what Host makes of it, so a registered host is always found again.
func FuzzHosts(f *testing.F) {
	for _, s := range []string{"privacy.acme.example", "Privacy.ACME.example:8443", "[::1]:80", "a..b", "xn--fsq.example.", "", "acme", "a-.example", "127.0.0.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = Host(s)
		_ = ValidateID(s)
		hosts, err := normaliseHosts([]string{s})
		if err != nil {
			return
		}
		for _, h := range hosts {
			if h != strings.ToLower(h) || strings.ContainsAny(h, ":/ \t") {
				t.Fatalf("normaliseHosts(%q) kept %q", s, h)
			}
			again, err := normaliseHosts([]string{h})
			if err != nil || len(again) != 1 || again[0] != h {
				t.Fatalf("normaliseHosts(%q) = %q, then %q, %v", s, h, again, err)
			}
			if got := Host(h); got != h {
				t.Fatalf("Host(%q) = %q: a registered host would not be found", h, got)
			}
		}
	})
}
