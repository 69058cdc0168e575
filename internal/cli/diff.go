package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/policy"
)

func newDiffCmd() *cobra.Command {
	var format string
	var exitCode bool
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Compare two manifest versions and classify each change as material or not",
		Long: `Diff compares two versions of a manifest entity by entity (matched by id) and
classifies every change by the material-change kinds the policy declares
(policy.updates.material_changes; by default the six kinds of GB/T 35273-2020
§10.1): processing (purpose, type or manner), ownership, recipients, rights,
contact, impact_assessment. Wording, metadata and security changes are
reported but never material.

It also lists the consent-based purposes whose consents must be asked for
again: those a material processing or recipient change touches, and — when the
policy asks for express consent after material changes — every consent-based
purpose for any other material change.`,
		Example: `  custos policy diff examples/starter/custos.yaml examples/starter/custos-v2.yaml --format json`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			oldM, err := loadManifest(cmd, args[0])
			if err != nil {
				return err
			}
			newM, err := loadManifest(cmd, args[1])
			if err != nil {
				return err
			}
			d := policy.Compare(oldM, newM)
			out := cmd.OutOrStdout()
			switch format {
			case "text":
				err = d.WriteText(out)
			case "json":
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				err = enc.Encode(d)
			default:
				return fmt.Errorf("unsupported format %q: want text or json", format)
			}
			if err != nil {
				return err
			}
			if exitCode && d.Material {
				return exitError{3}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "format: text or json")
	cmd.Flags().BoolVar(&exitCode, "exit-code", false, "exit 3 when any change is material (for CI gates)")
	return cmd
}
