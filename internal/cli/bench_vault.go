package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/bench"
)

func newBenchVaultCmd() *cobra.Command {
	var (
		subjects, conns, rate int
		dur                   time.Duration
	)
	cmd := &cobra.Command{
		Use:   "vault [--subjects 1000] [--rate 500] [--conns 32] [--duration 10s]",
		Short: "Vault writes and reads over HTTP, beside /v1/check on the same server and people",
		Long: `Vault registers --subjects subjects on a temporary SQLite database with a data
keyset, starts custos serve on it as its own process, keeps an email address
for each subject in the starter's vault, and then measures over HTTP, for the
same people:

  check  POST /v1/check                                   a decision
  read   GET  /v1/subjects/{id}/vault/email?purpose=…     a decision, the value
                                                          unsealed under the
                                                          person's key, and its
                                                          audit entry, durable
                                                          before the answer
  write  PUT  /v1/subjects/{id}/vault/email               the value sealed under
                                                          the person's key and
                                                          kept, with its audit
                                                          entry, durably

each open loop (--rate requests/s; latency from sending each request) and
closed loop (--conns clients back to back: the throughput ceiling), for
--duration each, and prints ratios against check. The load generator shares
the machine with the server.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			out, log := cmd.OutOrStdout(), cmd.ErrOrStderr()
			e, err := bench.NewEnv(ctx, "", 0, 0)
			if err != nil {
				return err
			}
			defer e.Close()
			if err := e.WithVault(ctx); err != nil {
				return err
			}
			fmt.Fprintf(log, "registering %d subjects …\n", subjects)
			ids, err := e.Subjects(ctx, "subject", subjects)
			if err != nil {
				return err
			}
			d := bench.VaultData(ids, 20000)
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			base, key, proc, stop, err := bench.ServeProcess(ctx, e, exe, log)
			if err != nil {
				return err
			}
			defer stop()
			if errs := bench.Once(bench.VaultWriteTarget(base, key), bench.EverySubject(d), conns); errs != 0 {
				return fmt.Errorf("keeping a value for every subject: %d requests failed", errs)
			}
			type result struct {
				name   string
				open   bench.OpenResult
				closed bench.Latencies
				cpu    time.Duration
			}
			var rs []result
			for _, t := range []bench.HTTPTarget{bench.CustosTarget(base, key), bench.VaultReadTarget(base, key), bench.VaultWriteTarget(base, key)} {
				bench.Closed(t, d, conns, time.Second) // warm up
				r := result{name: map[string]string{"custos": "check", "vault GET": "read", "vault PUT": "write"}[t.Name]}
				r.open = bench.Open(t, d, rate, conns, dur)
				cpu0 := bench.CPUTime(proc)
				r.closed = bench.Closed(t, d, conns, dur)
				r.cpu = perRequest(bench.CPUTime(proc)-cpu0, r.closed.Count)
				rs = append(rs, r)
			}
			fmt.Fprintf(out, "vault over HTTP on SQLite, %d subjects, %s per run; open loop at %d/s, closed loop with %d connections\n", subjects, dur, rate, conns)
			fmt.Fprintf(out, "%-6s %10s %10s %8s   %10s %10s %10s %12s %8s\n", "", "open p50", "open p99", "errors", "req/s", "p50", "p99", "CPU/request", "errors")
			for _, r := range rs {
				fmt.Fprintf(out, "%-6s %10s %10s %8d   %10.0f %10s %10s %12s %8d\n", r.name,
					r.open.Service.P50.Round(time.Microsecond), r.open.Service.P99.Round(time.Microsecond), r.open.Service.Errors,
					r.closed.PerSec, r.closed.P50.Round(time.Microsecond), r.closed.P99.Round(time.Microsecond), r.cpu.Round(100*time.Nanosecond), r.closed.Errors)
			}
			check := rs[0]
			fmt.Fprintf(out, "ratios against check\n")
			for _, r := range rs[1:] {
				fmt.Fprintf(out, "  %-5s throughput %.2fx, open-loop p50 %.1fx, p99 %.1fx\n", r.name,
					r.closed.PerSec/max(check.closed.PerSec, 1e-9),
					float64(r.open.Service.P50)/max(float64(check.open.Service.P50), 1), float64(r.open.Service.P99)/max(float64(check.open.Service.P99), 1))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&subjects, "subjects", 1000, "subjects to register, each with a value")
	cmd.Flags().IntVar(&conns, "conns", 32, "client connections")
	cmd.Flags().IntVar(&rate, "rate", 500, "requests per second in the open-loop runs")
	cmd.Flags().DurationVar(&dur, "duration", 10*time.Second, "how long each HTTP measurement runs")
	return cmd
}
