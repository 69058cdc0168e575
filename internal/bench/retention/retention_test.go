package retentionbench

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/testdb"
)

// engines are the databases the tests and benchmarks run on: SQLite
// always, PostgreSQL when its test server answers.
func engines(t testing.TB) map[string]*Engine {
	t.Helper()
	ctx := context.Background()
	out := map[string]*Engine{}
	e, err := OpenSQLite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out["sqlite"] = e
	url := os.Getenv("CUSTOS_TEST_POSTGRES")
	if url == "" {
		url = testdb.DefaultPostgres
	}
	if pg, err := OpenPostgres(ctx, url); err == nil {
		out["postgres"] = pg
	} else if os.Getenv("CUSTOS_REQUIRE_SERVICES") == "1" {
		t.Fatalf("PostgreSQL is required but unreachable: %v", err)
	}
	t.Cleanup(func() {
		for _, e := range out {
			if err := e.Close(context.Background()); err != nil {
				t.Error(err)
			}
		}
	})
	return out
}

func TestRun(t *testing.T) {
	for name, e := range engines(t) {
		t.Run(name, func(t *testing.T) {
			cfg := Config{Rows: 4000, MemoryRows: 1000, Batches: []int{execute.DefaultSweepBatch, 3000},
				OLTPRate: 200, Idle: 200 * time.Millisecond, RowCap: 50 * time.Millisecond}
			var log bytes.Buffer
			rep, err := Run(context.Background(), e, cfg, &log)
			if err != nil {
				t.Fatal(err)
			}
			// Run itself checks each copy's counts before and after; here
			// the report must say what happened.
			want := []struct {
				name   string
				batch  int
				rows   int64
				capped bool
			}{
				{SweepName(500), 500, 2000, false},
				{SweepName(3000), 3000, 2000, false},
				{VariantSetBased, 0, 2000, false},
			}
			for _, w := range want {
				v, ok := rep.Variant(w.name, w.batch)
				if !ok || v.Rows != w.rows || v.Capped != w.capped || v.During.Ops == 0 && v.Elapsed > 50*time.Millisecond || v.Idle.Ops == 0 {
					t.Errorf("%s: %+v (found %v); want %d rows, capped %v, OLTP measured", w.name, v, ok, w.rows, w.capped)
				}
			}
			if v, ok := rep.Variant(VariantRowAtATime, 0); !ok || v.Rows == 0 || (v.Rows < 2000) != v.Capped {
				t.Errorf("row at a time: %+v", v)
			}
			if len(rep.MemorySweeps) != 2 || rep.MemorySweeps[0].Expired != 500 || rep.MemorySweeps[1].Expired != 2000 {
				t.Errorf("memory sweeps: %+v; want 500 and 2000 expired rows", rep.MemorySweeps)
			}
			var out bytes.Buffer
			rep.Print(&out)
			for _, s := range []string{"custos sweep, batch 500", "set-based DELETE", "row at a time", "rows/s / set-based", "OLTP p99 / idle p99", "500 expired rows"} {
				if !strings.Contains(out.String(), s) {
					t.Errorf("the report lacks %q:\n%s", s, out.String())
				}
			}
		})
	}
}

// benchRows is the table of the go test benchmarks: small enough to copy
// for every iteration; custos bench retention measures at scale.
const benchRows = 20000

func benchmarkDelete(b *testing.B, del func(context.Context, *Engine, time.Time) (int64, error)) {
	for name, e := range engines(b) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			cutoff := time.Now().UTC().AddDate(-1, 0, 0).Truncate(time.Second)
			if err := e.Generate(ctx, benchRows, cutoff); err != nil {
				b.Fatal(err)
			}
			var rows int64
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				if err := e.Fresh(ctx, benchRows); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				n, err := del(ctx, e, cutoff)
				took += time.Since(start)
				if err != nil || n != benchRows/2 {
					b.Fatalf("deleted %d rows, %v; want %d", n, err, benchRows/2)
				}
				rows += n
			}
			b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
		})
	}
}

func BenchmarkSweep(b *testing.B) {
	benchmarkDelete(b, func(ctx context.Context, e *Engine, cutoff time.Time) (int64, error) {
		r, err := e.Sweep(cutoff, 0).Run(ctx, e.DB, nil)
		return r.Rows, err
	})
}

func BenchmarkSetBased(b *testing.B) {
	benchmarkDelete(b, func(ctx context.Context, e *Engine, cutoff time.Time) (int64, error) {
		return e.SetBased(ctx, cutoff)
	})
}
