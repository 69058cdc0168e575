package dsrbench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
)

// Config sizes a run.
type Config struct {
	Customers int64
	// Requests is the size of every batch, sequential or concurrent.
	Requests int
	// Concurrency is how many requests a concurrent batch keeps in flight
	// (at least 2), each on its own connection of the pool; 0 means
	// DefaultConcurrency.
	Concurrency int
	Seed        uint64
}

// DefaultConcurrency is the requests in flight of a concurrent batch. A
// request waits on the server for most of its time (round trips, and the
// WAL flush at an erasure's commit), so more requests in flight than cores
// keep two cores shared by the benchmark and PostgreSQL busy; on such a
// machine, at 20,000 customers with 2, 4, 8 and 16 in flight, throughput
// grew up to 8 and not beyond, while latency grew at every step. Eight
// connections are also well within PostgreSQL's default of 100.
const DefaultConcurrency = 8

// parityChecks is how many access subjects are read by both engines and
// compared before anything is timed.
const parityChecks = 10

// Operations and engines, as the report names them.
const (
	OpAccess  = "access"
	OpErase   = "erase"
	OpCorrect = "correct"

	EngineCustos = "custos"
	EngineNaive  = "naive"
)

// Phase is one measured batch: one engine, one operation, Concurrency
// requests in flight (1: one at a time).
type Phase struct {
	Op, Engine  string
	Concurrency int
	Lat         []time.Duration // sorted
	Elapsed     time.Duration
	// AllocPerReq is the bytes allocated per request; PeakHeap and PeakSys
	// the high-water marks of heap in use and memory from the OS, sampled
	// during the batch, for the whole process.
	AllocPerReq       uint64
	PeakHeap, PeakSys uint64
	// Rows is rows found (access) or changed (erasure) per request;
	// Queries statements sent per request, counted by the pool's driver.
	Rows, Queries float64
}

func (p Phase) quantile(q float64) time.Duration {
	if len(p.Lat) == 0 {
		return 0
	}
	return p.Lat[min(len(p.Lat)-1, int(float64(len(p.Lat))*q))]
}

// P50 is the median latency.
func (p Phase) P50() time.Duration { return p.quantile(0.50) }

// P99 is the 99th percentile latency.
func (p Phase) P99() time.Duration { return p.quantile(0.99) }

// PerSec is requests per second over the batch.
func (p Phase) PerSec() float64 { return float64(len(p.Lat)) / max(p.Elapsed.Seconds(), 1e-9) }

// Report is the figures of a run.
type Report struct {
	Config
	Rows int64
	// Phases in the order they ran: per operation, sequential then
	// concurrent, custos then naive.
	Phases []Phase
	// HeapBefore and HeapAfter are the heap in use after a collection,
	// before the first batch and after the last.
	HeapBefore, HeapAfter uint64
	// RSSSetup is the process's peak RSS through data generation and
	// warm-up; RSSBatches its peak during the batches when RSSReset (the
	// high-water mark could be reset between them), else since the start.
	RSSSetup, RSSBatches uint64
	RSSReset             bool
}

// Phase returns the batch of op by engine, concurrent or one at a time.
func (r Report) Phase(op, engine string, concurrent bool) Phase {
	for _, p := range r.Phases {
		if p.Op == op && p.Engine == engine && (p.Concurrency > 1) == concurrent {
			return p
		}
	}
	return Phase{Op: op, Engine: engine}
}

// eraseBatches is one set of erasure subjects per engine and mode.
const eraseBatches = 4

// Subjects picks the customers of a run: access subjects, who are also
// corrected, and eraseBatches disjoint sets of erasure subjects (one per
// engine and mode, since an erased customer can no longer be found by
// email), none of them an access subject.
func Subjects(cfg Config) (access []int64, erase [][]int64) {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	pick := func(n int, taken map[int64]bool) []int64 {
		out := make([]int64, 0, n)
		for len(out) < n {
			id := r.Int64N(cfg.Customers) + 1
			if taken[id] {
				continue
			}
			taken[id] = true
			out = append(out, id)
		}
		return out
	}
	taken := map[int64]bool{}
	access = pick(cfg.Requests, taken)
	erased := taken
	for range eraseBatches {
		erase = append(erase, pick(cfg.Requests, erased))
	}
	return access, erase
}

// Seeds is the request for customer id: their email.
func Seeds(id int64) execute.Seeds { return execute.Seeds{"email": {Email(id)}} }

// Run generates the shop on a fresh schema of the PostgreSQL server at
// postgresURL, measures both engines and prints the report to out, progress
// to log. The schema is dropped before Run returns, also on error or when
// ctx is cancelled.
func Run(ctx context.Context, postgresURL string, cfg Config, out, log io.Writer) (rep Report, err error) {
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Requests < 1 || cfg.Concurrency < 2 || cfg.Customers < (eraseBatches+1)*int64(cfg.Requests) {
		return rep, fmt.Errorf("dsrbench: need at least 1 request, 2 in flight in the concurrent batches, and %d times as many customers as requests", eraseBatches+1)
	}
	rep.Config = cfg
	access, erase := Subjects(cfg)
	ds, err := Annotation()
	if err != nil {
		return rep, err
	}
	shop, err := NewShop(ctx, postgresURL)
	if err != nil {
		return rep, err
	}
	defer func() {
		if cerr := shop.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	// One connection per request in flight, kept open between requests:
	// with database/sql's default of two idle connections, a concurrent
	// batch would mostly time connecting.
	shop.DB.SetMaxOpenConns(max(4, cfg.Concurrency))
	shop.DB.SetMaxIdleConns(max(4, cfg.Concurrency))
	fmt.Fprintf(log, "schema %s: generating %d customers …\n", shop.Schema, cfg.Customers)
	if err := shop.Generate(ctx, cfg.Customers, log); err != nil {
		return rep, err
	}
	rep.Rows = cfg.Customers*rowsPerCustomer + products

	// The engines must agree before their speed means anything.
	for _, id := range access[:min(parityChecks, len(access))] {
		if err := Parity(ctx, shop, ds, id); err != nil {
			return rep, err
		}
	}
	// One untimed pass over every subject brings their pages into the
	// server's cache, so neither engine pays for reading them first.
	all := slices.Concat(append([][]int64{access}, erase...)...)
	fmt.Fprintf(log, "warming the cache on %d subjects …\n", len(all))
	if err := forEach(ctx, all, cfg.Concurrency, func(ctx context.Context, i int) error {
		_, err := execute.Access(ctx, shop.DB, connector.Postgres, ds, Seeds(all[i]), execute.Options{})
		return err
	}); err != nil {
		return rep, err
	}
	rep.RSSSetup = peakRSS()
	rep.RSSReset = resetPeakRSS() == nil

	engines := []struct {
		name    string
		access  func(ctx context.Context, id int64) (float64, error)
		erase   func(ctx context.Context, id int64) (float64, error)
		correct func(ctx context.Context, id int64, values map[string]string) (float64, error)
	}{
		{
			EngineCustos,
			func(ctx context.Context, id int64) (float64, error) {
				res, err := execute.Access(ctx, shop.DB, connector.Postgres, ds, Seeds(id), execute.Options{})
				return float64(countRows(res)), err
			},
			func(ctx context.Context, id int64) (float64, error) {
				plan, err := execute.Erase(ctx, shop.DB, connector.Postgres, ds, Seeds(id), execute.EraseOptions{Categories: EraseCategories})
				return float64(len(plan.Changes)), err
			},
			func(ctx context.Context, id int64, values map[string]string) (float64, error) {
				c, err := execute.Correct(ctx, shop.DB, connector.Postgres, ds, Seeds(id), execute.CorrectOptions{Values: values})
				return float64(c.Rows()), err
			},
		},
		{
			EngineNaive,
			func(ctx context.Context, id int64) (float64, error) {
				res, _, err := NaiveAccess(ctx, shop.DB, ds, Seeds(id))
				return float64(countRows(res)), err
			},
			func(ctx context.Context, id int64) (float64, error) {
				n, err := NaiveErase(ctx, shop.DB, ds, Seeds(id), EraseCategories)
				return float64(n), err
			},
			func(ctx context.Context, id int64, values map[string]string) (float64, error) {
				n, err := NaiveCorrect(ctx, shop.DB, ds, Seeds(id), values)
				return float64(n), err
			},
		},
	}
	rep.HeapBefore = heapInUse()
	for _, op := range []string{OpAccess, OpErase, OpCorrect} {
		for _, inFlight := range []int{1, cfg.Concurrency} {
			for _, e := range engines {
				subjects, do := access, e.access
				switch op {
				case OpErase:
					subjects, erase, do = erase[0], erase[1:], e.erase
				case OpCorrect:
					// The access subjects, still there to be found; each
					// batch writes its own values, so each changes rows.
					values := Corrections(fmt.Sprintf("%s %d", e.name, inFlight))
					do = func(ctx context.Context, id int64) (float64, error) { return e.correct(ctx, id, values) }
				}
				fmt.Fprintf(log, "measuring %s by %s, %d in flight …\n", op, e.name, inFlight)
				p, err := measure(ctx, subjects, inFlight, &shop.Statements, do)
				if err != nil {
					return rep, err
				}
				p.Op, p.Engine = op, e.name
				rep.Phases = append(rep.Phases, p)
			}
		}
	}
	for _, op := range []string{OpErase, OpCorrect} {
		for _, concurrent := range []bool{false, true} {
			c, n := rep.Phase(op, EngineCustos, concurrent), rep.Phase(op, EngineNaive, concurrent)
			if c.Rows != n.Rows {
				return rep, fmt.Errorf("dsrbench: %s changed %.1f rows per subject (custos) and %.1f (naive)", op, c.Rows, n.Rows)
			}
		}
	}
	rep.HeapAfter = heapInUse()
	rep.RSSBatches = peakRSS()
	Print(out, rep)
	return rep, nil
}

// Parity reads customer id with both engines and fails unless they return
// the same rows.
func Parity(ctx context.Context, shop *Shop, ds *dataset.Datastore, id int64) error {
	got, err := execute.Access(ctx, shop.DB, connector.Postgres, ds, Seeds(id), execute.Options{})
	if err != nil {
		return err
	}
	want, _, err := NaiveAccess(ctx, shop.DB, ds, Seeds(id))
	if err != nil {
		return err
	}
	if len(got["customer"]) != 1 || !reflect.DeepEqual(got, want) {
		return fmt.Errorf("dsrbench: access results of customer %d differ between the engines (%d and %d rows)", id, countRows(got), countRows(want))
	}
	return nil
}

func countRows(res execute.Result) int {
	n := 0
	for _, rows := range res {
		n += len(rows)
	}
	return n
}

// forEach calls do for the indexes of subjects from inFlight goroutines,
// each taking the next index when done with one. The first error cancels
// the calls not yet started and is returned.
func forEach(ctx context.Context, subjects []int64, inFlight int, do func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(inFlight, len(subjects)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= len(subjects) {
					return
				}
				if err := do(ctx, i); err != nil {
					cancel(fmt.Errorf("dsrbench: customer %d: %w", subjects[i], err))
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// measure runs do for every subject, inFlight at a time, and times each
// call and the batch; statements counts what the pool sends.
func measure(ctx context.Context, subjects []int64, inFlight int, statements *Counter, do func(ctx context.Context, id int64) (rows float64, err error)) (Phase, error) {
	p := Phase{Concurrency: inFlight, Lat: make([]time.Duration, len(subjects))}
	rows := make([]float64, len(subjects))
	runtime.GC()
	stop, peak := sampleMemory()
	defer stop()
	allocs0, queries0 := readMetric(metricAllocs), statements.Statements()
	start := time.Now()
	err := forEach(ctx, subjects, inFlight, func(ctx context.Context, i int) error {
		t0 := time.Now()
		r, err := do(ctx, subjects[i])
		p.Lat[i], rows[i] = time.Since(t0), r
		return err
	})
	p.Elapsed = time.Since(start)
	if err != nil {
		return p, err
	}
	n := float64(len(subjects))
	p.AllocPerReq = (readMetric(metricAllocs) - allocs0) / uint64(len(subjects))
	p.Queries = float64(statements.Statements()-queries0) / n
	stop()
	p.PeakHeap, p.PeakSys = peak()
	slices.Sort(p.Lat)
	for _, r := range rows {
		p.Rows += r
	}
	p.Rows /= n
	return p, nil
}
