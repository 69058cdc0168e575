package retentionbench

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// Latency is the OLTP load's figures over one window.
type Latency struct {
	P50, P99 time.Duration
	Ops      int
	Errors   int
}

// oltp is an open-loop load at a fixed rate on the engine's OLTP pool:
// half point reads, half updates, each of a live row (an odd key) drawn at
// random. An operation's latency runs from when it was due, not from when
// it was sent, so a stalled database and a late generator both count.
type oltp struct {
	mu     sync.Mutex
	lat    []time.Duration
	errors int
	stop   context.CancelFunc
	done   sync.WaitGroup
}

// startOLTP begins the load; Stop ends it and returns its figures.
func startOLTP(ctx context.Context, e *Engine, rows int64, rate int, seed uint64) *oltp {
	// Stop ends the issuing of operations (issue) and waits for those in
	// flight, which run on ctx and are all counted: cutting the slow ones
	// off at the end of the window would hide exactly the latency measured.
	issue, cancel := context.WithCancel(ctx)
	o := &oltp{stop: cancel}
	read := "SELECT account, status, payload, created_at FROM " + sweptTable + " WHERE id = " + e.ph(1)
	update := "UPDATE " + sweptTable + " SET status = " + e.ph(1) + ", account = account + 1 WHERE id = " + e.ph(2)
	live := max(rows/2, 1)
	r := rand.New(rand.NewPCG(seed, 0x0119))
	interval := time.Second / time.Duration(max(rate, 1))
	o.done.Add(1)
	go func() {
		defer o.done.Done()
		start := time.Now()
		for i := 0; ; i++ {
			due := start.Add(time.Duration(i) * interval)
			if d := time.Until(due); d > 0 {
				select {
				case <-issue.Done():
					return
				case <-time.After(d):
				}
			} else if issue.Err() != nil {
				return
			}
			id := 2*r.Int64N(live) + 1
			isRead := i%2 == 0
			o.done.Add(1)
			go func() {
				defer o.done.Done()
				var err error
				if isRead {
					var account int64
					var status, payload string
					var at any
					err = e.OLTP.QueryRowContext(ctx, read, id).Scan(&account, &status, &payload, &at)
				} else {
					_, err = e.OLTP.ExecContext(ctx, update, "touched", id)
				}
				took := time.Since(due)
				if ctx.Err() != nil {
					return // the whole run was cancelled
				}
				o.mu.Lock()
				if err != nil {
					o.errors++
				} else {
					o.lat = append(o.lat, took)
				}
				o.mu.Unlock()
			}()
		}
	}()
	return o
}

// Stop ends the load and waits for operations in flight.
func (o *oltp) Stop() Latency {
	o.stop()
	o.done.Wait()
	o.mu.Lock()
	defer o.mu.Unlock()
	slices.Sort(o.lat)
	q := func(p float64) time.Duration {
		if len(o.lat) == 0 {
			return 0
		}
		return o.lat[min(len(o.lat)-1, int(float64(len(o.lat))*p))]
	}
	return Latency{P50: q(0.50), P99: q(0.99), Ops: len(o.lat), Errors: o.errors}
}
