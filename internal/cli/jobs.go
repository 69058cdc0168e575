package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/notify"
	"github.com/custos-privacy/custos/internal/server"
)

// The server's scheduled jobs, run once from the command line: each
// command calls the function the scheduler calls.

func newVaultCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "vault",
		Short: "Run the vault's retention sweep",
		Long: `The vault keeps the sensitive personal information the application stores in
Custos (PUT /v1/subjects/{subject_id}/vault/{field}), each value under its
person's own key. Its values are deleted when their category's retention
period ends; a running server sweeps every hour.`,
	}
	expire := &cobra.Command{
		Use:   "expire",
		Short: "Delete the vault values whose retention period has ended, now",
		Long: `Expire does now what every server does at start and every hour: deletes the
vault values whose category's retention period (retention rules with a period
counted from collection) has ended, field by field in batches, each batch
audited with its count. Values whose rules end at an event (account deletion,
consent withdrawal) are deleted by that event's erasure instead.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withServices(cmd, func(ctx context.Context, s *server.Services) error {
				n, err := s.Vault.Expire(ctx, cliActor(), time.Now())
				if err != nil {
					return fmt.Errorf("vault expire (%d deleted before the error): %w", n, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d vault values past their retention deleted\n", n)
				return nil
			})
		},
	}
	dbFlags(expire)
	cmd.AddCommand(expire)
	return cmd
}

func newOutboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "Purge the messages sent or abandoned longer ago than the outbox retention",
		Long: `The outbox holds the messages Custos sends people (one-time codes, notices),
each sealed under a key of its own. A running server purges every hour the
messages settled longer ago than the outbox retention.`,
	}
	purge := &cobra.Command{
		Use:   "purge [--outbox-retention 168h]",
		Short: "Destroy the contents of messages settled longer ago than --outbox-retention, now",
		Long: `Purge does now what every server does hourly: for each message sent or
abandoned longer ago than --outbox-retention (CUSTOS_OUTBOX_RETENTION,
default 168h), destroys its key in the key store, so that its address and
contents are unreadable in every copy of the database, and deletes it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			return withServices(cmd, func(ctx context.Context, s *server.Services) error {
				c, err := orgPeriods(ctx, s.Store, c)
				if err != nil {
					return err
				}
				n, err := notify.Purge(ctx, s.Store.Outbox(), s.Keystore, time.Now().Add(-c.OutboxRetention))
				if err != nil {
					return fmt.Errorf("outbox purge (%d purged before the error): %w", n, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d messages purged (settled longer ago than %s)\n", n, hours(c.OutboxRetention))
				return nil
			})
		},
	}
	dbFlags(purge)
	if f := purge.Flags().Lookup("outbox-retention"); f != nil {
		f.Hidden = false
	}
	cmd.AddCommand(purge)
	return cmd
}

// withServices runs fn with the domain services on the configured store.
func withServices(cmd *cobra.Command, fn func(ctx context.Context, s *server.Services) error) error {
	c, err := loadConfig(cmd.Flags())
	if err != nil {
		return err
	}
	ctx := cmd.Context() // cobra's Execute sets context.Background() when none is given
	s, err := server.OpenServices(ctx, c, slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(ctx, s)
}

// hours spells d as it is usually given, 168h rather than 168h0m0s.
func hours(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
