package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	w := New(time.Hour)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		key  string
		at   time.Duration
		want bool
	}{
		{"a", 0, true},
		{"a", time.Minute, true},
		{"a", 2 * time.Minute, true},
		{"a", 3 * time.Minute, false}, // limit 3 within the hour
		{"b", 3 * time.Minute, true},  // keys are apart
		{"a", time.Hour, false},       // the first event leaves the window only after an hour
		{"a", time.Hour + time.Second, true},
	}
	for i, s := range steps {
		if got := w.Allow(s.key, 3, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d (%s at %v): Allow = %v, want %v", i, s.key, s.at, got, s.want)
		}
	}
}

func TestWindowForgetsStaleKeysFirst(t *testing.T) {
	w := New(time.Minute)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	// Many keys, out of the window by the time the map fills.
	for i := range MaxKeys - 1 {
		w.Allow(fmt.Sprint("old", i), 1, t0)
	}
	// A key at its limit, recent.
	w.Allow("victim", 1, t0.Add(2*time.Minute))
	for i := range 10 {
		w.Allow(fmt.Sprint("new", i), 1, t0.Add(2*time.Minute+time.Second))
	}
	if w.Allow("victim", 1, t0.Add(2*time.Minute+time.Second)) {
		t.Error("filling the map with stale keys reset a live limit")
	}
	if n := len(w.keys.m); n != MaxKeys {
		t.Errorf("%d keys kept, want the bound %d", n, MaxKeys)
	}
	for _, k := range []string{"old0", "old8"} {
		if _, ok := w.keys.m[k]; ok {
			t.Errorf("stale key %s was kept", k)
		}
	}
}

// TestWindowKeepsLimitsThroughAFlood: an attacker with many addresses
// sends a fresh key per request, every one of them live, past the bound.
// Keys at their limit stay limited; memory stays bounded.
func TestWindowKeepsLimitsThroughAFlood(t *testing.T) {
	w := New(time.Hour)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		w.Allow("victim", 3, t0.Add(time.Duration(i)*time.Second))
	}
	w.Allow("light", 3, t0.Add(3*time.Second)) // under its limit
	for i := range MaxKeys + 10_000 {
		if !w.Allow(fmt.Sprint("flood", i), 3, t0.Add(time.Minute+time.Duration(i)*time.Millisecond)) {
			t.Fatalf("flood key %d refused on its first event", i)
		}
	}
	later := t0.Add(10 * time.Minute)
	if w.Allow("victim", 3, later) {
		t.Error("a flood of fresh keys reset a key held at its limit")
	}
	if n := len(w.keys.m); n > MaxKeys {
		t.Errorf("%d keys kept, more than the bound %d", n, MaxKeys)
	}
	// The flood forgot keys under their limit, oldest first: they lose at
	// most the events they had left.
	if _, ok := w.keys.m["light"]; ok {
		t.Error("the oldest key under its limit was kept while newer ones were forgotten")
	}
	if _, ok := w.keys.m["flood0"]; ok {
		t.Error("the oldest flood key was kept")
	}
	if _, ok := w.keys.m[fmt.Sprint("flood", MaxKeys+9_999)]; !ok {
		t.Error("the newest flood key was forgotten")
	}
}

// TestWindowAllAtLimit: when every key is at its limit, the least
// recently used goes first, and a key that was refused since is not made
// to look recent by it.
func TestWindowAllAtLimit(t *testing.T) {
	w := New(time.Hour)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for i := range MaxKeys {
		w.Allow(fmt.Sprint("k", i), 1, t0.Add(time.Duration(i)*time.Millisecond))
	}
	w.Allow("k0", 1, t0.Add(time.Minute)) // refused: records nothing
	w.Allow("new", 1, t0.Add(time.Minute))
	if n := len(w.keys.m); n != MaxKeys {
		t.Fatalf("%d keys kept, want %d", n, MaxKeys)
	}
	if _, ok := w.keys.m["k0"]; ok {
		t.Error("the least recently used key was kept")
	}
	if _, ok := w.keys.m["k1"]; !ok {
		t.Error("a key other than the least recently used was forgotten")
	}
	if w.Allow("k1", 1, t0.Add(time.Minute)) {
		t.Error("a kept key at its limit was allowed")
	}
}

// BenchmarkWindowAllow: one key over and over, and a fresh key per call
// once the table is full (each call then evicts one).
func BenchmarkWindowAllow(b *testing.B) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	b.Run("same_key", func(b *testing.B) {
		w := New(time.Hour)
		for i := 0; b.Loop(); i++ {
			w.Allow("192.0.2.7", 10, t0.Add(time.Duration(i)*time.Minute))
		}
	})
	b.Run("fresh_keys_full_table", func(b *testing.B) {
		w := New(time.Hour)
		names := make([]string, 2*MaxKeys)
		for i := range names {
			names[i] = fmt.Sprint("k", i)
		}
		for i := range MaxKeys {
			w.Allow(names[i], 5, t0)
		}
		for i := 0; b.Loop(); i++ {
			w.Allow(names[MaxKeys+i%MaxKeys], 5, t0.Add(time.Duration(i)))
		}
	})
}

func TestClient(t *testing.T) {
	for place, want := range map[string]string{
		"192.0.2.7 custos.example":            "192.0.2.7",
		"192.0.2.7 evil-host-1":               "192.0.2.7",
		"2001:db8:1:2:3:4:5:6 custos.example": "2001:db8:1:2::",
		"2001:db8:1:2:ffff::1 x":              "2001:db8:1:2::",
		"not-an-ip":                           "not-an-ip",
	} {
		if got := Client(place); got != want {
			t.Errorf("Client(%q) = %q, want %q", place, got, want)
		}
	}
}

func TestBucket(t *testing.T) {
	b := NewBucket(2, 2*time.Second)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	steps := []struct {
		key  string
		at   time.Duration
		want bool
	}{
		{"a", 0, true},
		{"a", 0, true},
		{"a", time.Second, false}, // half a token back
		{"b", time.Second, true},  // keys are apart
		{"a", 2 * time.Second, true},
		{"a", 3 * time.Second, false},
		{"a", time.Minute, true},
		{"a", time.Minute, true}, // refilled to the burst, no further
		{"a", time.Minute, false},
	}
	for i, s := range steps {
		if got := b.Allow(s.key, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d (%s at %v): Allow = %v, want %v", i, s.key, s.at, got, s.want)
		}
	}
}

// TestBucketKeepsLimitsThroughAFlood is TestWindowKeepsLimitsThroughAFlood
// for buckets.
func TestBucketKeepsLimitsThroughAFlood(t *testing.T) {
	b := NewBucket(20, 2*time.Second)
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for range 20 {
		b.Allow("victim", t0)
	}
	for i := range MaxKeys + 10_000 {
		b.Allow(fmt.Sprint("flood", i), t0.Add(time.Duration(i)*time.Microsecond))
	}
	if b.Allow("victim", t0.Add(time.Second)) {
		t.Error("a flood of fresh keys refilled a key held at its limit")
	}
	if n := len(b.keys.m); n > MaxKeys {
		t.Errorf("%d keys kept, more than the bound %d", n, MaxKeys)
	}
}

func BenchmarkBucketAllow(b *testing.B) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	bk := NewBucket(20, 2*time.Second)
	names := make([]string, 2*MaxKeys)
	for i := range names {
		names[i] = fmt.Sprint("k", i)
	}
	for i := range MaxKeys {
		bk.Allow(names[i], t0)
	}
	for i := 0; b.Loop(); i++ {
		bk.Allow(names[MaxKeys+i%MaxKeys], t0.Add(time.Duration(i)))
	}
}
