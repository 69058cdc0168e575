package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/custos-privacy/custos/internal/org"
	"github.com/custos-privacy/custos/internal/secrets"
	"github.com/custos-privacy/custos/internal/store"
)

func newOrgsCmd() *cobra.Command {
	orgs := &cobra.Command{
		Use:   "orgs",
		Short: "Register, list, disable and enable the organisations of a deployment",
		Long: `A deployment holds one or more organisations, each a controller with its own
subjects, consent ledger, rights requests, operators, API keys and audit trail;
every row in the database carries its organisation, and no query reaches
across. The organisation 'default' is the one that runs the deployment and
owns everything stored before there were several; it always exists.

These commands change the registry and record each change on the default
organisation's audit trail. See docs/organisations.md.`,
	}
	create := &cobra.Command{
		Use:   "create ID --name NAME [--host HOST]...",
		Short: "Register an organisation and make its secrets",
		Long: `Create registers an organisation under ID (2 to 40 lower-case letters, digits
and single hyphens, starting with a letter), with its name as its notice
names the controller and the host names its privacy center, banner, console
and API answer on, and starts its audit trail and consent ledger, empty.

With a secrets directory (--secrets-dir, CUSTOS_SECRETS_DIR) it also makes the
organisation's own identity key, data keyset and receipt key in orgs/ID under
it, as secrets init does for the deployment: no key of one organisation opens
or links another's data. Commands act for the organisation with --org ID.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, _ := cmd.Flags().GetString("name")
			hosts, _ := cmd.Flags().GetStringSlice("host")
			c, err := loadConfig(cmd.Flags())
			if err != nil {
				return err
			}
			id := args[0]
			if err := org.ValidateID(id); err != nil {
				return err
			}
			var made string
			if c.SecretsDir != "" {
				dir := c.OrgSecretsDir(id)
				if _, err := os.Stat(dir); err == nil {
					return fmt.Errorf("%s exists: organisation %s has secrets already", dir, id)
				}
				if _, err := secrets.Init(dir, false); err != nil {
					return err
				}
				made = dir
			}
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				o, err := org.New(st).Create(ctx, cliActor(), id, name, hosts...)
				if err != nil {
					if made != "" {
						os.RemoveAll(made)
					}
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created organisation %s (%s)\n", o.ID, o.Name)
				if made != "" {
					fmt.Fprintf(cmd.ErrOrStderr(), "its secrets are in %s: back them up as the deployment's (docs/operations.md)\n", made)
				} else {
					fmt.Fprintf(cmd.ErrOrStderr(), "no secrets directory: make the organisation's secrets with custos secrets init DIR/orgs/%s\n", o.ID)
				}
				return nil
			})
		},
	}
	create.Flags().String("name", "", "the organisation's name, as its notice names the controller")
	create.Flags().StringSlice("host", nil, "a host name the organisation answers on (repeat, or separate with commas)")
	create.MarkFlagRequired("name")
	dbFlags(create)
	create.Flags().MarkHidden("org")
	hostsCmd := &cobra.Command{
		Use:   "hosts ID [HOST]...",
		Short: "Set the host names an organisation answers on",
		Long: `Hosts replaces the host names an organisation's privacy center, banner,
console and API answer on; with no HOST it answers on none. A host belongs to
one organisation; the deployment's own answers on every host no other claims.
Servers read the hosts when they start.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				o, err := org.New(st).SetHosts(ctx, cliActor(), args[0], args[1:])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "organisation %s answers on: %s\n", o.ID, hostList(o.Hosts))
				return nil
			})
		},
	}
	dbFlags(hostsCmd)
	hostsCmd.Flags().MarkHidden("org")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the organisations",
		Long:  `List prints every organisation's id, status, creation time and name.`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
				all, err := org.New(st).List(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATUS\tCREATED\tHOSTS\tNAME")
				for _, o := range all {
					created := "-" // the default organisation predates the registry
					if o.CreatedAt.UnixMicro() != 0 {
						created = o.CreatedAt.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.ID, o.Status, created, hostList(o.Hosts), o.Name)
				}
				return tw.Flush()
			})
		},
	}
	dbFlags(list)
	list.Flags().MarkHidden("org")
	status := func(use, short, long string, change func(r *org.Registry, ctx context.Context, id string) (org.Organisation, bool, error)) *cobra.Command {
		c := &cobra.Command{
			Use:   use + " ID",
			Short: short,
			Long:  long,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withStore(cmd, false, func(ctx context.Context, st *store.Store) error {
					o, changed, err := change(org.New(st), ctx, args[0])
					if err != nil {
						return err
					}
					if !changed {
						fmt.Fprintf(cmd.OutOrStdout(), "organisation %s is %s already\n", o.ID, o.Status)
						return nil
					}
					fmt.Fprintf(cmd.OutOrStdout(), "organisation %s is %s\n", o.ID, o.Status)
					return nil
				})
			},
		}
		dbFlags(c)
		c.Flags().MarkHidden("org")
		return c
	}
	disable := status("disable", "Disable an organisation; its data stays",
		`Disable marks an organisation disabled; its data stays in the database,
untouched, and enable marks it active again. The deployment's own
organisation cannot be disabled.`,
		func(r *org.Registry, ctx context.Context, id string) (org.Organisation, bool, error) {
			return r.Disable(ctx, cliActor(), id)
		})
	enable := status("enable", "Enable a disabled organisation",
		`Enable marks a disabled organisation active again.`,
		func(r *org.Registry, ctx context.Context, id string) (org.Organisation, bool, error) {
			return r.Enable(ctx, cliActor(), id)
		})
	orgs.AddCommand(create, list, hostsCmd, disable, enable)
	return orgs
}

func hostList(hosts []string) string {
	if len(hosts) == 0 {
		return "-"
	}
	return strings.Join(hosts, ",")
}
