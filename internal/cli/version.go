package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary",
		Long: `Version prints the module version, the version-control revision and time
the binary was built from (and whether the tree had uncommitted changes), and
the Go version, as recorded in the binary's build information.`,
		Example: `  custos version`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprint(cmd.OutOrStdout(), versionText(debug.ReadBuildInfo()))
			return nil
		},
	}
}

// versionText formats the build information of the running binary.
func versionText(bi *debug.BuildInfo, ok bool) string {
	if !ok {
		return "custos (no build information)\n"
	}
	version := bi.Main.Version
	if version == "" {
		version = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	out := fmt.Sprintf("custos %s\n", version)
	if rev := settings["vcs.revision"]; rev != "" {
		out += "revision: " + rev
		if settings["vcs.modified"] == "true" {
			out += " (modified)"
		}
		out += "\n"
	}
	if t := settings["vcs.time"]; t != "" {
		out += "built from a commit of: " + t + "\n"
	}
	out += "go: " + bi.GoVersion + "\n"
	return out
}
