// Package cli implements the custos command line.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// exitError carries an exit code through cobra without printing a second message.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// Main runs the command line with args and returns the process exit code:
// 0 success, 1 the input is invalid (e.g. manifest problems), 2 usage or I/O error.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(stderr, "custos:", err)
	return 2
}

func newRoot(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "custos",
		Short: "Custos turns a privacy manifest into a privacy policy and keeps its promises",
		Long: `Custos reads a privacy manifest (custos.yaml): the machine-readable form of
everything a privacy policy promises. From it Custos validates the promises,
renders the policy in Chinese and English, compares versions, and produces the
record of processing activities. At run time 'custos serve' keeps the
promises: subjects, the consent ledger, purpose checks and an audit trail.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(
		newValidateCmd(),
		newPolicyCmd(),
		newInventoryCmd(),
		newSchemaCmd(),
		newServeCmd(),
		newMigrateCmd(),
		newConfigCmd(),
		newKeysCmd(),
		newAuditCmd(),
		newSecretsCmd(),
		newBenchCmd(),
		newRequestsCmd(),
		newDiscoverCmd(),
		newScanCmd(),
		newRedactCmd(),
		newOperatorsCmd(),
		newOrgsCmd(),
		newApprovalsCmd(),
		newHoldsCmd(),
		newTransfersCmd(),
		newIncidentsCmd(),
		newVersionCmd(),
		newInitCmd(),
		newDatasetCmd(),
		newVaultCmd(),
		newOutboxCmd(),
		newRetentionCmd(),
		newCertificatesCmd(),
		newPIACmd(),
		newEvidenceCmd(),
	)
	refuseUnknownSubcommands(root)
	return root
}

// refuseUnknownSubcommands makes every command that only groups others
// fail on a word that is none of them, as the root does: by default cobra
// prints the group's help and exits 0, so a misspelt `custos keys revok`
// would look like success to a script.
func refuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if !c.HasParent() || !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += " (did you mean " + strings.Join(s, " or ") + "?)"
		}
		return errors.New(msg + "; see --help")
	}
}
