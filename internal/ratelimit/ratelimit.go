// Package ratelimit counts events per key, in a sliding window or a token
// bucket, in bounded memory (see MaxKeys) and per instance. It slows down
// guessing and flooding; the limits that must hold across instances (such
// as attempts per one-time code) are kept in the database instead.
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

// Window allows up to a limit of events per key within a period.
type Window struct {
	period time.Duration

	mu   sync.Mutex
	keys *keys[[]time.Time]
}

// New returns a window of the given period.
func New(period time.Duration) *Window {
	return &Window{period: period, keys: newKeys[[]time.Time](MaxKeys, period)}
}

// Allow records an event for key at now and reports whether it is within
// limit; an event over the limit is not recorded.
func (w *Window) Allow(key string, limit int, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, _ := w.keys.get(key, now)
	cut := now.Add(-w.period)
	ts := n.v
	i := 0
	for i < len(ts) && ts[i].Before(cut) {
		i++
	}
	ts = ts[i:]
	if len(ts) >= limit {
		n.v = ts
		w.keys.used(n, now, false, true)
		return false
	}
	n.v = append(ts, now)
	w.keys.used(n, now, true, len(n.v) >= limit)
	return true
}

// Bucket is a token bucket per key: burst events at once, then one per
// every. It suits events that come in short runs (a visitor saving a
// choice), where a window would be too strict or too loose.
type Bucket struct {
	burst float64
	every time.Duration

	mu   sync.Mutex
	keys *keys[float64] // tokens left at the node's last event
}

// NewBucket returns a bucket of burst tokens, refilled one per every.
func NewBucket(burst int, every time.Duration) *Bucket {
	// A key left alone for burst×every has refilled: forgetting it forgives nothing.
	return &Bucket{burst: float64(burst), every: every, keys: newKeys[float64](MaxKeys, time.Duration(burst)*every)}
}

// Allow takes a token for key at now and reports whether there was one.
func (b *Bucket) Allow(key string, now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, fresh := b.keys.get(key, now)
	tokens := b.burst
	if !fresh {
		tokens = min(b.burst, n.v+float64(now.Sub(n.last))/float64(b.every))
	}
	if tokens < 1 {
		b.keys.used(n, now, false, true)
		return false
	}
	n.v = tokens - 1
	b.keys.used(n, now, true, n.v < 1)
	return true
}
