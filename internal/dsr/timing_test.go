package dsr_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/consent"
	"github.com/custos-privacy/custos/internal/dsr"
	"github.com/custos-privacy/custos/internal/signin"
)

// The timing test: how many addresses of each kind a round tries, how
// many rounds it takes the median of, the untimed tries of each kind a
// round begins with, and every how many tries it collects garbage.
const (
	timingTries   = 200
	timingRounds  = 5
	timingWarmup  = 10
	timingCollect = 40
)

// TestAnswerTimeTellsNothing: the time a public rights request or a
// privacy-center sign-in takes to answer does not tell whether the claimed
// email address is on file. Known and unknown addresses are tried in a
// random order, each from a client address of its own and each claimed
// once a round, so that no limit interferes. Over the median of several
// rounds, the median times of the two must be within 10% of each other,
// and no single threshold on the time may tell them apart more than 60% of
// the time (a coin does 50%).
//
// What is timed is a try's own work. A known address leaves work behind
// the answer (its code is sent), and a try that runs beside that work, or
// pays for the garbage it leaves, is slower whatever its own kind. So each
// try starts once the codes queued before it are sent, and garbage is
// collected between tries only (every timingCollect). The order is
// shuffled whole rather than in known-unknown pairs: the try after a known
// one is still a little slower (the database's caches are colder), and in
// pairs an unknown try would follow a known one three times in four. A
// shared machine's load varies from one round to the next: hence the
// median of several.
func TestAnswerTimeTellsNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("times thousands of requests")
	}
	if raceEnabled {
		t.Skip("the race detector slows every memory access, so its times say nothing of a real server's; run this test without -race")
	}
	e := newEnv(t, starterManifest, time.Now())
	for i := range timingWarmup + timingTries {
		e.subject(fmt.Sprintf("timing-%03d", i), knownAddr(i), "", nil)
	}
	si, err := signin.New(e.st, []byte("timing-test-center-key-0123456789"), signin.Options{Hasher: e.hasher, Codes: e.req, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	flows := []struct {
		name string
		try  func(place, email string) error
	}{
		{name: "rights request", try: func(place, email string) error {
			_, err := e.req.SubmitPublic(ctx, consent.Actor{ID: "anonymous", Role: "public", Place: place},
				dsr.Input{Type: "access", Language: "en", Identity: &consent.IdentityInput{Kind: "email", Value: email}})
			return err
		}},
		{name: "sign-in", try: func(place, email string) error {
			_, err := si.Start(ctx, place, "email", email, "en")
			return err
		}},
	}
	for f, flow := range flows {
		t.Run(flow.name, func(t *testing.T) {
			var ratios, accuracies []float64
			for round := range timingRounds {
				known, unknown := timeTries(t, e, fmt.Sprintf("%d.%d", f, round), flow.try)
				mk, mu := median(known), median(unknown)
				ratio, acc := float64(mk)/float64(mu), bestThreshold(known, unknown)
				ratios, accuracies = append(ratios, ratio), append(accuracies, acc)
				t.Logf("round %d: median known %v, unknown %v (%+.1f%%); the best threshold is right %.1f%% of the time",
					round+1, mk, mu, 100*(ratio-1), 100*acc)
				// Each identity is claimed once a round: the next round
				// starts in the next hour, with the limits afresh.
				e.clock.Advance(time.Hour + time.Second)
			}
			ratio, acc := median(ratios), median(accuracies)
			t.Logf("median of %d rounds of %d tries each: known %+.1f%% against unknown; the best threshold is right %.1f%% of the time",
				timingRounds, timingTries, 100*(ratio-1), 100*acc)
			if ratio < 1/1.1 || ratio > 1.1 {
				t.Errorf("the median times of known and unknown addresses are %+.1f%% apart, more than 10%%", 100*(ratio-1))
			}
			if acc > 0.6 {
				t.Errorf("a threshold on the time tells known from unknown addresses %.1f%% of the time, more than 60%%", 100*acc)
			}
		})
	}
}

func knownAddr(i int) string { return fmt.Sprintf("known.%03d@example.com", i) }

// timeTries times try for timingTries known addresses and as many unknown
// ones (named after round), each from its own client address.
func timeTries(t *testing.T, e *env, round string, try func(place, email string) error) (known, unknown []time.Duration) {
	t.Helper()
	type attempt struct {
		known bool
		i     int
	}
	var order []attempt
	for i := range timingWarmup {
		order = append(order, attempt{true, i}, attempt{false, i})
	}
	var timed []attempt
	for i := timingWarmup; i < timingWarmup+timingTries; i++ {
		timed = append(timed, attempt{true, i}, attempt{false, i})
	}
	rand.Shuffle(len(timed), func(a, b int) { timed[a], timed[b] = timed[b], timed[a] })
	order = append(order, timed...)
	// Garbage is collected between tries only, never during one.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	for k, a := range order {
		email := fmt.Sprintf("unknown.%s.%03d@example.net", round, a.i)
		if a.known {
			email = knownAddr(a.i)
		}
		place := fmt.Sprintf("10.0.%d.%d test", k/250, k%250)
		e.req.Drain()
		if k%timingCollect == 0 {
			runtime.GC()
		}
		start := time.Now()
		err := try(place, email)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("try %d: %v", k, err)
		}
		switch {
		case k < 2*timingWarmup:
		case a.known:
			known = append(known, took)
		default:
			unknown = append(unknown, took)
		}
	}
	return known, unknown
}

// median is the middle of xs, or the mean of the two middle values.
func median[T time.Duration | float64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// bestThreshold is the accuracy of the best classifier of the form "known
// if slower (or faster) than x", over the pooled samples.
func bestThreshold(known, unknown []time.Duration) float64 {
	type sample struct {
		d     time.Duration
		known bool
	}
	var all []sample
	for _, d := range known {
		all = append(all, sample{d, true})
	}
	for _, d := range unknown {
		all = append(all, sample{d, false})
	}
	slices.SortFunc(all, func(a, b sample) int { return cmp.Compare(a.d, b.d) })
	// With the threshold between all[i-1] and all[i], "slower is known"
	// is right for the unknown below and the known above; "faster is
	// known" for the others.
	total := float64(len(all))
	knownAbove, unknownBelow := len(known), 0
	best := 0.0
	for i := 0; i <= len(all); i++ {
		if i == 0 || i == len(all) || all[i].d != all[i-1].d {
			right := float64(knownAbove + unknownBelow)
			best = max(best, right/total, (total-right)/total)
		}
		if i < len(all) {
			if all[i].known {
				knownAbove--
			} else {
				unknownBelow++
			}
		}
	}
	return best
}

// TestBestThreshold: the classifier the timing test bounds.
func TestBestThreshold(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name           string
		known, unknown []time.Duration
		want           float64
	}{
		{name: "known slower, apart", known: ms(5, 6, 7), unknown: ms(1, 2, 3), want: 1},
		{name: "known faster, apart", known: ms(1, 2, 3), unknown: ms(5, 6, 7), want: 1},
		{name: "interleaved", known: ms(2, 4, 6, 8), unknown: ms(1, 3, 5, 7), want: 0.625},
		{name: "the same times", known: ms(1, 2, 3, 4), unknown: ms(1, 2, 3, 4), want: 0.5},
		{name: "one overlap", known: ms(3, 5, 6, 7), unknown: ms(1, 2, 4, 8), want: 0.75},
		{name: "all equal", known: ms(2, 2), unknown: ms(2, 2), want: 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := bestThreshold(tt.known, tt.unknown); got != tt.want {
				t.Errorf("bestThreshold = %v, want %v", got, tt.want)
			}
		})
	}
}
