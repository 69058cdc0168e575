package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/operator"
	"github.com/custos-privacy/custos/internal/store"
)

func newOperatorsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "operators",
		Short: "Create, list, disable admin-console accounts and reset their passwords",
		Long: `Operators are the people who sign in to the admin console (/console/).
Each has one role: admin (everything, including publishing policy versions and
managing accounts), operator (rights requests and batch exports) or auditor
(read-only). Passwords are read from standard input or CUSTOS_OPERATOR_PASSWORD,
never from a flag, and stored as argon2id hashes. Every change is audited.`,
	}
	create := &cobra.Command{
		Use:   "create USERNAME --role admin|operator|auditor [--name N]",
		Short: "Create an account (password from stdin or CUSTOS_OPERATOR_PASSWORD)",
		Long: `Create makes a console account with the given role. The password (12
characters or more) is the first line of standard input, or
CUSTOS_OPERATOR_PASSWORD when set. The creation is audited; the password is not.
The account's password is recorded as set by the CLI; the operator can make it
their own by changing it on the console's Account page.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			role, _ := cmd.Flags().GetString("role")
			name, _ := cmd.Flags().GetString("name")
			pw, err := readPassword(cmd)
			if err != nil {
				return err
			}
			return withOperators(cmd, func(ctx context.Context, ops *operator.Service) error {
				o, err := ops.Create(ctx, cliActor(), operator.SetByCLI, args[0], name, role, pw)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created %s (%s, role %s)\n", o.Username, o.ID, o.Role)
				return nil
			})
		},
	}
	create.Flags().String("role", "", "role: admin, operator or auditor")
	create.Flags().String("name", "", "display name (default: the username)")
	create.MarkFlagRequired("role")
	dbFlags(create)
	list := &cobra.Command{
		Use:   "list",
		Short: "List accounts (never passwords)",
		Long:  `List prints every account's username, role, display name, status (active, disabled or locked) and creation time.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withOperators(cmd, func(ctx context.Context, ops *operator.Service) error {
				all, err := ops.List(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USERNAME\tROLE\tNAME\tSTATUS\tCREATED")
				for _, o := range all {
					status := "active"
					switch {
					case o.Disabled:
						status = "disabled"
					case time.Now().Before(o.LockedUntil):
						status = "locked until " + o.LockedUntil.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Username, o.Role, o.DisplayName, status, o.CreatedAt.Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	dbFlags(list)
	disable := &cobra.Command{
		Use:   "disable USERNAME",
		Short: "Disable an account and end its sessions",
		Long:  `Disable stops an account from signing in and ends its sessions at once. The change is audited.`,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withOperators(cmd, func(ctx context.Context, ops *operator.Service) error {
				if err := ops.SetDisabled(ctx, cliActor(), args[0], true); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "disabled %s\n", args[0])
				return nil
			})
		},
	}
	dbFlags(disable)
	reset := &cobra.Command{
		Use:   "reset-password USERNAME",
		Short: "Set a new password (stdin or CUSTOS_OPERATOR_PASSWORD), lift a lockout, end sessions",
		Long: `Reset-password sets a new password read from standard input (or
CUSTOS_OPERATOR_PASSWORD), lifts a lockout and ends the account's sessions.
The password is recorded as set by the CLI. The reset is audited.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd)
			if err != nil {
				return err
			}
			return withOperators(cmd, func(ctx context.Context, ops *operator.Service) error {
				if err := ops.ResetPassword(ctx, cliActor(), operator.SetByCLI, args[0], pw); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "password of %s reset\n", args[0])
				return nil
			})
		},
	}
	dbFlags(reset)
	cmd.AddCommand(create, list, disable, reset)
	return cmd
}

func withOperators(cmd *cobra.Command, fn func(ctx context.Context, ops *operator.Service) error) error {
	return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
		ops, err := operator.New(st, operator.Options{})
		if err != nil {
			return err
		}
		return fn(ctx, ops)
	})
}

// readPassword takes CUSTOS_OPERATOR_PASSWORD, else the first line of
// standard input: never a flag, which would land in shell history and ps.
func readPassword(cmd *cobra.Command) (string, error) {
	if pw := os.Getenv("CUSTOS_OPERATOR_PASSWORD"); pw != "" {
		return pw, nil
	}
	line, err := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("no password: give it on standard input or in CUSTOS_OPERATOR_PASSWORD")
	}
	return pw, nil
}
