package cli

import (
	"bytes"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/policy"
)

func newInventoryCmd() *cobra.Command {
	var lang, format, out string
	cmd := &cobra.Command{
		Use:   "inventory PATH",
		Short: "Write the record of processing activities (GDPR art. 30, PIPL) from a manifest",
		Long: `Inventory writes the record of processing activities described by the
manifest at PATH: one activity per purpose with the controller, the protection
officer or department, legal basis, categories of data subjects and personal
information (sensitive ones listed separately), sources, recipients,
third-country transfers and their safeguards, erasure time limits and the
security measures — the fields of GDPR art. 30(1) and their PIPL counterparts.`,
		Example: `  custos inventory examples/yonyou-cloud/custos.yaml --format csv -o ropa.csv`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := loadManifest(cmd, args[0])
			if err != nil {
				return err
			}
			inv, err := policy.BuildInventory(m, lang)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := policy.WriteInventory(&buf, inv, format); err != nil {
				return err
			}
			return writeOutput(cmd.OutOrStdout(), out, buf.Bytes())
		},
	}
	cmd.Flags().StringVar(&lang, "lang", "en", "language: zh-CN or en")
	cmd.Flags().StringVar(&format, "format", "markdown", "format: markdown, csv or json")
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of standard output")
	return cmd
}
