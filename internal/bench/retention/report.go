package retentionbench

import (
	"fmt"
	"io"
	"time"

	"github.com/custos-privacy/custos/internal/execute"
)

// Goals the report checks its ratios against.
const (
	GoalThroughput = 0.5 // sweep rows/s at least half the set-based DELETE's
	GoalOLTPP99    = 2.0 // OLTP p99 during the sweep at most twice its idle p99
)

// Print writes the report as a table with its ratios.
func (r Report) Print(out io.Writer) {
	c := r.Config
	fmt.Fprintf(out, "retention on %s: %d rows, %d expired (every even key: expired and live rows share every page); cutoff %s\n",
		r.Engine, c.Rows, r.Expired, r.Cutoff.Format(time.DateOnly))
	fmt.Fprintf(out, "each variant on a fresh copy (generated once in %s); OLTP: %d ops/s, half point reads, half updates of live rows by key, own pool; latency from when each op was due; idle %s on the copy just before\n",
		r.Load.Round(time.Second), c.OLTPRate, c.Idle)
	fmt.Fprintf(out, "%-24s %10s %10s %10s %9s %9s %9s %9s %6s %7s %10s\n", "variant", "rows", "time", "rows/s",
		"idle p50", "idle p99", "load p50", "load p99", "ops", "p99 x", "peak RSS")
	for _, v := range r.Variants {
		name := v.Name
		if v.Capped {
			name += " *"
		}
		fmt.Fprintf(out, "%-24s %10d %10s %10.0f %9s %9s %9s %9s %6d %7.2f %10s\n", name, v.Rows, v.Elapsed.Round(10*time.Millisecond), v.PerSec(),
			ms(v.Idle.P50), ms(v.Idle.P99), ms(v.During.P50), ms(v.During.P99), v.During.Ops, ratio(v.During.P99, v.Idle.P99), size(v.Memory.Peak))
		if v.Idle.Errors+v.During.Errors > 0 {
			fmt.Fprintf(out, "%-24s OLTP errors: %d idle, %d under load\n", "", v.Idle.Errors, v.During.Errors)
		}
	}
	if v, ok := r.Variant(VariantRowAtATime, 0); ok && v.Capped {
		fmt.Fprintf(out, "* stopped after %s; at %.0f rows/s all %d expired rows would take %s\n",
			c.RowCap, v.PerSec(), r.Expired, (time.Duration(float64(r.Expired)/max(v.PerSec(), 1e-9)) * time.Second).Round(time.Second))
	}
	set, hasSet := r.Variant(VariantSetBased, 0)
	fmt.Fprintf(out, "ratios\n")
	for _, v := range r.Variants {
		if v.Batch == 0 {
			continue
		}
		if hasSet {
			t := v.PerSec() / max(set.PerSec(), 1e-9)
			fmt.Fprintf(out, "  %-24s rows/s / set-based:      %5.2f  (goal >= %.1f: %s)\n", v.Name, t, GoalThroughput, verdict(t >= GoalThroughput))
		}
		p := ratio(v.During.P99, v.Idle.P99)
		say := verdict(p <= GoalOLTPP99)
		if v.During.Ops < minOps {
			say = fmt.Sprintf("too few operations to tell, %d", v.During.Ops)
		}
		fmt.Fprintf(out, "  %-24s OLTP p99 / idle p99:     %5.2f  (goal <= %.1f: %s)\n", v.Name, p, GoalOLTPP99, say)
	}
	for _, v := range r.Variants {
		if v.Batch == 0 {
			fmt.Fprintf(out, "  %-24s OLTP p99 / idle p99:     %5.2f\n", v.Name, ratio(v.During.P99, v.Idle.P99))
		}
	}
	if row, ok := r.Variant(VariantRowAtATime, 0); ok {
		if sw, ok := r.Variant(SweepName(execute.DefaultSweepBatch), execute.DefaultSweepBatch); ok {
			fmt.Fprintf(out, "  %-24s rows/s / row at a time:  %5.1f\n", sw.Name, sw.PerSec()/max(row.PerSec(), 1e-9))
		}
	}
	if len(r.MemorySweeps) > 0 {
		fmt.Fprintf(out, "memory of the process during a sweep (batch %d): VmRSS sampled every 50 ms, largest kept (VmHWM cannot be reset)\n", execute.DefaultSweepBatch)
		for _, m := range r.MemorySweeps {
			fmt.Fprintf(out, "  %10d expired rows: RSS before %9s, peak %9s; peak Go heap %9s\n", m.Expired, size(m.Memory.Before), size(m.Memory.Peak), size(m.Memory.PeakHeap))
		}
	}
}

// minOps is the fewest OLTP operations whose p99 is worth checking
// against a goal: below it the 99th percentile is the slowest one or two.
const minOps = 200

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

func ratio(a, b time.Duration) float64 { return float64(a) / max(float64(b), 1) }

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
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
