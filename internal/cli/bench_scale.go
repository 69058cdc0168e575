package cli

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/custos-privacy/custos/internal/bench"
	"github.com/custos-privacy/custos/internal/keystore"
	"github.com/custos-privacy/custos/internal/seal"
)

// scaleKey is the identity and chain key of a scale population. It is
// fixed, so that a population can be resumed and served by `custos
// serve` in later runs; a population is made-up people in a database of
// its own, never an organisation's.
var scaleKey = func() []byte { k := sha256.Sum256([]byte("custos bench scale population key")); return k[:] }()

func newBenchScaleCmd() *cobra.Command {
	var (
		db       string
		o        bench.ScaleOptions
		populate bool
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "scale --db URL|FILE [--subjects 10000000] [--populate-only] [--rate 5000] [--duration 30s] [--instances 3] [--soak 10m] [--cache-subjects N] [--db-conns N] [--json]",
		Short: "How Custos's costs grow with its data: decisions, writes, verification, requests, instances, storage",
		Long: `Scale fills the database --db (a PostgreSQL URL or a SQLite file) with a
population of --subjects made-up people, as an organisation would over two
years: identities, ages (some minors, with guardians), about ten consent
events each, a rights request for one in ten in every state, and the audit
entries these imply, written through the store's writer in bulk. It shows
a progress bar with subjects/s and ETA (JSON lines when not on a terminal)
and resumes where it stopped when run again: what is written derives from
the subject's number.

The database must be empty or hold a population made by this command (its
keys are fixed test keys: never point it at an organisation's database). It
is kept after the run, so later runs measure without populating again.

Then it measures, and prints one table with every figure beside its goal:

  storage        bytes on disk per consent event and per subject (tables and
                 indexes), and a year of --subjects people
  decisions      open loop at --rate for --duration against a custos serve
                 process, subjects drawn Zipf(1.1) over all of them, then
                 uniformly: p50/p99/p999 from due time, cache hit ratio, RSS
  writes         consent writes/s from 64 clients into the populated ledger,
                 against the same into an empty database
  verification   the audit trail and ledger, whole (entries/s), and from the
                 last checkpoint after 1,000 new writes
  requests       the queue (open requests, soonest due) and due_by lists,
                 and the counts behind custos_requests_due: p99 of each
  instances      with --instances > 1, decisions/s and consent writes/s
                 against 1..N custos serve processes on one database, and
                 how long another instance takes to see a write (p50/p99)
  soak           with --soak D, the target mix (decisions at --rate, 500
                 consent writes/s, a rights request a second) against two
                 instances for D: errors, RSS at start and end, p99 per
                 minute, then the chains verify and the ledger holds every
                 acknowledged write

The server processes are this binary (custos serve), with the population's
data keyset kept beside a SQLite file (FILE.keyset) or in the temporary
directory for PostgreSQL, with the per-person keys in a SQLite file beside
it. Figures depend on the
machine and what else runs on it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			if db == "" {
				return fmt.Errorf("--db is required: a PostgreSQL URL or a SQLite file")
			}
			exe, err := os.Executable()
			if err != nil {
				return err
			}
			o.Exe, o.Log = exe, cmd.ErrOrStderr()
			e, err := bench.OpenEnv(ctx, db, scaleKey, 0)
			if err != nil {
				return err
			}
			defer e.Close()
			var keyset string
			if e.DataKeyset, keyset, err = scaleKeyset(db); err != nil {
				return err
			}
			if keystore.IsPostgres(db) {
				// The per-person keys live apart from the data: here in a
				// SQLite file beside the keyset.
				e.Keystore = keyset + "-keys.db"
			}
			start := time.Now()
			stats, err := bench.PopulateScale(ctx, e, o.Subjects, populationProgress(cmd.ErrOrStderr(), o.Subjects))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "population: %d subjects written, %d found, %d events, %d requests, %d audit entries in %s\n",
				stats.Subjects, stats.Skipped, stats.Events, stats.Requests, stats.Entries, time.Since(start).Round(time.Second))
			if populate {
				return nil
			}
			rep, err := bench.Scale(ctx, e, o)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			rep.Print(cmd.OutOrStdout())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&db, "db", "", "the database to fill and measure: a PostgreSQL URL or a SQLite file")
	f.IntVar(&o.Subjects, "subjects", 10_000_000, "people in the population")
	f.BoolVar(&populate, "populate-only", false, "fill the database and stop")
	f.IntVar(&o.Rate, "rate", 5000, "decisions per second in the open-loop runs")
	f.DurationVar(&o.Duration, "duration", 30*time.Second, "length of each decision and write run")
	f.IntVar(&o.Instances, "instances", 1, "measure 1..N custos serve processes on the database")
	f.DurationVar(&o.Soak, "soak", 0, "run the target mix against two instances for this long (0: no soak)")
	f.IntVar(&o.CacheSubjects, "cache-subjects", 0, "the servers' decision cache size (0: their default)")
	f.IntVar(&o.DBConns, "db-conns", 0, "each server's PostgreSQL connections at most (0: their default); N instances need N times this under max_connections")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// populationProgress draws the population's progress on w: a bar redrawn
// in place on a terminal, a JSON line at most every 10 seconds otherwise.
func populationProgress(w io.Writer, total int) func(done, written int) {
	f, ok := w.(*os.File)
	tty := ok && term.IsTerminal(int(f.Fd()))
	start, last := time.Now(), time.Time{}
	return func(done, written int) {
		now := time.Now()
		if !tty && now.Sub(last) < 10*time.Second && done < total {
			return
		}
		last = now
		rate := float64(written) / max(now.Sub(start).Seconds(), 1e-3) // subjects found written do not count
		eta := "-"
		if left := total - done; left > 0 && rate > 0 {
			eta = (time.Duration(float64(left)/rate) * time.Second).Round(time.Second).String()
		}
		if !tty {
			line, _ := json.Marshal(map[string]any{"subjects": done, "of": total, "per_s": int(rate), "eta": eta})
			fmt.Fprintf(w, "%s\n", line)
			return
		}
		const width = 30
		filled := done * width / max(total, 1)
		fmt.Fprintf(w, "\r[%s%s] %d/%d subjects  %.0f/s  ETA %s   ", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total, rate, eta)
		if done >= total {
			fmt.Fprintln(w)
		}
	}
}

// scaleKeyset is the data keyset the servers of a population run with
// (rights requests are sealed under it): made on the first run and kept
// beside a SQLite file, or in the temporary directory named after a
// PostgreSQL database, so that later runs open what earlier ones sealed.
func scaleKeyset(db string) (keyset []byte, path string, err error) {
	path = db + ".keyset"
	if keystore.IsPostgres(db) {
		sum := sha256.Sum256([]byte(db))
		path = filepath.Join(os.TempDir(), fmt.Sprintf("custos-scale-%x.keyset", sum[:6]))
	}
	if b, err := os.ReadFile(path); err == nil {
		return b, path, nil
	}
	raw, err := seal.GenerateKeyset()
	if err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return nil, "", fmt.Errorf("keep the population's data keyset: %w", err)
	}
	return raw, path, nil
}
