package org

import (
	"fmt"
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

// FuzzParseAssist: an assistance deadline is accepted only as a count from
// 1 to 90 of working or calendar days, and what is accepted reads back the
// same when written out again.
func FuzzParseAssist(f *testing.F) {
	for _, s := range []string{"5 working_days", "10 calendar_days", "", "0 working_days", "91 calendar_days", "5  working_days", "1e1 working_days", "-1 working_days", "5 months", "５ working_days"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseAssist(s)
		if err != nil {
			return
		}
		if r.Count < 1 || r.Count > 90 || r.Unit != "working_days" && r.Unit != "calendar_days" {
			t.Fatalf("ParseAssist(%q) = %+v", s, r)
		}
		if again, err := ParseAssist(fmt.Sprintf("%d %s", r.Count, r.Unit)); err != nil || again != r {
			t.Fatalf("ParseAssist(%q) = %+v, written again %+v, %v", s, r, again, err)
		}
	})
}
