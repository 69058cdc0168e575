package store

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/testdb"
)

// openStates and closedStates mirror the workflow's (package dsr, which
// imports this one).
var (
	openStates   = []string{"received", "awaiting_verification", "verified", "in_progress", "awaiting_subject", "awaiting_fee", "extended"}
	closedStates = []string{"completed", "refused", "cancelled", "withdrawn", "forwarded"}
	requestKinds = []string{"access", "copy", "correction", "deletion", "portability"}
)

// scaleToday is the day the seeded open requests fall due around.
var scaleToday = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

// seedRequests writes n requests as an organisation at scale holds them:
// one in openEvery open (a few thousand in a million), due within a month
// either side of scaleToday; the rest closed, due over the three years
// before. Kinds and subjects vary; received times repeat now and then, so
// that the order's tie-breaks are exercised. It writes rows directly, in
// multi-row statements: this is test data, not a workflow.
func seedRequests(tb testing.TB, s *Store, n, openEvery int, seed uint64) []Request {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	out := make([]Request, 0, n)
	for i := range n {
		var state string
		var due time.Time
		if i%openEvery == 0 {
			state = openStates[rng.IntN(len(openStates))]
			due = scaleToday.AddDate(0, 0, rng.IntN(61)-30)
		} else {
			state = closedStates[rng.IntN(len(closedStates))]
			due = scaleToday.AddDate(0, 0, -rng.IntN(3*365)-31)
		}
		received := due.AddDate(0, 0, -21).Add(time.Duration(rng.IntN(4)) * time.Hour)
		r := request(fmt.Sprintf("rq_%s_%07d", s.org, i), "u-"+strconv.Itoa(rng.IntN(n/4+1)), state)
		r.Kind = requestKinds[rng.IntN(len(requestKinds))]
		r.DueDate, r.ReceivedAt, r.ReceivedDate = due.Format(time.DateOnly), received, received.Format(time.DateOnly)
		out = append(out, r)
	}
	const chunk = 256
	for lo := 0; lo < n; lo += 64 * chunk {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			for c := lo; c < min(n, lo+64*chunk); c += chunk {
				rows := out[c:min(n, c+chunk, lo+64*chunk)]
				args := make([]any, 0, len(rows)*26)
				for i := range rows {
					args = append(append(args, s.org), requestArgs(&rows[i])...)
				}
				if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO requests (org_id, `+requestCols+`) VALUES `+values(len(rows), 26)), args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("seed requests: %v", err)
		}
	}
	if _, err := s.w.ExecContext(ctx, `ANALYZE requests`); err != nil {
		tb.Fatalf("analyze: %v", err)
	}
	return out
}

// benchRequests is how many requests the benchmarks hold:
// CUSTOS_BENCH_REQUESTS, 20,000 when unset.
func benchRequests(b *testing.B) int {
	if v := os.Getenv("CUSTOS_BENCH_REQUESTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("CUSTOS_BENCH_REQUESTS=%q: want a number of at least 1000", v)
		}
		return n
	}
	return 20_000
}

// requestBackends runs fn on a store of benchRequests requests (one in 300
// open) on each backend, seeded once per backend.
func requestBackends(b *testing.B, fn func(b *testing.B, s *Store)) {
	n := benchRequests(b)
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			var dsn string
			if backend == "sqlite" {
				dsn = filepath.Join(b.TempDir(), "custos.db")
			} else {
				dsn = testdb.Postgres(b)
			}
			s := openFresh(b, dsn)
			seedRequests(b, s, n, 300, 1)
			b.ResetTimer()
			fn(b, s)
		})
	}
}

// BenchmarkRequestsQueue times the console queue, 500 to a page: the
// open requests, soonest due first, and the closed ones (its other view).
func BenchmarkRequestsQueue(b *testing.B) {
	requestBackends(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		for _, c := range []struct {
			name   string
			states []string
		}{{"open", openStates}, {"closed", closedStates}} {
			b.Run(c.name, func(b *testing.B) {
				for b.Loop() {
					rs, err := s.Requests(ctx, RequestFilter{States: c.states, Limit: 500})
					if err != nil || len(rs) == 0 {
						b.Fatalf("Requests = %d, %v", len(rs), err)
					}
				}
			})
		}
	})
}

// BenchmarkRequestsDueBy times GET /v1/requests?due_by=: the open requests
// due by a date, and one closed state's (a page from hundreds of
// thousands of rows), 500 to a page.
func BenchmarkRequestsDueBy(b *testing.B) {
	requestBackends(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		dueBy := scaleToday.AddDate(0, 0, 3).Format(time.DateOnly)
		for _, c := range []struct {
			name   string
			states []string
		}{{"open", openStates}, {"completed", []string{"completed"}}} {
			b.Run(c.name, func(b *testing.B) {
				for b.Loop() {
					rs, err := s.Requests(ctx, RequestFilter{States: c.states, DueBy: dueBy, Limit: 500})
					if err != nil || len(rs) == 0 {
						b.Fatalf("Requests = %d, %v", len(rs), err)
					}
				}
			})
		}
	})
}

// BenchmarkRequestCounts times what custos_requests_due and the dashboard
// read on every scrape.
func BenchmarkRequestCounts(b *testing.B) {
	requestBackends(b, func(b *testing.B, s *Store) {
		ctx := context.Background()
		for b.Loop() {
			c, err := s.RequestCounts(ctx, openStates)
			if err != nil || len(c.OpenDue) == 0 {
				b.Fatalf("RequestCounts = %+v, %v", c, err)
			}
		}
	})
}
