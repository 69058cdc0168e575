package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/dataset"
)

func newDatasetCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dataset",
		Short: "Work with dataset annotations: where a person's data lives",
		Long: `A dataset annotation tells Custos where personal information is kept in the
organisation's own databases (PostgreSQL, MySQL/MariaDB, SQLite), so that
access and erasure requests reach it (see docs/datasets.md). 'custos discover'
proposes one from a database; 'custos dataset import' converts one written for
Fides; 'custos validate' checks either.`,
		Example: `  custos dataset import fides/shop.yml --kind postgres --dsn-env SHOP_DSN -o shop.yaml`,
	}
	cmd.AddCommand(newDatasetImportCmd())
	return cmd
}

func newDatasetImportCmd() *cobra.Command {
	var (
		opt         dataset.ImportOptions
		out, report string
	)
	cmd := &cobra.Command{
		Use:   "import FIDES.yml --kind postgres|mysql|sqlite --dsn-env VAR [-o FILE] [--report FILE]",
		Short: "Convert a Fides dataset into a Custos dataset annotation",
		Long: `Import reads a Fides (fideslang) dataset file and writes the Custos dataset
annotation that 'custos serve --dataset' uses, with the connection added:
--kind names the database and --dsn-env the environment variable that holds
its DSN when the annotation is used. The DSN itself is never read here nor
written into the file.

Collections, fields (nested ones flattened to parent.child), identities,
primary keys, data types and references carry over as they are; Fides data
categories become Custos categories through the table in
internal/dataset/FIDES.md, and each field's Fides categories stay beside it
as a comment. Erasure follows Fides: a masking_strategy_override becomes the
matching erase strategy, a read-only field or one with no personal data is
kept, any other personal field is nulled.

What does not map is reported, never dropped in silence: a Fides category
with no Custos counterpart becomes "other" (still found and erased), an
unsupported data_type is left out, a masking strategy with no erase strategy
gives way to the field's default; each is marked "# review:" in the file.
The report (standard error, or --report FILE) lists them with their place in
the Fides file, and the Fides keys not carried over. Any other problem with
the file (its shape, references, personal data no identity reaches) is
printed as PATH:LINE:COL: message and nothing is written.

Exit status: 0 when written, 1 when the Fides file has problems.`,
		Example: `  custos dataset import fides/shop.yml --kind postgres --dsn-env SHOP_DSN -o shop.yaml
  custos validate shop.yaml --manifest custos.yaml
  SHOP_DSN=postgres://custos@db/shop custos serve --manifest custos.yaml --dataset shop.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if len(data) > dataset.MaxSize {
				return fmt.Errorf("%s: larger than %d bytes", args[0], dataset.MaxSize)
			}
			imp, err := dataset.ImportFides(args[0], data, opt)
			var ps dataset.Problems
			if errors.As(err, &ps) {
				for _, p := range ps {
					fmt.Fprintln(cmd.ErrOrStderr(), p)
				}
				return exitError{1}
			}
			if err != nil {
				return err
			}
			y, err := imp.YAML()
			if err != nil {
				return err
			}
			if err := writeOutput(cmd.OutOrStdout(), out, y); err != nil {
				return err
			}
			if report != "" {
				return writeOutput(cmd.OutOrStdout(), report, []byte(imp.Report()))
			}
			_, err = fmt.Fprint(cmd.ErrOrStderr(), imp.Report())
			return err
		},
	}
	cmd.Flags().StringVar(&opt.Kind, "kind", "", "the database: postgres, mysql or sqlite (required)")
	cmd.Flags().StringVar(&opt.DSNEnv, "dsn-env", "", "environment variable that holds the DSN when the annotation is used (required)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write the annotation to FILE (default standard output)")
	cmd.Flags().StringVar(&report, "report", "", "write the report to FILE (default standard error)")
	cmd.MarkFlagRequired("kind")
	cmd.MarkFlagRequired("dsn-env")
	return cmd
}
