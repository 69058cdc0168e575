package cli

import "github.com/spf13/cobra"

func newDiffCmd() *cobra.Command {
	return &cobra.Command{Use: "diff OLD NEW", Hidden: true}
}
