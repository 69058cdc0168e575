package dsrbench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"time"

	"github.com/custos-privacy/custos/internal/connector"
	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
)

// Config sizes a run.
type Config struct {
	Customers int64
	Requests  int
	Seed      uint64
}

// parityChecks is how many access subjects are read by both engines and
// compared before anything is timed.
const parityChecks = 10

// Phase is one measured batch: one engine, one operation, one request at a time.
type Phase struct {
	Lat     []time.Duration // sorted
	Elapsed time.Duration
	// AllocPerReq is the bytes allocated per request; PeakHeap and PeakSys
	// the high-water marks of heap in use and memory from the OS, sampled
	// during the batch.
	AllocPerReq       uint64
	PeakHeap, PeakSys uint64
	// Rows is rows found (access) or changed (erasure) per request;
	// Queries statements per request where known (the naive traversal).
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
	Rows                      int64
	AccessCustos, AccessNaive Phase
	EraseCustos, EraseNaive   Phase
	HeapBefore, HeapAfter     uint64
}

// Subjects picks the customers of a run: access subjects, and two disjoint
// sets of erasure subjects (one per engine, since an erased customer can no
// longer be found by email).
func Subjects(cfg Config) (access, eraseCustos, eraseNaive []int64) {
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
	access = pick(cfg.Requests, map[int64]bool{})
	erased := map[int64]bool{}
	return access, pick(cfg.Requests, erased), pick(cfg.Requests, erased)
}

// Seeds is the request for customer id: their email.
func Seeds(id int64) execute.Seeds { return execute.Seeds{"email": {Email(id)}} }

// Run generates the shop on a fresh schema of the PostgreSQL server at
// postgresURL, measures both engines and prints the report to out, progress
// to log. The schema is dropped before Run returns, also on error or when
// ctx is cancelled.
func Run(ctx context.Context, postgresURL string, cfg Config, out, log io.Writer) (rep Report, err error) {
	if cfg.Requests < 1 || cfg.Customers < 2*int64(cfg.Requests) {
		return rep, fmt.Errorf("dsrbench: need at least 1 request and twice as many customers as requests")
	}
	rep.Config = cfg
	access, eraseC, eraseN := Subjects(cfg)
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
	fmt.Fprintf(log, "warming the cache on %d subjects …\n", 3*cfg.Requests)
	for _, id := range slices.Concat(access, eraseC, eraseN) {
		if _, err := execute.Access(ctx, shop.DB, connector.Postgres, ds, Seeds(id), execute.Options{}); err != nil {
			return rep, err
		}
	}

	rep.HeapBefore = heapInUse()
	fmt.Fprintf(log, "measuring access …\n")
	rep.AccessCustos, err = measure(ctx, access, func(id int64) (float64, int, error) {
		res, err := execute.Access(ctx, shop.DB, connector.Postgres, ds, Seeds(id), execute.Options{})
		return float64(countRows(res)), 0, err
	})
	if err != nil {
		return rep, err
	}
	rep.AccessNaive, err = measure(ctx, access, func(id int64) (float64, int, error) {
		res, q, err := NaiveAccess(ctx, shop.DB, ds, Seeds(id))
		return float64(countRows(res)), q, err
	})
	if err != nil {
		return rep, err
	}
	fmt.Fprintf(log, "measuring erasure …\n")
	rep.EraseCustos, err = measure(ctx, eraseC, func(id int64) (float64, int, error) {
		plan, err := execute.Erase(ctx, shop.DB, connector.Postgres, ds, Seeds(id), execute.EraseOptions{Categories: EraseCategories})
		return float64(len(plan.Changes)), 0, err
	})
	if err != nil {
		return rep, err
	}
	rep.EraseNaive, err = measure(ctx, eraseN, func(id int64) (float64, int, error) {
		n, err := NaiveErase(ctx, shop.DB, ds, Seeds(id), EraseCategories)
		return float64(n), 0, err
	})
	if err != nil {
		return rep, err
	}
	if rep.EraseCustos.Rows != rep.EraseNaive.Rows {
		return rep, fmt.Errorf("dsrbench: erasures changed %.1f rows per subject (custos) and %.1f (naive)", rep.EraseCustos.Rows, rep.EraseNaive.Rows)
	}
	rep.HeapAfter = heapInUse()
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

// measure runs do for every subject in turn and times each call.
func measure(ctx context.Context, subjects []int64, do func(id int64) (rows float64, queries int, err error)) (Phase, error) {
	var p Phase
	runtime.GC()
	stop, peak := sampleMemory()
	allocs0 := readMetric(metricAllocs)
	start := time.Now()
	var rows float64
	queries := 0
	for _, id := range subjects {
		if err := ctx.Err(); err != nil {
			stop()
			return p, err
		}
		t0 := time.Now()
		r, q, err := do(id)
		p.Lat = append(p.Lat, time.Since(t0))
		if err != nil {
			stop()
			return p, fmt.Errorf("dsrbench: customer %d: %w", id, err)
		}
		rows += r
		queries += q
	}
	p.Elapsed = time.Since(start)
	p.AllocPerReq = (readMetric(metricAllocs) - allocs0) / uint64(len(subjects))
	stop()
	p.PeakHeap, p.PeakSys = peak()
	slices.Sort(p.Lat)
	p.Rows = rows / float64(len(subjects))
	p.Queries = float64(queries) / float64(len(subjects))
	return p, nil
}

const (
	metricAllocs      = "/gc/heap/allocs:bytes"
	metricHeapObjects = "/memory/classes/heap/objects:bytes"
	metricHeapUnused  = "/memory/classes/heap/unused:bytes"
	metricTotal       = "/memory/classes/total:bytes"
)

func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// heapInUse is the heap in use (as runtime.MemStats.HeapInuse) after a collection.
func heapInUse() uint64 {
	runtime.GC()
	return readMetric(metricHeapObjects) + readMetric(metricHeapUnused)
}

// sampleMemory records the high-water marks of heap in use and of memory
// from the OS every millisecond until stopped. runtime/metrics is read
// without stopping the world, unlike runtime.ReadMemStats.
func sampleMemory() (stop func(), peak func() (heap, sys uint64)) {
	var (
		mu           sync.Mutex
		maxHeap, sys uint64
		done         = make(chan struct{})
		finished     = make(chan struct{})
	)
	s := []metrics.Sample{{Name: metricHeapObjects}, {Name: metricHeapUnused}, {Name: metricTotal}}
	read := func() {
		metrics.Read(s)
		mu.Lock()
		maxHeap = max(maxHeap, s[0].Value.Uint64()+s[1].Value.Uint64())
		sys = max(sys, s[2].Value.Uint64())
		mu.Unlock()
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() { close(done); <-finished; read() })
	}
	peak = func() (uint64, uint64) {
		mu.Lock()
		defer mu.Unlock()
		return maxHeap, sys
	}
	return stop, peak
}

// Print writes the report: one line per engine and operation, then ratios.
func Print(out io.Writer, r Report) {
	fmt.Fprintf(out, "data-subject requests on PostgreSQL: %d customers, %d rows; %d requests per batch, one at a time, seed %d\n",
		r.Customers, r.Rows, r.Requests, r.Seed)
	fmt.Fprintf(out, "%-9s %-7s %10s %10s %9s %9s %11s %11s %11s\n", "operation", "engine", "p50", "p99", "req/s", "rows/req", "queries/req", "alloc/req", "peak heap")
	line := func(op, engine string, p Phase) {
		q := "-"
		if p.Queries > 0 {
			q = fmt.Sprintf("%.1f", p.Queries)
		}
		fmt.Fprintf(out, "%-9s %-7s %10s %10s %9.0f %9.1f %11s %11s %11s\n", op, engine,
			p.P50().Round(time.Microsecond), p.P99().Round(time.Microsecond), p.PerSec(), p.Rows, q, size(p.AllocPerReq), size(p.PeakHeap))
	}
	line("access", "custos", r.AccessCustos)
	line("access", "naive", r.AccessNaive)
	line("erase", "custos", r.EraseCustos)
	line("erase", "naive", r.EraseNaive)
	fmt.Fprintf(out, "ratios naive/custos (above 1: custos is better)\n")
	ratio := func(op string, c, n Phase) {
		fmt.Fprintf(out, "  %-7s p50 %5.2fx  p99 %5.2fx  time per batch %5.2fx  alloc/req %5.2fx  peak heap %5.2fx\n", op,
			float64(n.P50())/max(float64(c.P50()), 1), float64(n.P99())/max(float64(c.P99()), 1),
			float64(n.Elapsed)/max(float64(c.Elapsed), 1),
			float64(n.AllocPerReq)/max(float64(c.AllocPerReq), 1), float64(n.PeakHeap)/max(float64(c.PeakHeap), 1))
	}
	ratio("access", r.AccessCustos, r.AccessNaive)
	ratio("erase", r.EraseCustos, r.EraseNaive)
	fmt.Fprintf(out, "memory: heap in use %s before the batches, %s after; peak memory from the OS %s\n",
		size(r.HeapBefore), size(r.HeapAfter), size(max(r.AccessCustos.PeakSys, r.AccessNaive.PeakSys, r.EraseCustos.PeakSys, r.EraseNaive.PeakSys)))
}

func size(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
