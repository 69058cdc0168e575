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
	// A key at its limit, recent.
	w.Allow("victim", 1, t0.Add(2*time.Minute))
	// Many old keys, out of the window by the time the map fills.
	for i := range MaxKeys - 1 {
		w.Allow(fmt.Sprint("old", i), 1, t0)
	}
	if w.Allow("victim", 1, t0.Add(2*time.Minute+time.Second)) {
		t.Error("filling the map with stale keys reset a live limit")
	}
	if len(w.m) > 2 {
		t.Errorf("%d keys kept; the stale ones should have gone", len(w.m))
	}
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
