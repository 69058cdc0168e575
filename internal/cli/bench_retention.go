package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	retentionbench "github.com/custos-privacy/custos/internal/bench/retention"
	"github.com/custos-privacy/custos/internal/execute"
	"github.com/custos-privacy/custos/internal/testdb"
)

// smallRows is the table size on MariaDB and SQLite unless --rows is given:
// they are measured for comparison, not at PostgreSQL's scale.
const smallRows = 2000000

func newBenchRetentionCmd() *cobra.Command {
	var (
		pg            string
		useMySQL      bool
		useSQLite     bool
		cfg           retentionbench.Config
		batches       []int
		rows, memRows int64
	)
	cmd := &cobra.Command{
		Use:   "retention [--rows 20000000] [--batch 500,5000] [--oltp-rate 200] [--postgres URL] [--mysql] [--sqlite]",
		Short: "Retention sweep throughput and its effect on a live OLTP load, against a set-based DELETE",
		Long: `Retention generates a table of --rows rows in the database (integer key,
payload, created_at; every even key a year past the cutoff, every odd key
live, so expired and live rows share every page) in a scratch schema,
database or file made for the run and removed at its end. Each variant then
deletes the expired rows from a fresh copy of it, with the index on
created_at, vacuumed and analysed:

  custos sweep, batch N  execute.Sweep, one transaction per batch (--batch)
  set-based DELETE       DELETE FROM t WHERE created_at < cutoff, one statement
  row at a time          expired keys read, each deleted and committed alone;
                         stopped after --row-cap, its rate extrapolated

while an OLTP load of --oltp-rate operations a second (half point reads,
half updates of live rows by key, on a pool of its own) runs beside it; the
same load runs alone for --idle on the copy first. It prints rows/s, the
load's p50 and p99 (from when each operation was due) idle and during each
variant, the process's peak RSS, and ratios against the goals: the sweep at
least half as fast as the set-based DELETE, and the load's p99 during it at
most twice its idle p99. The memory of a sweep with the default batch is
also shown on a copy of --memory-rows rows, to compare two sizes.

PostgreSQL runs by default (--postgres, else CUSTOS_TEST_POSTGRES, else the
local test server). --mysql (CUSTOS_TEST_MYSQL, else root@tcp(127.0.0.1:3306)/test)
and --sqlite (a temporary file, clocks as ISO 8601 text) run instead, at
2,000,000 rows unless --rows is given; give --postgres too to run all.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			// Cancelling rather than dying lets the run drop its schema.
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			flags := cmd.Flags()
			cfg.Batches = batches
			type engine struct {
				name string
				rows int64
				open func(context.Context) (*retentionbench.Engine, error)
			}
			var engines []engine
			if !useMySQL && !useSQLite || flags.Changed("postgres") {
				if pg == "" {
					pg = os.Getenv("CUSTOS_TEST_POSTGRES")
				}
				if pg == "" {
					pg = testdb.DefaultPostgres
				}
				engines = append(engines, engine{"postgres", rows, func(ctx context.Context) (*retentionbench.Engine, error) {
					return retentionbench.OpenPostgres(ctx, pg)
				}})
			}
			small := int64(smallRows)
			if flags.Changed("rows") {
				small = rows
			}
			if useMySQL {
				dsn := os.Getenv("CUSTOS_TEST_MYSQL")
				if dsn == "" {
					dsn = "root@tcp(127.0.0.1:3306)/test"
				}
				engines = append(engines, engine{"mariadb", small, func(ctx context.Context) (*retentionbench.Engine, error) {
					return retentionbench.OpenMySQL(ctx, dsn)
				}})
			}
			if useSQLite {
				engines = append(engines, engine{"sqlite", small, retentionbench.OpenSQLite})
			}
			for _, en := range engines {
				c := cfg
				c.Rows = en.rows
				c.MemoryRows = min(memRows, en.rows/10)
				if flags.Changed("memory-rows") {
					c.MemoryRows = memRows
				}
				e, err := en.open(ctx)
				if err != nil {
					return fmt.Errorf("bench retention: %s: %w", en.name, err)
				}
				rep, err := retentionbench.Run(ctx, e, c, cmd.ErrOrStderr())
				cctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				cerr := e.Close(cctx)
				cancel()
				if err != nil {
					return err
				}
				if cerr != nil {
					return fmt.Errorf("bench retention: %s: clean up: %w", en.name, cerr)
				}
				rep.Print(cmd.OutOrStdout())
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&rows, "rows", 20000000, "rows of the table, half of them expired (MariaDB and SQLite: 2000000 unless given)")
	cmd.Flags().IntSliceVar(&batches, "batch", []int{execute.DefaultSweepBatch, 5000}, "the sweep's batch sizes to measure, each on its own copy")
	cmd.Flags().Int64Var(&memRows, "memory-rows", 2000000, "rows of a second copy swept to compare memory (at most a tenth of --rows unless given; 0 skips)")
	cmd.Flags().IntVar(&cfg.OLTPRate, "oltp-rate", 200, "OLTP operations per second beside each variant")
	cmd.Flags().DurationVar(&cfg.Idle, "idle", 10*time.Second, "how long the OLTP load runs alone before each variant")
	cmd.Flags().DurationVar(&cfg.RowCap, "row-cap", 30*time.Second, "how long row-at-a-time deletion runs before its rate is extrapolated")
	cmd.Flags().StringVar(&pg, "postgres", "", "PostgreSQL URL (default $CUSTOS_TEST_POSTGRES, else the local test server)")
	cmd.Flags().BoolVar(&useMySQL, "mysql", false, "run on MariaDB/MySQL ($CUSTOS_TEST_MYSQL) instead of PostgreSQL")
	cmd.Flags().BoolVar(&useSQLite, "sqlite", false, "run on SQLite in a temporary file instead of PostgreSQL")
	return cmd
}
