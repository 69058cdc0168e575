package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/audit"
	"github.com/custos-privacy/custos/internal/testdb"
)

// The verification benchmarks read a trail and a ledger of benchEntries
// links each (CUSTOS_BENCH_VERIFY_N overrides it) and report links/s: the
// product's scale target is a million a second on one core, streamed.

const benchSubjects, benchPurposes = 500, 20

var benchKey = []byte("0123456789abcdef0123456789abcdef")

func benchEntries() int {
	if n, err := strconv.Atoi(os.Getenv("CUSTOS_BENCH_VERIFY_N")); err == nil && n > 0 {
		return n
	}
	return 200_000
}

// benchBackends runs fn on SQLite and, when it is reachable, PostgreSQL.
func benchBackends(b *testing.B, fn func(b *testing.B, open func(b *testing.B) *Store)) {
	b.Run("sqlite", func(b *testing.B) {
		fn(b, func(b *testing.B) *Store {
			return openBench(b, filepath.Join(b.TempDir(), "custos.db"))
		})
	})
	b.Run("postgres", func(b *testing.B) {
		fn(b, func(b *testing.B) *Store { return openBench(b, testdb.Postgres(b)) })
	})
}

func openBench(b *testing.B, dsn string) *Store {
	b.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dsn, Options{AuditKey: benchKey})
	if err != nil {
		b.Fatalf("open: %v", err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatalf("migrate: %v", err)
	}
	return s
}

// seedTrail appends n audit entries in big batches.
func seedTrail(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := context.Background()
	at := time.Now()
	const batch = 5000
	for i := 0; i < n; i += batch {
		es := make([]audit.Entry, min(batch, n-i))
		for j := range es {
			es[j] = audit.NewEntry(at, audit.Actor{ID: "key_bench", Role: "admin", Place: "10.0.0.1 host-1"}, "subject.read",
				fmt.Sprintf("subject:u-%d", (i+j)%benchSubjects), "analytics", "", `{"fields":3}`)
		}
		if err := s.Submit(ctx, &Write{Audit: es}); err != nil {
			b.Fatal(err)
		}
	}
}

// seedLedger creates the subjects and appends n consent events over
// benchSubjects×benchPurposes ledger keys in big batches.
func seedLedger(b *testing.B, s *Store, n int) {
	b.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, benchSubjects)
	for i := range benchSubjects {
		wg.Go(func() { errs <- s.CreateSubject(ctx, Subject{ID: fmt.Sprintf("u-%d", i)}) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	const batch = 5000
	for i := 0; i < n; i += batch {
		evs := make([]ConsentEvent, min(batch, n-i))
		for j := range evs {
			k := i + j
			action := ActionGrant
			if k%3 == 0 {
				action = ActionWithdraw
			}
			evs[j] = consent(fmt.Sprintf("e-%d", k), fmt.Sprintf("u-%d", k%benchSubjects), fmt.Sprintf("p-%d", (k/benchSubjects)%benchPurposes), action, 1)
		}
		if err := s.Submit(ctx, &Write{Events: evs}); err != nil {
			b.Fatal(err)
		}
	}
}

// rate measures links per second of wall time and per second of this
// process's CPU time: on a shared machine the second tells what one core
// does (on SQLite all of the work; on PostgreSQL the server's share is not
// counted).
type rate struct{ cpu time.Duration }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startRate(b *testing.B) *rate {
	b.ResetTimer()
	return &rate{cpu: cpuTime()}
}

func (r *rate) report(b *testing.B, links int64, unit string) {
	b.ReportMetric(float64(links)*float64(b.N)/b.Elapsed().Seconds(), unit)
	b.ReportMetric(float64(links)*float64(b.N)/(cpuTime()-r.cpu).Seconds(), unit[:len(unit)-2]+"/cpu-s")
}

// BenchmarkVerifyTrail verifies a whole trail: the reads and the hashes.
func BenchmarkVerifyTrail(b *testing.B) {
	benchBackends(b, func(b *testing.B, open func(b *testing.B) *Store) {
		s := open(b)
		n := benchEntries()
		seedTrail(b, s, n)
		ctx := context.Background()
		r := startRate(b)
		for b.Loop() {
			tx, err := s.verifySnapshot(ctx)
			if err != nil {
				b.Fatal(err)
			}
			rep, _, err := s.verifyTrail(ctx, tx, nil, nil, nil)
			tx.Rollback()
			if err != nil || !rep.OK || rep.Entries != int64(n) {
				b.Fatalf("verify = %d entries, ok %v, %v: %v", rep.Entries, rep.OK, rep.Problems, err)
			}
		}
		r.report(b, int64(n), "entries/s")
	})
}

// BenchmarkVerifyLedger verifies a whole consent ledger, and apart from
// it the current state against the ledger (a join), in rows/s.
func BenchmarkVerifyLedger(b *testing.B) {
	benchBackends(b, func(b *testing.B, open func(b *testing.B) *Store) {
		s := open(b)
		n := benchEntries()
		seedLedger(b, s, n)
		ctx := context.Background()
		epochs := []audit.Epoch{{After: -1 << 63, Key: benchKey}}
		b.Run("chain", func(b *testing.B) {
			r := startRate(b)
			for b.Loop() {
				tx, err := s.verifySnapshot(ctx)
				if err != nil {
					b.Fatal(err)
				}
				rep, problems, err := s.verifyLedger(ctx, tx, epochs, nil, nil, nil)
				tx.Rollback()
				if err != nil || len(problems) > 0 || rep.Events != int64(n) {
					b.Fatalf("verify = %d events, %v: %v", rep.Events, problems, err)
				}
			}
			r.report(b, int64(n), "events/s")
		})
		b.Run("state", func(b *testing.B) {
			var states int64
			r := startRate(b)
			for b.Loop() {
				tx, err := s.verifySnapshot(ctx)
				if err != nil {
					b.Fatal(err)
				}
				var problems []audit.Problem
				states, problems, err = s.verifyState(ctx, tx.Tx, -1)
				tx.Rollback()
				if err != nil || len(problems) > 0 || states != benchSubjects*benchPurposes {
					b.Fatalf("verify state = %d rows, %v: %v", states, problems, err)
				}
			}
			r.report(b, states, "rows/s")
		})
	})
}
