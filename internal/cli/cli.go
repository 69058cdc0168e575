// Package cli implements the custos command line.
package cli

import (
	"errors"
	"fmt"
	"io"

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
		newOperatorsCmd(),
		newApprovalsCmd(),
		newVersionCmd(),
		newInitCmd(),
		newDatasetCmd(),
	)
	return root
}
