package retentionbench

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/custos-privacy/custos/internal/dataset"
	"github.com/custos-privacy/custos/internal/execute"
)

// Config sizes a run.
type Config struct {
	Rows int64 // rows of the table; half are past the cutoff
	// Batches are the sweep's batch sizes to measure, each on its own copy.
	Batches []int
	// MemoryRows, if neither 0 nor Rows, is a second table size on which a
	// sweep (default batch, no load) is measured for its memory alone.
	MemoryRows int64
	OLTPRate   int           // OLTP operations per second
	Idle       time.Duration // how long the OLTP load runs alone before each variant
	// RowCap bounds the row-at-a-time deletion in time; its rate is
	// extrapolated to the whole table.
	RowCap time.Duration
}

// Variant names, as the report prints them.
const (
	VariantSetBased   = "set-based DELETE"
	VariantRowAtATime = "row at a time"
)

// Variant is one way of deleting the expired rows, measured on a fresh copy.
type Variant struct {
	Name    string
	Batch   int           // the sweep's batch; 0 for the peers
	Rows    int64         // rows deleted
	Elapsed time.Duration // time deleting them
	Capped  bool          // stopped at Config.RowCap before the end
	Idle    Latency       // OLTP alone on the fresh copy, just before
	During  Latency       // OLTP while the variant ran
	// Memory is the process's resident set while the variant ran.
	Memory Memory
}

// PerSec is rows deleted per second.
func (v Variant) PerSec() float64 { return float64(v.Rows) / max(v.Elapsed.Seconds(), 1e-9) }

// Report is the figures of a run on one engine.
type Report struct {
	Engine   string
	Config   Config
	Cutoff   time.Time
	Expired  int64 // rows past the cutoff in a fresh copy
	Load     time.Duration
	Variants []Variant
	// MemorySweeps are the sweeps with the default batch: on MemoryRows
	// (alone, if measured) and on Rows, smaller first.
	MemorySweeps []MemorySweep
}

// MemorySweep is the memory of one sweep with the default batch.
type MemorySweep struct {
	Expired int64
	Memory  Memory
}

// Variant returns the variant named name (and batch, for sweeps).
func (r Report) Variant(name string, batch int) (Variant, bool) {
	for _, v := range r.Variants {
		if v.Name == name && v.Batch == batch {
			return v, true
		}
	}
	return Variant{}, false
}

// SweepName is the name of the sweep variant with batch.
func SweepName(batch int) string { return fmt.Sprintf("custos sweep, batch %d", batch) }

// Run generates the table on e, measures every variant, each on a fresh
// copy, and returns the figures; progress goes to log.
func Run(ctx context.Context, e *Engine, cfg Config, log io.Writer) (Report, error) {
	rep := Report{Engine: e.Name(), Config: cfg}
	if cfg.Rows < 2 {
		return rep, errNoRows
	}
	if len(cfg.Batches) == 0 {
		cfg.Batches = []int{execute.DefaultSweepBatch}
		rep.Config = cfg
	}
	// The clocks sit about a year either side of the cutoff; whole seconds,
	// as every engine keeps them.
	rep.Cutoff = time.Now().UTC().AddDate(-1, 0, 0).Truncate(time.Second)
	size := max(cfg.Rows, cfg.MemoryRows)
	fmt.Fprintf(log, "%s: generating %d rows …\n", rep.Engine, size)
	start := time.Now()
	if err := e.Generate(ctx, size, rep.Cutoff); err != nil {
		return rep, err
	}
	rep.Load = time.Since(start)
	fmt.Fprintf(log, "%s: generated in %s\n", rep.Engine, rep.Load.Round(time.Second))

	variant := func(name string, batch int, del func(context.Context) (int64, bool, error)) error {
		fmt.Fprintf(log, "%s: %s: fresh copy of %d rows …\n", rep.Engine, name, cfg.Rows)
		if err := e.Fresh(ctx, cfg.Rows); err != nil {
			return err
		}
		expired, total, err := e.Counts(ctx, rep.Cutoff)
		if err != nil {
			return err
		}
		if total != cfg.Rows || expired != cfg.Rows/2 {
			return fmt.Errorf("retentionbench: the copy holds %d rows, %d expired; want %d, %d", total, expired, cfg.Rows, cfg.Rows/2)
		}
		rep.Expired = expired
		// A second of load first, unmeasured: connections, plans, cache.
		startOLTP(ctx, e, cfg.Rows, cfg.OLTPRate, 1).Stop()
		warm := startOLTP(ctx, e, cfg.Rows, cfg.OLTPRate, 2)
		time.Sleep(time.Second)
		warm.Stop()
		fmt.Fprintf(log, "%s: %s: OLTP alone for %s …\n", rep.Engine, name, cfg.Idle)
		idle := startOLTP(ctx, e, cfg.Rows, cfg.OLTPRate, 3)
		time.Sleep(cfg.Idle)
		v := Variant{Name: name, Batch: batch, Idle: idle.Stop()}
		fmt.Fprintf(log, "%s: %s: deleting …\n", rep.Engine, name)
		during := startOLTP(ctx, e, cfg.Rows, cfg.OLTPRate, 4)
		mem := sampleMemory()
		start := time.Now()
		v.Rows, v.Capped, err = del(ctx)
		v.Elapsed = time.Since(start)
		v.Memory = mem.Stop()
		v.During = during.Stop()
		if err != nil {
			return fmt.Errorf("retentionbench: %s: %w", name, err)
		}
		after, total, err := e.Counts(ctx, rep.Cutoff)
		if err != nil {
			return err
		}
		// Every variant must delete exactly what it says, and only expired rows.
		if after != expired-v.Rows || total != cfg.Rows-v.Rows || (!v.Capped && after != 0) {
			return fmt.Errorf("retentionbench: %s deleted %d rows but left %d of %d, %d expired", name, v.Rows, total, cfg.Rows, after)
		}
		fmt.Fprintf(log, "%s: %s: %d rows in %s\n", rep.Engine, name, v.Rows, v.Elapsed.Round(time.Millisecond))
		rep.Variants = append(rep.Variants, v)
		return nil
	}

	for _, b := range cfg.Batches {
		if err := variant(SweepName(b), b, func(ctx context.Context) (int64, bool, error) {
			r, err := e.Sweep(rep.Cutoff, b).Run(ctx, e.DB, nil)
			return r.Rows, false, err
		}); err != nil {
			return rep, err
		}
	}
	if err := variant(VariantSetBased, 0, func(ctx context.Context) (int64, bool, error) {
		n, err := e.SetBased(ctx, rep.Cutoff)
		return n, false, err
	}); err != nil {
		return rep, err
	}
	if err := variant(VariantRowAtATime, 0, func(ctx context.Context) (int64, bool, error) {
		return e.RowAtATime(ctx, rep.Cutoff, cfg.RowCap)
	}); err != nil {
		return rep, err
	}

	if cfg.MemoryRows > 0 && cfg.MemoryRows != cfg.Rows {
		fmt.Fprintf(log, "%s: memory: sweeping a copy of %d rows …\n", rep.Engine, cfg.MemoryRows)
		if err := e.Fresh(ctx, cfg.MemoryRows); err != nil {
			return rep, err
		}
		mem := sampleMemory()
		r, err := e.Sweep(rep.Cutoff, execute.DefaultSweepBatch).Run(ctx, e.DB, nil)
		m := mem.Stop()
		if err != nil {
			return rep, fmt.Errorf("retentionbench: memory sweep: %w", err)
		}
		rep.MemorySweeps = append(rep.MemorySweeps, MemorySweep{Expired: r.Rows, Memory: m})
	}
	if v, ok := rep.Variant(SweepName(execute.DefaultSweepBatch), execute.DefaultSweepBatch); ok {
		rep.MemorySweeps = append(rep.MemorySweeps, MemorySweep{Expired: v.Rows, Memory: v.Memory})
	}
	if len(rep.MemorySweeps) == 2 && rep.MemorySweeps[0].Expired > rep.MemorySweeps[1].Expired {
		rep.MemorySweeps[0], rep.MemorySweeps[1] = rep.MemorySweeps[1], rep.MemorySweeps[0]
	}
	return rep, nil
}

// Collection is the swept table as an annotation describes it: the key,
// the clock and payload that a deletion does not need to read.
func Collection() dataset.Collection {
	return dataset.Collection{Name: sweptTable, DeleteRow: true, Fields: []dataset.Field{
		{Name: "id", PrimaryKey: true},
		{Name: "account"},
		{Name: "status"},
		{Name: "payload"},
		{Name: "created_at", DataType: "datetime"},
	}}
}

// Sweep is the Custos sweep of the table: delete every row before cutoff.
func (e *Engine) Sweep(cutoff time.Time, batch int) execute.Sweep {
	return execute.Sweep{Kind: e.Kind, Collection: Collection(), Clock: "created_at", Cutoff: cutoff,
		Action: dataset.ActionDelete, Batch: batch}
}

// SetBased is the physical reference: one statement deleting every
// expired row, in one transaction.
func (e *Engine) SetBased(ctx context.Context, cutoff time.Time) (int64, error) {
	r, err := e.DB.ExecContext(ctx, "DELETE FROM "+sweptTable+" WHERE created_at < "+e.ph(1), e.timeArg(cutoff))
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// rowKeys is how many expired keys row-at-a-time deletion reads at once.
const rowKeys = 1000

// RowAtATime is the naive job: read expired keys, then delete each with a
// statement of its own, committed alone; until every expired row is gone
// or limit has passed.
func (e *Engine) RowAtATime(ctx context.Context, cutoff time.Time, limit time.Duration) (int64, bool, error) {
	sel := "SELECT id FROM " + sweptTable + " WHERE created_at < " + e.ph(1) + " AND id > " + e.ph(2) + " ORDER BY id LIMIT " + fmt.Sprint(rowKeys)
	del := "DELETE FROM " + sweptTable + " WHERE id = " + e.ph(1)
	end := time.Now().Add(limit)
	var n, last int64
	for {
		rows, err := e.DB.QueryContext(ctx, sel, e.timeArg(cutoff), last)
		if err != nil {
			return n, false, err
		}
		var keys []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return n, false, err
			}
			keys = append(keys, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, false, err
		}
		for _, id := range keys {
			if time.Now().After(end) {
				return n, true, nil
			}
			if _, err := e.DB.ExecContext(ctx, del, id); err != nil {
				return n, false, err
			}
			n++
			last = id
		}
		if len(keys) < rowKeys {
			return n, false, nil
		}
	}
}
