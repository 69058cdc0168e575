package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/connector"
)

func newDiscoverCmd() *cobra.Command {
	var (
		out, name, dsnEnv string
		sample            int
		showSamples       bool
	)
	cmd := &cobra.Command{
		Use:   "discover [DSN] [-o FILE] [--sample N] [--show-samples]",
		Short: "Propose a dataset annotation from a database's structure and sampled values",
		Long: `Discover reads a PostgreSQL, MySQL/MariaDB or SQLite database's tables,
columns, primary and foreign keys, samples a bounded number of values per
column (--sample, default 50, at most 1000), and proposes personal-information
categories from column names (Chinese and English) and from validating
detectors (PRC resident ID, PRC mobile, email, bank card, IBAN, IP, MAC, IMEI),
each with its confidence, identity fields, and references from foreign keys.

The output is a draft annotation for a person to review. Sampled values are
never written unless --show-samples is given (then as comments: the draft
then holds personal data). Give the connection as DSN or, to keep it out of
the process list and shell history, in the environment variable named by
--dsn-env (default CUSTOS_DISCOVER_DSN). Progress goes to standard error.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dsn := os.Getenv(dsnEnv)
			if len(args) == 1 {
				dsn = args[0]
			}
			if dsn == "" {
				return fmt.Errorf("give a DSN or set %s", dsnEnv)
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			c, err := connector.Open(ctx, connector.Config{DSN: dsn})
			if err != nil {
				return err
			}
			defer c.Close()
			draft, err := connector.Discover(ctx, c, connector.DiscoverOptions{SampleRows: sample, ShowSamples: showSamples, Datastore: name,
				Progress: progressBar(cmd.ErrOrStderr())})
			if err != nil {
				return err
			}
			y, err := draft.YAML()
			if err != nil {
				return err
			}
			return writeOutput(cmd.OutOrStdout(), out, y)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the draft to FILE")
	cmd.Flags().StringVar(&name, "name", "", "datastore id in the draft (default: the database kind)")
	cmd.Flags().StringVar(&dsnEnv, "dsn-env", "CUSTOS_DISCOVER_DSN", "environment variable holding the DSN")
	cmd.Flags().IntVar(&sample, "sample", 50, "values sampled per column")
	cmd.Flags().BoolVar(&showSamples, "show-samples", false, "write sampled values into the draft as comments")
	return cmd
}

// progressBar draws done/total on w, redrawing one line.
func progressBar(w io.Writer) func(done, total int) {
	return func(done, total int) {
		if total <= 0 {
			return
		}
		const width = 30
		filled := done * width / total
		fmt.Fprintf(w, "\r[%s%s] %d/%d columns", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, total)
		if done == total {
			fmt.Fprintln(w)
		}
	}
}
