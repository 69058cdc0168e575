// Package ratelimit counts events per key in a sliding window, in memory
// and per instance. It slows down guessing and flooding; the limits that
// must hold across instances (such as attempts per one-time code) are
// kept in the database instead.
package ratelimit

import (
	"net"
	"strings"
	"sync"
	"time"
)

// Client is the key a client is limited by, from an actor's place
// ("address host"): the address alone (the Host header is the client's
// to choose, so a key including it could be renewed at will), with an
// IPv6 address widened to its /64, which one user often holds whole.
func Client(place string) string {
	addr, _, _ := strings.Cut(place, " ")
	if ip := net.ParseIP(addr); ip != nil && ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String()
	}
	return addr
}

// MaxKeys bounds the keys a Window remembers. Past it, keys whose events
// have all left the window are forgotten; if that is not enough, all are.
const MaxKeys = 100_000

// Window allows up to a limit of events per key within a period.
type Window struct {
	period time.Duration

	mu sync.Mutex
	m  map[string][]time.Time
}

// New returns a window of the given period.
func New(period time.Duration) *Window {
	return &Window{period: period, m: map[string][]time.Time{}}
}

// Allow records an event for key at now and reports whether it is within
// limit; an event over the limit is not recorded.
func (w *Window) Allow(key string, limit int, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	cut := now.Add(-w.period)
	if len(w.m) >= MaxKeys {
		for k, ts := range w.m {
			if len(ts) == 0 || ts[len(ts)-1].Before(cut) {
				delete(w.m, k)
			}
		}
		if len(w.m) >= MaxKeys {
			clear(w.m)
		}
	}
	ts := w.m[key]
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	ts = ts[i:]
	if len(ts) >= limit {
		w.m[key] = ts
		return false
	}
	w.m[key] = append(ts, now)
	return true
}
