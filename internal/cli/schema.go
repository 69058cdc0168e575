package cli

import (
	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/manifest"
)

func newSchemaCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the manifest format, for editors",
		Long: `Schema prints a JSON Schema (draft 2020-12) of the manifest format. Point your
editor's YAML language server at it to get completion and checks while
writing custos.yaml, for example with a first line

  # yaml-language-server: $schema=./custos.schema.json

The schema checks shape only; custos validate also checks references and the law.`,
		Example: `  custos schema -o custos.schema.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := manifest.JSONSchema()
			if err != nil {
				return err
			}
			return writeOutput(cmd.OutOrStdout(), out, data)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "write to FILE instead of standard output")
	return cmd
}
