package cli

import (
	"context"
	"encoding/json"
	"os"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/scanbench"
)

func newBenchScanCmd() *cobra.Command {
	var (
		size, scripts, evalDir string
		seed                   uint64
		workers                int
		budget                 time.Duration
		noPeers, asJSON        bool
	)
	cmd := &cobra.Command{
		Use:   "scan [--size 100MB] [--peer-budget 60s] [--json]",
		Short: "Text scanning throughput, memory and accuracy beside the npm redactors",
		Long: `Scan generates a corpus of --size bytes of mixed Chinese and English text
(log lines, support tickets, CSV rows, JSON lines) with personal information
planted on a few per cent of the lines and hard negatives (order numbers that
pass Luhn, UUIDs, hashes, timestamps, snowflake ids) on many, the same bytes
for the same --seed. Custos's text detector runs over it in one goroutine and
in --workers goroutines; then each npm peer (redact-pii, openredaction,
@redactpii/node), installed with npm into a temporary directory (the local
cache first, no install scripts) and driven by node through the scripts in
--peers-dir, runs over the same corpus for at most --peer-budget of its own
time. A peer that cannot be installed or run is reported unavailable.

For each: MB/s per core, peak resident memory, and recall and precision on
the planted values (a finding counts when it overlaps a planted value of its
type). Then precision, recall and F1 per type on the labelled corpora in
--eval-dir, for Custos and each peer. Nothing prints a value found.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			n, err := scanbench.ParseSize(size)
			if err != nil {
				return err
			}
			if workers < 1 {
				workers = 1
			}
			if evalDir == "" {
				evalDir = os.Getenv("CUSTOS_PII_EVAL")
			}
			rep, err := scanbench.Run(ctx, scanbench.Options{
				Size: n, Seed: seed, Workers: workers, PeerBudget: budget,
				Scripts: scripts, EvalDir: evalDir, NoPeers: noPeers,
			}, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			rep.WriteText(cmd.OutOrStdout())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&size, "size", "100MB", "corpus size (KB, MB, GB: decimal units)")
	f.Uint64Var(&seed, "seed", 1, "corpus seed")
	f.IntVar(&workers, "workers", runtime.GOMAXPROCS(0), "goroutines of the parallel Custos run")
	f.DurationVar(&budget, "peer-budget", time.Minute, "each peer's own time on the corpus, at most")
	f.StringVar(&scripts, "peers-dir", "scripts/scanpeers", "the peers' driver scripts of a source checkout")
	f.StringVar(&evalDir, "eval-dir", "", "the labelled corpora, pii-eval of the shared data (default $CUSTOS_PII_EVAL; none: accuracy skipped)")
	f.BoolVar(&noPeers, "no-peers", false, "measure Custos alone")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
