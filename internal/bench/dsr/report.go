package dsrbench

import (
	"fmt"
	"io"
	"runtime"
	"time"
)

// mode names how a batch ran.
func mode(p Phase) string {
	if p.Concurrency > 1 {
		return fmt.Sprintf("concurrent %d", p.Concurrency)
	}
	return "sequential"
}

// Print writes the report: one line per operation, mode and engine, then
// the ratios and what the memory figures mean.
func Print(out io.Writer, r Report) {
	fmt.Fprintf(out, "data-subject requests on PostgreSQL: %d customers, %d rows; %d requests per batch, seed %d\n",
		r.Customers, r.Rows, r.Requests, r.Seed)
	fmt.Fprintf(out, "sequential: one request at a time; concurrent %d: %d in flight, one pool connection each (GOMAXPROCS %d)\n",
		r.Concurrency, r.Concurrency, runtime.GOMAXPROCS(0))
	fmt.Fprintf(out, "%-9s %-6s %-13s %10s %10s %9s %9s %11s %11s %11s\n", "operation", "engine", "mode", "p50", "p99", "req/s", "rows/req", "queries/req", "alloc/req", "peak heap")
	for _, p := range r.Phases {
		fmt.Fprintf(out, "%-9s %-6s %-13s %10s %10s %9.0f %9.1f %11.1f %11s %11s\n", p.Op, p.Engine, mode(p),
			p.P50().Round(time.Microsecond), p.P99().Round(time.Microsecond), p.PerSec(), p.Rows, p.Queries, size(p.AllocPerReq), size(p.PeakHeap))
	}
	fmt.Fprintf(out, "ratios naive/custos (above 1: custos is better; req/s custos/naive)\n")
	for _, op := range []string{OpAccess, OpErase, OpCorrect} {
		for _, concurrent := range []bool{false, true} {
			c, n := r.Phase(op, EngineCustos, concurrent), r.Phase(op, EngineNaive, concurrent)
			fmt.Fprintf(out, "  %-7s %-13s p50 %5.2fx  p99 %5.2fx  req/s %5.2fx  queries/req %5.2fx  alloc/req %5.2fx  peak heap %5.2fx\n", op, mode(c),
				ratio(float64(n.P50()), float64(c.P50())), ratio(float64(n.P99()), float64(c.P99())),
				ratio(c.PerSec(), n.PerSec()), ratio(n.Queries, c.Queries),
				ratio(float64(n.AllocPerReq), float64(c.AllocPerReq)), ratio(float64(n.PeakHeap), float64(c.PeakHeap)))
		}
	}
	var sys uint64
	for _, p := range r.Phases {
		sys = max(sys, p.PeakSys)
	}
	fmt.Fprintf(out, "memory (the data lives in PostgreSQL; these are the benchmark process's own figures):\n")
	fmt.Fprintf(out, "  alloc/req: Go heap allocated per request; a request cannot hold more at once, so it bounds the request's own peak heap\n")
	fmt.Fprintf(out, "  peak heap: high-water mark of the whole process's Go heap in use during the batch, sampled every millisecond,\n")
	fmt.Fprintf(out, "             garbage not yet collected included\n")
	fmt.Fprintf(out, "  Go heap in use after a collection: %s before the first batch, %s after the last\n", size(r.HeapBefore), size(r.HeapAfter))
	fmt.Fprintf(out, "  peak memory the Go runtime held from the OS during the batches: %s\n", size(sys))
	if r.RSSReset {
		fmt.Fprintf(out, "  peak process RSS (VmHWM, whole process): %s through data generation and warm-up, %s during the batches\n", rss(r.RSSSetup), rss(r.RSSBatches))
	} else {
		fmt.Fprintf(out, "  peak process RSS (VmHWM, whole process, since start, data generation included): %s\n", rss(r.RSSBatches))
	}
}

func ratio(a, b float64) float64 { return a / max(b, 1e-9) }

func rss(n uint64) string {
	if n == 0 {
		return "unavailable"
	}
	return size(n)
}
