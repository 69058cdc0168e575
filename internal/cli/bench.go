package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/bench"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Custos side by side with a peer and print ratios",
		Long: `Bench runs workloads against throw-away databases and prints figures with
ratios against a peer measured in the same run. Figures depend on the machine
and on what else it is doing; run them on a quiet machine and compare ratios.`,
	}
	cmd.AddCommand(newBenchConsentCmd(), newBenchCheckCmd(), newBenchDSRCmd(), newBenchRetentionCmd(), newBenchVaultCmd(), newBenchScanCmd(), newBenchScaleCmd())
	return cmd
}

func newBenchConsentCmd() *cobra.Command {
	var clients int
	var dur time.Duration
	var pg string
	cmd := &cobra.Command{
		Use:   "consent [--clients 64] [--duration 10s] [--postgres URL]",
		Short: "Durable consent writes per second, group commit against one commit per write",
		Long: `Consent runs --clients concurrent writers, each granting and withdrawing a
consent for its own subject through the consent service, for --duration. A
write counts once it is acknowledged, which means it is durable (SQLite with
synchronous=FULL; PostgreSQL's commit). The peer is the same store committing
every write alone. SQLite runs on a temporary file; with --postgres (or
CUSTOS_TEST_POSTGRES) PostgreSQL runs too, in a schema created and dropped for
the run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if pg == "" {
				pg = os.Getenv("CUSTOS_TEST_POSTGRES")
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "durable consent writes, %d clients, %s each\n", clients, dur)
			fmt.Fprintf(out, "%-10s %-17s %10s %10s %10s %8s\n", "database", "commit", "writes/s", "p50", "p99", "errors")
			backends := []struct{ name, url string }{{"sqlite", ""}}
			if pg != "" {
				backends = append(backends, struct{ name, url string }{"postgres", pg})
			}
			for _, b := range backends {
				var results [2]bench.Latencies
				for i, batch := range []int{0, 1} {
					e, err := bench.NewEnv(ctx, b.url, batch, 0)
					if err != nil {
						return err
					}
					results[i], err = bench.ConsentWrites(ctx, e, clients, dur, cmd.ErrOrStderr())
					e.Close()
					if err != nil {
						return err
					}
					mode := "group"
					if batch == 1 {
						mode = "one per write"
					}
					r := results[i]
					fmt.Fprintf(out, "%-10s %-17s %10.0f %10s %10s %8d\n", b.name, mode, r.PerSec, r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Errors)
				}
				fmt.Fprintf(out, "%-10s group commit / one per write: %.1fx\n", b.name, results[0].PerSec/max(results[1].PerSec, 1e-9))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&clients, "clients", 64, "concurrent writers")
	cmd.Flags().DurationVar(&dur, "duration", 10*time.Second, "how long each measurement runs")
	cmd.Flags().StringVar(&pg, "postgres", "", "PostgreSQL URL to measure too (default $CUSTOS_TEST_POSTGRES)")
	return cmd
}

func newBenchCheckCmd() *cobra.Command {
	var (
		subjects, conns, rate int
		dur                   time.Duration
		vsOPA                 bool
		opaDir                string
		pin, vsOne            bool
		orgs                  int
		round                 time.Duration
	)
	cmd := &cobra.Command{
		Use:   "check [--subjects 1000] [--rate 5000] [--duration 10s] [--vs-opa]",
		Short: "Decision latency and throughput, in-process and over HTTP, optionally against OPA",
		Long: `Check registers --subjects subjects with consents (some withdrawn) on a
temporary SQLite database and measures the decision "may this subject's data
be processed for this purpose?":

  in-process: check.Decide on a snapshot, and the service's Check (cache, audit)
  HTTP, open loop: --rate requests/s for --duration; latency from sending
               each request, and from when it was due (so stalls, including
               the generator's own late wake-ups, count)
  HTTP, closed loop: --conns clients back to back; the throughput ceiling

With --vs-opa the same policy, subjects, consents and queries are given to Open
Policy Agent: its embedded prepared query (after a parity check that both
engines decide every query alike) and its own HTTP server under the same load
generator. This needs the bench/opa module of a source checkout (--opa-dir)
and the Go toolchain; OPA is not part of the custos binary. The load generator
shares the machine with the server under test, the same for both engines.

With --orgs N the deployment holds N organisations, each with its own
identity key, policy and host name, the subjects split evenly among them;
the HTTP runs ask across all of them, each request on its organisation's
host with its key (the in-process figures are the first organisation's).
Compare --orgs 100 --subjects 100000 with --subjects 100000.

With --vs-one-org as well, the same number of subjects is also served as one
organisation, by a second server, and the two are measured closed loop in
alternating rounds of --round each (the order reversed every other round),
for --duration each in all, after each has been asked every query once (so
both are compared with their caches warm). On a shared machine the speed of
one server can drift by more than the difference sought between back-to-back
runs; rounds a few seconds apart share the drift, so their ratios do not. It
prints every round and the ratios over all of them; the in-process and
open-loop figures are left out.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			out, log := cmd.OutOrStdout(), cmd.ErrOrStderr()
			if orgs > 1 && vsOPA {
				return fmt.Errorf("--orgs and --vs-opa: OPA has no organisations to compare with; run them apart")
			}
			if vsOne {
				if orgs < 2 {
					return fmt.Errorf("--vs-one-org compares --orgs N (at least 2) with one organisation; give --orgs")
				}
				if round <= 0 || round > dur {
					return fmt.Errorf("--round %s: give a round longer than 0 and no longer than --duration (%s)", round, dur)
				}
				return benchOrgsVsOne(ctx, out, log, subjects, orgs, conns, dur, round, pin)
			}
			e, d, err := checkEnv(ctx, log, subjects, orgs)
			if err != nil {
				return err
			}
			defer e.Close()
			decide, svc, err := bench.InProcess(ctx, e, d, min(dur, 3*time.Second))
			if err != nil {
				return err
			}
			if pin {
				if err := pinServers(log); err != nil {
					return err
				}
			}
			// The server under test runs as its own process, as it does in
			// production, so it shares no heap or scheduler with the load
			// generator (OPA's server below runs the same way).
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			custos, proc, stop, err := e.ServeTarget(ctx, exe, log)
			if err != nil {
				return err
			}
			defer stop()
			bench.Closed(custos, d, conns, time.Second) // warm up
			openC := bench.Open(custos, d, rate, conns, dur)
			cpu0 := bench.CPUTime(proc)
			closedC := bench.Closed(custos, d, conns, dur)
			cpuC := perRequest(bench.CPUTime(proc)-cpu0, closedC.Count)

			if orgs > 1 {
				fmt.Fprintf(out, "decisions on %d subjects in %d organisations, %d queries\n", len(e.Orgs)*len(d.Subjects), len(e.Orgs), len(d.Queries))
			} else {
				fmt.Fprintf(out, "decisions on %d subjects, %d queries\n", subjects, len(d.Queries))
			}
			fmt.Fprintf(out, "in-process  check.Decide        %8.0f ns/decision\n", decide)
			fmt.Fprintf(out, "in-process  Service.Check       %8.0f ns/decision\n", svc)
			printHTTP(out, "custos", rate, openC, closedC, cpuC)
			if !vsOPA {
				return nil
			}
			tmp, err := os.MkdirTemp("", "custos-bench-opa-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			data := filepath.Join(tmp, "data.json")
			if err := e.WriteOPAData(d, data); err != nil {
				return err
			}
			o, err := bench.BuildOPA(ctx, opaDir, tmp, log)
			if err != nil {
				return err
			}
			emb, err := o.Embedded(ctx, data, min(dur, 3*time.Second), log)
			if err != nil {
				return err
			}
			obase, oproc, ostop, err := o.Server(ctx, data, log)
			if err != nil {
				return err
			}
			defer ostop()
			opa := bench.OPATarget(obase)
			bench.Closed(opa, d, conns, time.Second)
			openO := bench.Open(opa, d, rate, conns, dur)
			ocpu0 := bench.CPUTime(oproc)
			closedO := bench.Closed(opa, d, conns, dur)
			cpuO := perRequest(bench.CPUTime(oproc)-ocpu0, closedO.Count)
			ostop()
			fmt.Fprintf(out, "OPA %s embedded (rego.PreparedEvalQuery) %8.0f ns/decision; check.Decide in the same harness %6.0f ns\n", emb.OPAVersion, emb.OPANs, emb.CustosNs)
			printHTTP(out, "opa", rate, openO, closedO, cpuO)
			fmt.Fprintf(out, "ratios (custos vs OPA)\n")
			fmt.Fprintf(out, "  in-process decision: %.0fx faster (same harness), %.0fx against this run's check.Decide\n", emb.Ratio, emb.OPANs/decide)
			where := "servers and load generator share the CPUs"
			if pin {
				where = "each server on its own CPU"
			}
			fmt.Fprintf(out, "  HTTP throughput:     %.1fx (%s)\n", closedC.PerSec/max(closedO.PerSec, 1e-9), where)
			if cpuC > 0 && cpuO > 0 {
				fmt.Fprintf(out, "  server CPU/request:  %.1fx less\n", float64(cpuO)/float64(cpuC))
			}
			fmt.Fprintf(out, "  HTTP p99 at %d/s:   %.2fx lower (from due time: %.2fx)\n", rate, float64(openO.Service.P99)/max(float64(openC.Service.P99), 1), float64(openO.FromDue.P99)/max(float64(openC.FromDue.P99), 1))
			return nil
		},
	}
	cmd.Flags().IntVar(&subjects, "subjects", 1000, "subjects to register")
	cmd.Flags().IntVar(&conns, "conns", 32, "client connections")
	cmd.Flags().IntVar(&rate, "rate", 5000, "requests per second in the open-loop run")
	cmd.Flags().DurationVar(&dur, "duration", 10*time.Second, "how long each HTTP measurement runs")
	cmd.Flags().BoolVar(&vsOPA, "vs-opa", false, "also measure OPA on the same workload")
	cmd.Flags().StringVar(&opaDir, "opa-dir", "bench/opa", "the bench/opa module of a source checkout")
	cmd.Flags().IntVar(&orgs, "orgs", 1, "organisations the subjects are split among, each on its own host")
	cmd.Flags().BoolVar(&pin, "pin", false, "pin each server under test to the last CPU and the load generator to the others (Linux, taskset)")
	cmd.Flags().BoolVar(&vsOne, "vs-one-org", false, "with --orgs N, also serve the subjects as one organisation and alternate rounds between the two")
	cmd.Flags().DurationVar(&round, "round", 3*time.Second, "with --vs-one-org, how long each server runs in a round")
	return cmd
}

// checkEnv makes a throw-away database of subjects split among orgs
// organisations (one: the deployment's own alone) and the decision
// queries asked of them.
func checkEnv(ctx context.Context, log io.Writer, subjects, orgs int) (*bench.Env, bench.CheckData, error) {
	e, err := bench.NewEnv(ctx, "", 0, 0)
	if err != nil {
		return nil, bench.CheckData{}, err
	}
	if orgs > 1 {
		fmt.Fprintf(log, "making %d organisations …\n", orgs)
		if err := e.WithOrgs(ctx, orgs); err != nil {
			e.Close()
			return nil, bench.CheckData{}, err
		}
	}
	fmt.Fprintf(log, "registering %d subjects in %d organisation(s) …\n", subjects, orgs)
	d, err := e.Populate(ctx, subjects, 20000, log)
	if err != nil {
		e.Close()
		return nil, bench.CheckData{}, err
	}
	return e, d, nil
}

// pinServers, for --pin, keeps servers under test on the last CPU and
// this process on the others.
func pinServers(log io.Writer) error {
	if runtime.NumCPU() < 2 {
		return fmt.Errorf("--pin needs at least 2 CPUs")
	}
	last := strconv.Itoa(runtime.NumCPU() - 1)
	bench.ServerCPUs = last
	if err := bench.PinSelf("0-" + strconv.Itoa(runtime.NumCPU()-2)); err != nil {
		return err
	}
	runtime.GOMAXPROCS(runtime.NumCPU() - 1)
	fmt.Fprintf(log, "servers under test on CPU %s, load generator on the others\n", last)
	return nil
}

// benchOrgsVsOne serves subjects as one organisation and as orgs
// organisations, from two server processes on two databases, and measures
// them in alternating closed-loop rounds.
func benchOrgsVsOne(ctx context.Context, out, log io.Writer, subjects, orgs, conns int, dur, round time.Duration, pin bool) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	if pin {
		if err := pinServers(log); err != nil {
			return err
		}
	}
	var sides [2]bench.Side
	for i, n := range []int{1, orgs} {
		e, d, err := checkEnv(ctx, log, subjects, n)
		if err != nil {
			return err
		}
		defer e.Close()
		t, proc, stop, err := e.ServeTarget(ctx, exe, log)
		if err != nil {
			return err
		}
		defer stop()
		sides[i] = bench.Side{Target: t, Data: d, Proc: proc}
		// Every subject asked about is cached before the rounds, so they
		// compare the two in their steady state.
		if errs := bench.Once(t, d, conns); errs != 0 {
			return fmt.Errorf("warming up the server of %d organisation(s): %d of %d requests failed", n, errs, len(d.Queries))
		}
	}
	rounds := max(2, int(dur/round))
	fmt.Fprintf(log, "%d rounds of %s on each server …\n", rounds, round)
	bursts := bench.Alternate(sides[:], conns, round, 200*time.Millisecond, rounds)
	c := bench.Compare(bursts[0], bursts[1])
	many := fmt.Sprintf("%d orgs", orgs)
	fmt.Fprintf(out, "decisions on %d subjects: one organisation against %d organisations, closed loop, %d alternating rounds of %s\n", subjects, orgs, rounds, round)
	fmt.Fprintf(out, "%5s %12s %12s %7s\n", "round", "1 org req/s", many+" req/s", "ratio")
	for r := range rounds {
		a, b := bursts[0][r], bursts[1][r]
		fmt.Fprintf(out, "%5d %12.0f %12.0f %7.2f\n", r+1, float64(a.Count)/a.Seconds, float64(b.Count)/b.Seconds, (float64(b.Count)/b.Seconds)/max(float64(a.Count)/a.Seconds, 1e-9))
	}
	fmt.Fprintf(out, "one organisation     %8.0f req/s  server CPU %s/request  (%d errors)\n", c.PerSec[0], c.CPU[0].Round(100*time.Nanosecond), c.Errors[0])
	fmt.Fprintf(out, "%-20s %8.0f req/s  server CPU %s/request  (%d errors)\n", fmt.Sprintf("%d organisations", orgs), c.PerSec[1], c.CPU[1].Round(100*time.Nanosecond), c.Errors[1])
	fmt.Fprintf(out, "ratio (%d organisations / one): throughput %.2f over all rounds, median round %.2f (%.2f to %.2f); CPU per request %.2f\n",
		orgs, c.Throughput, c.Median, c.Low, c.High, c.CPURatio)
	return nil
}

func perRequest(cpu time.Duration, n int64) time.Duration {
	if n == 0 {
		return 0
	}
	return cpu / time.Duration(n)
}

func printHTTP(out io.Writer, name string, rate int, open bench.OpenResult, closed bench.Latencies, cpu time.Duration) {
	fmt.Fprintf(out, "HTTP %-6s open loop %d/s:  p50 %8s  p99 %8s  from due time: p50 %8s  p99 %8s  (%d requests, %d errors)\n", name, rate,
		open.Service.P50.Round(time.Microsecond), open.Service.P99.Round(time.Microsecond),
		open.FromDue.P50.Round(time.Microsecond), open.FromDue.P99.Round(time.Microsecond), open.FromDue.Count, open.FromDue.Errors)
	fmt.Fprintf(out, "HTTP %-6s closed loop:       %8.0f req/s  p50 %8s  p99 %8s  server CPU %s/request  (%d errors)\n", name, closed.PerSec, closed.P50.Round(time.Microsecond), closed.P99.Round(time.Microsecond), cpu.Round(100*time.Nanosecond), closed.Errors)
}
