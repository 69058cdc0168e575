package cli

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/server"
)

func newNotifyCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "notify [--db URL]",
		Short: "Queue the notices of material policy changes now",
		Long: `Notify queues, for every published version whose material change has not
been told to everyone yet, one message per affected subject with a kept email
address (else phone number), in the subject's language, through the outbox
(the server sends what is queued). It is the job a running server does every
minute; running it here does the same, at once. Batches commit as they go, so
an interrupted run resumes where it stopped, and a server running the job at
the same time never makes anyone receive a notice twice.

A change that only touches consents is told to the people who decided on
them; any other material change is told to everyone with an address.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			svcs, err := server.OpenServices(cmd.Context(), c, log)
			if err != nil {
				return err
			}
			defer svcs.Close()
			svc := svcs.Consent
			out := cmd.OutOrStdout()
			n, err := svc.SendChangeNotices(cmd.Context(), func(version string, queued int) {
				fmt.Fprintf(cmd.ErrOrStderr(), "version %s: %d notices queued so far\n", version, queued)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%d notices queued\n", n)
			return nil
		},
	}
	dbFlags(cmd)
	return cmd
}
