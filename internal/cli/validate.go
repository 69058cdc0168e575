package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/manifest"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check manifests and report every problem as PATH:LINE:COL: message",
		Long: `Validate checks each manifest against the manifest format and the rules of
PIPL, GB/T 35273 and GDPR that a manifest can break on its own: unknown keys,
wrong types, dangling references, sensitive information without separate
consent, purposes without retention, transfers without a mechanism, impossible
deadlines. Every problem is reported, one per line, in file order.

Exit status: 0 when every manifest is valid, 1 when any has problems.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			bad := false
			for _, path := range args {
				_, err := manifest.Load(path)
				var ps manifest.Problems
				switch {
				case errors.As(err, &ps):
					bad = true
					for _, p := range ps {
						fmt.Fprintln(cmd.OutOrStdout(), p)
					}
				case err != nil:
					return err
				}
			}
			if bad {
				return exitError{1}
			}
			return nil
		},
	}
}
