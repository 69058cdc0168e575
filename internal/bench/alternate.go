package bench

import (
	"os"
	"slices"
	"time"
)

// Side is one server under test in an alternating comparison: how it is
// reached, what it is asked and, for its CPU time, its process.
type Side struct {
	Target HTTPTarget
	Data   CheckData
	Proc   *os.Process
}

// Burst is one side's closed-loop run within a round.
type Burst struct {
	Count   int64
	Errors  int64
	Seconds float64
	CPU     time.Duration // the server's, from the burst's start to the next burst's
}

// Alternate runs closed-loop bursts of length burst on each side in turn,
// rounds times, and returns each side's bursts in round order. Every other
// round the order is reversed (A B, B A, …), so that a drift in the
// machine's speed, which on a shared machine can be larger than the effect
// measured, falls on both sides alike. Between bursts it pauses for settle
// so that what a side queued (decision records) is written on its own
// time, which is counted in its CPU.
func Alternate(sides []Side, conns int, burst, settle time.Duration, rounds int) [][]Burst {
	out := make([][]Burst, len(sides))
	order := make([]int, len(sides))
	for r := range rounds {
		for i := range order {
			order[i] = i
		}
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, i := range order {
			s := sides[i]
			cpu := CPUTime(s.Proc)
			l := Closed(s.Target, s.Data, conns, burst)
			time.Sleep(settle)
			out[i] = append(out[i], Burst{Count: l.Count, Errors: l.Errors, Seconds: l.Seconds, CPU: CPUTime(s.Proc) - cpu})
		}
	}
	return out
}

// Comparison is side b measured against side a over alternating rounds.
type Comparison struct {
	// PerSec and CPU (per request) are each side's over all its bursts.
	PerSec [2]float64
	CPU    [2]time.Duration
	Errors [2]int64
	// Ratios are each round's throughput of b over a's, in round order.
	Ratios []float64
	// Throughput is b's over a's across all rounds; Median, Low and High
	// are of the rounds' ratios; CPURatio is a's CPU per request over b's
	// (below 1 when b costs more).
	Throughput, Median, Low, High, CPURatio float64
}

// Compare summarises two sides' bursts from Alternate.
func Compare(a, b []Burst) Comparison {
	var c Comparison
	for k, bs := range [2][]Burst{a, b} {
		var n int64
		var secs float64
		var cpu time.Duration
		for _, x := range bs {
			n += x.Count
			secs += x.Seconds
			cpu += x.CPU
			c.Errors[k] += x.Errors
		}
		if secs > 0 {
			c.PerSec[k] = float64(n) / secs
		}
		if n > 0 {
			c.CPU[k] = cpu / time.Duration(n)
		}
	}
	for i := range min(len(a), len(b)) {
		if a[i].Count == 0 || a[i].Seconds == 0 || b[i].Seconds == 0 {
			continue
		}
		c.Ratios = append(c.Ratios, (float64(b[i].Count)/b[i].Seconds)/(float64(a[i].Count)/a[i].Seconds))
	}
	if c.PerSec[0] > 0 {
		c.Throughput = c.PerSec[1] / c.PerSec[0]
	}
	if c.CPU[1] > 0 {
		c.CPURatio = float64(c.CPU[0]) / float64(c.CPU[1])
	}
	if len(c.Ratios) > 0 {
		s := slices.Sorted(slices.Values(c.Ratios))
		c.Low, c.High = s[0], s[len(s)-1]
		if n := len(s); n%2 == 1 {
			c.Median = s[n/2]
		} else {
			c.Median = (s[n/2-1] + s[n/2]) / 2
		}
	}
	return c
}
