package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	dsrbench "github.com/custos-privacy/custos/internal/bench/dsr"
)

func newBenchDSRCmd() *cobra.Command {
	var (
		pg  string
		cfg dsrbench.Config
	)
	cmd := &cobra.Command{
		Use:   "dsr [--postgres URL] [--customers 1000000] [--requests 1000] [--concurrency 8] [--seed 1]",
		Short: "Access, erasure and correction per subject on a generated shop, against a row-at-a-time traversal",
		Long: `Dsr generates an e-commerce database shaped like Fides' sample (customers,
addresses, orders and their items, products, payment cards, logins: 15 rows
per customer, indexed as a real schema is) in a schema created for the run
and dropped at its end, also on error or interrupt. It then serves batches of
--requests access requests, as many erasures (each batch on customers of
its own) and as many corrections of the access subjects' names and
addresses (each batch writing values of its own), once one at a time and
once with --concurrency requests in flight, by the execute engine and by a
naive traversal of the same annotation that sends one query per value and
updates one row per statement. It prints, per
batch, latencies, throughput, rows and statements per request (counted by
the database driver), allocation and peak Go heap, with ratios, and the
process's peak RSS. Both engines must return the same rows for the first
subjects before anything is timed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			// Cancelling rather than dying lets the run drop its schema.
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			if pg == "" {
				pg = os.Getenv("CUSTOS_TEST_POSTGRES")
			}
			if pg == "" {
				return fmt.Errorf("bench dsr needs a PostgreSQL server: --postgres URL or CUSTOS_TEST_POSTGRES")
			}
			_, err := dsrbench.Run(ctx, pg, cfg, cmd.OutOrStdout(), cmd.ErrOrStderr())
			return err
		},
	}
	cmd.Flags().StringVar(&pg, "postgres", "", "PostgreSQL URL (default $CUSTOS_TEST_POSTGRES)")
	cmd.Flags().Int64Var(&cfg.Customers, "customers", 1000000, "customers to generate")
	cmd.Flags().IntVar(&cfg.Requests, "requests", 1000, "requests per batch")
	cmd.Flags().IntVar(&cfg.Concurrency, "concurrency", dsrbench.DefaultConcurrency, "requests in flight in the concurrent batches (at least 2)")
	cmd.Flags().Uint64Var(&cfg.Seed, "seed", 1, "seed for choosing the subjects")
	return cmd
}
